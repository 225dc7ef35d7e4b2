"""Scoring throughput of the scoring path itself vs the practical limit (issue 20), and suggestion reads.

    .venv/bin/python -m bench.scoring_throughput [--articles 100000] [--chunk-size N] [--suggestions packed|on-demand]
        [--profile]

In one process, without Celery (so only the scoring path is measured): queues a scoring run of the bench
project with the broker calls mocked out, then calls `score_chunk` on each planned chunk in turn, exactly what a
worker does per message. Reports articles/s and CPU seconds (this process; every postgres process on the machine,
which includes other work and the checkpointer; and this process's own backend), then over the same articles:

- limit (the practical limit): the fastest plain read of the same texts (binary `COPY (SELECT id, text …) TO STDOUT`
  per chunk of ids) plus a bare `ahocorasick_rs` pass over the model's matcher keys on each lower-cased text;
- read: the read alone; bare: the pass alone, the texts already in memory.

Then the latency of reading one article's suggestions (300 articles, p50/p95), as the annotator page does: stored
packed (`suggestion_list_for_article`), and computed on demand from the loaded model (`predict_arrays` on the one
text, after a one-off load of the artefact, whose time is reported). `--suggestions on-demand` scores without
storing suggestions (what computing them on demand would cost a run): the two variants of issue 20's point 2.

Floor: scoring >= 50 % of the limit's articles/s. Uses a dedicated PostgreSQL database (default
postgres://postgres@127.0.0.1:5432/fs_bench_scoring) and builds its corpus once (bench.worker_sizing's synthetic
~300-word articles and its in-process trained model); later runs reuse it and delete only the model's results.
`--profile` prints the cProfile top functions of the scoring pass (slower: the figures are then not the ones to
record).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path
from unittest import mock

from bench._django import django_setup, ensure_database
from bench._processes import cpu_seconds, load_average, postgres_cpu_seconds
from bench._yardstick import bare_matcher_rs

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/fs_bench_scoring"
DATA_DIR = ROOT / "var" / "bench-scoring"


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def vacuum_analyze() -> None:
    """What autovacuum does on a deployed server (it is off on the bench machine): drop the cleared rows and give
    the planner the tables' sizes, so the run is not measured against stale statistics."""
    from django.db import connection

    from annotator.annotations.models import Span, Suggestions
    from annotator.corpus.models import Article
    from annotator.scoring.models import ArticleScore

    with connection.cursor() as cursor:
        for model in (Span, Suggestions, ArticleScore, Article):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def time_scoring(fixture: dict, chunk_size: int, profile: bool, suggestions: str = "packed") -> dict:
    from annotator.annotations.models import Suggestions
    from annotator.common.copy import rows_insert
    from annotator.common.models import Job, JobStatus
    from annotator.scoring import services as scoring
    from bench.worker_sizing import clear_scores

    def insert(model, fields, rows):  # on demand: a run stores no suggestions at all
        return 0 if suggestions == "on-demand" and model is Suggestions else rows_insert(model, fields, rows)

    clear_scores(fixture["version"])
    vacuum_analyze()
    chunks: list[tuple] = []
    with (
        mock.patch("annotator.scoring.tasks.scoring_run_plan_task.delay"),
        mock.patch("annotator.scoring.tasks.score_chunk_task.delay", side_effect=lambda *a: chunks.append(a)),
        mock.patch("annotator.scoring.tasks.score_cache_warm_task.delay"),
        mock.patch("annotator.scoring.services.rows_insert", side_effect=insert),
    ):
        job = scoring.scoring_run_start(project=fixture["project"], chunk_size=chunk_size)
        scoring.scoring_run_plan(job_id=job.pk)
        profiler = cProfile.Profile() if profile else None
        backend = _backend_pid()
        load_start, pg0, cpu0, t0 = load_average(), postgres_cpu_seconds(), _cpu(), time.perf_counter()
        backend0 = cpu_seconds(backend)
        if profiler:
            profiler.enable()
        scored = sum(scoring.score_chunk(job_id=j, article_ids=ids, plan=plan) for j, ids, plan in chunks)
        if profiler:
            profiler.disable()
        seconds, cpu, pg = time.perf_counter() - t0, _cpu() - cpu0, postgres_cpu_seconds() - pg0
        backend_cpu = cpu_seconds(backend) - backend0
    job.refresh_from_db()
    if job.status != JobStatus.SUCCEEDED or scored != job.progress_total:
        raise RuntimeError(f"scoring ended {job.status} with {scored}/{job.progress_total} articles")
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(40)
    Job.objects.filter(pk=job.pk).delete()
    return {
        "articles": scored,
        "chunks": len(chunks),
        "seconds": round(seconds, 2),
        "articles_per_s": round(scored / seconds, 1),
        "process_cpu_s": round(cpu, 2),
        "articles_per_process_cpu_s": round(scored / cpu, 1),
        "postgres_cpu_s": round(pg, 2),
        "postgres_backend_cpu_s": round(backend_cpu, 2),
        "articles_per_cpu_s_with_postgres": round(scored / (cpu + pg), 1),
        "load_average_start": load_start,
        "load_average_end": load_average(),
    }


def _backend_pid() -> int:
    """The PostgreSQL backend serving this process: its CPU is the part of the server's that scoring costs."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def time_bare(match, texts: list[str]) -> dict:
    cpu0, t0 = _cpu(), time.perf_counter()
    for text in texts:
        match(text)
    seconds, cpu = time.perf_counter() - t0, _cpu() - cpu0
    return {"seconds": round(seconds, 2), "articles_per_s": round(len(texts) / seconds, 1), "cpu_s": round(cpu, 2)}


def _read_chunks(article_ids: list[int], chunk_size: int):
    """The texts of ``article_ids`` by the fastest plain read: a binary COPY of (id, text) per chunk of ids."""
    from annotator.common.copy import rows_read
    from annotator.corpus.models import Article

    for i in range(0, len(article_ids), chunk_size):
        rows = Article.objects.filter(pk__any_of=article_ids[i : i + chunk_size]).order_by("pk")
        yield rows_read(rows.values_list("id", "text"), ("bigint", "text"))


def time_limit(match, article_ids: list[int], chunk_size: int, *, with_match: bool = True) -> dict:
    """The practical limit (read + bare pass), or the read alone (``with_match=False``)."""
    n = 0
    pg0, cpu0, t0 = postgres_cpu_seconds(), _cpu(), time.perf_counter()
    for chunk in _read_chunks(article_ids, chunk_size):
        if with_match:
            for _pk, text in chunk:
                match(text)
        n += len(chunk)
    seconds, cpu, pg = time.perf_counter() - t0, _cpu() - cpu0, postgres_cpu_seconds() - pg0
    return {
        "seconds": round(seconds, 2),
        "articles_per_s": round(n / seconds, 1),
        "process_cpu_s": round(cpu, 2),
        "postgres_cpu_s": round(pg, 2),
    }


def _percentiles(ms: list[float]) -> dict:
    ms = sorted(ms)
    return {
        "p50_ms": round(ms[len(ms) // 2], 3),
        "p95_ms": round(ms[int(len(ms) * 0.95)], 3),
        "max_ms": round(ms[-1], 3),
    }


def time_suggestion_reads(fixture: dict, n: int = 300) -> dict:
    """One article's suggestions, as the annotator page reads them: stored packed vs computed on demand."""
    import random

    from annotator.annotations.selectors import suggestion_list_for_article
    from annotator.annotations.suggestions import Suggestion
    from annotator.corpus.models import Article
    from annotator.projects.models import Label
    from annotator.projects.visibility import system_viewer

    project = fixture["project"]
    viewer = system_viewer(project=project)
    picked = random.Random(20).sample(fixture["article_ids"], n)
    stored, on_demand = [], []
    for pk in picked:
        t0 = time.perf_counter()
        article = Article.objects.get(pk=pk)
        suggestion_list_for_article(viewer=viewer, article=article)
        stored.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    from ml import artefact

    model, _manifest = artefact.load(fixture["version"].artefact_path)
    load_s = time.perf_counter() - t0
    labels = dict(Label.objects.filter(project=project).values_list("name", "pk"))
    for pk in picked:
        t0 = time.perf_counter()
        article = Article.objects.get(pk=pk)
        found = model.predict_arrays([article.text])
        label_ids = [labels.get(name) for name in model.labels_]
        [
            Suggestion(id=i, article_id=pk, label_id=label_ids[li], start_char=s, end_char=e, score=round(x, 6),
                       text=article.text[s:e])
            for i, (s, e, li, x) in enumerate(zip(found.start.tolist(), found.end.tolist(), found.label.tolist(),
                                                  found.score.tolist(), strict=True))
            if label_ids[li] is not None
        ]  # fmt: skip
        on_demand.append((time.perf_counter() - t0) * 1000)
    return {
        "articles": n,
        "stored_packed": _percentiles(stored),
        "on_demand": {**_percentiles(on_demand), "model_load_s": round(load_s, 2)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=None, help="default: settings.SCORING_CHUNK_SIZE")
    parser.add_argument("--suggestions", choices=["packed", "on-demand"], default="packed")
    parser.add_argument("--no-reads", action="store_true", help="skip the suggestion read latencies")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    ensure_database(args.database_url)
    django_setup(args.database_url, DATA_DIR)
    from django.conf import settings

    from annotator.scoring.services import _loaded_model
    from bench.worker_sizing import ensure_corpus

    chunk_size = args.chunk_size or settings.SCORING_CHUNK_SIZE
    fixture = ensure_corpus(n_articles=args.articles)
    ids = fixture["article_ids"]
    match = bare_matcher_rs(_loaded_model(fixture["version"].artefact_path).automaton_.keys)
    texts = [text for chunk in _read_chunks(ids, chunk_size) for _pk, text in chunk]
    words = sum(len(t.split()) for t in texts) / len(texts)
    limit = time_limit(match, ids, chunk_size)
    read = time_limit(match, ids, chunk_size, with_match=False)
    bare = time_bare(match, texts)
    del texts
    scoring = time_scoring(fixture, chunk_size, args.profile, args.suggestions)
    result = {
        "cores": os.cpu_count(),
        "articles": len(ids),
        "mean_words": round(words, 1),
        "chunk_size": chunk_size,
        "suggestions": args.suggestions,
        "scoring": scoring,
        "limit": limit,
        "read": read,
        "bare_rs": bare,
        "scoring_vs_limit": round(scoring["articles_per_s"] / limit["articles_per_s"], 3),
    }
    if args.suggestions == "packed" and not args.no_reads:
        result["suggestion_reads"] = time_suggestion_reads(fixture)
    print(json.dumps(result, indent=2))
    if result["scoring_vs_limit"] < 0.5:
        print(
            f"scoring is {result['scoring_vs_limit']:.0%} of the practical limit: below the 50 % floor", file=sys.stderr
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
