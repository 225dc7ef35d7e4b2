"""Prediction throughput of the lexicon classifier vs a bare pyahocorasick pass with the same automaton.

    .venv/bin/python -m bench.lexicon_predict_bench [--articles 100000] [--distinct 2000] [--train 1000]

The model is trained on ``--train`` synthetic articles (see bench.lexicon_train_bench); prediction runs over
``--articles`` articles, cycling through ``--distinct`` generated ones (nothing is cached between texts).
The bare pass is ``for text in texts: list(automaton.iter(text.lower()))`` with the model's own automaton; a
second bare pass uses only its lexicon keys (terms and stems, without the word-ending and hyphen keys of the
shape candidates, which about double the scan's cost), so both denominators are reported.
Times are CPU seconds of this process (``time.process_time``; the shared machine is busy) and wall seconds. The
passes take turns over blocks of ``--block`` articles (bare, lexicon-keys-only bare, predict), so that a change in
the machine's load during the run weighs on all three alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import ahocorasick

from bench.lexicon_train_bench import synthetic_corpus
from ml.lexicon import LexiconClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=2000)
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--block", type=int, default=5000, help="articles per turn of the interleaved passes")
    args = parser.parse_args()
    train_texts, train_spans, _ = synthetic_corpus(args.train, seed=0)
    model = LexiconClassifier(random_state=0).fit(train_texts, train_spans)
    pool, _, _ = synthetic_corpus(args.distinct, seed=1)
    texts = [pool[i % len(pool)] for i in range(args.articles)]
    n_chars = sum(map(len, texts))
    automaton = model.automaton_
    lexicon_only = ahocorasick.Automaton()
    for key, value in automaton.items():
        if key.startswith(" "):  # term (" term ") and stem (" stem") keys; endings are "ly " or "-"
            lexicon_only.add_word(key, value)
    lexicon_only.make_automaton()
    # the three passes take turns block by block, so that a change in the shared machine's load hits them alike
    bare = bare_wall = bare_lexicon = full = full_wall = 0.0
    n_matches = n_spans = 0
    for lo in range(0, len(texts), args.block):
        block = texts[lo : lo + args.block]
        w0, c0 = time.perf_counter(), time.process_time()
        for text in block:
            n_matches += len(list(automaton.iter(text.lower())))
        bare, bare_wall = bare + time.process_time() - c0, bare_wall + time.perf_counter() - w0
        c0 = time.process_time()
        for text in block:
            list(lexicon_only.iter(text.lower()))
        bare_lexicon += time.process_time() - c0
        w0, c0 = time.perf_counter(), time.process_time()
        n_spans += sum(map(len, model.predict(block)))
        full, full_wall = full + time.process_time() - c0, full_wall + time.perf_counter() - w0
    result = {
        "articles": args.articles,
        "block": args.block,
        "megabytes": round(n_chars / 1e6, 1),
        "automaton_keys": len(automaton),
        "bare_cpu_seconds": round(bare, 2),
        "bare_wall_seconds": round(bare_wall, 2),
        "bare_articles_per_cpu_s": round(args.articles / bare),
        "bare_matches": n_matches,
        "bare_lexicon_keys": len(lexicon_only),
        "bare_lexicon_cpu_seconds": round(bare_lexicon, 2),
        "predict_cpu_seconds": round(full, 2),
        "predict_wall_seconds": round(full_wall, 2),
        "predict_articles_per_cpu_s": round(args.articles / full),
        "predicted_spans": n_spans,
        "ratio_cpu": round(bare / full, 3),
        "ratio_wall": round(bare_wall / full_wall, 3),
        "ratio_cpu_lexicon_keys": round(bare_lexicon / full, 3),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": f"{platform.machine()} Python {platform.python_version()}",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
