"""Per-stratum precision/recall ratio (ml.stats.strata) and its use in group_rates."""

import numpy as np
import pytest

from ml.stats import ArticleCounts, StratifiedErrors, compare_groups, group_rates

# Two outlets whose model errors differ, as on BABE: the loaded one has many true spans and the model finds half of
# them; the neutral one has few, and most of the model's spans there are false positives.
TRUE_RATE = {"loaded": 0.040, "neutral": 0.005}  # per token
RECALL = {"loaded": 0.5, "neutral": 0.5}
FALSE_POSITIVE_RATE = {"loaded": 0.004, "neutral": 0.010}  # per token


def simulate(rng: np.random.Generator, n_per_outlet: int) -> dict[str, np.ndarray]:
    """Articles with gold spans and model spans; article-level loadedness varies (spans cluster in articles)."""
    outlets = np.repeat(list(TRUE_RATE), n_per_outlet)
    tokens = rng.integers(80, 600, len(outlets))
    heat = rng.gamma(2.0, 0.5, len(outlets))
    true_rate = np.array([TRUE_RATE[o] for o in outlets]) * heat
    gold = rng.poisson(true_rate * tokens)
    found = rng.binomial(gold, [RECALL[o] for o in outlets])
    false = rng.poisson(np.array([FALSE_POSITIVE_RATE[o] for o in outlets]) * heat * tokens)
    return {"outlet": outlets, "tokens": tokens, "gold": gold, "predicted": found + false}


def corrected(rng: np.random.Generator, *, prior_spans: float, n_resamples: int = 400, seed: int = 0):
    cv, target = simulate(rng, 150), simulate(rng, 200)
    errors = StratifiedErrors(strata=cv["outlet"], gold=cv["gold"], predicted=cv["predicted"], prior_spans=prior_spans)
    counts = ArticleCounts(groups=target["outlet"], n_tokens=target["tokens"], n_spans=target["predicted"])
    return cv, group_rates(counts, errors=errors, n_resamples=n_resamples, seed=seed)


def test_recovers_each_outlets_rate_where_one_pooled_ratio_over_counts_the_neutral_outlet():
    rng = np.random.default_rng(0)
    estimates: dict[str, list[float]] = {"loaded": [], "neutral": []}
    pooled_neutral = []
    for _ in range(30):
        cv, rates = corrected(rng, prior_spans=20, n_resamples=50)
        for outlet in estimates:
            estimates[outlet].append(rates[outlet].corrected_rate)
        pooled_neutral.append(rates["neutral"].rate * cv["gold"].sum() / cv["predicted"].sum())
    for outlet, values in estimates.items():
        assert np.mean(values) == pytest.approx(TRUE_RATE[outlet] * 1000, rel=0.08)
    # the pooled ratio (gold / predicted over both outlets) leaves the neutral outlet about twice too high
    assert np.mean(pooled_neutral) > 1.6 * TRUE_RATE["neutral"] * 1000


def test_interval_covers_the_true_rate_in_about_95_percent_of_repetitions():
    rng = np.random.default_rng(1)
    reps, hits = 200, {"loaded": 0, "neutral": 0}
    for rep in range(reps):
        _, rates = corrected(rng, prior_spans=0, seed=rep)
        for outlet in hits:
            r = rates[outlet]
            hits[outlet] += r.corrected_rate_ci_low <= TRUE_RATE[outlet] * 1000 <= r.corrected_rate_ci_high
    for outlet, n in hits.items():
        # standard error of a 95 % coverage at 200 repetitions: 1.5 points; the band is about three either side
        assert 0.90 <= n / reps <= 0.99, (outlet, n / reps)


def test_factor_is_gold_over_predicted_per_stratum_and_pooled_for_unseen_strata():
    e = StratifiedErrors(strata=["a", "a", "b", "b"], gold=[2, 0, 9, 3], predicted=[4, 4, 2, 2], prior_spans=0)
    assert e.for_stratum("a").factor == pytest.approx(2 / 8)
    assert e.for_stratum("b").factor == pytest.approx(12 / 4)
    shrunk = StratifiedErrors(strata=e.strata, gold=e.gold, predicted=e.predicted, prior_spans=8)
    pooled = 14 / 12
    assert shrunk.for_stratum("a").factor == pytest.approx((2 + 8 * pooled) / (8 + 8))
    assert shrunk.for_stratum("never seen").factor == pytest.approx(pooled)
    assert shrunk.for_stratum("a").factor < pooled < shrunk.for_stratum("b").factor < 3


def test_group_rates_correct_each_group_with_its_own_stratum():
    counts = ArticleCounts(groups=["a", "a", "b", "b"], n_tokens=[100, 100, 100, 100], n_spans=[2, 2, 1, 1])
    errors = StratifiedErrors(strata=["a", "b"], gold=[5, 20], predicted=[10, 10], prior_spans=0)
    rates = group_rates(counts, errors=errors, n_resamples=200, seed=3)
    assert rates["a"].rate == rates["b"].rate * 2 == pytest.approx(20.0)
    assert rates["a"].corrected_rate == pytest.approx(10.0)
    assert rates["b"].corrected_rate == pytest.approx(20.0)
    assert rates == group_rates(counts, errors=errors, n_resamples=200, seed=3)
    only_a = ArticleCounts(groups=["a", "a"], n_tokens=[100, 100], n_spans=[2, 2])
    assert group_rates(only_a, errors=errors, n_resamples=200, seed=3)["a"] == rates["a"]


def test_spread_of_the_factor_reflects_how_much_articles_differ():
    # same totals (10 gold, 20 predicted per stratum), spread evenly or concentrated in one article
    even = StratifiedErrors(strata=["s"] * 10, gold=[1] * 10, predicted=[2] * 10, prior_spans=0)
    lumpy = StratifiedErrors(strata=["s"] * 10, gold=[10] + [0] * 9, predicted=[2] * 10, prior_spans=0)
    rng = np.random.default_rng(0)
    assert even.for_stratum("s").factor == lumpy.for_stratum("s").factor == 0.5
    assert np.std(even.for_stratum("s").draw_factors(size=500, rng=rng)) == 0
    assert np.std(lumpy.for_stratum("s").draw_factors(size=500, rng=rng)) > 0.3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gold": [1, 2], "predicted": [0, 0]}, "predicted no span in cross-validation"),
        ({"gold": [0, 0], "predicted": [1, 2]}, "no gold span"),
        ({"gold": [1, 2], "predicted": [1]}, "same length"),
        ({"gold": [1, -2], "predicted": [1, 2]}, "negative"),
        ({"gold": [1, 2], "predicted": [1, 2], "prior_spans": -1}, "prior_spans"),
        ({"gold": [1, 2], "predicted": [1, 2], "prior_spans": float("inf")}, "prior_spans"),
    ],
)
def test_unusable_cross_validation_counts_are_rejected_with_the_reason(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StratifiedErrors(strata=["a", "b"], **kwargs)


def test_a_stratum_without_predictions_or_articles_needs_pooling():
    e = StratifiedErrors(strata=["a", "b"], gold=[3, 4], predicted=[0, 5], prior_spans=0)
    with pytest.raises(ValueError, match="'a' had no predicted span in cross-validation"):
        e.for_stratum("a")
    with pytest.raises(ValueError, match="'c' has no cross-validated article"):
        e.for_stratum("c")
    counts = ArticleCounts(groups=["c"], n_tokens=[100], n_spans=[1])
    with pytest.raises(ValueError, match="use prior_spans > 0"):
        group_rates(counts, errors=e, n_resamples=10)
    pooled = StratifiedErrors(strata=["a", "b"], gold=[3, 4], predicted=[0, 5], prior_spans=10)
    # recall 0 in "a": its own 3 gold spans raise the pooled ratio 7/5 by 3/10
    assert pooled.for_stratum("a").factor == pytest.approx(7 / 5 + 3 / 10)


def test_group_rates_rejects_other_error_objects():
    with pytest.raises(ValueError, match="StratifiedErrors"):
        group_rates(ArticleCounts(groups=["a"], n_tokens=[1], n_spans=[0]), errors={"a": 1.0})


def test_comparisons_refuse_per_stratum_corrections_with_the_reason():
    counts = ArticleCounts(groups=["a", "b"], n_tokens=[100, 100], n_spans=[1, 2])
    errors = StratifiedErrors(strata=["a", "b"], gold=[1, 2], predicted=[2, 2])
    with pytest.raises(ValueError, match="apply to group_rates only"):
        compare_groups(counts, group_a="a", group_b="b", errors=errors)
