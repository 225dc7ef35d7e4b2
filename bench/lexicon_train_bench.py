"""Training time of the lexicon classifier on synthetic articles (default: 5,000 × ~400 words, ~20k spans).

    .venv/bin/python -m bench.lexicon_train_bench [--articles 5000] [--words 400] [--spans-per-article 4]

Articles are drawn from a Zipf-like vocabulary of 30,000 pseudo-words plus VADER's words (so the external
lexicon has work to do); 400 "loaded" terms (a quarter of them two-word phrases) are planted; 80 % of the
planted occurrences are marked, the rest are left unmarked so that precisions are not all 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

from ml.features import load_external_lexicon
from ml.lexicon import LexiconClassifier
from ml.spans import Span

SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["th", "st", "ch"]


def pseudo_words(n: int, rng: np.random.RandomState) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < n:
        k = rng.randint(1, 4)
        words["".join(SYLLABLES[i] for i in rng.randint(0, len(SYLLABLES), size=k))] = None
    return list(words)


def synthetic_corpus(
    n_articles: int, *, words: int = 400, spans_per_article: int = 4, seed: int = 0
) -> tuple[list[str], list[list[Span]], list[str]]:
    """Texts, gold spans and the loaded terms; deterministic for a seed."""
    rng = np.random.RandomState(seed)
    vocab = pseudo_words(30_000, rng) + sorted(w for w in load_external_lexicon("vader").strength if w.isalpha())
    zipf = 1.0 / np.arange(1, len(vocab) + 1)
    zipf /= zipf.sum()
    # pseudo-words take the frequent ranks; VADER words are spread over the rarer 80 %
    n_pseudo = 30_000
    head = rng.permutation(n_pseudo)[: len(vocab) // 5]
    tail = rng.permutation(np.setdiff1d(np.arange(len(vocab)), head))
    order = np.concatenate([head, tail])
    loaded = [vocab[i] for i in rng.choice(len(vocab), 300, replace=False)]
    loaded += [f"{a} {b}" for a, b in zip(pseudo_words(100, rng), pseudo_words(200, rng)[100:], strict=True)]
    texts, gold = [], []
    for _ in range(n_articles):
        tokens = [vocab[order[i]] for i in rng.choice(len(vocab), size=words, p=zipf)]
        planted = rng.choice(len(loaded), size=spans_per_article + 1)  # 5 planted, each marked with p = 0.8
        slots = sorted(rng.choice(np.arange(1, words - 1), size=len(planted), replace=False))
        for slot, term in zip(slots, planted, strict=True):
            tokens[slot] = loaded[term]
        parts, spans, pos = [], [], 0
        for i, tok in enumerate(tokens):
            if i and i % 20 == 0:
                parts.append(". ")
                pos += 2
                tok = tok.capitalize()
            elif i:
                parts.append(" ")
                pos += 1
            if i in slots and rng.rand() < spans_per_article / (spans_per_article + 1):
                spans.append(Span(pos, pos + len(tok), "loaded"))
            parts.append(tok)
            pos += len(tok)
        texts.append("".join(parts) + ".")
        gold.append(spans)
    return texts, gold, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--words", type=int, default=400)
    parser.add_argument("--spans-per-article", type=int, default=4)
    args = parser.parse_args()
    t0 = time.perf_counter()
    texts, gold, _ = synthetic_corpus(args.articles, words=args.words, spans_per_article=args.spans_per_article)
    t_gen = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    model = LexiconClassifier(random_state=0).fit(texts, gold)
    t_fit, c_fit = time.perf_counter() - t0, time.process_time() - c0
    result = {
        "articles": len(texts),
        "words": sum(len(t.split()) for t in texts),
        "spans": sum(map(len, gold)),
        "generate_seconds": round(t_gen, 1),
        "fit_wall_seconds": round(t_fit, 1),
        "fit_cpu_seconds": round(c_fit, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "lexicon_terms": len(model.lexicon_),
        "internal_cv": model.cv_scores_,
        "machine": f"{platform.machine()} Python {platform.python_version()}",
    }
    print(json.dumps(result, indent=2, default=float))


if __name__ == "__main__":
    main()
