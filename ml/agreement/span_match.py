"""Span-level F1 between annotators: exact, overlap and boundary-tolerant matching.

Two spans can match only if they have the same label and come from different annotators on the same item.
Matching is one-to-one: a maximum-cardinality matching of the candidate pairs (ties broken towards the
larger overlap), so one long span cannot be credited against several short ones.

Rules
-----
* ``exact``: same ``start`` and ``end``.
* ``overlap``: the spans share at least one character.
* ``tolerant``: ``overlap_ratio(a, b) >= threshold`` where the ratio is, by ``overlap_measure``,
  ``jaccard`` = |a ∩ b| / |a ∪ b|, ``dice`` = 2 |a ∩ b| / (|a| + |b|), or ``min`` = |a ∩ b| / min(|a|, |b|)
  (lengths in characters). ``jaccard`` with threshold 1 is the exact rule.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np

from ml.agreement.data import AgreementInputError, AnnotationSet, Annotator, pair_key, sorted_ids
from ml.agreement.results import AveragedF1, F1Score, PairSpanF1, SpanF1Result, mean_or_none


class MatchRule(enum.Enum):
    EXACT = "exact"
    OVERLAP = "overlap"
    TOLERANT = "tolerant"


def _jaccard(inter: np.ndarray, len_a: np.ndarray, len_b: np.ndarray) -> np.ndarray:
    return inter / (len_a + len_b - inter)


def _dice(inter: np.ndarray, len_a: np.ndarray, len_b: np.ndarray) -> np.ndarray:
    return 2 * inter / (len_a + len_b)


def _min(inter: np.ndarray, len_a: np.ndarray, len_b: np.ndarray) -> np.ndarray:
    return inter / np.minimum(len_a, len_b)


OVERLAP_MEASURES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "jaccard": _jaccard,
    "dice": _dice,
    "min": _min,
}


def _check_rule(match: MatchRule | str, threshold: float, overlap_measure: str) -> MatchRule:
    try:
        rule = MatchRule(match)
    except ValueError as exc:
        raise AgreementInputError(f"match must be one of {[r.value for r in MatchRule]}, got {match!r}") from exc
    if overlap_measure not in OVERLAP_MEASURES:
        raise AgreementInputError(f"overlap_measure must be one of {sorted(OVERLAP_MEASURES)}, got {overlap_measure!r}")
    if not isinstance(threshold, int | float) or not 0 < threshold <= 1:
        raise AgreementInputError(f"threshold must be a number in (0, 1], got {threshold!r}")
    return rule


def overlap_ratios(
    a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]], *, overlap_measure: str = "jaccard"
) -> np.ndarray:
    """len(a) x len(b) matrix of overlap ratios between half-open ranges (0 where they do not overlap)."""
    if overlap_measure not in OVERLAP_MEASURES:
        raise AgreementInputError(f"overlap_measure must be one of {sorted(OVERLAP_MEASURES)}, got {overlap_measure!r}")
    sa = np.asarray(a, dtype=np.float64).reshape(-1, 2)
    sb = np.asarray(b, dtype=np.float64).reshape(-1, 2)
    inter = np.minimum(sa[:, None, 1], sb[None, :, 1]) - np.maximum(sa[:, None, 0], sb[None, :, 0])
    inter = np.clip(inter, 0, None)
    len_a = (sa[:, 1] - sa[:, 0])[:, None]
    len_b = (sb[:, 1] - sb[:, 0])[None, :]
    return OVERLAP_MEASURES[overlap_measure](inter, len_a, len_b)


def match_spans(
    a: Sequence[tuple[int, int]],
    b: Sequence[tuple[int, int]],
    *,
    match: MatchRule | str = MatchRule.OVERLAP,
    threshold: float = 0.5,
    overlap_measure: str = "jaccard",
) -> list[tuple[int, int]]:
    """One-to-one matching of the ranges ``a`` and ``b`` (same label assumed) under a rule.

    Returns
    -------
    list of (i, j)
        Indices into ``a`` and ``b`` of matched pairs, as many as possible; among maximum matchings the one
        with the largest total overlap ratio.

    Examples
    --------
    >>> match_spans([(0, 4), (10, 20)], [(0, 5), (30, 35)], match="overlap")
    [(0, 0)]
    """
    rule = _check_rule(match, threshold, overlap_measure)
    if not len(a) or not len(b):
        return []
    ratio = overlap_ratios(a, b, overlap_measure=overlap_measure)
    sa = np.asarray(a).reshape(-1, 2)
    sb = np.asarray(b).reshape(-1, 2)
    if rule is MatchRule.EXACT:
        valid = (sa[:, None, 0] == sb[None, :, 0]) & (sa[:, None, 1] == sb[None, :, 1])
    elif rule is MatchRule.OVERLAP:
        valid = ratio > 0
    else:
        valid = ratio >= threshold - 1e-12
    if not valid.any():
        return []
    if (valid.sum(axis=1) <= 1).all() and (valid.sum(axis=0) <= 1).all():
        # No span can be matched two ways, so the matching is every valid pair (the solver's answer too). The common
        # case, and it spares a web process importing scipy.optimize (~40 MiB) for a page of agreement figures.
        rows, cols = np.nonzero(valid)
        return [(int(i), int(j)) for i, j in zip(rows, cols, strict=True)]
    from scipy.optimize import linear_sum_assignment

    # Weight big + ratio: any matching with one more pair outweighs every smaller one (ratio <= 1 < big).
    big = float(min(len(a), len(b)) + 1)
    weights = np.where(valid, big + ratio, 0.0)
    rows, cols = linear_sum_assignment(weights, maximize=True)
    return [(int(i), int(j)) for i, j in zip(rows, cols, strict=True) if valid[i, j]]


def _by_label(spans: Sequence) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for span in spans:
        out.setdefault(span.label, []).append((span.start, span.end))
    return out


def _pair_counts(
    data: AnnotationSet, a: Annotator, b: Annotator, rule: MatchRule, threshold: float, overlap_measure: str
) -> tuple[dict[str, list[int]], int]:
    """label -> [matched, n_a, n_b] over the items both completed, and the number of those items."""
    counts = {label: [0, 0, 0] for label in data.labels}
    items = data.items_covered_by([a, b])
    for item in items:
        spans_a = _by_label(data.spans_of(item_id=item, annotator=a))
        spans_b = _by_label(data.spans_of(item_id=item, annotator=b))
        for label in set(spans_a) | set(spans_b):
            ra, rb = spans_a.get(label, []), spans_b.get(label, [])
            matched = match_spans(ra, rb, match=rule, threshold=threshold, overlap_measure=overlap_measure)
            counts[label][0] += len(matched)
            counts[label][1] += len(ra)
            counts[label][2] += len(rb)
    return counts, len(items)


def span_f1(
    data: AnnotationSet,
    *,
    match: MatchRule | str = MatchRule.OVERLAP,
    threshold: float = 0.5,
    overlap_measure: str = "jaccard",
    annotators: Sequence[Annotator] | None = None,
) -> SpanF1Result:
    """Span F1 for every annotator pair (on the items both completed), per label and micro.

    Parameters
    ----------
    data : AnnotationSet
    match : {"exact", "overlap", "tolerant"}
    threshold : float in (0, 1]
        Minimum overlap ratio for ``tolerant``; ignored by the other rules (reported as None).
    overlap_measure : {"jaccard", "dice", "min"}
        The overlap ratio used by ``tolerant``.
    annotators : sequence, optional
        Restrict to these annotators (default: all).

    Returns
    -------
    SpanF1Result
        ``value`` is the mean of the pairs' micro F1; in each pair ``a`` is the first annotator of the sorted
        pair key, so precision is measured on ``b``'s spans and recall on ``a``'s.
    """
    rule = _check_rule(match, threshold, overlap_measure)
    chosen = list(data.annotators if annotators is None else annotators)
    unknown = [x for x in chosen if x not in data.annotators]
    if unknown:
        raise AgreementInputError(f"unknown annotator(s) {unknown!r}; known: {list(data.annotators)!r}")
    per_pair: dict[str, PairSpanF1] = {}
    pooled = {label: [0, 0, 0, 0] for label in data.labels}  # matched, n_a, n_b, items
    all_items: set = set()
    for a, b in combinations(chosen, 2):
        key = pair_key(a, b)
        first, second = sorted_ids([a, b])
        counts, n_items = _pair_counts(data, first, second, rule, threshold, overlap_measure)
        all_items.update(data.items_covered_by([a, b]))
        per_label = {
            label: F1Score.from_counts(matched=m, n_spans_a=na, n_spans_b=nb, n_items=n_items)
            for label, (m, na, nb) in counts.items()
        }
        totals = [sum(c[k] for c in counts.values()) for k in range(3)]
        micro = F1Score.from_counts(matched=totals[0], n_spans_a=totals[1], n_spans_b=totals[2], n_items=n_items)
        per_pair[key] = PairSpanF1(annotator_a=str(first), annotator_b=str(second), micro=micro, per_label=per_label)
        for label, (m, na, nb) in counts.items():
            acc = pooled[label]
            acc[0], acc[1], acc[2], acc[3] = acc[0] + m, acc[1] + na, acc[2] + nb, acc[3] + n_items
    label_results = {}
    for label, (m, na, nb, items) in pooled.items():
        label_results[label] = AveragedF1(
            value=mean_or_none([p.per_label[label].f1 for p in per_pair.values()]),
            n_pairs=len(per_pair),
            pooled=F1Score.from_counts(matched=m, n_spans_a=na, n_spans_b=nb, n_items=items),
        )
    total = [sum(v[k] for v in pooled.values()) for k in range(4)]
    n_spans = sum(1 for s in data.spans if s.item_id in all_items and s.annotator in chosen)
    notes = data.notes()
    if not per_pair:
        notes.append("fewer than two annotators: no pair to compare")
    return SpanF1Result(
        match=rule.value,
        threshold=threshold if rule is MatchRule.TOLERANT else None,
        overlap_measure=overlap_measure if rule is MatchRule.TOLERANT else None,
        value=mean_or_none([p.micro.f1 for p in per_pair.values()]),
        n_pairs=len(per_pair),
        n_items=len(all_items),
        n_spans=n_spans,
        pooled=F1Score.from_counts(matched=total[0], n_spans_a=total[1], n_spans_b=total[2], n_items=total[3]),
        per_label=label_results,
        per_pair=per_pair,
        notes=notes,
    )
