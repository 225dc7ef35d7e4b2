"""Corrected per-outlet rates of loaded words on BABE: train on part of the articles, compare with the experts.

    .venv/bin/python -m bench.babe_outlet_rates [--csv PATH] [--test-share 0.5] [--seed 0] [--prior-spans 20]
    .venv/bin/python -m bench.babe_outlet_rates --seeds 0 1 2 3 4     # summary over several splits
    .venv/bin/python -m bench.babe_outlet_rates --cross-fit 5 --seeds 0 1 2    # cross-fitted: tables and summary

Articles (news_link groups) are split once into a training and a held-out part. On the training part the model
is fitted, and its errors are measured by grouped cross-validation there (never on the held-out part). On the
held-out part the model's spans per 1,000 tokens per outlet are corrected with those cross-validated counts and
compared with the experts' own rate on the same sentences. Three corrections are compared: the pooled
precision/recall ratio, the adjusted count (subtract the cross-validated false positives per token, divide by
recall), the per-outlet precision/recall ratio partially pooled towards the pooled one (``StratifiedErrors``: the
app's empirical-Bayes weight, and beside it the fixed weight ``--prior-spans``, default m = 20, it replaced), and
a calibrated probability sum (every candidate occurrence's score calibrated out-of-fold by isotonic regression,
summed, and scaled by the cross-validated number of gold spans per candidate that overlaps one; point estimate
only). The experts' rate on the training part (no model at all) is shown as a baseline. Bootstrap units are articles
(news_link), in the held-out part and in the cross-validation.

``--cross-fit K`` replaces the one split by K grouped folds (articles shuffled with the seed): each fold is held out
once, and the model that scores it is fitted, and its errors measured, on the other K - 1 folds exactly as above.
Each fold's counts are corrected with its own model's errors and the corrected counts summed over the folds
(``ml.stats.crossfit``), so every sentence is predicted once by a model that never saw its article, and each
outlet's estimate is compared with the experts' rate on all its sentences, a less noisy yardstick than a half.
There is no training-half baseline in this mode; the expected number of outlets a perfect estimator gets within
25 % (``oracle_within_25``) shows the yardstick's noise instead. Corrected rates are point estimates here.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import norm, spearmanr
from sklearn.base import clone
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from bench._data import babe_csv
from ml.babe import LOADED, read_babe
from ml.evaluation import MICRO, span_scores
from ml.lexicon import LexiconClassifier
from ml.stats import ArticleCounts, ClassifierErrors, StratifiedErrors, group_rates
from ml.stats.crossfit import cross_fitted_rates
from ml.stats.strata import DEFAULT_PRIOR_SPANS
from ml.tokenise import count_tokens
from ml.validation import out_of_fold_predictions

DEFAULT_CSV = babe_csv()


def per_article(keys: list, columns: dict[str, list]) -> tuple[list, dict[str, np.ndarray]]:
    """Sum per-sentence columns over articles (news_link); returns the article keys in first-seen order."""
    order = list(dict.fromkeys(keys))
    index = {k: i for i, k in enumerate(order)}
    rows = np.array([index[k] for k in keys])
    return order, {name: np.bincount(rows, weights=v, minlength=len(order)) for name, v in columns.items()}


def candidate_scores(model: LexiconClassifier, texts: list[str], gold: list) -> tuple[np.ndarray, ...]:
    """Every candidate occurrence of the loaded label: its text, its score, whether it overlaps a gold span."""
    cands, proba = model.score_candidates(texts)
    score = proba[:, model.labels_.index(LOADED)]
    where = zip(cands.doc.tolist(), cands.start.tolist(), cands.end.tolist(), strict=True)
    hit = np.array([any(g.start < e and s < g.end for g in gold[d]) for d, s, e in where], dtype=bool)
    return np.asarray(cands.doc), score, hit


def calibrated_probability_sum(
    model: LexiconClassifier, tr_x: list[str], tr_y: list, tr_g: list, fitted: LexiconClassifier, te_x: list[str]
) -> np.ndarray:
    """Expected gold spans per held-out text: calibrated candidate scores summed, times gold spans per hit."""
    scores, hits = [], []
    for fit_rows, cal_rows in GroupKFold(n_splits=5).split(tr_x, groups=tr_g):
        fold = clone(model).fit(
            [tr_x[i] for i in fit_rows], [tr_y[i] for i in fit_rows], groups=[tr_g[i] for i in fit_rows]
        )
        _, score, hit = candidate_scores(fold, [tr_x[i] for i in cal_rows], [tr_y[i] for i in cal_rows])
        scores.append(score)
        hits.append(hit)
    calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
        np.concatenate(scores), np.concatenate(hits)
    )
    # gold spans per candidate that overlaps one: covers gold spans no candidate reaches and spans hit twice
    per_hit = sum(len(y) for y in tr_y) / np.concatenate(hits).sum()
    doc, score, _ = candidate_scores(fitted, te_x, [[] for _ in te_x])
    return per_hit * np.bincount(doc, weights=calibrator.predict(score), minlength=len(te_x))


def oracle_within_25(rate: float, low: float, high: float) -> float:
    """Chance that the held-out experts' rate lands within 25 % of the outlet's true rate, even if that were known.

    Normal approximation with the standard error read off the experts' bootstrap interval (width / 3.92); it is the
    best any estimator can hope for when judged against a noisy held-out rate.
    """
    se = (high - low) / (2 * norm.ppf(0.975))
    if se <= 0:
        return 1.0
    return float(2 * norm.cdf(0.25 * rate / se) - 1)


def relative_error(estimate: float, truth: float) -> float:
    """``|estimate - truth| / truth`` (0 when both are 0, infinite when only the truth is 0)."""
    if truth == 0:
        return 0.0 if estimate == 0 else float("inf")
    return abs(estimate - truth) / truth


COLUMNS = {
    "training_expert": "experts of the training rows (no model)",
    "model": "model, uncorrected",
    "pooled": "pooled P/R ratio",
    "adjusted_count": "adjusted count",
    "calibrated": "calibrated probability sum",
    "stratified": "per-outlet P/R ratio",
    "stratified_fixed": "per-outlet P/R ratio, fixed m",
}
#: Outlets with fewer held-out sentences have experts' rates too noisy for a 25 % test (see docs/benchmarks.md).
MIN_SENTENCES = 40


#: The corrections compared, by the prefix of their table columns.
CORRECTIONS = ("pooled", "adjusted_count", "stratified", "stratified_fixed")


@dataclass(frozen=True)
class HeldOutPart:
    """A model fitted, and its errors measured by grouped cross-validation, on training rows; counts of held-out rows.

    ``cv_sums``: gold, out-of-fold predicted spans and tokens per training article (outlets in ``cv_outlets``);
    ``sums``: tokens, gold, predicted spans, sentences and calibrated probability sum per held-out article
    (outlets in ``outlets``); ``errors``: each correction of :data:`CORRECTIONS`, from the training rows only.
    """

    cv_precision: float
    cv_recall: float
    errors: dict[str, ClassifierErrors | StratifiedErrors]
    cv_outlets: list
    cv_sums: dict[str, np.ndarray]
    outlets: list
    sums: dict[str, np.ndarray]

    def counts(self, column: str) -> ArticleCounts:
        return ArticleCounts(groups=self.outlets, n_tokens=self.sums["tokens"], n_spans=self.sums[column])


def fit_and_predict(data, train: np.ndarray, test: np.ndarray, *, seed: int, prior_spans: float) -> HeldOutPart:
    """Fit on the ``train`` rows (errors by grouped cross-validation there, never on ``test``), count on ``test``."""
    rows, texts, gold = data.rows, data.texts, data.spans
    groups = np.array(data.groups)
    outlet_of = {groups[i]: rows[i].outlet for i in range(len(rows))}
    tr_x, tr_y, tr_g = [texts[i] for i in train], [gold[i] for i in train], [groups[i] for i in train]
    model = LexiconClassifier(random_state=seed)
    oof = out_of_fold_predictions(model, tr_x, tr_y, groups=tr_g)
    cv = span_scores(tr_y, oof, partial=True)[MICRO]
    tr_tokens = [count_tokens(t) for t in tr_x]
    counted = dict(tp=cv.tp_pred, fp=cv.n_pred - cv.tp_pred, fn=cv.n_gold - cv.tp_gold)
    cv_links, cv_sums = per_article(
        tr_g, {"gold": [len(s) for s in tr_y], "predicted": [len(p) for p in oof], "tokens": tr_tokens}
    )
    cv_outlets = [outlet_of[k] for k in cv_links]
    errors = {
        "pooled": ClassifierErrors(**counted),
        "adjusted_count": ClassifierErrors(**counted, n_tokens=sum(tr_tokens)),
        "stratified": StratifiedErrors(strata=cv_outlets, gold=cv_sums["gold"], predicted=cv_sums["predicted"]),
        "stratified_fixed": StratifiedErrors(
            strata=cv_outlets, gold=cv_sums["gold"], predicted=cv_sums["predicted"], prior_spans=prior_spans
        ),
    }
    model.fit(tr_x, tr_y, groups=tr_g)
    te_x = [texts[i] for i in test]
    predicted = model.predict(te_x)
    probability_sum = calibrated_probability_sum(LexiconClassifier(random_state=seed), tr_x, tr_y, tr_g, model, te_x)
    links, sums = per_article(
        [groups[i] for i in test],
        {
            "tokens": [count_tokens(t) for t in te_x],
            "gold": [len(gold[i]) for i in test],
            "predicted": [len(p) for p in predicted],
            "sentences": [1] * len(test),
            "probability_sum": probability_sum,
        },
    )
    return HeldOutPart(
        cv_precision=cv.precision,
        cv_recall=cv.recall,
        errors=errors,
        cv_outlets=cv_outlets,
        cv_sums=cv_sums,
        outlets=[outlet_of[k] for k in links],
        sums=sums,
    )


def compare_with_experts(parts: list[HeldOutPart], *, resamples: int, seed: int) -> list[dict]:
    """Per outlet, over the held-out articles of all parts: the experts' rate against the model's estimates.

    Each part's counts are corrected with that part's own errors and the corrected counts summed over the parts
    (``ml.stats.crossfit``); with one part this is the part's corrected rate. The per-outlet ratio's interval is
    shown for a single part only. The no-model baseline counts each part's held-out tokens at the experts' rate of
    the outlet's training rows of that part (with one part: the training half's experts' rate).
    """
    settings = dict(n_resamples=resamples, seed=seed)
    outlets = np.array([o for part in parts for o in part.outlets])
    sums = {c: np.concatenate([part.sums[c] for part in parts]) for c in parts[0].sums}
    expert = group_rates(ArticleCounts(groups=outlets, n_tokens=sums["tokens"], n_spans=sums["gold"]), **settings)
    per_part = {
        name: [group_rates(part.counts("predicted"), errors=part.errors[name], **settings) for part in parts]
        for name in CORRECTIONS
    }
    corrected = {name: cross_fitted_rates(rates) for name, rates in per_part.items()}
    single = parts[0] if len(parts) == 1 else None

    def training_experts(outlet: str) -> float | None:
        count = 0.0
        for part in parts:
            in_cv, held = np.array(part.cv_outlets) == outlet, np.array(part.outlets) == outlet
            if not held.any():
                continue
            if not in_cv.any():
                return None
            rate = part.cv_sums["gold"][in_cv].sum() / part.cv_sums["tokens"][in_cv].sum()
            count += rate * part.sums["tokens"][held].sum()
        return count / sums["tokens"][outlets == outlet].sum() * 1000

    table = []
    for outlet in sorted(expert):
        e = expert[outlet]
        in_group = outlets == outlet
        calibrated = sums["probability_sum"][in_group].sum() / sums["tokens"][in_group].sum() * 1000
        row = {
            "outlet": outlet,
            "sentences": int(sums["sentences"][in_group].sum()),
            "articles": e.n_articles,
            "expert_rate": e.rate,
            "expert_ci": [e.rate_ci_low, e.rate_ci_high],
            "oracle_within_25": oracle_within_25(e.rate, e.rate_ci_low, e.rate_ci_high),
            "training_expert_rate": training_experts(outlet),
            "model_rate": corrected["pooled"][outlet].rate,
            "calibrated_rate": calibrated,
            "stratified_ci": None,
        }
        for name in CORRECTIONS:
            row[f"{name}_rate"] = corrected[name][outlet].corrected_rate
        if single is not None:
            in_cv = np.array(single.cv_outlets) == outlet
            row["cv_articles"] = int(in_cv.sum())
            st = per_part["stratified"][0][outlet]
            row["stratified_ci"] = [st.corrected_rate_ci_low, st.corrected_rate_ci_high]
            row["stratified_factor"] = single.errors["stratified"].for_stratum(outlet).factor
        for column in COLUMNS:
            rate = row[f"{column}_rate"]
            row[f"{column}_error"] = None if rate is None else relative_error(rate, e.rate)
        table.append(row)
    return table


def rank_agreement(table: list[dict], column: str) -> dict | None:
    """Spearman correlation with the experts' rates, identical order, outlets within 25 % (None: no rates)."""
    rated = [r for r in table if r[f"{column}_rate"] is not None]
    if not rated:
        return None
    truth, values = [r["expert_rate"] for r in rated], [r[f"{column}_rate"] for r in rated]
    return {
        "n_outlets": len(rated),
        "spearman": float(spearmanr(truth, values).statistic),
        "same_order": list(np.argsort(truth, kind="stable")) == list(np.argsort(values, kind="stable")),
        "within_25": sum(1 for r in rated if r[f"{column}_error"] <= 0.25),
    }


def report(csv: Path, parts: list[HeldOutPart], *, seed: int, resamples: int, prior_spans: float, **extra) -> dict:
    table = compare_with_experts(parts, resamples=resamples, seed=seed)
    large = [r for r in table if r["sentences"] >= MIN_SENTENCES]
    return {
        "csv": str(csv),
        "seed": seed,
        "prior_spans": prior_spans,
        **extra,
        "cv_precision": [part.cv_precision for part in parts],
        "cv_recall": [part.cv_recall for part in parts],
        "table": table,
        "ranking": {f"{c}_rate": rank_agreement(table, c) for c in COLUMNS},
        "ranking_large": {f"{c}_rate": rank_agreement(large, c) for c in COLUMNS},
        "machine": f"{platform.machine()} Python {platform.python_version()}",
    }


def run(csv: Path, *, test_share: float, seed: int, resamples: int, prior_spans: float) -> dict:
    """One split of the articles into a training and a held-out part."""
    data = read_babe(csv)
    split = GroupShuffleSplit(n_splits=1, test_size=test_share, random_state=seed)
    train, test = next(split.split(np.zeros(len(data.rows)), groups=data.groups))
    t0 = time.perf_counter()
    part = fit_and_predict(data, train, test, seed=seed, prior_spans=prior_spans)
    seconds = time.perf_counter() - t0
    return report(
        csv, [part], seed=seed, resamples=resamples, prior_spans=prior_spans, mode="split",
        train_sentences=len(train), test_sentences=len(test), seconds=seconds,
    )  # fmt: skip


def run_cross_fit(csv: Path, *, folds: int, seed: int, resamples: int, prior_spans: float) -> dict:
    """``folds`` grouped folds; each is held out once and scored by a model fitted on the others."""
    data = read_babe(csv)
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    t0 = time.perf_counter()
    parts = [
        fit_and_predict(data, train, test, seed=seed, prior_spans=prior_spans)
        for train, test in splitter.split(np.zeros(len(data.rows)), groups=data.groups)
    ]
    seconds = time.perf_counter() - t0
    return report(
        csv, parts, seed=seed, resamples=resamples, prior_spans=prior_spans, mode=f"cross-fit {folds}",
        folds=folds, sentences=len(data.rows), seconds=seconds,
    )  # fmt: skip


def markdown(result: dict) -> str:
    def cell(rate: float | None, error: float | None) -> str:
        if rate is None:
            return "–"
        return f"{rate:.1f} ({error:.0%} {'✓' if error is not None and error <= 0.25 else '✗'})"

    single = result["mode"] == "split"
    shown = list(COLUMNS)
    if single:
        head = "| outlet | held-out sentences (articles) | experts, held-out (95 % CI) | "
    else:
        head = "| outlet | sentences (articles) | experts, all sentences (95 % CI) | P(true rate within 25 %) | "
    lines = [
        head + " | ".join(COLUMNS[c] for c in shown) + (" [95 % CI] |" if single else " |"),
        "|---|" + "---:|" * (len(shown) + (2 if single else 3)),
    ]
    for r in result["table"]:
        elo, ehi = r["expert_ci"]
        cells = [r["outlet"], f"{r['sentences']} ({r['articles']})", f"{r['expert_rate']:.1f} ({elo:.1f}–{ehi:.1f})"]
        if not single:
            cells.append(f"{r['oracle_within_25']:.2f}")
        cells += [cell(r[f"{c}_rate"], r[f"{c}_error"]) for c in shown]
        if r["stratified_ci"] is not None:
            cells[-1] += " [{:.1f}–{:.1f}]".format(*r["stratified_ci"])
        lines.append("| " + " | ".join(cells) + " |")
    names = {
        **COLUMNS,
        "stratified": "per-outlet P/R ratio (empirical Bayes)",
        "stratified_fixed": f"per-outlet P/R ratio (fixed m = {result['prior_spans']:g})",
    }

    def agreement(key: str) -> str:
        return "; ".join(
            f"{names[c]}: Spearman {a['spearman']:.3f}, {'same' if a['same_order'] else 'different'} order, "
            f"{a['within_25']}/{a['n_outlets']} within 25 %"
            for c in shown
            if (a := result[key][f"{c}_rate"]) is not None
        )

    def span(values: list[float]) -> str:
        return f"{min(values):.3f}" if min(values) == max(values) else f"{min(values):.3f}–{max(values):.3f}"

    if single:
        setup = f"{result['train_sentences']} training / {result['test_sentences']} held-out sentences"
        against = "the experts' held-out rates"
    else:
        setup = (
            f"{result['folds']} grouped folds of {result['sentences']} sentences, each held out once and scored "
            f"by a model fitted on the other {result['folds'] - 1}"
        )
        against = "the experts' rates on all sentences"
    lines.append(
        f"\nSeed {result['seed']}: {setup}. Cross-validated span precision {span(result['cv_precision'])}, "
        f"recall {span(result['cv_recall'])} (training rows only); fitting and predicting took "
        f"{result['seconds']:.0f} s. Against {against}, all outlets — {agreement('ranking')}. "
        f"Outlets with ≥ {MIN_SENTENCES} sentences — {agreement('ranking_large')}."
    )
    return "\n".join(lines)


def summary(results: list[dict]) -> str:
    """Per correction, over several splits: outlets within 25 % (large / small outlets), median error, Spearman."""
    lines = [
        f"| estimate | within 25 %, outlets with ≥ {MIN_SENTENCES} held-out sentences | within 25 %, smaller outlets "
        "| median relative error (≥ 40 sentences) | mean relative error (≥ 40 sentences) "
        "| Spearman, mean (range) | same order "
        f"| Spearman, outlets with ≥ {MIN_SENTENCES} sentences | same order, outlets with ≥ {MIN_SENTENCES} sentences |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for column, name in COLUMNS.items():
        rankings = [a for res in results if (a := res["ranking"][f"{column}_rate"]) is not None]
        if not rankings:
            continue
        rows = [r for res in results for r in res["table"] if r[f"{column}_rate"] is not None]
        large = [r[f"{column}_error"] for r in rows if r["sentences"] >= MIN_SENTENCES]
        small = [r[f"{column}_error"] for r in rows if r["sentences"] < MIN_SENTENCES]
        large_rankings = [a for res in results if (a := res["ranking_large"][f"{column}_rate"]) is not None]

        def order(rankings: list[dict]) -> str:
            rho = [a["spearman"] for a in rankings]
            same = sum(a["same_order"] for a in rankings)
            return f"{np.mean(rho):.3f} ({min(rho):.3f}–{max(rho):.3f}) | {same}/{len(rankings)}"

        lines.append(
            f"| {name} | {sum(e <= 0.25 for e in large)}/{len(large)} | {sum(e <= 0.25 for e in small)}/{len(small)} | "
            f"{np.median(large):.0%} | {np.mean(large):.0%} | {order(rankings)} | {order(large_rankings)} |"
        )
    rows = [r for res in results for r in res["table"]]
    lines.append(
        "| outlet's true rate, if known (expected count) | "
        f"{sum(r['oracle_within_25'] for r in rows if r['sentences'] >= MIN_SENTENCES):.1f}/"
        f"{sum(r['sentences'] >= MIN_SENTENCES for r in rows)} | "
        f"{sum(r['oracle_within_25'] for r in rows if r['sentences'] < MIN_SENTENCES):.1f}/"
        f"{sum(r['sentences'] < MIN_SENTENCES for r in rows)} | | | | | | |"
    )
    seeds = ", ".join(str(r["seed"]) for r in results)
    lines.append(
        f"\nSeeds {seeds} ({results[0]['mode']}); per-outlet ratio with the empirical-Bayes weight (the app's) and with "
        f"a fixed m = {results[0]['prior_spans']:g} (the app's until 2026-12)."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--test-share", type=float, default=0.5)
    parser.add_argument(
        "--cross-fit", type=int, metavar="K", nargs="?", const=5,
        help="instead of one split: K grouped folds (default 5), each scored by a model fitted on the others",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, nargs="+", help="run several splits and print a summary")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--prior-spans", type=float, default=DEFAULT_PRIOR_SPANS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    settings = dict(resamples=args.resamples, prior_spans=args.prior_spans)
    if args.cross_fit is not None:
        if args.cross_fit < 2:
            parser.error("--cross-fit needs at least 2 folds")
        results = [run_cross_fit(args.csv, folds=args.cross_fit, seed=s, **settings) for s in args.seeds or [args.seed]]
    else:
        results = [run(args.csv, test_share=args.test_share, seed=s, **settings) for s in args.seeds or [args.seed]]
    if args.json:
        args.json.write_text(json.dumps(results if args.seeds else results[0], indent=2))
    if args.seeds and args.cross_fit is None:
        print(summary(results))
    else:
        print("\n\n".join(markdown(r) for r in results) + ("\n\n" + summary(results) if args.seeds else ""))


if __name__ == "__main__":
    main()
