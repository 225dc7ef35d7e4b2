"""Resident memory of what `make run` starts, idle and after every page and API list has been served once.

    python3 -m venv /tmp/runvenv && /tmp/runvenv/bin/pip install -e .     # a `make run` install: no test extras
    /tmp/runvenv/bin/python -m bench.process_memory [--articles 10000] [--settle 20]

Run it with the Python of a `make run` install, as above: the test extras that `make test` adds to `.venv` bring
pandas, which scikit-learn then imports in the worker (+47 MiB).

Embedded defaults as `make run` has them (SQLite and the filesystem broker in a data directory of its own, no
DATABASE_URL or CELERY_BROKER_URL): migrate, the demo (`load_demo`, whose model the worker trains, activates and
scores), and ``--articles`` synthetic articles added to the demo project. Then:

1. ``manage.py run_all`` (the development web server and one Celery worker with beat, as `make run`) until every job
   has finished, then idle: the resident memory of the whole process tree (web server, worker, its pool and beat);
2. every page and every API GET of the URL conf, once, through that web server: the peak of the tree meanwhile and
   the web server's own memory afterwards;
3. gunicorn with one sync worker (the deployed web process): the worker's memory after the same requests.

Which of scikit-learn, SciPy, pandas and NumPy each web process has imported is read from /proc/<pid>/maps.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from bench._processes import ROOT, free_port, load_average, start_gunicorn

HEAVY = ("sklearn", "scipy", "pandas", "numpy")
DATA_DIR = ROOT / "var" / "bench-memory"
USER, PASSWORD = "demo-admin", "demo-admin-pw"
# Query strings for the API lists that need one (the others are asked without).
QUERIES = {
    "framing-score-list": "label=loaded term&source=model",
    "framing-score-compare": "label=loaded term&source=model&a={outlet}",
    "term-choice": "concept={concept}&source=model",
    "distinctive-terms": "outlet={outlet}",
    "code-score-list": "question={question}&source=model",
    "code-score-compare": "question={question}&source=model&a={outlet}",
    "attribute-rate-list": "attribute={attribute}&source=gold",
    "kwic": "label=loaded term&source=model",
    "annotation-list": "layer=suggestion",
    "article-list": "project={slug}",
}


def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _proc_mib(path: str, key: str) -> float:
    """The ``key:`` line of a /proc file in kB, as MiB (0 once the process is gone)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in text.splitlines() if line.startswith(key)), 0.0)


def rss(pid: int) -> float:
    """Resident memory of one process in MiB, shared pages included (what `ps` and `top` show)."""
    return _proc_mib(f"/proc/{pid}/status", "VmRSS:")


def pss(pid: int) -> float:
    """Proportional set size in MiB: pages shared with other processes (a forked pool, beat) counted by share."""
    return _proc_mib(f"/proc/{pid}/smaps_rollup", "Pss:")


def command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:90]
    except OSError:
        return "?"


def heavy_loaded(pid: int) -> list[str]:
    """Which of HEAVY the process has loaded (their compiled modules are mapped into it)."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return []
    return [name for name in HEAVY if f"/site-packages/{name}/" in maps]


class PeakSampler(threading.Thread):
    """The largest summed RSS of a process tree, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, sum(rss(p) for p in tree(self.pid)))
            time.sleep(0.2)


def environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")}
    env.update(FRAMESCOPE_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="annotator.settings", PYTHONPATH=str(ROOT))
    return env


def article_rows(n: int, seed: int = 0):
    rng = random.Random(seed)
    vocab = ["".join(rng.choice("abcdefghijklmnoprstuvwy") for _ in range(rng.randint(2, 9))) for _ in range(5000)]
    vocab += ["rebels", "regime", "terrorists", "liberated", "militants", "claimed", "according to"]
    outlets = ["daily-courier", "morning-ledger", "wire-service", "northern-post"]
    for i in range(n):
        yield {
            "outlet": outlets[i % len(outlets)],
            "title": f"Article {i}",
            "text": " ".join(rng.choices(vocab, k=300)) + ".",
            "published_at": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T08:00:00+00:00",
            "external_id": f"memory-{i}",
        }


def prepare(data_dir: Path, n_articles: int) -> None:
    """A fresh data directory with the demo and n_articles more articles in the demo project (in this process)."""
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    os.environ.update(environment(data_dir))
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"):
        os.environ.pop(key, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_demo")
    path = data_dir / "articles.jsonl"
    with path.open("w") as fh:
        for row in article_rows(n_articles):
            fh.write(json.dumps(row) + "\n")
    call_command("import_corpus", str(path), verbosity=0)
    from annotator.corpus.models import Article
    from annotator.projects.models import Project
    from annotator.projects.services import project_add_articles

    project = Project.objects.get(slug="demo-framing")
    ids = list(Article.objects.filter(external_id__startswith="memory-").values_list("pk", flat=True))
    project_add_articles(project=project, article_ids=ids)


def jobs_pending() -> int:
    from annotator.common.models import Job, JobStatus
    from annotator.training.models import ModelVersion

    active = Job.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).count()
    return active + ModelVersion.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).count()


def wait_for_jobs(timeout: float) -> float:
    """Seconds until no job or model training is queued or running (and the demo model is active)."""
    from annotator.training.models import ModelVersion

    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if not jobs_pending() and ModelVersion.objects.filter(is_active=True).exists():
            return time.monotonic() - start
        time.sleep(2)
    raise RuntimeError(f"jobs still pending after {timeout} s")


def url_kwargs() -> dict[str, object]:
    """A value for every URL keyword of the demo (the first object of each kind)."""
    from annotator.annotations.models import Span
    from annotator.api.models import ApiToken
    from annotator.common.models import Job
    from annotator.corpus.models import ImportBatch, Outlet
    from annotator.projects.models import Assignment, Label, Project, Question
    from annotator.snapshots.models import Snapshot
    from annotator.training.models import ModelVersion, TermRule

    project = Project.objects.get(slug="demo-framing")
    first = lambda qs: qs.order_by("pk").values_list("pk", flat=True).first()  # noqa: E731
    first_name = lambda qs: qs.order_by("pk").values_list("name", flat=True).first() or ""  # noqa: E731
    return {
        "slug": project.slug,
        "article_id": Assignment.objects.filter(project=project).order_by("pk").values_list("article_id", flat=True)[0],
        "label_id": first(Label.objects.filter(project=project)),
        "span_id": first(Span.objects.filter(project=project, layer="annotator")),
        "question_id": first(Question.objects.filter(project=project)),
        "number": ModelVersion.objects.filter(project=project, is_active=True).values_list("number", flat=True)[0],
        "rule_id": first(TermRule.objects.all()),
        "job_id": first(Job.objects.filter(project=project)),
        "token_id": first(ApiToken.objects.all()),
        "batch_id": first(ImportBatch.objects.all()),
        "snapshot_id": first(Snapshot.objects.filter(project=project)),
        "outlet": Outlet.objects.order_by("pk").values_list("slug", flat=True)[0],
        "concept": project.concepts.values_list("slug", flat=True).first() or "",
        "question": first_name(Question.objects.filter(project=project).exclude(scope=Question.Scope.SPAN)),
        "attribute": first_name(Question.objects.filter(project=project, scope=Question.Scope.SPAN)),
    }


def get_paths() -> list[tuple[str, str]]:
    """(name, path) of every page and API route a GET can be sent to with the demo's objects; admin, schema, docs,
    health and the routes that only write (answer 405 to a GET) included: a web worker loads what they import."""
    from django.urls import URLPattern, URLResolver, get_resolver

    values = url_kwargs()
    out = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if route.startswith("admin/") and "<" in route or "^" in route or "(?P" in route:
                    continue  # the admin's object pages: its changelists stand for them
                names = re.findall(r"<(?:\w+:)?(\w+)>", route)
                if any(values.get(n) in (None, "") for n in names):
                    continue
                path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
                query = QUERIES.get(p.name or "", "").format(**{k: v for k, v in values.items()})
                out.append((p.name or route, path + ("?" + query if query else "")))

    walk(get_resolver().url_patterns, "")
    return out


def login(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    done = session.post(
        f"{base}/accounts/login/",
        data={"username": USER, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=60,
    )
    if "sessionid" not in session.cookies:
        raise RuntimeError(f"login failed ({done.status_code})")
    return session


def serve_all(base: str, paths: list[tuple[str, str]], *, watch: int | None = None) -> dict[int, int]:
    """GET every path once; returns the count per status; a 5xx is printed, and so is every request after which the
    process ``watch`` holds 2 MiB more than before."""
    session = login(base)
    statuses: dict[int, int] = {}
    for name, path in paths:
        before = rss(watch) if watch else 0.0
        response = session.get(base + path, timeout=300, stream=True)
        for _chunk in response.iter_content(65536):
            pass
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            print(f"  {response.status_code} {name} {path}")
        if watch and rss(watch) - before >= 2:
            print(f"  +{rss(watch) - before:5.1f} MiB → {rss(watch):6.1f} MiB  {response.status_code} {path}")
    return statuses


def describe(pid: int) -> list[str]:
    lines = []
    for p in sorted(tree(pid)):
        lines.append(
            f"    {p:>7} {rss(p):7.1f} MiB (PSS {pss(p):6.1f})  heavy: {','.join(heavy_loaded(p)) or '-':<26} {command(p)}"
        )
    return lines


def wait_http(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{base} did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--settle", type=float, default=20.0, help="seconds idle before the idle figure")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--reuse", action="store_true", help="keep the data directory of an earlier run")
    parser.add_argument("--web-only", action="store_true", help="only the gunicorn worker (with --reuse)")
    parser.add_argument("--run-all", default="", help="more options of manage.py run_all, e.g. '--concurrency 2'")
    args = parser.parse_args()
    print(f"load average {load_average()}")
    if args.reuse and (args.data_dir / "framescope.sqlite3").exists():
        os.environ.update(environment(args.data_dir))
        for key in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"):
            os.environ.pop(key, None)
        import django

        django.setup()
    else:
        started = time.monotonic()
        prepare(args.data_dir, args.articles)
        print(f"prepared {args.data_dir} in {time.monotonic() - started:.0f} s")
    env = environment(args.data_dir)
    paths = get_paths() if args.web_only else make_run_stack(env, settle=args.settle, options=args.run_all.split())
    gunicorn_worker(env, paths)
    print(f"load average {load_average()}")


def make_run_stack(env: dict[str, str], *, settle: float, options: list[str]) -> list[tuple[str, str]]:
    """The `make run` stack idle, then serving every GET once; returns the GETs (made once the model is active)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    stack = subprocess.Popen(
        [sys.executable, "manage.py", "run_all", "--addr", f"127.0.0.1:{port}", *options],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    peak = PeakSampler(stack.pid)
    peak.start()
    try:
        wait_http(base)
        print(f"jobs finished {wait_for_jobs(900):.0f} s after the start; peak so far {peak.peak:.1f} MiB")
        time.sleep(settle)
        idle, idle_pss = sum(rss(p) for p in tree(stack.pid)), sum(pss(p) for p in tree(stack.pid))
        print(f"make run stack, idle: {idle:.1f} MiB RSS, {idle_pss:.1f} MiB PSS (peak RSS so far {peak.peak:.1f} MiB)")
        print("\n".join(describe(stack.pid)))
        paths = get_paths()
        started = time.monotonic()
        statuses = serve_all(base, paths)
        print(f"served {len(paths)} GETs in {time.monotonic() - started:.1f} s: {statuses}")
        time.sleep(2)
        after = sum(rss(p) for p in tree(stack.pid))
        print(
            f"make run stack after every page: {after:.1f} MiB, web server {rss(stack.pid):.1f} MiB, peak {peak.peak:.1f}"
        )
        print("\n".join(describe(stack.pid)))
    finally:
        peak.stop.set()
        stack.send_signal(signal.SIGINT)
        try:
            stack.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stack.kill()
    return paths


def gunicorn_worker(env: dict[str, str], paths: list[tuple[str, str]]) -> None:
    server, port = start_gunicorn(env=env, workers=1)
    try:
        base = f"http://127.0.0.1:{port}"
        worker = next(p for p in tree(server.pid) if p != server.pid)
        print(f"gunicorn worker at start: {rss(worker):.1f} MiB (PSS {pss(worker):.1f}), heavy: {heavy_loaded(worker)}")
        statuses = serve_all(base, paths, watch=worker)
        print(
            f"gunicorn worker after {len(paths)} GETs ({statuses}): {rss(worker):.1f} MiB, heavy: {heavy_loaded(worker)}"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
