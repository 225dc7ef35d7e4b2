"""Simulations behind the calibration of ml.stats (``bench/stats_calibration.py``, ``tests/ml/stats``).

Known-truth corpora: article lengths uniform on 80..999 tokens, spans Poisson with ``rate`` per 1,000 tokens times an
article multiplier; *even* articles have none (pure Poisson), *uneven* ones a ``Gamma(k, 1/k)`` multiplier (mean 1,
variance ``1/k``: spans pile up in some articles, none in others; :data:`UNEVEN` ``k = 1``, :data:`VERY_UNEVEN`
``k = 0.5``). Every function runs the real estimators (``compare_groups``, ``group_rates``, ``variant_shares``) on
many studies at once where the estimator allows it (one group per study), seeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.stats.comparison import compare_groups
from ml.stats.data import ArticleCounts
from ml.stats.errors import ClassifierErrors
from ml.stats.rates import group_rates
from ml.stats.variants import variant_shares

LENGTHS = np.arange(80, 1000)
RATE = 4.0
EVEN: float | None = None
UNEVEN = 1.0
VERY_UNEVEN = 0.5
#: True share of articles with >= 1 span for even articles at RATE.
TRUE_SHARE = float(np.mean(1 - np.exp(-RATE / 1000 * LENGTHS)))
#: Term choice: true variant shares, mentions per article, concentration of an article's own preference.
VARIANT_SHARES = np.array([0.6, 0.3, 0.1])
MENTIONS_PER_ARTICLE = 2.0
PREFERENCE_CONCENTRATION = 5.0


def articles(rng: np.random.Generator, size, *, dispersion: float | None, rate: float = RATE):
    """Tokens and spans of ``size`` articles (any shape)."""
    tokens = rng.choice(LENGTHS, size=size)
    mean = rate * tokens / 1000
    if dispersion is not None:
        mean = mean * rng.gamma(dispersion, 1 / dispersion, size=size)
    return tokens, rng.poisson(mean)


def true_share(dispersion: float | None, rate: float = RATE) -> float:
    """P(an article has >= 1 span): ``E[(1 + m/k)^-k]`` over lengths for a Gamma(k) multiplier."""
    m = rate / 1000 * LENGTHS
    if dispersion is None:
        return float(np.mean(1 - np.exp(-m)))
    return float(np.mean(1 - (1 + m / dispersion) ** (-dispersion)))


@dataclass(frozen=True)
class Setting:
    name: str
    n_a: int
    dispersion_a: float | None
    n_b: int
    dispersion_b: float | None


def comparison_p_values(
    setting: Setting,
    *,
    studies: int,
    seed: int,
    effect: float = 1.0,
    test: str = "studentized-bootstrap",
    n_permutations: int = 499,
    corrected: bool = False,
) -> np.ndarray:
    """p-values of ``compare_groups`` (a vs b) in ``studies`` simulated studies; group a's rate is ``effect``
    times b's (1: the null). ``corrected``: with a pooled classifier-error correction drawn per study."""
    rng = np.random.default_rng(seed)
    cv = np.random.default_rng([seed, 1])  # its own stream: the corrected studies see the same corpora
    out = np.empty(studies)
    for i in range(studies):
        ta, sa = articles(rng, setting.n_a, dispersion=setting.dispersion_a, rate=RATE * effect)
        tb, sb = articles(rng, setting.n_b, dispersion=setting.dispersion_b)
        counts = ArticleCounts(
            groups=np.repeat([0, 1], [setting.n_a, setting.n_b]),
            n_tokens=np.concatenate([ta, tb]),
            n_spans=np.concatenate([sa, sb]),
        )
        errors = None
        if corrected:
            tp = int(cv.binomial(300, 0.6))
            errors = ClassifierErrors(tp=max(tp, 1), fp=int(cv.poisson(60)), fn=300 - tp)
        options = {} if test == "studentized-bootstrap" else {"test": test}
        out[i] = compare_groups(
            counts, group_a=0, group_b=1, errors=errors, n_resamples=2, n_permutations=n_permutations, seed=i,
            **options,
        ).p_value  # fmt: skip
    return out


def rate_coverage(
    n_articles: int, *, studies: int, seed: int, dispersion: float | None = EVEN, method: str = "effective-count"
) -> dict:
    """Coverage of the 95 % rate and share intervals of ``group_rates`` for groups of ``n_articles``, and how many
    intervals had zero width."""
    rng = np.random.default_rng(seed)
    tokens, spans = articles(rng, (studies, n_articles), dispersion=dispersion)
    counts = ArticleCounts(
        groups=np.repeat(np.arange(studies), n_articles), n_tokens=tokens.ravel(), n_spans=spans.ravel()
    )
    options = {} if method == "effective-count" else {"method": method}
    rows = group_rates(counts, n_resamples=1000, seed=seed, **options).values()
    rate = np.array([(r.rate_ci_low, r.rate_ci_high) for r in rows])
    share = np.array([(r.share_ci_low, r.share_ci_high) for r in rows])
    truth = true_share(dispersion)
    return {
        "rate": float(np.mean((rate[:, 0] <= RATE) & (RATE <= rate[:, 1]))),
        "share": float(np.mean((share[:, 0] <= truth) & (truth <= share[:, 1]))),
        "zero_width": int(np.sum(rate[:, 1] - rate[:, 0] <= 0) + np.sum(share[:, 1] - share[:, 0] <= 0)),
    }


def variant_coverage(n_articles: int, *, studies: int, seed: int, method: str = "effective-count") -> dict:
    """Coverage of the 95 % intervals of ``variant_shares`` for each variant (true shares :data:`VARIANT_SHARES`)
    among studies whose group mentions the concept at all, and the number of zero-width intervals."""
    rng = np.random.default_rng(seed)
    k = len(VARIANT_SHARES)
    mentions = rng.poisson(MENTIONS_PER_ARTICLE, size=(studies, n_articles))
    preference = rng.dirichlet(PREFERENCE_CONCENTRATION * VARIANT_SHARES, size=(studies, n_articles))
    # multinomial per article via sequential binomials (vectorised)
    counts = np.zeros((studies, n_articles, k), dtype=np.int64)
    left = mentions.copy()
    rest = np.ones((studies, n_articles))
    for v in range(k - 1):
        p = np.clip(preference[..., v] / np.maximum(rest, 1e-12), 0, 1)
        counts[..., v] = rng.binomial(left, p)
        left -= counts[..., v]
        rest -= preference[..., v]
    counts[..., k - 1] = left
    rows = variant_shares(
        groups=np.repeat(np.arange(studies), n_articles), counts=counts.reshape(-1, k), variants=["v0", "v1", "v2"],
        n_resamples=1000, seed=seed, **({} if method == "effective-count" else {"method": method}),
    )  # fmt: skip
    covered = {v: [] for v in range(k)}
    zero_width = 0
    for r in rows:
        if r.n_mentions == 0:
            continue
        v = int(r.variant[1:])
        covered[v].append(r.ci_low <= VARIANT_SHARES[v] <= r.ci_high)
        zero_width += int(r.ci_high - r.ci_low <= 0)
    return {f"share_{VARIANT_SHARES[v]:g}": float(np.mean(c)) for v, c in covered.items()} | {"zero_width": zero_width}
