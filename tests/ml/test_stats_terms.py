"""Term choice (variant shares), distinctive terms (weighted log-odds) and period keys."""

import math
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pytest

from ml.stats import distinctive_terms, period_start, period_starts, variant_shares


def test_variant_shares_by_hand_and_interval_over_articles():
    groups = ["a", "a", "a", "b", "b"]
    counts = [[2, 0, 1], [1, 1, 0], [0, 0, 0], [0, 3, 0], [0, 0, 0]]
    rows = variant_shares(groups=groups, counts=counts, variants=["terrorists", "rebels", "militants"], n_resamples=400)
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
