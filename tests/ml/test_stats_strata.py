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


def test_empirical_bayes_weight_by_hand():
    # a: ratio 0.5, b: ratio 1.0, each from four articles of 100 predicted spans whose gold counts differ by +-10.
    e = StratifiedErrors(strata=["a"] * 4 + ["b"] * 4, gold=[40, 60, 50, 50, 90, 110, 100, 100], predicted=[100] * 8)
    v = 4 / 3 * 200 / 400**2  # n/(n-1) * sum of squared residuals / P_s^2, the same for both
    u = 1 / v
    q = u * (0.5 - 0.75) ** 2 + u * (1.0 - 0.75) ** 2
    tau2 = (q - 1) / (2 * u - 2 * u**2 / (2 * u))  # DerSimonian-Laird with two strata
    assert e.tau2 == pytest.approx(tau2)
    w = tau2 / (tau2 + v)
    a = e.for_stratum("a")
    assert a.weight == pytest.approx(w) and a.kind == "shrunk"
    assert a.factor == pytest.approx(0.5 + (1 - w) * (0.75 - 0.5))  # a shift of 0.7 %, under the 2.5 % cap
    assert f"weight w = {w:.2f} on its own" in a.method and a.warning == ""
    # the interval is the own ratio's: draws resample a's articles and do not shrink
    draws = a.draw_factors(size=400, rng=np.random.default_rng(0))
    assert draws.min() >= 0.4 and draws.max() <= 0.6 and np.median(draws) == pytest.approx(0.5, abs=0.01)


def test_shrinkage_moves_an_outlets_own_ratio_by_at_most_the_cap():
    # a differs a lot from b and c but is measured on two noisy articles: the weight alone would pull it far
    e = StratifiedErrors(
        strata=["a", "a"] + ["b"] * 4 + ["c"] * 4,
        gold=[1, 9] + [100, 104, 96, 100] + [110, 106, 114, 110],
        predicted=[10, 10] + [100] * 8,
    )
    a = e.for_stratum("a")
    assert a.weight < 0.9
    assert a.factor == pytest.approx(0.5 * 1.025)  # own 0.5, moved up by the cap of 2.5 %
    assert a.effective_weight == pytest.approx(1 - 0.0125 / (e.for_stratum("z").pooled_ratio - 0.5))
    assert "capped from" in a.method
    fixed = StratifiedErrors(strata=e.strata, gold=e.gold, predicted=e.predicted, max_shift=100.0)
    assert fixed.for_stratum("a").factor == pytest.approx(0.5 + (1 - a.weight) * (a.pooled_ratio - 0.5))


def test_a_stratum_without_cross_validated_articles_is_pooled_spread_and_warned():
    e = StratifiedErrors(strata=["a", "a", "b", "b"], gold=[5, 7, 18, 22], predicted=[10, 10, 10, 10])
    unseen = e.for_stratum("z")
    assert unseen.kind == "pooled" and unseen.factor == pytest.approx(52 / 40)
    assert unseen.method.startswith("pooled precision/recall ratio G/P (no cross-validated articles")
    assert unseen.warning.startswith("no cross-validated articles of this outlet")
    assert unseen.tau == pytest.approx(np.sqrt(e.tau2)) and unseen.tau > 0.5
    # its draws carry the between-strata spread: far wider than the pooled ratio's own sampling spread
    draws = unseen.draw_factors(size=2000, rng=np.random.default_rng(1))
    assert np.std(draws) > 0.8 * unseen.tau and draws.min() >= 0
    no_spans = StratifiedErrors(strata=["a", "b", "b"], gold=[2, 5, 6], predicted=[0, 5, 4]).for_stratum("a")
    assert no_spans.kind == "pooled" and "no predicted span in its 1 cross-validated articles" in no_spans.method
    counts = ArticleCounts(groups=["a", "z"], n_tokens=[100, 100], n_spans=[2, 2])
    rates = group_rates(counts, errors=e, n_resamples=200, seed=0)
    assert rates["z"].corrected_rate_ci_high - rates["z"].corrected_rate_ci_low > 2 * (
        rates["a"].corrected_rate_ci_high - rates["a"].corrected_rate_ci_low
    )


def test_calibration_floor_for_an_outlet_that_differs():
    """A reduced bench/correction_calibration: an outlet with a third of the pool's ratio and 10 cross-validated
    articles. The empirical-Bayes correction is nearly unbiased and covers; the old fixed m = 20 was 68 % too high."""
    from bench.correction_calibration import study

    results = [study(seed, differs="neutral", n_cv=10, resamples=200) for seed in range(60)]
    truth = 5.0
    for name, max_bias, min_coverage in (("empirical Bayes", 0.08, 0.85), ("fixed m = 20", None, None)):
        got = [r[name]["neutral"] for r in results]
        bias = np.mean([g[0] for g in got]) / truth - 1
        coverage = np.mean([g[1] <= truth <= g[2] for g in got])
        if max_bias is None:
            assert bias > 0.4 and coverage < 0.3, (bias, coverage)
        else:
            assert abs(bias) <= max_bias and coverage >= min_coverage, (bias, coverage)
    assert all(r["empirical Bayes"]["unlabelled"][4] for r in results)  # every row of it carries the warning
