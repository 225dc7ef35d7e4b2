"""Calibration of the framing statistics by simulation (issue 22): type-I error and power of outlet comparisons,
coverage of 95 % intervals of rates, shares and term-choice shares by group size, zero-width intervals.

OPENBLAS_NUM_THREADS=1 .venv/bin/python -m bench.stats_calibration [--studies 600] [--write]

The corpora are those of ``ml.stats.calibration`` (known truth, seeds fixed). ``--write`` replaces the marked
tables in docs/statistics.md and docs/benchmarks.md. Floors: type-I error within 0.03-0.07 in every comparison
setting (raw and corrected); coverage 93-97 % from 20 articles, >= 90 % at 5 (even articles); no zero-width interval.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ml.stats.calibration import (
    EVEN,
    UNEVEN,
    VERY_UNEVEN,
    Setting,
    comparison_p_values,
    rate_coverage,
    variant_coverage,
)

ROOT = Path(__file__).resolve().parent.parent
ALPHA = 0.05
EFFECT = 1.5  # power: group a's rate 1.5 times b's (6 vs 4 per 1,000 tokens)
SETTINGS = [
    Setting("15 uneven vs 400 even", 15, UNEVEN, 400, EVEN),
    Setting("100 uneven vs 1,000 even", 100, UNEVEN, 1000, EVEN),
    Setting("30 uneven vs 300 even", 30, UNEVEN, 300, EVEN),
    Setting("40 uneven vs 40 even (dispersion)", 40, UNEVEN, 40, EVEN),
    Setting("40 vs 40, alike (even)", 40, EVEN, 40, EVEN),
    Setting("40 vs 40, alike (uneven)", 40, UNEVEN, 40, UNEVEN),
]
#: Reported without a floor: spans very unevenly spread (Gamma(0.5) article multiplier).
EXTRA_SETTINGS = [
    Setting("15 very uneven vs 400 even", 15, VERY_UNEVEN, 400, EVEN),
    Setting("40 very uneven vs 40 even", 40, VERY_UNEVEN, 40, EVEN),
]
SIZES = [2, 3, 5, 10, 20, 80]


def _rejections(p: np.ndarray) -> float:
    return float(np.mean(p <= ALPHA))


def comparisons(studies: int, power_studies: int, old_studies: int) -> list[dict]:
    rows = []
    for k, setting in enumerate(SETTINGS + EXTRA_SETTINGS):
        floor = setting in SETTINGS
        start = time.perf_counter()
        raw = comparison_p_values(setting, studies=studies, seed=100 + k)
        corrected = comparison_p_values(setting, studies=studies, seed=100 + k, corrected=True)
        power = comparison_p_values(setting, studies=power_studies, seed=200 + k, effect=EFFECT)
        old = comparison_p_values(setting, studies=old_studies, seed=300 + k, test="permutation", n_permutations=199)
        row = {
            "setting": setting.name,
            "floor": floor,
            "type1_raw": _rejections(raw),
            "type1_corrected": _rejections(corrected),
            "power": _rejections(power),
            "type1_old_permutation": _rejections(old),
            "seconds": time.perf_counter() - start,
        }
        print(row, flush=True)
        rows.append(row)
    return rows


def coverage(studies: int) -> list[dict]:
    rows = []
    for n in SIZES:
        for label, dispersion in (("even", EVEN), ("uneven", UNEVEN)):
            new = rate_coverage(n, studies=studies, seed=1000 + n, dispersion=dispersion)
            old = rate_coverage(n, studies=studies, seed=1000 + n, dispersion=dispersion, method="percentile")
            row = {"n": n, "articles": label, **new, "old_rate": old["rate"], "old_share": old["share"]}
            row["old_zero_width"] = old["zero_width"]
            print(row, flush=True)
            rows.append(row)
    return rows


def term_choice(studies: int) -> list[dict]:
    rows = []
    for n in SIZES[1:]:
        new = variant_coverage(n, studies=studies, seed=2000 + n)
        old = variant_coverage(n, studies=studies, seed=2000 + n, method="percentile")
        row = {"n": n, **new, **{f"old_{k}": v for k, v in old.items()}}
        print(row, flush=True)
        rows.append(row)
    return rows


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _band(text: str, value: float, n: int) -> list[tuple[str, bool]]:
    if n >= 20:
        return [(f"{text} at {n} articles: {_pct(value)}", 0.93 <= value <= 0.97)]
    if n == 5:
        return [(f"{text} at 5 articles: {_pct(value)}", value >= 0.90)]
    return []


def floors(comp: list[dict], cov: list[dict], terms: list[dict]) -> list[tuple[str, bool]]:
    out = []
    for r in (r for r in comp if r["floor"]):
        for key in ("type1_raw", "type1_corrected"):
            out.append((f"type-I {key[6:]} {r['setting']}: {r[key]:.3f}", 0.03 <= r[key] <= 0.07))
    for r in (r for r in cov if r["articles"] == "even"):
        out += _band("rate coverage", r["rate"], r["n"]) + _band("share coverage", r["share"], r["n"])
    for r in terms:
        for key in ("share_0.6", "share_0.3", "share_0.1"):
            out += _band(f"term-choice {key} coverage", r[key], r["n"])
    zero = sum(r["zero_width"] for r in cov) + sum(r["zero_width"] for r in terms)
    out.append((f"zero-width intervals from data: {zero}", zero == 0))
    return out


def tables(comp, cov, terms, *, studies, power_studies, old_studies, cov_studies) -> str:
    lines = [
        f"Comparisons ({studies} studies per setting for type-I error, {power_studies} for power at a 1.5× rate, "
        f"{old_studies} for the old permutation test; 499 null resamples per test; α = 0.05):",
        "",
        "| setting | type-I, raw | type-I, corrected | power (rate × 1.5) | type-I, old permutation test |",
        "|---|---|---|---|---|",
    ]
    for r in comp:
        name = r["setting"] + ("" if r["floor"] else " (no floor)")
        lines.append(
            f"| {name} | {r['type1_raw']:.3f} | {r['type1_corrected']:.3f} | {r['power']:.2f} | "
            f"{r['type1_old_permutation']:.3f} |"
        )
    lines += [
        "",
        f"Coverage of 95 % intervals ({cov_studies} groups per cell; new = effective-count intervals, old = "
        "percentile bootstrap; zero-width = intervals of width 0 among rate and share intervals):",
        "",
        "| articles per group | spans over articles | rate, new | rate, old | share of articles, new | share, old | "
        "zero-width new / old |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in cov:
        lines.append(
            f"| {r['n']} | {r['articles']} | {_pct(r['rate'])} | {_pct(r['old_rate'])} | {_pct(r['share'])} | "
            f"{_pct(r['old_share'])} | {r['zero_width']} / {r['old_zero_width']} |"
        )
    lines += [
        "",
        f"Term choice ({cov_studies} groups per size; true shares 0.6 / 0.3 / 0.1; groups without a mention left out):",
        "",
        "| articles per group | 0.6, new | 0.3, new | 0.1, new | 0.6, old | 0.3, old | 0.1, old | zero-width new / old |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in terms:
        lines.append(
            f"| {r['n']} | {_pct(r['share_0.6'])} | {_pct(r['share_0.3'])} | {_pct(r['share_0.1'])} | "
            f"{_pct(r['old_share_0.6'])} | {_pct(r['old_share_0.3'])} | {_pct(r['old_share_0.1'])} | "
            f"{r['zero_width']} / {r['old_zero_width']} |"
        )
    return "\n".join(lines)


def _replace_block(path: Path, name: str, body: str) -> None:
    text = path.read_text()
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{body}\n{end}"
    if begin in text:
        text = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--studies", type=int, default=600, help="studies per comparison setting (type-I error)")
    parser.add_argument("--power-studies", type=int, default=400)
    parser.add_argument("--old-studies", type=int, default=400)
    parser.add_argument("--coverage-studies", type=int, default=1000)
    parser.add_argument("--write", action="store_true", help="write the tables into docs/")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    comp = comparisons(args.studies, args.power_studies, args.old_studies)
    cov = coverage(args.coverage_studies)
    terms = term_choice(args.coverage_studies)
    seconds = time.perf_counter() - t0
    load_after = os.getloadavg()[0]
    checks = floors(comp, cov, terms)
    for text, ok in checks:
        print(("PASS " if ok else "FAIL ") + text)
    body = tables(
        comp, cov, terms, studies=args.studies, power_studies=args.power_studies, old_studies=args.old_studies,
        cov_studies=args.coverage_studies,
    )  # fmt: skip
    print(body)
    if not args.write:
        return
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    header = (
        f"Command: `OPENBLAS_NUM_THREADS=1 .venv/bin/python -m bench.stats_calibration --studies {args.studies} "
        f"--write`; {started:%d %b %Y %H:%M} UTC, commit {commit.strip()}, {machine}; load average "
        f"{load_before:.1f} at the start, {load_after:.1f} at the end (shared machine); {seconds / 60:.1f} min."
    )
    _replace_block(ROOT / "docs/statistics.md", "stats_calibration", header + "\n\n" + body)
    failed = [text for text, ok in checks if not ok]
    summary = [
        "## Statistics calibration (issue 22)",
        "",
        header,
        "",
        "| floor | figure | met |",
        "|---|---|---|",
    ]
    for text, ok in checks:
        what, _, figure = text.rpartition(": ")
        summary.append(f"| {what} | {figure} | {'yes' if ok else 'NO'} |")
    summary += [
        "",
        f"{len(checks) - len(failed)} of {len(checks)} floors met. Tables: docs/statistics.md § Calibration.",
    ]
    _replace_block(ROOT / "docs/benchmarks.md", "stats_calibration", "\n".join(summary))


if __name__ == "__main__":
    main()
