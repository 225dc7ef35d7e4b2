"""Cross-fitted rates (ml.stats.crossfit): each fold's corrected counts summed over the folds."""

import doctest

import numpy as np
import pytest

import ml.stats.crossfit
from ml.stats import ArticleCounts, ClassifierErrors, StratifiedErrors, group_rates
from ml.stats.crossfit import cross_fitted_rates


def fold_rates(groups, tokens, spans, errors):
    counts = ArticleCounts(groups=groups, n_tokens=tokens, n_spans=spans)
    return group_rates(counts, errors=errors, n_resamples=20, seed=0)


def test_each_folds_count_is_corrected_by_its_own_model_before_the_folds_are_summed():
    # fold 1's model over-predicts (P/R 0.5), fold 2's under-predicts (P/R 2)
    folds = [
        fold_rates(["a", "a", "b"], [500, 500, 1000], [3, 1, 2], ClassifierErrors(tp=1, fp=1, fn=0)),
        fold_rates(["a", "b"], [3000, 1000], [6, 5], ClassifierErrors(tp=1, fp=0, fn=1)),
    ]
    rates = cross_fitted_rates(folds)
    a, b = rates["a"], rates["b"]
    assert (a.n_folds, a.n_articles, a.n_tokens, a.n_spans) == (2, 3, 4000, 10)
    assert a.rate == pytest.approx(10 / 4000 * 1000)
    assert a.corrected_n_spans == pytest.approx(4 * 0.5 + 6 * 2)
    assert a.corrected_rate == pytest.approx(14 / 4000 * 1000)
    assert b.corrected_rate == pytest.approx((2 * 0.5 + 5 * 2) / 2000 * 1000)
    # not the mean of the folds' corrected rates: fold 2 holds three quarters of a's text
    assert a.corrected_rate != pytest.approx(np.mean([r["a"].corrected_rate for r in folds]))


def test_one_fold_gives_group_rates_own_point_estimates_and_stratified_errors_work():
    errors = StratifiedErrors(strata=["a", "b"], gold=[5, 20], predicted=[10, 10], prior_spans=0)
    fold = fold_rates(["a", "a", "b"], [100, 100, 100], [2, 2, 1], errors)
    rates = cross_fitted_rates([fold])
    for key in ("a", "b"):
        assert rates[key].rate == pytest.approx(fold[key].rate)
        assert rates[key].corrected_rate == pytest.approx(fold[key].corrected_rate)
    assert rates["a"].corrected_rate == pytest.approx(10.0)
    assert rates["b"].corrected_rate == pytest.approx(20.0)


def test_groups_missing_from_some_folds_are_summed_over_the_folds_they_appear_in():
    errors = ClassifierErrors(tp=1, fp=0, fn=0)
    rates = cross_fitted_rates(
        [
            fold_rates(["a"], [100], [1], errors),
            fold_rates(["b"], [200], [1], errors),
            fold_rates(["a"], [100], [3], errors),
        ]
    )
    assert list(rates) == ["a", "b"]
    assert (rates["a"].n_folds, rates["a"].rate) == (2, pytest.approx(20.0))
    assert (rates["b"].n_folds, rates["b"].rate) == (1, pytest.approx(5.0))
    assert cross_fitted_rates([]) == {}


def test_uncorrected_folds_are_refused():
    uncorrected = group_rates(ArticleCounts(groups=["a"], n_tokens=[100], n_spans=[1]), n_resamples=20)
    with pytest.raises(ValueError, match="no corrected count"):
        cross_fitted_rates([uncorrected])


def test_docstring_example():
    assert doctest.testmod(ml.stats.crossfit).failed == 0
