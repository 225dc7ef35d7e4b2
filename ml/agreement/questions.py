"""Agreement on the answers to one codebook question (or span attribute).

Units are what the question is asked of: articles, sentences, or the spans that two or more coders marked (an
attribute); each coder gives at most one value per unit. Which coefficients, by the question's kind:

* single choice: Krippendorff's alpha (nominal), Cohen's kappa per coder pair and their mean (Light's kappa),
  Fleiss' kappa, percent agreement;
* scale: the same with Krippendorff's alpha **ordinal** (the points' order counts; their spacing does not);
* multiple choice: each option becomes a yes/no question (chose it or not) with the nominal figures above, in
  ``per_option``; the headline figures pool every option's yes/no units. Per-option binary alpha, not MASI distance:
  each option's figure says which option coders read differently, it is what a per-option classifier learns from,
  and the coefficients stay the ones tested against the ``krippendorff`` package and scikit-learn;
* text: kept, not scored (``reason`` says so).

Percent agreement is over coder pairs: of all (unit, pair of coders who both answered it), the share with equal
values. Fleiss' kappa needs the same number of coders on every unit: it uses the units with the most common number
of coders (``fleiss_units`` says how many), and is undefined when fewer than two coders share a unit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from ml.agreement.coefficients import (
    MISSING,
    Coefficient,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha_nominal,
    krippendorff_alpha_ordinal,
    value_counts,
)

TEXT_NOT_SCORED = "free-text answers are kept, not scored"
KINDS = ("single", "multiple", "scale", "text")


@dataclass
class CategoricalAgreement:
    """The figures for one set of categorical ratings (a question, or one option of a multiple-choice question)."""

    krippendorff_alpha: float | None
    alpha_level: str  # nominal | ordinal
    cohen_kappa: float | None  # mean over coder pairs (Light's kappa)
    fleiss_kappa: float | None
    percent_agreement: float | None
    n_units: int  # pairable units (two or more coders)
    fleiss_units: int
    per_pair: dict[str, dict[str, Any]] = field(default_factory=dict)  # "a|b" -> kappa, percent, n_units
    reasons: dict[str, str] = field(default_factory=dict)  # measure -> why it is undefined


@dataclass
class QuestionAgreement:
    """Agreement on one question. ``figures`` is None for a text question (``reason`` says why)."""

    question: str
    kind: str
    n_items: int  # articles with a pairable unit
    n_coders: int
    figures: CategoricalAgreement | None
    per_option: dict[str, CategoricalAgreement] = field(default_factory=dict)
    reason: str | None = None


def _figures(codes: np.ndarray, coders: list, *, ordinal: bool, n_categories: int) -> CategoricalAgreement:
    """Every coefficient over a units x coders code matrix (-1 = no answer)."""
    reasons: dict[str, str] = {}
    alpha = (
        krippendorff_alpha_ordinal(codes, n_categories=n_categories) if ordinal else krippendorff_alpha_nominal(codes)
    )
    if alpha.value is None:
        reasons["krippendorff_alpha"] = alpha.reason or ""
    per_pair: dict[str, dict[str, Any]] = {}
    agree = total = 0
    for i, j in combinations(range(codes.shape[1]), 2):
        a, b = codes[:, i], codes[:, j]
        both = (a != MISSING) & (b != MISSING)
        n = int(both.sum())
        if not n:
            continue
        same = int((a[both] == b[both]).sum())
        agree, total = agree + same, total + n
        kappa = cohen_kappa(a, b)
        per_pair[f"{coders[i]}|{coders[j]}"] = {
            "cohen_kappa": kappa.value, "percent_agreement": same / n, "n_units": n, "reason": kappa.reason,
        }  # fmt: skip
    kappas = [p["cohen_kappa"] for p in per_pair.values() if p["cohen_kappa"] is not None]
    if not kappas:
        reasons["cohen_kappa"] = "no coder pair has a defined kappa (too few shared units, or no variation)"
    fleiss, fleiss_units = _fleiss(codes, n_categories)
    if fleiss.value is None:
        reasons["fleiss_kappa"] = fleiss.reason or ""
    return CategoricalAgreement(
        krippendorff_alpha=alpha.value,
        alpha_level="ordinal" if ordinal else "nominal",
        cohen_kappa=float(np.mean(kappas)) if kappas else None,
        fleiss_kappa=fleiss.value,
        percent_agreement=agree / total if total else None,
        n_units=alpha.n_units,
        fleiss_units=fleiss_units,
        per_pair=per_pair,
        reasons=reasons,
    )


def _fleiss(codes: np.ndarray, n_categories: int) -> tuple[Coefficient, int]:
    counts = np.count_nonzero(codes != MISSING, axis=1)
    common = Counter(int(c) for c in counts if c >= 2).most_common(1)
    if not common:
        return Coefficient(None, None, None, 0, reason="no unit was answered by two or more coders"), 0
    m = common[0][0]
    rows = codes[counts == m]
    table = np.zeros((rows.shape[0], max(n_categories, 1)), dtype=np.int64)
    counted = value_counts(rows)
    table[:, : counted.shape[1]] = counted
    return fleiss_kappa(table), int(rows.shape[0])


def question_agreement(
    *,
    question: str,
    kind: str,
    options: list[str],
    ratings: dict[tuple, dict[Any, Any]],
    item_of: dict[tuple, Any] | None = None,
) -> QuestionAgreement:
    """Agreement on one question.

    Parameters
    ----------
    question : str
        The question's name (for the result).
    kind : {"single", "multiple", "scale", "text"}
    options : list of str
        The option values in order (a scale's from its lowest point to its highest).
    ratings : dict
        unit -> {coder: value}; a value is an option value (a list of them for multiple choice). Units answered by
        fewer than two coders count for nothing but are allowed.
    item_of : dict, optional
        unit -> item (article) it belongs to, for ``n_items``; by default a unit's first element.

    Examples
    --------
    >>> r = {("a1",): {"ann": "eco", "bob": "eco"}, ("a2",): {"ann": "sec", "bob": "eco"},
    ...      ("a3",): {"ann": "sec", "bob": "sec"}}
    >>> result = question_agreement(question="frame", kind="single", options=["eco", "sec"], ratings=r)
    >>> round(result.figures.percent_agreement, 3), round(result.figures.cohen_kappa, 3)
    (0.667, 0.4)
    """
    if kind not in KINDS:
        raise ValueError(f"unknown question kind {kind!r}; known: {', '.join(KINDS)}")
    coders = sorted({c for answers in ratings.values() for c in answers}, key=str)
    units = [u for u, answers in ratings.items() if len(answers) >= 2]
    items = {(item_of or {}).get(u, u[0] if isinstance(u, tuple) and u else u) for u in units}
    result = QuestionAgreement(question=question, kind=kind, n_items=len(items), n_coders=len(coders), figures=None)
    if kind == "text":
        result.reason = TEXT_NOT_SCORED
        return result
    column = {c: i for i, c in enumerate(coders)}
    if kind == "multiple":
        stacked = []
        for option in options:
            codes = np.full((len(units), len(coders)), MISSING, dtype=np.int64)
            for row, unit in enumerate(units):
                for coder, value in ratings[unit].items():
                    codes[row, column[coder]] = int(option in (value or []))
            result.per_option[option] = _figures(codes, coders, ordinal=False, n_categories=2)
            stacked.append(codes)
        pooled = np.vstack(stacked) if stacked else np.empty((0, len(coders)), dtype=np.int64)
        result.figures = _figures(pooled, coders, ordinal=False, n_categories=2)
        return result
    index = {value: i for i, value in enumerate(options)}
    codes = np.full((len(units), len(coders)), MISSING, dtype=np.int64)
    for row, unit in enumerate(units):
        for coder, value in ratings[unit].items():
            if value in index:
                codes[row, column[coder]] = index[value]
    result.figures = _figures(codes, coders, ordinal=kind == "scale", n_categories=len(options))
    return result
