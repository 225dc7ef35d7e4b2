"""A reduced calibration of the framing statistics (the full one: bench/stats_calibration.py, docs/statistics.md).

Known-truth simulations (ml.stats.calibration), seeds fixed. The tolerances are a few standard errors wide around
the floors of issue 22 and fail on the methods before it: the permutation test rejected 37 % of true nulls with
15 unevenly spread articles against 400 even ones, the percentile bootstrap covered a rate of 5 articles 81 % of the
time (a share of articles 60 %), gave zero-width intervals to groups without spans, and covered a 10 % term-choice
share of 10 articles 83 % of the time.
"""

import numpy as np
import pytest

from ml.stats.calibration import EVEN, UNEVEN, Setting, comparison_p_values, rate_coverage, variant_coverage


def test_comparison_keeps_its_type_one_error_when_outlets_differ_in_size_and_dispersion():
    # 200 studies: the standard error of a 5 % rejection rate is 1.5 points; 11 % is four of them above
    p = comparison_p_values(Setting("15 uneven vs 400 even", 15, UNEVEN, 400, EVEN), studies=200, seed=5,
                            n_permutations=199)  # fmt: skip
    assert np.mean(p <= 0.05) <= 0.11, np.mean(p <= 0.05)


def test_comparison_of_alike_outlets_is_not_conservative_and_finds_a_real_difference():
    alike = Setting("40 vs 40", 40, EVEN, 40, EVEN)
    p = comparison_p_values(alike, studies=200, seed=6, n_permutations=199)
    assert 0.01 <= np.mean(p <= 0.05) <= 0.11, np.mean(p <= 0.05)
    power = comparison_p_values(alike, studies=60, seed=7, n_permutations=199, effect=2.0)
    assert np.mean(power <= 0.05) >= 0.8, np.mean(power <= 0.05)


@pytest.mark.parametrize(("n_articles", "low", "high"), [(5, 0.90, 1.0), (20, 0.92, 0.98)])
def test_rate_and_share_intervals_cover_the_truth_in_small_groups(n_articles, low, high):
    # 400 groups: standard error 1.1 points at 95 %
    cov = rate_coverage(n_articles, studies=400, seed=n_articles)
    assert low <= cov["rate"] <= high, cov
    assert low <= cov["share"] <= high, cov
    assert cov["zero_width"] == 0


def test_no_interval_from_data_has_zero_width():
    for n_articles in (2, 3):
        assert rate_coverage(n_articles, studies=200, seed=40 + n_articles)["zero_width"] == 0


def test_term_choice_shares_cover_a_rare_variant_in_small_groups():
    cov = variant_coverage(10, studies=400, seed=11)
    assert cov["share_0.1"] >= 0.90 and cov["share_0.6"] >= 0.90, cov
    assert cov["zero_width"] == 0
