"""Rate differences, permutation p-values and multiple-comparison adjustment (ml.stats.comparison)."""

from itertools import combinations

import numpy as np
import pytest

from ml.stats import (
    REST,
    ArticleCounts,
    ClassifierErrors,
    compare_groups,
    group_rates,
    one_vs_rest,
    pairwise_differences,
)
from ml.stats.comparison import permutation_p_value
from ml.stats.multitest import benjamini_hochberg, holm


def _corpus(rates_per_1000: dict, n: int = 150, seed: int = 0) -> ArticleCounts:
    rng = np.random.default_rng(seed)
    groups, tokens, spans = [], [], []
    for g, rate in rates_per_1000.items():
        t = rng.integers(100, 900, n)
        groups += [g] * n
        tokens.append(t)
        spans.append(rng.poisson(t * rate / 1000))
    return ArticleCounts(groups=groups, n_tokens=np.concatenate(tokens), n_spans=np.concatenate(spans))


def test_difference_matches_group_rates_and_clear_differences_are_significant():
    counts = _corpus({"a": 8.0, "b": 2.0})
    d = compare_groups(counts, group_a="a", group_b="b", n_permutations=999)
    rates = group_rates(counts)
    assert d.difference == pytest.approx(rates["a"].rate - rates["b"].rate)
    assert d.ci_low < d.difference < d.ci_high and d.ci_low > 0
    # no null resample is as extreme; the +1 correction keeps p > 0 and the equal-tailed test doubles the tail
    assert d.p_value == pytest.approx(2 / 1000)
    assert (d.n_articles_a, d.n_articles_b, d.test) == (150, 150, "studentized-bootstrap")
    old = compare_groups(counts, group_a="a", group_b="b", n_permutations=999, test="permutation")
    assert old.p_value == pytest.approx(1 / 1000) and old.test == "permutation"
    student = compare_groups(counts, group_a="a", group_b="b", n_permutations=999, test="studentized-permutation")
    assert student.p_value == pytest.approx(1 / 1000) and student.test == "studentized-permutation"


def test_identical_groups_have_p_value_one():
    one = _corpus({"a": 4.0}, n=40)
    counts = ArticleCounts(
        groups=["a"] * 40 + ["b"] * 40,
        n_tokens=np.concatenate([one.n_tokens, one.n_tokens]),
        n_spans=np.concatenate([one.n_spans, one.n_spans]),
    )
    d = compare_groups(counts, group_a="a", group_b="b", n_permutations=500)
    assert d.difference == 0.0 and d.p_value > 0.9  # equal-tailed: T = 0 sits at the median of the null draws
    assert compare_groups(counts, group_a="a", group_b="b", n_permutations=500, test="permutation").p_value == 1.0


def test_permutation_p_value_matches_full_enumeration():
    a = np.array([[100, 3, 1], [200, 1, 1], [150, 0, 0], [120, 4, 1]], dtype=float)
    b = np.array([[300, 1, 1], [100, 0, 0], [250, 1, 1], [90, 0, 0]], dtype=float)
    pooled = np.vstack([a, b])

    def diff(rows_a):
        rows_b = [i for i in range(8) if i not in rows_a]
        sa, sb = pooled[list(rows_a)].sum(0), pooled[rows_b].sum(0)
        return sa[1] / sa[0] - sb[1] / sb[0]

    observed = abs(diff((0, 1, 2, 3)))
    splits = list(combinations(range(8), 4))
    exact = sum(abs(diff(s)) >= observed - 1e-12 for s in splits) / len(splits)
    p, test = permutation_p_value(a, b, n_permutations=20000, rng=np.random.default_rng(0))
    assert test == "permutation"
    assert p == pytest.approx(exact, abs=0.01)


def test_permutation_p_values_are_uniform_under_the_null():
    ps = [
        compare_groups(
            _corpus({"a": 4.0, "b": 4.0}, n=60, seed=s), group_a="a", group_b="b", n_permutations=199
        ).p_value
        for s in range(60)
    ]
    assert 0.3 < np.mean(ps) < 0.7
    assert np.mean(np.array(ps) <= 0.05) < 0.17  # about 5 % expected; 3 false positives of 60 is typical


def test_normal_limit_of_the_permutation_distribution_agrees_with_shuffling():
    counts = _corpus({"a": 4.0, "b": 4.1}, n=2500, seed=3)
    settings = dict(group_a="a", group_b="b", n_permutations=2000, test="permutation")
    exact = compare_groups(counts, exact_max_articles=None, **settings)
    approx = compare_groups(counts, exact_max_articles=1000, **settings)
    assert approx.test == "permutation-normal-approximation"
    assert approx.p_value == pytest.approx(exact.p_value, abs=0.04)
    assert 0.001 < exact.p_value < 0.9


def test_bootstrap_test_agrees_with_its_normal_limit_for_large_groups():
    counts = _corpus({"a": 4.0, "b": 4.15}, n=2500, seed=3)
    exact = compare_groups(counts, group_a="a", group_b="b", exact_max_articles=None, n_permutations=2000)
    approx = compare_groups(counts, group_a="a", group_b="b", exact_max_articles=1000, n_permutations=2000)
    assert approx.p_value == pytest.approx(exact.p_value, abs=0.04)
    assert 0.001 < exact.p_value < 0.9


def test_bootstrap_test_handles_groups_without_spans():
    counts = ArticleCounts(groups=["a"] * 6 + ["b"] * 6, n_tokens=[100] * 12, n_spans=[0] * 6 + [0, 0, 0, 0, 0, 0])
    assert compare_groups(counts, group_a="a", group_b="b", n_permutations=99).p_value == 1.0
    counts = ArticleCounts(groups=["a"] * 30 + ["b"] * 30, n_tokens=[100] * 60, n_spans=[0] * 30 + [2, 3, 1] * 10)
    d = compare_groups(counts, group_a="a", group_b="b", n_permutations=999)
    assert d.p_value < 0.01


def test_unknown_test_is_refused():
    with pytest.raises(ValueError, match="test must be one of"):
        compare_groups(_corpus({"a": 1.0, "b": 2.0}, n=10), group_a="a", group_b="b", test="t")


def test_one_vs_rest_pools_the_other_groups():
    counts = _corpus({"a": 2.0, "b": 4.0, "c": 6.0})
    rows = one_vs_rest(counts, n_permutations=200)
    assert [r.group_a for r in rows] == ["a", "b", "c"] and all(r.group_b == REST for r in rows)
    b_c = np.isin(counts.groups, ["b", "c"])
    assert rows[0].rate_b == pytest.approx(counts.n_spans[b_c].sum() / counts.n_tokens[b_c].sum() * 1000)
    assert rows[0].n_articles_b == 300
    single = compare_groups(counts, group_a="a", n_permutations=200)
    assert single.difference == rows[0].difference and single.ci_low == rows[0].ci_low


def test_pairwise_table_has_every_pair_and_adjusted_p_values():
    counts = _corpus({"a": 3.0, "b": 3.0, "c": 6.0, "d": 3.0}, seed=1)
    rows = pairwise_differences(counts, n_permutations=300)
    assert [(r.group_a, r.group_b) for r in rows] == list(combinations("abcd", 2))
    p = np.array([r.p_value for r in rows])
    assert np.allclose([r.p_holm for r in rows], holm(p)) and np.allclose([r.p_bh for r in rows], benjamini_hochberg(p))
    assert all(r.p_value <= r.p_bh <= r.p_holm for r in rows)
    assert {(r.group_a, r.group_b) for r in rows if r.p_holm < 0.05} == {("a", "c"), ("b", "c"), ("c", "d")}


def test_corrected_difference_scales_with_the_factor():
    counts = _corpus({"a": 5.0, "b": 3.0})
    errors = ClassifierErrors(tp=40, fp=10, fn=20)
    d = compare_groups(counts, group_a="a", group_b="b", errors=errors, n_permutations=100)
    assert d.corrected_difference == pytest.approx(d.difference * errors.factor)
    assert d.corrected_ci_low < d.corrected_difference < d.corrected_ci_high


def test_comparison_inputs_are_checked():
    counts = _corpus({"a": 1.0, "b": 2.0}, n=10)
    with pytest.raises(ValueError, match="unknown group"):
        compare_groups(counts, group_a="a", group_b="zzz")
    with pytest.raises(ValueError, match="must differ"):
        compare_groups(counts, group_a="a", group_b="a")
    with pytest.raises(ValueError, match="n_permutations must be an integer"):
        compare_groups(counts, group_a="a", group_b="b", n_permutations=0)
    with pytest.raises(ValueError, match="at least two groups"):
        one_vs_rest(_corpus({"a": 1.0}, n=10))


def test_holm_and_bh_match_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(9)
    for m in (1, 2, 7, 40):
        p = np.concatenate([rng.uniform(0, 1, m - m // 3), rng.uniform(0, 0.01, m // 3)])
        p[: m // 4] = p[0]  # ties
        assert np.allclose(holm(p), multitest.multipletests(p, method="holm")[1])
        assert np.allclose(benjamini_hochberg(p), multitest.multipletests(p, method="fdr_bh")[1])


def test_holm_and_bh_by_hand():
    p = [0.01, 0.04, 0.03, 0.20]
    # Holm: sorted 0.01*4=0.04, 0.03*3=0.09, 0.04*2=0.08 -> 0.09 (monotone), 0.20*1 -> 0.20
    assert holm(p) == pytest.approx([0.04, 0.09, 0.09, 0.20])
    # BH: 0.01*4/1=0.04, 0.03*4/2=0.06, 0.04*4/3=0.0533, 0.20 -> min from the top: 0.04, 0.0533, 0.0533, 0.20
    assert benjamini_hochberg(p) == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])
    with pytest.raises(ValueError, match="between 0 and 1"):
        holm([0.5, 1.2])
