"""The coefficients on integer-coded arrays: Cohen's kappa, Fleiss' kappa, Krippendorff's nominal alpha.

Codes are non-negative integers; ``-1`` marks a missing value. Each function returns a
:class:`Coefficient` whose ``value`` is None (with a ``reason``) when the coefficient is undefined
(no units, or no variation at all), never NaN and never a silent 1.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.agreement.data import AgreementInputError
from ml.agreement.results import checked_coefficient

MISSING = -1
NO_VARIATION = "no variation: every unit got the same category from every annotator, so chance agreement is 1"


@dataclass(frozen=True)
class Coefficient:
    """A coefficient with what it was computed from."""

    value: float | None
    observed: float | None
    expected: float | None
    n_units: int
    reason: str | None = None


def _as_codes(values: np.ndarray | list, *, ndim: int, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != ndim:
        raise AgreementInputError(f"{name} must be a {ndim}-d array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise AgreementInputError(f"{name} must hold integer category codes (-1 = missing), got dtype {arr.dtype}")
    if arr.size and arr.min() < MISSING:
        raise AgreementInputError(f"{name} holds {arr.min()}; codes must be >= 0, or -1 for missing")
    return arr.astype(np.int64, copy=False)


def cohen_kappa(a: np.ndarray | list, b: np.ndarray | list) -> Coefficient:
    """Cohen's (1960) kappa of two raters over the units where both gave a code.

    Parameters
    ----------
    a, b : array of int, shape (n_units,)
        Category codes, ``-1`` = missing; units missing in either are left out.

    Returns
    -------
    Coefficient
        ``observed`` = p_o (share of units with the same code), ``expected`` = p_e (chance agreement
        from each rater's own marginals), ``value = (p_o - p_e) / (1 - p_e)``.

    Examples
    --------
    >>> cohen_kappa([0, 0, 1, 1], [0, 1, 1, 1]).value
    0.5
    """
    x = _as_codes(a, ndim=1, name="a")
    y = _as_codes(b, ndim=1, name="b")
    if x.shape != y.shape:
        raise AgreementInputError(f"a and b must have the same length, got {x.shape[0]} and {y.shape[0]}")
    both = (x != MISSING) & (y != MISSING)
    x, y = x[both], y[both]
    n = int(x.size)
    if n == 0:
        return Coefficient(None, None, None, 0, reason="no unit was coded by both annotators")
    n_cat = int(max(x.max(), y.max())) + 1
    p_o = float(np.count_nonzero(x == y)) / n
    p_a = np.bincount(x, minlength=n_cat) / n
    p_b = np.bincount(y, minlength=n_cat) / n
    p_e = float(p_a @ p_b)
    if 1.0 - p_e <= 1e-12:
        return Coefficient(None, p_o, p_e, n, reason=NO_VARIATION)
    return Coefficient(checked_coefficient((p_o - p_e) / (1.0 - p_e), measure="Cohen's kappa"), p_o, p_e, n)


def fleiss_kappa(counts: np.ndarray | list) -> Coefficient:
    """Fleiss' (1971) kappa from a units x categories table of rating counts.

    Every row must sum to the same number of ratings n >= 2 (the raters need not be the same people).

    Returns
    -------
    Coefficient
        ``observed`` = mean per-unit agreement P-bar, ``expected`` = P_e = sum of squared category shares.
    """
    table = np.asarray(counts)
    if table.ndim != 2:
        raise AgreementInputError(f"counts must be a units x categories table, got shape {table.shape}")
    if table.size and (not np.issubdtype(table.dtype, np.integer) or table.min() < 0):
        raise AgreementInputError("counts must be non-negative integers")
    n_units = int(table.shape[0])
    if n_units == 0:
        return Coefficient(None, None, None, 0, reason="no unit has the required number of ratings")
    per_unit = table.sum(axis=1)
    n = int(per_unit[0])
    if np.any(per_unit != n):
        raise AgreementInputError(
            f"Fleiss' kappa needs the same number of ratings on every unit, got between {per_unit.min()} "
            f"and {per_unit.max()}"
        )
    if n < 2:
        raise AgreementInputError(f"Fleiss' kappa needs at least 2 ratings per unit, got {n}")
    table = table.astype(np.float64)
    p_i = ((table * table).sum(axis=1) - n) / (n * (n - 1))
    p_bar = float(p_i.mean())
    p_j = table.sum(axis=0) / (n_units * n)
    p_e = float(p_j @ p_j)
    if 1.0 - p_e <= 1e-12:
        return Coefficient(None, p_bar, p_e, n_units, reason=NO_VARIATION)
    return Coefficient(checked_coefficient((p_bar - p_e) / (1.0 - p_e), measure="Fleiss' kappa"), p_bar, p_e, n_units)


def value_counts(codes: np.ndarray) -> np.ndarray:
    """Units x categories table: how many raters gave each code to each unit (missing values skipped)."""
    codes = _as_codes(codes, ndim=2, name="codes")
    n_units = codes.shape[0]
    n_cat = max(int(codes.max()) + 1 if codes.size else 0, 1)
    rows = np.broadcast_to(np.arange(n_units, dtype=np.int64)[:, None], codes.shape)
    given = codes != MISSING
    flat = rows[given] * n_cat + codes[given]
    return np.bincount(flat, minlength=n_units * n_cat).reshape(n_units, n_cat)


NOT_PAIRABLE = "no unit has values from two or more annotators"


def _pairable(codes: np.ndarray | list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes checked, values per unit, mask of the units with two or more values): alpha's pairable units."""
    codes = _as_codes(codes, ndim=2, name="codes")
    m_all = np.count_nonzero(codes != MISSING, axis=1)
    return codes, m_all, m_all >= 2


def krippendorff_alpha_nominal(codes: np.ndarray | list) -> Coefficient:
    """Krippendorff's alpha for nominal data with any number of raters and missing values.

    Parameters
    ----------
    codes : array of int, shape (n_units, n_raters)
        Category codes, ``-1`` = missing. (Note: the ``krippendorff`` package takes raters x units.)

    Returns
    -------
    Coefficient
        ``observed`` = D_o and ``expected`` = D_e (disagreements), ``value = 1 - D_o / D_e``, computed from
        the coincidence matrix of the pairable units (units with at least two values); ``n_units`` counts
        those units.

    Notes
    -----
    With n_uc the number of values c in unit u, m_u = sum_c n_uc, n_c = sum_u n_uc over pairable units and
    n = sum_c n_c: o_cc = sum_u n_uc (n_uc - 1) / (m_u - 1), D_o = (n - sum_c o_cc) / n and
    D_e = (n^2 - sum_c n_c^2) / (n (n - 1)) (Krippendorff 2011, "Computing Krippendorff's alpha-reliability").
    """
    codes, m_all, pairable = _pairable(codes)
    n_units = int(np.count_nonzero(pairable))
    if n_units == 0:
        return Coefficient(None, None, None, 0, reason=NOT_PAIRABLE)
    table = value_counts(codes[pairable]).astype(np.float64)
    m_u = m_all[pairable].astype(np.float64)
    ones = np.ones(table.shape[1])
    n_c = table.sum(axis=0)
    n = float(n_c.sum())
    # Row sums through a matrix product: numpy's axis=1 reductions over a few columns are slow.
    o_diag = float((((table * (table - 1)) @ ones) / (m_u - 1)).sum())
    d_o = (n - o_diag) / n
    d_e = (n * n - float(n_c @ n_c)) / (n * (n - 1))
    if d_e <= 1e-12:
        return Coefficient(None, d_o, d_e, n_units, reason=NO_VARIATION)
    return Coefficient(checked_coefficient(1.0 - d_o / d_e, measure="Krippendorff's alpha"), d_o, d_e, n_units)


def krippendorff_alpha_ordinal(codes: np.ndarray | list, *, n_categories: int | None = None) -> Coefficient:
    """Krippendorff's alpha for ordinal data: codes are ranks (0 = lowest), ``-1`` = missing.

    Parameters
    ----------
    codes : array of int, shape (n_units, n_raters)
        Rank of each rater's value on each unit, ``-1`` = missing.
    n_categories : int, optional
        How many ranks the scale has (ranks no one used still count as steps between the ones used); by default
        one more than the highest code.

    Returns
    -------
    Coefficient
        ``observed`` = D_o and ``expected`` = D_e with the ordinal metric, ``value = 1 - D_o / D_e``.

    Notes
    -----
    From the coincidence matrix o_ck = sum_u (n_uc n_uk - [c = k] n_uc) / (m_u - 1) over pairable units, with
    n_c = sum_k o_ck and n = sum_c n_c, the ordinal distance is
    delta_ck^2 = (sum_{g=c}^{k} n_g - (n_c + n_k) / 2)^2, D_o = sum o_ck delta_ck^2 / n and
    D_e = sum n_c n_k delta_ck^2 / (n (n - 1)) (Krippendorff 2011). Equal to the ``krippendorff`` package's
    ``level_of_measurement="ordinal"`` with the scale's points as its value domain (tests/ml).

    Examples
    --------
    >>> round(krippendorff_alpha_ordinal([[0, 0], [1, 2], [2, 2], [3, 3]]).value, 3)
    0.91
    """
    codes, m_all, pairable = _pairable(codes)
    n_units = int(np.count_nonzero(pairable))
    if n_units == 0:
        return Coefficient(None, None, None, 0, reason=NOT_PAIRABLE)
    k = max(n_categories or 0, int(codes.max()) + 1)
    table = np.zeros((n_units, k))
    counted = value_counts(codes[pairable]).astype(np.float64)
    table[:, : counted.shape[1]] = counted
    weights = 1.0 / (m_all[pairable].astype(np.float64) - 1.0)
    coincidence = (table * weights[:, None]).T @ table - np.diag((table * weights[:, None]).sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = float(n_c.sum())
    cumulative = np.concatenate([[0.0], np.cumsum(n_c)])
    lo, hi = np.minimum.outer(np.arange(k), np.arange(k)), np.maximum.outer(np.arange(k), np.arange(k))
    delta = (cumulative[hi + 1] - cumulative[lo] - (n_c[:, None] + n_c[None, :]) / 2.0) ** 2
    d_o = float((coincidence * delta).sum()) / n
    d_e = float(n_c @ delta @ n_c) / (n * (n - 1.0))
    if d_e <= 1e-12:
        return Coefficient(None, d_o, d_e, n_units, reason=NO_VARIATION)
    return Coefficient(checked_coefficient(1.0 - d_o / d_e, measure="Krippendorff's alpha"), d_o, d_e, n_units)
