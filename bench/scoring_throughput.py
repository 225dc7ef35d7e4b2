"""Scoring throughput of the scoring path itself vs a bare pyahocorasick pass with the same lexicon (issue 6).

    .venv/bin/python -m bench.scoring_throughput [--articles 100000] [--chunk-size N] [--profile]

In one process, without Celery (so only the scoring path is measured): queues a scoring run of the bench
project with the broker calls mocked out, then calls `score_chunk` on each planned chunk in turn, exactly what a
worker does per message. Reports articles/s and CPU seconds (this process; every postgres process on the machine,
which includes other work and the checkpointer; and this process's own backend), then over the same articles:

- bare: `list(automaton.iter(text.lower()))` per text with a pyahocorasick automaton over the model's matcher keys,
  the texts already in memory;
- bare + read: the same, reading the texts from the database by a server-side cursor in chunk-size batches.

Floor: scoring >= 50 % of the bare pass's articles/s. Uses a dedicated PostgreSQL database (default
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
from bench._yardstick import bare_automaton

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

    from annotator.annotations.models import Span
    from annotator.corpus.models import Article
    from annotator.scoring.models import ArticleScore

    with connection.cursor() as cursor:
        for model in (Span, ArticleScore, Article):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def time_scoring(fixture: dict, chunk_size: int, profile: bool) -> dict:
    from annotator.common.models import Job, JobStatus
    from annotator.scoring import services as scoring
    from bench.worker_sizing import clear_scores

    clear_scores(fixture["version"])
    vacuum_analyze()
    chunks: list[tuple] = []
    with (
        mock.patch("annotator.scoring.tasks.scoring_run_plan_task.delay"),
        mock.patch("annotator.scoring.tasks.score_chunk_task.delay", side_effect=lambda *a: chunks.append(a)),
        mock.patch("annotator.scoring.tasks.score_cache_warm_task.delay"),
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
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
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


def time_bare(automaton, texts: list[str]) -> dict:
    cpu0, t0 = _cpu(), time.perf_counter()
    for text in texts:
        list(automaton.iter(text.lower()))
    seconds, cpu = time.perf_counter() - t0, _cpu() - cpu0
    return {"seconds": round(seconds, 2), "articles_per_s": round(len(texts) / seconds, 1), "cpu_s": round(cpu, 2)}


def time_bare_with_read(automaton, article_ids: list[int], chunk_size: int) -> dict:
    """The bare pass fed by the database: texts read in chunk-size batches by a server-side cursor."""
    from annotator.corpus.models import Article

    n = 0
    pg0, cpu0, t0 = postgres_cpu_seconds(), _cpu(), time.perf_counter()
    texts = Article.objects.filter(pk__in=article_ids).order_by("pk").values_list("text", flat=True)
    for text in texts.iterator(chunk_size=chunk_size):
        list(automaton.iter(text.lower()))
        n += 1
    seconds, cpu, pg = time.perf_counter() - t0, _cpu() - cpu0, postgres_cpu_seconds() - pg0
    return {
        "seconds": round(seconds, 2),
        "articles_per_s": round(n / seconds, 1),
        "process_cpu_s": round(cpu, 2),
        "postgres_cpu_s": round(pg, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=None, help="default: settings.SCORING_CHUNK_SIZE")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    ensure_database(args.database_url)
    django_setup(args.database_url, DATA_DIR)
    from django.conf import settings

    from annotator.corpus.models import Article
    from annotator.scoring.services import _loaded_model
    from bench.worker_sizing import ensure_corpus

    chunk_size = args.chunk_size or settings.SCORING_CHUNK_SIZE
    fixture = ensure_corpus(n_articles=args.articles)
    ids = fixture["article_ids"]
    automaton = bare_automaton(_loaded_model(fixture["version"].artefact_path).automaton_.keys)
    texts = list(Article.objects.filter(pk__in=ids).order_by("pk").values_list("text", flat=True))
    words = sum(len(t.split()) for t in texts) / len(texts)
    bare_read = time_bare_with_read(automaton, ids, chunk_size)
    bare = time_bare(automaton, texts)
    del texts
    scoring = time_scoring(fixture, chunk_size, args.profile)
    result = {
        "cores": os.cpu_count(),
        "articles": len(ids),
        "mean_words": round(words, 1),
        "chunk_size": chunk_size,
        "scoring": scoring,
        "bare": bare,
        "bare_with_read": bare_read,
        "scoring_vs_bare": round(scoring["articles_per_s"] / bare["articles_per_s"], 3),
        "scoring_vs_bare_with_read": round(scoring["articles_per_s"] / bare_read["articles_per_s"], 3),
    }
    print(json.dumps(result, indent=2))
    if result["scoring_vs_bare"] < 0.5:
        print(f"scoring is {result['scoring_vs_bare']:.0%} of the bare pass: below the 50 % floor", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
