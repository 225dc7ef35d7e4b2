"""Term choice: which variant of a concept (e.g. "terrorists" / "rebels" / "militants") a group uses.

The share of variant v in group g is ``sum_articles count[v] / sum_articles sum_v' count[v']`` (a ratio
estimator over the group's mentions of the concept), with a Wilson interval on the effective number of mentions
(design effect of the clustering of mentions in articles; :func:`ml.stats.intervals.clustered_share_interval`), or
with ``method="percentile"`` the percentile interval of the seeded bootstrap that resamples the group's articles.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ml.stats.bootstrap import (
    EXACT_MAX_ARTICLES,
    check_confidence,
    check_positive_int,
    check_seed,
    interval,
    resample_sums,
    stream,
)
from ml.stats.data import split_by_group
from ml.stats.intervals import clustered_share_interval, too_small


@dataclass(frozen=True)
class VariantShare:
    group: Hashable
    variant: str
    count: int
    n_mentions: int
    share: float
    ci_low: float
    ci_high: float
    n_articles: int
    n_resamples: int
    seed: int
    confidence: float
    method: str
    resampling: str
    #: articles that mention the concept at all (the clusters the interval is estimated from)
    n_articles_mentioning: int = 0
    #: fewer mentioning articles than ml.stats.intervals.MIN_ARTICLES (docs/statistics.md, "Small groups")
    too_small: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def _check_matrix(counts, variants: Sequence[str], n_rows: int) -> np.ndarray:
    try:
        matrix = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"counts must be numbers: {exc}") from exc
    if matrix.ndim != 2:
        raise ValueError(f"counts must be a 2-D array (articles x variants), got shape {matrix.shape}")
    if matrix.shape != (n_rows, len(variants)):
        raise ValueError(f"counts has shape {matrix.shape}, expected ({n_rows}, {len(variants)}) for groups x variants")
    if not np.all(np.isfinite(matrix)) or np.any(matrix < 0) or np.any(matrix != np.round(matrix)):
        raise ValueError("counts must hold non-negative whole numbers")
    if len(set(variants)) != len(variants) or not variants:
        raise ValueError("variants must be a non-empty list of distinct names")
    return matrix


def variant_shares(
    *,
    groups: Sequence[Hashable] | np.ndarray,
    counts: Sequence[Sequence[int]] | np.ndarray,
    variants: Sequence[str],
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    exact_max_articles: int | None = EXACT_MAX_ARTICLES,
    method: str = "effective-count",
) -> list[VariantShare]:
    """Share of each variant among a group's mentions of the concept, per group (sorted) and variant.

    ``counts[i, v]`` is how often article ``i`` uses a term of variant ``v``.  A group without any
    mention gets NaN shares.

    >>> rows = variant_shares(groups=["a", "a"], counts=[[3, 1], [1, 0]], variants=["x", "y"], n_resamples=50)
    >>> [(r.variant, r.share) for r in rows]
    [('x', 0.8), ('y', 0.2)]
    """
    groups = np.asarray(groups)
    variants = list(variants)
    matrix = _check_matrix(counts, variants, len(groups))
    n_resamples = check_positive_int("n_resamples", n_resamples, minimum=2)
    confidence = check_confidence(confidence)
    seed = check_seed(seed)
    if method not in ("effective-count", "percentile"):
        raise ValueError(f"method must be 'effective-count' or 'percentile', got {method!r}")
    out = []
    for key, rows in split_by_group(groups).items():
        values = matrix[rows]
        sums, how = resample_sums(
            values, n_resamples=n_resamples, rng=stream(seed, "variants", key), exact_max_articles=exact_max_articles
        )
        totals = values.sum(axis=0)
        n_mentions = totals.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            draws = sums / sums.sum(axis=1, keepdims=True)
        if method == "percentile":
            lo, hi = interval(draws, confidence=confidence)
        else:
            mentions = values.sum(axis=1)
            bounds = [
                clustered_share_interval(values[:, v], mentions, confidence=confidence) for v in range(len(variants))
            ]
            lo, hi = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
        mentioning = int((values.sum(axis=1) > 0).sum())
        for v, name in enumerate(variants):
            out.append(
                VariantShare(
                    group=key,
                    variant=name,
                    count=int(totals[v]),
                    n_mentions=int(n_mentions),
                    share=float(totals[v] / n_mentions) if n_mentions else float("nan"),
                    ci_low=float(lo[v]),
                    ci_high=float(hi[v]),
                    n_articles=len(rows),
                    n_resamples=n_resamples,
                    seed=seed,
                    confidence=confidence,
                    method=method,
                    resampling=how.value,
                    n_articles_mentioning=mentioning,
                    too_small=too_small(mentioning),
                )
            )
    return out
