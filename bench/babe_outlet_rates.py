"""Corrected per-outlet rates of loaded words on BABE: train on part of the articles, compare with the experts.

    .venv/bin/python -m bench.babe_outlet_rates [--csv PATH] [--test-share 0.5] [--seed 0]

Articles (news_link groups) are split once into a training and a held-out part. On the training part the model
is fitted, and its span precision/recall is measured by grouped cross-validation there (never on the held-out
part). On the held-out part the model's spans per 1,000 tokens per outlet are corrected with those
cross-validated counts (``ml.stats`` adjusted count, Beta-posterior uncertainty inside the bootstrap) and
compared with the experts' own rate on the same sentences. Two corrections are compared: the
precision/recall ratio the app uses, and the adjusted count (subtract the cross-validated false positives per
token, divide by recall).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.model_selection import GroupShuffleSplit

from ml.babe import read_babe
from ml.evaluation import MICRO, span_scores
from ml.lexicon import LexiconClassifier
from ml.stats import ArticleCounts, ClassifierErrors, group_rates
from ml.tokenise import count_tokens
from ml.validation import out_of_fold_predictions

DEFAULT_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "babe" / "final_labels_SG2.train.csv"


def run(csv: Path, *, test_share: float, seed: int, resamples: int) -> dict:
    data = read_babe(csv)
    rows = data.rows
    groups = np.array(data.groups)
    split = GroupShuffleSplit(n_splits=1, test_size=test_share, random_state=seed)
    train, test = next(split.split(np.zeros(len(rows)), groups=groups))
    texts, gold = data.texts, data.spans
    tr_x, tr_y, tr_g = [texts[i] for i in train], [gold[i] for i in train], [groups[i] for i in train]
    t0 = time.perf_counter()
    model = LexiconClassifier(random_state=seed)
    oof = out_of_fold_predictions(model, tr_x, tr_y, groups=tr_g)
    cv = span_scores(tr_y, oof, partial=True)[MICRO]
    ratio_errors = ClassifierErrors(tp=cv.tp_pred, fp=cv.n_pred - cv.tp_pred, fn=cv.n_gold - cv.tp_gold)
    ac_errors = ClassifierErrors(
        tp=cv.tp_pred, fp=cv.n_pred - cv.tp_pred, fn=cv.n_gold - cv.tp_gold, n_tokens=sum(map(count_tokens, tr_x))
    )
    model.fit(tr_x, tr_y, groups=tr_g)
    te_x = [texts[i] for i in test]
    predicted = model.predict(te_x)
    seconds = time.perf_counter() - t0
    outlets = [rows[i].outlet for i in test]
    tokens = [count_tokens(t) for t in te_x]
    expert = group_rates(
        ArticleCounts(groups=outlets, n_tokens=tokens, n_spans=[len(gold[i]) for i in test]),
        n_resamples=resamples, seed=seed,
    )  # fmt: skip
    predicted_counts = ArticleCounts(groups=outlets, n_tokens=tokens, n_spans=[len(p) for p in predicted])
    model_rates = group_rates(predicted_counts, errors=ratio_errors, n_resamples=resamples, seed=seed)
    ac_rates = group_rates(predicted_counts, errors=ac_errors, n_resamples=resamples, seed=seed)
    table = []
    for outlet in sorted(expert):
        e, m, ac = expert[outlet], model_rates[outlet], ac_rates[outlet]
        table.append(
            {
                "outlet": outlet,
                "sentences": e.n_articles,
                "expert_rate": e.rate,
                "model_rate": m.rate,
                "corrected_rate": m.corrected_rate,
                "corrected_ci": [m.corrected_rate_ci_low, m.corrected_rate_ci_high],
                "relative_error": abs(m.corrected_rate - e.rate) / e.rate if e.rate else None,
                "adjusted_count_rate": ac.corrected_rate,
                "adjusted_count_error": abs(ac.corrected_rate - e.rate) / e.rate if e.rate else None,
            }
        )
    rho = spearmanr([r["expert_rate"] for r in table], [r["corrected_rate"] for r in table]).statistic
    rho_ac = spearmanr([r["expert_rate"] for r in table], [r["adjusted_count_rate"] for r in table]).statistic
    rho_raw = spearmanr([r["expert_rate"] for r in table], [r["model_rate"] for r in table]).statistic
    return {
        "csv": str(csv),
        "train_sentences": len(train),
        "test_sentences": len(test),
        "cv_precision": cv.precision,
        "cv_recall": cv.recall,
        "table": table,
        "spearman_corrected": float(rho),
        "spearman_uncorrected": float(rho_raw),
        "spearman_adjusted_count": float(rho_ac),
        "max_relative_error": max(r["relative_error"] for r in table if r["relative_error"] is not None),
        "seconds": seconds,
        "machine": f"{platform.machine()} Python {platform.python_version()}",
    }


def markdown(result: dict) -> str:
    lines = [
        "| outlet | held-out sentences | experts per 1k tokens | model, uncorrected | corrected, P/R ratio (95 % CI) "
        "| error | corrected, adjusted count | error |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["table"]:
        lo, hi = r["corrected_ci"]
        lines.append(
            f"| {r['outlet']} | {r['sentences']} | {r['expert_rate']:.1f} | {r['model_rate']:.1f} | "
            f"{r['corrected_rate']:.1f} ({lo:.1f}–{hi:.1f}) | {r['relative_error']:.0%} | "
            f"{r['adjusted_count_rate']:.1f} | {r['adjusted_count_error']:.0%} |"
        )
    lines.append(
        f"\nCross-validated span precision {result['cv_precision']:.3f}, recall {result['cv_recall']:.3f} "
        f"(training part only). Spearman rank correlation with the experts: corrected "
        f"{result['spearman_corrected']:.3f} (P/R ratio), {result['spearman_adjusted_count']:.3f} (adjusted count), "
        f"uncorrected {result['spearman_uncorrected']:.3f}. "
        f"Largest relative error of a P/R-corrected rate: {result['max_relative_error']:.0%}."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--test-share", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.csv, test_share=args.test_share, seed=args.seed, resamples=args.resamples)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(markdown(result))


if __name__ == "__main__":
    main()
