"""Near-duplicate detection on a seeded synthetic corpus: time, and pair precision/recall on planted copies.

    .venv/bin/python -m bench.near_dup_bench [--articles 100000] [--copies 2000] [--distractors 2000]

Corpus: invented words with Zipf frequencies; each article (about 300-400 words) belongs to one of
500 topics and draws 30 % of its words from the topic's vocabulary.  Planted copies of an original get
a new headline, lose 0-2 sentences, gain 0-2 new sentences and have 5-10 % of their words replaced.
Distractor pairs are two independent articles on the same topic that share one quoted sentence: they
are NOT copies.  Everything else is unrelated filler.  Pairs are scored at cluster level (every pair
inside a predicted cluster against every pair inside a true cluster).

Incremental, as after an import (story clustering in the app, with stored signatures):

    .venv/bin/python -m bench.near_dup_bench --incremental [--db postgres] [--articles 100000] [--new 1000]

stores ``--articles`` articles (first run only: inserted, then one full rebuild, timed), then twice adds ``--new``
articles and places them with ``story_clusters_update(article_ids=...)``: the first round is timed (CPU of this
process, wall, peak RSS via /proc VmHWM reset), the second measures the Python/numpy allocation peak with
tracemalloc. The database server's own CPU is not in the CPU figure (it is in wall).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import numpy as np

from ml.near_duplicates import DEFAULT_NUM_PERM, DEFAULT_SHINGLE_SIZE, DEFAULT_THRESHOLD, NearDuplicateIndex

N_TOPICS, VOCAB, TOPIC_VOCAB = 500, 30_000, 300
SYLLABLES = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "va", "ge", "zu", "bi", "fo", "ha", "ju", "ce", "wy"]


class Corpus:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        syl = np.array(SYLLABLES)
        parts = rng.integers(0, len(syl), size=(VOCAB, 4))
        lengths = rng.integers(1, 5, size=VOCAB)
        words = {"".join(syl[p[:n]]) for p, n in zip(parts, lengths, strict=True)}
        self.vocab = np.array(sorted(words))
        weights = 1.0 / np.arange(1, len(self.vocab) + 1)
        self.cdf = np.cumsum(weights / weights.sum())
        self.topics = rng.integers(0, len(self.vocab), size=(N_TOPICS, TOPIC_VOCAB))

    def sentence(self, topic: int) -> list[str]:
        n = int(self.rng.integers(12, 24))
        general = np.minimum(np.searchsorted(self.cdf, self.rng.random(n)), len(self.vocab) - 1)
        topical = self.topics[topic, self.rng.integers(0, TOPIC_VOCAB, size=n)]
        pick = np.where(self.rng.random(n) < 0.3, topical, general)
        return list(self.vocab[pick])

    def article(self, topic: int) -> tuple[list[str], list[list[str]]]:
        return self.sentence(topic)[:8], [self.sentence(topic) for _ in range(int(self.rng.integers(16, 22)))]

    def edited_copy(self, headline_and_body, topic: int):
        _, body = headline_and_body
        body = [list(s) for s in body]
        for _ in range(int(self.rng.integers(0, 3))):
            body.pop(int(self.rng.integers(0, len(body))))
        for _ in range(int(self.rng.integers(0, 3))):
            body.insert(int(self.rng.integers(0, len(body) + 1)), self.sentence(topic))
        rate = self.rng.uniform(0.05, 0.10)
        for s in body:
            for k in np.flatnonzero(self.rng.random(len(s)) < rate):
                s[k] = str(self.vocab[self.rng.integers(0, len(self.vocab))])
        return self.sentence(topic)[:8], body


def render(headline_and_body) -> str:
    headline, body = headline_and_body
    return " ".join(headline).capitalize() + "\n\n" + " ".join(" ".join(s).capitalize() + "." for s in body)


def build(n_articles: int, n_copies: int, n_distractor_pairs: int, seed: int):
    """Documents as (doc_id, text, published_at, outlet, is_agency) and the true clusters (lists of ids)."""
    rng = np.random.default_rng(seed)
    corpus = Corpus(rng)
    t0 = datetime(2024, 1, 1)
    docs, truth = [], []
    n_originals = max(1, int(n_copies * 0.75))
    for o in range(n_originals):
        topic = int(rng.integers(0, N_TOPICS))
        original = corpus.article(topic)
        docs.append((f"orig-{o}", render(original), t0 + timedelta(hours=o), "wire", True))
        cluster = [f"orig-{o}"]
        for c in range(1 if o >= n_copies - n_originals else 2):
            doc_id = f"copy-{o}-{c}"
            docs.append(
                (doc_id, render(corpus.edited_copy(original, topic)), t0 + timedelta(hours=o + 1), f"outlet-{c}", False)
            )
            cluster.append(doc_id)
        truth.append(cluster)
    for d in range(n_distractor_pairs):
        topic = int(rng.integers(0, N_TOPICS))
        quote = corpus.sentence(topic)
        for side in "ab":
            headline, body = corpus.article(topic)
            body.insert(int(rng.integers(0, len(body))), quote)
            docs.append((f"dist-{d}-{side}", render((headline, body)), None, "outlet-x", False))
    for f in range(max(0, n_articles - len(docs))):
        docs.append((f"fill-{f}", render(corpus.article(int(rng.integers(0, N_TOPICS)))), None, "outlet-y", False))
    order = rng.permutation(len(docs))
    return [docs[i] for i in order], truth


def pairs(clusters) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for c in clusters for p in combinations(c, 2)}


def _peak_rss_reset() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _store(docs) -> list[int]:
    from annotator.corpus.models import Article, Outlet

    outlets = {}
    for _, _, _, name, agency in docs:
        if name not in outlets:
            outlets[name], _ = Outlet.objects.get_or_create(name=name, slug=name, defaults={"is_wire_agency": agency})
    rows = [
        Article(
            outlet=outlets[name],
            text=text,
            external_id=doc_id,
            published_at=None if published is None else published.replace(tzinfo=UTC),
            content_hash=hashlib.sha256(text.encode()).hexdigest(),
        )
        for doc_id, text, published, name, _ in docs
    ]
    ids = []
    for start in range(0, len(rows), 2000):
        ids += [a.pk for a in Article.objects.bulk_create(rows[start : start + 2000])]
    return ids


def incremental(args) -> None:
    """Place ``--new`` articles into a corpus of ``--articles`` stored ones (see the module docstring)."""
    from bench._django import django_setup, ensure_database

    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    url = args.database_url if args.db == "postgres" else f"sqlite:///{data_dir / f'near-dup-{args.articles}.sqlite3'}"
    if args.db == "postgres":
        ensure_database(url)
    django_setup(url, data_dir)
    from annotator.corpus.clustering import story_clusters_update
    from annotator.corpus.models import Article

    docs, _ = build(args.articles + 2 * args.new, args.copies, args.distractors, args.seed)
    stored, rounds = docs[: args.articles], [docs[args.articles + r * args.new :][: args.new] for r in range(2)]
    del docs
    Article.objects.filter(external_id__in=[d[0] for r in rounds for d in r]).delete()  # an earlier run's rounds
    held = Article.objects.count()
    if held not in (0, args.articles):
        raise SystemExit(f"the benchmark database holds {held} articles, expected 0 or {args.articles}: drop it")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()}, {args.db}")
    if held == 0:
        _store(stored)
        t, cpu = time.perf_counter(), time.process_time()
        summary = story_clusters_update()
        print(
            f"full rebuild, {args.articles} articles (all hashed): {time.perf_counter() - t:.1f} s wall, "
            f"{time.process_time() - cpu:.1f} s CPU, {summary.n_clusters_written} clusters"
        )
    del stored
    for r, new_docs in enumerate(rounds):
        ids = _store(new_docs)
        if r == 1:
            tracemalloc.start()
        _peak_rss_reset()
        rss = _peak_rss_mb()
        t, cpu = time.perf_counter(), time.process_time()
        summary = story_clusters_update(article_ids=ids)
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        line = f"round {r + 1}: {len(ids)} new into {summary.n_articles - len(ids)} stored: {wall:.2f} s wall, {cpu:.2f} s CPU"
        if r == 0:
            line += f", peak RSS {_peak_rss_mb():.0f} MB (was {rss:.0f} MB before)"
        else:
            line += f", tracemalloc peak {tracemalloc.get_traced_memory()[1] / 2**20:.1f} MB"
            tracemalloc.stop()
        print(
            f"{line}; {summary.n_clusters_written} clusters written, {summary.n_signed} hashed, load {os.getloadavg()}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--copies", type=int, default=2_000)
    parser.add_argument("--distractors", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=5_000, help="documents per add() call (import batches)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--num-perm", type=int, default=DEFAULT_NUM_PERM)
    parser.add_argument("--shingle-size", type=int, default=DEFAULT_SHINGLE_SIZE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--incremental", action="store_true", help="stored corpus + new batches (the app's path)")
    parser.add_argument("--new", type=int, default=1_000, help="--incremental: articles per new batch")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/fs_near_dup_bench")
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parent.parent / "var" / "bench-near-dup"))
    args = parser.parse_args()
    if args.incremental:
        incremental(args)
        return

    t = time.perf_counter()
    docs, truth = build(args.articles, args.copies, args.distractors, args.seed)
    build_s = time.perf_counter() - t
    words = sum(len(d[1].split()) for d in docs) / len(docs)

    index = NearDuplicateIndex(threshold=args.threshold, num_perm=args.num_perm, shingle_size=args.shingle_size)
    t, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(docs), args.batch):
        index.add(docs[start : start + args.batch])
    clusters = index.clusters()
    detect_s, detect_cpu = time.perf_counter() - t, time.process_time() - cpu

    predicted, expected = pairs(c.members for c in clusters), pairs(truth)
    hits = len(predicted & expected)
    distractor_hits = sum(1 for a, b in predicted if a.startswith("dist") and b.startswith("dist"))
    reps_ok = sum(1 for c in clusters if str(c.representative).startswith("orig"))
    sim_copy = [index.similarity(c[0], c[1]) for c in truth[:300]]
    sim_dist = [index.similarity(f"dist-{d}-a", f"dist-{d}-b") for d in range(min(300, args.distractors))]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, python {platform.python_version()}"
    )
    print(
        f"corpus: {len(docs)} articles, {words:.0f} words each on average, built in {build_s:.1f} s (seed {args.seed})"
    )
    print(
        f"params: threshold {args.threshold}, num_perm {args.num_perm}, shingle {args.shingle_size} words, batches of {args.batch}"
    )
    print(
        f"detection: {detect_s:.1f} s wall, {detect_cpu:.1f} s CPU ({len(docs) / detect_s:.0f} articles/s), {len(clusters)} clusters"
    )
    print(f"pairs: true {len(expected)}, predicted {len(predicted)}, correct {hits}")
    print(f"precision {hits / max(1, len(predicted)):.4f}, recall {hits / max(1, len(expected)):.4f}")
    print(f"distractor pairs merged: {distractor_hits} of {args.distractors}; clusters led by the original: {reps_ok}")
    print(f"estimated Jaccard, copy pairs: median {np.median(sim_copy):.2f}, 5th pct {np.percentile(sim_copy, 5):.2f}")
    print(f"estimated Jaccard, distractor pairs: median {np.median(sim_dist):.2f}, max {np.max(sim_dist):.2f}")


if __name__ == "__main__":
    main()
