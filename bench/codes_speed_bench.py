"""Training time and prediction throughput of a question classifier on synthetic articles (one process).

    .venv/bin/python -m bench.codes_speed_bench [--train 5000] [--predict 100000] [--words 400]

Articles come from bench.lexicon_train_bench's generator (~400 words, ~2.7 KB, with loaded-term spans). An
article's answer is "Biased" when it has more marked spans than the median article, flipped for 10 % of articles. The model is
``SingleChoiceClassifier(random_state=0)`` trained with the spans (so the span-lexicon cues are built). Prediction
runs over ``--predict`` articles cycling through 2,000 distinct ones (the per-word cache fills on the first 2,000;
a corpus of real articles keeps meeting new words, which ``--distinct`` raises). Times are CPU seconds of this
process (``time.process_time``) and wall seconds; the shared machine's load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

from bench.lexicon_train_bench import synthetic_corpus
from ml.codes import SingleChoiceClassifier


def answers_for(spans: list, *, seed: int) -> list[str]:
    rng = np.random.RandomState(seed)
    n_marked = np.array([len(s) for s in spans])
    biased = n_marked > np.median(n_marked)
    flip = rng.rand(len(spans)) < 0.1
    return ["Biased" if b != f else "Non-biased" for b, f in zip(biased, flip, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=5000)
    parser.add_argument("--predict", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=2000)
    parser.add_argument("--words", type=int, default=400)
    args = parser.parse_args()
    texts, spans, _ = synthetic_corpus(args.train, words=args.words, seed=0)
    answers = answers_for(spans, seed=0)
    load_before = os.getloadavg()
    w0, c0 = time.perf_counter(), time.process_time()
    model = SingleChoiceClassifier(random_state=0).fit(texts, answers, spans=spans)
    fit_wall, fit_cpu = time.perf_counter() - w0, time.process_time() - c0
    pool, pool_spans, _ = synthetic_corpus(args.distinct, words=args.words, seed=1)
    stream = [pool[i % len(pool)] for i in range(args.predict)]
    w0, c0 = time.perf_counter(), time.process_time()
    predicted = model.predict(stream)
    pred_wall, pred_cpu = time.perf_counter() - w0, time.process_time() - c0
    truth = answers_for(pool_spans, seed=1)
    accuracy = float(np.mean(predicted[: len(pool)] == np.array(truth)))
    print(
        json.dumps(
            {
                "train_articles": len(texts),
                "train_words": sum(len(t.split()) for t in texts),
                "mean_article_chars": round(float(np.mean([len(t) for t in texts]))),
                "features": int(model.n_features_),
                "fit_cpu_seconds": round(fit_cpu, 1),
                "fit_wall_seconds": round(fit_wall, 1),
                "predict_articles": len(stream),
                "predict_cpu_seconds": round(pred_cpu, 2),
                "predict_wall_seconds": round(pred_wall, 2),
                "articles_per_cpu_second": round(len(stream) / pred_cpu),
                "articles_per_wall_second": round(len(stream) / pred_wall),
                "held_out_accuracy": round(accuracy, 3),
                "load_average_before_after": [round(x, 2) for x in (*load_before, *os.getloadavg())],
                "machine": f"{platform.machine()} Python {platform.python_version()}",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
