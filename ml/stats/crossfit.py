"""Per-group rates from cross-fitted models: each fold's (corrected) span counts summed over the folds.

In cross-fitting the articles are split into K folds and each fold is scored by a model fitted, and its errors
measured, on the other folds only. Every fold therefore has its own correction, so the folds' corrected *rates*
cannot be averaged directly (folds hold different amounts of a group's text). What adds up is counts: a group's
corrected spans in a fold are its corrected rate times its tokens there (``GroupRate.corrected_n_spans``), and
the cross-fitted rate is ``sum over folds of corrected spans / sum of tokens * 1000`` – the ratio estimator of
:func:`ml.stats.group_rates` over all articles, each corrected by the model that never saw it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from ml.stats.errors import PER
from ml.stats.rates import GroupRate


@dataclass(frozen=True)
class CrossFittedRate:
    """One group's spans and corrected spans summed over the folds it appears in."""

    group: Hashable
    n_folds: int
    n_articles: int
    n_tokens: int
    n_spans: int
    corrected_n_spans: float

    @property
    def rate(self) -> float:
        """Uncorrected spans per 1,000 tokens over all folds."""
        return self.n_spans / self.n_tokens * PER if self.n_tokens else float("nan")

    @property
    def corrected_rate(self) -> float:
        """Corrected spans per 1,000 tokens over all folds."""
        return self.corrected_n_spans / self.n_tokens * PER if self.n_tokens else float("nan")


def cross_fitted_rates(folds: Sequence[Mapping[Hashable, GroupRate]]) -> dict[Hashable, CrossFittedRate]:
    """Sum each group's tokens, spans and corrected spans over the folds' :func:`group_rates` results.

    Every fold's rates must be corrected (``group_rates(..., errors=...)``); a group may be missing from some folds.
    Point estimates only: the folds' corrections are fitted on overlapping data, so their uncertainties do not add
    like independent ones.

    Examples
    --------
    >>> from ml.stats import ArticleCounts, ClassifierErrors, group_rates
    >>> errors = [ClassifierErrors(tp=1, fp=1, fn=0), ClassifierErrors(tp=1, fp=0, fn=1)]  # P/R = 0.5, then 2
    >>> folds = [
    ...     group_rates(ArticleCounts(groups=["a"], n_tokens=[1000], n_spans=[4]), errors=errors[0], n_resamples=2),
    ...     group_rates(ArticleCounts(groups=["a"], n_tokens=[3000], n_spans=[3]), errors=errors[1], n_resamples=2),
    ... ]
    >>> r = cross_fitted_rates(folds)["a"]  # (4 * 0.5 + 3 * 2) / 4000 tokens
    >>> r.rate, r.corrected_rate
    (1.75, 2.0)
    """
    totals: dict[Hashable, dict[str, float]] = {}
    for fold in folds:
        for key, r in fold.items():
            if r.corrected_n_spans is None:
                raise ValueError(f"group {key!r} has no corrected count: pass errors to group_rates for every fold")
            t = totals.setdefault(key, dict(n_folds=0, n_articles=0, n_tokens=0, n_spans=0, corrected_n_spans=0.0))
            t["n_folds"] += 1
            t["n_articles"] += r.n_articles
            t["n_tokens"] += r.n_tokens
            t["n_spans"] += r.n_spans
            t["corrected_n_spans"] += r.corrected_n_spans
    return {
        key: CrossFittedRate(
            group=key,
            n_folds=int(t["n_folds"]),
            n_articles=int(t["n_articles"]),
            n_tokens=int(t["n_tokens"]),
            n_spans=int(t["n_spans"]),
            corrected_n_spans=float(t["corrected_n_spans"]),
        )
        for key, t in sorted(totals.items())
    }
