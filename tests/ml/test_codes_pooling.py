"""The empirical-Bayes pooling weight of misclassification rows: full pooling when strata agree, their own rows when
they differ, the old numbers with a fixed weight."""

import numpy as np
import pytest

from ml.codes import Misclassification
from ml.codes.pooling import row_prior_units

ROWS = np.array([[0.8, 0.2], [0.1, 0.9]])  # P(predicted | true) shared by every stratum


def _strata(rng, rows_of, sizes):
    """Confusion counts per stratum: ``rows_of(s)`` its true rows, ``sizes[s]`` units of each true answer."""
    return {
        f"s{s}": np.array([rng.multinomial(n, row) for row in rows_of(s)], dtype=float) for s, n in enumerate(sizes)
    }


def _errors(strata, **kwargs):
    return Misclassification(["y", "n"], sum(strata.values()), strata, **kwargs)


def test_identical_strata_pool_fully_and_draw_as_the_pooled_matrix():
    strata = {s: np.array([[80.0, 20.0], [10.0, 90.0]]) for s in "abc"}
    errors = _errors(strata)
    assert errors.row_units.tolist() == [np.inf, np.inf]
    np.testing.assert_array_equal(errors.matrix("a"), errors.matrix())
    a = errors.draw("a", size=100, rng=np.random.default_rng(1))
    pooled = errors.draw(None, size=100, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, pooled)


def test_strata_drawn_from_one_error_distribution_get_nearly_the_pooled_matrix():
    """Sampling noise alone: the weight is infinite (the pooled matrix) in about half the studies, truncated at 0 as
    DerSimonian-Laird's tau^2, and large in the rest; the strata's matrices err about half as much as with the fixed
    m = 20 and as their own counts."""
    infinite, errors_of = [], {"empirical Bayes": [], "m = 20": [], "own": []}
    for seed in range(100):
        rng = np.random.default_rng(seed)
        strata = _strata(rng, lambda s: ROWS, rng.integers(60, 400, 6))
        errors, fixed = _errors(strata), _errors(strata, prior_units=20)
        infinite.append(np.isinf(errors.row_units))
        for key, own in strata.items():
            errors_of["empirical Bayes"].append(np.abs(errors.matrix(key) - ROWS).max())
            errors_of["m = 20"].append(np.abs(fixed.matrix(key) - ROWS).max())
            errors_of["own"].append(np.abs(own / own.sum(axis=1, keepdims=True) - ROWS).max())
        if np.all(infinite[-1]):
            np.testing.assert_array_equal(errors.matrix("s0"), errors.matrix())
    mean = {name: np.mean(e) for name, e in errors_of.items()}
    assert 0.4 <= np.mean(infinite) <= 0.7
    assert mean["empirical Bayes"] < 0.6 * mean["m = 20"] and mean["m = 20"] < mean["own"]


def test_strata_with_clearly_different_error_rates_keep_close_to_their_own():
    rng = np.random.default_rng(0)
    own_rows = {0: [[0.95, 0.05], [0.1, 0.9]], 1: [[0.6, 0.4], [0.1, 0.9]], 2: [[0.8, 0.2], [0.1, 0.9]]}
    strata = _strata(rng, lambda s: np.array(own_rows[s]), [300, 300, 300])
    errors = _errors(strata)
    # only the first row differs by stratum; the second's m is finite here by chance (3 strata: a noisy estimate)
    assert errors.row_units[0] < 10 and errors.row_units[1] > 10 * errors.row_units[0]
    for key, counts in strata.items():
        own = counts / counts.sum(axis=1, keepdims=True)
        assert np.abs(errors.matrix(key)[0] - own[0]).max() < 0.01
        gap, own_gap = (np.abs(x[1] - errors.matrix()[1]).max() for x in (errors.matrix(key), own))
        assert gap <= 0.75 * own_gap + 1e-12


def test_the_weight_recovers_the_concentration_strata_are_drawn_with():
    estimates = []
    for seed in range(60):
        rng = np.random.default_rng(seed)
        strata = _strata(
            rng, lambda s, rng=rng: np.array([rng.dirichlet(20 * ROWS[0]), ROWS[1]]), rng.integers(100, 400, 20)
        )
        estimates.append(row_prior_units(strata.values(), 2)[0])
    assert 14 < np.median(estimates) < 28


def test_a_fixed_weight_gives_the_old_numbers_exactly():
    rng = np.random.default_rng(3)
    strata = _strata(rng, lambda s: ROWS if s else np.array([[0.6, 0.4], [0.1, 0.9]]), [40, 200, 200])
    strata["none of n"] = np.array([[5.0, 1.0], [0.0, 0.0]])
    errors = _errors(strata, prior_units=20)
    assert errors.row_units.tolist() == [20.0, 20.0]
    pooled = errors.pooled + 0.5
    pooled_p = pooled / pooled.sum(axis=1, keepdims=True)
    for key, own in strata.items():
        # the rule before the empirical-Bayes default: own + m * pooled row; a row without units: pooled
        old = own + np.maximum(20.0, np.where(own.sum(axis=1, keepdims=True) > 0, 0.0, 1.0)) * pooled_p
        np.testing.assert_array_equal(errors.matrix(key), old / old.sum(axis=1, keepdims=True))
        rng = np.random.default_rng(7)
        expected = np.stack([rng.dirichlet(row, size=50) for row in old], axis=1)
        np.testing.assert_array_equal(errors.draw(key, size=50, rng=np.random.default_rng(7)), expected)


def test_estimated_rows_draw_around_the_pooled_row_with_its_uncertainty():
    rng = np.random.default_rng(5)
    strata = _strata(rng, lambda s: np.array([[0.9, 0.1] if s % 2 else [0.7, 0.3], ROWS[1]]), [150] * 6)
    errors = _errors(strata)
    m = errors.row_units[0]
    assert np.isfinite(m)
    draws = errors.draw("s0", size=20000, rng=np.random.default_rng(0))
    np.testing.assert_allclose(draws.mean(axis=0), errors.matrix("s0"), atol=0.003)
    n, big_n = 150, errors.pooled[0].sum() + 1.0
    w = n / (n + m)
    mean = errors.matrix("s0")[0, 0]
    expected_sd = np.sqrt(mean * (1 - mean) * (1 / (n + m) + (1 - w) ** 2 / big_n))
    assert draws[:, 0, 0].std() == pytest.approx(expected_sd, rel=0.05)


def test_to_dict_round_trip_and_stored_fixed_weights():
    rng = np.random.default_rng(2)
    strata = _strata(rng, lambda s: np.array([[0.9, 0.1] if s else [0.6, 0.4], ROWS[1]]), [200, 200, 200])
    errors = _errors(strata)
    data = errors.to_dict()
    assert data["prior_units"] is None
    again = Misclassification.from_dict(data)
    np.testing.assert_array_equal(again.row_units, errors.row_units)
    for key in strata:
        np.testing.assert_array_equal(again.matrix(key), errors.matrix(key))
    # a dict stored before the empirical-Bayes default holds "prior_units": 20.0 and keeps meaning it
    stored = {**data, "prior_units": 20.0}
    assert Misclassification.from_dict(stored).row_units.tolist() == [20.0, 20.0]
    assert Misclassification.from_dict({k: v for k, v in data.items() if k != "prior_units"}).prior_units is None
    with pytest.raises(ValueError, match="prior_units"):
        Misclassification(["y", "n"], errors.pooled, prior_units=-1)
