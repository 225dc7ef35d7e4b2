"""Per-group (outlet, period) shares of each answer, corrected for the classifier's errors, with bootstrap intervals.

The classifier's predictions are not the truth: if it calls 20 % of neutral sentences biased, an outlet with no
biased sentence still shows a 20 % biased share. With ``M[t, p] = P(predicted p | true t)`` (the cross-validated
misclassification matrix, :func:`ml.codes.evaluation.evaluate_answers`), the expected predicted shares of a group
whose true shares are ``π`` are ``q = Mᵀ π``. Two corrections recover ``π`` from the observed ``q``:

* ``"inversion"``: solve ``Mᵀ π = q`` (for two answers, Rogan & Gladen's 1978 ``(q − fpr) / (tpr − fpr)``; the
  generalised "adjusted classify and count" of Forman 2008), then clip to the simplex (negatives to 0, rescaled).
* ``"em"``: the maximum-likelihood ``π`` on the simplex given the group's predicted answers and ``M``, by the
  EM iteration ``π_t ← Σ_p q_p · π_t M[t, p] / Σ_t' π_t' M[t', p]`` (Saerens et al. 2002 with a fixed ``M``).
  Where the inversion lands inside the simplex both agree; at its edge EM stays a proper likelihood estimate.

The default is chosen by simulation in ``bench/code_shares_calibration.py`` (docs/benchmarks.md).

Uncertainty (:func:`answer_shares`): each bootstrap resample draws the group's *articles* with replacement (units —
articles or sentences — move with their article; :func:`ml.stats.bootstrap.resample_sums`, seeded per group by
:func:`ml.stats.bootstrap.stream`) **and** a misclassification matrix from its posterior given the cross-validated
confusion counts (each row ``Dirichlet(counts + prior)``, one draw per resample shared by all groups), and corrects
the resample's shares with it; the interval is the percentile interval of the corrected draws. Units predicted by
different models (cross-fitting: each fold by a model fitted without it, with its own matrix) are corrected fold
by fold and their corrected counts added up. Each fold's matrix is drawn on its own, which suits matrices from
separate counts; units whose matrices would share most of their counts (new units predicted by the fold models in
turn, each with the other folds' counts) belong in one block with all the folds' counts, or their intervals come
out too narrow (``bench/code_shares_calibration.py``: 88.9 % coverage fold by fold, 95.0 % as one block).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from numbers import Real

import numpy as np

from ml.codes.pooling import row_prior_units
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

EM_ITERATIONS = 500
EM_TOLERANCE = 1e-10
PRIOR = 0.5  # Jeffreys: each row of the confusion counts gets 0.5 per cell


class Correction(StrEnum):
    INVERSION = "inversion"
    EM = "em"


DEFAULT_CORRECTION = Correction.EM


#: The pooling weight of a stratum's matrix rows: None estimates it per row from the strata's counts (empirical
#: Bayes, :mod:`ml.codes.pooling`); a number is a fixed weight in units (the older rule used m = 20).
DEFAULT_PRIOR_UNITS: float | None = None


@dataclass(frozen=True)
class Misclassification:
    """A classifier's cross-validated confusion counts, pooled and optionally per stratum (e.g. per outlet).

    ``pooled[t][p]``: units with true answer ``answers[t]`` predicted ``answers[p]``; ``strata``: the same counts of
    each stratum's units. A stratum's matrix is partially pooled: row ``t`` is
    ``(C_s[t] + m_t · P_pooled[t]) / (n_s[t] + m_t)``, so a stratum with ``m_t`` units of true answer ``t`` gets half
    its own error rates for it and half the pooled ones. ``prior_units=None`` (the default) estimates ``m_t`` per row
    from how far the strata's rows differ beyond sampling noise (:func:`ml.codes.pooling.row_prior_units`,
    :attr:`row_units`): when they do not, ``m_t = ∞`` and every stratum gets the pooled row; when they do, ``m_t`` is
    small and each stratum keeps close to its own. The misclassification of a classifier can differ by outlet (on
    BABE, neutral wire copy is easier to call neutral than the average sentence), which one pooled matrix
    over-corrects; where it does not, per-outlet rows would only add noise. A number is a fixed ``m`` for every
    row (``0``: each stratum's own rows). A stratum with no counts of a row, or not in ``strata``, gets the pooled
    row. ``prior`` smooths the pooled counts (Jeffreys: 0.5 per cell).

    Uncertainty: the pooled matrix's row is drawn from ``Dirichlet(C[t] + prior)``; a stratum's from a Dirichlet
    with the partially pooled row as mean. With a fixed ``m`` its parameters are ``C_s[t] + m · P_pooled[t]``. With
    the estimated ``m_t`` its concentration also counts the pooled row's own uncertainty (weight ``1 − w`` on it,
    ``w = n_s / (n_s + m_t)``): ``1 / (1 / (n_s + m_t) + (1 − w)² / (N + K · prior))``, so a fully pooled row is
    drawn exactly as the pooled matrix's (a large ``m_t`` is not ``m_t`` units of certainty: the pooled row rests
    on ``N`` units).
    """

    answers: list[str]
    pooled: np.ndarray
    strata: Mapping[Hashable, np.ndarray] = field(default_factory=dict)
    prior_units: float | None = DEFAULT_PRIOR_UNITS
    prior: float = PRIOR

    def __post_init__(self) -> None:
        k = len(self.answers)
        for name, m in [("pooled", self.pooled), *((f"strata[{s!r}]", m) for s, m in self.strata.items())]:
            m = np.asarray(m, dtype=float)
            if m.shape != (k, k) or not np.all(np.isfinite(m)) or np.any(m < 0):
                raise ValueError(f"{name} must be a ({k}, {k}) array of non-negative counts, got shape {m.shape}")
        fixed = self.prior_units
        if (fixed is not None and not (isinstance(fixed, Real) and 0 <= fixed < np.inf)) or self.prior <= 0:
            raise ValueError("prior_units must be None or a finite number >= 0, and prior > 0")
        # estimated once: matrix() and draw() are called per (fold, stratum) block of every scoring
        units = (
            np.full(k, float(fixed))
            if fixed is not None
            else np.maximum(row_prior_units(self.strata.values(), k), k * self.prior)
        )
        object.__setattr__(self, "_row_units", units)

    @property
    def row_units(self) -> np.ndarray:
        """Per row (true answer), the pooling weight ``m`` in units: the fixed ``prior_units``, or the estimated one
        (``inf``: the strata's rows do not differ beyond noise, so every stratum gets the pooled row; at least
        ``K · prior``, the pooled matrix's own smoothing)."""
        return self._row_units.copy()  # type: ignore[attr-defined]

    @classmethod
    def from_units(
        cls,
        *,
        answers: Sequence[str],
        true: Sequence[str],
        predicted: Sequence[str],
        strata: Sequence[Hashable] | None = None,
        prior_units: float | None = DEFAULT_PRIOR_UNITS,
    ) -> Misclassification:
        """Counts from cross-fitted units (true and predicted answer, and optionally each unit's stratum)."""
        answers = [str(a) for a in answers]
        index = {a: j for j, a in enumerate(answers)}
        t = np.array([index[str(a)] for a in true], dtype=np.int64)
        p = np.array([index[str(a)] for a in predicted], dtype=np.int64)
        k = len(answers)

        def counts(rows: np.ndarray) -> np.ndarray:
            return np.bincount(t[rows] * k + p[rows], minlength=k * k).reshape(k, k).astype(float)

        pooled = counts(np.arange(len(t)))
        by_stratum = (
            {} if strata is None else {key: counts(rows) for key, rows in split_by_group(np.asarray(strata)).items()}
        )
        return cls(answers, pooled, by_stratum, prior_units)

    def to_dict(self) -> dict:
        return {
            "answers": list(self.answers),
            "pooled": np.asarray(self.pooled).tolist(),
            "strata": {str(k): np.asarray(v).tolist() for k, v in self.strata.items()},
            "prior_units": None if self.prior_units is None else float(self.prior_units),
            "prior": self.prior,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Misclassification:
        """The inverse of :meth:`to_dict`. A stored number (older dicts always hold ``"prior_units": 20.0``) stays
        that fixed weight, so a stored matrix gives the figures it gave; ``None`` or no key: the default."""
        units = data.get("prior_units", DEFAULT_PRIOR_UNITS)
        return cls(
            list(data["answers"]),
            np.asarray(data["pooled"], dtype=float),
            {k: np.asarray(v, dtype=float) for k, v in data.get("strata", {}).items()},
            None if units is None else float(units),
            float(data.get("prior", PRIOR)),
        )

    def _pseudo_counts(self, stratum: Hashable | None) -> np.ndarray:
        pooled = np.asarray(self.pooled, dtype=float) + self.prior
        if stratum is None or stratum not in self.strata:
            return pooled
        pooled_p = pooled / pooled.sum(axis=1, keepdims=True)
        own = np.asarray(self.strata[stratum], dtype=float)
        if self.prior_units is not None:
            # a stratum with nothing of a row's answer falls back to the pooled row
            return own + np.maximum(self.prior_units, np.where(own.sum(axis=1, keepdims=True) > 0, 0.0, 1.0)) * pooled_p
        return self._estimated_pseudo_counts(own, pooled, pooled_p)

    def _estimated_pseudo_counts(self, own: np.ndarray, pooled: np.ndarray, pooled_p: np.ndarray) -> np.ndarray:
        m = self._row_units[:, None]  # type: ignore[attr-defined]
        n = own.sum(axis=1, keepdims=True)
        full = np.isinf(m) | (n == 0)
        finite_m = np.where(np.isinf(m), 1.0, m)
        weight = np.where(full, 0.0, n / (n + finite_m))  # of the stratum's own rates
        mean = np.where(full, pooled_p, (own + finite_m * pooled_p) / (n + finite_m))
        # the pooled row is known from N units, not n + m: its uncertainty enters with weight (1 - w)
        within = np.where(full, 0.0, 1.0 / (n + finite_m))
        concentration = 1.0 / (within + (1.0 - weight) ** 2 / pooled.sum(axis=1, keepdims=True))
        return np.where(full, pooled, mean * concentration)

    def matrix(self, stratum: Hashable | None = None) -> np.ndarray:
        """``P(predicted | true)`` for ``stratum`` (None: pooled)."""
        counts = self._pseudo_counts(stratum)
        return counts / counts.sum(axis=1, keepdims=True)

    def draw(self, stratum: Hashable | None, *, size: int, rng: np.random.Generator) -> np.ndarray:
        """``(size, K, K)`` matrices from the rows' Dirichlet posteriors."""
        return np.stack([rng.dirichlet(row, size=size) for row in self._pseudo_counts(stratum)], axis=1)


def correct_shares(
    observed: np.ndarray, matrix: np.ndarray, *, method: Correction | str = DEFAULT_CORRECTION
) -> np.ndarray:
    """True shares ``π`` from predicted shares ``q`` (``(..., K)``) and ``M`` (``(K, K)`` or ``(..., K, K)``).

    >>> m = np.array([[0.8, 0.2], [0.1, 0.9]])  # true "yes" predicted yes 80 %; true "no" predicted yes 10 %
    >>> q = np.array([0.8 * 0.3 + 0.1 * 0.7, 0.2 * 0.3 + 0.9 * 0.7])  # what a group with 30 % "yes" shows
    >>> correct_shares(q, m, method="inversion").round(6).tolist(), correct_shares(q, m, method="em").round(6).tolist()
    ([0.3, 0.7], [0.3, 0.7])
    """
    q = np.asarray(observed, dtype=float)
    m = np.broadcast_to(np.asarray(matrix, dtype=float), (*q.shape[:-1], q.shape[-1], q.shape[-1]))
    if Correction(method) is Correction.INVERSION:
        return _inversion(q, m)
    return _em(q, m)


def _inversion(q: np.ndarray, m: np.ndarray) -> np.ndarray:
    mt = np.swapaxes(m, -1, -2)
    try:
        pi = np.linalg.solve(mt, q[..., None])[..., 0]
    except np.linalg.LinAlgError:
        pi = (np.linalg.pinv(mt) @ q[..., None])[..., 0]
    pi = np.clip(pi, 0.0, None)
    total = pi.sum(axis=-1, keepdims=True)
    return np.where(total > 0, pi / np.where(total > 0, total, 1.0), q)


def _em(q: np.ndarray, m: np.ndarray) -> np.ndarray:
    k = q.shape[-1]
    pi = np.full(q.shape, 1.0 / k)
    for _ in range(EM_ITERATIONS):
        expected = np.einsum("...t,...tp->...p", pi, m)  # P(predicted p) under pi
        ratio = np.divide(q, expected, out=np.zeros_like(q), where=expected > 0)
        new = pi * np.einsum("...tp,...p->...t", m, ratio)
        new /= np.maximum(new.sum(axis=-1, keepdims=True), 1e-300)
        done = np.max(np.abs(new - pi)) < EM_TOLERANCE
        pi = new
        if done:
            break
    return pi


@dataclass(frozen=True)
class AnswerShare:
    """One group's share of one answer: as predicted, and corrected, each with a bootstrap interval.

    ``n_units``: units (articles or sentences) of the group; ``n_articles``: their articles; ``n_with_answer``:
    units predicted with the answer. ``corrected_*`` are None when no confusion counts were given. ``mean*``: for a
    scale (:func:`answer_shares_from_counts` with ``values``), the group's mean point value and its interval, the
    same on every answer's row; None otherwise.
    """

    group: Hashable
    answer: str
    n_units: int
    n_articles: int
    n_with_answer: int
    share: float
    share_ci_low: float
    share_ci_high: float
    corrected_share: float | None
    corrected_ci_low: float | None
    corrected_ci_high: float | None
    method: str
    n_resamples: int
    seed: int
    confidence: float
    resampling: str
    mean: float | None = None
    mean_ci_low: float | None = None
    mean_ci_high: float | None = None
    corrected_mean: float | None = None
    corrected_mean_ci_low: float | None = None
    corrected_mean_ci_high: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ShareDraws:
    """One group's answer counts and the bootstrap draws behind its intervals (:func:`answer_share_draws`).

    ``counts``: units with each answer; ``draws``: ``(n_resamples, K)`` resampled shares; ``corrected`` and
    ``corrected_draws``: the same after the correction (None without errors). Resample ``r`` of every group uses
    the same misclassification draw, so a difference of two groups' draws has the right joint spread.
    """

    group: Hashable
    n_articles: int
    n_units: int
    counts: np.ndarray
    draws: np.ndarray
    corrected: np.ndarray | None
    corrected_draws: np.ndarray | None
    resampling: str

    @property
    def shares(self) -> np.ndarray:
        return self.counts / self.n_units if self.n_units else np.full(len(self.counts), np.nan)


def answer_shares(
    *,
    groups: Sequence[Hashable],
    articles: Sequence[Hashable],
    predicted: Sequence[str],
    answers: Sequence[str],
    errors: Misclassification | Mapping[Hashable, Misclassification] | None = None,
    folds: Sequence[Hashable] | None = None,
    strata: Sequence[Hashable] | None = None,
    method: Correction | str = DEFAULT_CORRECTION,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    exact_max_articles: int | None = EXACT_MAX_ARTICLES,
) -> list[AnswerShare]:
    """Share of each answer per group, corrected with the classifier's cross-validated misclassification.

    Parameters
    ----------
    groups : a group per unit (outlet, or outlet and period)
    articles : the article of each unit (the bootstrap resamples articles; for article-scope questions, one unit each)
    predicted : the predicted answer of each unit (one of ``answers``)
    answers : the question's answers, in the order of the errors' rows and columns
    errors : the model's :class:`Misclassification`; with ``folds``, a mapping fold → the misclassification of the
        model that predicted that fold. None: no correction.
    folds : optional, per unit the model (fold) that predicted it (cross-fitting)
    strata : optional, per unit its stratum in ``errors.strata`` (e.g. its outlet): its units are corrected with the
        stratum's partially pooled matrix
    method : "em" or "inversion" (see the module docstring)
    n_resamples, confidence, seed : bootstrap settings; the same seed gives the same intervals
    exact_max_articles : groups above this size may use the normal limit of the bootstrap (``None``: never)

    Returns one :class:`AnswerShare` per (group, answer), groups in the order they first occur, answers in the given
    order. A group may be any hashable key, e.g. ``(outlet, period_start)``. The same as
    :func:`answer_shares_from_counts` with one row per unit.

    Examples
    --------
    >>> errors = Misclassification(["B", "N"], np.array([[80, 20], [10, 90]]))
    >>> rows = answer_shares(groups=["a"] * 4, articles=[1, 2, 3, 4], predicted=["B", "B", "N", "N"],
    ...                      answers=["B", "N"], errors=errors, n_resamples=200)
    >>> [(r.answer, r.share, round(r.corrected_share, 3)) for r in rows]
    [('B', 0.5, 0.571), ('N', 0.5, 0.429)]
    """
    answers = _check_answers(answers)
    index = {a: j for j, a in enumerate(answers)}
    unknown = sorted({str(p) for p in predicted if str(p) not in index})
    if unknown:
        raise ValueError(f"predicted answers not among {answers}: {unknown[:5]}")
    counts = np.zeros((len(predicted), len(answers)))
    counts[np.arange(len(predicted)), [index[str(p)] for p in predicted]] = 1.0
    return answer_shares_from_counts(
        groups=groups, articles=articles, counts=counts, answers=answers, errors=errors, folds=folds, strata=strata,
        method=method, n_resamples=n_resamples, confidence=confidence, seed=seed,
        exact_max_articles=exact_max_articles,
    )  # fmt: skip


def answer_shares_from_counts(
    *,
    groups: Sequence[Hashable],
    articles: Sequence[Hashable],
    counts: np.ndarray,
    answers: Sequence[str],
    values: Sequence[float] | None = None,
    confidence: float = 0.95,
    **settings,
) -> list[AnswerShare]:
    """:func:`answer_shares` from per-row counts: a row is an article's units of one fold (or one unit), ``counts``
    ``(n_rows, K)`` how many of them have each answer (each unit exactly one). ``values``: a number per answer (the
    points of a scale); then every row also carries the group's mean value and its interval. Other parameters
    (``errors``, ``folds``, ``strata``, ``method``, ``n_resamples``, ``seed``, ``exact_max_articles``) as
    :func:`answer_shares`, per row."""
    answers = _check_answers(answers)
    confidence = check_confidence(confidence)
    if values is not None and len(values) != len(answers):
        raise ValueError(f"values must give one number per answer ({len(answers)}), got {len(values)}")
    method = Correction(settings.get("method", DEFAULT_CORRECTION))
    out = []
    for d in answer_share_draws(groups=groups, articles=articles, counts=counts, answers=answers, **settings):
        lo, hi = interval(d.draws, confidence=confidence)
        c_lo = c_hi = None
        if d.corrected is not None:
            c_lo, c_hi = interval(d.corrected_draws, confidence=confidence)
        means = {}
        if values is not None:
            v = np.asarray(values, dtype=float)
            means["mean"], (lo_m, hi_m) = float(d.shares @ v), interval((d.draws @ v)[:, None], confidence=confidence)
            means["mean_ci_low"], means["mean_ci_high"] = float(lo_m[0]), float(hi_m[0])
            if d.corrected is not None:
                c_lo_m, c_hi_m = interval((d.corrected_draws @ v)[:, None], confidence=confidence)
                means.update(corrected_mean=float(d.corrected @ v), corrected_mean_ci_low=float(c_lo_m[0]),
                             corrected_mean_ci_high=float(c_hi_m[0]))  # fmt: skip
        for j, answer in enumerate(answers):
            out.append(
                AnswerShare(
                    group=d.group,
                    answer=answer,
                    n_units=int(d.n_units),
                    n_articles=d.n_articles,
                    n_with_answer=int(d.counts[j]),
                    share=float(d.shares[j]),
                    share_ci_low=float(lo[j]),
                    share_ci_high=float(hi[j]),
                    corrected_share=None if d.corrected is None else float(d.corrected[j]),
                    corrected_ci_low=None if c_lo is None else float(c_lo[j]),
                    corrected_ci_high=None if c_hi is None else float(c_hi[j]),
                    method="none" if d.corrected is None else method.value,
                    n_resamples=len(d.draws),
                    seed=check_seed(settings.get("seed", 0)),
                    confidence=confidence,
                    resampling=d.resampling,
                    **means,
                )
            )
    return out


def _check_answers(answers: Sequence[str]) -> list[str]:
    answers = [str(a) for a in answers]
    if len(answers) < 2 or len(set(answers)) != len(answers):
        raise ValueError(f"answers must list at least two distinct answers, got {answers!r}")
    return answers


def answer_share_draws(
    *,
    groups: Sequence[Hashable],
    articles: Sequence[Hashable],
    counts: np.ndarray,
    answers: Sequence[str],
    errors: Misclassification | Mapping[Hashable, Misclassification] | None = None,
    folds: Sequence[Hashable] | None = None,
    strata: Sequence[Hashable] | None = None,
    method: Correction | str = DEFAULT_CORRECTION,
    n_resamples: int = 1000,
    seed: int = 0,
    exact_max_articles: int | None = EXACT_MAX_ARTICLES,
) -> list[ShareDraws]:
    """Per group (in the order groups first occur), its counts and bootstrap draws of its shares, predicted and
    corrected (rows and parameters as :func:`answer_shares_from_counts`)."""
    answers = _check_answers(answers)
    k = len(answers)
    counts = np.asarray(counts, dtype=float)
    n = len(counts)
    if counts.shape != (n, k) or not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError(f"counts must be an (n_rows, {k}) array of non-negative counts, got shape {counts.shape}")
    for name, given in (("groups", groups), ("articles", articles), ("folds", folds), ("strata", strata)):
        if given is not None and len(given) != n:
            raise ValueError(f"{name} has {len(given)} entries for {n} rows of counts")
    method = Correction(method)
    n_resamples = check_positive_int("n_resamples", n_resamples, minimum=2)
    seed = check_seed(seed)
    # a block is the units one matrix corrects: (fold, stratum)
    fold_list = [0] * n if folds is None else list(folds)
    stratum_list = [None] * n if strata is None else list(strata)
    block_keys, block_of = _codes(list(zip(fold_list, stratum_list, strict=True)))
    models = _block_errors(errors, block_keys, answers, by_fold=folds is not None)

    # per article: how many of its units each block has with each answer
    n_blocks = len(block_keys)
    uniq_articles, article_of = _codes(list(zip(groups, articles, strict=True)))
    values = np.zeros((len(uniq_articles), n_blocks * k))
    np.add.at(values, (article_of[:, None], block_of[:, None] * k + np.arange(k)[None, :]), counts)
    group_keys, article_group = _codes([key[0] for key in uniq_articles])

    points = draws = None
    if models is not None:
        points = [m.matrix(key[1])[None] for m, key in zip(models, block_keys, strict=True)]
        draws = [
            m.draw(key[1], size=n_resamples, rng=stream(seed, "misclassification", str(key[0]), str(key[1])))
            for m, key in zip(models, block_keys, strict=True)
        ]
    out = []
    for code, rows in split_by_group(article_group).items():
        group = group_keys[code]
        group_values = values[rows]
        sums, how = resample_sums(
            group_values, n_resamples=n_resamples, rng=stream(seed, "answer-shares", group),
            exact_max_articles=exact_max_articles,
        )  # fmt: skip
        total = group_values.sum(axis=0).reshape(1, n_blocks, k)
        draw_counts = sums.reshape(n_resamples, n_blocks, k)
        n_units = total.sum()
        corrected = corrected_draws = None
        if models is not None:
            corrected = _corrected_counts(total, points, method)[0] / n_units if n_units else np.full(k, np.nan)
            corrected_draws = _safe_share(_corrected_counts(draw_counts, draws, method))
        out.append(
            ShareDraws(
                group=group, n_articles=len(rows), n_units=int(round(n_units)), counts=total[0].sum(axis=0),
                draws=_safe_share(draw_counts.sum(axis=1)), corrected=corrected, corrected_draws=corrected_draws,
                resampling=how.value,
            )
        )  # fmt: skip
    return out


def _block_errors(errors, block_keys: list, answers: list[str], *, by_fold: bool) -> list[Misclassification] | None:
    if errors is None:
        return None
    out = []
    for fold, _ in block_keys:
        if by_fold:
            if not isinstance(errors, Mapping) or fold not in errors:
                raise ValueError(f"with folds, errors must map every fold to its Misclassification (missing {fold!r})")
            model = errors[fold]
        elif isinstance(errors, Misclassification):
            model = errors
        else:
            raise ValueError("errors must be a Misclassification (or, with folds, a mapping of them)")
        if list(model.answers) != answers:
            raise ValueError(f"the misclassification's answers {list(model.answers)} differ from {answers}")
        out.append(model)
    return out


def _codes(keys: list) -> tuple[list, np.ndarray]:
    uniq: dict = {}
    codes = np.array([uniq.setdefault(key, len(uniq)) for key in keys], dtype=np.int64)
    return list(uniq), codes


def _corrected_counts(counts: np.ndarray, matrices: list[np.ndarray], method: Correction) -> np.ndarray:
    """``(R, K)`` corrected counts: per block, its corrected shares times its units, added over blocks."""
    out = np.zeros((counts.shape[0], counts.shape[2]))
    for f, m in enumerate(matrices):
        n_f = counts[:, f].sum(axis=1, keepdims=True)
        if not n_f.any():  # the group has no unit in this block
            continue
        q = _safe_share(counts[:, f])
        pi = correct_shares(np.nan_to_num(q), m, method=method)
        out += np.where(n_f > 0, pi * n_f, 0.0)
    return out


def _safe_share(counts: np.ndarray) -> np.ndarray:
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, counts / np.where(total > 0, total, 1.0), np.nan)
