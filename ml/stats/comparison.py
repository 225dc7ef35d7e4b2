"""Differences of rates between groups: bootstrap CI, studentized bootstrap p-value, Holm / BH adjusted tables.

The difference ``rate_a - rate_b`` (per 1,000 tokens) gets a percentile interval from the same
per-group article bootstrap as :func:`ml.stats.rates.group_rates` (same seed, same draws), and a
two-sided p-value from a studentized cluster bootstrap under the null (:func:`bootstrap_p_value`): each group's
spans are shifted to the pooled rate, articles are resampled within each group, and the statistic
``(R_a - R_b) / sqrt(v_a + v_b)`` (cluster variances at the pooled rate) is referred to its resampled
distribution, equal-tailed. Unlike shuffling articles between groups it stays valid when the groups differ in
size and in how unevenly spans spread over their articles (chosen by simulation, docs/statistics.md). The old
permutation tests remain available (``test="permutation"``, ``"studentized-permutation"``) for comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from itertools import combinations

import numpy as np

from ml.stats.bootstrap import (
    CHUNK_DRAWS,
    EXACT_MAX_ARTICLES,
    IntervalMethod,
    check_confidence,
    check_positive_int,
    check_seed,
    interval,
    normal_draws,
    normal_limit_applies,
    resample_sums,
    stream,
)
from ml.stats.data import ArticleCounts, split_by_group
from ml.stats.errors import ClassifierErrors
from ml.stats.multitest import benjamini_hochberg, holm
from ml.stats.rates import CORRECTION_STREAM, SPANS, TOK, GroupDraws, bootstrap_groups, ratio

#: Stands for "every other group" in one-vs-rest comparisons.
REST = "(rest)"
#: The tests ``compare_groups`` can run; the first is the default.
TESTS = ("studentized-bootstrap", "studentized-permutation", "permutation")
#: What each test is, in words, for a result's method text.
TEST_TEXT = {
    "studentized-bootstrap": "studentized cluster bootstrap test under the null (articles resampled within each "
    "outlet, spans shifted to the pooled rate; valid for outlets of different size and dispersion)",
    "studentized-permutation": "studentized permutation test (Chung & Romano 2013)",
    "permutation": "permutation test (articles shuffled between outlets; assumes they are exchangeable)",
    "permutation-normal-approximation": "permutation test, normal limit of the shuffles (assumes exchangeable "
    "articles)",
}


def describe(result: RateDifference) -> str:
    """The method text of a comparison: interval and test, with their resamples and seed."""
    return (
        f"{result.method} bootstrap CI over articles ({result.n_resamples} resamples, {result.confidence:.0%}); "
        f"p-value: {TEST_TEXT[result.test]}, {result.n_permutations} resamples, seed {result.seed}"
    )


@dataclass(frozen=True)
class RateDifference:
    """``rate_a - rate_b`` per 1,000 tokens with its CI and permutation p-value (adjusted ones in tables)."""

    group_a: Hashable
    group_b: Hashable
    rate_a: float
    rate_b: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    n_articles_a: int
    n_articles_b: int
    n_resamples: int
    n_permutations: int
    seed: int
    confidence: float
    method: str
    test: str
    p_holm: float | None = None
    p_bh: float | None = None
    corrected_difference: float | None = None
    corrected_ci_low: float | None = None
    corrected_ci_high: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Settings:
    n_resamples: int
    n_permutations: int
    confidence: float
    seed: int
    exact_max_articles: int | None
    errors: ClassifierErrors | None
    test: str = TESTS[0]


def _settings(n_resamples, n_permutations, confidence, seed, exact_max_articles, errors, test=TESTS[0]) -> _Settings:
    if test not in TESTS:
        raise ValueError(f"test must be one of {list(TESTS)}, got {test!r}")
    if errors is not None and not isinstance(errors, ClassifierErrors):
        # with one factor per outlet, "equal corrected rates" is no longer "equal rates": the permutation test
        # of the uncorrected difference would not test the corrected one
        raise ValueError(
            "errors must be a ClassifierErrors (tp, fp, fn) or None; per-stratum corrections (StratifiedErrors) "
            "apply to group_rates only, not to comparisons"
        )
    if exact_max_articles is not None:
        exact_max_articles = check_positive_int("exact_max_articles", exact_max_articles, minimum=0)
    return _Settings(
        n_resamples=check_positive_int("n_resamples", n_resamples, minimum=2),
        n_permutations=check_positive_int("n_permutations", n_permutations),
        confidence=check_confidence(confidence),
        seed=check_seed(seed),
        exact_max_articles=exact_max_articles,
        errors=errors,
        test=test,
    )


def permutation_p_value(
    values_a: np.ndarray,
    values_b: np.ndarray,
    *,
    n_permutations: int,
    rng: np.random.Generator,
    exact_max_articles: int | None = EXACT_MAX_ARTICLES,
) -> tuple[float, str]:
    """Two-sided permutation p-value of the rate difference between two sets of articles (tokens, spans).

    When both groups exceed ``exact_max_articles`` (and no column is sparse), the permuted sums of
    group a are drawn from their finite-population normal limit (Hájek 1960) instead of shuffling.
    """
    pooled = np.vstack([values_a, values_b])[:, [TOK, SPANS]]
    n_a, n_total = len(values_a), len(pooled)
    total = pooled.sum(axis=0)
    sums_a_obs = pooled[:n_a].sum(axis=0)
    observed = _diff(sums_a_obs[None, :], (total - sums_a_obs)[None, :])[0]
    if not np.isfinite(observed):
        return float("nan"), "permutation"
    if (
        exact_max_articles is not None
        and min(n_a, n_total - n_a) > exact_max_articles
        and normal_limit_applies(pooled, exact_max_articles=exact_max_articles)
    ):
        cov = np.cov(pooled, rowvar=False, ddof=0) * n_a * (n_total - n_a) / (n_total - 1)
        sums_a = n_a * pooled.mean(axis=0) + normal_draws(cov, size=n_permutations, rng=rng)
        test = "permutation-normal-approximation"
    else:
        sums_a = _shuffled_sums(pooled, n_a, n_permutations=n_permutations, rng=rng)
        test = "permutation"
    stats = _diff(sums_a, total - sums_a)
    tolerance = 1e-9 * max(1.0, abs(observed))
    extreme = ~(np.abs(stats) < abs(observed) - tolerance)  # NaN counts as extreme (conservative)
    return float((1 + extreme.sum()) / (1 + n_permutations)), test


def _moments(values: np.ndarray) -> np.ndarray:
    """Per-article columns t, s, s^2, s*t, t^2 (tokens, spans): sums of them give a ratio and its cluster variance."""
    t, s = values[:, TOK], values[:, SPANS]
    return np.column_stack([t, s, s * s, s * t, t * t])


def _studentized(sums_a: np.ndarray, n_a: int, sums_b: np.ndarray, n_b: int, at: np.ndarray | None) -> np.ndarray:
    """``(R_a - R_b) / sqrt(v_a + v_b)`` from moment sums (rows: draws); ``v`` is the with-replacement cluster
    variance of each ratio, its residuals taken at ``at`` (the pooled rate of each draw; None: each group's own)."""

    def part(sums: np.ndarray, n: int):
        tokens = sums[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = sums[:, 1] / tokens
            centre = rate if at is None else at
            ss = sums[:, 2] - 2 * centre * sums[:, 3] + centre**2 * sums[:, 4]
            return rate, np.maximum(ss, 0.0) / tokens**2 * n / max(n - 1, 1)

    rate_a, var_a = part(sums_a, n_a)
    rate_b, var_b = part(sums_b, n_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = (rate_a - rate_b) / np.sqrt(var_a + var_b)
    # no spread at all: equal rates are no evidence of a difference, unequal ones are (an infinite statistic)
    return np.where((var_a + var_b > 0) | (rate_a != rate_b), stat, 0.0)


def bootstrap_p_value(
    strata_a: list[np.ndarray],
    strata_b: list[np.ndarray],
    *,
    n_resamples: int,
    rng: np.random.Generator,
    exact_max_articles: int | None = EXACT_MAX_ARTICLES,
) -> float:
    """Two-sided p-value of "equal rates" from a studentized cluster bootstrap under the null.

    ``strata_a``/``strata_b``: the per-article matrices (tokens, spans columns) of each side, one per stratum (a
    single group, or the groups of "the rest": each is resampled within itself). The statistic is
    ``T = (R_a - R_b) / sqrt(v_a(R0) + v_b(R0))`` with ``v`` the cluster (article) variance of a ratio of sums,
    residuals at the pooled rate ``R0`` (a score-type studentization). The null is imposed by shifting each side's
    spans to ``R0`` (``s + (R0 - R) t``: each article keeps its residual); articles are resampled with replacement within each
    stratum, ``T*`` is recomputed (``R0*`` from the draw), and
    ``p = 2 min(1 + #{T* <= T}, 1 + #{T* >= T}) / (1 + n_resamples)`` (equal-tailed; capped at 1). A draw whose
    statistic is undefined counts as extreme on both sides.
    """
    sides = []
    for strata in (strata_a, strata_b):
        moments = [_moments(v) for v in strata]
        sides.append((moments, sum(len(v) for v in strata), np.sum([m.sum(axis=0) for m in moments], axis=0)))
    (mom_a, n_a, obs_a), (mom_b, n_b, obs_b) = sides
    if obs_a[0] <= 0 or obs_b[0] <= 0:
        return float("nan")
    pooled = (obs_a[1] + obs_b[1]) / (obs_a[0] + obs_b[0])
    observed = _studentized(obs_a[None], n_a, obs_b[None], n_b, np.array([pooled]))[0]
    draws = []
    for moments, obs in ((mom_a, obs_a), (mom_b, obs_b)):
        total = np.zeros((n_resamples, 5))
        for m in moments:
            sums, _ = resample_sums(m, n_resamples=n_resamples, rng=rng, exact_max_articles=exact_max_articles)
            total += sums
        draws.append(_to_null(total, observed=obs, pooled=pooled))
    sums_a, sums_b = draws
    with np.errstate(divide="ignore", invalid="ignore"):
        at = (sums_a[:, 1] + sums_b[:, 1]) / (sums_a[:, 0] + sums_b[:, 0])
    stats = _studentized(sums_a, n_a, sums_b, n_b, at)
    undefined = ~np.isfinite(stats) & np.isnan(stats)
    tolerance = 1e-9 * max(1.0, abs(observed)) if np.isfinite(observed) else 0.0
    low = ((stats <= observed + tolerance) | undefined).sum()
    high = ((stats >= observed - tolerance) | undefined).sum()
    return float(min(1.0, 2 * (1 + min(low, high)) / (1 + n_resamples)))


def _to_null(sums: np.ndarray, *, observed: np.ndarray, pooled: float) -> np.ndarray:
    """Moment sums of a side moved to the pooled rate ``R0``: ``s -> R0 t + a (s - R t)``, every article keeps its
    residual, rescaled by ``a`` so that the residual sum of squares ``Q = P + E`` (``P = S``, its Poisson part,
    and the excess ``E = max(Q - S, 0)``) becomes what it would be at ``R0``: ``f P + f^2 E`` with
    ``f = R0 / R``. (Scaling spans by ``f`` alone inflates the Poisson part of a side with few spans ``f``-fold;
    shifting them alone keeps the spread of the observed rate; both distort type-I error or power.) Affine in
    ``s``, so it applies to resampled moment sums."""
    tokens, spans = observed[0], observed[1]
    rate = spans / tokens
    q = max(observed[2] - 2 * rate * observed[3] + rate**2 * observed[4], 0.0)
    a = 1.0
    if rate > 0 and q > 0:
        f = pooled / rate
        a = float(np.sqrt((f * min(spans, q) + f * f * max(q - spans, 0.0)) / q))
    c = pooled - a * rate
    out = sums.copy()
    out[:, 1] = a * sums[:, 1] + c * sums[:, 0]
    out[:, 2] = a * a * sums[:, 2] + 2 * a * c * sums[:, 3] + c * c * sums[:, 4]
    out[:, 3] = a * sums[:, 3] + c * sums[:, 4]
    return out


def studentized_permutation_p_value(
    values_a: np.ndarray, values_b: np.ndarray, *, n_permutations: int, rng: np.random.Generator
) -> float:
    """Two-sided studentized permutation p-value (Chung & Romano 2013): the statistic of :func:`bootstrap_p_value`
    with each group's own rate as centre, articles shuffled between the groups."""
    pooled = np.vstack([_moments(values_a), _moments(values_b)])
    n_a, n_total = len(values_a), len(pooled)
    total = pooled.sum(axis=0)
    obs_a = pooled[:n_a].sum(axis=0)
    if obs_a[0] <= 0 or total[0] - obs_a[0] <= 0:
        return float("nan")
    observed = _studentized(obs_a[None], n_a, (total - obs_a)[None], n_total - n_a, None)[0]
    sums_a = _shuffled_sums(pooled, n_a, n_permutations=n_permutations, rng=rng)
    stats = _studentized(sums_a, n_a, total - sums_a, n_total - n_a, None)
    tolerance = 1e-9 * max(1.0, abs(observed)) if np.isfinite(observed) else 0.0
    extreme = ~(np.abs(stats) < abs(observed) - tolerance)
    return float((1 + extreme.sum()) / (1 + n_permutations))


def _shuffled_sums(pooled: np.ndarray, n_a: int, *, n_permutations: int, rng: np.random.Generator) -> np.ndarray:
    n_total = len(pooled)
    membership = np.zeros(n_total)
    membership[:n_a] = 1.0
    out = np.empty((n_permutations, pooled.shape[1]))
    rows = max(1, CHUNK_DRAWS // n_total)
    for start in range(0, n_permutations, rows):
        c = min(rows, n_permutations - start)
        shuffled = rng.permuted(np.tile(membership, (c, 1)), axis=1)
        out[start : start + c] = shuffled @ pooled
    return out


def _diff(sums_a: np.ndarray, sums_b: np.ndarray) -> np.ndarray:
    return ratio(sums_a[:, 1], sums_a[:, 0]) - ratio(sums_b[:, 1], sums_b[:, 0])


def _compare(a: Hashable, b: Hashable, da: GroupDraws, db: GroupDraws, s: _Settings, factors) -> RateDifference:
    rate_a = float(ratio(da.values[:, SPANS].sum(), da.values[:, TOK].sum()))
    rate_b = float(ratio(db.values[:, SPANS].sum(), db.values[:, TOK].sum()))
    draws = ratio(da.sums[:, SPANS], da.sums[:, TOK]) - ratio(db.sums[:, SPANS], db.sums[:, TOK])
    lo, hi = interval(draws, confidence=s.confidence, method=IntervalMethod.PERCENTILE)
    test = s.test
    if test == "permutation":
        p, test = permutation_p_value(
            da.values,
            db.values,
            n_permutations=s.n_permutations,
            rng=stream(s.seed, "permutation", a, b),
            exact_max_articles=s.exact_max_articles,
        )
    elif test == "studentized-permutation":
        p = studentized_permutation_p_value(
            da.values, db.values, n_permutations=s.n_permutations, rng=stream(s.seed, "permutation", a, b)
        )
    else:
        p = bootstrap_p_value(
            list(da.parts) or [da.values],
            list(db.parts) or [db.values],
            n_resamples=s.n_permutations,
            rng=stream(s.seed, "null-bootstrap", a, b),
            exact_max_articles=s.exact_max_articles,
        )
    extra = {}
    if s.errors is not None:
        clo, chi = interval(draws * factors, confidence=s.confidence)
        extra = dict(
            corrected_difference=(rate_a - rate_b) * s.errors.factor,
            corrected_ci_low=float(clo),
            corrected_ci_high=float(chi),
        )
    return RateDifference(
        group_a=a,
        group_b=b,
        rate_a=rate_a,
        rate_b=rate_b,
        difference=rate_a - rate_b,
        ci_low=float(lo),
        ci_high=float(hi),
        p_value=p,
        n_articles_a=da.n,
        n_articles_b=db.n,
        n_resamples=s.n_resamples,
        n_permutations=s.n_permutations,
        seed=s.seed,
        confidence=s.confidence,
        method=IntervalMethod.PERCENTILE.value,
        test=test,
        **extra,
    )


def _rest(draws: dict[Hashable, GroupDraws], exclude: Hashable) -> GroupDraws:
    """Every group but ``exclude``; its bootstrap is stratified (each group resampled within itself)."""
    others = [d for k, d in draws.items() if k != exclude]
    if not others:
        raise ValueError(f"there is no other group to compare {exclude!r} with")
    return GroupDraws(
        values=np.vstack([d.values for d in others]),
        sums=np.sum([d.sums for d in others], axis=0),
        resampling=others[0].resampling,
        parts=tuple(d.values for d in others),
    )


def _prepare(counts: ArticleCounts, s: _Settings, wanted: Sequence[Hashable] | None):
    if not isinstance(counts, ArticleCounts):
        raise ValueError("counts must be an ArticleCounts")
    rows = split_by_group(counts.groups)
    if wanted is not None:
        missing = [g for g in wanted if g not in rows]
        if missing:
            raise ValueError(f"unknown group(s): {missing!r}; known: {list(rows)!r}")
    draws = bootstrap_groups(
        counts.matrix(), rows, n_resamples=s.n_resamples, seed=s.seed, exact_max_articles=s.exact_max_articles
    )
    factors = (
        None if s.errors is None else s.errors.draw_factors(size=s.n_resamples, rng=stream(s.seed, CORRECTION_STREAM))
    )
    return draws, factors


def compare_groups(
    counts: ArticleCounts,
    *,
    group_a: Hashable,
    group_b: Hashable | None = None,
    errors: ClassifierErrors | None = None,
    n_resamples: int = 1000,
    n_permutations: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    exact_max_articles: int | None = EXACT_MAX_ARTICLES,
    test: str = TESTS[0],
) -> RateDifference:
    """Rate difference ``group_a - group_b``; ``group_b=None`` compares ``group_a`` with all other articles.

    ``test``: ``"studentized-bootstrap"`` (default, valid for groups of different size and dispersion),
    ``"studentized-permutation"`` or ``"permutation"``; ``n_permutations`` is the number of its resamples."""
    s = _settings(n_resamples, n_permutations, confidence, seed, exact_max_articles, errors, test)
    if group_a == group_b:
        raise ValueError("group_a and group_b must differ")
    draws, factors = _prepare(counts, s, [group_a] if group_b is None else [group_a, group_b])
    if group_b is None:
        return _compare(group_a, REST, draws[group_a], _rest(draws, group_a), s, factors)
    return _compare(group_a, group_b, draws[group_a], draws[group_b], s, factors)


def _adjusted(results: list[RateDifference]) -> list[RateDifference]:
    p = np.array([r.p_value for r in results])
    finite = np.isfinite(p)
    p_holm, p_bh = np.full(p.shape, np.nan), np.full(p.shape, np.nan)
    p_holm[finite], p_bh[finite] = holm(p[finite]), benjamini_hochberg(p[finite])
    return [replace(r, p_holm=float(h), p_bh=float(b)) for r, h, b in zip(results, p_holm, p_bh, strict=True)]


def _adjusted_table(
    counts: ArticleCounts,
    s: _Settings,
    groups: Sequence[Hashable] | None,
    *,
    what: str,
    pairs: Callable[[list[Hashable], dict[Hashable, GroupDraws]], Iterable[tuple]],
) -> list[RateDifference]:
    """The body shared by the table functions: one bootstrap for all groups, each pair compared, p-values adjusted.

    ``pairs(keys, draws)`` yields ``(name_a, name_b, draws_a, draws_b)`` for every comparison of the table.
    """
    draws, factors = _prepare(counts, s, groups)
    keys = list(draws) if groups is None else list(dict.fromkeys(groups))
    if len(keys) < 2:
        raise ValueError(f"{what} needs at least two groups")
    return _adjusted([_compare(a, b, da, db, s, factors) for a, b, da, db in pairs(keys, draws)])


def pairwise_differences(
    counts: ArticleCounts,
    *,
    groups: Sequence[Hashable] | None = None,
    errors: ClassifierErrors | None = None,
    n_resamples: int = 1000,
    n_permutations: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    exact_max_articles: int | None = EXACT_MAX_ARTICLES,
    test: str = TESTS[0],
) -> list[RateDifference]:
    """Every pair (a, b) of ``groups`` (default: all, sorted), with Holm and BH adjusted p-values."""
    s = _settings(n_resamples, n_permutations, confidence, seed, exact_max_articles, errors, test)
    return _adjusted_table(
        counts,
        s,
        groups,
        what="a pairwise table",
        pairs=lambda keys, draws: ((a, b, draws[a], draws[b]) for a, b in combinations(keys, 2)),
    )


def one_vs_rest(
    counts: ArticleCounts,
    *,
    errors: ClassifierErrors | None = None,
    n_resamples: int = 1000,
    n_permutations: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    exact_max_articles: int | None = EXACT_MAX_ARTICLES,
    test: str = TESTS[0],
) -> list[RateDifference]:
    """Each group against all other articles, with Holm and BH adjusted p-values."""
    s = _settings(n_resamples, n_permutations, confidence, seed, exact_max_articles, errors, test)
    return _adjusted_table(
        counts,
        s,
        None,
        what="one-vs-rest",
        pairs=lambda keys, draws: ((k, REST, draws[k], _rest(draws, k)) for k in keys),
    )
