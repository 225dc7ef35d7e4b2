"""Per-stratum (e.g. per-outlet) correction of model span counts, partially pooled towards all strata.

The precision/recall ratio of :class:`ml.stats.errors.ClassifierErrors` is, as a point estimate,
``precision / recall = (TP + FN) / (TP + FP) = gold spans / predicted spans`` in the cross-validation: the
correction multiplies the model's count by how many gold spans there were per predicted span. One pooled ratio
scales every outlet alike, which fails when the model's errors differ by outlet (on BABE its false positives pile
up in neutral outlets' sentences). Here the ratio is estimated per stratum from the cross-validated articles of
that stratum, as the ratio estimator of survey sampling uses an auxiliary variable (here: the model's count), and
shrunk towards the pooled ratio so that a stratum with few cross-validated spans borrows from the others::

    factor_s = (G_s + m * G / P) / (P_s + m)

``G_s``, ``P_s``: gold and predicted spans in the stratum's cross-validated articles; ``G``, ``P``: in all of them;
``m`` (``prior_spans``): the weight of the pooled ratio, in predicted spans (a stratum with ``m`` predicted spans
gets half its own ratio, half the pooled one; ``m = 0`` is no pooling, ``m -> inf`` the pooled ratio).

Uncertainty: each bootstrap draw resamples the cross-validated articles (with replacement, within the stratum and
over all strata) and recomputes the factor, so the spread of the factor reflects how much articles differ, not
only how many spans were counted (spans cluster in articles; independent Beta draws per span would be too narrow).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from ml.stats.bootstrap import resample_sums
from ml.stats.data import as_count_array, split_by_group

#: Default weight of the pooled ratio, in cross-validated predicted spans: a round number fixed before the BABE runs
#: (docs/benchmarks.md reports 5, 20 and 100 next to each other; 20 was not tuned on them).
DEFAULT_PRIOR_SPANS = 20.0


@dataclass(frozen=True)
class StratumRatio:
    """The correction of one stratum: a partially pooled ratio of gold to predicted spans.

    ``gold``/``predicted``: per cross-validated article of the stratum (may be empty: then the pooled ratio);
    ``pooled_gold``/``pooled_predicted``: per cross-validated article of all strata.
    """

    stratum: Hashable
    gold: np.ndarray
    predicted: np.ndarray
    pooled_gold: np.ndarray
    pooled_predicted: np.ndarray
    prior_spans: float

    @property
    def pooled_ratio(self) -> float:
        return float(self.pooled_gold.sum() / self.pooled_predicted.sum())

    @property
    def factor(self) -> float:
        """Point estimate of gold spans per predicted span in this stratum."""
        m = self.prior_spans
        return float((self.gold.sum() + m * self.pooled_ratio) / (self.predicted.sum() + m))

    @property
    def method(self) -> str:
        return (
            f"per-stratum precision/recall ratio: rate * (G_s + m*G/P) / (P_s + m), m = {self.prior_spans:g} "
            "predicted spans (cross-validated gold G and predicted P spans)"
        )

    def correct(self, rate: float | np.ndarray) -> float | np.ndarray:
        """Point correction of a rate per 1,000 tokens."""
        corrected = np.asarray(rate, dtype=float) * self.factor
        return float(corrected) if np.ndim(corrected) == 0 else corrected

    def draw_corrections(self, *, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``size`` draws of (offset, scale) as :meth:`ClassifierErrors.draw_corrections`; the offset is 0.

        A draw is NaN when a resample of an unpooled stratum (``prior_spans=0``) has no predicted span.
        """
        pooled, _ = resample_sums(
            np.column_stack([self.pooled_gold, self.pooled_predicted]), n_resamples=size, rng=rng,
            exact_max_articles=None,
        )  # fmt: skip
        own, _ = resample_sums(
            np.column_stack([self.gold, self.predicted]), n_resamples=size, rng=rng, exact_max_articles=None
        )
        m = self.prior_spans
        with np.errstate(divide="ignore", invalid="ignore"):
            pooled_ratio = pooled[:, 0] / pooled[:, 1]
            scale = (own[:, 0] + m * pooled_ratio) / (own[:, 1] + m)
        return np.zeros(size), np.where(np.isfinite(scale), scale, np.nan)

    def draw_factors(self, *, size: int, rng: np.random.Generator) -> np.ndarray:
        return self.draw_corrections(size=size, rng=rng)[1]


@dataclass(frozen=True)
class StratifiedErrors:
    """Cross-validated gold and predicted span counts per article, with the article's stratum (e.g. outlet).

    Pass it as ``errors`` to :func:`ml.stats.group_rates`: each group is corrected with the ratio of the stratum of
    the same name (a group without cross-validated articles gets the pooled ratio).

    Parameters
    ----------
    strata : sequence
        The stratum of each cross-validated article.
    gold, predicted : sequence of int
        Gold spans and out-of-fold predicted spans of one label in each article.
    prior_spans : float, default 20
        Weight of the pooled ratio, in predicted spans; 0 estimates every stratum on its own.

    Examples
    --------
    >>> e = StratifiedErrors(strata=["a", "a", "b"], gold=[1, 1, 6], predicted=[4, 4, 4], prior_spans=0)
    >>> e.for_stratum("a").factor, e.for_stratum("b").factor
    (0.25, 1.5)
    >>> pooled = StratifiedErrors(strata=["a", "a", "b"], gold=[1, 1, 6], predicted=[4, 4, 4], prior_spans=4)
    >>> round(pooled.for_stratum("b").factor, 3), round(pooled.for_stratum("unseen").factor, 3)  # (6 + 4*8/12) / 8
    (1.083, 0.667)
    """

    strata: Sequence[Hashable] | np.ndarray
    gold: Sequence[int] | np.ndarray
    predicted: Sequence[int] | np.ndarray
    prior_spans: float = DEFAULT_PRIOR_SPANS

    def __post_init__(self) -> None:
        strata = np.asarray(self.strata)
        if strata.ndim != 1:
            raise ValueError(f"strata must be one-dimensional, got shape {strata.shape}")
        object.__setattr__(self, "strata", strata)
        object.__setattr__(self, "gold", as_count_array("gold", self.gold))
        object.__setattr__(self, "predicted", as_count_array("predicted", self.predicted))
        if not len(strata) == len(self.gold) == len(self.predicted):
            raise ValueError("strata, gold and predicted must have the same length (one entry per article)")
        prior = self.prior_spans
        if isinstance(prior, bool) or not isinstance(prior, int | float) or not 0 <= prior < np.inf:
            raise ValueError(f"prior_spans must be a finite number >= 0, got {prior!r}")
        if self.predicted.sum() == 0:
            raise ValueError(
                "the model predicted no span in cross-validation: there is no ratio of gold to predicted spans "
                "to correct with"
            )
        if self.gold.sum() == 0:
            raise ValueError("the cross-validated articles hold no gold span: the model's recall is undefined")
        object.__setattr__(self, "_rows", split_by_group(strata))

    def for_stratum(self, stratum: Hashable) -> StratumRatio:
        """The correction of ``stratum``; a ValueError when it cannot be estimated without pooling."""
        rows = self._rows.get(stratum, np.zeros(0, dtype=int))  # type: ignore[attr-defined]
        ratio = StratumRatio(
            stratum=stratum,
            gold=self.gold[rows],
            predicted=self.predicted[rows],
            pooled_gold=self.gold,
            pooled_predicted=self.predicted,
            prior_spans=float(self.prior_spans),
        )
        if self.prior_spans == 0 and ratio.predicted.sum() == 0:
            what = "has no cross-validated article" if not len(rows) else "had no predicted span in cross-validation"
            raise ValueError(
                f"stratum {stratum!r} {what}: its ratio of gold to predicted spans is undefined without pooling "
                "(use prior_spans > 0)"
            )
        return ratio
