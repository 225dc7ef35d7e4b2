"""Answer save latency over HTTP on loopback, with answers and spans already in PostgreSQL.

    .venv/bin/python -m bench.answer_save_bench --database-url postgres://…/fs_bench_<name> [--answers 200000]
        [--requests 600] [--workers 2] [--compare-with ../main-worktree --rounds 4]

Uses span_save_bench's fixture (project, 2,000 articles, spans) plus ten codebook questions (article and sentence
scope, every kind) and ``--answers`` answers of twenty other annotators (bulk insert, once); then logs in with a real
session + CSRF token and times POST /api/v1/projects/<slug>/articles/<id>/answers/set/ one request at a time
(keep-alive): a mix of first answers, changed answers and clears, as the annotator page sends them.

With --compare-with, the same mix goes alternately (one round each, --rounds times) to a server running that
checkout's code (another commit: `git worktree add /tmp/base <commit>`) and to one running this checkout's, on the
same database, and the p95 of each side is reported with their ratio. Each side's SQL statements per save (a first
answer, a change, a clear: the whole request, session and user included) are counted through Django's test client
in a process running that side's code.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bench._django import django_setup, ensure_database
from bench._processes import ab_latency_summary, ab_sides, cpu_seconds, load_average
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


COUNT_SCRIPT = textwrap.dedent("""
    import json, sys
    import django
    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=sys.argv[1]))
    counts = []
    for path, body in json.loads(sys.argv[2]):
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(path, body, content_type="application/json")
        if response.status_code not in (200, 201):
            raise SystemExit(f"answer save failed: {response.status_code} {response.content[:300]!r}")
        counts.append(len(ctx.captured_queries))
    print(json.dumps(counts))
""")


def statements_per_save(args, *, code_dir: Path, project, questions: dict[str, int], article_id: int) -> dict:
    """SQL statements of a first answer, a change and a clear (whole requests) with ``code_dir``'s code."""
    path = f"/api/v1/projects/{project.slug}/articles/{article_id}/answers/set/"
    saves = [(path, {"question": questions["frame"], "value": v}) for v in ("security", "economic", None)]
    env = {
        **os.environ, "PYTHONPATH": str(code_dir), "DATABASE_URL": args.database_url, "DEBUG": "0",
        "FRAMESCOPE_DATA_DIR": str(ROOT / "var" / "bench-ann"), "DJANGO_SETTINGS_MODULE": "annotator.settings",
    }  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", COUNT_SCRIPT, BENCH_USER, json.dumps(saves)], cwd=code_dir, env=env, check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    return dict(zip(("first", "change", "clear"), json.loads(out.strip().splitlines()[-1]), strict=True))


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
    sides = ab_sides(compare_with=args.compare_with, rounds=args.rounds)
    statements = {
        name: statements_per_save(args, code_dir=code_dir, project=project, questions=questions, article_id=ids[-1])
        for name, code_dir in dict(sides).items()
    }
    per_side: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    rng = random.Random(7)
    for name, code_dir in sides:
        n = args.requests if len(sides) == 1 else max(1, args.requests // args.rounds)
        timings, cpu_ms = measure(args, project, questions, ids, sentences, rng, code_dir=code_dir, n=n)
        per_side.setdefault(name, []).extend(timings)
        cpu.setdefault(name, []).append(cpu_ms)
    result: dict = {"answers_in_db": n_answers, "workers": args.workers}
    for name in per_side:
        result[f"{'' if len(per_side) == 1 else name + '_'}statements_per_save"] = statements[name]
    result.update(ab_latency_summary(per_side, cpu))
    result.update({"load_average_before": load_before, "load_average_after": load_average()})
    print(json.dumps(result, indent=2))
    return result


def measure(args, project, questions, ids, sentences, rng: random.Random, *, code_dir: Path, n: int):
    """Warm up, then time n answer saves one at a time against a server running ``code_dir``'s code."""
    proc, port = start_server(
        url=args.database_url, data_dir=ROOT / "var" / "bench-ann", workers=args.workers, code_dir=code_dir
    )
    try:
        session = Session(port)
        session.login(BENCH_USER, BENCH_PASSWORD)
        headers = {"Content-Type": "application/json", "X-CSRFToken": session.cookies["csrftoken"]}
        timings: list[float] = []
        cpu_start = 0.0
        for i in range(args.warmup + n):
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
    return timings, server_cpu_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=200_000)
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
