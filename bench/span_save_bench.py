"""Span save latency over HTTP on loopback, with 1M spans already in PostgreSQL.

    .venv/bin/python -m bench.span_save_bench [--spans 1000000] [--requests 600] [--workers 2]
        [--compare-with ../main-worktree --rounds 4]

With --compare-with, the same requests go alternately (one round each, --rounds times) to a server running that
checkout's code (another commit: `git worktree add /tmp/base <commit>`) and to one running this checkout's, on the
same database, and the p95 of each side is reported with their ratio.

Uses a dedicated database (default postgres://postgres@127.0.0.1:5432/fs_bench_ann), fills it once with
COPY, starts gunicorn from the venv, logs in with a real session + CSRF token, and times POST
/api/v1/projects/<slug>/articles/<id>/spans/create/ one request at a time (keep-alive connection).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from bench._django import django_setup, ensure_database
from bench._processes import ab_latency_summary, ab_sides, cpu_seconds, load_average, start_gunicorn

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/fs_bench_ann"
BENCH_USER, BENCH_PASSWORD, BENCH_SLUG = "bench-annotator", "bench-password-123", "bench-framing"
WORDS = "the regime forces liberate area militants claimed so-called terrorists rebels town said officials".split()


def article_text(n_words: int, rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(n_words)]
    for i in range(12, n_words, 13):
        words[i] += ".\n" if i % 5 == 0 else ","
    return " ".join(words)


def ensure_fixture(*, n_spans: int, n_articles: int = 2000, words_per_article: int = 300) -> dict:
    """The bench user, project, codebook, articles and n_spans spans (bulk COPY); idempotent."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from annotator.annotations.models import Span
    from annotator.corpus.models import Article, Outlet
    from annotator.projects.models import CodebookVersion, Label, Project, Role
    from annotator.projects.services import codebook_create_default, membership_add, project_create
    from ml.tokenise import count_tokens

    rng = random.Random(20261126)
    User = get_user_model()
    user = User.objects.filter(username=BENCH_USER).first()
    if user is None:
        user = User.objects.create_user(username=BENCH_USER, password=BENCH_PASSWORD)
    project = Project.objects.filter(slug=BENCH_SLUG).first()
    if project is None:
        owner = User.objects.create_user(username="bench-owner", password=BENCH_PASSWORD)
        project = project_create(name="Bench framing", slug=BENCH_SLUG, created_by=owner)
        codebook_create_default(project=project, by=owner)
        membership_add(project=project, user=user, role=Role.ANNOTATOR, by=owner)
    outlet, _ = Outlet.objects.get_or_create(slug="bench-outlet", defaults={"name": "Bench Outlet"})
    have = Article.objects.filter(outlet=outlet).count()
    if have < n_articles:
        batch = []
        for i in range(have, n_articles):
            text = article_text(words_per_article, rng) + f" #{i}"
            batch.append(
                Article(
                    outlet=outlet, title=f"Bench article {i}", text=text, n_tokens=count_tokens(text),
                    content_hash=hashlib.sha256(text.encode()).hexdigest(),
                )
            )  # fmt: skip
        Article.objects.bulk_create(batch, batch_size=1000)
    from annotator.projects.models import ProjectArticle

    article_ids = list(Article.objects.filter(outlet=outlet).order_by("pk").values_list("pk", flat=True)[:n_articles])
    ProjectArticle.objects.bulk_create(
        [ProjectArticle(project=project, article_id=pk) for pk in article_ids], ignore_conflicts=True, batch_size=2000
    )
    labels = list(Label.objects.filter(project=project).values_list("pk", flat=True))
    version = CodebookVersion.objects.filter(project=project).order_by("-number").first()
    missing = n_spans - Span.objects.filter(project=project).count()
    if missing > 0:
        print(f"inserting {missing:,} spans with COPY ...", flush=True)
        texts = dict(Article.objects.filter(pk__in=article_ids).values_list("pk", "text"))
        others = [User.objects.get_or_create(username=f"bench-a{i}")[0].pk for i in range(20)]
        t0 = time.perf_counter()
        cols = "project_id, article_id, layer, annotator_id, label_id, start_char, end_char, text, note, " \
               "codebook_version_id, provenance, created_at, updated_at"  # fmt: skip
        # An annotator marks one span once (the span_annotator_unique index): skip a draw that repeats one, a span
        # of an earlier, smaller run included (the same seed draws the same spans first).
        seen = set(
            Span.objects.filter(project=project, layer="annotator").values_list(
                "article_id", "annotator_id", "label_id", "start_char", "end_char"
            )
        )
        missing += len(seen)
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY annotations_span ({cols}) FROM STDIN") as copy:
                while len(seen) < missing:
                    pk = rng.choice(article_ids)
                    text = texts[pk]
                    start = rng.randrange(0, len(text) - 40)
                    end = start + rng.randrange(3, 30)
                    annotator, label = rng.choice(others), rng.choice(labels)
                    if (pk, annotator, label, start, end) in seen:
                        continue
                    seen.add((pk, annotator, label, start, end))
                    copy.write_row((
                        project.pk, pk, "annotator", annotator, label, start, end,
                        text[start:end], "", version.pk, "{}", "2026-11-26 00:00:00+00", "2026-11-26 00:00:00+00",
                    ))  # fmt: skip
            cursor.execute("ANALYZE annotations_span")
        print(f"  done in {time.perf_counter() - t0:.1f} s", flush=True)
    return {"project": project, "user": user, "article_ids": article_ids, "labels": labels}


def start_server(*, url: str, data_dir: Path, workers: int, code_dir: Path = ROOT) -> tuple[subprocess.Popen, int]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FRAMESCOPE_DATA_DIR": str(data_dir),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    return start_gunicorn(env=env, workers=workers, code_dir=code_dir)


class Session:
    """A keep-alive HTTP session with cookies, logged in like a browser (session + CSRF)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data

    def login(self, username: str, password: str) -> None:
        status, page = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token}).encode()
        status, _ = self.request(
            "POST", "/accounts/login/", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login failed ({status})")


def queries_per_save(fixture: dict) -> list[str]:
    """The SQL of one save through Django's test client against the same database (what the test asserts)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from annotator.annotations.models import Span
    from annotator.corpus.models import Article

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(fixture["user"])
    pk = fixture["article_ids"][0]
    text = Article.objects.values_list("text", flat=True).get(pk=pk)
    payload = {"label": fixture["labels"][0], "start_char": 0, "end_char": 3, "text": text[:3]}
    url = f"/api/v1/projects/{fixture['project'].slug}/articles/{pk}/spans/create/"
    # the span an earlier run of this count left (a second save of it would be refused as a duplicate)
    Span.objects.filter(article_id=pk, annotator=fixture["user"], start_char=0, end_char=3).delete()
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(url, {**payload, "client_id": str(uuid.uuid4())}, content_type="application/json")
    if response.status_code != 201:
        raise RuntimeError(f"span create failed: {response.status_code} {response.content[:300]!r}")
    return [q["sql"] for q in ctx.captured_queries]


def run(args: argparse.Namespace) -> dict:
    data_dir = ROOT / "var" / "bench-ann"
    ensure_database(args.database_url)
    django_setup(args.database_url, data_dir)
    fixture = ensure_fixture(n_spans=args.spans)
    from annotator.annotations.models import Span
    from annotator.corpus.models import Article

    n_spans = Span.objects.count()
    sqls = queries_per_save(fixture)
    load_before = load_average()
    texts = dict(Article.objects.filter(pk__in=fixture["article_ids"][:200]).values_list("pk", "text"))
    sides = ab_sides(compare_with=args.compare_with, rounds=args.rounds)
    per_side: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    rng = random.Random(7)
    for name, code_dir in sides:
        n = args.requests if len(sides) == 1 else max(1, args.requests // args.rounds)
        timings, cpu_ms = measure(args, fixture, texts, rng, code_dir=code_dir, n=n)
        per_side.setdefault(name, []).extend(timings)
        cpu.setdefault(name, []).append(cpu_ms)
    result: dict = {"spans_in_db": n_spans, "queries_per_save": len(sqls), "workers": args.workers}
    result.update(ab_latency_summary(per_side, cpu))
    result.update({"load_average_before": load_before, "load_average_after": load_average()})
    print(json.dumps(result, indent=2))
    return result


def measure(args, fixture: dict, texts: dict, rng: random.Random, *, code_dir: Path, n: int) -> tuple[list, float]:
    """Warm up, then time n span saves one at a time against a server running ``code_dir``'s code."""
    data_dir = ROOT / "var" / "bench-ann"
    proc, port = start_server(url=args.database_url, data_dir=data_dir, workers=args.workers, code_dir=code_dir)
    try:
        session = Session(port)
        session.login(BENCH_USER, BENCH_PASSWORD)
        headers = {"Content-Type": "application/json", "X-CSRFToken": session.cookies["csrftoken"]}
        slug = fixture["project"].slug
        timings = []
        cpu_start = 0.0
        for i in range(args.warmup + n):
            if i == args.warmup:
                cpu_start = cpu_seconds(proc.pid)
            pk = rng.choice(list(texts))
            text = texts[pk]
            start = rng.randrange(0, len(text) - 30)
            end = start + rng.randrange(3, 25)
            payload = {
                "label": rng.choice(fixture["labels"]), "start_char": start, "end_char": end,
                "text": text[start:end], "client_id": str(uuid.uuid4()),
            }  # fmt: skip
            body = json.dumps(payload).encode()
            t0 = time.perf_counter()
            status, data = session.request(
                "POST", f"/api/v1/projects/{slug}/articles/{pk}/spans/create/", body, headers
            )
            elapsed = (time.perf_counter() - t0) * 1000
            if status not in (201, 409):  # 409: the same span drawn twice by the random offsets
                raise RuntimeError(f"span create failed: {status} {data[:300]!r}")
            if i >= args.warmup:
                timings.append(elapsed)
        server_cpu_ms = (cpu_seconds(proc.pid) - cpu_start) * 1000 / len(timings)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return timings, server_cpu_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--compare-with", default=None, help="another checkout to A/B against (same database)")
    parser.add_argument("--rounds", type=int, default=4, help="A/B: alternating rounds per side")
    result = run(parser.parse_args())
    if result["p95_ms"] >= 12:
        print(f"p95 {result['p95_ms']} ms is above the 12 ms floor", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
