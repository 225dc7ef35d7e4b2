"""Scoring throughput and memory per Celery worker process: 1 vs 2 worker processes (concurrency 1 each).

    .venv/bin/python -m bench.worker_sizing [--articles 3000] [--chunk-size 50] [--workers 1 2]

Uses a dedicated PostgreSQL database (default postgres://postgres@127.0.0.1:5432/fs_bench_rel) and the Redis
broker (default redis://127.0.0.1:6379/14). It builds, once, a synthetic corpus of --articles articles (~300 words,
three outlets with different loaded words, gold spans on the first 300) and trains a lexicon model in this process.
Then for each worker count it deletes the model's scores, starts that many `celery worker -Q scoring -c 1`
processes, queues one scoring run, and times it from queueing to the job's "succeeded" (articles/s). Peak RSS is
sampled from /proc every 0.2 s per worker: the main process plus its pool child. Floor: 2 workers >= 1.6 x 1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

from bench._django import django_setup, ensure_database
from bench._processes import cpu_seconds, load_average, postgres_cpu_seconds, rss_mib, runqueue_wait_seconds

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/fs_bench_rel"
DEFAULT_BROKER = "redis://127.0.0.1:6379/14"
DATA_DIR = ROOT / "var" / "bench-rel"
SLUG = "bench-reliability"
OWNER, PASSWORD = "bench-rel-owner", "bench-rel-password-1"
NEUTRAL = (
    "officials said talks continued on monday while residents waited for aid convoys near the town and the "
    "ministry reported that roads remained closed after heavy rain in the province as workers repaired bridges"
).split()
HABITS = {
    "Herald": ["terrorists", "liberated", "takfiri"],
    "Courier": ["rebels", "regime"],
    "Ledger": ["militants", "fighters"],
}
LOADED = ("terrorists", "liberated", "takfiri", "regime")


def article_text(rng: random.Random, words: list[str], n_words: int = 300) -> str:
    tokens = [rng.choice(NEUTRAL) for _ in range(n_words)]
    for _ in range(rng.randint(2, 6)):
        tokens.insert(rng.randrange(len(tokens)), rng.choice(words))
    for i in range(14, len(tokens), 15):
        tokens[i] += "."
    return " ".join(tokens).capitalize() + "."


def ensure_corpus(*, n_articles: int, n_gold: int = 300) -> dict:
    """Outlets, articles, the project with gold spans on the first n_gold articles, and an active model."""
    from django.contrib.auth import get_user_model

    from annotator.annotations.models import Adjudication, Layer, Span
    from annotator.corpus.models import Article, Outlet
    from annotator.projects.models import Label, Project, ProjectArticle
    from annotator.projects.services import codebook_create_default, project_create
    from annotator.training import services as training
    from annotator.training.models import ModelVersion
    from ml.tokenise import count_tokens

    rng = random.Random(20261127)
    User = get_user_model()
    owner = User.objects.filter(username=OWNER).first() or User.objects.create_user(OWNER, password=PASSWORD)
    project = Project.objects.filter(slug=SLUG).first()
    if project is None:
        project = project_create(name="Bench reliability", slug=SLUG, created_by=owner)
        codebook_create_default(project=project, by=owner)
    outlets = [
        Outlet.objects.get_or_create(slug=f"bench-rel-{name.lower()}", defaults={"name": f"Bench {name}"})[0]
        for name in HABITS
    ]
    have = Article.objects.filter(outlet__in=outlets).count()
    if have < n_articles:
        rows = []
        for i in range(have, n_articles):
            outlet = outlets[i % len(outlets)]
            text = article_text(rng, HABITS[outlet.name.split()[-1]]) + f" #{i}"
            rows.append(
                Article(
                    outlet=outlet, title=f"{outlet.name} story {i}", text=text, n_tokens=count_tokens(text),
                    content_hash=hashlib.sha256(text.encode()).hexdigest(), external_id=f"bench-rel-{i}",
                )
            )  # fmt: skip
        Article.objects.bulk_create(rows, batch_size=1000)
    ids = list(Article.objects.filter(outlet__in=outlets).order_by("pk").values_list("pk", flat=True)[:n_articles])
    ProjectArticle.objects.bulk_create(
        [ProjectArticle(project=project, article_id=pk) for pk in ids], ignore_conflicts=True, batch_size=2000
    )
    label = Label.objects.get(project=project, name="loaded term")
    if not Span.objects.filter(project=project, layer=Layer.GOLD).exists():
        texts = dict(Article.objects.filter(pk__in=ids[:n_gold]).values_list("pk", "text"))
        spans = []
        for pk, text in texts.items():
            lowered = text.lower()
            for word in LOADED:
                start = lowered.find(word)
                while start >= 0:
                    spans.append(
                        Span(
                            project=project, article_id=pk, layer=Layer.GOLD, label=label, start_char=start,
                            end_char=start + len(word), text=text[start : start + len(word)],
                        )
                    )  # fmt: skip
                    start = lowered.find(word, start + len(word))
        Span.objects.bulk_create(spans, batch_size=2000)
        Adjudication.objects.bulk_create(
            [Adjudication(project=project, article_id=pk, status=Adjudication.Status.DONE) for pk in texts],
            ignore_conflicts=True,
        )
    version = ModelVersion.objects.filter(project=project, is_active=True).first()
    if version is not None and not _model_still_loads(version, Article.objects.get(pk=ids[0]).text):
        version = None  # trained by an older ml/ whose artefact this code cannot use: train again
    if version is None:
        print("training the bench model in-process ...", flush=True)
        with mock.patch("annotator.training.tasks.model_version_train_task.delay"):
            version = training.model_version_create(project=project, source="gold")
        version = training.model_version_train(version_id=version.pk)
        training.model_version_activate(version=version)
    return {"project": project, "owner": owner, "version": version, "article_ids": ids, "label": label}


def _model_still_loads(version, text: str) -> bool:
    from ml import artefact

    try:
        model, _ = artefact.load(version.artefact_path)
        model.predict([text])
    except Exception as exc:  # noqa: BLE001 - any failure means "retrain"
        print(f"model v{version.number} is unusable ({exc.__class__.__name__}: {exc}); retraining", flush=True)
        return False
    return True


def worker_env(database_url: str, broker_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "FRAMESCOPE_DATA_DIR": str(DATA_DIR),
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    }


def start_workers(n: int, env: dict[str, str], queues: str = "scoring", nice: int = 0) -> list[subprocess.Popen]:
    """n worker processes with concurrency 1 each (at CPU priority `nice`); returns once every one is ready."""
    procs, logs = [], []
    for _ in range(n):
        log = DATA_DIR / f"worker-{uuid.uuid4().hex[:8]}.log"
        cmd = [
            sys.executable, "-m", "celery", "-A", "annotator", "worker", "-Q", queues, "-c", "1", "-l", "info",
            "-n", f"bench-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        if nice:
            cmd = ["nice", "-n", str(nice), *cmd]
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT))
        logs.append(log)
    deadline = time.monotonic() + 120
    while not all(" ready." in log.read_text() for log in logs):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            stop_workers(procs)
            raise RuntimeError(f"workers did not start; see {logs}")
        time.sleep(0.2)
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def clear_scores(version) -> None:
    from annotator.annotations.models import Span, Suggestions
    from annotator.scoring.models import ArticleScore

    ArticleScore.objects.filter(model_version=version).delete()
    Suggestions.objects.filter(model_version=version).delete()
    Span.objects.filter(model_version=version).delete()


def time_scoring(*, fixture: dict, n_workers: int, chunk_size: int, env: dict[str, str]) -> dict:
    from annotator.common.models import Job, JobStatus
    from annotator.scoring import services as scoring

    version = fixture["version"]
    clear_scores(version)
    procs = start_workers(n_workers, env)
    peaks = {proc.pid: 0.0 for proc in procs}
    try:
        load_start = load_average()
        cpu_start = {proc.pid: cpu_seconds(proc.pid) for proc in procs}
        wait_start = {proc.pid: runqueue_wait_seconds(proc.pid) for proc in procs}
        pg_start = postgres_cpu_seconds()
        t0 = time.perf_counter()
        job = scoring.scoring_run_start(project=fixture["project"], chunk_size=chunk_size)
        while True:
            for proc in procs:
                peaks[proc.pid] = max(peaks[proc.pid], rss_mib(proc.pid))
            status = Job.objects.filter(pk=job.pk).values_list("status", flat=True).get()
            if status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                break
            time.sleep(0.2)
        seconds = time.perf_counter() - t0
        worker_cpu = sum(cpu_seconds(proc.pid) - cpu_start[proc.pid] for proc in procs)
        worker_wait = sum(runqueue_wait_seconds(proc.pid) - wait_start[proc.pid] for proc in procs)
        pg_cpu = postgres_cpu_seconds() - pg_start
        job.refresh_from_db()
        if job.status != JobStatus.SUCCEEDED:
            raise RuntimeError(f"scoring failed: {job.error}")
    finally:
        stop_workers(procs)
    return {
        "workers": n_workers,
        "articles": job.progress_total,
        "seconds": round(seconds, 2),
        "articles_per_s": round(job.progress_total / seconds, 1),
        "peak_rss_mib_per_worker": [round(v, 1) for v in peaks.values()],
        "worker_cpu_cores_used": round(worker_cpu / seconds, 2),
        "worker_cpu_s": round(worker_cpu, 2),
        "worker_runqueue_wait_s": round(worker_wait, 2),
        "articles_per_worker_cpu_s": round(job.progress_total / worker_cpu, 1) if worker_cpu else None,
        "postgres_cpu_cores_used": round(pg_cpu / seconds, 2),
        "load_average_start": load_start,
        "load_average_end": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--broker-url", default=os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER))
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--chunk-size", type=int, default=50)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    ensure_database(args.database_url)
    django_setup(args.database_url, DATA_DIR, args.broker_url)
    fixture = ensure_corpus(n_articles=args.articles)
    from annotator.celery import app

    app.control.purge()
    env = worker_env(args.database_url, args.broker_url)
    runs = [time_scoring(fixture=fixture, n_workers=n, chunk_size=args.chunk_size, env=env) for n in args.workers]
    by_n = {run["workers"]: run["articles_per_s"] for run in runs}
    result = {"cores": os.cpu_count(), "chunk_size": args.chunk_size, "runs": runs}
    if 1 in by_n and 2 in by_n:
        result["speedup_2_vs_1"] = round(by_n[2] / by_n[1], 2)
    print(json.dumps(result, indent=2))
    if result.get("speedup_2_vs_1", 2.0) < 1.6:
        print(f"2 workers are {result['speedup_2_vs_1']} x 1 worker: below the 1.6 x floor", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
