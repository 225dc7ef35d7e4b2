"""How much a misclassification row should be pooled over strata: an empirical-Bayes weight from the counts.

Model: in stratum ``s`` (an outlet), the units of true answer ``t`` are predicted with rates ``θ_s``, drawn from a
Dirichlet with mean ``P`` (the pooled row) and concentration ``m``; the ``n_s`` counts ``C_s`` are multinomial given
``θ_s`` (together: Dirichlet-multinomial). Given ``m``, the posterior mean of ``θ_s`` is ``(C_s + m·P) / (n_s + m)``,
the partially pooled row of :class:`ml.codes.Misclassification`: ``m`` is the number of units of the pooled row
that a stratum's own counts are weighed against. ``m`` is large when the strata's true rates agree and small when
they differ, and the counts say which: the strata's observed rates spread by more than multinomial noise only as
far as their true rates differ.

Estimate (method of moments, the Dirichlet-multinomial form of DerSimonian & Laird's between-study variance): with
``ρ = 1 / (m + 1)`` (the intra-stratum correlation; ``Var θ_s,p = P_p (1 − P_p) ρ``), ``N = Σ n_s`` and ``S`` strata
with units of ``t``, Pearson's statistic of the strata's counts against the pooled row,
``X² = Σ_s Σ_p (C_s,p − n_s P_p)² / (n_s P_p)``, has expectation ``(K' − 1) · [(S − 1) + ρ (N − Σ n_s² / N − (S − 1))]``
(``K'`` the answers predicted at least once), so ``ρ̂ = (X² / (K' − 1) − (S − 1)) / (N − Σ n_s² / N − (S − 1))``.
``ρ̂ ≤ 0`` (no spread beyond noise) gives ``m = ∞``: every stratum gets the pooled row. Like DerSimonian-Laird's
``τ²`` it is truncated at 0, so a row pools fully whenever the observed spread is within noise; the intervals then
rest on the pooled counts, which is right when the strata agree and is what the known-truth benchmark measures
(docs/benchmarks.md).

Written here in numpy: scipy and statsmodels fit a Dirichlet-multinomial to one sample, not the between-strata
concentration of the rows of a confusion matrix with a pooled mean, and the estimator is a few lines.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def row_prior_units(strata: Iterable[np.ndarray], k: int) -> np.ndarray:
    """Per row ``t`` of ``k × k`` confusion counts, the estimated pooling weight ``m`` (``inf``: pool fully).

    ``strata``: each stratum's counts (rows: true answer, columns: predicted). A row that fewer than two strata
    have units of, that only one answer is ever predicted in, or whose strata hold one unit each (no
    within-stratum information) gets ``inf``: nothing shows that its strata differ.

    >>> same = [np.array([[80.0, 20.0], [10.0, 90.0]])] * 3          # three strata with identical counts
    >>> row_prior_units(same, 2).tolist()
    [inf, inf]
    >>> apart = [np.array([[95.0, 5.0], [0.0, 0.0]]), np.array([[50.0, 50.0], [0.0, 0.0]])]
    >>> round(float(row_prior_units(apart, 2)[0]), 1), float(row_prior_units(apart, 2)[1])
    (1.0, inf)
    """
    given = [np.asarray(c, dtype=float) for c in strata]
    counts = np.stack(given) if given else np.zeros((0, k, k))
    out = np.full(k, np.inf)
    for t in range(k):
        rows = counts[:, t, :]
        rows = rows[rows.sum(axis=1) > 0]
        n = rows.sum(axis=1)
        total = rows.sum(axis=0)
        seen = total > 0
        s, k_seen = len(rows), int(seen.sum())
        if s < 2 or k_seen < 2:
            continue
        p = total[seen] / n.sum()
        expected = n[:, None] * p[None, :]
        x2 = float(np.sum((rows[:, seen] - expected) ** 2 / expected))
        denominator = n.sum() - np.sum(n**2) / n.sum() - (s - 1)
        if denominator <= 0:
            continue
        rho = (x2 / (k_seen - 1) - (s - 1)) / denominator
        if rho > 0:
            out[t] = 1.0 / min(rho, 1.0) - 1.0
    return out
