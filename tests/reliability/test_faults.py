"""Faults against real services: the Redis broker restarts (or crashes) in the middle of a scoring job, and the
database connection dies after a span was saved but before the answer reached the client.

SIGKILL of a worker mid-scoring / mid-training and of an import mid-file are covered in
tests/annotator/scoring/test_scoring_worker.py, tests/annotator/training/test_training_worker.py and
tests/annotator/corpus/test_crash.py.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from unittest import mock

import pytest
import requests
from django.db import OperationalError, connection

from annotator.annotations.models import Span
from annotator.annotations.selectors import suggestions_of_version
from annotator.common.models import Job, JobStatus
from annotator.projects.models import Label
from annotator.scoring.models import ArticleScore
from annotator.training import services as training
from annotator.training.selectors import model_version_labels
from tests.annotator.projects.factories import PASSWORD, make_article, make_project, make_user
from tests.annotator.training.synthetic import synthetic_project
from tests.conftest import ARTIFACTS_DIR, ROOT, WorkerProcess, wait_for

# --- a private Redis that this test may stop -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of our own on a free port (never the shared one), with an append-only file in `directory`."""

    def __init__(self, directory: Path, *, appendonly: bool) -> None:
        self.directory, self.appendonly = directory, appendonly
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        cmd = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "yes" if self.appendonly else "no", "--dir", str(self.directory),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(self.ping, timeout=20, what=f"redis on port {self.port}")

    def ping(self) -> bool:
        result = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
        return result.stdout.strip() == "PONG"

    def shutdown(self) -> None:
        """Graceful stop (as `docker compose restart redis`): the append-only file is flushed."""
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown"], capture_output=True)
        self.proc.wait(timeout=20)

    def crash(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)

    def queued(self, queue: str = "scoring") -> int:
        result = subprocess.run(["redis-cli", "-p", str(self.port), "llen", queue], capture_output=True, text=True)
        return int(result.stdout.strip() or 0)


@pytest.fixture
def redis_broker_only():
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server not found; the Redis pass needs it")


def trained_project(n_per_outlet: int):
    """A synthetic project with an active model, trained in this process (no broker involved)."""
    project, articles = synthetic_project(n_per_outlet=n_per_outlet, seed=5)
    with mock.patch("annotator.training.tasks.model_version_train_task.delay"):
        version = training.model_version_create(project=project)
    version = training.model_version_train(version_id=version.pk)
    assert version.status == JobStatus.SUCCEEDED, version.error
    training.model_version_activate(version=version)
    return project, articles, version


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["restart", "crash"])
@pytest.mark.redis
def test_scoring_job_survives_a_redis_restart(mode, redis_broker_only, worker_env, transactional_db, tmp_path):
    """restart: Redis stops cleanly and comes back with its append-only file (the compose setup).
    crash: Redis is SIGKILLed without persistence, so every queued chunk is gone. Either way the job row keeps
    saying "running" meanwhile, and the job completes once Redis is back: the worker reconnects, and the operator's
    cron (`manage.py score_corpus --project P --resume`, run here when progress stalls) re-plans lost chunks."""
    project, articles, version = trained_project(n_per_outlet=20)
    redis = PrivateRedis(tmp_path, appendonly=(mode == "restart"))
    redis.start()
    env = {**worker_env, "CELERY_BROKER_URL": redis.url, "SCORING_CHUNK_SIZE": "2", "CACHE_URL": ""}
    log = ARTIFACTS_DIR / "celery" / f"redis-{mode}-{uuid.uuid4().hex[:6]}.log"
    worker = WorkerProcess(env, log, "scoring,default", concurrency=1).start()
    try:
        out = manage(env, "score_corpus", "--project", project.slug)
        job = Job.objects.get(pk=int(re.search(r"Queued scoring run (\d+)", out).group(1)))
        total = len(articles)

        def under_way() -> bool:
            job.refresh_from_db()
            assert job.status != JobStatus.FAILED, job.error
            return 6 <= job.progress_done <= total - 20

        wait_for(under_way, timeout=120, interval=0.05, what="scoring to be under way")
        redis.shutdown() if mode == "restart" else redis.crash()
        time.sleep(3)  # the worker notices; whatever chunk it held finishes or fails
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING and job.progress_done < total, (job.status, job.progress_done)
        assert job.error == ""

        redis.start()
        if mode == "crash":
            assert redis.queued() == 0  # the queued chunks really are gone
        resumes = 0
        deadline = time.monotonic() + 240
        last_progress, last_change = -1, time.monotonic()
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                break
            if job.progress_done != last_progress:
                last_progress, last_change = job.progress_done, time.monotonic()
            elif time.monotonic() - last_change > 15:  # the operator's cron: resume a stalled run
                manage(env, "score_corpus", "--project", project.slug, "--resume")
                resumes += 1
                last_change = time.monotonic()
            time.sleep(0.5)
        assert job.status == JobStatus.SUCCEEDED, (job.status, job.progress_done, total, job.error)
        assert job.progress_done == total
        if mode == "crash":
            assert resumes >= 1
    finally:
        worker.stop()
        if redis.proc and redis.proc.poll() is None:
            redis.shutdown()

    # Every article scored exactly once: one score row per (article, label the model predicts), and each article's
    # stored suggestions match its counts label by label (written together, never one without the other).
    source = f"model:{version.pk}"
    assert ArticleScore.objects.filter(source=source).count() == total * len(model_version_labels(version=version))
    assert set(ArticleScore.objects.filter(source=source).values_list("article_id", flat=True)) == {
        a.pk for a in articles
    }
    counted = {
        (article, label): n
        for article, label, n in ArticleScore.objects.filter(source=source, n_spans__gt=0).values_list(
            "article_id", "label_id", "n_spans"
        )
    }
    stored = Counter((s.article_id, s.label_id) for s in suggestions_of_version(version_id=version.pk))
    assert dict(stored) == counted and counted
    # The chunks re-planned away by a resume and still queued wrote nothing: the progress is exact.
    job.refresh_from_db()
    assert job.progress_done == job.progress_total == total


# --- the database connection dies after the INSERT ------------------------------------------------------------


def session_for(live_server, username: str) -> requests.Session:
    """A browser-like session: log in through the form with the CSRF cookie, as the annotator page does."""
    http = requests.Session()
    login_url = f"{live_server.url}/accounts/login/"
    http.get(login_url, timeout=30)
    response = http.post(
        login_url,
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": http.cookies["csrftoken"]},
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    http.headers["X-CSRFToken"] = http.cookies["csrftoken"]
    return http


@pytest.fixture
def annotating(live_server, transactional_db):
    annotator = make_user()
    article = make_article(text="Officials said the regime shelled the town.")
    project = make_project(articles=[article], annotators=[annotator])
    label = Label.objects.get(project=project, name="loaded term")
    start = article.text.index("regime")
    url = f"{live_server.url}/api/v1/projects/{project.slug}/articles/{article.pk}/spans/create/"
    body = {"label": label.pk, "start_char": start, "end_char": start + 6, "text": "regime"}
    return {"http": session_for(live_server, annotator.username), "url": url, "body": body, "project": project}


def lose_connection_after_commit(real_span_create):
    """Wrap span_create: the INSERT commits, then the server's database connection dies once (PostgreSQL: the
    backend is terminated; SQLite: the driver error is raised), so the request fails after the write."""
    fired = threading.Event()

    def wrapper(**kwargs):
        result = real_span_create(**kwargs)
        if not fired.is_set():
            fired.set()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            raise OperationalError("server closed the connection unexpectedly (after the span was committed)")
        return result

    return wrapper, fired


@pytest.mark.slow
def test_a_save_whose_answer_is_lost_is_retried_with_the_same_client_id_and_stored_once(annotating):
    from annotator.api.views import spans as span_views

    http, url = annotating["http"], annotating["url"]
    body = {**annotating["body"], "client_id": str(uuid.uuid4())}
    wrapper, fired = lose_connection_after_commit(span_views.span_create)
    with mock.patch.object(span_views, "span_create", wrapper):
        first = http.post(url, json=body, timeout=30)
        assert fired.is_set() and first.status_code == 500  # the client never learns the id
        assert Span.objects.filter(client_id=body["client_id"]).count() == 1  # but the row is committed
        retry = http.post(url, json=body, timeout=30)  # what annotator.js does on a failed save
    assert retry.status_code == 200, retry.text  # 200: "already saved", not 201
    span = Span.objects.get(client_id=body["client_id"])
    assert retry.json()["id"] == span.pk
    assert Span.objects.filter(project=annotating["project"]).count() == 1
    # The server recovered its connection: a new span (another word: the same one would be a duplicate) saves.
    shelled = {"start_char": 26, "end_char": 33, "text": "shelled"}
    other = http.post(url, json={**annotating["body"], **shelled, "client_id": str(uuid.uuid4())}, timeout=30)
    assert other.status_code == 201


@pytest.mark.slow
def test_concurrent_posts_with_one_client_id_make_one_span(annotating):
    http, url = annotating["http"], annotating["url"]
    body = {**annotating["body"], "client_id": str(uuid.uuid4())}
    cookies, headers = http.cookies.get_dict(), dict(http.headers)
    barrier = threading.Barrier(8)
    answers: list[tuple[int, int]] = []

    def post() -> None:
        with requests.Session() as own:
            own.cookies.update(cookies)
            own.headers.update(headers)
            barrier.wait(timeout=30)
            response = own.post(url, json=body, timeout=60)
            answers.append((response.status_code, response.json().get("id")))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert len(answers) == 8
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(201) == 1 and statuses.count(200) == 7, statuses
    span = Span.objects.get(client_id=body["client_id"])
    assert {span_id for _, span_id in answers} == {span.pk}
    assert Span.objects.filter(project=annotating["project"]).count() == 1
