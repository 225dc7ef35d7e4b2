"""Term choice (variant shares), distinctive terms (weighted log-odds) and period keys."""

import math
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pytest

from ml.stats import distinctive_terms, period_start, period_starts, variant_shares


def test_variant_shares_by_hand_and_interval_over_articles():
    groups = ["a", "a", "a", "b", "b"]
    counts = [[2, 0, 1], [1, 1, 0], [0, 0, 0], [0, 3, 0], [0, 0, 0]]
    variants = ["terrorists", "rebels", "militants"]
    rows = variant_shares(groups=groups, counts=counts, variants=variants, n_resamples=400, method="percentile")
    by = {(r.group, r.variant): r for r in rows}
    assert by["a", "terrorists"].share == pytest.approx(3 / 5) and by["a", "terrorists"].count == 3
    assert by["a", "rebels"].share == pytest.approx(1 / 5) and by["a", "rebels"].n_mentions == 5
    assert by["b", "rebels"].share == 1.0 and by["b", "terrorists"].share == 0.0
    assert by["b", "rebels"].ci_low == 1.0  # every resample that mentions the concept says "rebels"
    a_terr = by["a", "terrorists"]
    # Article 1 alone says 2/3 "terrorists", article 2 alone 1/2, article 3 has no mention.  Resamples without
    # article 1 (or without article 2) each have probability (2/3)^3 - (1/3)^3 = 7/27 > 2.5 %, so the interval
    # is exactly [1/2, 2/3].
    assert (a_terr.ci_low, a_terr.ci_high) == pytest.approx((1 / 2, 2 / 3))
    assert a_terr.n_articles == 3 and a_terr.method == "percentile"
    # the default interval (Wilson on effective mentions) is never zero-width and flags groups of few mentioning
    # articles
    rows = variant_shares(groups=groups, counts=counts, variants=variants, n_resamples=50)
    for r in rows:
        assert r.method == "effective-count" and r.ci_low <= r.share <= r.ci_high and r.ci_high > r.ci_low
    by = {(r.group, r.variant): r for r in rows}
    assert by["b", "rebels"].too_small and by["b", "rebels"].n_articles_mentioning == 1
    assert by["b", "rebels"].ci_low < 1.0 and by["b", "terrorists"].ci_high > 0.0


def test_variant_shares_without_mentions_are_nan_and_bad_matrices_rejected():
    rows = variant_shares(groups=["x"], counts=[[0, 0]], variants=["u", "v"], n_resamples=20)
    assert all(math.isnan(r.share) for r in rows)
    with pytest.raises(ValueError, match="expected \\(2, 2\\)"):
        variant_shares(groups=["x", "y"], counts=[[1, 2, 3]], variants=["u", "v"])
    with pytest.raises(ValueError, match="distinct names"):
        variant_shares(groups=["x"], counts=[[1, 2]], variants=["u", "u"])
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        variant_shares(groups=["x"], counts=[[1, -2]], variants=["u", "v"])


def test_weighted_log_odds_matches_hand_computation():
    # Group A uses term 0 a lot, B term 1; term 2 is used equally.  Prior size 10 from corpus counts (12, 8, 10) / 30.
    counts = [[10, 0, 5], [2, 8, 5]]
    rows = distinctive_terms(counts=counts, terms=["t0", "t1", "t2"], groups=["A", "B"], group="A", prior_size=10)
    by = {r.term: r for r in rows}
    a0_term = 10 * 12 / 30  # alpha for t0 = 4
    delta0 = math.log((10 + a0_term) / (15 + 10 - 10 - a0_term)) - math.log((2 + a0_term) / (15 + 10 - 2 - a0_term))
    z0 = delta0 / math.sqrt(1 / (10 + a0_term) + 1 / (2 + a0_term))
    assert by["t0"].delta == pytest.approx(delta0) and by["t0"].z == pytest.approx(z0)
    a1 = 10 * 8 / 30
    delta1 = math.log(a1 / (25 - a1)) - math.log((8 + a1) / (25 - 8 - a1))
    assert by["t1"].delta == pytest.approx(delta1)
    assert by["t2"].delta == pytest.approx(0.0)
    assert [r.term for r in rows] == ["t0", "t2", "t1"]
    assert (by["t0"].count_group, by["t0"].count_rest) == (10, 2)


def test_log_odds_is_symmetric_and_skips_unseen_terms():
    counts = np.array([[10, 0, 5, 0], [2, 8, 5, 0], [1, 1, 1, 0]])
    a = {r.term: r for r in distinctive_terms(counts=counts, terms="wxyz", groups=[1, 2, 3], group=1)}
    assert "z" not in a
    two = np.array([[10, 0, 5], [3, 9, 6]])
    x = {r.term: r.z for r in distinctive_terms(counts=two, terms="wxy", groups=["p", "q"], group="p")}
    y = {r.term: r.z for r in distinctive_terms(counts=two, terms="wxy", groups=["p", "q"], group="q")}
    assert all(x[t] == pytest.approx(-y[t]) for t in "wxy")
    with pytest.raises(ValueError, match="unknown group"):
        distinctive_terms(counts=two, terms="wxy", groups=["p", "q"], group="r")
    with pytest.raises(ValueError, match="prior_size must be a positive number"):
        distinctive_terms(counts=two, terms="wxy", groups=["p", "q"], group="p", prior_size=0)


def test_log_odds_prior_scales_with_the_corpus():
    # The same proportions with 100x the counts: delta unchanged, z grows by exactly sqrt(100) = 10 (the evidence of
    # a 100x larger sample), the order of terms is the same.  A fixed prior (alpha0 = 1000) moved z by 27-34x here.
    counts = np.array([[12, 3, 40, 5, 0], [6, 9, 70, 5, 2], [2, 1, 30, 9, 1]])
    terms, groups = ["a", "b", "c", "d", "e"], ["x", "y", "w"]
    small = {r.term: r for r in distinctive_terms(counts=counts, terms=terms, groups=groups, group="x")}
    big_rows = distinctive_terms(counts=counts * 100, terms=terms, groups=groups, group="x")
    big = {r.term: r for r in big_rows}
    for t in terms:
        assert big[t].delta == pytest.approx(small[t].delta, rel=1e-12, abs=1e-12)
        assert big[t].z == pytest.approx(10 * small[t].z, rel=1e-12, abs=1e-12)
    assert [r.term for r in big_rows] == sorted(terms, key=lambda t: (-small[t].z, t))
    # Default prior: alpha_w = 1 % of the term's corpus count, by hand for term "a" (corpus count 20, total 195).
    alpha, a0 = 0.01 * 20, 0.01 * 195
    n_x, n_rest = 60, 135
    delta = math.log((12 + alpha) / (n_x + a0 - 12 - alpha)) - math.log((8 + alpha) / (n_rest + a0 - 8 - alpha))
    assert small["a"].delta == pytest.approx(delta)
    assert small["a"].z == pytest.approx(delta / math.sqrt(1 / (12 + alpha) + 1 / (8 + alpha)))
    fixed = {
        r.term: r.z for r in distinctive_terms(counts=counts, terms=terms, groups=groups, group="x", prior_size=1000)
    }
    fixed_big = {
        r.term: r.z
        for r in distinctive_terms(counts=counts * 100, terms=terms, groups=groups, group="x", prior_size=1000)
    }
    assert fixed_big["a"] / fixed["a"] > 30  # what the fixed prior did
    with pytest.raises(ValueError, match="prior_fraction must be a positive number"):
        distinctive_terms(counts=counts, terms=terms, groups=groups, group="x", prior_fraction=0)


def test_log_odds_degenerate_input_gives_no_nan():
    one = distinctive_terms(counts=[[5], [7]], terms=["only"], groups=["p", "q"], group="p")
    assert [(r.term, r.delta, r.z) for r in one] == [("only", 0.0, 0.0)]
    # one word left in the corpus among several columns: still no NaN
    rows = distinctive_terms(counts=[[5, 0], [7, 0]], terms=["only", "never"], groups=["p", "q"], group="q")
    assert [(r.term, r.delta, r.z) for r in rows] == [("only", 0.0, 0.0)]
    assert distinctive_terms(counts=np.zeros((2, 3), dtype=int), terms="abc", groups=["p", "q"], group="p") == []
    # a word only one group uses: finite, over-used there
    rows = distinctive_terms(counts=[[3, 10], [0, 10]], terms=["own", "shared"], groups=["p", "q"], group="p")
    assert all(math.isfinite(r.z) and math.isfinite(r.delta) for r in rows) and rows[0].term == "own"


def test_period_starts():
    d = datetime(2024, 3, 14, 23, 30, tzinfo=UTC)  # a Thursday
    assert period_start(d, granularity="year") == date(2024, 1, 1)
    assert period_start(d, granularity="month") == date(2024, 3, 1)
    assert period_start(d, granularity="week") == date(2024, 3, 11)
    assert period_start(d, granularity="all") is None
    assert period_start(None, granularity="week") is None
    sunday = date(2024, 3, 17)
    assert period_start(sunday, granularity="week") == date(2024, 3, 11)  # ISO weeks start on Monday
    assert period_start(date(2021, 1, 2), granularity="week") == date(2020, 12, 28)  # crosses the year
    plus2 = timezone(timedelta(hours=2))
    late = datetime(2024, 3, 31, 23, 30, tzinfo=UTC)  # already April 1st in UTC+2
    assert period_start(late, granularity="month", tz=plus2) == date(2024, 4, 1)
    assert period_starts([d, None], granularity="month") == [date(2024, 3, 1), None]
    with pytest.raises(ValueError, match="granularity must be one of"):
        period_start(d, granularity="quarter")
    with pytest.raises(ValueError, match="expected a date"):
        period_start("2024-03-14", granularity="year")
