"""Loaded terms per 1,000 tokens and share of articles with a span, per group, with bootstrap CIs.

The rate is a ratio estimator, ``sum(spans) / sum(tokens) * 1000`` over the group's articles; the
share is ``mean(spans > 0)``.  Both intervals come from the same seeded bootstrap that resamples
articles with replacement within each group (see ``docs/statistics.md``).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import asdict, dataclass

import numpy as np

from ml.stats.bootstrap import (
    EXACT_MAX_ARTICLES,
    IntervalMethod,
    Resampling,
    check_confidence,
    check_positive_int,
    check_seed,
    interval,
    resample_sums,
    stream,
)
from ml.stats.data import ArticleCounts, split_by_group
from ml.stats.errors import PER, ClassifierErrors
from ml.stats.intervals import binomial_interval, rate_interval, too_small
from ml.stats.strata import StratifiedErrors

TOK, SPANS, HAS, SCORE = 0, 1, 2, 3
CORRECTION_STREAM = "precision/recall"


@dataclass(frozen=True)
class GroupRate:
    """Estimates for one group; ``corrected_*`` are None without classifier errors, ``prob_*`` without scores."""

    group: Hashable
    rate: float
    rate_ci_low: float
    rate_ci_high: float
    share: float
    share_ci_low: float
    share_ci_high: float
    n_articles: int
    n_tokens: int
    n_spans: int
    method: str
    n_resamples: int
    seed: int
    confidence: float
    resampling: str
    corrected_rate: float | None = None
    corrected_rate_ci_low: float | None = None
    corrected_rate_ci_high: float | None = None
    corrected_n_spans: float | None = None
    prob_rate: float | None = None
    prob_rate_ci_low: float | None = None
    prob_rate_ci_high: float | None = None
    #: fewer articles than ml.stats.intervals.MIN_ARTICLES: no interval keeps its coverage (docs/statistics.md)
    too_small: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GroupDraws:
    """A group's per-article matrix and the column sums of its bootstrap resamples."""

    values: np.ndarray
    sums: np.ndarray
    resampling: Resampling
    #: the per-group matrices when the draws are stratified over several groups ("the rest"), else empty
    parts: tuple = ()

    @property
    def n(self) -> int:
        return self.values.shape[0]


def bootstrap_groups(
    values: np.ndarray,
    rows_by_group: dict[Hashable, np.ndarray],
    *,
    n_resamples: int,
    seed: int,
    exact_max_articles: int | None,
) -> dict[Hashable, GroupDraws]:
    """Resample each group's rows with its own seeded stream (a group's draws do not depend on the others)."""
    out = {}
    for key, rows in rows_by_group.items():
        group_values = values[rows]
        sums, how = resample_sums(
            group_values,
            n_resamples=n_resamples,
            rng=stream(seed, "bootstrap", key),
            exact_max_articles=exact_max_articles,
        )
        out[key] = GroupDraws(values=group_values, sums=sums, resampling=how)
    return out


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator * 1000``, NaN where the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0) * PER, np.nan)


def _jackknife(values: np.ndarray, num: int, den: int | None) -> np.ndarray:
    """Leave-one-out estimates of a ratio of column sums (den None: mean of column ``num``)."""
    n = values.shape[0]
    if n < 2:
        return np.zeros(max(n, 1))
    total = values.sum(axis=0)
    if den is None:
        return (total[num] - values[:, num]) / (n - 1)
    return ratio(total[num] - values[:, num], total[den] - values[:, den])


def group_rates(
    counts: ArticleCounts,
    *,
    errors: ClassifierErrors | StratifiedErrors | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    method: str = "effective-count",
    exact_max_articles: int | None = EXACT_MAX_ARTICLES,
) -> dict[Hashable, GroupRate]:
    """Rate per 1,000 tokens and share of articles with a span for every group of ``counts``.

    Parameters
    ----------
    counts : ArticleCounts
        One row per article.
    errors : ClassifierErrors or StratifiedErrors, optional
        Cross-validated errors of the model that produced the spans; adds ``corrected_*`` fields. A
        ``ClassifierErrors`` corrects every group alike (one draw of the errors per resample, shared by all groups);
        a ``StratifiedErrors`` corrects each group with the ratio of the stratum of the same name.
    n_resamples, confidence, seed :
        Bootstrap settings; the same seed gives the same intervals.
    method : {"effective-count", "percentile", "bca"}
        Interval of the rate and the share: ``effective-count`` (default) is the closed form of
        :mod:`ml.stats.intervals` (Jeffreys-type on design-effect-adjusted counts; near-nominal down to a few
        articles, never zero-width); ``percentile`` and ``bca`` come from the bootstrap distribution. Corrected and
        probabilistic rates always use the percentile bootstrap (``bca`` with ``method="bca"``).
    exact_max_articles : int or None
        Groups above this size may use the normal limit of the bootstrap (``None``: always resample).

    Examples
    --------
    >>> c = ArticleCounts(groups=["a", "a", "b"], n_tokens=[100, 300, 200], n_spans=[2, 0, 1])
    >>> r = group_rates(c, n_resamples=200)
    >>> r["a"].rate, r["a"].share, r["b"].n_spans
    (5.0, 0.5, 1)
    """
    if not isinstance(counts, ArticleCounts):
        raise ValueError("counts must be an ArticleCounts")
    n_resamples = check_positive_int("n_resamples", n_resamples, minimum=2)
    confidence = check_confidence(confidence)
    seed = check_seed(seed)
    try:
        how = IntervalMethod(method)
    except ValueError:
        raise ValueError(f"method must be one of {[m.value for m in IntervalMethod]}, got {method!r}") from None
    if exact_max_articles is not None:
        exact_max_articles = check_positive_int("exact_max_articles", exact_max_articles, minimum=0)
    if errors is not None and not isinstance(errors, ClassifierErrors | StratifiedErrors):
        raise ValueError("errors must be a ClassifierErrors (tp, fp, fn), a StratifiedErrors or None")

    draws = bootstrap_groups(
        counts.matrix(),
        split_by_group(counts.groups),
        n_resamples=n_resamples,
        seed=seed,
        exact_max_articles=exact_max_articles,
    )
    shared = None
    if isinstance(errors, ClassifierErrors):
        shared = errors.draw_corrections(size=n_resamples, rng=stream(seed, CORRECTION_STREAM))

    def correction(key: Hashable):
        if not isinstance(errors, StratifiedErrors):
            return errors, shared
        stratum = errors.for_stratum(key)
        return stratum, stratum.draw_corrections(size=n_resamples, rng=stream(seed, CORRECTION_STREAM, key))

    settings = {"method": how.value, "n_resamples": n_resamples, "seed": seed, "confidence": confidence}
    out = {}
    for key, d in draws.items():
        group_errors, factors = correction(key)
        out[key] = _summarise(key, d, errors=group_errors, factors=factors, how=how, settings=settings)
    return out


def _summarise(key, d: GroupDraws, *, errors, factors, how: IntervalMethod, settings: dict) -> GroupRate:
    total = d.values.sum(axis=0)
    conf = settings["confidence"]

    closed_form = how is IntervalMethod.EFFECTIVE_COUNT
    boot = IntervalMethod.PERCENTILE if closed_form else how

    def ci(draws: np.ndarray, estimate: float, jack: np.ndarray) -> tuple[float, float]:
        lo, hi = interval(draws, confidence=conf, method=boot, estimate=estimate, jackknife=jack)
        return float(lo), float(hi)

    rate = float(ratio(total[SPANS], total[TOK]))
    rate_draws = ratio(d.sums[:, SPANS], d.sums[:, TOK])
    rate_jack = _jackknife(d.values, SPANS, TOK)
    share = total[HAS] / d.n if d.n else float("nan")
    share_jack = _jackknife(d.values, HAS, None)
    fields = dict(
        group=key,
        rate=rate,
        share=float(share),
        n_articles=int(d.n),
        n_tokens=int(total[TOK]),
        n_spans=int(total[SPANS]),
        resampling=d.resampling.value,
        **settings,
    )
    if closed_form:
        values = d.values
        fields["rate_ci_low"], fields["rate_ci_high"] = rate_interval(values[:, SPANS], values[:, TOK], confidence=conf)
        fields["share_ci_low"], fields["share_ci_high"] = binomial_interval(total[HAS], d.n, confidence=conf)
    else:
        fields["rate_ci_low"], fields["rate_ci_high"] = ci(rate_draws, rate, rate_jack)
        fields["share_ci_low"], fields["share_ci_high"] = ci(d.sums[:, HAS] / max(d.n, 1), share, share_jack)
    fields["too_small"] = too_small(d.n)
    if errors is not None:
        offset, scale = factors
        corrected = errors.correct(rate)
        fields["corrected_rate"] = corrected
        fields["corrected_n_spans"] = corrected * total[TOK] / PER
        lo, hi = ci(np.maximum((rate_draws - offset) * scale, 0.0), corrected, errors.correct(rate_jack))
        fields["corrected_rate_ci_low"], fields["corrected_rate_ci_high"] = lo, hi
    if d.values.shape[1] > SCORE:
        prob = float(ratio(total[SCORE], total[TOK]))
        fields["prob_rate"] = prob
        lo, hi = ci(ratio(d.sums[:, SCORE], d.sums[:, TOK]), prob, _jackknife(d.values, SCORE, TOK))
        fields["prob_rate_ci_low"], fields["prob_rate_ci_high"] = lo, hi
    return GroupRate(**fields)
