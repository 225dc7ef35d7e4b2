"""Per-stratum (e.g. per-outlet) correction of model span counts, partially pooled towards all strata.

The precision/recall ratio of :class:`ml.stats.errors.ClassifierErrors` is, as a point estimate,
``precision / recall = (TP + FN) / (TP + FP) = gold spans / predicted spans`` in the cross-validation: the
correction multiplies the model's count by how many gold spans there were per predicted span. One pooled ratio
scales every outlet alike, which fails when the model's errors differ by outlet (on BABE its false positives pile
up in neutral outlets' sentences). Here the ratio is estimated per stratum from the cross-validated articles of
that stratum, as the ratio estimator of survey sampling uses an auxiliary variable (here: the model's count), and
shrunk towards the pooled ratio ``G/P`` by empirical Bayes (default, ``prior_spans=None``)::

    factor_s = w_s * G_s / P_s + (1 - w_s) * G / P          w_s = tau^2 / (tau^2 + v_s)

``G_s``, ``P_s``: gold and predicted spans in the stratum's cross-validated articles; ``G``, ``P``: in all of them;
``v_s``: the sampling variance of the stratum's own ratio (linearised ratio-estimator variance over its articles);
``tau^2``: the between-stratum variance of the ratio, estimated from the data by the method of moments
(DerSimonian & Laird 1986).  A stratum whose ratio is well measured, or strata that really differ, keep their own
ratio; a stratum measured on a few articles among strata that agree borrows from them.  A stratum without
cross-validated articles (or without a predicted span in them) gets the pooled ratio, its draws spread by ``tau``
(the ratio of an outlet drawn from the others' spread), and says so (:attr:`StratumRatio.warning`).

A fixed ``prior_spans = m`` keeps the older rule ``factor_s = (G_s + m * G / P) / (P_s + m)`` (``m = 0``: no
pooling).  It biases a stratum whose ratio differs from the pool by up to ``m / (P_s + m)`` of the difference
(+17 % with 40 cross-validated articles, +48 % with 10 in the calibration of docs/statistics.md).

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

#: Older fixed weight of the pooled ratio, in cross-validated predicted spans (``prior_spans=20``); the default is now
#: the empirical-Bayes weight (``prior_spans=None``).
DEFAULT_PRIOR_SPANS = 20.0

#: Empirical-Bayes shrinkage moves a stratum's own ratio by at most this share of it (docs/statistics.md).
DEFAULT_MAX_SHIFT = 0.025

#: What a row's correction was, for its ``method``.
OWN, SHRUNK, POOLED = "own", "shrunk", "pooled"


@dataclass(frozen=True)
class StratumRatio:
    """The correction of one stratum: its ratio of gold to predicted spans, partially pooled.

    ``gold``/``predicted``: per cross-validated article of the stratum (may be empty: then the pooled ratio);
    ``pooled_gold``/``pooled_predicted``: per cross-validated article of all strata; ``weight``: the weight of the
    stratum's own ratio (1 = its own, 0 = the pooled one); ``tau``: the between-strata standard deviation of the ratio
    (spreads the draws of a stratum that has no ratio of its own); ``prior_spans``: the fixed weight of the older rule
    (None: empirical Bayes).
    """

    stratum: Hashable
    gold: np.ndarray
    predicted: np.ndarray
    pooled_gold: np.ndarray
    pooled_predicted: np.ndarray
    weight: float
    tau: float = 0.0
    prior_spans: float | None = None
    max_shift: float = DEFAULT_MAX_SHIFT

    @property
    def pooled_ratio(self) -> float:
        return float(self.pooled_gold.sum() / self.pooled_predicted.sum())

    @property
    def kind(self) -> str:
        """``own``, ``shrunk`` or ``pooled``: what was applied to this stratum."""
        if self.predicted.sum() == 0:
            return POOLED
        return OWN if self.weight >= 1.0 else SHRUNK

    @property
    def factor(self) -> float:
        """Point estimate of gold spans per predicted span in this stratum."""
        if self.prior_spans is not None:
            m = self.prior_spans
            return float((self.gold.sum() + m * self.pooled_ratio) / (self.predicted.sum() + m))
        if self.kind == POOLED:
            return self.pooled_ratio
        own = self.gold.sum() / self.predicted.sum()
        return float(own + limited_shift(own, self.pooled_ratio, self.weight, self.max_shift))

    @property
    def effective_weight(self) -> float:
        """The weight of the stratum's own ratio in :attr:`factor` after the shift cap (1 = its own ratio)."""
        if self.kind == POOLED:
            return 0.0
        if self.prior_spans is not None:
            return self.weight
        own = self.gold.sum() / self.predicted.sum()
        gap = self.pooled_ratio - own
        return (
            1.0 if gap == 0 else float(1.0 - limited_shift(own, self.pooled_ratio, self.weight, self.max_shift) / gap)
        )

    @property
    def method(self) -> str:
        n = len(self.gold)
        if self.kind == POOLED:
            why = "no cross-validated articles" if not n else f"no predicted span in its {n} cross-validated articles"
            spread = f", interval widened by the between-outlet spread of the ratio (tau = {self.tau:.3g})"
            return f"pooled precision/recall ratio G/P ({why}{spread if self.prior_spans is None else ''})"
        if self.prior_spans is not None:
            return (
                f"own precision/recall ratio shrunk with weight w = {self.weight:.2f} (fixed prior of "
                f"m = {self.prior_spans:g} predicted spans; {n} cross-validated articles)"
            )
        w = self.effective_weight
        if self.kind == OWN or w >= 0.995:
            return f"own precision/recall ratio G_s/P_s ({n} cross-validated articles)"
        capped = (
            ""
            if w <= self.weight + 1e-9
            else f", capped from {self.weight:.2f} so it moves at most {self.max_shift:.0%}"
        )
        return (
            f"own precision/recall ratio shrunk towards the pooled ratio with weight w = {w:.2f} on its own "
            f"(empirical Bayes{capped}; tau = {self.tau:.3g}; {n} cross-validated articles)"
        )

    @property
    def warning(self) -> str:
        """Non-empty when the stratum's correction is not its own (no cross-validated articles or spans)."""
        if self.kind != POOLED:
            return ""
        return (
            "no cross-validated articles of this outlet with a predicted span: corrected with the pooled ratio of the "
            "other outlets, not its own"
        )

    def correct(self, rate: float | np.ndarray) -> float | np.ndarray:
        """Point correction of a rate per 1,000 tokens."""
        corrected = np.asarray(rate, dtype=float) * self.factor
        return float(corrected) if np.ndim(corrected) == 0 else corrected

    def draw_corrections(self, *, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``size`` draws of (offset, scale) as :meth:`ClassifierErrors.draw_corrections`; the offset is 0.

        Cross-validated articles are resampled within the stratum and over all strata and the factor recomputed
        with the stratum's weight. A stratum without a ratio of its own draws the pooled ratio plus a normal
        deviate with the between-strata standard deviation ``tau`` (floored at 0). A draw is NaN when a resample of
        an unpooled stratum (``prior_spans=0``) has no predicted span.
        """
        pooled, _ = resample_sums(
            np.column_stack([self.pooled_gold, self.pooled_predicted]), n_resamples=size, rng=rng,
            exact_max_articles=None,
        )  # fmt: skip
        own, _ = resample_sums(
            np.column_stack([self.gold, self.predicted]), n_resamples=size, rng=rng, exact_max_articles=None
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            pooled_ratio = pooled[:, 0] / pooled[:, 1]
            if self.prior_spans is not None:
                m = self.prior_spans
                scale = (own[:, 0] + m * pooled_ratio) / (own[:, 1] + m)
            elif self.kind == POOLED:
                scale = np.maximum(pooled_ratio + self.tau * rng.standard_normal(size), 0.0)
            else:
                own_ratio = own[:, 0] / own[:, 1]
                # a resample of the stratum without a predicted span has no own ratio: that draw is the pooled one
                # The interval is the own ratio's: the shrunk point estimate lies at most max_shift from it, and an
                # interval of the shrunk estimator would leave out the (bounded) shrinkage bias.
                scale = np.where(own[:, 1] > 0, own_ratio, pooled_ratio)
        return np.zeros(size), np.where(np.isfinite(scale), scale, np.nan)

    def draw_factors(self, *, size: int, rng: np.random.Generator) -> np.ndarray:
        return self.draw_corrections(size=size, rng=rng)[1]


def limited_shift(own, pooled, weight: float, max_shift: float):
    """How far shrinkage with ``weight`` moves ``own`` towards ``pooled``, at most ``max_shift`` of ``own`` either way
    (limited translation, Efron & Morris 1972: the shrinkage bias of a stratum whose ratio differs is bounded)."""
    shift = (1.0 - weight) * (np.asarray(pooled, dtype=float) - own)
    limit = max_shift * np.abs(own)
    return np.clip(shift, -limit, limit)


def between_strata_variance(gold: np.ndarray, predicted: np.ndarray, rows: dict) -> tuple[float, dict]:
    """Method-of-moments (DerSimonian-Laird) between-strata variance of the ratio G_s/P_s, and each stratum's
    sampling variance ``v_s`` of that ratio (linearised: ``n/(n-1) * sum((g_i - r_s p_i)^2) / P_s^2``; a stratum of
    one article uses the residual variance per article of all strata).  Strata without a predicted span are left out.
    """
    est, residuals, dof = {}, [], 0
    for key, idx in rows.items():
        g, p = gold[idx].astype(float), predicted[idx].astype(float)
        if p.sum() <= 0:
            continue
        r = g.sum() / p.sum()
        e = g - r * p
        residuals.append(e)
        dof += len(idx) - 1
        est[key] = (r, len(idx), float(np.sum(e**2)), float(p.sum()))
    pooled_s2 = float(np.sum(np.concatenate(residuals) ** 2) / dof) if residuals and dof > 0 else 0.0
    variances = {}
    for key, (r, n, sse, big_p) in est.items():
        per_article = sse / (n - 1) if n > 1 else pooled_s2
        variances[key] = (r, n * per_article / big_p**2)
    usable = [(r, v) for r, v in variances.values() if v > 0]
    if len(usable) < 2:
        return 0.0, variances
    r = np.array([x[0] for x in usable])
    u = 1.0 / np.array([x[1] for x in usable])
    mean = np.sum(u * r) / u.sum()
    q = float(np.sum(u * (r - mean) ** 2))
    denominator = u.sum() - np.sum(u**2) / u.sum()
    tau2 = max(0.0, (q - (len(usable) - 1)) / denominator) if denominator > 0 else 0.0
    return tau2, variances


@dataclass(frozen=True)
class StratifiedErrors:
    """Cross-validated gold and predicted span counts per article, with the article's stratum (e.g. outlet).

    Pass it as ``errors`` to :func:`ml.stats.group_rates`: each group is corrected with the ratio of the stratum of
    the same name (a group without cross-validated articles gets the pooled ratio, spread by the between-strata
    spread, and a warning).

    Parameters
    ----------
    strata : sequence
        The stratum of each cross-validated article.
    gold, predicted : sequence of int
        Gold spans and out-of-fold predicted spans of one label in each article.
    prior_spans : float or None, default None
        None: each stratum's own ratio is shrunk towards the pooled one with the empirical-Bayes weight
        ``tau^2 / (tau^2 + v_s)``. A number: the older fixed weight of the pooled ratio, in predicted spans (0
        estimates every stratum on its own).

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
    prior_spans: float | None = None
    max_shift: float = DEFAULT_MAX_SHIFT

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
        if prior is not None and (
            isinstance(prior, bool) or not isinstance(prior, int | float) or not 0 <= prior < np.inf
        ):
            raise ValueError(f"prior_spans must be None or a finite number >= 0, got {prior!r}")
        if isinstance(self.max_shift, bool) or not isinstance(self.max_shift, int | float) or not self.max_shift >= 0:
            raise ValueError(f"max_shift must be a number >= 0, got {self.max_shift!r}")
        if self.predicted.sum() == 0:
            raise ValueError(
                "the model predicted no span in cross-validation: there is no ratio of gold to predicted spans "
                "to correct with"
            )
        if self.gold.sum() == 0:
            raise ValueError("the cross-validated articles hold no gold span: the model's recall is undefined")
        rows = split_by_group(strata)
        object.__setattr__(self, "_rows", rows)
        tau2, variances = between_strata_variance(self.gold, self.predicted, rows)
        object.__setattr__(self, "tau2", tau2)
        object.__setattr__(self, "_variances", variances)

    def weight(self, stratum: Hashable) -> float:
        """Weight of the stratum's own ratio (0 when it has none)."""
        rows = self._rows.get(stratum, np.zeros(0, dtype=int))  # type: ignore[attr-defined]
        big_p = float(self.predicted[rows].sum())
        if big_p == 0:
            return 0.0
        if self.prior_spans is not None:
            return big_p / (big_p + self.prior_spans) if big_p + self.prior_spans > 0 else 1.0
        v = self._variances[stratum][1]  # type: ignore[attr-defined]
        if v <= 0:
            return 1.0
        return float(self.tau2 / (self.tau2 + v))  # type: ignore[attr-defined]

    def for_stratum(self, stratum: Hashable) -> StratumRatio:
        """The correction of ``stratum``; a ValueError when it cannot be estimated without pooling."""
        rows = self._rows.get(stratum, np.zeros(0, dtype=int))  # type: ignore[attr-defined]
        ratio = StratumRatio(
            stratum=stratum,
            gold=self.gold[rows],
            predicted=self.predicted[rows],
            pooled_gold=self.gold,
            pooled_predicted=self.predicted,
            weight=self.weight(stratum),
            tau=float(np.sqrt(self.tau2)),  # type: ignore[attr-defined]
            prior_spans=None if self.prior_spans is None else float(self.prior_spans),
            max_shift=float(self.max_shift),
        )
        if self.prior_spans == 0 and ratio.predicted.sum() == 0:
            what = "has no cross-validated article" if not len(rows) else "had no predicted span in cross-validation"
            raise ValueError(
                f"stratum {stratum!r} {what}: its ratio of gold to predicted spans is undefined without pooling "
                "(use prior_spans > 0)"
            )
        return ratio
