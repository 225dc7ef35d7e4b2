"""Corrected per-outlet rates of loaded words on BABE: train on part of the articles, compare with the experts.

    .venv/bin/python -m bench.babe_outlet_rates [--csv PATH] [--test-share 0.5] [--seed 0] [--prior-spans 20]
    .venv/bin/python -m bench.babe_outlet_rates --seeds 0 1 2 3 4     # summary over several splits

Articles (news_link groups) are split once into a training and a held-out part. On the training part the model
is fitted, and its errors are measured by grouped cross-validation there (never on the held-out part). On the
held-out part the model's spans per 1,000 tokens per outlet are corrected with those cross-validated counts and
compared with the experts' own rate on the same sentences. Three corrections are compared: the pooled
precision/recall ratio, the adjusted count (subtract the cross-validated false positives per token, divide by
recall), the per-outlet precision/recall ratio partially pooled towards the pooled one (``StratifiedErrors``), and
a calibrated probability sum (every candidate occurrence's score calibrated out-of-fold by isotonic regression,
summed, and scaled by the cross-validated number of gold spans per candidate that overlaps one; point estimate
only). The experts' rate on the training part (no model at all) is shown as a baseline. Bootstrap units are articles
(news_link), in the held-out part and in the cross-validation.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
from scipy.stats import norm, spearmanr
from sklearn.base import clone
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from ml.babe import LOADED, read_babe
from ml.evaluation import MICRO, span_scores
from ml.lexicon import LexiconClassifier
from ml.stats import ArticleCounts, ClassifierErrors, StratifiedErrors, group_rates
from ml.stats.strata import DEFAULT_PRIOR_SPANS
from ml.tokenise import count_tokens
from ml.validation import out_of_fold_predictions

DEFAULT_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "babe" / "final_labels_SG2.train.csv"


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


def run(csv: Path, *, test_share: float, seed: int, resamples: int, prior_spans: float) -> dict:
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
    tr_tokens = [count_tokens(t) for t in tr_x]
    errors = dict(tp=cv.tp_pred, fp=cv.n_pred - cv.tp_pred, fn=cv.n_gold - cv.tp_gold)
    ratio_errors = ClassifierErrors(**errors)
    ac_errors = ClassifierErrors(**errors, n_tokens=sum(tr_tokens))
    outlet_of = {groups[i]: rows[i].outlet for i in range(len(rows))}
    cv_links, cv_sums = per_article(
        tr_g, {"gold": [len(s) for s in tr_y], "predicted": [len(p) for p in oof], "tokens": tr_tokens}
    )
    cv_outlets = [outlet_of[k] for k in cv_links]
    strata = StratifiedErrors(
        strata=cv_outlets, gold=cv_sums["gold"], predicted=cv_sums["predicted"], prior_spans=prior_spans
    )
    model.fit(tr_x, tr_y, groups=tr_g)
    te_x = [texts[i] for i in test]
    predicted = model.predict(te_x)
    probability_sum = calibrated_probability_sum(LexiconClassifier(random_state=seed), tr_x, tr_y, tr_g, model, te_x)
    seconds = time.perf_counter() - t0
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
    outlets = [outlet_of[k] for k in links]
    settings = dict(n_resamples=resamples, seed=seed)
    expert = group_rates(ArticleCounts(groups=outlets, n_tokens=sums["tokens"], n_spans=sums["gold"]), **settings)
    predicted_counts = ArticleCounts(groups=outlets, n_tokens=sums["tokens"], n_spans=sums["predicted"])
    pooled = group_rates(predicted_counts, errors=ratio_errors, **settings)
    adjusted = group_rates(predicted_counts, errors=ac_errors, **settings)
    stratified = group_rates(predicted_counts, errors=strata, **settings)
    sentences = dict(zip(*np.unique([rows[i].outlet for i in test], return_counts=True), strict=True))
    table = []
    for outlet in sorted(expert):
        e, p, ac, st = expert[outlet], pooled[outlet], adjusted[outlet], stratified[outlet]
        in_group = np.array(outlets) == outlet
        calibrated = sums["probability_sum"][in_group].sum() / sums["tokens"][in_group].sum() * 1000
        in_cv = np.array(cv_outlets) == outlet
        train_rate = cv_sums["gold"][in_cv].sum() / cv_sums["tokens"][in_cv].sum() * 1000 if in_cv.any() else None
        table.append(
            {
                "outlet": outlet,
                "sentences": int(sentences[outlet]),
                "articles": e.n_articles,
                "cv_articles": int(in_cv.sum()),
                "expert_rate": e.rate,
                "expert_ci": [e.rate_ci_low, e.rate_ci_high],
                "oracle_within_25": oracle_within_25(e.rate, e.rate_ci_low, e.rate_ci_high),
                "training_expert_rate": train_rate,
                "training_expert_error": None if train_rate is None else relative_error(train_rate, e.rate),
                "model_rate": p.rate,
                "model_error": relative_error(p.rate, e.rate),
                "pooled_rate": p.corrected_rate,
                "pooled_error": relative_error(p.corrected_rate, e.rate),
                "adjusted_count_rate": ac.corrected_rate,
                "adjusted_count_error": relative_error(ac.corrected_rate, e.rate),
                "stratified_rate": st.corrected_rate,
                "stratified_ci": [st.corrected_rate_ci_low, st.corrected_rate_ci_high],
                "stratified_error": relative_error(st.corrected_rate, e.rate),
                "stratified_factor": strata.for_stratum(outlet).factor,
                "calibrated_rate": calibrated,
                "calibrated_error": relative_error(calibrated, e.rate),
            }
        )

    def rank_agreement(column: str) -> dict:
        rated = [r for r in table if r[column] is not None]
        truth, values = [r["expert_rate"] for r in rated], [r[column] for r in rated]
        return {
            "n_outlets": len(rated),
            "spearman": float(spearmanr(truth, values).statistic),
            "same_order": list(np.argsort(truth, kind="stable")) == list(np.argsort(values, kind="stable")),
            "within_25": sum(1 for r in rated if r[column.replace("_rate", "_error")] <= 0.25),
        }

    return {
        "csv": str(csv),
        "seed": seed,
        "prior_spans": prior_spans,
        "train_sentences": len(train),
        "test_sentences": len(test),
        "cv_precision": cv.precision,
        "cv_recall": cv.recall,
        "table": table,
        "ranking": {
            c: rank_agreement(c)
            for c in (
                "training_expert_rate",
                "model_rate",
                "pooled_rate",
                "adjusted_count_rate",
                "calibrated_rate",
                "stratified_rate",
            )
        },
        "seconds": seconds,
        "machine": f"{platform.machine()} Python {platform.python_version()}",
    }


def markdown(result: dict) -> str:
    def cell(rate: float | None, error: float | None) -> str:
        if rate is None:
            return "–"
        return f"{rate:.1f} ({error:.0%} {'✓' if error is not None and error <= 0.25 else '✗'})"

    lines = [
        "| outlet | held-out sentences (articles) | experts, held-out (95 % CI) | experts, training half | "
        "model, uncorrected | pooled P/R ratio | adjusted count | calibrated probability sum | "
        "per-outlet P/R ratio [95 % CI] |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["table"]:
        elo, ehi = r["expert_ci"]
        slo, shi = r["stratified_ci"]
        lines.append(
            f"| {r['outlet']} | {r['sentences']} ({r['articles']}) | {r['expert_rate']:.1f} ({elo:.1f}–{ehi:.1f}) | "
            f"{cell(r['training_expert_rate'], r['training_expert_error'])} | "
            f"{cell(r['model_rate'], r['model_error'])} | {cell(r['pooled_rate'], r['pooled_error'])} | "
            f"{cell(r['adjusted_count_rate'], r['adjusted_count_error'])} | "
            f"{cell(r['calibrated_rate'], r['calibrated_error'])} | "
            f"{cell(r['stratified_rate'], r['stratified_error'])} [{slo:.1f}–{shi:.1f}] |"
        )
    names = {
        "training_expert_rate": "experts of the training half (no model)",
        "model_rate": "uncorrected",
        "pooled_rate": "pooled P/R ratio",
        "adjusted_count_rate": "adjusted count",
        "calibrated_rate": "calibrated probability sum",
        "stratified_rate": f"per-outlet P/R ratio (m = {result['prior_spans']:g})",
    }
    ranking = "; ".join(
        f"{name}: Spearman {result['ranking'][c]['spearman']:.3f}, "
        f"{'same' if result['ranking'][c]['same_order'] else 'different'} order, "
        f"{result['ranking'][c]['within_25']}/{result['ranking'][c]['n_outlets']} within 25 %"
        for c, name in names.items()
    )
    lines.append(
        f"\nSeed {result['seed']}: {result['train_sentences']} training / {result['test_sentences']} held-out sentences. "
        f"Cross-validated span precision {result['cv_precision']:.3f}, recall {result['cv_recall']:.3f} "
        f"(training part only). Against the experts' held-out rates — {ranking}."
    )
    return "\n".join(lines)


COLUMNS = {
    "training_expert": "experts of the training half (no model)",
    "model": "model, uncorrected",
    "pooled": "pooled P/R ratio",
    "adjusted_count": "adjusted count",
    "calibrated": "calibrated probability sum",
    "stratified": "per-outlet P/R ratio",
}
#: Outlets with fewer held-out sentences have experts' rates too noisy for a 25 % test (see docs/benchmarks.md).
MIN_SENTENCES = 40


def summary(results: list[dict]) -> str:
    """Per correction, over several splits: outlets within 25 % (large / small outlets), median error, Spearman."""
    lines = [
        f"| estimate | within 25 %, outlets with ≥ {MIN_SENTENCES} held-out sentences | within 25 %, smaller outlets "
        "| median relative error (≥ 40 sentences) | Spearman, mean (range) | same order |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for column, name in COLUMNS.items():
        rows = [r for res in results for r in res["table"] if r[f"{column}_rate"] is not None]
        large = [r[f"{column}_error"] for r in rows if r["sentences"] >= MIN_SENTENCES]
        small = [r[f"{column}_error"] for r in rows if r["sentences"] < MIN_SENTENCES]
        rho = [res["ranking"][f"{column}_rate"]["spearman"] for res in results]
        same = sum(res["ranking"][f"{column}_rate"]["same_order"] for res in results)
        lines.append(
            f"| {name} | {sum(e <= 0.25 for e in large)}/{len(large)} | {sum(e <= 0.25 for e in small)}/{len(small)} | "
            f"{np.median(large):.0%} | {np.mean(rho):.3f} ({min(rho):.3f}–{max(rho):.3f}) | {same}/{len(results)} |"
        )
    rows = [r for res in results for r in res["table"]]
    lines.append(
        "| outlet's true rate, if known (expected count) | "
        f"{sum(r['oracle_within_25'] for r in rows if r['sentences'] >= MIN_SENTENCES):.1f}/"
        f"{sum(r['sentences'] >= MIN_SENTENCES for r in rows)} | "
        f"{sum(r['oracle_within_25'] for r in rows if r['sentences'] < MIN_SENTENCES):.1f}/"
        f"{sum(r['sentences'] < MIN_SENTENCES for r in rows)} | | | |"
    )
    seeds = ", ".join(str(r["seed"]) for r in results)
    lines.append(f"\nSeeds {seeds}; per-outlet ratio with m = {results[0]['prior_spans']:g}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--test-share", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, nargs="+", help="run several splits and print a summary")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--prior-spans", type=float, default=DEFAULT_PRIOR_SPANS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    settings = dict(test_share=args.test_share, resamples=args.resamples, prior_spans=args.prior_spans)
    results = [run(args.csv, seed=seed, **settings) for seed in (args.seeds or [args.seed])]
    if args.json:
        args.json.write_text(json.dumps(results if args.seeds else results[0], indent=2))
    print(summary(results) if args.seeds else markdown(results[0]))


if __name__ == "__main__":
    main()
