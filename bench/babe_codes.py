"""BABE sentence bias (``label_bias``: Biased / Non-biased) with the question classifier: macro-F1 in 5-fold
cross-validation grouped by ``news_link``.

    .venv/bin/python -m bench.babe_codes [--csv PATH] [--folds 5] [--seed 0] [--baselines] [--nested] [--loo]

Folds: the news_link groups shuffled with ``--seed`` and dealt by ``GroupKFold`` (``ml.codes.cross_fit``); each test
fold is predicted once by a model fitted on the others (span-lexicon cues from the training folds' marked words,
cross-fitted inside ``fit`` on internal folds also grouped by news_link). "No agreement" rows are left out.

``--baselines`` adds, on the same folds: scikit-learn ``TfidfVectorizer`` word (1–2) + ``char_wb`` (2–5) n-grams
with ``LogisticRegression(C=4)``, and the question classifier without the span-lexicon cues.
``--nested`` chooses ``C`` among 1, 4 and 16 by grouped 5-fold CV on each training part only (nested), to show
how much the fixed default owes to the outer folds. ``--loo`` adds leave-one-outlet-out macro-F1 per outlet.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline, make_union

from bench._data import babe_csv
from ml.babe import read_babe
from ml.codes import SingleChoiceClassifier, cross_fit
from ml.codes.evaluation import evaluate_answers

ANSWERS = ("Biased", "Non-biased")
C_GRID = (1.0, 4.0, 16.0)


def load(path) -> tuple[list[str], list[str], list[str], list[list], list[str]]:
    rows = [r for r in read_babe(path).rows if r.label_bias in ANSWERS]
    return (
        [r.text for r in rows],
        [r.label_bias for r in rows],
        [r.news_link for r in rows],
        [list(r.spans) for r in rows],
        [r.outlet for r in rows],
    )


def fold_scores(cv, answers: list[str]) -> list[float]:
    return [round(e.macro_f1, 4) for e in cv.fold_evaluations]


def sklearn_baseline(texts, answers, fold) -> list[float]:
    out = []
    for k in sorted(set(fold.tolist())):
        train, test = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        model = make_pipeline(
            make_union(
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
            ),
            LogisticRegression(C=4.0, max_iter=2000),
        ).fit([texts[i] for i in train], [answers[i] for i in train])
        out.append(
            round(f1_score([answers[i] for i in test], model.predict([texts[i] for i in test]), average="macro"), 4)
        )
    return out


def nested(texts, answers, groups, spans, fold, seed) -> tuple[list[float], list[float]]:
    """Per outer fold: C chosen by inner grouped CV on the training part, then the test fold's macro-F1."""
    scores, chosen = [], []
    for k in sorted(set(fold.tolist())):
        train, test = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        sub = [[x[i] for i in train] for x in (texts, answers, groups, spans)]
        inner = {
            C: cross_fit(SingleChoiceClassifier(C=C, random_state=seed), sub[0], sub[1], groups=sub[2], spans=sub[3],
                         random_state=seed).evaluation.macro_f1
            for C in C_GRID
        }  # fmt: skip
        best = max(C_GRID, key=lambda c: inner[c])
        model = SingleChoiceClassifier(C=best, random_state=seed).fit(sub[0], sub[1], spans=sub[3], groups=sub[2])
        predicted = model.predict([texts[i] for i in test])
        scores.append(round(evaluate_answers([answers[i] for i in test], list(predicted), answers=ANSWERS).macro_f1, 4))
        chosen.append(best)
    return scores, chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", default=str(babe_csv()))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baselines", action="store_true")
    parser.add_argument("--nested", action="store_true")
    parser.add_argument("--loo", action="store_true")
    args = parser.parse_args()
    texts, answers, groups, spans, outlets = load(args.csv)
    w0, c0 = time.perf_counter(), time.process_time()
    cv = cross_fit(SingleChoiceClassifier(random_state=args.seed), texts, answers, groups=groups, spans=spans,
                   n_splits=args.folds, random_state=args.seed)  # fmt: skip
    result = {
        "csv": args.csv,
        "sentences": len(texts),
        "articles": len(set(groups)),
        "folds": args.folds,
        "seed": args.seed,
        "model": "SingleChoiceClassifier(random_state=seed), spans from biased_words",
        "fold_macro_f1": fold_scores(cv, answers),
        "mean_fold_macro_f1": round(float(np.mean([e.macro_f1 for e in cv.fold_evaluations])), 4),
        "pooled": {
            "macro_f1": round(cv.evaluation.macro_f1, 4),
            "accuracy": round(cv.evaluation.accuracy, 4),
            "per_answer": [
                {k: round(v, 4) if isinstance(v, float) else v for k, v in vars(a).items()}
                for a in cv.evaluation.per_answer
            ],
            "confusion": cv.evaluation.confusion,
            "misclassification": [[round(x, 4) for x in row] for row in cv.evaluation.misclassification],
        },
        "cpu_seconds": round(time.process_time() - c0, 1),
        "wall_seconds": round(time.perf_counter() - w0, 1),
    }
    if args.baselines:
        result["baseline_sklearn_word_char_lr"] = sklearn_baseline(texts, answers, cv.fold)
        no_spans = cross_fit(SingleChoiceClassifier(random_state=args.seed, use_spans=False), texts, answers,
                             groups=groups, n_splits=args.folds, random_state=args.seed)  # fmt: skip
        result["without_span_cues"] = fold_scores(no_spans, answers)
        for key in ("baseline_sklearn_word_char_lr", "without_span_cues"):
            result[f"mean_{key}"] = round(float(np.mean(result[key])), 4)
    if args.nested:
        scores, chosen = nested(texts, answers, groups, spans, cv.fold, args.seed)
        result["nested_C_fold_macro_f1"] = scores
        result["nested_C_chosen"] = chosen
        result["mean_nested_C_fold_macro_f1"] = round(float(np.mean(scores)), 4)
    if args.loo:
        loo = cross_fit(SingleChoiceClassifier(random_state=args.seed), texts, answers, groups=groups, spans=spans,
                        leave_out=outlets)  # fmt: skip
        result["leave_one_outlet_out"] = {
            str(name): {"sentences": e.n_units, "macro_f1": round(e.macro_f1, 4), "accuracy": round(e.accuracy, 4)}
            for name, e in zip(loo.fold_names, loo.fold_evaluations, strict=True)
        }
        result["leave_one_outlet_out_pooled_macro_f1"] = round(loo.evaluation.macro_f1, 4)
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    result["machine"] = f"{platform.machine()} Python {platform.python_version()}"
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
