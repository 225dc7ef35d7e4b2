"""Closed-form intervals that keep their coverage for small groups (chosen by simulation, docs/statistics.md).

* **Rates** (spans per 1,000 tokens, a ratio of sums over clustered articles): the Jeffreys interval of a Poisson
  rate, ``Gamma(S* + 1/2)`` quantiles divided by ``T*``, on design-effect-adjusted counts ``S* = S / d``,
  ``T* = T / d`` (the gamma intervals of Fay & Feuer 1997 and the effective sample size of Korn & Graubard 1998).
  ``d`` is the article-cluster variance of the ratio over its Poisson variance, at least 1; its excess over 1 is
  estimated from ``n - 1`` degrees of freedom and so is widened by ``(t_{n-1} / z)^2``.
* **Shares of articles** (articles are independent): the Wilson interval of a binomial proportion (recommended
  for small ``n`` by Brown, Cai & DasGupta 2001; the Jeffreys interval dips to 93 % at 40 articles in the
  calibration), exactly 0 and 1 at the edges.
* **Shares of mentions** (term choice: a variant's mentions over all mentions, clustered in articles): the Wilson
  interval on the effective number of mentions ``n* = M / d`` (Korn & Graubard 1998; Dean & Pagano 2015).

None of them has zero width for data: a group without spans gets ``[0, upper]`` with ``upper > 0``. Groups with
fewer than :data:`MIN_ARTICLES` articles (mentioning articles for term choice) are flagged ``too_small``: there
the calibration (``bench/stats_calibration.py``) found no interval that keeps 90 % coverage once spans spread
unevenly over articles.
"""

from __future__ import annotations

import numpy as np

# The quantiles come from scipy.special (imported where used): the very functions scipy.stats' norm, t and gamma
# call for ppf (ndtri, stdtrit, gammaincinv), without the 80 MiB scipy.stats adds to a web process (docs/benchmarks.md,
# Lean processes).

#: Below this many articles a group is ``too_small`` (docs/statistics.md, "Small groups").
MIN_ARTICLES = 5
TOO_SMALL_WARNING = (
    "fewer than {n} articles: no interval method keeps its promised coverage at this size; read the interval as "
    "indicative only"
)


def too_small(n_articles: int) -> bool:
    return int(n_articles) < MIN_ARTICLES


def warning(n_articles: int) -> str | None:
    """The warning a row carries when it is too small (else None)."""
    return TOO_SMALL_WARNING.format(n=MIN_ARTICLES) if too_small(n_articles) else None


def _z_t_ratio(n: np.ndarray, confidence: float) -> tuple[float, np.ndarray]:
    from scipy.special import ndtri, stdtrit

    alpha = 1.0 - confidence
    z = float(ndtri(1 - alpha / 2))
    df = np.maximum(np.asarray(n, dtype=float) - 1, 1)
    return z, (stdtrit(df, 1 - alpha / 2) / z) ** 2


def design_effect(
    numerators: np.ndarray, denominators: np.ndarray, reference_variance: float, *, confidence: float
) -> float:
    """``1 + max(0, V / reference - 1) * (t_{n-1}/z)^2``, ``V`` the with-replacement cluster variance of
    ``sum(numerators) / sum(denominators)`` over the ``n`` clusters (rows) with a non-zero denominator."""
    keep = np.asarray(denominators) > 0
    x, m = np.asarray(numerators, dtype=float)[keep], np.asarray(denominators, dtype=float)[keep]
    n = x.size
    if n < 2 or reference_variance <= 0:
        return 1.0
    ratio = x.sum() / m.sum()
    variance = n / (n - 1) * float(((x - ratio * m) ** 2).sum()) / m.sum() ** 2
    _, widen = _z_t_ratio(n, confidence)
    return float(1.0 + max(0.0, variance / reference_variance - 1.0) * widen)


def rate_interval(spans: np.ndarray, tokens: np.ndarray, *, confidence: float, per: float = 1000.0):
    """Interval of ``per * sum(spans) / sum(tokens)`` from per-article counts (see the module docstring)."""
    from scipy.special import gammaincinv

    spans, tokens = np.asarray(spans, dtype=float), np.asarray(tokens, dtype=float)
    s, t = spans.sum(), tokens.sum()
    if t <= 0:
        return float("nan"), float("nan")
    poisson = s / t**2 if s > 0 else 0.0
    d = design_effect(spans, tokens, poisson, confidence=confidence)
    alpha = 1.0 - confidence
    s_eff, t_eff = s / d, t / d
    low = gammaincinv(s_eff + 0.5, alpha / 2) / t_eff if s > 0 else 0.0
    high = gammaincinv(s_eff + 0.5, 1 - alpha / 2) / t_eff
    return float(low * per), float(high * per)


def binomial_interval(successes: int, n: int, *, confidence: float):
    """Wilson interval of ``successes / n`` (independent trials); NaN for ``n = 0``."""
    if n <= 0:
        return float("nan"), float("nan")
    return _wilson(float(successes), float(n), float(n), confidence=confidence)


def _wilson(x: float, m: float, n_eff: float, *, confidence: float) -> tuple[float, float]:
    """Wilson interval of ``p = x / m`` with ``n_eff`` effective trials; exactly 0 (1) at ``x = 0`` (``x = m``)."""
    from scipy.special import ndtri

    p = x / m
    z = float(ndtri(1 - (1 - confidence) / 2))
    z2 = z * z
    centre = (p + z2 / (2 * n_eff)) / (1 + z2 / n_eff)
    half = z * np.sqrt(p * (1 - p) / n_eff + z2 / (4 * n_eff**2)) / (1 + z2 / n_eff)
    low = 0.0 if x == 0 else max(0.0, centre - half)
    high = 1.0 if x == m else min(1.0, centre + half)
    return float(low), float(high)


def clustered_share_interval(hits: np.ndarray, totals: np.ndarray, *, confidence: float):
    """Wilson interval of ``sum(hits) / sum(totals)`` on the effective number of trials (clusters = rows);
    NaN without any trial."""
    hits, totals = np.asarray(hits, dtype=float), np.asarray(totals, dtype=float)
    x, m = hits.sum(), totals.sum()
    if m <= 0:
        return float("nan"), float("nan")
    p = x / m
    d = design_effect(hits, totals, p * (1 - p) / m, confidence=confidence) if 0 < x < m else 1.0
    return _wilson(x, m, m / d, confidence=confidence)
