"""Known-truth check of corrected answer shares: a generated corpus whose outlets have known shares of "Biased".

    .venv/bin/python -m bench.code_shares_calibration [--studies 200] [--gold 2000] [--per-outlet 2000] [--jobs 2]
    .venv/bin/python -m bench.code_shares_calibration --style 2     # outlets with their own words, see below
    .venv/bin/python -m bench.code_shares_calibration --variants "pooled, EM; pooled, cross-fitted, all-fold matrix"

The generator (:class:`Generator`): every article has 40 filler words (Zipf-distributed pseudo-words, the same for
every answer) and four cue words, each drawn from its answer's list of 60 cue words with probability 0.75 and from
the other answer's list otherwise, so the answer is learnable but noisy (the classifier gets about 85 % right).
Outlets ``o1``–``o5`` have true shares 0.10, 0.25, 0.40, 0.60, 0.80 of "Biased". What an article's words say about
its answer does not depend on its outlet: the assumption the correction makes ("prior shift": only the shares
differ). ``--style K`` adds K words of the outlet's own vocabulary to every article: the classifier then learns
the outlet as a cue (its outlets differ in share), its errors differ by outlet, and the assumption holds only
within an outlet, as on BABE.

One *study*: a gold sample (``--gold`` articles, outlets equally often) trains a ``SingleChoiceClassifier`` (words
only, ``char_ngrams=()``: four times faster, and the statistics are what is under test) whose
misclassification is cross-validated on that sample (5 folds; the classifier's default ``C``); ``--per-outlet`` new articles per outlet are
predicted, and ``ml.codes.answer_shares`` corrects their predicted shares with the pooled matrix and with the
per-outlet matrices (each row pooled towards the pooled one by ``Misclassification``'s default, the empirical-Bayes
weight; "(m = 20)": the older fixed weight of 20 units, for comparison), by EM and by the inversion (500 bootstrap
resamples each).
The "cross-fitted" variants predict a new article with one of the five fold models instead of the final one (fold
``article id mod 5``, as the scoring run does) and correct it either fold by fold with the other folds' counts
(``answer_shares(folds=..., errors={fold: ...})``, each fold's matrix drawn on its own) or all together with all
folds' counts ("all-fold matrix": one matrix, one draw per resample). ``--variants`` picks variants (separated by
``;``); the inversion ones equal EM to the digits on this corpus.
Reported over ``--studies`` studies: the error of the corrected share against the outlet's true share (mean
absolute, 90th percentile, share within 0.03, mean signed) and how often the 95 % interval covers the true share;
the uncorrected share is shown beside them.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import time

import numpy as np

from bench.lexicon_train_bench import pseudo_words
from ml.codes import Misclassification, SingleChoiceClassifier, answer_shares, cross_fit

ANSWERS = ("Biased", "Non-biased")
SHARES = {"o1": 0.10, "o2": 0.25, "o3": 0.40, "o4": 0.60, "o5": 0.80}
FILLER_WORDS, CUE_WORDS = 40, 4
CUE_FIDELITY = 0.75
MODEL_PARAMS: dict = {"char_ngrams": ()}  # words only: 4x faster, and the statistics are under test here
FIXED_M = 20.0  # the older fixed pooling weight of the per-outlet rows, for comparison
VARIANTS = {  # name: (predicted by, per-outlet matrices, method, pooling weight: None = Misclassification's default)
    "pooled, EM": ("final", False, "em", None),
    "pooled, inversion": ("final", False, "inversion", None),
    "per-outlet, EM": ("final", True, "em", None),
    "per-outlet, inversion": ("final", True, "inversion", None),
    "pooled, cross-fitted": ("cross-fitted", False, "em", None),
    "per-outlet, cross-fitted": ("cross-fitted", True, "em", None),
    "pooled, cross-fitted, all-fold matrix": ("cross-fitted, all folds", False, "em", None),
    "per-outlet, cross-fitted, all-fold matrix": ("cross-fitted, all folds", True, "em", None),
    "per-outlet (m = 20), cross-fitted, all-fold matrix": ("cross-fitted, all folds", True, "em", FIXED_M),
}


class Generator:
    """The vocabulary of the generated corpus (fixed by ``seed``); :meth:`articles` draws articles from it."""

    def __init__(self, seed: int = 0, *, style_words: int = 0) -> None:
        self.style_words = style_words
        rng = np.random.RandomState(seed)
        words = pseudo_words(2000 + 2 * 60 + 5 * 5, rng)
        self.filler = words[:2000]
        self.cues = {"Biased": words[2000:2060], "Non-biased": words[2060:2120]}
        self.style = {o: words[2120 + 5 * i : 2125 + 5 * i] for i, o in enumerate(SHARES)}
        zipf = 1.0 / np.arange(1, len(self.filler) + 1)
        self.zipf = zipf / zipf.sum()

    def articles(self, outlet: str, n: int, rng: np.random.RandomState) -> tuple[list[str], list[str]]:
        """``n`` articles of ``outlet`` and their true answers."""
        truth = np.where(rng.rand(n) < SHARES[outlet], "Biased", "Non-biased")
        texts = []
        for answer in truth:
            other = "Non-biased" if answer == "Biased" else "Biased"
            tokens = [self.filler[i] for i in rng.choice(len(self.filler), FILLER_WORDS, p=self.zipf)]
            tokens += list(rng.choice(self.style[outlet], self.style_words))
            for _ in range(CUE_WORDS):
                source = answer if rng.rand() < CUE_FIDELITY else other
                tokens.append(self.cues[source][rng.randint(len(self.cues[source]))])
            rng.shuffle(tokens)
            texts.append(" ".join(tokens).capitalize() + ".")
        return texts, list(truth)


def study(
    gen: Generator, *, seed: int, gold: int, per_outlet: int, n_resamples: int, variants: list[str] | None = None
) -> list[dict]:
    variants = list(VARIANTS) if variants is None else variants
    predictors = {VARIANTS[v][0] for v in variants}
    rng = np.random.RandomState(seed)
    g_texts, g_truth, g_outlets = [], [], []
    for outlet in SHARES:
        t, a = gen.articles(outlet, gold // len(SHARES), rng)
        g_texts += t
        g_truth += a
        g_outlets += [outlet] * len(t)
    model = SingleChoiceClassifier(random_state=seed, **MODEL_PARAMS)
    cv = cross_fit(
        model, g_texts, g_truth, groups=list(range(len(g_texts))), random_state=seed,
        keep_models=predictors != {"final"},
    )  # fmt: skip
    errors = Misclassification.from_units(answers=ANSWERS, true=cv.true, predicted=cv.predicted, strata=g_outlets)
    texts, outlets = [], []
    for outlet in SHARES:
        t, _ = gen.articles(outlet, per_outlet, rng)
        texts += t
        outlets += [outlet] * len(t)
    articles = np.arange(len(texts))
    predicted: dict[str, list] = {}
    if "final" in predictors:
        model.fit(g_texts, g_truth)
        predicted["final"] = list(model.predict(texts))
    fold = articles % len(cv.models) if cv.models else None
    if cv.models:  # a new article is predicted by fold model (article id mod K), as the scoring run does
        by_fold = np.empty(len(texts), dtype=object)
        for k, fold_model in enumerate(cv.models):
            rows = np.flatnonzero(fold == k)
            by_fold[rows] = list(fold_model.predict([texts[i] for i in rows]))
        predicted["cross-fitted"] = predicted["cross-fitted, all folds"] = list(by_fold)
    # fold k's units are corrected with the confusion counts of the other folds (code_scores._misclassifications)
    others = {
        k: Misclassification.from_units(
            answers=ANSWERS, true=[t for t, f in zip(cv.true, cv.fold, strict=True) if f != k],
            predicted=[p for p, f in zip(cv.predicted, cv.fold, strict=True) if f != k],
            strata=[o for o, f in zip(g_outlets, cv.fold, strict=True) if f != k],
        )
        for k in range(len(cv.models))
    }  # fmt: skip
    out = []
    for variant in variants:
        predictor, by_outlet, method, units = VARIANTS[variant]
        if predictor == "cross-fitted":
            correction = {
                "errors": {k: _chosen(m, by_outlet, units) for k, m in others.items()},
                "folds": fold.tolist(),
            }
        else:
            correction = {"errors": _chosen(errors, by_outlet, units)}
        rows = answer_shares(
            groups=outlets, articles=articles.tolist(), predicted=predicted[predictor], answers=ANSWERS,
            strata=outlets if by_outlet else None, method=method, n_resamples=n_resamples, seed=seed, **correction,
        )  # fmt: skip
        for r in rows:
            if r.answer == "Biased":
                truth = SHARES[r.group]
                out.append({"method": variant, "outlet": r.group, "truth": truth, "share": r.share,
                            "share_covered": r.share_ci_low <= truth <= r.share_ci_high,
                            "corrected": r.corrected_share, "covered": r.corrected_ci_low <= truth <= r.corrected_ci_high,
                            "width": r.corrected_ci_high - r.corrected_ci_low, "cv_accuracy": cv.evaluation.accuracy})  # fmt: skip
    return out


def _chosen(errors: Misclassification, by_outlet: bool, units: float | None) -> Misclassification:
    """The pooled matrix alone, or the per-outlet ones with the default pooling weight or a fixed one."""
    if not by_outlet:
        return Misclassification(errors.answers, errors.pooled)
    if units is None:
        return errors
    return Misclassification(errors.answers, errors.pooled, errors.strata, prior_units=units)


def _study_task(task: tuple) -> list[dict]:
    style, seed, gold, per_outlet, resamples, variants = task
    return study(
        Generator(0, style_words=style),
        seed=seed,
        gold=gold,
        per_outlet=per_outlet,
        n_resamples=resamples,
        variants=variants,
    )


def summary(rows: list[dict]) -> dict:
    err = np.array([r["corrected"] - r["truth"] for r in rows])
    raw = np.array([r["share"] - r["truth"] for r in rows])
    return {
        "estimates": len(rows),
        "corrected_mean_abs_error": round(float(np.mean(np.abs(err))), 4),
        "corrected_p90_abs_error": round(float(np.quantile(np.abs(err), 0.9)), 4),
        "corrected_within_0.03": round(float(np.mean(np.abs(err) <= 0.03)), 3),
        "corrected_mean_signed_error": round(float(np.mean(err)), 4),
        "coverage_95": round(float(np.mean([r["covered"] for r in rows])), 3),
        "mean_interval_width": round(float(np.mean([r["width"] for r in rows])), 4),
        "uncorrected_mean_abs_error": round(float(np.mean(np.abs(raw))), 4),
        "uncorrected_interval_coverage": round(float(np.mean([r["share_covered"] for r in rows])), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=200)
    parser.add_argument("--gold", type=int, default=2000)
    parser.add_argument("--per-outlet", type=int, default=2000)
    parser.add_argument("--resamples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--style", type=int, default=0, help="words of the outlet's own vocabulary per article")
    parser.add_argument("--jobs", type=int, default=1, help="studies run in this many processes")
    parser.add_argument(
        "--variants",
        default="; ".join(VARIANTS),
        help=f"the variants to run, separated by ';', of: {'; '.join(VARIANTS)}",
    )
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(";") if v.strip()]
    w0, c0 = time.perf_counter(), time.process_time()
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose among {list(VARIANTS)}")
    tasks = [
        (args.style, args.seed + k, args.gold, args.per_outlet, args.resamples, variants) for k in range(args.studies)
    ]
    if args.jobs > 1:
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            parts = pool.map(_study_task, tasks, chunksize=1)
    else:
        parts = [_study_task(t) for t in tasks]
    rows = [r for part in parts for r in part]
    result = {
        "studies": args.studies,
        "gold_articles": args.gold,
        "articles_per_outlet": args.per_outlet,
        "style_words": args.style,
        "true_shares": SHARES,
        "mean_cv_accuracy": round(float(np.mean([r["cv_accuracy"] for r in rows])), 3),
    }
    for variant in variants:
        chosen = [r for r in rows if r["method"] == variant]
        result[variant] = summary(chosen)
        result[variant]["per_outlet"] = {o: summary([r for r in chosen if r["outlet"] == o]) for o in SHARES}
    result.update(
        jobs=args.jobs,
        cpu_seconds_main_process=round(time.process_time() - c0, 1),
        wall_seconds=round(time.perf_counter() - w0, 1),
        load_average=[round(x, 2) for x in os.getloadavg()],
        machine=f"{platform.machine()} Python {platform.python_version()}",
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
