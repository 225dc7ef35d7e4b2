"""Answer save latency over HTTP on loopback, with answers and spans already in PostgreSQL.

    .venv/bin/python -m bench.answer_save_bench --database-url postgres://…/fs_bench_<name> [--answers 200000]
        [--requests 600] [--workers 2]

Uses span_save_bench's fixture (project, 2,000 articles, spans) plus ten codebook questions (article and sentence
scope, every kind) and ``--answers`` answers of twenty other annotators (bulk insert, once); then logs in with a real
session + CSRF token and times POST /api/v1/projects/<slug>/articles/<id>/answers/set/ one request at a time
(keep-alive): a mix of first answers, changed answers and clears, as the annotator page sends them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time

from bench._django import django_setup, ensure_database
from bench._processes import cpu_seconds, load_average, percentile
from bench.span_save_bench import BENCH_PASSWORD, BENCH_USER, DEFAULT_DB, ROOT, Session, ensure_fixture, start_server

QUESTIONS = [  # (name, scope, kind, options)
    ("frame", "article", "single", ["security", "economic", "political", "health", "other"]),
    ("tone", "article", "scale", ["-2", "-1", "0", "1", "2"]),
    ("topics", "article", "multiple", ["war", "aid", "talks", "refugees"]),
    ("note", "article", "text", []),
    ("bias", "sentence", "single", ["biased", "neutral"]),
    ("sentence_tone", "sentence", "scale", ["-1", "0", "1"]),
    ("claim", "sentence", "single", ["fact", "opinion", "quote"]),
    ("source", "sentence", "multiple", ["official", "witness", "agency"]),
    ("hedged", "sentence", "single", ["yes", "no"]),
    ("speaker", "sentence", "text", []),
]


def ensure_questions(project, owner) -> dict[str, int]:
    from annotator.projects.models import Question
    from annotator.projects.questions import question_create

    for name, scope, kind, options in QUESTIONS:
        if not Question.objects.filter(project=project, name=name).exists():
            opts = [{"value": v, "numeric": float(v)} if kind == "scale" else {"value": v} for v in options]
            question_create(
                project=project, name=name, prompt=name.title(), scope=scope, kind=kind, options=opts, by=owner
            )
    return dict(Question.objects.filter(project=project).values_list("name", "pk"))


def value_for(kind: str, options: list[str], rng: random.Random):
    if kind == "multiple":
        return rng.sample(options, rng.randrange(1, len(options)))
    if kind == "text":
        return f"answer {rng.randrange(10**6)}"
    return rng.choice(options)


def ensure_answers(*, n: int, project, questions: dict[str, int], article_ids: list[int], sentences: dict) -> None:
    from django.contrib.auth import get_user_model

    from annotator.annotations.answers import unit_key
    from annotator.annotations.models import Answer

    missing = n - Answer.objects.filter(project=project).count()
    if missing <= 0:
        return
    print(f"inserting {missing:,} answers ...", flush=True)
    rng = random.Random(5)
    others = [get_user_model().objects.get_or_create(username=f"bench-a{i}")[0].pk for i in range(20)]
    rows, seen = [], set()
    while len(rows) < missing:
        name, scope, kind, options = rng.choice(QUESTIONS)
        pk, who = rng.choice(article_ids), rng.choice(others)
        start = end = None
        if scope == "sentence":
            start, end = rng.choice(sentences[pk])
        key = (who, questions[name], pk, unit_key(start_char=start, end_char=end))
        if key in seen:
            continue
        seen.add(key)
        rows.append(Answer(project=project, article_id=pk, question_id=questions[name], layer="annotator",
                           annotator_id=who, start_char=start, end_char=end, unit_key=key[3],
                           value=value_for(kind, options, rng)))  # fmt: skip
    Answer.objects.bulk_create(rows, batch_size=5000)


def run(args: argparse.Namespace) -> dict:
    data_dir = ROOT / "var" / "bench-ann"
    ensure_database(args.database_url)
    django_setup(args.database_url, data_dir)
    fixture = ensure_fixture(n_spans=args.spans)
    from django.contrib.auth import get_user_model

    from annotator.annotations.models import Answer
    from annotator.annotations.selectors import article_sentences
    from annotator.corpus.models import Article

    project = fixture["project"]
    questions = ensure_questions(project, get_user_model().objects.get(username="bench-owner"))
    ids = fixture["article_ids"][:500]
    sentences = {
        a.pk: [(s.start_char, s.end_char) for s in article_sentences(article=a)]
        for a in Article.objects.filter(pk__in=ids).select_related("outlet")
    }
    ensure_answers(n=args.answers, project=project, questions=questions, article_ids=ids, sentences=sentences)
    n_answers = Answer.objects.filter(project=project).count()
    load_before = load_average()
    proc, port = start_server(url=args.database_url, data_dir=data_dir, workers=args.workers)
    try:
        session = Session(port)
        session.login(BENCH_USER, BENCH_PASSWORD)
        headers = {"Content-Type": "application/json", "X-CSRFToken": session.cookies["csrftoken"]}
        rng = random.Random(7)
        timings: list[float] = []
        cpu_start = 0.0
        for i in range(args.warmup + args.requests):
            if i == args.warmup:
                cpu_start = cpu_seconds(proc.pid)
            name, scope, kind, options = rng.choice(QUESTIONS)
            pk = rng.choice(ids[:100])  # a hundred articles: first answers, then changes and clears of them
            body = {"question": questions[name], "value": None if rng.random() < 0.1 else value_for(kind, options, rng)}
            if scope == "sentence":
                body["start_char"], body["end_char"] = rng.choice(sentences[pk])
            data = json.dumps(body).encode()
            t0 = time.perf_counter()
            status, reply = session.request(
                "POST", f"/api/v1/projects/{project.slug}/articles/{pk}/answers/set/", data, headers
            )
            elapsed = (time.perf_counter() - t0) * 1000
            if status not in (200, 201):
                raise RuntimeError(f"answer save failed: {status} {reply[:300]!r}")
            if i >= args.warmup:
                timings.append(elapsed)
        server_cpu_ms = (cpu_seconds(proc.pid) - cpu_start) * 1000 / len(timings)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    result = {
        "answers_in_db": n_answers,
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 95), 2),
        "p99_ms": round(percentile(timings, 99), 2),
        "max_ms": round(max(timings), 2),
        "server_cpu_ms_per_request": round(server_cpu_ms, 2),
        "workers": args.workers,
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    print(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    result = run(parser.parse_args())
    if result["p95_ms"] >= 12:
        print(f"p95 {result['p95_ms']} ms is above the 12 ms floor", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
