"""Load test: many annotators creating, editing and deleting spans over HTTP while a scoring job runs.

    .venv/bin/python -m bench.load_annotators [--annotators 50] [--duration 300] [--web-workers 3] [--threads 4]

Loopback only. Uses the database and corpus of bench.worker_sizing (default postgres://postgres@127.0.0.1:5432/
fs_bench_rel, 3000 articles, an active model) and the Redis broker (redis://127.0.0.1:6379/14). Starts gunicorn
(DEBUG off, gthread workers) and one Celery scoring worker; a scoring run of the whole corpus is queued at the start
and queued again whenever it finishes, so scoring is under way for the whole test.

Each annotator is a thread with its own HTTP session: it logs in through the form (CSRF cookie), then until the
deadline picks an article and creates a span (60 %), relabels or edits the note of one of its spans (20 %) or
deletes one (20 %), waiting --think seconds (uniform) between actions. A failed create is retried with the same
client_id. Every client keeps a log of what it created, changed and deleted; at the end the log is compared with the
database: no span lost, none duplicated, none left over, every label and note as last written. Reports p50/p95/p99
latency per action; floor: p95 of saves < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

from bench._django import django_setup, ensure_database
from bench._processes import cpu_seconds, load_average, start_gunicorn
from bench.worker_sizing import (
    DATA_DIR,
    DEFAULT_BROKER,
    DEFAULT_DB,
    PASSWORD,
    ensure_corpus,
    start_workers,
    stop_workers,
    worker_env,
)

ANNOTATOR_PREFIX = "bench-load-"
P95_FLOOR_MS = 100.0


def ensure_annotators(project, n: int) -> list[str]:
    """n annotator accounts, members of the project; their old spans are removed so every run starts clean."""
    from django.contrib.auth import get_user_model

    from annotator.annotations.models import Layer, Span
    from annotator.projects.models import Membership, Role
    from annotator.projects.services import membership_add

    User = get_user_model()
    names = [f"{ANNOTATOR_PREFIX}{i:03d}" for i in range(n)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    for name in names:
        if name not in existing:
            User.objects.create_user(name, password=PASSWORD)
    members = set(Membership.objects.filter(project=project).values_list("user__username", flat=True))
    owner = project.memberships.get(role=Role.OWNER).user
    for user in User.objects.filter(username__in=names):
        if user.username not in members:
            membership_add(project=project, user=user, role=Role.ANNOTATOR, by=owner)
    Span.objects.filter(
        project=project, layer=Layer.ANNOTATOR, annotator__username__startswith=ANNOTATOR_PREFIX
    ).delete()
    return names


@dataclass
class ClientLog:
    """What one annotator did, as the client saw it."""

    created: dict[str, int] = field(default_factory=dict)  # client_id -> span id
    deleted: set[int] = field(default_factory=set)
    last: dict[int, tuple[int, str]] = field(default_factory=dict)  # span id -> (label id, note) last written
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"create": [], "update": [], "delete": []})
    retries: int = 0
    errors: list[str] = field(default_factory=list)


class Annotator(threading.Thread):
    def __init__(self, *, base: str, username: str, slug: str, articles: dict[int, str], labels: list[int],
                 duration: float, think: tuple[float, float], seed: int, ready: threading.Barrier) -> None:  # fmt: skip
        super().__init__(daemon=True)
        self.base, self.username, self.slug = base, username, slug
        self.articles, self.labels, self.duration, self.think = articles, labels, duration, think
        self.ready = ready
        self.retried = False
        self.rng = random.Random(seed)
        self.log = ClientLog()

    def login(self, http) -> None:
        page = http.get(f"{self.base}/accounts/login/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        form = {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
        response = http.post(f"{self.base}/accounts/login/", data=form, timeout=60, allow_redirects=False)
        if response.status_code != 302:
            raise RuntimeError(f"{self.username}: login failed ({response.status_code})")
        http.headers["X-CSRFToken"] = http.cookies["csrftoken"]

    def timed(self, kind: str, call):
        t0 = time.perf_counter()
        response = call()
        self.log.latencies[kind].append((time.perf_counter() - t0) * 1000)
        return response

    def retrying(self, kind: str, call):
        """The response, retrying a dropped connection up to 5 times (None if every attempt failed)."""
        self.retried = False
        for _ in range(5):
            try:
                return self.timed(kind, call)
            except Exception as exc:  # noqa: BLE001 - a lost answer
                self.log.errors.append(f"{kind}: {exc.__class__.__name__}")
                self.log.retries += 1
                self.retried = True
        return None

    def create(self, http) -> None:
        article_id = self.rng.choice(list(self.articles))
        text = self.articles[article_id]
        words = [m.span() for m in re.finditer(r"\w+", text)]
        start, end = self.rng.choice(words)
        body = {"label": self.rng.choice(self.labels), "start_char": start, "end_char": end, "text": text[start:end],
                "note": "", "client_id": str(uuid.uuid4())}  # fmt: skip
        url = f"{self.base}/api/v1/projects/{self.slug}/articles/{article_id}/spans/create/"
        for attempt in range(5):
            try:
                response = self.timed("create", lambda: http.post(url, json=body, timeout=30))
            except Exception as exc:  # noqa: BLE001 - a lost answer: retry with the same client_id
                self.log.errors.append(f"create: {exc.__class__.__name__}")
                self.log.retries += 1
                continue
            if response.status_code in (200, 201):
                span_id = response.json()["id"]
                self.log.created[body["client_id"]] = span_id
                self.log.last[span_id] = (body["label"], "")
                return
            self.log.errors.append(f"create {response.status_code}: {response.text[:120]}")
            if response.status_code < 500:
                return
            self.log.retries += 1
            time.sleep(0.2 * (attempt + 1))

    def live(self) -> list[int]:
        return [span_id for span_id in self.log.created.values() if span_id not in self.log.deleted]

    def update(self, http) -> None:
        live = self.live()
        if not live:
            return self.create(http)
        span_id = self.rng.choice(live)
        label, _ = self.log.last[span_id]
        change = {"note": f"note {self.rng.randrange(10**6)}"}
        if self.rng.random() < 0.5:
            change["label"] = self.rng.choice(self.labels)
        url = f"{self.base}/api/v1/projects/{self.slug}/spans/{span_id}/update/"
        response = self.retrying("update", lambda: http.patch(url, json=change, timeout=30))  # same values: safe
        if response is not None and response.status_code == 200:
            self.log.last[span_id] = (change.get("label", label), change["note"])
        elif response is not None:
            self.log.errors.append(f"update {response.status_code}: {response.text[:120]}")

    def delete(self, http) -> None:
        live = self.live()
        if not live:
            return self.create(http)
        span_id = self.rng.choice(live)
        url = f"{self.base}/api/v1/projects/{self.slug}/spans/{span_id}/delete/"
        response = self.retrying("delete", lambda: http.delete(url, timeout=30))
        # 404 on a retry: the first attempt deleted it and its answer was lost.
        if response is not None and (response.status_code == 204 or (response.status_code == 404 and self.retried)):
            self.log.deleted.add(span_id)
        elif response is not None:
            self.log.errors.append(f"delete {response.status_code}: {response.text[:120]}")

    def run(self) -> None:
        import requests

        with requests.Session() as http:
            try:
                self.login(http)
            except Exception as exc:  # noqa: BLE001 - reported in the summary
                self.log.errors.append(f"login: {exc}")
                self.ready.abort()
                return
            self.ready.wait(timeout=600)  # everybody logged in: the timed phase starts together
            deadline = time.monotonic() + self.duration
            time.sleep(self.rng.uniform(*self.think))  # spread the first actions
            while time.monotonic() < deadline:
                roll = self.rng.random()
                try:
                    (self.create if roll < 0.6 else self.update if roll < 0.8 else self.delete)(http)
                except Exception as exc:  # noqa: BLE001
                    self.log.errors.append(f"{exc.__class__.__name__}: {exc}")
                time.sleep(self.rng.uniform(*self.think))


def check_against_database(project, clients: list[Annotator]) -> dict:
    """Compare every client's log with the spans in the database."""
    from annotator.annotations.models import Layer, Span

    rows = Span.objects.filter(
        project=project, layer=Layer.ANNOTATOR, annotator__username__startswith=ANNOTATOR_PREFIX
    ).values_list("id", "client_id", "label_id", "note", "annotator__username")
    in_db = {row[0]: row for row in rows}
    expected = {span_id for c in clients for span_id in c.live()}
    client_ids = [str(row[1]) for row in rows]
    wrong_owner = sum(
        1 for c in clients for span_id in c.live() if span_id in in_db and in_db[span_id][4] != c.username
    )
    stale = sum(
        1 for c in clients for span_id in c.live() if span_id in in_db and c.log.last[span_id] != in_db[span_id][2:4]
    )
    return {
        "spans_expected": len(expected),
        "spans_in_db": len(in_db),
        "lost": len(expected - set(in_db)),
        "unexpected": len(set(in_db) - expected),
        "duplicated_client_ids": len(client_ids) - len(set(client_ids)),
        "wrong_owner": wrong_owner,
        "stale_label_or_note": stale,
    }


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))], 1)

    return {"n": len(values), "p50_ms": round(statistics.median(ordered), 1), "p95_ms": pick(95),
            "p99_ms": pick(99), "max_ms": round(ordered[-1], 1)}  # fmt: skip


class ScoringKeeper(threading.Thread):
    """Keeps a scoring run under way: queues one, and a new one (scores cleared) whenever it has finished."""

    def __init__(self, fixture: dict, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.fixture, self.stop = fixture, stop
        self.runs, self.articles_scored = 0, 0

    def run(self) -> None:
        from django.db import connection

        from annotator.common.models import Job, JobStatus
        from annotator.scoring import services as scoring
        from bench.worker_sizing import clear_scores

        try:
            while not self.stop.is_set():
                clear_scores(self.fixture["version"])
                job = scoring.scoring_run_start(project=self.fixture["project"], chunk_size=50)
                self.runs += 1
                while not self.stop.wait(1.0):
                    if Job.objects.get(pk=job.pk).status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                        break
                self.articles_scored += Job.objects.get(pk=job.pk).progress_done
        finally:
            connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--broker-url", default=os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER))
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load (default 300)")
    parser.add_argument("--think", type=float, nargs=2, default=(0.5, 1.5), help="seconds between actions")
    parser.add_argument("--articles", type=int, default=200, help="articles the annotators work on")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-scoring", action="store_true", help="without the concurrent scoring job")
    parser.add_argument("--worker-nice", type=int, default=0, help="CPU niceness of the scoring worker (0-19)")
    args = parser.parse_args()
    if args.duration <= 0 or args.annotators <= 0:
        parser.error("--duration and --annotators must be positive")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    ensure_database(args.database_url)
    django_setup(args.database_url, DATA_DIR, args.broker_url)
    fixture = ensure_corpus(n_articles=3000)
    project = fixture["project"]
    names = ensure_annotators(project, args.annotators)

    from annotator.corpus.models import Article
    from annotator.projects.models import Label

    articles = dict(Article.objects.filter(pk__in=fixture["article_ids"][: args.articles]).values_list("pk", "text"))
    labels = list(Label.objects.filter(project=project).values_list("pk", flat=True))
    env = {**worker_env(args.database_url, args.broker_url), "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1",
           "CACHE_URL": args.broker_url}  # fmt: skip
    workers = [] if args.no_scoring else start_workers(1, env, queues="scoring,default", nice=args.worker_nice)
    server, port = start_gunicorn(env=env, workers=args.web_workers, threads=args.threads)
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    keeper = ScoringKeeper(fixture, stop)
    loads: list[str] = []
    try:
        if not args.no_scoring:
            keeper.start()
        ready = threading.Barrier(len(names) + 1)
        clients = [
            Annotator(
                base=base,
                username=name,
                slug=project.slug,
                articles=articles,
                labels=labels,
                duration=args.duration,
                think=tuple(args.think),
                seed=i,
                ready=ready,
            )  # fmt: skip
            for i, name in enumerate(names)
        ]
        for client in clients:
            client.start()
        ready.wait(timeout=600)  # logins (PBKDF2) are not part of the timed phase
        t0 = time.perf_counter()
        cpu0 = {"web": cpu_seconds(server.pid), "client": time.process_time()}
        cpu0["scoring"] = sum(cpu_seconds(w.pid) for w in workers)
        while any(c.is_alive() for c in clients):
            loads.append(load_average())
            for client in clients:
                client.join(timeout=10 / len(clients))
        elapsed = time.perf_counter() - t0
        cores_used = {
            "web": (cpu_seconds(server.pid) - cpu0["web"]) / elapsed,
            "client": (time.process_time() - cpu0["client"]) / elapsed,
            "scoring": (sum(cpu_seconds(w.pid) for w in workers) - cpu0["scoring"]) / elapsed,
        }
    finally:
        stop.set()
        if keeper.is_alive():
            keeper.join(timeout=30)
        server.terminate()
        server.wait(timeout=30)
        stop_workers(workers)

    def merged(kind: str) -> list[float]:
        return [v for c in clients for v in c.log.latencies[kind]]

    saves = merged("create") + merged("update") + merged("delete")
    errors = [e for c in clients for e in c.log.errors]
    result = {
        "annotators": args.annotators,
        "duration_s": round(elapsed, 1),
        "think_s": list(args.think),
        "gunicorn": f"{args.web_workers} gthread workers x {args.threads} threads",
        "scoring_worker": "none" if args.no_scoring else f"1 process, concurrency 1, nice {args.worker_nice}",
        "cores": os.cpu_count(),
        "requests": len(saves),
        "requests_per_s": round(len(saves) / elapsed, 1),
        "create": percentiles(merged("create")),
        "update": percentiles(merged("update")),
        "delete": percentiles(merged("delete")),
        "all_saves": percentiles(saves),
        "cpu_cores_used": {name: round(value, 2) for name, value in cores_used.items()},
        "web_cpu_ms_per_request": round(cores_used["web"] * elapsed * 1000 / max(1, len(saves)), 1),
        "retries": sum(c.log.retries for c in clients),
        "errors": len(errors),
        "error_examples": errors[:5],
        "scoring_runs_started": keeper.runs,
        "articles_scored_during_load": keeper.articles_scored,
        "load_average_during": {"first": loads[0] if loads else None, "max_1min": max(
            (float(x.split()[0]) for x in loads), default=None), "last": loads[-1] if loads else None},
        "consistency": check_against_database(project, clients),
    }  # fmt: skip
    print(json.dumps(result, indent=2))
    consistency = result["consistency"]
    bad = {k: v for k, v in consistency.items() if k not in ("spans_expected", "spans_in_db") and v}
    if bad:
        print(f"database and client logs disagree: {bad}", file=sys.stderr)
        sys.exit(1)
    if result["all_saves"].get("p95_ms", 0) >= P95_FLOOR_MS:
        print(f"p95 {result['all_saves']['p95_ms']} ms is above the {P95_FLOOR_MS:.0f} ms floor", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
