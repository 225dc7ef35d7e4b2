"""Shared fixtures: a real Celery worker process, a real Chromium, users and projects."""

import os
import re
import subprocess
import sys
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS_DIR = Path(os.environ.get("FRAMESCOPE_ARTIFACTS_DIR", ROOT / "test-artifacts"))


SEED_ARTICLE = ROOT / "seeds" / "seed_article" / "000_348df739ac9c7c1b.txt"
BABE_TRAIN = "final_labels_SG2.train.csv"
DATA_HELP = (
    "the BABE data set is not here: run `make data` (downloads it into var/data/babe/) or set "
    "FRAMESCOPE_BABE_DIR to a folder holding final_labels_SG2.csv or final_labels_SG2.train.csv"
)
# Markers that say why a test may be skipped in some environment; under FRAMESCOPE_STRICT_SKIPS (CI) any other
# skip is a failure, so a test that silently stops running cannot go unnoticed.
ENVIRONMENT_MARKERS = ("data", "postgresql", "sqlite", "redis", "extra")


def pytest_xdist_setupnodes(config, specs):
    """`make test` runs the suite in parallel processes (pytest-xdist): give each its own data folder (SQLite file,
    filesystem broker, cache, artefacts), Redis database and artefacts folder, so no process sees another's tasks,
    files or login counts. Set as the processes' environment before their settings load (pytest-django loads them
    before any conftest), and inherited by every worker or server a test starts; PostgreSQL test databases are
    already one per process (pytest-django suffixes them)."""
    from django.conf import settings

    broker = settings.CELERY_BROKER_URL
    for index, spec in enumerate(specs):
        spec.env["FRAMESCOPE_DATA_DIR"] = str(Path(settings.DATA_DIR) / spec.id)
        spec.env["FRAMESCOPE_ARTIFACTS_DIR"] = str(ARTIFACTS_DIR / spec.id)
        if broker.startswith("redis"):
            spec.env["CELERY_BROKER_URL"] = redis_url_with_db(broker, offset=index + 1)


def redis_url_with_db(url: str, *, offset: int) -> str:
    """The same Redis server, the database `offset` places after the URL's (of the 16 a server has by default)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + offset) % 16}"))


def pytest_collection_modifyitems(config, items):
    """Every test that drives Chromium is a browser test, and every test that reads BABE a data test, marked or not."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if {"browser", "page"} & fixtures:
            item.add_marker(pytest.mark.browser)
        if {"babe_dir", "babe_file"} & fixtures:
            item.add_marker(pytest.mark.data)


def pytest_runtest_setup(item):
    """Tests marked for a backend skip, saying so, where this run has another one."""
    from django.conf import settings
    from django.db import connection

    needs = {
        "postgresql": (connection.vendor == "postgresql", "needs PostgreSQL (runs in the PostgreSQL pass)"),
        "sqlite": (connection.vendor == "sqlite", "needs SQLite (runs in the embedded pass)"),
        "redis": (settings.CELERY_BROKER_URL.startswith("redis"), "needs the Redis broker (the PostgreSQL pass)"),
    }
    for marker, (present, reason) in needs.items():
        if item.get_closest_marker(marker) and not present:
            pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Skips that CI must not accept become failures.

    FRAMESCOPE_REQUIRE_BROWSER: a skipped browser test fails, whatever skipped it. FRAMESCOPE_REQUIRE_DATA: a
    skipped data test fails. FRAMESCOPE_STRICT_SKIPS: a skipped test fails unless it carries one of
    ENVIRONMENT_MARKERS (it needs data, a backend or an extra that this run does not have).
    """
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    required = {"browser": "FRAMESCOPE_REQUIRE_BROWSER", "data": "FRAMESCOPE_REQUIRE_DATA"}
    for marker, variable in required.items():
        if os.environ.get(variable) and item.get_closest_marker(marker):
            report.outcome = "failed"
            report.longrepr = f"{marker} test skipped under {variable}: {report.longrepr}"
            return
    allowed = ("browser", *ENVIRONMENT_MARKERS)
    if os.environ.get("FRAMESCOPE_STRICT_SKIPS") and not any(item.get_closest_marker(m) for m in allowed):
        report.outcome = "failed"
        report.longrepr = (
            f"skipped under FRAMESCOPE_STRICT_SKIPS without an environment marker {ENVIRONMENT_MARKERS}: "
            f"{report.longrepr}"
        )


def wait_for(predicate: Callable[[], object], *, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    """Poll until predicate() is truthy; return its value or fail with what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def database_url_for(settings_dict: dict) -> str:
    """The URL of the database the test process uses, so a worker subprocess can join it."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


# What a worker logs at level info as a task message arrives and as its run ends (succeeded, raised, retry, ...).
TASK_LOG_LINE = re.compile(r"Task [\w.]+\[([0-9a-f-]{36})\] (\w+)")


class WorkerProcess:
    def __init__(self, env: dict[str, str], log_path: Path, queues: str, concurrency: int = 2) -> None:
        self.env = env
        self.log_path = log_path
        self.queues = queues
        self.concurrency = concurrency
        self.proc: subprocess.Popen | None = None
        self.log_offset = 0

    def start(self) -> "WorkerProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("a")
        cmd = [
            sys.executable, "-m", "celery", "-A", "annotator", "worker", "-Q", self.queues,
            "-c", str(self.concurrency), "-l", "info", "-n", f"test-{uuid.uuid4().hex[:8]}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        start_offset = self.log_offset = self.log_path.stat().st_size
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

        def ready() -> bool:
            if not self.alive():
                pytest.fail(f"celery worker exited early; see {self.log_path}")
            with self.log_path.open() as fh:
                fh.seek(start_offset)
                return " ready." in fh.read()

        wait_for(ready, timeout=60, what="the celery worker to be ready")
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tasks_in_hand(self) -> set[str]:
        """Ids of the task messages this worker has received and not yet finished (its log, read since start)."""
        received: Counter[str] = Counter()
        ended: Counter[str] = Counter()
        with self.log_path.open() as fh:
            fh.seek(self.log_offset)
            for task_id, event in TASK_LOG_LINE.findall(fh.read()):
                (received if event == "received" else ended)[task_id] += 1
        return {task_id for task_id, n in received.items() if n > ended[task_id]}

    def kill(self, sig: int = 9) -> None:
        """Kill the whole worker (main process and pool children), as a crash would."""
        if self.alive():
            subprocess.run(["pkill", f"-{sig}", "-P", str(self.proc.pid)], check=False)
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def broker_messages_waiting(queues: str) -> int:
    """Messages sitting in the broker for these queues (not yet taken by any worker), on any transport."""
    from annotator.celery import app

    waiting = 0
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        for queue in queues.split(","):
            waiting += channel.queue_declare(queue=queue, passive=False).message_count
    return waiting


def workers_wait_idle(workers: list[WorkerProcess], *, timeout: float = 60.0) -> None:
    """Wait until no live worker runs a task and no message waits in their queues, three polls in a row.

    The test database is flushed (TRUNCATE) after each worker test; a task still writing then (e.g. the story
    clustering an import queues) deadlocks with it and leaves rows behind for the next test. A worker that does
    not go idle in time is killed (the next test that needs it starts it again) and its queues are purged.
    """
    from annotator.celery import app

    live = [w for w in workers if w.alive()]
    if not live:
        return
    queues = ",".join(sorted({q for w in live for q in w.queues.split(",")}))
    deadline = time.monotonic() + timeout
    quiet_polls = 0
    while quiet_polls < 3:
        busy = any(w.tasks_in_hand() for w in live) or broker_messages_waiting(queues) > 0
        quiet_polls = 0 if busy else quiet_polls + 1
        if busy and time.monotonic() > deadline:
            warnings.warn(
                f"celery workers still busy after {timeout}s at teardown: killed, queues purged", stacklevel=1
            )
            for worker in live:
                worker.kill()
            app.control.purge()
            return
        time.sleep(0.2)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Test users only: PBKDF2's deliberate slowness would dominate the suite."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Login lockout and throttle counts live in the cache: no test inherits another's."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(scope="session")
def worker_env(django_db_setup, django_db_blocker) -> dict[str, str]:
    from django.conf import settings
    from django.db import connection

    env = os.environ.copy()
    env["DATABASE_URL"] = database_url_for(connection.settings_dict)
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["FRAMESCOPE_DATA_DIR"] = str(settings.DATA_DIR)
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture(scope="session")
def worker_factory(worker_env) -> Iterator[Callable[..., WorkerProcess]]:
    """Start extra worker processes (for crash tests); all are stopped at the end of the session."""
    started: list[WorkerProcess] = []

    def start(queues: str | None = None, concurrency: int = 2) -> WorkerProcess:
        from django.conf import settings

        log = ARTIFACTS_DIR / "celery" / f"worker-{len(started)}.log"
        worker = WorkerProcess(worker_env, log, queues or settings.CELERY_QUEUES_ALL, concurrency).start()
        started.append(worker)
        return worker

    start.started = started  # type: ignore[attr-defined]
    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def _session_worker(worker_factory) -> WorkerProcess:
    from annotator.celery import app

    app.control.purge()
    return worker_factory()


@pytest.fixture(autouse=True)
def _workers_idle_before_flush(request) -> Iterator[None]:
    """Any transactional test (a live server, ``transactional_db``, ``django_db(transaction=True)``): its data is
    flushed (TRUNCATE) at its end, and a worker started by an earlier test of this process stays alive and runs what
    this one queued (the recount a span save or a curation queues): a task still running at the flush deadlocks with
    it and leaves the rows behind. Wait for the live workers as worker tests do (see workers_wait_idle)."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if not ({"transactional_db", "live_server"} & names or (marker and marker.kwargs.get("transaction"))):
        yield
        return
    request.getfixturevalue("_django_db_helper")  # set up first, so that its flush runs after this teardown
    factory = request.getfixturevalue("worker_factory")
    yield
    workers_wait_idle(factory.started)


@pytest.fixture
def celery_worker(_session_worker, transactional_db) -> WorkerProcess:
    """A real Celery worker process sharing the test database (committed data only; the autouse
    _workers_idle_before_flush lets it finish before the data is flushed)."""
    if not _session_worker.alive():
        _session_worker.start()
    return _session_worker


# --- browser -------------------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("FRAMESCOPE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page) -> Callable[[str], Path]:
    def take(name: str) -> Path:
        path = ARTIFACTS_DIR / "screenshots" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def client_login(user, **client_kwargs) -> "Client":
    """A Django test client logged in as user (no password check: force_login)."""
    from django.test import Client

    client = Client(**client_kwargs)
    client.force_login(user)
    return client


def browser_login(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


# --- data ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def babe_dir() -> Path:
    """The folder of the real BABE data set (FRAMESCOPE_BABE_DIR, else var/data/babe from `make data`).

    BABE is AGPL-3.0 and never copied into this repository: tests that need it are data tests, skipped with
    DATA_HELP where it is missing (a failure under FRAMESCOPE_REQUIRE_DATA, as CI runs them).
    """
    configured = os.environ.get("FRAMESCOPE_BABE_DIR")
    folder = Path(configured) if configured else ROOT / "var" / "data" / "babe"
    if not any((folder / name).is_file() for name in (BABE_TRAIN, "final_labels_SG2.csv")):
        pytest.skip(f"{DATA_HELP} (looked in {folder})")
    return folder


@pytest.fixture(scope="session")
def babe_file(babe_dir) -> Path:
    """The BABE sentence file: the training subset where there is one (../shared), else the whole SG2 file."""
    train = babe_dir / BABE_TRAIN
    return train if train.is_file() else babe_dir / "final_labels_SG2.csv"


@pytest.fixture(scope="session")
def seed_article() -> tuple[str, str]:
    """The project's seed article (seeds/seed_article/): its first line is the title, the rest the text."""
    title, _, body = SEED_ARTICLE.read_text(encoding="utf-8").partition("\n")
    return title, body
