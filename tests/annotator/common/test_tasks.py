"""The periodic stale-job recovery: run by a real worker it fails dead trainings and stalled agreement jobs and
resumes stalled scoring runs; Celery beat (a real beat process, and `-B` in `make run`) queues it on its interval."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from annotator.celery import app
from annotator.common.models import Job, JobStatus
from annotator.common.tasks import stale_jobs_recover_task
from annotator.training.models import ModelVersion
from tests.annotator.projects.factories import make_project
from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.worker


def long_ago(seconds: int):
    return timezone.now() - timedelta(seconds=seconds + 60)


def stale_world() -> dict:
    """One stalled job of each kind, and a healthy one beside each that recovery must leave alone."""
    project = make_project()
    training_old = long_ago(settings.TRAINING_STALE_SECONDS)
    agreement_old = long_ago(settings.AGREEMENT_STALE_SECONDS)
    make_version = ModelVersion.objects.create
    world = {
        "dead_training": make_version(project=project, number=1, status=JobStatus.RUNNING, heartbeat_at=training_old),
        "live_training": make_version(project=project, number=2, status=JobStatus.RUNNING, heartbeat_at=timezone.now()),
        "dead_agreement": Job.objects.create(
            kind=Job.Kind.AGREEMENT, project=project, status=JobStatus.RUNNING, heartbeat_at=agreement_old
        ),
        "lost_agreement": Job.objects.create(kind=Job.Kind.AGREEMENT, project=project, status=JobStatus.QUEUED),
        "live_agreement": Job.objects.create(
            kind=Job.Kind.AGREEMENT, project=project, status=JobStatus.RUNNING, heartbeat_at=timezone.now()
        ),
    }
    Job.objects.filter(pk=world["lost_agreement"].pk).update(created_at=agreement_old)  # auto_now_add on create
    # A stalled scoring run of a project whose articles are all scored (it has none): resuming completes it.
    scored_by = make_version(project=project, number=3, status=JobStatus.SUCCEEDED)
    world["stalled_scoring"] = Job.objects.create(
        kind=Job.Kind.SCORING, project=project, status=JobStatus.RUNNING, message="Scoring 10 articles",
        heartbeat_at=long_ago(settings.SCORING_STALE_SECONDS),
        params={"model_version": scored_by.pk, "article_ids": None, "chunk_size": 500},
    )  # fmt: skip
    return world


def status_of(row) -> str:
    row.refresh_from_db()
    return row.status


def assert_recovered(world: dict) -> None:
    for name in ("dead_training", "dead_agreement", "lost_agreement", "live_training", "live_agreement"):
        world[name].refresh_from_db()
    assert world["dead_training"].status == JobStatus.FAILED
    assert "stopped reporting" in world["dead_training"].error
    assert world["dead_agreement"].status == JobStatus.FAILED
    assert "never finished" in world["dead_agreement"].error
    assert world["lost_agreement"].status == JobStatus.FAILED
    assert "No worker took the job up" in world["lost_agreement"].error
    assert world["live_training"].status == JobStatus.RUNNING
    assert world["live_agreement"].status == JobStatus.RUNNING
    assert world["stalled_scoring"].message == "Nothing left to score"


def test_the_recovery_task_run_by_a_worker_recovers_each_kind_of_stale_job(celery_worker):
    world = stale_world()
    stale_jobs_recover_task.delay()
    wait_for(lambda: status_of(world["stalled_scoring"]) == JobStatus.SUCCEEDED, what="the worker to run recovery")
    wait_for(lambda: status_of(world["lost_agreement"]) == JobStatus.FAILED, what="the whole recovery to finish")
    assert_recovered(world)


def test_a_beat_process_queues_the_recovery_on_its_interval(celery_worker, worker_env, tmp_path):
    world = stale_world()
    env = {**worker_env, "STALE_JOB_RECOVERY_SECONDS": "2"}
    cmd = [sys.executable, "-m", "celery", "-A", "annotator", "beat", "-l", "info",
           "-s", str(tmp_path / "celerybeat-schedule"), "--pidfile="]  # fmt: skip
    with (tmp_path / "beat.log").open("w") as log:
        beat = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: status_of(world["lost_agreement"]) == JobStatus.FAILED, timeout=60, what="a beat tick")
            wait_for(lambda: status_of(world["stalled_scoring"]) == JobStatus.SUCCEEDED, what="the scoring resume")
        finally:
            beat.terminate()
            beat.wait(timeout=20)
    assert_recovered(world)
    assert "annotator.common.tasks.stale_jobs_recover_task" in (tmp_path / "beat.log").read_text()


def test_the_beat_schedule_names_the_registered_task_at_the_configured_interval():
    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["recover-stale-jobs"]
    assert entry["task"] == stale_jobs_recover_task.name and entry["task"] in app.tasks
    assert entry["schedule"] == settings.STALE_JOB_RECOVERY_SECONDS == 300
    assert entry["options"]["expires"] == settings.STALE_JOB_RECOVERY_SECONDS
    assert app.conf.beat_schedule_filename.startswith(str(settings.DATA_DIR))


def test_a_bad_interval_stops_start_up_with_a_message(worker_env):
    env = {**worker_env, "STALE_JOB_RECOVERY_SECONDS": "0"}
    check = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert check.returncode != 0
    assert "STALE_JOB_RECOVERY_SECONDS must be a positive number of seconds, not 0." in check.stderr


def test_make_run_starts_one_lean_worker_and_beat_in_a_thread(monkeypatch):
    """run_all sizes the worker for a laptop (tasks in a thread of the worker process, one at a time) and runs beat
    as a thread of its own process (docs/benchmarks.md, Lean processes)."""
    started: list[list[str]] = []
    beats: list[dict] = []

    class FakeWorker:
        pid = 4242

        def __init__(self, cmd, **kwargs):
            started.append(cmd)

        def poll(self):
            return 0

    class FakeBeat:
        def __init__(self, app, **kwargs):
            beats.append({**kwargs, "started": False, "stopped": False})

        def start(self):
            beats[-1]["started"] = True

        def stop(self):
            beats[-1]["stopped"] = True

    monkeypatch.setattr("annotator.common.management.commands.run_all.subprocess.Popen", FakeWorker)
    monkeypatch.setattr("annotator.common.management.commands.run_all.call_command", lambda *a, **k: None)
    monkeypatch.setattr("annotator.common.management.commands.run_all.signal.signal", lambda *a: None)
    monkeypatch.setattr("celery.beat.EmbeddedService", FakeBeat)
    call_command("run_all")
    command = started[0]
    assert command[4:6] == ["annotator", "worker"] and "-B" not in command
    assert command[command.index("-P") + 1] == "threads" and command[command.index("-c") + 1] == "1"
    assert beats == [
        {"thread": True, "schedule_filename": settings.CELERY_BEAT_SCHEDULE_FILENAME, "started": True, "stopped": True}
    ]


def test_make_run_prints_the_url_once_the_server_answers_on_it_after_a_first_request():
    import http.server
    import io
    import socket
    import threading
    import time

    from annotator.common.management.commands.run_all import Command

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = io.StringIO()
    announcer = threading.Thread(
        target=Command(stdout=out)._announce_when_listening, args=(f"127.0.0.1:{port}", ["URL"], threading.Event())
    )
    announcer.start()
    time.sleep(0.5)
    assert out.getvalue() == ""  # nothing listens yet
    requested: list[str] = []

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requested.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    with http.server.HTTPServer(("127.0.0.1", port), Page) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        announcer.join(timeout=20)
        server.shutdown()
    assert out.getvalue() == "URL\n" and requested == ["/"]  # the first page was asked for before the URL showed


def test_make_run_prints_no_url_once_the_server_has_stopped():
    import io
    import socket
    import threading
    import time

    from annotator.common.management.commands.run_all import Command

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out, stopped = io.StringIO(), threading.Event()
    announcer = threading.Thread(
        target=Command(stdout=out)._announce_when_listening, args=(f"127.0.0.1:{port}", ["URL"], stopped)
    )
    announcer.start()
    time.sleep(0.3)
    stopped.set()
    announcer.join(timeout=5)
    assert not announcer.is_alive() and out.getvalue() == ""
