"""Corrected answer shares: the correction inverts known errors, EM stays on the simplex, intervals cover."""

import numpy as np
import pytest

from ml.codes import Misclassification, answer_shares, correct_shares

M = np.array([[0.8, 0.15, 0.05], [0.1, 0.8, 0.1], [0.05, 0.25, 0.7]])


@pytest.mark.parametrize("method", ["inversion", "em"])
def test_correction_recovers_the_true_shares_from_expected_predictions(method):
    for pi in ([0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.0, 0.3, 0.7]):
        q = np.array(pi) @ M
        # EM approaches a share of 0 slowly (sub-linearly): within 1e-3 after its 500 iterations
        np.testing.assert_allclose(
            correct_shares(q, M, method=method), pi, atol=1e-9 if method == "inversion" else 1e-3
        )


def test_outside_the_simplex_inversion_clips_and_em_gives_the_maximum_likelihood_point():
    m = np.array([[0.9, 0.1], [0.3, 0.7]])
    q = np.array([0.2, 0.8])  # fewer "yes" than the false-positive rate alone gives
    assert correct_shares(q, m, method="inversion").tolist() == [0.0, 1.0]
    em = correct_shares(q, m, method="em")
    assert em[0] == pytest.approx(0.0, abs=1e-3) and em.sum() == pytest.approx(1.0)


def test_misclassification_pools_a_strata_rows_towards_the_pooled_matrix():
    pooled = np.array([[80.0, 20.0], [20.0, 80.0]])
    errors = Misclassification(["y", "n"], pooled, {"s": np.array([[20.0, 0.0], [0.0, 0.0]])}, prior_units=20)
    pooled_p = (pooled + 0.5) / (pooled + 0.5).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(errors.matrix("s")[0], (np.array([20, 0]) + 20 * pooled_p[0]) / 40)
    np.testing.assert_allclose(errors.matrix("s")[1], pooled_p[1])  # no unit of "n" in the stratum
    np.testing.assert_allclose(errors.matrix("other"), pooled_p)
    assert Misclassification.from_dict(errors.to_dict()).matrix("s").tolist() == errors.matrix("s").tolist()
    draws = errors.draw("s", size=5000, rng=np.random.default_rng(0))
    assert draws.shape == (5000, 2, 2) and np.allclose(draws.sum(axis=2), 1.0)
    np.testing.assert_allclose(draws.mean(axis=0), errors.matrix("s"), atol=0.01)


def test_from_units_counts_per_stratum():
    errors = Misclassification.from_units(
        answers=["y", "n"], true=["y", "y", "n", "n"], predicted=["y", "n", "n", "n"], strata=["a", "a", "b", "b"]
    )
    assert errors.pooled.tolist() == [[1, 1], [0, 2]]
    assert errors.strata["a"].tolist() == [[1, 1], [0, 0]] and errors.strata["b"].tolist() == [[0, 0], [0, 2]]


def simulate(rng, true_share, n_articles, matrix):
    true = np.where(rng.rand(n_articles) < true_share, "yes", "no")
    p_yes = np.where(true == "yes", matrix[0, 0], matrix[1, 0])
    return true, np.where(rng.rand(n_articles) < p_yes, "yes", "no")


def test_shares_per_group_with_corrected_intervals_that_cover():
    matrix = np.array([[0.8, 0.2], [0.15, 0.85]])
    rng = np.random.RandomState(0)
    covered, errors_seen = 0, []
    for study in range(60):
        cv_true, cv_pred = simulate(rng, 0.5, 600, matrix)
        errors = Misclassification.from_units(answers=["yes", "no"], true=cv_true, predicted=cv_pred)
        groups, predicted = [], []
        for g, share in (("low", 0.1), ("high", 0.6)):
            _, pred = simulate(rng, share, 300, matrix)
            groups += [g] * 300
            predicted += list(pred)
        rows = answer_shares(
            groups=groups, articles=range(600), predicted=predicted, answers=["yes", "no"], errors=errors,
            n_resamples=300, seed=study,
        )  # fmt: skip
        for r in rows:
            if r.answer == "yes":
                truth = 0.1 if r.group == "low" else 0.6
                covered += r.corrected_ci_low <= truth <= r.corrected_ci_high
                errors_seen.append(r.corrected_share - truth)
    assert 0.88 <= covered / 120 <= 0.99
    assert abs(np.mean(errors_seen)) < 0.02


def test_shares_fields_folds_and_strata():
    errors = Misclassification(["B", "N"], np.array([[80.0, 20.0], [10.0, 90.0]]))
    rows = answer_shares(
        groups=["x", "x", "x", "y"], articles=[1, 1, 2, 3], predicted=["B", "N", "B", "N"], answers=["B", "N"],
        errors={0: errors, 1: errors}, folds=[0, 0, 1, 1], n_resamples=50,
    )  # fmt: skip
    x_b = rows[0]
    assert (x_b.group, x_b.answer, x_b.n_units, x_b.n_articles, x_b.n_with_answer) == ("x", "B", 3, 2, 2)
    assert x_b.share == pytest.approx(2 / 3) and x_b.method == "em" and x_b.to_dict()["corrected_share"] is not None
    by_period = answer_shares(
        groups=[("x", "2024"), ("x", "2025"), ("x", "2024")], articles=[1, 2, 3], predicted=["B", "N", "N"],
        answers=["B", "N"], errors=errors, n_resamples=10,
    )  # fmt: skip
    assert [(r.group, r.answer, r.n_units) for r in by_period][::2] == [
        (("x", "2024"), "B", 2),
        (("x", "2025"), "B", 1),
    ]
    plain = answer_shares(groups=["x"], articles=[1], predicted=["B"], answers=["B", "N"], n_resamples=10)
    assert plain[0].corrected_share is None and plain[0].method == "none"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"predicted": ["Z"]}, "not among"),
        ({"articles": [1, 2]}, "articles has 2 entries"),
        ({"answers": ["B"]}, "at least two distinct answers"),
        ({"folds": [0]}, "must map every fold"),
        ({"n_resamples": 1}, "n_resamples"),
    ],
)
def test_bad_inputs_are_refused_clearly(kwargs, message):
    errors = Misclassification(["B", "N"], np.array([[8.0, 2.0], [1.0, 9.0]]))
    base = {"groups": ["x"], "articles": [1], "predicted": ["B"], "answers": ["B", "N"], "errors": errors}
    with pytest.raises(ValueError, match=message):
        answer_shares(**{**base, **kwargs})
