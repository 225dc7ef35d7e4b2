"""Token-level agreement: Cohen's kappa per pair, Fleiss' kappa, Krippendorff's alpha.

Units are the words of ``ml.tokenise`` in every item; an annotator rates a unit iff they completed the item
(``AnnotationSet.coverage``). A token is *marked* with a label by an annotator when one of their spans with
that label shares at least one character with the token.

Categories
----------
* multi-class: the category of a token is ``"O"`` when no span covers it, the label when exactly one label
  does, and the ``"+"``-joined sorted label set (``"framing+loaded"``) when several labels cover it. A
  combination is its own category, so partly matching label sets count as disagreement; the number of
  such tokens is reported in the notes.
* per label (binary): for each label, the category is "marked with this label" or not. This handles
  overlapping labels exactly and is what ``per_label`` holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import combinations

import numpy as np

from ml.agreement.coefficients import (
    MISSING,
    Coefficient,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha_nominal,
    value_counts,
)
from ml.agreement.data import AgreementInputError, AnnotationSet, Annotator, ItemId, pair_key
from ml.agreement.results import AgreementResult, mean_or_none
from ml.tokenise import token_spans

OUTSIDE = "O"


@dataclass(frozen=True)
class TokenTable:
    """Tokens of all items x annotators x labels.

    Attributes
    ----------
    items : tuple
        Item ids, in the order their tokens appear.
    item_of_unit : ndarray of int, shape (n_units,)
        Index into ``items`` of each token.
    token_bounds : ndarray of int, shape (n_units, 2)
        ``(start, end)`` code-point offsets of each token in its item.
    annotators, labels : tuple
    present : ndarray of bool, shape (n_units, n_annotators)
        The annotator completed the token's item.
    marks : ndarray of bool, shape (n_units, n_annotators, n_labels)
        The annotator's spans of that label cover the token.
    n_spans_without_tokens : int
        Spans that cover no word (e.g. only punctuation) and so leave no mark.
    """

    items: tuple[ItemId, ...]
    item_of_unit: np.ndarray
    token_bounds: np.ndarray
    annotators: tuple[Annotator, ...]
    labels: tuple[str, ...]
    present: np.ndarray
    marks: np.ndarray
    n_spans_without_tokens: int

    @property
    def n_units(self) -> int:
        return int(self.item_of_unit.shape[0])

    def multiclass_codes(self) -> tuple[np.ndarray, list[str]]:
        """Units x annotators integer codes (``-1`` = not annotated) and the category names they index."""
        codes, names = self._multiclass
        return codes.copy(), list(names)

    @cached_property
    def _multiclass(self) -> tuple[np.ndarray, list[str]]:
        n_labels = len(self.labels)
        n_units, n_ann = self.present.shape
        if n_labels == 0:
            codes = np.where(self.present, 0, MISSING).astype(np.int64)
            return codes, [OUTSIDE]
        flat = self.marks.reshape(n_units * n_ann, n_labels)
        if n_labels <= 62:
            keys = flat.astype(np.int64) @ (np.int64(1) << np.arange(n_labels, dtype=np.int64))
            uniq, inverse = np.unique(keys, return_inverse=True)
            sets = [[self.labels[b] for b in range(n_labels) if (int(k) >> b) & 1] for k in uniq]
        else:
            uniq_rows, inverse = np.unique(flat, axis=0, return_inverse=True)
            sets = [[self.labels[b] for b in np.flatnonzero(row)] for row in uniq_rows]
        names = ["+".join(s) if s else OUTSIDE for s in sets]
        # Put "O" first so that code 0 always means "no label" when it occurs.
        order = sorted(range(len(names)), key=lambda i: (names[i] != OUTSIDE, names[i]))
        remap = np.empty(len(names), dtype=np.int64)
        remap[order] = np.arange(len(names))
        codes = remap[inverse.reshape(-1)].reshape(n_units, n_ann)
        codes[~self.present] = MISSING
        return codes, [names[i] for i in order]

    def label_codes(self, label_index: int) -> np.ndarray:
        """Units x annotators binary codes for one label (1 = marked, 0 = not, -1 = not annotated)."""
        codes = self.marks[:, :, label_index].astype(np.int64)
        codes[~self.present] = MISSING
        return codes

    def n_multilabel(self) -> int:
        """(token, annotator) cells covered by two or more different labels."""
        return int(np.count_nonzero(self.marks.sum(axis=2) >= 2))


def build_token_table(data: AnnotationSet, *, annotators: Sequence[Annotator] | None = None) -> TokenTable:
    """Tokenise every item at least one of ``annotators`` (default: all) completed and project the spans onto it."""
    chosen = tuple(data.annotators if annotators is None else annotators)
    unknown = [a for a in chosen if a not in data.annotators]
    if unknown:
        raise AgreementInputError(f"unknown annotator(s) {unknown!r}; known: {list(data.annotators)!r}")
    col = {a: i for i, a in enumerate(chosen)}
    lab = {name: i for i, name in enumerate(data.labels)}
    items = [i for i in data.items if data.coverage[i] & set(chosen)]
    bounds_per_item = [np.asarray(token_spans(data.texts[i]), dtype=np.int64).reshape(-1, 2) for i in items]
    sizes = np.array([b.shape[0] for b in bounds_per_item], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)]) if len(items) else np.zeros(1, dtype=np.int64)
    n_units = int(offsets[-1])
    present = np.zeros((n_units, len(chosen)), dtype=bool)
    marks = np.zeros((n_units, len(chosen), len(data.labels)), dtype=bool)
    n_empty = 0
    for k, item in enumerate(items):
        lo_unit, hi_unit = int(offsets[k]), int(offsets[k + 1])
        for annotator in data.coverage[item]:
            if annotator in col:
                present[lo_unit:hi_unit, col[annotator]] = True
        starts, ends = bounds_per_item[k][:, 0], bounds_per_item[k][:, 1]
        for annotator in chosen:
            for span in data.spans_of(item_id=item, annotator=annotator):
                # Tokens sharing a character with [start, end): token.end > start and token.start < end.
                first = int(np.searchsorted(ends, span.start, side="right"))
                last = int(np.searchsorted(starts, span.end, side="left"))
                if first >= last:
                    n_empty += 1
                    continue
                marks[lo_unit + first : lo_unit + last, col[annotator], lab[span.label]] = True
    item_of_unit = np.repeat(np.arange(len(items), dtype=np.int64), sizes) if len(items) else np.zeros(0, np.int64)
    token_bounds = np.concatenate(bounds_per_item) if items else np.zeros((0, 2), dtype=np.int64)
    return TokenTable(
        items=tuple(items),
        item_of_unit=item_of_unit,
        token_bounds=token_bounds,
        annotators=chosen,
        labels=data.labels,
        present=present,
        marks=marks,
        n_spans_without_tokens=n_empty,
    )


def _n_items(table: TokenTable, units: np.ndarray) -> int:
    return int(np.unique(table.item_of_unit[units]).size)


def _result(measure: str, coefficient: Coefficient, *, n_items: int, categories: list[str]) -> AgreementResult:
    return AgreementResult(
        measure=measure,
        unit="token",
        value=coefficient.value,
        n_items=n_items,
        n_units=coefficient.n_units,
        observed=coefficient.observed,
        expected=coefficient.expected,
        reason=coefficient.reason,
        categories=categories,
    )


def _table_notes(data: AnnotationSet, table: TokenTable) -> list[str]:
    notes = data.notes()
    if table.n_spans_without_tokens:
        notes.append(f"{table.n_spans_without_tokens} span(s) cover no word token and leave no mark")
    n_multi = table.n_multilabel()
    if n_multi:
        notes.append(
            f"{n_multi} (token, annotator) cell(s) carry two or more labels; the multi-class figure treats each "
            "label combination as its own category, per_label treats each label separately"
        )
    return notes


def _pair_units(table: TokenTable, i: int, j: int) -> np.ndarray:
    return np.flatnonzero(table.present[:, i] & table.present[:, j])


def token_cohen_kappa(data: AnnotationSet, *, table: TokenTable | None = None) -> AgreementResult:
    """Cohen's kappa for every annotator pair on the tokens both annotated; ``value`` is Light's kappa.

    ``value`` (= ``pair_mean``) is the mean of the defined pairwise kappas (Light 1971); ``per_pair`` holds
    each pair, and ``per_label[label]`` the binary kappa of that label with its own ``per_pair``.
    """
    table = table or build_token_table(data)
    codes, categories = table.multiclass_codes()
    per_pair: dict[str, AgreementResult] = {}
    per_label_pairs: dict[str, dict[str, AgreementResult]] = {name: {} for name in table.labels}
    n_units_total, items_total = 0, set()
    for i, j in combinations(range(len(table.annotators)), 2):
        units = _pair_units(table, i, j)
        key = pair_key(table.annotators[i], table.annotators[j])
        n_items = _n_items(table, units)
        coefficient = cohen_kappa(codes[units, i], codes[units, j])
        per_pair[key] = _result("cohen_kappa", coefficient, n_items=n_items, categories=categories)
        n_units_total += coefficient.n_units
        items_total.update(table.item_of_unit[units].tolist())
        pair_marks = table.marks[units][:, [i, j], :].astype(np.int64)
        for li, name in enumerate(table.labels):
            per_label_pairs[name][key] = _result(
                "cohen_kappa",
                cohen_kappa(pair_marks[:, 0, li], pair_marks[:, 1, li]),
                n_items=n_items,
                categories=["no", "yes"],
            )
    per_label = {}
    for name, pairs in per_label_pairs.items():
        mean = mean_or_none([r.value for r in pairs.values()])
        per_label[name] = AgreementResult(
            measure="cohen_kappa",
            unit="token",
            value=mean,
            n_items=len(items_total),
            n_units=sum(r.n_units for r in pairs.values()),
            reason=None if mean is not None else _why_no_pair(pairs),
            categories=["no", "yes"],
            per_pair=pairs,
            pair_mean=mean,
        )
    mean = mean_or_none([r.value for r in per_pair.values()])
    return AgreementResult(
        measure="cohen_kappa",
        unit="token",
        value=mean,
        n_items=len(items_total),
        n_units=n_units_total,
        reason=None if mean is not None else _why_no_pair(per_pair),
        categories=categories,
        per_label=per_label,
        per_pair=per_pair,
        pair_mean=mean,
        notes=_table_notes(data, table) + ["value is the mean of the pairwise kappas (Light's kappa)"],
    )


def _why_no_pair(pairs: dict[str, AgreementResult]) -> str:
    if not pairs:
        return "fewer than two annotators"
    reasons = sorted({r.reason for r in pairs.values() if r.reason})
    return "undefined for every annotator pair: " + "; ".join(reasons)


def _mode_ratings(n_ratings_per_unit: np.ndarray) -> int | None:
    candidates = n_ratings_per_unit[n_ratings_per_unit >= 2]
    if candidates.size == 0:
        return None
    counts = np.bincount(candidates)
    return int(np.flatnonzero(counts == counts.max()).max())


def token_fleiss_kappa(
    data: AnnotationSet, *, n_ratings: int | None = None, table: TokenTable | None = None
) -> AgreementResult:
    """Fleiss' kappa on the tokens that have exactly ``n_ratings`` ratings.

    Fleiss' kappa needs the same number of ratings per unit. ``n_ratings`` defaults to the most common number
    of annotators per token among tokens with two or more (ties go to the larger); tokens with another number
    of ratings are left out and counted in the notes.
    """
    table = table or build_token_table(data)
    codes, categories = table.multiclass_codes()
    per_unit = table.present.sum(axis=1)
    chosen = _mode_ratings(per_unit) if n_ratings is None else n_ratings
    if chosen is not None and chosen < 2:
        raise AgreementInputError(f"n_ratings must be at least 2, got {chosen}")
    units = np.flatnonzero(per_unit == chosen) if chosen is not None else np.zeros(0, dtype=np.int64)
    dropped = int(np.count_nonzero(per_unit >= 1)) - int(units.size)
    notes = _table_notes(data, table)
    if chosen is not None:
        notes.append(
            f"units with exactly {chosen} ratings used; {dropped} annotated unit(s) with another count left out"
        )
    n_items = _n_items(table, units)
    sub = codes[units]
    result = _result("fleiss_kappa", _fleiss(sub, len(categories)), n_items=n_items, categories=categories)
    if chosen is None:
        result.reason = "no unit has two or more ratings"
    for li, name in enumerate(table.labels):
        binary = table.label_codes(li)[units]
        result.per_label[name] = _result("fleiss_kappa", _fleiss(binary, 2), n_items=n_items, categories=["no", "yes"])
    result.notes = notes
    return result


def _fleiss(codes: np.ndarray, n_categories: int) -> Coefficient:
    if codes.shape[0] == 0:
        return fleiss_kappa(np.zeros((0, max(n_categories, 1)), dtype=np.int64))
    return fleiss_kappa(value_counts(codes))


def token_krippendorff_alpha(data: AnnotationSet, *, table: TokenTable | None = None) -> AgreementResult:
    """Krippendorff's nominal alpha over tokens, all annotators at once, missing ratings allowed.

    ``per_label`` holds the binary alpha of each label, ``per_pair`` alpha restricted to each pair.
    """
    table = table or build_token_table(data)
    codes, categories = table.multiclass_codes()
    pairable = np.flatnonzero(table.present.sum(axis=1) >= 2)
    n_items = _n_items(table, pairable)
    result = _result("krippendorff_alpha", krippendorff_alpha_nominal(codes), n_items=n_items, categories=categories)
    for li, name in enumerate(table.labels):
        result.per_label[name] = _result(
            "krippendorff_alpha",
            krippendorff_alpha_nominal(table.label_codes(li)),
            n_items=n_items,
            categories=["no", "yes"],
        )
    for i, j in combinations(range(len(table.annotators)), 2):
        units = _pair_units(table, i, j)
        result.per_pair[pair_key(table.annotators[i], table.annotators[j])] = _result(
            "krippendorff_alpha",
            krippendorff_alpha_nominal(codes[units][:, [i, j]]),
            n_items=_n_items(table, units),
            categories=categories,
        )
    result.pair_mean = mean_or_none([r.value for r in result.per_pair.values()])
    result.notes = _table_notes(data, table)
    return result
