"""Per-outlet share of biased sentences on BABE, predicted and corrected, against the experts' share.

    .venv/bin/python -m bench.babe_code_shares [--csv PATH] [--folds 5] [--seeds 0 1 2] [--min-sentences 40]

Cross-fitted: the news_link groups are shuffled with the seed into ``--folds`` folds; each fold is predicted once
by a ``SingleChoiceClassifier`` fitted on the other folds, and that model's misclassification is measured by a
grouped cross-validation *inside its training folds* (never on the fold it predicts), per outlet and pooled
(``ml.codes.Misclassification.from_units``; a stratum's rows are pooled towards the pooled matrix with the
empirical-Bayes weight of each row, ``Misclassification``'s default, or with ``--prior-units``; the older fixed
weight ``m`` = 20 units is shown beside it). ``ml.codes.answer_shares`` corrects each
fold's predicted answers with its own model's matrix (EM, or the inversion) and adds the corrected counts up over
the folds; the 95 % interval is the percentile bootstrap over articles (news_link) with the matrices drawn from
their Dirichlet posteriors. Each outlet's estimate is compared with the experts' share over *all* its sentences.
Estimates: the predicted share (no correction), the pooled matrix, the per-outlet matrix with EM and with the
inversion, and the per-outlet matrix with m = 20 (EM). Reported over outlets with at least ``--min-sentences`` sentences: mean absolute error, Spearman's rho
and how many outlets' expert share lies inside the 95 % interval.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
from scipy.stats import spearmanr

from bench._data import babe_csv
from bench.babe_codes import ANSWERS, load
from ml.codes import Misclassification, SingleChoiceClassifier, answer_shares, cross_fit
from ml.codes.shares import DEFAULT_PRIOR_UNITS

BIASED = "Biased"


FIXED_M = 20.0  # the older fixed pooling weight, shown for comparison


def fold_errors(texts, answers, groups, spans, outlets, fold, seed) -> dict:
    """Per outer fold, the misclassification of the model fitted on the other folds, cross-validated inside them."""
    out = {}
    for k in sorted(set(fold.tolist())):
        train = np.flatnonzero(fold != k)
        sub = [[x[i] for i in train] for x in (texts, answers, groups, spans, outlets)]
        inner = cross_fit(SingleChoiceClassifier(random_state=seed), sub[0], sub[1], groups=sub[2], spans=sub[3],
                          random_state=seed)  # fmt: skip
        out[k] = (inner.predicted, sub[1], sub[4])
    return out


def run_seed(data, *, folds: int, seed: int, min_sentences: int, prior_units: float | None) -> dict:
    texts, answers, groups, spans, outlets = data
    outer = cross_fit(SingleChoiceClassifier(random_state=seed), texts, answers, groups=groups, spans=spans,
                      n_splits=folds, random_state=seed)  # fmt: skip
    inner = fold_errors(texts, answers, groups, spans, outlets, outer.fold, seed)
    fold = outer.fold.tolist()

    def errors(by_outlet: bool, units: float | None = prior_units) -> dict:
        return {
            k: Misclassification.from_units(answers=ANSWERS, true=true, predicted=pred,
                                            strata=strata if by_outlet else None, prior_units=units)
            for k, (pred, true, strata) in inner.items()
        }  # fmt: skip

    experts = {o: float(np.mean([a == BIASED for a, oo in zip(answers, outlets, strict=True) if oo == o]))
               for o in set(outlets)}  # fmt: skip
    weight = "empirical Bayes" if prior_units is None else f"m = {prior_units:g}"
    variants = {
        "predicted share (no correction)": dict(errors=None),
        "pooled matrix, EM": dict(errors=errors(False), folds=fold),
        f"per-outlet matrix ({weight}), EM": dict(errors=errors(True), folds=fold, strata=outlets, method="em"),
        f"per-outlet matrix ({weight}), inversion": dict(
            errors=errors(True), folds=fold, strata=outlets, method="inversion"
        ),
        f"per-outlet matrix (m = {FIXED_M:g}), EM": dict(
            errors=errors(True, FIXED_M), folds=fold, strata=outlets, method="em"
        ),
    }
    result = {"seed": seed, "cross_fitted_macro_f1": round(outer.evaluation.macro_f1, 4), "estimates": {}}
    for name, kwargs in variants.items():
        rows = answer_shares(groups=outlets, articles=groups, predicted=outer.predicted, answers=ANSWERS, seed=seed,
                             **kwargs)  # fmt: skip
        table = []
        for r in rows:
            if r.answer != BIASED or r.n_units < min_sentences:
                continue
            corrected = r.corrected_share is not None
            est = r.corrected_share if corrected else r.share
            lo, hi = (r.corrected_ci_low, r.corrected_ci_high) if corrected else (r.share_ci_low, r.share_ci_high)
            table.append({"outlet": r.group, "sentences": r.n_units, "articles": r.n_articles,
                          "experts": round(experts[r.group], 4), "estimate": round(est, 4),
                          "ci": [round(lo, 4), round(hi, 4)], "covered": bool(lo <= experts[r.group] <= hi)})  # fmt: skip
        est = np.array([t["estimate"] for t in table])
        truth = np.array([t["experts"] for t in table])
        result["estimates"][name] = {
            "mae": round(float(np.mean(np.abs(est - truth))), 4),
            "spearman": round(float(spearmanr(est, truth)[0]), 4),
            "covered": f"{sum(t['covered'] for t in table)}/{len(table)}",
            "outlets": table,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", default=str(babe_csv()))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--min-sentences", type=int, default=40)
    parser.add_argument(
        "--prior-units", type=float, default=DEFAULT_PRIOR_UNITS,
        help="fixed pooling weight of the per-outlet rows (default: the empirical-Bayes weight)",
    )  # fmt: skip
    args = parser.parse_args()
    data = load(args.csv)
    w0, c0 = time.perf_counter(), time.process_time()
    runs = [
        run_seed(data, folds=args.folds, seed=s, min_sentences=args.min_sentences, prior_units=args.prior_units)
        for s in args.seeds
    ]
    print(
        json.dumps(
            {
                "csv": args.csv,
                "sentences": len(data[0]),
                "folds": args.folds,
                "min_sentences": args.min_sentences,
                "prior_units": args.prior_units,
                "runs": runs,
                "cpu_seconds": round(time.process_time() - c0, 1),
                "wall_seconds": round(time.perf_counter() - w0, 1),
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "machine": f"{platform.machine()} Python {platform.python_version()}",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
