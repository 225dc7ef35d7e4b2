"""What the Aho-Corasick scan inside ``predict`` costs against the bare pass, and where the rest of ``predict`` goes.

    .venv/bin/python -m bench.lexicon_scan_cost [--articles 10000] [--repeats 5]

The prediction-throughput floor compares ``predict`` with a bare pyahocorasick pass over the same automaton
(``bench.lexicon_predict_bench``). This bench asks how close to that bound ``predict`` can come: it times, best of
``--repeats`` (the shared machine's noise only ever adds time), on the same synthetic articles and model:

* ``bare``: ``list(automaton.iter(text.lower()))`` per text with a pyahocorasick automaton over the model's matcher
  keys, the floor's denominator; ``bare_matcher``: the same with the matcher ``predict`` uses (``ml.matching``);
* ``scan_matcher``: the scan ``predict`` runs, ``KeyMatcher.find`` over each batch's ``TextBatch.scan_text`` (tokens
  kept, everything else a space);
* ``scan_*``: that scan with pyahocorasick (which ``predict`` used until 2026-11-27), consumed by a structured
  ``np.fromiter`` (as ``predict`` did) and, for comparison, by ``list``, by an int64 ``fromiter`` over
  ``itertools.chain`` and by ``np.array(list(...))``;
* ``text_batch`` and ``tokens``: building the batches (lower-casing, the word mask, the scan text) and the token table;
* ``predict``: ``predict_arrays`` over the same articles.

So ``scan_matcher / bare`` is the part of the bound the scan alone uses up, and ``predict - scan_matcher`` is
what everything after the scan costs.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time
from collections.abc import Callable

import numpy as np

from bench._yardstick import bare_automaton
from bench.lexicon_train_bench import synthetic_corpus
from ml.features import TextBatch
from ml.lexicon import _BATCH, LexiconClassifier

_MATCH = np.dtype([("end", np.int64), ("key", np.int64)])  # one pyahocorasick match


def each(items: list, work: Callable[[object], object]) -> None:
    for item in items:
        work(item)


def best_of(repeats: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--distinct", type=int, default=2000)
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    train_texts, train_spans, _ = synthetic_corpus(args.train, seed=0)
    model = LexiconClassifier(random_state=0).fit(train_texts, train_spans)
    pool, _, _ = synthetic_corpus(args.distinct, seed=1)
    texts = [pool[i % len(pool)] for i in range(args.articles)]
    chunks = [texts[i : i + _BATCH] for i in range(0, len(texts), _BATCH)]
    matcher = model.automaton_
    automaton = bare_automaton(matcher.keys)
    scan_texts = [TextBatch(chunk).scan_text for chunk in chunks]
    chain = itertools.chain.from_iterable
    # Each run drops what it made before making the next one, as predict and the floor's bare pass do: results
    # kept alive (a list of lists of match tuples) would make the cyclic garbage collector walk them again and again.
    runs: dict[str, Callable[[], object]] = {
        "bare": lambda: each(texts, lambda text: list(automaton.iter(text.lower()))),
        "bare_matcher": lambda: each(texts, lambda text: matcher.find(text.lower())),
        "scan_matcher": lambda: each(scan_texts, matcher.find),
        "scan_fromiter": lambda: each(scan_texts, lambda s: np.fromiter(automaton.iter(s), dtype=_MATCH)),
        "scan_list": lambda: each(scan_texts, lambda s: list(automaton.iter(s))),
        "scan_chain_fromiter": lambda: each(
            scan_texts, lambda s: np.fromiter(chain(automaton.iter(s)), dtype=np.int64)
        ),
        "scan_list_to_array": lambda: each(scan_texts, lambda s: np.array(list(automaton.iter(s)), dtype=np.int64)),
        "text_batch": lambda: each(chunks, lambda chunk: TextBatch(chunk).scan_text),
        "tokens": lambda: each(chunks, lambda chunk: TextBatch(chunk).tokens()),
        "predict": lambda: model.predict_arrays(texts),
    }
    model.predict_arrays(texts[:_BATCH])  # caches (stems, hash indexes) warm, as in a long-running worker
    seconds = {name: best_of(args.repeats, run) for name, run in runs.items()}
    seconds["tokens"] = max(seconds["tokens"] - seconds["text_batch"], 0.0)  # the token table alone
    bare = seconds["bare"]
    result = {
        "articles": args.articles,
        "repeats": args.repeats,
        "cpu_seconds_best": {name: round(value, 3) for name, value in seconds.items()},
        "relative_to_bare": {name: round(value / bare, 3) for name, value in seconds.items()},
        "predict_after_scan_relative_to_bare": round((seconds["predict"] - seconds["scan_matcher"]) / bare, 3),
        "matches_bare": sum(len(list(automaton.iter(t.lower()))) for t in texts),
        "matches_scan": sum(len(np.fromiter(automaton.iter(s), dtype=_MATCH)) for s in scan_texts),
        "matches_scan_matcher": sum(len(matcher.find(s)) for s in scan_texts),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": f"{platform.machine()} Python {platform.python_version()}",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
