"""BABE word-level F1 in 5-fold cross-validation grouped by news_link, model vs a counted-lexicon baseline.

    .venv/bin/python -m bench.babe_cv [--csv PATH] [--folds 5] [--seed 0] [--variants] [--json OUT]

Everything the model tunes (cross-fitted lexicon statistics, thresholds) happens inside ``fit`` on the
training folds only; the test fold is seen once, by ``predict``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

from bench._data import babe_csv
from ml.babe import read_babe
from ml.evaluation import MICRO, span_scores, word_scores
from ml.lexicon import CountedLexiconBaseline, LexiconClassifier

DEFAULT_CSV = babe_csv()


def run(csv: Path, *, folds: int, seed: int, variants: bool) -> dict:
    data = read_babe(csv)
    texts, gold, groups = data.texts, data.spans, data.groups
    models = {"model": lambda: LexiconClassifier(random_state=seed), "baseline": lambda: CountedLexiconBaseline()}
    if variants:
        models["model_no_external"] = lambda: LexiconClassifier(external_lexicon=None, random_state=seed)
        models["model_no_stems"] = lambda: LexiconClassifier(use_stems=False, random_state=seed)
    rows = []
    for k, (train, test) in enumerate(GroupKFold(n_splits=folds).split(texts, groups=groups)):
        tr_x, tr_y = [texts[i] for i in train], [gold[i] for i in train]
        te_x, te_y = [texts[i] for i in test], [gold[i] for i in test]
        row: dict = {"fold": k, "n_train": len(train), "n_test": len(test), "n_gold_words": None}
        for name, make in models.items():
            t0 = time.perf_counter()
            est = make()
            if isinstance(est, LexiconClassifier):
                est.fit(tr_x, tr_y, groups=[groups[i] for i in train])
            else:
                est.fit(tr_x, tr_y)
            pred = est.predict(te_x)
            words = word_scores(te_x, te_y, pred)[MICRO]
            exact = span_scores(te_y, pred)[MICRO]
            row["n_gold_words"] = words.n_gold
            row[name] = {
                "word_precision": words.precision,
                "word_recall": words.recall,
                "word_f1": words.f1,
                "exact_f1": exact.f1,
                "seconds": time.perf_counter() - t0,
            }
            if isinstance(est, LexiconClassifier):
                row[name]["thresholds"] = [float(t) for t in est.thresholds_]
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary = {
        name: {m: float(np.mean([r[name][m] for r in rows])) for m in ("word_precision", "word_recall", "word_f1")}
        for name in models
    }
    summary["model_minus_baseline"] = summary["model"]["word_f1"] - summary["baseline"]["word_f1"]
    return {
        "csv": str(csv),
        "rows": len(texts),
        "folds": rows,
        "mean": summary,
        "machine": f"{platform.machine()} {platform.python_version()}",
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def markdown(result: dict) -> str:
    names = [n for n in result["folds"][0] if isinstance(result["folds"][0][n], dict)]
    head = "| fold | train rows | test rows | gold words | " + " | ".join(f"{n} P / R / F1" for n in names) + " |"
    lines = [head, "|" + "---|" * (4 + len(names))]
    for r in result["folds"]:
        cells = [f"{r[n]['word_precision']:.3f} / {r[n]['word_recall']:.3f} / **{r[n]['word_f1']:.3f}**" for n in names]
        lines.append(
            f"| {r['fold']} | {r['n_train']} | {r['n_test']} | {r['n_gold_words']} | " + " | ".join(cells) + " |"
        )
    means = [
        f"{result['mean'][n]['word_precision']:.3f} / {result['mean'][n]['word_recall']:.3f} / "
        f"**{result['mean'][n]['word_f1']:.3f}**"
        for n in names
    ]
    lines.append("| mean | | | | " + " | ".join(means) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", action="store_true", help="also run the model without VADER / without stems")
    parser.add_argument("--json", type=Path, help="write the full result here")
    args = parser.parse_args()
    result = run(args.csv, folds=args.folds, seed=args.seed, variants=args.variants)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(markdown(result))
    print(f"model - baseline (mean word F1): {result['mean']['model_minus_baseline']:+.3f}")
    print(f"machine: {result['machine']}, load average at the end: {result['load_average']}")


if __name__ == "__main__":
    main()
