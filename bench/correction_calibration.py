"""Calibration of the per-outlet error correction (``ml.stats.StratifiedErrors``): bias and coverage per outlet.

    .venv/bin/python -m bench.correction_calibration [--studies 400] [--resamples 400] [--seed 0] [--markdown]

Each simulated study has eight outlets. Six "ordinary" outlets have true rates of 16–24 loaded terms per 1,000
tokens and model false positives at 4–8 per 1,000 (gold spans per predicted span 1.0–1.5); the model finds half of
the true spans everywhere. One outlet's precision differs from the pool: "neutral" (5 true per 1,000, 10 false
positives: 0.4 gold spans per predicted span, a third of the pool's) or "sloppy" (20 true, 16 false positives: 0.77).
An eighth outlet has no cross-validated articles at all. Article lengths are uniform on 80–599 tokens, and a
Gamma(2, 0.5) "heat" multiplies both rates per article, so spans cluster in articles. Every ordinary outlet has 40
cross-validated articles; the differing outlet has 10 or 40; every outlet has 200 scored articles. The corrected rate
is compared with the outlet's true rate (the expected spans per 1,000 tokens): bias is the mean relative error over
the studies, coverage the share of studies whose 95 % interval holds the truth. Settings are paired (the same seeds
for every correction), studies are seeded ``seed + study``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import UTC, datetime

import numpy as np

from ml.stats import ArticleCounts, StratifiedErrors, group_rates

RECALL = 0.5
ORDINARY = {f"o{i}": (rate, fp) for i, (rate, fp) in enumerate(
    [(0.020, 0.004), (0.016, 0.006), (0.024, 0.008), (0.020, 0.006), (0.018, 0.005), (0.022, 0.007)]
)}  # fmt: skip
DIFFERS = {"neutral": (0.005, 0.010), "sloppy": (0.020, 0.016)}
UNLABELLED = ("unlabelled", (0.020, 0.0055))
CORRECTIONS = {"empirical Bayes": None, "fixed m = 20": 20.0, "own ratio (m = 0)": 0.0}


def articles(rng: np.random.Generator, params: dict[str, tuple[float, float]], n: dict[str, int]) -> dict:
    outlets = np.concatenate([np.repeat(o, n[o]) for o in params])
    tokens = rng.integers(80, 600, len(outlets))
    heat = rng.gamma(2.0, 0.5, len(outlets))
    true_rate = np.array([params[o][0] for o in outlets]) * heat
    fp_rate = np.array([params[o][1] for o in outlets]) * heat
    gold = rng.poisson(true_rate * tokens)
    predicted = rng.binomial(gold, RECALL) + rng.poisson(fp_rate * tokens)
    return {"outlet": outlets, "tokens": tokens, "gold": gold, "predicted": predicted}


def study(seed: int, *, differs: str, n_cv: int, resamples: int) -> dict[str, dict[str, tuple]]:
    rng = np.random.default_rng(seed)
    params = {**ORDINARY, differs: DIFFERS[differs]}
    cv = articles(rng, params, {o: (n_cv if o == differs else 40) for o in params})
    every = {**params, UNLABELLED[0]: UNLABELLED[1]}
    corpus = articles(rng, every, dict.fromkeys(every, 200))
    counts = ArticleCounts(groups=corpus["outlet"], n_tokens=corpus["tokens"], n_spans=corpus["predicted"])
    out = {}
    for name, prior in CORRECTIONS.items():
        errors = StratifiedErrors(strata=cv["outlet"], gold=cv["gold"], predicted=cv["predicted"], prior_spans=prior)
        if prior == 0:  # no pooling: an outlet without cross-validated articles has no correction at all
            keep = np.isin(corpus["outlet"], list(params))
            counts_used = ArticleCounts(
                groups=corpus["outlet"][keep], n_tokens=corpus["tokens"][keep], n_spans=corpus["predicted"][keep]
            )
        else:
            counts_used = counts
        rates = group_rates(counts_used, errors=errors, n_resamples=resamples, seed=seed)
        out[name] = {
            o: (
                r.corrected_rate, r.corrected_rate_ci_low, r.corrected_rate_ci_high,
                errors.for_stratum(o).method, errors.for_stratum(o).warning,
            )
            for o, r in rates.items()
        }  # fmt: skip
    return out


def run(*, studies: int, resamples: int, seed: int) -> list[dict]:
    rows = []
    for differs in DIFFERS:
        for n_cv in (10, 40):
            results = [study(seed + s, differs=differs, n_cv=n_cv, resamples=resamples) for s in range(studies)]
            for name in CORRECTIONS:
                for outlet in (differs, "o0", UNLABELLED[0]):
                    truth = 1000 * {**ORDINARY, **DIFFERS, UNLABELLED[0]: UNLABELLED[1]}[outlet][0]
                    got = [r[name][outlet] for r in results if outlet in r[name]]
                    if not got:
                        continue
                    est = np.array([g[0] for g in got])
                    covered = np.mean([g[1] <= truth <= g[2] for g in got])
                    rows.append(
                        {
                            "differs": differs, "n_cv": n_cv, "correction": name, "outlet": outlet,
                            "bias": float(np.mean(est) / truth - 1), "coverage": float(covered),
                            "median_width": float(np.median([(g[2] - g[1]) / truth for g in got])),
                            "labelled_pooled": all(g[3].startswith("pooled") and g[4] for g in got),
                            "method_example": got[0][3],
                        }
                    )  # fmt: skip
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "| differing outlet | its CV articles | correction | outlet | bias | 95 % coverage | median width (× truth) |",
        "|---|---:|---|---|---:|---:|---:|",
    ]
    for r in rows:
        name = r["outlet"] if r["outlet"] != "o0" else "o0 (ordinary)"
        if r["outlet"] == UNLABELLED[0]:
            name += " (labelled pooled in every row)" if r["labelled_pooled"] else " (NOT always labelled)"
        lines.append(
            f"| {r['differs']} | {r['n_cv']} | {r['correction']} | {name} | {r['bias']:+.1%} | {r['coverage']:.1%} "
            f"| {r['median_width']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--studies", type=int, default=400)
    parser.add_argument("--resamples", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started, load = time.perf_counter(), os.getloadavg()
    rows = run(studies=args.studies, resamples=args.resamples, seed=args.seed)
    print(markdown(rows))
    print(
        f"\n{args.studies} studies per setting, {args.resamples} resamples, seed {args.seed}; "
        f"{time.perf_counter() - started:.0f} s on {platform.node()} ({os.cpu_count()} cores), "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    )
    for r in rows:
        if r["outlet"] == UNLABELLED[0] and r["correction"] == "empirical Bayes":
            print("example method of the unlabelled outlet:", r["method_example"])
            break


if __name__ == "__main__":
    main()
