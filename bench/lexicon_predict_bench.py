"""Prediction throughput of the lexicon classifier vs a bare pyahocorasick pass with the same lexicon.

    .venv/bin/python -m bench.lexicon_predict_bench [--articles 100000] [--distinct 2000] [--train 1000]

The model is trained on ``--train`` synthetic articles (see bench.lexicon_train_bench); prediction runs over
``--articles`` articles, cycling through ``--distinct`` generated ones (nothing is cached between texts).
The bare pass, the floor's yardstick, is ``for text in texts: list(automaton.iter(text.lower()))`` with a
pyahocorasick automaton over the model's own matcher keys. Also reported: the same bare pass over only its lexicon
keys (terms and stems, without the word-ending and hyphen keys of the shape candidates, which about double the
scan's cost), and the bare pass with the matcher ``predict`` itself uses (``ml.matching.KeyMatcher``, the Rust
``aho-corasick`` automaton), so every denominator is on record.
Times are CPU seconds of this process (``time.process_time``; the shared machine is busy) and wall seconds. The
passes take turns over blocks of ``--block`` articles, so that a change in the machine's load during the run
weighs on all of them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

from bench._yardstick import bare_automaton
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
    matcher = model.automaton_
    automaton = bare_automaton(matcher.keys)
    # term (" term ") and stem (" stem") keys; endings are "ly " or "-"
    lexicon_only = bare_automaton(matcher.keys, keep=lambda key: key.startswith(" "))
    # the three passes take turns block by block, so that a change in the shared machine's load hits them alike
    bare = bare_wall = bare_lexicon = bare_matcher = full = full_wall = 0.0
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
        c0 = time.process_time()
        for text in block:
            matcher.find(text.lower())
        bare_matcher += time.process_time() - c0
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
        "bare_matcher_cpu_seconds": round(bare_matcher, 2),
        "predict_cpu_seconds": round(full, 2),
        "predict_wall_seconds": round(full_wall, 2),
        "predict_articles_per_cpu_s": round(args.articles / full),
        "predicted_spans": n_spans,
        "ratio_cpu": round(bare / full, 3),
        "ratio_wall": round(bare_wall / full_wall, 3),
        "ratio_cpu_lexicon_keys": round(bare_lexicon / full, 3),
        "ratio_cpu_own_matcher": round(bare_matcher / full, 3),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": f"{platform.machine()} Python {platform.python_version()}",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
