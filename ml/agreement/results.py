"""Result dataclasses: plain fields, JSON-ready through ``dataclasses.asdict`` (no NaN, string keys)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Rounding slack: a value computed in floating point may land a hair outside [-1, 1].
_EPS = 1e-9


def checked_coefficient(value: float, *, measure: str) -> float:
    """Return ``value`` clipped to [-1, 1] if it is only rounding noise away, else raise.

    Every coefficient here is bounded by 1 above and by -1 below for the data it is defined on; a value
    outside that range means a bug, and we would rather fail loudly than store an implausible figure.
    """
    if not math.isfinite(value) or value > 1 + _EPS or value < -1 - _EPS:
        raise ArithmeticError(f"{measure} computed an impossible value {value!r}; this is a bug, please report it")
    return min(1.0, max(-1.0, float(value)))


@dataclass
class AgreementResult:
    """One chance-corrected coefficient over one slice of the data.

    Attributes
    ----------
    measure : str
        ``cohen_kappa``, ``fleiss_kappa``, ``krippendorff_alpha`` or ``unitizing_alpha``.
    unit : str
        What a unit is: ``token``, ``char`` ...
    value : float or None
        The coefficient; ``None`` when it is undefined on this data, and then ``reason`` says why.
    n_items : int
        Items (articles) that contributed at least one unit.
    n_units : int
        Units behind the figure (pairable tokens for alpha, co-annotated tokens for kappa, ...).
    observed, expected : float or None
        Observed and expected agreement (kappa) or disagreement (alpha) behind ``value``.
    reason : str or None
        Why ``value`` is None.
    categories : list of str
        The categories the units were sorted into.
    per_label : dict
        label -> the same measure on that label alone (binary: label present on the unit or not).
    per_pair : dict
        ``"a|b"`` -> the same measure restricted to one annotator pair.
    pair_mean : float or None
        Mean of the defined ``per_pair`` values (for Cohen's kappa this is Light's kappa).
    notes : list of str
        Caveats: dropped units, overlapping labels, inferred coverage ...
    """

    measure: str
    unit: str
    value: float | None
    n_items: int
    n_units: int
    observed: float | None = None
    expected: float | None = None
    reason: str | None = None
    categories: list[str] = field(default_factory=list)
    per_label: dict[str, AgreementResult] = field(default_factory=dict)
    per_pair: dict[str, AgreementResult] = field(default_factory=dict)
    pair_mean: float | None = None
    notes: list[str] = field(default_factory=list)


def mean_or_none(values: list[float | None]) -> float | None:
    """Mean of the values that are not None; None if there are none."""
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


@dataclass
class F1Score:
    """F1 of annotator b's spans against annotator a's (symmetric; precision and recall swap with the order).

    ``precision = matched / n_spans_b``, ``recall = matched / n_spans_a``,
    ``f1 = 2 * matched / (n_spans_a + n_spans_b)``; all None (with ``reason``) when neither has a span.
    """

    f1: float | None
    precision: float | None
    recall: float | None
    matched: int
    n_spans_a: int
    n_spans_b: int
    n_items: int
    reason: str | None = None

    @classmethod
    def from_counts(cls, *, matched: int, n_spans_a: int, n_spans_b: int, n_items: int) -> F1Score:
        if matched > min(n_spans_a, n_spans_b) or matched < 0:
            raise ArithmeticError(f"matched={matched} with {n_spans_a} and {n_spans_b} spans; this is a bug")
        total = n_spans_a + n_spans_b
        if total == 0:
            return cls(None, None, None, 0, 0, 0, n_items, reason="neither annotator marked a span")
        return cls(
            f1=2 * matched / total,
            precision=matched / n_spans_b if n_spans_b else None,
            recall=matched / n_spans_a if n_spans_a else None,
            matched=matched,
            n_spans_a=n_spans_a,
            n_spans_b=n_spans_b,
            n_items=n_items,
        )


@dataclass
class AveragedF1:
    """An F1 summarised over annotator pairs: the mean of the pairs' F1 and the pooled (micro) F1."""

    value: float | None
    n_pairs: int
    pooled: F1Score


@dataclass
class PairSpanF1:
    """Span F1 of one annotator pair over the items both completed."""

    annotator_a: str
    annotator_b: str
    micro: F1Score
    per_label: dict[str, F1Score] = field(default_factory=dict)


@dataclass
class SpanF1Result:
    """Span-level F1 between annotators under one matching rule.

    ``value`` is the mean over annotator pairs of each pair's micro F1 (pairs with no span at all are
    left out of the mean); ``pooled`` adds the counts of all pairs first.
    """

    match: str
    threshold: float | None
    overlap_measure: str | None
    value: float | None
    n_pairs: int
    n_items: int
    n_spans: int
    pooled: F1Score
    per_label: dict[str, AveragedF1] = field(default_factory=dict)
    per_pair: dict[str, PairSpanF1] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
