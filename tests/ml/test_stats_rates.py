"""Rates, shares and their bootstrap intervals (ml.stats.rates), on hand-computed tiny corpora."""

import numpy as np
import pytest

from ml.stats import ArticleCounts, ClassifierErrors, group_rates
from ml.stats.bootstrap import Resampling, resample_sums

TINY = ArticleCounts(groups=["a", "a", "b"], n_tokens=[100, 300, 200], n_spans=[2, 0, 1])


def test_rates_shares_and_counts_match_hand_computation():
    r = group_rates(TINY, n_resamples=500)
    assert list(r) == ["a", "b"]
    a, b = r["a"], r["b"]
    assert a.rate == pytest.approx(2 / 400 * 1000)  # 5 per 1,000 tokens
    assert a.share == 0.5
    assert (a.n_articles, a.n_tokens, a.n_spans) == (2, 400, 2)
    assert b.rate == pytest.approx(5.0) and b.share == 1.0
    assert (a.method, a.n_resamples, a.seed, a.confidence, a.resampling) == (
        "effective-count",
        500,
        0,
        0.95,
        "articles",
    )


def test_two_article_bootstrap_has_the_hand_computed_support():
    # Resamples of {a1, a2}: {a1,a1} -> 20, {a2,a2} -> 0, {a1,a2} -> 5 per 1,000, with probabilities 1/4, 1/4, 1/2.
    a = group_rates(TINY, n_resamples=2000, seed=3, method="percentile")["a"]
    assert (a.rate_ci_low, a.rate_ci_high) == (0.0, 20.0)
    assert (a.share_ci_low, a.share_ci_high) == (0.0, 1.0)
    sums, _ = resample_sums(np.array([[100.0, 2.0], [300.0, 0.0]]), n_resamples=4000, rng=np.random.default_rng(1))
    rates = np.round(sums[:, 1] / sums[:, 0] * 1000, 9)
    values, freq = np.unique(rates, return_counts=True)
    assert list(values) == [0.0, 5.0, 20.0]
    assert freq / freq.sum() == pytest.approx([0.25, 0.5, 0.25], abs=0.03)


def test_single_article_group_has_a_degenerate_bootstrap_interval_but_not_a_degenerate_default_one():
    b = group_rates(TINY, n_resamples=200, method="bca")["b"]
    assert b.rate_ci_low == b.rate_ci_high == pytest.approx(5.0)
    assert b.share_ci_low == b.share_ci_high == 1.0
    b = group_rates(TINY, n_resamples=200)["b"]
    assert b.rate_ci_low < 5.0 < b.rate_ci_high and b.share_ci_low < 1.0 == b.share_ci_high
    assert (
        b.too_small and not group_rates(ArticleCounts(groups=[0] * 5, n_tokens=[9] * 5, n_spans=[1] * 5))[0].too_small
    )


def test_groups_without_spans_get_a_positive_upper_bound():
    r = group_rates(ArticleCounts(groups=[0] * 10, n_tokens=[200] * 10, n_spans=[0] * 10))[0]
    assert r.rate == 0.0 and r.rate_ci_low == 0.0 and r.rate_ci_high > 0.5  # Jeffreys: Gamma(1/2) 97.5 % / 2,000
    assert r.share_ci_low == 0.0 and r.share_ci_high > 0.1
    old = group_rates(ArticleCounts(groups=[0] * 10, n_tokens=[200] * 10, n_spans=[0] * 10), method="percentile")[0]
    assert old.rate_ci_high == 0.0  # what the percentile bootstrap said


def test_corrected_rate_uses_precision_over_recall_and_widens_the_interval():
    rng = np.random.default_rng(0)
    tokens = rng.integers(100, 800, 300)
    counts = ArticleCounts(groups=np.zeros(300, dtype=int), n_tokens=tokens, n_spans=rng.poisson(tokens * 0.01))
    errors = ClassifierErrors(tp=8, fp=2, fn=8)  # precision 0.8, recall 0.5
    r = group_rates(counts, errors=errors)[0]
    assert errors.factor == pytest.approx(1.6)
    assert r.corrected_rate == pytest.approx(r.rate * 1.6)
    assert r.corrected_n_spans == pytest.approx(r.n_spans * 1.6)
    assert r.corrected_rate_ci_high - r.corrected_rate_ci_low > 3 * (r.rate_ci_high - r.rate_ci_low)
    assert r.corrected_rate_ci_low < r.corrected_rate < r.corrected_rate_ci_high
    tight = group_rates(counts, errors=ClassifierErrors(tp=8000, fp=2000, fn=8000))[0]
    assert (
        tight.corrected_rate_ci_high - tight.corrected_rate_ci_low < r.corrected_rate_ci_high - r.corrected_rate_ci_low
    )
    assert r.rate_ci_low == tight.rate_ci_low  # uncorrected interval unaffected by the correction


def test_probabilistic_rate_from_score_sums():
    counts = ArticleCounts(groups=["a", "a"], n_tokens=[100, 100], n_spans=[1, 1], score_sum=[0.5, 1.5])
    r = group_rates(counts, n_resamples=100)["a"]
    assert r.prob_rate == pytest.approx(10.0)
    assert r.corrected_rate is None


def test_same_seed_same_numbers_other_seed_other_numbers_and_groups_are_independent():
    rng = np.random.default_rng(5)
    tokens = rng.integers(50, 900, 400)
    counts = ArticleCounts(groups=np.repeat(["x", "y"], 200), n_tokens=tokens, n_spans=rng.poisson(tokens * 0.005))
    first, again = group_rates(counts, seed=11, method="percentile"), group_rates(counts, seed=11, method="percentile")
    assert first == again
    other = group_rates(counts, seed=12, method="percentile")
    assert other["x"].rate == first["x"].rate
    assert other["x"].rate_ci_low != first["x"].rate_ci_low
    only_x = ArticleCounts(groups=["x"] * 200, n_tokens=tokens[:200], n_spans=counts.n_spans[:200])
    assert group_rates(only_x, seed=11, method="percentile")["x"] == first["x"]


def test_bca_differs_from_percentile_but_brackets_the_estimate():
    rng = np.random.default_rng(2)
    tokens = rng.integers(20, 2000, 60)
    counts = ArticleCounts(groups=[1] * 60, n_tokens=tokens, n_spans=rng.poisson(tokens * 0.002))
    p, b = group_rates(counts, seed=1, method="percentile")[1], group_rates(counts, seed=1, method="bca")[1]
    assert b.method == "bca"
    assert (b.rate_ci_low, b.rate_ci_high) != (p.rate_ci_low, p.rate_ci_high)
    assert b.rate_ci_low < b.rate < b.rate_ci_high


def test_large_groups_use_the_normal_limit_which_agrees_with_exact_resampling():
    rng = np.random.default_rng(4)
    tokens = rng.integers(100, 1500, 6000)
    counts = ArticleCounts(groups=[0] * 6000, n_tokens=tokens, n_spans=rng.poisson(tokens * 0.003))
    approx = group_rates(counts, exact_max_articles=2000, method="percentile")[0]
    exact = group_rates(counts, exact_max_articles=None, method="percentile")[0]
    assert approx.resampling == Resampling.NORMAL.value and exact.resampling == Resampling.ARTICLES.value
    width = exact.rate_ci_high - exact.rate_ci_low
    assert approx.rate_ci_low == pytest.approx(exact.rate_ci_low, abs=0.1 * width)
    assert approx.rate_ci_high == pytest.approx(exact.rate_ci_high, abs=0.1 * width)
    assert approx.share_ci_low == pytest.approx(
        exact.share_ci_low, abs=0.1 * (exact.share_ci_high - exact.share_ci_low)
    )


def test_sparse_large_groups_keep_exact_resampling():
    tokens = np.full(5000, 300)
    spans = np.zeros(5000, dtype=int)
    spans[:5] = 1  # five articles with a span: the sum is far from normal
    r = group_rates(ArticleCounts(groups=[0] * 5000, n_tokens=tokens, n_spans=spans), exact_max_articles=1000)[0]
    assert r.resampling == "articles"
    assert r.rate_ci_low >= 0


def test_group_without_tokens_gives_nan_rate():
    r = group_rates(ArticleCounts(groups=["e"], n_tokens=[0], n_spans=[0]), n_resamples=10)["e"]
    assert np.isnan(r.rate) and np.isnan(r.rate_ci_low)
    assert r.share == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_tokens": [1, -1], "n_spans": [0, 0]}, "n_tokens contains negative"),
        ({"n_tokens": [1, 2], "n_spans": [0.5, 0]}, "n_spans must hold whole numbers"),
        ({"n_tokens": [1, 2], "n_spans": [0]}, "same length"),
        ({"n_tokens": [1, np.nan], "n_spans": [0, 0]}, "NaN"),
        ({"n_tokens": [[1, 2]], "n_spans": [0, 0]}, "one-dimensional"),
    ],
)
def test_bad_article_tables_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ArticleCounts(groups=["a", "b"], **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_resamples": 1}, "n_resamples must be an integer >= 2"),
        ({"confidence": 1.5}, "confidence must be"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"method": "basic"}, "method must be one of"),
        ({"errors": (1, 2, 3)}, "errors must be a ClassifierErrors"),
    ],
)
def test_bad_settings_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        group_rates(TINY, **kwargs)


def test_classifier_errors_need_a_true_positive():
    with pytest.raises(ValueError, match="tp must be at least 1"):
        ClassifierErrors(tp=0, fp=3, fn=2)
    with pytest.raises(ValueError, match="fn must be a non-negative integer"):
        ClassifierErrors(tp=1, fp=3, fn=-2)


def test_mixed_group_key_types_are_rejected():
    with pytest.raises(ValueError, match="mutually comparable"):
        group_rates(ArticleCounts(groups=np.array(["a", 1], dtype=object), n_tokens=[1, 1], n_spans=[0, 0]))


def test_adjusted_count_subtracts_false_positives_and_divides_by_recall():
    from ml.stats import ArticleCounts, ClassifierErrors, group_rates

    # CV: 80 true positives, 40 false positives over 20,000 tokens (2 per 1k), 20 missed: recall 0.8.
    errors = ClassifierErrors(tp=80, fp=40, fn=20, n_tokens=20_000)
    assert errors.fp_rate == pytest.approx(2.0) and errors.factor == pytest.approx(1.25)
    counts = ArticleCounts(
        groups=["loaded", "loaded", "neutral", "neutral"], n_tokens=[1000] * 4, n_spans=[12, 10, 2, 2]
    )
    rates = group_rates(counts, errors=errors, n_resamples=400, seed=1)
    # loaded: observed 11 per 1k → (11 - 2) / 0.8; neutral: observed 2 per 1k, all of it false positives → 0.
    assert rates["loaded"].corrected_rate == pytest.approx((11 - 2) / 0.8)
    assert rates["neutral"].corrected_rate == pytest.approx(0.0)
    assert (
        rates["loaded"].corrected_rate_ci_low
        <= rates["loaded"].corrected_rate
        <= rates["loaded"].corrected_rate_ci_high
    )
    assert rates["neutral"].corrected_rate_ci_low >= 0.0


def test_adjusted_count_recovers_true_rates_where_the_ratio_over_counts_neutral_outlets():
    import numpy as np

    from ml.stats import ArticleCounts, ClassifierErrors, group_rates

    rng = np.random.default_rng(3)
    true_rate = {"neutral": 1.0, "middle": 10.0, "loaded": 30.0}  # per 1k tokens
    recall, fp_per_1k = 0.6, 4.0
    groups, tokens, spans = [], [], []
    for name, rate in true_rate.items():
        for _ in range(400):
            n = 500
            real = rng.poisson(rate * n / 1000)
            found = rng.binomial(real, recall) + rng.poisson(fp_per_1k * n / 1000)
            groups.append(name), tokens.append(n), spans.append(found)
    tp, fn = 6000, 4000  # CV counts consistent with recall 0.6
    fp = int(fp_per_1k * 2_000_000 / 1000)
    adjusted = group_rates(
        ArticleCounts(groups=groups, n_tokens=tokens, n_spans=spans),
        errors=ClassifierErrors(tp=tp, fp=fp, fn=fn, n_tokens=2_000_000), n_resamples=300, seed=2,
    )  # fmt: skip
    ratio = group_rates(
        ArticleCounts(groups=groups, n_tokens=tokens, n_spans=spans),
        errors=ClassifierErrors(tp=tp, fp=fp, fn=fn), n_resamples=300, seed=2,
    )  # fmt: skip
    for name, rate in true_rate.items():
        assert adjusted[name].corrected_rate == pytest.approx(rate, rel=0.25, abs=0.6)
    assert ratio["neutral"].corrected_rate > 3 * true_rate["neutral"]  # the ratio keeps the false positives


def test_the_closed_form_intervals_equal_scipy_stats_without_importing_it():
    """The web process computes these intervals; scipy.stats would add ~80 MiB to it (docs/benchmarks.md, Lean
    processes), so they use the scipy.special functions behind norm, t and gamma's ppf: same values, to the bit."""
    import subprocess
    import sys

    from scipy.stats import gamma, norm, t

    from ml.stats import intervals

    spans, tokens = np.array([30.0, 0, 1, 0]), np.array([400.0, 250, 900, 120])
    s, n_tok = spans.sum(), tokens.sum()
    d = intervals.design_effect(spans, tokens, s / n_tok**2, confidence=0.9)
    assert d > 1  # so the t quantile takes part
    x, m = spans - s / n_tok * tokens, tokens
    variance = 4 / 3 * float((x**2).sum()) / m.sum() ** 2
    z = norm.ppf(1 - (1.0 - 0.9) / 2)
    assert d == 1.0 + (variance / (s / n_tok**2) - 1.0) * (t.ppf(1 - (1.0 - 0.9) / 2, 3) / z) ** 2
    low, high = intervals.rate_interval(spans, tokens, confidence=0.9)
    alpha = 1.0 - 0.9
    assert (low, high) == (
        gamma.ppf(alpha / 2, s / d + 0.5) / (n_tok / d) * 1000,
        gamma.ppf(1 - alpha / 2, s / d + 0.5) / (n_tok / d) * 1000,
    )
    p, z = 3 / 10, norm.ppf(1 - (1 - 0.95) / 2)
    centre = (p + z * z / 20) / (1 + z * z / 10)
    half = z * np.sqrt(p * (1 - p) / 10 + z * z / 400) / (1 + z * z / 10)
    assert intervals.binomial_interval(3, 10, confidence=0.95) == (centre - half, centre + half)

    code = (
        "import sys, numpy as np\n"
        "from ml.stats import intervals\n"
        "intervals.rate_interval(np.array([3.0, 0, 7]), np.array([400.0, 250, 900]), confidence=0.95)\n"
        "intervals.binomial_interval(3, 10, confidence=0.95)\n"
        "print('scipy.stats' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
