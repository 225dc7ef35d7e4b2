"""Distinctive terms: weighted log-odds ratio with an informative Dirichlet prior.

Monroe, Colaresi & Quinn (2008), "Fightin' Words", Political Analysis 16(4), eqs. 16–22.  For a
group i against the rest j, with counts ``y_w``, totals ``n``, prior ``alpha_w = alpha0 * y_w / n``
from the whole corpus:

    delta_w = log((y_w^i + a_w) / (n^i + a0 - y_w^i - a_w)) - log((y_w^j + a_w) / (n^j + a0 - y_w^j - a_w))
    var(delta_w) ~= 1 / (y_w^i + a_w) + 1 / (y_w^j + a_w)
    z_w = delta_w / sqrt(var(delta_w))

The prior's total ``alpha0`` is a fixed fraction of the corpus (``prior_fraction``, default 1 %: ``alpha_w =
0.01 * y_w``), not a fixed number of pseudo-counts.  With a fixed ``alpha0`` the prior dominates a small corpus and
vanishes in a large one, so the same proportions gave z = 0.5 at one size and 30 at 100 times the counts.  Scaled to
the corpus, multiplying every count by k leaves ``delta`` unchanged and multiplies z by exactly sqrt(k), as a test
statistic's evidence grows with the sample; the ranking of terms does not change.  1 % keeps the share of |z| > 1.96
under the null (two groups drawn from one Zipfian vocabulary) at 1–4 % from 2,000 to 2,000,000 tokens per group; a
prior as large as the corpus itself (Monroe et al.'s background corpus at its own size) flags almost nothing (< 0.1 %).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

#: The prior's total pseudo-count as a fraction of the corpus's counted terms (docs/statistics.md § Distinctive terms).
DEFAULT_PRIOR_FRACTION = 0.01


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
    prior_fraction: float = DEFAULT_PRIOR_FRACTION,
    prior_size: float | None = None,
) -> list[TermScore]:
    """Terms of ``group`` against all other groups, by descending z (over-used first, under-used last).

    Parameters
    ----------
    counts : (n_groups, n_terms) array of whole numbers
        ``counts[g, w]``: occurrences of term w in group g.
    terms, groups : names of the columns and rows of ``counts``.
    group : the row to compare with the sum of the other rows.
    prior_fraction : alpha0 as a fraction of the corpus's total count (default 0.01), so that the prior weighs
        the same against the data whatever the corpus size.
    prior_size : a fixed alpha0 instead (pseudo-counts); its weight then depends on the corpus size.
        Terms never seen in the corpus have no prior and are left out.

    A vocabulary of one term (its share is 1 in every group) gives delta = z = 0; an all-zero matrix gives no rows.
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
    for name, value in (("prior_fraction", prior_fraction), ("prior_size", prior_size)):
        if value is None and name == "prior_size":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    y_i = matrix[groups.index(group)]
    y_j = matrix.sum(axis=0) - y_i
    y = y_i + y_j
    keep = y > 0
    if not keep.any():
        return []
    n_i, n_j = y_i.sum(), y_j.sum()
    if n_i == 0 or n_j == 0:
        raise ValueError("both the group and the rest need at least one counted term")
    a0 = prior_fraction * y.sum() if prior_size is None else float(prior_size)
    alpha = a0 * y / y.sum()
    # The odds' denominators (the other terms, data and prior) are 0 only when one term is the whole vocabulary:
    # its share is 1 everywhere, so there is no difference to score (0, not log(0) - log(0) = NaN).
    rest_i = n_i - y_i + a0 - alpha
    rest_j = n_j - y_j + a0 - alpha
    single = (rest_i <= 0) | (rest_j <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds_i = np.log(y_i + alpha) - np.log(rest_i)
        log_odds_j = np.log(y_j + alpha) - np.log(rest_j)
        delta = np.where(single, 0.0, log_odds_i - log_odds_j)
        z = np.where(single, 0.0, delta / np.sqrt(1.0 / (y_i + alpha) + 1.0 / (y_j + alpha)))
    rows = [
        TermScore(term=terms[w], delta=float(delta[w]), z=float(z[w]), count_group=int(y_i[w]), count_rest=int(y_j[w]))
        for w in np.flatnonzero(keep)
    ]
    return sorted(rows, key=lambda r: (-r.z, r.term))
