"""Framing-score statistics: rates with bootstrap CIs, error correction, comparisons, term choice, log-odds.

Pure numpy/scipy; every estimator, interval and test is described in ``docs/statistics.md``.
"""

from ml.stats.comparison import REST, RateDifference, compare_groups, one_vs_rest, pairwise_differences
from ml.stats.data import ArticleCounts
from ml.stats.errors import ClassifierErrors
from ml.stats.logodds import TermScore, distinctive_terms
from ml.stats.multitest import benjamini_hochberg, holm
from ml.stats.periods import Granularity, period_start, period_starts
from ml.stats.rates import GroupRate, group_rates
from ml.stats.strata import StratifiedErrors, StratumRatio
from ml.stats.variants import VariantShare, variant_shares

__all__ = [
    "REST",
    "ArticleCounts",
    "ClassifierErrors",
    "Granularity",
    "GroupRate",
    "RateDifference",
    "StratifiedErrors",
    "StratumRatio",
    "TermScore",
    "VariantShare",
    "benjamini_hochberg",
    "compare_groups",
    "distinctive_terms",
    "group_rates",
    "holm",
    "one_vs_rest",
    "pairwise_differences",
    "period_start",
    "period_starts",
    "variant_shares",
]
