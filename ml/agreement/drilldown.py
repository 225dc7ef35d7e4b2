"""Disagreement drill-down: how two annotators' spans on one item line up.

Spans are paired in three passes, each one-to-one and only among spans left over by the previous pass:

1. ``matched``: same start, end and label;
2. ``boundary``: same label, overlapping, different boundaries (largest Jaccard overlap first);
3. ``label``: overlapping with a different label (boundaries may or may not agree);

whatever is left is ``only_a`` / ``only_b``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ml.agreement.data import AgreementInputError, AnnotatedSpan, AnnotationSet, Annotator, ItemId
from ml.agreement.span_match import MatchRule, match_spans, overlap_ratios
from ml.spans import Span, overlaps

_SNIPPET = 200


@dataclass
class SpanView:
    """A span as the web page shows it."""

    start: int
    end: int
    label: str
    text: str | None = None


@dataclass
class SpanPair:
    """A span of annotator a and one of annotator b that were paired, with their Jaccard overlap."""

    a: SpanView
    b: SpanView
    jaccard: float
    same_boundaries: bool


@dataclass
class Disagreements:
    """How annotator a's and annotator b's spans on one item relate; counts are the list lengths."""

    item_id: str | None
    annotator_a: str | None
    annotator_b: str | None
    matched: list[SpanPair] = field(default_factory=list)
    boundary: list[SpanPair] = field(default_factory=list)
    label: list[SpanPair] = field(default_factory=list)
    only_a: list[SpanView] = field(default_factory=list)
    only_b: list[SpanView] = field(default_factory=list)

    @property
    def n_disagreements(self) -> int:
        return len(self.boundary) + len(self.label) + len(self.only_a) + len(self.only_b)


def _as_span(value: Span | AnnotatedSpan | tuple) -> Span:
    if isinstance(value, Span):
        return value
    if isinstance(value, AnnotatedSpan):
        return Span(value.start, value.end, value.label)
    if isinstance(value, tuple | list) and len(value) == 3:
        return Span(int(value[0]), int(value[1]), str(value[2]))
    raise AgreementInputError(f"cannot read a span from {value!r}; expected Span, AnnotatedSpan or (start, end, label)")


def _view(span: Span, text: str | None) -> SpanView:
    return SpanView(span.start, span.end, span.label, None if text is None else text[span.start : span.end][:_SNIPPET])


def _pair(a: Span, b: Span, text: str | None) -> SpanPair:
    ratio = float(overlap_ratios([(a.start, a.end)], [(b.start, b.end)])[0, 0])
    same = (a.start, a.end) == (b.start, b.end)
    return SpanPair(_view(a, text), _view(b, text), round(ratio, 6), same)


def _match_by_label(left: list[Span], right: list[Span], rule: MatchRule) -> list[tuple[int, int]]:
    pairs = []
    for label in sorted({s.label for s in left} & {s.label for s in right}):
        ia = [i for i, s in enumerate(left) if s.label == label]
        ib = [j for j, s in enumerate(right) if s.label == label]
        found = match_spans(
            [(left[i].start, left[i].end) for i in ia], [(right[j].start, right[j].end) for j in ib], match=rule
        )
        pairs += [(ia[i], ib[j]) for i, j in found]
    return pairs


def compare_spans(
    spans_a: Sequence[Span | AnnotatedSpan | tuple],
    spans_b: Sequence[Span | AnnotatedSpan | tuple],
    *,
    text: str | None = None,
    item_id: ItemId | None = None,
    annotator_a: Annotator | None = None,
    annotator_b: Annotator | None = None,
) -> Disagreements:
    """Pair up two annotators' spans on one item and sort the pairs into agreements and disagreements.

    Parameters
    ----------
    spans_a, spans_b : sequences of ``ml.spans.Span``, ``AnnotatedSpan`` or ``(start, end, label)``
        Exact duplicates within one annotator are kept (each is a span to account for).
    text : str, optional
        The item's text, to attach the covered text (first 200 characters) to every span.

    Examples
    --------
    >>> d = compare_spans([(0, 5, "loaded")], [(0, 6, "loaded"), (9, 12, "framing")])
    >>> len(d.boundary), len(d.only_b)
    (1, 1)
    """
    left = sorted(_as_span(s) for s in spans_a)
    right = sorted(_as_span(s) for s in spans_b)
    if text is not None:
        for span in left + right:
            if span.end > len(text):
                raise AgreementInputError(f"span {span} ends after the end of the text (length {len(text)})")
    result = Disagreements(
        item_id=None if item_id is None else str(item_id),
        annotator_a=None if annotator_a is None else str(annotator_a),
        annotator_b=None if annotator_b is None else str(annotator_b),
    )
    used_a: set[int] = set()
    used_b: set[int] = set()

    def take(pairs: list[tuple[int, int]], into: list[SpanPair]) -> None:
        for i, j in pairs:
            used_a.add(i)
            used_b.add(j)
            into.append(_pair(left[i], right[j], text))

    def rest(spans: list[Span], used: set[int]) -> tuple[list[Span], list[int]]:
        idx = [k for k in range(len(spans)) if k not in used]
        return [spans[k] for k in idx], idx

    for rule, into in ((MatchRule.EXACT, result.matched), (MatchRule.OVERLAP, result.boundary)):
        sub_a, idx_a = rest(left, used_a)
        sub_b, idx_b = rest(right, used_b)
        take([(idx_a[i], idx_b[j]) for i, j in _match_by_label(sub_a, sub_b, rule)], into)
    sub_a, idx_a = rest(left, used_a)
    sub_b, idx_b = rest(right, used_b)
    if sub_a and sub_b:
        # Any label: match on overlap alone, then keep the pairs whose labels differ (same-label overlapping
        # pairs were all taken by the boundary pass).
        found = match_spans([(s.start, s.end) for s in sub_a], [(s.start, s.end) for s in sub_b], match="overlap")
        take(
            [
                (idx_a[i], idx_b[j])
                for i, j in found
                if overlaps(sub_a[i].start, sub_a[i].end, sub_b[j].start, sub_b[j].end)
            ],
            result.label,
        )
    result.only_a = [_view(s, text) for s in rest(left, used_a)[0]]
    result.only_b = [_view(s, text) for s in rest(right, used_b)[0]]
    return result


def item_disagreements(
    data: AnnotationSet, *, item_id: ItemId, annotator_a: Annotator, annotator_b: Annotator
) -> Disagreements:
    """:func:`compare_spans` for one item of an :class:`AnnotationSet`; both annotators must have completed it."""
    if item_id not in data.coverage:
        raise AgreementInputError(f"item {item_id!r} was not annotated by anyone")
    missing = [a for a in (annotator_a, annotator_b) if a not in data.coverage[item_id]]
    if missing:
        raise AgreementInputError(f"annotator(s) {missing!r} did not complete item {item_id!r}")
    return compare_spans(
        data.spans_of(item_id=item_id, annotator=annotator_a),
        data.spans_of(item_id=item_id, annotator=annotator_b),
        text=data.texts[item_id],
        item_id=item_id,
        annotator_a=annotator_a,
        annotator_b=annotator_b,
    )
