"""Prediction throughput of the lexicon classifier vs a bare pyahocorasick pass with the same automaton.

    .venv/bin/python -m bench.lexicon_predict_bench [--articles 100000] [--distinct 2000] [--train 1000]

The model is trained on ``--train`` synthetic articles (see bench.lexicon_train_bench); prediction runs over
``--articles`` articles, cycling through ``--distinct`` generated ones (nothing is cached between texts).
The bare pass is ``for text in texts: list(automaton.iter(text.lower()))`` with the model's own automaton.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from bench.lexicon_train_bench import synthetic_corpus
from ml.lexicon import LexiconClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=2000)
    parser.add_argument("--train", type=int, default=1000)
    args = parser.parse_args()
    train_texts, train_spans, _ = synthetic_corpus(args.train, seed=0)
    model = LexiconClassifier(random_state=0).fit(train_texts, train_spans)
    pool, _, _ = synthetic_corpus(args.distinct, seed=1)
    texts = [pool[i % len(pool)] for i in range(args.articles)]
    n_chars = sum(map(len, texts))
    automaton = model.automaton_
    t0 = time.perf_counter()
    n_matches = 0
    for text in texts:
        n_matches += len(list(automaton.iter(text.lower())))
    bare = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_spans = sum(map(len, model.predict(texts)))
    full = time.perf_counter() - t0
    result = {
        "articles": args.articles,
        "megabytes": round(n_chars / 1e6, 1),
        "automaton_keys": len(automaton),
        "bare_seconds": round(bare, 2),
        "bare_articles_per_s": round(args.articles / bare),
        "bare_matches": n_matches,
        "predict_seconds": round(full, 2),
        "predict_articles_per_s": round(args.articles / full),
        "predicted_spans": n_spans,
        "ratio": round(bare / full, 3),
        "machine": f"{platform.machine()} Python {platform.python_version()}",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
