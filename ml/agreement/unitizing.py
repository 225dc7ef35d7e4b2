"""Krippendorff's unitizing alpha (alpha_u) for one label's units on a continuum of characters or tokens.

Definitions follow Krippendorff (1995, 2004) as implemented by DKPro Statistics'
``KrippendorffAlphaUnitizingAgreement``; the worked examples of Krippendorff (1995: p. 57) and
Krippendorff (2004: p. 254) are reproduced in ``tests/ml/test_agreement_unitizing.py``.

Every annotator splits the continuum [B, B + L) into *units* (their spans of the label) and *gaps*
(everything else). For two annotators' sections g = (b_g, l_g) and h = (b_h, l_h) the squared distance is

* both units that overlap: ``(b_g - b_h)^2 + (b_g + l_g - b_h - l_h)^2``;
* a unit lying entirely inside the other's gap: ``l_unit^2``;
* otherwise 0.

``D_o = sum over ordered pairs of annotators i != j and their sections of delta^2 / (m (m - 1) L^2)`` and
``D_e = 2 / L * sum_units [ (N - 1) (2 l^3 - 3 l^2 + l) / 3 + l^2 sum_{gaps G >= l} (G - l + 1) ]
/ (m L (m L - 1) - sum_units l (l - 1))`` with N units of the label over all m annotators. ``alpha_u =
1 - D_o / D_e``; several labels are pooled DKPro's way, ``1 - sum D_o / sum D_e``.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

import numpy as np

from ml.agreement.data import AgreementInputError, AnnotationSet, Annotator, pair_key
from ml.agreement.results import AgreementResult, checked_coefficient, mean_or_none
from ml.tokenise import token_spans

UNIT_KINDS = ("char", "token")
BELOW_MINUS_ONE = "below -1: systematic disagreement (alpha_u is not bounded by -1; this is not a rounding error)"


@dataclass(frozen=True)
class UnitizingCoefficient:
    """alpha_u of one label: ``value = 1 - observed / expected`` (None when expected is 0)."""

    value: float | None
    observed: float
    expected: float
    n_units: int
    reason: str | None = None


def _merge(units: Sequence[tuple[int, int]]) -> tuple[list[tuple[int, int]], int]:
    """Sort and merge overlapping ranges of one annotator (adjacent ranges stay separate units)."""
    merged: list[tuple[int, int]] = []
    n_merged = 0
    for start, end in sorted(units):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            n_merged += 1
        else:
            merged.append((start, end))
    return merged, n_merged


def _sections(units: list[tuple[int, int]], begin: int, stop: int) -> list[tuple[int, int, bool]]:
    """(begin, length, is_unit) sections covering [begin, stop): the units and the gaps between them."""
    out: list[tuple[int, int, bool]] = []
    pos = begin
    for start, end in units:
        if start > pos:
            out.append((pos, start - pos, False))
        out.append((start, end - start, True))
        pos = end
    if pos < stop:
        out.append((pos, stop - pos, False))
    return out


def _delta(g: tuple[int, int, bool], h: tuple[int, int, bool]) -> int:
    b1, l1, u1 = g
    b2, l2, u2 = h
    if u1 and u2:
        if -l1 < b1 - b2 < l2:
            return (b1 - b2) ** 2 + (b1 + l1 - b2 - l2) ** 2
        return 0
    if u1 and not u2 and b2 <= b1 and b1 + l1 <= b2 + l2:
        return l1 * l1
    if u2 and not u1 and b1 <= b2 and b2 + l2 <= b1 + l1:
        return l2 * l2
    return 0


def _observed_sum(first: list[tuple[int, int, bool]], second: list[tuple[int, int, bool]]) -> int:
    """Sum of delta^2 over every pair of intersecting sections (non-intersecting pairs contribute 0)."""
    total, i, j = 0, 0, 0
    while i < len(first) and j < len(second):
        total += _delta(first[i], second[j])
        end1 = first[i][0] + first[i][1]
        end2 = second[j][0] + second[j][1]
        if end1 <= end2:
            i += 1
        if end2 <= end1:
            j += 1
    return total


def unitizing_alpha_category(
    units_by_annotator: Sequence[Sequence[tuple[int, int]]], *, begin: int, length: int
) -> UnitizingCoefficient:
    """alpha_u of one category.

    Parameters
    ----------
    units_by_annotator : sequence (one per annotator) of sequences of ``(start, end)``
        Half-open unit ranges inside ``[begin, begin + length)``; overlapping ranges of one annotator are
        merged first (adjacent ones stay separate). Every annotator is taken to have coded the whole continuum.
    begin, length : int
        The continuum.
    """
    m = len(units_by_annotator)
    if m < 2:
        raise AgreementInputError(f"unitizing alpha needs at least 2 annotators, got {m}")
    if not isinstance(length, int) or length < 1:
        raise AgreementInputError(f"the continuum length must be a positive integer, got {length!r}")
    stop = begin + length
    merged = []
    for units in units_by_annotator:
        for start, end in units:
            if not (begin <= start < end <= stop):
                raise AgreementInputError(f"unit ({start}, {end}) is empty or outside the continuum [{begin}, {stop})")
        merged.append(_merge(units)[0])
    sections = [_sections(u, begin, stop) for u in merged]
    observed = sum(_observed_sum(sections[i], sections[j]) for i, j in combinations(range(m), 2))
    d_o = Fraction(2 * observed, m * (m - 1) * length * length)
    lengths = [end - start for units in merged for start, end in units]
    n_units = len(lengths)
    gaps = sorted(sec[1] for secs in sections for sec in secs if not sec[2])
    suffix = [0] * (len(gaps) + 1)  # suffix[k] = sum(gaps[k:])
    for k in range(len(gaps) - 1, -1, -1):
        suffix[k] = suffix[k + 1] + gaps[k]
    numerator = 0
    for ell in lengths:
        k = bisect.bisect_left(gaps, ell)  # gaps[k:] are the gaps at least as long as the unit
        fitting = len(gaps) - k
        numerator += (n_units - 1) * ell * (ell - 1) * (2 * ell - 1) // 3  # (2l^3 - 3l^2 + l) / 3, exact
        numerator += ell * ell * (suffix[k] - (ell - 1) * fitting)
    denominator = m * length * (m * length - 1) - sum(ell * (ell - 1) for ell in lengths)
    d_e = Fraction(2 * numerator, length * denominator) if denominator > 0 else Fraction(0)
    if d_e == 0:
        reason = "no unit of this label" if n_units == 0 else "no variation possible: expected disagreement is 0"
        return UnitizingCoefficient(None, float(d_o), 0.0, n_units, reason=reason)
    raw = 1 - d_o / d_e
    if raw < -1:
        # Unlike kappa, alpha_u has no floor at -1: D_o can exceed twice D_e when annotators systematically
        # disagree. Report the figure as computed, with the reason saying so.
        return UnitizingCoefficient(float(raw), float(d_o), float(d_e), n_units, reason=BELOW_MINUS_ONE)
    value = checked_coefficient(float(raw), measure="unitizing alpha")
    return UnitizingCoefficient(value, float(d_o), float(d_e), n_units)


def _continuum(data: AnnotationSet, items: list, unit: str, cache: dict) -> tuple[list[int], list[np.ndarray | None]]:
    """Length of each item on the continuum and, for tokens, the token bounds used to map spans."""
    if unit == "char":
        return [len(data.texts[i]) for i in items], [None] * len(items)
    for item in items:
        if item not in cache:
            cache[item] = np.asarray(token_spans(data.texts[item]), dtype=np.int64).reshape(-1, 2)
    bounds = [cache[i] for i in items]
    return [int(b.shape[0]) for b in bounds], bounds


def _collect_units(
    data: AnnotationSet, items: list, chosen: list, offsets: list[int], bounds: list[np.ndarray | None]
) -> tuple[dict[str, list[list[tuple[int, int]]]], int]:
    """label -> per annotator -> units on the continuum; and the number of spans that map to no token."""
    units: dict[str, list[list[tuple[int, int]]]] = {label: [[] for _ in chosen] for label in data.labels}
    n_dropped = 0
    for k, item in enumerate(items):
        for r, annotator in enumerate(chosen):
            spans = data.spans_of(item_id=item, annotator=annotator)
            if not spans:
                continue
            starts = np.array([s.start for s in spans], dtype=np.int64)
            ends = np.array([s.end for s in spans], dtype=np.int64)
            if bounds[k] is not None:
                # Tokens sharing a character with the span: token.end > start and token.start < end.
                starts = np.searchsorted(bounds[k][:, 1], starts, side="right")
                ends = np.searchsorted(bounds[k][:, 0], ends, side="left")
            for span, start, end in zip(spans, starts.tolist(), ends.tolist(), strict=True):
                if start >= end:
                    n_dropped += 1
                    continue
                units[span.label][r].append((offsets[k] + start, offsets[k] + end))
    return units, n_dropped


def unitizing_alpha(
    data: AnnotationSet,
    *,
    unit: str = "char",
    annotators: Sequence[Annotator] | None = None,
    per_pair: bool = True,
    _token_cache: dict | None = None,
) -> AgreementResult:
    """alpha_u per label and pooled, over the items every chosen annotator completed, laid end to end.

    Parameters
    ----------
    unit : {"char", "token"}
        The continuum: code points of the texts, or ``ml.tokenise`` words (a span covers the words it shares
        a character with; spans covering no word are dropped and counted in the notes).
    annotators : sequence, optional
        Default all. alpha_u allows no missing data, so only items completed by all of them are used; with
        designs where each item has k of n annotators, look at ``per_pair`` (each pair on its common items).
    """
    if unit not in UNIT_KINDS:
        raise AgreementInputError(f"unit must be one of {UNIT_KINDS}, got {unit!r}")
    chosen = list(data.annotators if annotators is None else annotators)
    unknown = [x for x in chosen if x not in data.annotators]
    if unknown:
        raise AgreementInputError(f"unknown annotator(s) {unknown!r}; known: {list(data.annotators)!r}")
    items = data.items_covered_by(chosen) if len(chosen) >= 2 else []
    cache = {} if _token_cache is None else _token_cache
    lengths, bounds = _continuum(data, items, unit, cache)
    offsets = [0, *np.cumsum(lengths).tolist()]
    total = int(offsets[-1])
    result = AgreementResult(measure="unitizing_alpha", unit=unit, value=None, n_items=len(items), n_units=0)
    result.notes = data.notes() + ["items are laid end to end on one continuum"]
    if len(chosen) < 2 or total == 0:
        result.reason = "fewer than two annotators" if len(chosen) < 2 else "no item completed by all the annotators"
        return result
    units, n_dropped = _collect_units(data, items, chosen, offsets, bounds)
    sum_o = sum_e = 0.0
    n_merged = 0
    for label, by_annotator in units.items():
        n_merged += sum(_merge(u)[1] for u in by_annotator)
        coefficient = unitizing_alpha_category(by_annotator, begin=0, length=total)
        sum_o += coefficient.observed
        sum_e += coefficient.expected
        result.per_label[label] = AgreementResult(
            measure="unitizing_alpha",
            unit=unit,
            value=coefficient.value,
            n_items=len(items),
            n_units=coefficient.n_units,
            observed=coefficient.observed,
            expected=coefficient.expected,
            reason=coefficient.reason,
        )
    result.n_units = sum(r.n_units for r in result.per_label.values())
    result.observed, result.expected = sum_o, sum_e
    if sum_e > 0:
        result.value = 1.0 - sum_o / sum_e
    else:
        result.reason = "no unit of any label"
    if n_dropped:
        result.notes.append(f"{n_dropped} span(s) cover no word token and were dropped")
    if n_merged:
        result.notes.append(f"{n_merged} overlapping same-label span(s) of one annotator were merged")
    if per_pair and len(chosen) > 2:
        for a, b in combinations(chosen, 2):
            result.per_pair[pair_key(a, b)] = unitizing_alpha(
                data, unit=unit, annotators=[a, b], per_pair=False, _token_cache=cache
            )
        result.pair_mean = mean_or_none([r.value for r in result.per_pair.values()])
    return result
