"""Span and word-level metrics on hand-made cases, with the expected values worked out by hand."""

import pytest

from ml.evaluation import MICRO, evaluate, format_report, span_scores, word_flags, word_scores
from ml.spans import Span

TEXT = "The radical left slammed the bizarre plan today"
#       0   4       12   17      25  29      37   42


def test_exact_span_scores_count_only_identical_ranges_and_labels():
    gold = [[Span(4, 11, "loaded"), Span(17, 24, "loaded"), Span(29, 36, "frame")]]
    pred = [[Span(4, 11, "loaded"), Span(4, 16, "loaded"), Span(29, 36, "loaded")]]
    scores = span_scores(gold, pred)
    # loaded: 1 of 3 predictions right, 1 of 2 gold found; frame: 0 predicted, 1 gold
    assert scores["loaded"].precision == pytest.approx(1 / 3)
    assert scores["loaded"].recall == pytest.approx(1 / 2)
    assert scores["loaded"].f1 == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert scores["frame"].precision == 0.0 and scores["frame"].recall == 0.0 and scores["frame"].f1 == 0.0
    # micro: 1 right of 3 predictions, 1 found of 3 gold
    assert scores[MICRO].precision == pytest.approx(1 / 3)
    assert scores[MICRO].recall == pytest.approx(1 / 3)


def test_partial_match_counts_overlaps_of_the_same_label():
    gold = [[Span(4, 11, "loaded"), Span(17, 24, "loaded")]]
    pred = [[Span(4, 16, "loaded"), Span(37, 41, "loaded")]]
    scores = span_scores(gold, pred, partial=True)
    assert (scores["loaded"].tp_pred, scores["loaded"].n_pred) == (1, 2)
    assert (scores["loaded"].tp_gold, scores["loaded"].n_gold) == (1, 2)
    assert scores["loaded"].f1 == pytest.approx(0.5)
    # touching ranges do not overlap (half-open)
    assert span_scores([[Span(0, 3, "x")]], [[Span(3, 5, "x")]], partial=True)["x"].tp_pred == 0


def test_word_level_counts_words_overlapping_spans():
    # gold: "radical" and "left"; predicted: "radical left slammed" as one span plus "plan"
    gold = [[Span(4, 11, "loaded"), Span(12, 16, "loaded")]]
    pred = [[Span(4, 24, "loaded"), Span(37, 41, "loaded")]]
    assert word_flags(TEXT, pred[0]) == [False, True, True, True, False, False, True, False]
    scores = word_scores([TEXT], gold, pred)[MICRO]
    # 4 predicted words (radical, left, slammed, plan), 2 correct, 2 gold words
    assert (scores.tp_pred, scores.n_pred, scores.n_gold) == (2, 4, 2)
    assert scores.precision == pytest.approx(0.5)
    assert scores.recall == pytest.approx(1.0)
    assert scores.f1 == pytest.approx(2 / 3)


def test_empty_predictions_give_zero_not_a_crash_and_report_renders():
    metrics = evaluate([TEXT], [[Span(4, 11, "loaded")]], [[]])
    assert metrics["word"][MICRO]["f1"] == 0.0
    assert metrics["exact"]["loaded"]["n_gold"] == 1
    assert "word" in format_report(metrics) and "loaded" in format_report(metrics)


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="gold has 1 documents but predictions have 2"):
        span_scores([[]], [[], []])
    with pytest.raises(ValueError, match="texts"):
        word_scores(["a", "b"], [[]], [[]])
