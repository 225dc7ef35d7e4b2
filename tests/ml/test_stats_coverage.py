"""Simulation: 95 % bootstrap intervals cover the true rate and share about 95 % of the time.

Each repetition is one group of articles drawn from a known model (lengths uniform on 80..999 tokens,
spans Poisson with 4 per 1,000 tokens), so one ``group_rates`` call runs all repetitions.  With 400
repetitions the coverage estimate has a standard error of about 0.011 at 0.95; the accepted band
[0.91, 0.985] is more than three standard errors either side.
"""

import numpy as np
import pytest

from ml.stats import ArticleCounts, ClassifierErrors, group_rates

REPS, RATE = 400, 4.0
LENGTHS = np.arange(80, 1000)
TRUE_SHARE = float(np.mean(1 - np.exp(-RATE / 1000 * LENGTHS)))


def _simulate(n_articles: int, seed: int) -> ArticleCounts:
    rng = np.random.default_rng(seed)
    tokens = rng.choice(LENGTHS, size=REPS * n_articles)
    spans = rng.poisson(tokens * RATE / 1000)
    return ArticleCounts(groups=np.repeat(np.arange(REPS), n_articles), n_tokens=tokens, n_spans=spans)


def _coverage(results, low: str, high: str, truth: float) -> float:
    return float(np.mean([getattr(r, low) <= truth <= getattr(r, high) for r in results.values()]))


@pytest.mark.parametrize(
    ("n_articles", "exact_max", "method", "resampling"),
    [
        (80, None, "percentile", "articles"),
        (80, None, "bca", "articles"),
        (3000, 1000, "percentile", "normal-approximation"),
    ],
)
def test_interval_coverage(n_articles, exact_max, method, resampling):
    results = group_rates(_simulate(n_articles, seed=n_articles), seed=1, method=method, exact_max_articles=exact_max)
    assert {r.resampling for r in results.values()} == {resampling}
    rate_cov = _coverage(results, "rate_ci_low", "rate_ci_high", RATE)
    share_cov = _coverage(results, "share_ci_low", "share_ci_high", TRUE_SHARE)
    assert 0.91 <= rate_cov <= 0.985, rate_cov
    assert 0.91 <= share_cov <= 0.985, share_cov


def test_corrected_interval_covers_the_true_rate_when_precision_and_recall_are_uncertain():
    # The model finds each true span with recall 0.6 and adds 0.2 false spans per true span (precision 0.75).
    # Every repetition gets its own cross-validation counts from 300 gold spans, so precision/recall are uncertain.
    rng = np.random.default_rng(7)
    truth = _simulate(80, seed=99)
    covered = []
    for rep in range(100):
        rows = truth.groups == rep
        found = rng.binomial(truth.n_spans[rows].astype(np.int64), 0.6)
        false = rng.poisson(truth.n_tokens[rows] * RATE / 1000 * 0.2)
        cv_tp = int(rng.binomial(300, 0.6))
        errors = ClassifierErrors(tp=cv_tp, fp=int(rng.poisson(300 * 0.2)), fn=300 - cv_tp)
        counts = ArticleCounts(groups=[0] * found.size, n_tokens=truth.n_tokens[rows], n_spans=found + false)
        r = group_rates(counts, errors=errors, n_resamples=500, seed=rep)[0]
        covered.append(r.corrected_rate_ci_low <= RATE <= r.corrected_rate_ci_high)
    # 100 repetitions: standard error 0.022 at 0.95, so 0.88 is three standard errors below.
    assert 0.88 <= np.mean(covered) <= 1.0, np.mean(covered)
