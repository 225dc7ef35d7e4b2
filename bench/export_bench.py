"""Annotation export throughput: N annotated articles (~300 words, a few spans each) exported as native JSONL.

    .venv/bin/python -m bench.export_bench --db sqlite [--n 10000]
    .venv/bin/python -m bench.export_bench --db postgres [--n 10000] [--database-url postgres://…/fs_exc_bench]

The data are built once per database (SQLite under var/bench-export/, or the given PostgreSQL database, reused when it
already holds them). The export runs in-process through ``export_text`` (the generator the command and the API
stream), written to a null sink; the best and median of ``--repeat`` runs are printed, then one run of every other
format, then the peak of Python allocations (tracemalloc) during one native export at two chunk sizes, which shows
the memory is bounded by the chunk, not by the project.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from bench._django import django_setup, ensure_database

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/fs_exc_bench"
SLUG = "bench-export"
WORDS = (
    "the regime forces liberate area militants claimed so-called terrorists rebels town said officials "
    "minister government protest police report crisis economy voters election week Tuesday city"
).split()


def populate(n: int, words: int, spans_per_article: int, seed: int):
    """The bench project, built if missing: n articles, three annotators, spans_per_article spans each."""
    from django.contrib.auth import get_user_model

    from annotator.annotations.models import Layer, Span
    from annotator.corpus.models import Article, Outlet
    from annotator.projects.models import Label, Membership, Project, ProjectArticle, Role
    from annotator.projects.services import codebook_create_default, project_create

    project = Project.objects.filter(slug=SLUG).first()
    if project is not None and project.articles.count() == n:
        return project
    if project is not None:
        sys.exit(f"database already holds project {SLUG!r} with another size; use a fresh database")
    rng = random.Random(seed)
    User = get_user_model()
    owner = User.objects.create(username="bench-export-owner")
    annotators = [User.objects.create(username=f"bench-export-{i}") for i in range(3)]
    project = project_create(name="Export bench", slug=SLUG, created_by=owner)
    codebook_create_default(project=project)
    Membership.objects.bulk_create([Membership(project=project, user=u, role=Role.ANNOTATOR) for u in annotators])
    labels = list(Label.objects.filter(project=project).values_list("pk", flat=True))
    outlets = [Outlet.objects.create(name=f"Bench outlet {i}", slug=f"bench-outlet-{i}") for i in range(5)]
    started = time.perf_counter()
    for offset in range(0, n, 2000):
        batch = []
        for i in range(offset, min(n, offset + 2000)):
            text = " ".join(rng.choice(WORDS) for _ in range(words)) + "."
            batch.append(
                Article(
                    outlet=outlets[i % 5],
                    title=f"Bench article {i}",
                    text=text,
                    url=f"https://news.example/{i}",
                    external_id=f"bench-{i}",
                    content_hash=hashlib.sha256(text.encode()).hexdigest(),
                    n_tokens=words,
                )
            )
        articles = Article.objects.bulk_create(batch)
        if articles[0].pk is None:
            ids = Article.objects.filter(external_id__in=[a.external_id for a in batch]).values_list("pk", "text")
        else:
            ids = [(a.pk, a.text) for a in articles]
        ProjectArticle.objects.bulk_create([ProjectArticle(project=project, article_id=pk) for pk, _ in ids])
        spans = []
        for pk, text in ids:
            for k in range(spans_per_article):
                start = text.index(" ", rng.randrange(0, len(text) - 40)) + 1
                end = text.index(" ", start)
                spans.append(
                    Span(
                        project=project,
                        article_id=pk,
                        layer=Layer.ANNOTATOR,
                        annotator=annotators[k % 3],
                        label_id=labels[k % len(labels)],
                        start_char=start,
                        end_char=end,
                        text=text[start:end],
                    )  # fmt: skip
                )
        # a random word drawn twice for one annotator and label is the same span: stored once (span_annotator_unique)
        Span.objects.bulk_create(spans, batch_size=2000, ignore_conflicts=True)
    print(f"built {n} articles, {n * spans_per_article} spans in {time.perf_counter() - started:.1f} s")
    return project


def run_export(project, fmt: str, chunk_size: int) -> tuple[float, int]:
    from annotator.annotations.exchange.export import export_scope, export_text

    started = time.perf_counter()
    cpu = time.process_time()
    size = 0
    for piece in export_text(project=project, fmt=fmt, scope=export_scope(project=project), chunk_size=chunk_size):
        size += len(piece)
    run_export.cpu = time.process_time() - cpu  # type: ignore[attr-defined]
    return time.perf_counter() - started, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default=DEFAULT_PG)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--words", type=int, default=300)
    parser.add_argument("--spans", type=int, default=3, help="spans per article")
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", default=str(ROOT / "var" / "bench-export"), help="SQLite file and data dir")
    args = parser.parse_args()

    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    if args.db == "postgres":
        ensure_database(args.database_url)
        url = args.database_url
    else:
        url = f"sqlite:///{data_dir / f'bench-{args.n}.sqlite3'}"
    django_setup(url, data_dir)
    project = populate(args.n, args.words, args.spans, args.seed)

    run_export(project, "native", args.chunk_size)  # warm the caches once
    times, cpu = [], []
    for _ in range(args.repeat):
        seconds, size = run_export(project, "native", args.chunk_size)
        times.append(seconds)
        cpu.append(run_export.cpu)  # type: ignore[attr-defined]
    print(
        f"{args.db}: native JSONL, {args.n} articles, {args.n * args.spans} spans, {size / 1e6:.1f} MB: "
        f"wall best {min(times):.3f} s, median {statistics.median(times):.3f} s; "
        f"this process's CPU best {min(cpu):.3f} s ({args.repeat} runs)"
    )
    for fmt in ("doccano", "labelstudio", "csv", "conll"):
        seconds, size = run_export(project, fmt, args.chunk_size)
        print(f"{args.db}: {fmt}: wall {seconds:.3f} s, CPU {run_export.cpu:.3f} s, {size / 1e6:.1f} MB")  # type: ignore[attr-defined]
    for chunk_size in (100, args.chunk_size):
        tracemalloc.start()
        run_export(project, "native", chunk_size)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{args.db}: peak Python allocations during a native export, chunk {chunk_size}: {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
