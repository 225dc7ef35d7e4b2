"""Distinctive terms: weighted log-odds ratio with an informative Dirichlet prior.

Monroe, Colaresi & Quinn (2008), "Fightin' Words", Political Analysis 16(4), eqs. 16–22.  For a
group i against the rest j, with counts ``y_w``, totals ``n``, prior ``alpha_w = alpha0 * y_w / n``
from the whole corpus:

    delta_w = log((y_w^i + a_w) / (n^i + a0 - y_w^i - a_w)) - log((y_w^j + a_w) / (n^j + a0 - y_w^j - a_w))
    var(delta_w) ~= 1 / (y_w^i + a_w) + 1 / (y_w^j + a_w)
    z_w = delta_w / sqrt(var(delta_w))
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

DEFAULT_PRIOR_SIZE = 1000.0


@dataclass(frozen=True)
class TermScore:
    term: str
    delta: float
    z: float
    count_group: int
    count_rest: int

    def to_dict(self) -> dict:
        return asdict(self)


def distinctive_terms(
    *,
    counts: Sequence[Sequence[int]] | np.ndarray,
    terms: Sequence[str],
    groups: Sequence[Hashable],
    group: Hashable,
    prior_size: float = DEFAULT_PRIOR_SIZE,
) -> list[TermScore]:
    """Terms of ``group`` against all other groups, by descending z (over-used first, under-used last).

    Parameters
    ----------
    counts : (n_groups, n_terms) array of whole numbers
        ``counts[g, w]``: occurrences of term w in group g.
    terms, groups : names of the columns and rows of ``counts``.
    group : the row to compare with the sum of the other rows.
    prior_size : alpha0, the total pseudo-count of the corpus-frequency prior.  Terms never seen in the
        corpus have no prior and are left out.
    """
    matrix = np.asarray(counts, dtype=np.float64)
    terms, groups = list(terms), list(groups)
    if matrix.ndim != 2 or matrix.shape != (len(groups), len(terms)):
        raise ValueError(f"counts has shape {matrix.shape}, expected ({len(groups)}, {len(terms)}) for groups x terms")
    if not np.all(np.isfinite(matrix)) or np.any(matrix < 0) or np.any(matrix != np.round(matrix)):
        raise ValueError("counts must hold non-negative whole numbers")
    if group not in groups:
        raise ValueError(f"unknown group {group!r}; known: {groups!r}")
    if len(groups) < 2:
        raise ValueError("distinctive terms need at least one other group to compare with")
    if not isinstance(prior_size, int | float) or not np.isfinite(prior_size) or prior_size <= 0:
        raise ValueError(f"prior_size must be a positive number, got {prior_size!r}")
    y_i = matrix[groups.index(group)]
    y_j = matrix.sum(axis=0) - y_i
    y = y_i + y_j
    keep = y > 0
    if not keep.any():
        return []
    alpha = prior_size * y / y.sum()
    a0 = alpha.sum()
    n_i, n_j = y_i.sum(), y_j.sum()
    if n_i == 0 or n_j == 0:
        raise ValueError("both the group and the rest need at least one counted term")
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds_i = np.log(y_i + alpha) - np.log(n_i + a0 - y_i - alpha)
        log_odds_j = np.log(y_j + alpha) - np.log(n_j + a0 - y_j - alpha)
        delta = log_odds_i - log_odds_j
        z = delta / np.sqrt(1.0 / (y_i + alpha) + 1.0 / (y_j + alpha))
    rows = [
        TermScore(term=terms[w], delta=float(delta[w]), z=float(z[w]), count_group=int(y_i[w]), count_rest=int(y_j[w]))
        for w in np.flatnonzero(keep)
    ]
    return sorted(rows, key=lambda r: (-r.z, r.term))
