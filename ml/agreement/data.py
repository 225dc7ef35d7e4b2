"""Inputs for the agreement measures: annotated spans, the texts, and who annotated which item.

Everything here is plain Python so that an adapter can build it straight from database rows::

    data = AnnotationSet.build(
        spans=[AnnotatedSpan(item_id=a.article_id, annotator=a.annotator_id, start=a.start_char,
                             end=a.end_char, label=a.label.name) for a in rows],
        texts={article.id: article.text for article in articles},
        coverage={article_id: {annotator ids whose assignment is done} for ...},
    )
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from ml.spans import Span

ItemId = Union[int, str]  # noqa: UP007 - a runtime alias used in isinstance checks below
Annotator = Union[int, str]  # noqa: UP007

_ID_TYPES = (int, str)


class AgreementInputError(ValueError):
    """Bad input to an agreement measure; the message says which value and why."""


@dataclass(frozen=True, order=True)
class AnnotatedSpan:
    """One span by one annotator on one item: the half-open code-point range ``text[start:end]``.

    Parameters
    ----------
    item_id : int or str
        The item (article) the span belongs to; a key of ``AnnotationSet.texts``.
    annotator : int or str
        Who made the span.
    start, end : int
        Python string indices into the item's text, ``0 <= start < end <= len(text)``.
    label : str
        The label name.
    """

    item_id: ItemId
    annotator: Annotator
    start: int
    end: int
    label: str

    def __post_init__(self) -> None:
        if not isinstance(self.item_id, _ID_TYPES) or isinstance(self.item_id, bool):
            raise AgreementInputError(f"item_id must be an int or str, got {self.item_id!r}")
        if not isinstance(self.annotator, _ID_TYPES) or isinstance(self.annotator, bool):
            raise AgreementInputError(f"annotator must be an int or str, got {self.annotator!r}")
        if not isinstance(self.start, int) or not isinstance(self.end, int):
            raise AgreementInputError(f"span offsets must be integers, got start={self.start!r}, end={self.end!r}")
        if self.start < 0 or self.start >= self.end:
            raise AgreementInputError(
                f"a span needs 0 <= start < end, got start={self.start}, end={self.end} "
                f"(item {self.item_id!r}, annotator {self.annotator!r})"
            )
        if not isinstance(self.label, str) or not self.label:
            raise AgreementInputError(f"a span needs a non-empty string label, got {self.label!r}")

    @classmethod
    def from_span(cls, *, item_id: ItemId, annotator: Annotator, span: Span) -> AnnotatedSpan:
        """Wrap an ``ml.spans.Span`` (or anything with ``start``, ``end`` and ``label``)."""
        return cls(item_id=item_id, annotator=annotator, start=span.start, end=span.end, label=span.label)


def _sort_key(value: ItemId) -> tuple[int, int | str]:
    """Ints before strings, each in natural order, so mixed ids sort without a TypeError."""
    return (0, value) if isinstance(value, int) else (1, value)


def _coerce_span(value: AnnotatedSpan | tuple | list) -> AnnotatedSpan:
    if isinstance(value, AnnotatedSpan):
        return value
    if isinstance(value, tuple | list) and len(value) == 5:
        item_id, annotator, start, end, label = value
        return AnnotatedSpan(item_id=item_id, annotator=annotator, start=start, end=end, label=label)
    raise AgreementInputError(
        f"cannot read a span from {value!r}; expected AnnotatedSpan or (item_id, annotator, start, end, label)"
    )


@dataclass(frozen=True)
class AnnotationSet:
    """Validated spans of several annotators over several items, plus who annotated which item.

    Use :meth:`build`; it validates and normalises. ``coverage[item]`` is the set of annotators who
    *finished* the item: an annotator who read an article and marked nothing agrees that it has no
    spans, so coverage cannot be inferred from spans alone without losing that information.

    Attributes
    ----------
    texts : dict
        item id -> text, for every item in ``coverage``.
    spans : tuple of AnnotatedSpan
        Sorted, exact duplicates removed.
    coverage : dict
        item id -> frozenset of annotators who completed the item.
    labels : tuple of str
        Label names (sorted), including labels nobody used if they were passed to ``build``.
    annotators : tuple
        Every annotator in ``coverage``, sorted.
    coverage_inferred : bool
        True when ``coverage`` was not given and was inferred from the spans.
    n_duplicates_removed : int
        Exact duplicate spans (same item, annotator, start, end, label) dropped by ``build``.
    """

    texts: dict[ItemId, str]
    spans: tuple[AnnotatedSpan, ...]
    coverage: dict[ItemId, frozenset[Annotator]]
    labels: tuple[str, ...]
    annotators: tuple[Annotator, ...]
    coverage_inferred: bool = False
    n_duplicates_removed: int = 0
    _by_item: dict[ItemId, dict[Annotator, list[AnnotatedSpan]]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        *,
        spans: Iterable[AnnotatedSpan | tuple | list],
        texts: Mapping[ItemId, str],
        coverage: Mapping[ItemId, Iterable[Annotator]] | None = None,
        labels: Iterable[str] | None = None,
    ) -> AnnotationSet:
        """Validate and index the inputs.

        Parameters
        ----------
        spans : iterable of AnnotatedSpan or 5-tuples ``(item_id, annotator, start, end, label)``
        texts : mapping item id -> text
            Needed for token units and to check offsets; must hold every item that has spans or coverage.
        coverage : mapping item id -> annotators who completed the item, optional
            When omitted, an annotator counts as having annotated an item iff they made a span on it
            (``coverage_inferred`` is then True: items an annotator left empty on purpose are lost).
        labels : iterable of str, optional
            The codebook's labels, so that unused labels are reported too.

        Raises
        ------
        AgreementInputError
            On a malformed span, a span outside its text, an unknown item, or a span by an annotator
            who is not in that item's coverage.
        """
        texts = _check_texts(texts)
        parsed = [_coerce_span(s) for s in spans]
        unique = sorted(
            set(parsed), key=lambda s: (_sort_key(s.item_id), _sort_key(s.annotator), s.start, s.end, s.label)
        )
        n_duplicates = len(parsed) - len(unique)
        _check_offsets(unique, texts)
        inferred = coverage is None
        cov = _infer_coverage(unique) if coverage is None else _check_coverage(coverage, unique, texts)
        label_set = set(labels or ()) | {s.label for s in unique}
        for label in label_set:
            if not isinstance(label, str) or not label:
                raise AgreementInputError(f"labels must be non-empty strings, got {label!r}")
        by_item: dict[ItemId, dict[Annotator, list[AnnotatedSpan]]] = {}
        for span in unique:
            by_item.setdefault(span.item_id, {}).setdefault(span.annotator, []).append(span)
        ordered_cov = {i: frozenset(cov[i]) for i in sorted(cov, key=_sort_key) if cov[i]}
        all_annotators = sorted({a for members in ordered_cov.values() for a in members}, key=_sort_key)
        return cls(
            texts=texts,
            spans=tuple(unique),
            coverage=ordered_cov,
            labels=tuple(sorted(label_set)),
            annotators=tuple(all_annotators),
            coverage_inferred=inferred,
            n_duplicates_removed=n_duplicates,
            _by_item=by_item,
        )

    @property
    def items(self) -> tuple[ItemId, ...]:
        """Items that at least one annotator completed, sorted."""
        return tuple(self.coverage)

    def spans_of(self, *, item_id: ItemId, annotator: Annotator) -> list[AnnotatedSpan]:
        """The spans of one annotator on one item, sorted by (start, end, label)."""
        return list(self._by_item.get(item_id, {}).get(annotator, ()))

    def items_covered_by(self, annotators: Iterable[Annotator]) -> list[ItemId]:
        """Items that every one of ``annotators`` completed, sorted."""
        wanted = frozenset(annotators)
        return [item for item, members in self.coverage.items() if wanted <= members]

    def notes(self) -> list[str]:
        """Caveats about the input worth showing next to any figure computed from it."""
        out = []
        if self.coverage_inferred:
            out.append(
                "coverage inferred from spans: an annotator who finished an item without marking anything "
                "is treated as not having annotated it"
            )
        if self.n_duplicates_removed:
            out.append(f"{self.n_duplicates_removed} exact duplicate span(s) removed")
        return out


def _check_texts(texts: Mapping[ItemId, str]) -> dict[ItemId, str]:
    out = dict(texts)
    for item_id, text in out.items():
        if not isinstance(text, str):
            raise AgreementInputError(f"text of item {item_id!r} must be a str, got {type(text).__name__}")
    return out


def _check_offsets(spans: list[AnnotatedSpan], texts: dict[ItemId, str]) -> None:
    for span in spans:
        if span.item_id not in texts:
            raise AgreementInputError(f"span {span} is on item {span.item_id!r}, which has no text")
        if span.end > len(texts[span.item_id]):
            raise AgreementInputError(
                f"span {span} ends after the end of item {span.item_id!r} (length {len(texts[span.item_id])})"
            )


def _infer_coverage(spans: list[AnnotatedSpan]) -> dict[ItemId, set[Annotator]]:
    cov: dict[ItemId, set[Annotator]] = {}
    for span in spans:
        cov.setdefault(span.item_id, set()).add(span.annotator)
    return cov


def _check_coverage(
    coverage: Mapping[ItemId, Iterable[Annotator]], spans: list[AnnotatedSpan], texts: dict[ItemId, str]
) -> dict[ItemId, set[Annotator]]:
    cov: dict[ItemId, set[Annotator]] = {}
    for item_id, annotators in coverage.items():
        if item_id not in texts:
            raise AgreementInputError(f"coverage names item {item_id!r}, which has no text")
        if isinstance(annotators, str | int):
            raise AgreementInputError(
                f"coverage of item {item_id!r} must be a collection of annotators, got {annotators!r}"
            )
        members = set(annotators)
        for annotator in members:
            if not isinstance(annotator, _ID_TYPES) or isinstance(annotator, bool):
                raise AgreementInputError(f"annotator must be an int or str, got {annotator!r}")
        cov[item_id] = members
    outside = [s for s in spans if s.annotator not in cov.get(s.item_id, ())]
    if outside:
        raise AgreementInputError(
            f"{len(outside)} span(s) come from annotators not listed as having completed the item, "
            f"e.g. {outside[0]}; pass only spans of completed items or add the annotator to coverage"
        )
    return cov


def pair_key(a: Annotator, b: Annotator) -> str:
    """The JSON key of an annotator pair: ``"a|b"`` in sorted order."""
    first, second = sorted((a, b), key=_sort_key)
    return f"{first}|{second}"


def sorted_ids(values: Iterable[ItemId]) -> list[ItemId]:
    """Sort ids that may mix ints and strings."""
    return sorted(values, key=_sort_key)
