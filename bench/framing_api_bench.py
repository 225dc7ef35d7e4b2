"""Framing-scores API at scale: 1,000,000 scored articles across 20 outlets in PostgreSQL, per-outlet table over HTTP.

    .venv/bin/python -m bench.framing_api_bench [--n 1000000] [--outlets 20] [--requests 300] [--rebuild]
        [--database-url postgres://postgres@127.0.0.1:5432/fs_bench_dash]

A dedicated database (created if missing; its tables are truncated on --rebuild) holds one project whose active
model version has scored N articles for one label (one ArticleScore row per article, loaded with COPY). The
app is served by gunicorn (2 sync workers, DEBUG off) and called with a personal API token, as a script would:

- cold: the ScoreCache is emptied, then the first GET of
  `/api/v1/projects/<slug>/framing-scores/?label=loaded term&source=model` computes the table (rows → arrays →
  bootstrap CIs with the error correction); reads never write, so the table is then stored as the end of a scoring
  run stores it (`framing_scores_store`);
- warm: `--requests` further GETs (stored-table hits; each still checks the fingerprint of the scores);
- invalidation: one ArticleScore changes, the next GET must recompute (and show the change) without storing; once
  the table is stored again, the next is warm again.

The in-process breakdown of the cold path (fetching the rows, the bootstrap) is printed as well.

With --compare-with DIR (another commit's checkout, e.g. `git worktree add /tmp/base <commit>`), the warm requests
alternate, --rounds times, between a server running that code and one running this checkout's, on the same
database; the p95 of each side and their ratio are printed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from bench._django import django_setup, ensure_database
from bench._processes import ab_sides, cpu_seconds, load_average, start_gunicorn

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/fs_bench_dash"
SLUG = "bench-framing"
LABEL = "loaded term"
PORT = 8765


def _copy(cursor, table: str, columns: list[str], lines) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for i, line in enumerate(lines, 1):
            buffer.write(line)
            if i % 50_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def build(*, n: int, n_outlets: int, seed: int) -> dict:
    """Truncate the bench tables and load the project, N articles, their links and N model scores."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from annotator.common.models import JobStatus
    from annotator.corpus.models import Outlet
    from annotator.projects.models import Label, Project
    from annotator.projects.services import codebook_create_default, project_create
    from annotator.training.models import ModelVersion

    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE scoring_articlescore, scoring_scorecache, projects_projectarticle, annotations_span, "
            "corpus_article, corpus_outlet RESTART IDENTITY CASCADE"
        )
    Project.objects.filter(slug=SLUG).delete()
    user, _ = get_user_model().objects.get_or_create(username="bench")
    project = project_create(name="Framing API bench", slug=SLUG, created_by=user)
    codebook_create_default(project=project, by=user)
    project.bootstrap_resamples = 1000
    project.save()
    label = Label.objects.get(project=project, name=LABEL)
    counts = {"tp_pred": 80, "n_pred": 100, "tp_gold": 70, "n_gold": 100}
    version = ModelVersion.objects.create(
        project=project, number=1, status=JobStatus.SUCCEEDED, is_active=True,
        metrics={"grouped_kfold": {"partial": {LABEL: counts}}},
    )  # fmt: skip
    outlets = [Outlet.objects.create(name=f"Outlet {i:02d}", slug=f"outlet-{i:02d}") for i in range(n_outlets)]

    rng = np.random.default_rng(seed)
    outlet_index = rng.integers(0, n_outlets, size=n)
    n_tokens = rng.integers(150, 1200, size=n)
    day = rng.integers(0, 730, size=n)
    rates = np.linspace(1.0, 8.0, n_outlets) / 1000  # spans per token, one per outlet
    n_spans = rng.poisson(n_tokens * rates[outlet_index])
    outlet_ids = np.array([o.pk for o in outlets])[outlet_index]
    epoch = np.datetime64("2023-01-01T12:00:00")
    published = (epoch + day.astype("timedelta64[D]")).astype(str)
    with connection.cursor() as cur:
        raw = cur.cursor
        _copy(
            raw, "corpus_article",
            ["outlet_id", "title", "text", "url", "published_at", "language", "byline", "external_id",
             "content_hash", "n_tokens", "is_wire_copy", "metadata", "created_at"],
            (f"{outlet_ids[i]}\tBench {i}\t\t\t{published[i]}+00\ten\t\tb{i}\t{i:064x}\t{n_tokens[i]}\tf\t{{}}\t2025-01-01 00:00:00+00\n"
             for i in range(n)),
        )  # fmt: skip
        cur.execute("SELECT min(id), max(id), count(*) FROM corpus_article")
        assert cur.fetchone() == (1, n, n), "article ids are not 1..n"
        cur.execute(
            "INSERT INTO projects_projectarticle (project_id, article_id, is_calibration, added_at) "
            "SELECT %s, id, false, now() FROM corpus_article",
            [project.pk],
        )
        source = f"model:{version.pk}"
        _copy(
            raw, "scoring_articlescore",
            ["project_id", "article_id", "source", "model_version_id", "label_id", "n_spans", "n_tokens", "score_sum",
             "computed_at"],
            (f"{project.pk}\t{i + 1}\t{source}\t{version.pk}\t{label.pk}\t{n_spans[i]}\t{n_tokens[i]}\t0\t2025-06-01 00:00:00+00\n"
             for i in range(n)),
        )  # fmt: skip
        cur.execute("ANALYZE corpus_article; ANALYZE scoring_articlescore; ANALYZE projects_projectarticle")
    return {"seconds": time.perf_counter() - t0, "n": n, "outlets": n_outlets}


def token_for(user_name: str = "bench") -> str:
    from django.contrib.auth import get_user_model

    from annotator.api.models import ApiToken
    from annotator.api.services import api_token_create
    from annotator.projects.models import Membership, Project

    user = get_user_model().objects.get(username=user_name)
    ApiToken.objects.filter(user=user).delete()
    project = Project.objects.get(slug=SLUG)
    assert Membership.objects.filter(project=project, user=user).exists()
    return api_token_create(user=user, name=f"bench {time.time():.0f}")[1]


def serve(url: str, data_dir: Path, code_dir: Path = ROOT) -> subprocess.Popen:
    env = {
        **os.environ, "DATABASE_URL": url, "FRAMESCOPE_DATA_DIR": str(data_dir), "DEBUG": "0",
        "PYTHONPATH": str(ROOT), "API_THROTTLE_EXPENSIVE": "100000/min",
    }  # fmt: skip
    return start_gunicorn(env=env, workers=2, timeout=600, port=PORT, code_dir=code_dir)[0]


def get(path: str, token: str) -> tuple[float, list]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}{path}", headers={"Authorization": f"Token {token}", "Accept": "application/json"}
    )
    t0 = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - local server
        body = response.read()
    return time.perf_counter() - t0, json.loads(body)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def breakdown() -> dict:
    """In-process timing of the cold path's parts (no cache)."""
    from annotator.projects.models import Label, Project
    from annotator.scoring import selectors

    project = Project.objects.get(slug=SLUG)
    resolved = selectors.resolve_source(project=project, source="model")
    label = Label.objects.get(project=project, name=LABEL)
    t0 = time.perf_counter()
    fingerprint = selectors.framing_scores_fingerprint(project=project, resolved=resolved)
    t1 = time.perf_counter()
    table = selectors.article_table(
        project=project, resolved=resolved, label=label, period="all", syndication="per_outlet"
    )
    t2 = time.perf_counter()
    rows = selectors.framing_scores(project=project, query=selectors.ScoreQuery(label=LABEL), use_cache=False)
    t3 = time.perf_counter()
    return {
        "fingerprint_ms": (t1 - t0) * 1000,
        "article_table_s": t2 - t1,
        "framing_scores_uncached_s": t3 - t2,
        "n_rows": len(table["outlet"]),
        "n_groups": len(rows),
        "fingerprint": fingerprint[:12],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--outlets", type=int, default=20)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="reload the data even if the database has it")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--compare-with", default=None, help="another checkout to A/B the warm requests against")
    parser.add_argument("--rounds", type=int, default=4, help="A/B: alternating rounds per side")
    args = parser.parse_args()

    data_dir = ROOT / "var" / "h-dash-bench"
    ensure_database(args.database_url)
    django_setup(args.database_url, data_dir)
    from annotator.projects.models import Project
    from annotator.scoring.models import ArticleScore, ScoreCache
    from annotator.scoring.selectors import ScoreQuery
    from annotator.scoring.services import framing_scores_store

    project = Project.objects.filter(slug=SLUG).first()
    have = ArticleScore.objects.filter(project=project).count() if project else 0
    if args.rebuild or have != args.n:
        loaded = build(n=args.n, n_outlets=args.outlets, seed=args.seed)
        print(
            f"loaded {loaded['n']:,} articles + scores across {loaded['outlets']} outlets in {loaded['seconds']:.1f} s"
        )
    else:
        print(f"reusing {have:,} scored articles in {args.database_url.rsplit('/', 1)[-1]}")
    project = Project.objects.get(slug=SLUG)
    token = token_for()

    parts = breakdown()
    print(
        f"in-process: fingerprint {parts['fingerprint_ms']:.1f} ms; rows → arrays {parts['article_table_s']:.2f} s "
        f"({parts['n_rows']:,} rows); uncached framing_scores {parts['framing_scores_uncached_s']:.2f} s "
        f"({parts['n_groups']} outlets)"
    )

    path = f"/api/v1/projects/{SLUG}/framing-scores/?" + urllib.parse.urlencode({"label": LABEL, "source": "model"})
    server = serve(args.database_url, data_dir)
    try:
        get(f"/api/v1/projects/{SLUG}/", token)  # warm the workers' imports and connections
        get(f"/api/v1/projects/{SLUG}/", token)
        ScoreCache.objects.filter(project=project).exclude(key__startswith="human-marker").delete()
        cold, rows = get(path, token)
        assert len(rows) == args.outlets, rows[:1]
        store = lambda: framing_scores_store(project=project, query=ScoreQuery(label=LABEL))  # noqa: E731
        store()
        warm = [get(path, token)[0] for _ in range(args.requests)]

        changed = ArticleScore.objects.filter(project=project).order_by("id").first()
        slug_changed = changed.article.outlet.slug
        before = next(r for r in rows if r["outlet"] == slug_changed)["n_spans"]
        changed.n_spans += 1
        changed.save()  # computed_at moves: the fingerprint changes
        recomputed, rows_after = get(path, token)
        after = next(r for r in rows_after if r["outlet"] == slug_changed)["n_spans"]
        store()
        warm_again, _ = get(path, token)
        changed.n_spans -= 1
        changed.save()
        store()
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"cold (first request, computes the table): {cold * 1000:.0f} ms")
    print(
        f"warm over {len(warm)} requests: p50 {percentile(warm, 50) * 1000:.1f} ms, p95 {percentile(warm, 95) * 1000:.1f} ms, "
        f"p99 {percentile(warm, 99) * 1000:.1f} ms, max {max(warm) * 1000:.1f} ms, mean {statistics.mean(warm) * 1000:.1f} ms"
    )
    print(
        f"invalidation: after one score changed the next request took {recomputed * 1000:.0f} ms and showed "
        f"n_spans {before} → {after} for {slug_changed}; once stored again, the next took {warm_again * 1000:.1f} ms"
    )
    assert after == before + 1, "the cache was not invalidated"
    if args.compare_with:
        compare(args, path, token, data_dir, store)


def compare(args, path: str, token: str, data_dir: Path, store) -> None:
    """Warm p95 of the other checkout's code and of this one's, alternating rounds on the same cached table.

    This code's GET never writes (the scoring run stores the table), while the other side's first GET may store its
    own version of the same cache row; so this side's table is stored again before each of its rounds, as the end of
    a scoring run would."""
    timings: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    n = max(1, args.requests // args.rounds)
    for name, code_dir in ab_sides(compare_with=args.compare_with, rounds=args.rounds):
        if name != "before":
            store()
        server = serve(args.database_url, data_dir, code_dir=code_dir)
        try:
            for _ in range(3):
                get(path, token)
            cpu_start = cpu_seconds(server.pid)
            timings.setdefault(name, []).extend(get(path, token)[0] * 1000 for _ in range(n))
            cpu.setdefault(name, []).append((cpu_seconds(server.pid) - cpu_start) * 1000 / n)
        finally:
            server.terminate()
            server.wait(timeout=30)
    p95 = {name: percentile(values, 95) for name, values in timings.items()}
    print(
        f"A/B warm over {len(timings['after'])} requests a side, {args.rounds} alternating rounds: before p95 "
        f"{p95['before']:.1f} ms (p50 {percentile(timings['before'], 50):.1f}), after p95 {p95['after']:.1f} ms "
        f"(p50 {percentile(timings['after'], 50):.1f}); after/before {p95['after'] / p95['before']:.3f}; server CPU "
        f"per request before {statistics.mean(cpu['before']):.1f} ms, after {statistics.mean(cpu['after']):.1f} ms; "
        f"load {load_average()}"
    )


if __name__ == "__main__":
    sys.exit(main())
