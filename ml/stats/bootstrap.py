"""Seeded resampling of per-article sums, and percentile / BCa intervals.

Every statistic in :mod:`ml.stats` is a smooth function of a few per-group sums (tokens, spans,
articles with a span, variant counts).  Resampling articles with replacement therefore only needs the
sums of each resample, which :func:`resample_sums` computes in chunks as ``bincount`` weights times
the per-article matrix.  For large groups it can use the normal limit of the same bootstrap
distribution instead (see ``docs/statistics.md``, "Large groups").
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from enum import StrEnum

import numpy as np

#: Work per chunk of exact resamples (resamples x articles); bounds memory to about 50 MB.
CHUNK_DRAWS = 2_000_000
#: Default group size above which the normal limit of the bootstrap may replace exact resampling.
EXACT_MAX_ARTICLES = 2_000
#: The normal limit is used only if every column has at least this many articles off its modal value.
MIN_OFF_MODE = 200


class Resampling(StrEnum):
    ARTICLES = "articles"
    NORMAL = "normal-approximation"


class IntervalMethod(StrEnum):
    #: closed form on design-effect-adjusted counts (ml.stats.intervals); the default for rates, shares and term choice
    EFFECTIVE_COUNT = "effective-count"
    PERCENTILE = "percentile"
    BCA = "bca"


def key_hash(key: Hashable) -> int:
    """A stable 63-bit integer for a group key (independent of PYTHONHASHSEED)."""
    digest = hashlib.blake2b(f"{type(key).__name__}:{key!r}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def stream(seed: int, *parts: Hashable) -> np.random.Generator:
    """A Generator that depends only on ``seed`` and ``parts`` (so a group's draws ignore other groups)."""
    entropy = [check_seed(seed)] + [key_hash(p) for p in parts]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def check_positive_int(name: str, value: int, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_confidence(confidence: float) -> float:
    if not isinstance(confidence, int | float) or not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be a number strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def normal_limit_applies(values: np.ndarray, *, exact_max_articles: int | None) -> bool:
    """True when the group is large and no column is so sparse that its sum would be visibly skewed."""
    n = values.shape[0]
    if exact_max_articles is None or n <= exact_max_articles:
        return False
    for column in values.T:
        _, counts = np.unique(column, return_counts=True)
        off_mode = n - counts.max()
        if 0 < off_mode < MIN_OFF_MODE:
            return False
    return True


def resample_sums(
    values: np.ndarray,
    *,
    n_resamples: int,
    rng: np.random.Generator,
    exact_max_articles: int | None = EXACT_MAX_ARTICLES,
) -> tuple[np.ndarray, Resampling]:
    """Column sums of ``n_resamples`` article resamples (with replacement) of ``values`` (n x k).

    Returns the ``(n_resamples, k)`` sums and how they were drawn.  Groups larger than
    ``exact_max_articles`` whose columns are not sparse use the multivariate normal limit of the same
    bootstrap distribution: mean ``n * mean``, covariance ``n * cov`` (ddof=0).  ``None`` forces
    exact resampling.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError("values must be a 2-D array (articles x columns)")
    n, k = values.shape
    if n == 0:
        return np.zeros((n_resamples, k)), Resampling.ARTICLES
    if normal_limit_applies(values, exact_max_articles=exact_max_articles):
        mean = n * values.mean(axis=0)
        cov = n * np.atleast_2d(np.cov(values, rowvar=False, ddof=0))
        return mean + normal_draws(cov, size=n_resamples, rng=rng), Resampling.NORMAL
    out = np.empty((n_resamples, k))
    rows = max(1, CHUNK_DRAWS // n)
    for start in range(0, n_resamples, rows):
        c = min(rows, n_resamples - start)
        idx = rng.integers(0, n, size=(c, n))
        idx += (np.arange(c) * n)[:, None]
        weights = np.bincount(idx.ravel(), minlength=c * n).reshape(c, n).astype(np.float64)
        out[start : start + c] = weights @ values
    return out, Resampling.ARTICLES


def normal_draws(cov: np.ndarray, *, size: int, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean normal draws with a positive semi-definite covariance (eigen-decomposition, no warnings)."""
    eigval, eigvec = np.linalg.eigh(cov)
    root = eigvec * np.sqrt(np.clip(eigval, 0.0, None))
    return rng.standard_normal((size, cov.shape[0])) @ root.T


def interval(
    draws: np.ndarray,
    *,
    confidence: float,
    method: IntervalMethod = IntervalMethod.PERCENTILE,
    estimate: float | np.ndarray | None = None,
    jackknife: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided interval from bootstrap ``draws`` (resamples along axis 0); NaN draws are ignored.

    ``method="bca"`` needs the point ``estimate`` and the leave-one-out ``jackknife`` values
    (articles along axis 0) for the bias correction z0 and the acceleration a (Efron 1987).
    """
    alpha = 1.0 - confidence
    lo_q = np.full(draws.shape[1:], alpha / 2)
    hi_q = np.full(draws.shape[1:], 1 - alpha / 2)
    if IntervalMethod(method) is IntervalMethod.EFFECTIVE_COUNT:
        raise ValueError("the effective-count interval is computed from the counts, not from bootstrap draws")
    if IntervalMethod(method) is IntervalMethod.BCA:
        if estimate is None or jackknife is None:
            raise ValueError("the BCa interval needs the point estimate and the jackknife values")
        lo_q, hi_q = _bca_levels(draws, np.asarray(estimate, dtype=float), jackknife, alpha)
    return _quantiles(draws, lo_q), _quantiles(draws, hi_q)


def _bca_levels(draws: np.ndarray, estimate: np.ndarray, jackknife: np.ndarray, alpha: float):
    from scipy.special import ndtr, ndtri  # here, not at the top: a scores page needs no scipy (~17 MiB)

    valid = np.isfinite(draws)
    n_valid = valid.sum(axis=0)
    below = ((draws < estimate) & valid).sum(axis=0) + 0.5 * ((draws == estimate) & valid).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z0 = ndtri(np.clip(below / n_valid, 1e-12, 1 - 1e-12))
        jack = np.where(np.isfinite(jackknife), jackknife, np.nan)
        d = np.nanmean(jack, axis=0) - jack
        num = np.nansum(d**3, axis=0)
        den = 6.0 * np.nansum(d**2, axis=0) ** 1.5
        accel = np.where(den > 0, num / den, 0.0)
    z_lo, z_hi = ndtri(alpha / 2), ndtri(1 - alpha / 2)
    lo = ndtr(z0 + (z0 + z_lo) / (1 - accel * (z0 + z_lo)))
    hi = ndtr(z0 + (z0 + z_hi) / (1 - accel * (z0 + z_hi)))
    return np.nan_to_num(lo, nan=alpha / 2), np.nan_to_num(hi, nan=1 - alpha / 2)


def _quantiles(draws: np.ndarray, q: np.ndarray) -> np.ndarray:
    flat_draws = draws.reshape(draws.shape[0], -1)
    flat_q = np.broadcast_to(q, draws.shape[1:]).ravel()
    out = np.empty(flat_q.shape)
    for j, qj in enumerate(flat_q):
        column = flat_draws[:, j]
        column = column[np.isfinite(column)]
        out[j] = np.quantile(column, qj) if column.size else np.nan
    return out.reshape(draws.shape[1:])
