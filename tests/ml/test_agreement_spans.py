"""Span F1 (exact, overlap, boundary-tolerant) and the disagreement drill-down, on hand-computed cases."""

import pytest

from ml.agreement import (
    AgreementInputError,
    AnnotationSet,
    compare_spans,
    item_disagreements,
    match_spans,
    overlap_ratios,
    span_f1,
)
from ml.spans import Span

TEXT = "x" * 100


def _data(spans, coverage=None, labels=None):
    return AnnotationSet.build(spans=spans, texts={1: TEXT, 2: TEXT}, coverage=coverage, labels=labels)


def test_overlap_ratios_by_measure():
    # [0, 10) and [5, 20): intersection 5, union 20, lengths 10 and 15.
    assert overlap_ratios([(0, 10)], [(5, 20)], overlap_measure="jaccard")[0, 0] == pytest.approx(5 / 20)
    assert overlap_ratios([(0, 10)], [(5, 20)], overlap_measure="dice")[0, 0] == pytest.approx(10 / 25)
    assert overlap_ratios([(0, 10)], [(5, 20)], overlap_measure="min")[0, 0] == pytest.approx(5 / 10)
    assert overlap_ratios([(0, 10)], [(10, 20)])[0, 0] == 0.0  # touching is not overlapping


def test_matching_is_one_to_one_and_maximal():
    # One long span of a overlaps two short spans of b: only one of them may be credited.
    assert len(match_spans([(0, 20)], [(0, 5), (10, 15)], match="overlap")) == 1
    # A greedy "best overlap first" would pair a0-b1 and leave a1 unmatched; the maximum matching pairs both.
    pairs = match_spans([(0, 10), (8, 12)], [(0, 3), (2, 11)], match="overlap")
    assert sorted(pairs) == [(0, 0), (1, 1)]


def test_matching_without_conflicts_equals_the_solver_and_needs_no_scipy():
    """Where no span overlaps two of the other side, match_spans takes every valid pair itself: the pairs the
    assignment solver returns, in its order, and scipy.optimize stays unimported (a web process is spared ~40 MiB)."""
    import subprocess
    import sys

    import numpy as np
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(0)
    forced = 0
    for _ in range(400):
        a = [(int(s), int(s) + int(n)) for s, n in zip(rng.integers(0, 60, 6), rng.integers(1, 12, 6), strict=True)]
        b = [(int(s), int(s) + int(n)) for s, n in zip(rng.integers(0, 60, 5), rng.integers(1, 12, 5), strict=True)]
        for rule in ("exact", "overlap", "tolerant"):
            ratio = overlap_ratios(a, b)
            sa, sb = np.array(a), np.array(b)
            valid = {
                "exact": (sa[:, None, 0] == sb[None, :, 0]) & (sa[:, None, 1] == sb[None, :, 1]),
                "overlap": ratio > 0,
                "tolerant": ratio >= 0.5 - 1e-12,
            }[rule]
            rows, cols = linear_sum_assignment(np.where(valid, 7.0 + ratio, 0.0), maximize=True)
            expected = [(int(i), int(j)) for i, j in zip(rows, cols, strict=True) if valid[i, j]]
            assert match_spans(a, b, match=rule) == expected
            forced += bool(valid.any()) and (valid.sum(axis=0) <= 1).all() and (valid.sum(axis=1) <= 1).all()
    assert forced > 100  # the shortcut was taken often enough to be tested
    code = (
        "import sys; from ml.agreement import match_spans; "
        "assert match_spans([(0, 5), (8, 12)], [(1, 6), (20, 30)]) == [(0, 0)]; "
        "print('scipy.optimize' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_tolerant_threshold_is_inclusive_and_validated():
    assert match_spans([(0, 10)], [(5, 15)], match="tolerant", threshold=5 / 15) == [(0, 0)]
    assert match_spans([(0, 10)], [(5, 15)], match="tolerant", threshold=0.34) == []
    for bad in (0, 1.5, "half"):
        with pytest.raises(AgreementInputError, match="threshold"):
            match_spans([(0, 1)], [(0, 1)], match="tolerant", threshold=bad)
    with pytest.raises(AgreementInputError, match="match must be one of"):
        match_spans([(0, 1)], [(0, 1)], match="fuzzy")
    with pytest.raises(AgreementInputError, match="overlap_measure"):
        match_spans([(0, 1)], [(0, 1)], overlap_measure="cosine")


def test_span_f1_hand_computed():
    spans = [
        # item 1: a has three spans, b three; one exact, one boundary shift (jaccard 8/12), one label clash
        (1, "a", 0, 10, "loaded"),
        (1, "b", 0, 10, "loaded"),
        (1, "a", 20, 30, "loaded"),
        (1, "b", 22, 32, "loaded"),
        (1, "a", 40, 50, "framing"),
        (1, "b", 40, 50, "loaded"),
        # item 2: only a marks something
        (2, "a", 60, 70, "framing"),
    ]
    data = _data(spans, coverage={1: ["a", "b"], 2: ["a", "b"]})
    exact = span_f1(data, match="exact")
    overlap = span_f1(data, match="overlap")
    strict = span_f1(data, match="tolerant", threshold=0.7)
    loose = span_f1(data, match="tolerant", threshold=0.6)
    # a: 4 spans, b: 3 spans
    assert (exact.pooled.matched, exact.pooled.n_spans_a, exact.pooled.n_spans_b) == (1, 4, 3)
    assert exact.value == pytest.approx(2 * 1 / 7)
    assert overlap.value == pytest.approx(2 * 2 / 7)
    assert strict.value == pytest.approx(2 / 7) and loose.value == pytest.approx(4 / 7)
    assert overlap.pooled.precision == pytest.approx(2 / 3) and overlap.pooled.recall == pytest.approx(2 / 4)
    loaded = overlap.per_pair["a|b"].per_label["loaded"]
    assert (loaded.matched, loaded.n_spans_a, loaded.n_spans_b, loaded.f1) == (2, 2, 3, pytest.approx(0.8))
    framing = overlap.per_label["framing"]
    assert framing.value == 0.0 and framing.pooled.n_spans_a == 2 and framing.pooled.n_spans_b == 0
    assert overlap.n_items == 2 and overlap.n_spans == 7 and overlap.n_pairs == 1
    assert strict.threshold == 0.7 and exact.threshold is None


def test_span_f1_only_compares_items_both_annotators_completed():
    spans = [(1, "a", 0, 10, "x"), (1, "b", 0, 10, "x"), (2, "a", 0, 10, "x")]
    result = span_f1(_data(spans, coverage={1: ["a", "b"], 2: ["a"]}), match="exact")
    assert result.value == 1.0 and result.n_items == 1 and result.pooled.n_spans_a == 1


def test_span_f1_averages_over_pairs():
    spans = [(1, "a", 0, 10, "x"), (1, "b", 0, 10, "x"), (1, "c", 50, 60, "x")]
    result = span_f1(_data(spans, coverage={1: ["a", "b", "c"]}), match="exact")
    assert {k: p.micro.f1 for k, p in result.per_pair.items()} == {"a|b": 1.0, "a|c": 0.0, "b|c": 0.0}
    assert result.value == pytest.approx(1 / 3)
    assert result.pooled.f1 == pytest.approx(2 * 1 / 6)


def test_span_f1_without_spans_is_undefined():
    result = span_f1(_data([], coverage={1: ["a", "b"]}, labels=["x"]))
    assert result.value is None and result.pooled.reason == "neither annotator marked a span"
    single = span_f1(_data([(1, "a", 0, 1, "x")], coverage={1: ["a"]}))
    assert single.value is None and single.n_pairs == 0


def test_compare_spans_sorts_every_span_into_one_bucket():
    a = [Span(0, 10, "loaded"), Span(20, 30, "loaded"), Span(40, 50, "framing"), Span(70, 80, "loaded")]
    b = [(0, 10, "loaded"), (22, 32, "loaded"), (40, 50, "loaded"), (90, 95, "hedge")]
    d = compare_spans(a, b, text="abcdefghij" * 10)
    assert [(p.a.start, p.b.start) for p in d.matched] == [(0, 0)]
    assert [(p.a.start, p.b.start, round(p.jaccard, 3)) for p in d.boundary] == [(20, 22, round(8 / 12, 3))]
    assert [(p.a.label, p.b.label, p.same_boundaries) for p in d.label] == [("framing", "loaded", True)]
    assert [s.start for s in d.only_a] == [70] and [s.start for s in d.only_b] == [90]
    assert d.matched[0].a.text == "abcdefghij" and d.n_disagreements == 4


def test_item_disagreements_requires_both_annotators_to_have_completed_the_item():
    data = _data([(1, "a", 0, 5, "x")], coverage={1: ["a", "b"], 2: ["a"]})
    d = item_disagreements(data, item_id=1, annotator_a="a", annotator_b="b")
    assert len(d.only_a) == 1 and d.item_id == "1"
    with pytest.raises(AgreementInputError, match="did not complete"):
        item_disagreements(data, item_id=2, annotator_a="a", annotator_b="b")
    with pytest.raises(AgreementInputError, match="ends after the end"):
        compare_spans([(0, 500, "x")], [], text="short")
