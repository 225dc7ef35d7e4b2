"""Timing of the framing statistics on a synthetic per-article table.

.venv/bin/python -m bench.stats_bench [--outlets 20] [--articles 50000] [--resamples 1000]
"""

from __future__ import annotations

import argparse
import os
import time
from contextlib import contextmanager

import numpy as np

from ml.stats import ArticleCounts, ClassifierErrors, group_rates, one_vs_rest, pairwise_differences


@contextmanager
def timed(label: str):
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    print(f"{label}: {time.perf_counter() - wall:.2f} s wall, {time.process_time() - cpu:.2f} s CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outlets", type=int, default=20)
    parser.add_argument("--articles", type=int, default=50_000, help="articles per outlet")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--permutations", type=int, default=2000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.outlets * args.articles
    tokens = rng.integers(100, 1500, n)
    rates = np.repeat(rng.uniform(2, 6, args.outlets), args.articles)
    counts = ArticleCounts(
        groups=np.repeat(np.arange(args.outlets), args.articles),
        n_tokens=tokens,
        n_spans=rng.poisson(tokens * rates / 1000),
    )
    errors = ClassifierErrors(tp=400, fp=100, fn=150)
    print(
        f"{args.outlets} outlets x {args.articles} articles, {args.resamples} resamples, {args.permutations} permutations"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for label, exact_max in (("default (normal limit above 2,000 articles)", 2000), ("exact resampling only", None)):
        with timed(f"group_rates with error correction, {label}"):
            group_rates(counts, errors=errors, n_resamples=args.resamples, exact_max_articles=exact_max)
    with timed("one_vs_rest, default"):
        one_vs_rest(counts, n_resamples=args.resamples, n_permutations=args.permutations)
    with timed(f"pairwise_differences ({args.outlets * (args.outlets - 1) // 2} pairs), default"):
        pairwise_differences(counts, n_resamples=args.resamples, n_permutations=args.permutations)
    keep = (np.arange(n) % args.articles) < 1500
    small = ArticleCounts(groups=counts.groups[keep], n_tokens=tokens[keep], n_spans=counts.n_spans[keep])
    with timed(f"pairwise_differences, {args.outlets} outlets x 1,500 articles (all exact)"):
        pairwise_differences(small, n_resamples=args.resamples, n_permutations=args.permutations)


if __name__ == "__main__":
    main()
