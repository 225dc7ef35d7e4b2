"""Agreement on a seeded synthetic project: how long each measure takes.

    .venv/bin/python -m bench.agreement_bench [--articles 1000] [--tokens 400] [--annotators 3] [--labels 3]

Every article has ``--tokens`` words and is annotated by every annotator. Ten "true" spans of 1-5 words per
article are each kept by an annotator with probability 0.8, with their start moved by one word 40 % of the
time and their label changed 10 % of the time; 30 % of annotator-articles add one stray span.
"""

from __future__ import annotations

import argparse
import platform
import random
import time

from ml.agreement import (
    AnnotatedSpan,
    AnnotationSet,
    build_token_table,
    span_f1,
    token_cohen_kappa,
    token_fleiss_kappa,
    token_krippendorff_alpha,
    unitizing_alpha,
)
from ml.tokenise import token_spans

WORDS = "the senator slammed a radical plan while critics praised bold move amid deepening crisis".split()


def make_project(*, articles: int, tokens: int, annotators: int, labels: int, seed: int = 0) -> AnnotationSet:
    rng = random.Random(seed)
    names = [f"ann{i + 1}" for i in range(annotators)]
    label_names = [f"label{i + 1}" for i in range(labels)]
    texts, spans = {}, []
    for item in range(articles):
        text = " ".join(rng.choice(WORDS) for _ in range(tokens)) + "."
        texts[item] = text
        toks = token_spans(text)
        truth = [(rng.randrange(len(toks) - 6), rng.randint(0, 4), rng.choice(label_names)) for _ in range(10)]
        for name in names:
            for first, extra, label in truth:
                if rng.random() < 0.8:
                    first = max(0, first + (rng.choice([-1, 1]) if rng.random() < 0.4 else 0))
                    label = label if rng.random() < 0.9 else rng.choice(label_names)
                    spans.append(AnnotatedSpan(item, name, toks[first][0], toks[first + extra][1], label))
            if rng.random() < 0.3:
                first = rng.randrange(len(toks) - 3)
                spans.append(AnnotatedSpan(item, name, toks[first][0], toks[first + 2][1], rng.choice(label_names)))
    return AnnotationSet.build(spans=spans, texts=texts, coverage={i: names for i in texts}, labels=label_names)


def _timed(name: str, fn, rows: list[tuple[str, float, str]]) -> object:  # noqa: ANN001
    start = time.perf_counter()
    result = fn()
    value = getattr(result, "value", None)
    rows.append((name, time.perf_counter() - start, "n/a" if value is None else f"{value:.3f}"))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--tokens", type=int, default=400)
    parser.add_argument("--annotators", type=int, default=3)
    parser.add_argument("--labels", type=int, default=3)
    args = parser.parse_args()
    rows: list[tuple[str, float, str]] = []
    data = _timed(
        "build AnnotationSet",
        lambda: make_project(
            articles=args.articles, tokens=args.tokens, annotators=args.annotators, labels=args.labels
        ),
        rows,
    )
    table = _timed("token table", lambda: build_token_table(data), rows)
    _timed("Cohen's kappa (pairs + per label)", lambda: token_cohen_kappa(data, table=table), rows)
    _timed("Fleiss' kappa (+ per label)", lambda: token_fleiss_kappa(data, table=table), rows)
    _timed("Krippendorff's alpha (+ per label, pairs)", lambda: token_krippendorff_alpha(data, table=table), rows)
    for rule in ("exact", "overlap", "tolerant"):
        _timed(f"span F1 {rule}", lambda rule=rule: span_f1(data, match=rule), rows)
    _timed("unitizing alpha, characters (+ pairs)", lambda: unitizing_alpha(data, unit="char"), rows)
    _timed("unitizing alpha, tokens (+ pairs)", lambda: unitizing_alpha(data, unit="token"), rows)
    print(f"{args.articles} articles x {args.tokens} tokens x {args.annotators} annotators, {len(data.spans)} spans")
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu ?'}")
    print("| step | seconds | value |\n|---|---:|---:|")
    for name, seconds, value in rows:
        print(f"| {name} | {seconds:.2f} | {value} |")


if __name__ == "__main__":
    main()
