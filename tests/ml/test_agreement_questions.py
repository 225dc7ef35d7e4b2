"""Agreement per question (ml.agreement.questions) equals the reference implementations: the ``krippendorff``
package (nominal and ordinal), scikit-learn's Cohen's kappa and statsmodels' Fleiss' kappa."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from ml.agreement import krippendorff_alpha_ordinal, question_agreement

OPTIONS = ["-2", "-1", "0", "1", "2"]
CODERS = ["ann", "bob", "cat"]


def random_ratings(seed: int, *, n_units: int = 60, missing: float = 0.2, kind: str = "single") -> dict:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, len(OPTIONS), n_units)
    ratings = {}
    for u in range(n_units):
        answers = {}
        for coder in CODERS:
            if rng.random() < missing:
                continue
            code = int(np.clip(truth[u] + rng.integers(-1, 2) * (rng.random() < 0.4), 0, len(OPTIONS) - 1))
            answers[coder] = (
                [OPTIONS[code]] + ([OPTIONS[0]] if rng.random() < 0.3 else []) if kind == "multiple" else OPTIONS[code]
            )
        ratings[(u // 3, u)] = answers
    return ratings


def reliability(ratings: dict, value=lambda v: OPTIONS.index(v)) -> np.ndarray:
    """coders x units with NaN for missing, as the krippendorff package takes it."""
    units = list(ratings)
    data = np.full((len(CODERS), len(units)), np.nan)
    for j, unit in enumerate(units):
        for coder, v in ratings[unit].items():
            data[CODERS.index(coder), j] = value(v)
    return data


@pytest.mark.parametrize("seed", range(6))
def test_single_choice_equals_krippendorff_sklearn_and_statsmodels(seed):
    ratings = random_ratings(seed)
    result = question_agreement(question="q", kind="single", options=OPTIONS, ratings=ratings).figures
    data = reliability(ratings)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal", value_domain=range(5))
    assert result.alpha_level == "nominal" and result.krippendorff_alpha == pytest.approx(expected, abs=1e-12)
    kappas = []
    for (i, a), (j, b) in [((0, "ann"), (1, "bob")), ((0, "ann"), (2, "cat")), ((1, "bob"), (2, "cat"))]:
        both = ~np.isnan(data[i]) & ~np.isnan(data[j])
        k = cohen_kappa_score(data[i][both], data[j][both])
        assert result.per_pair[f"{a}|{b}"]["cohen_kappa"] == pytest.approx(k, abs=1e-12)
        assert result.per_pair[f"{a}|{b}"]["percent_agreement"] == pytest.approx(
            np.mean(data[i][both] == data[j][both])
        )
        kappas.append(k)
    assert result.cohen_kappa == pytest.approx(np.mean(kappas), abs=1e-12)
    full = data[:, ~np.isnan(data).any(axis=0)].T.astype(int)  # the units all three coders answered
    table, _ = aggregate_raters(full, n_cat=5)
    assert result.fleiss_units == full.shape[0]
    assert result.fleiss_kappa == pytest.approx(sm_fleiss(table), abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_scales_use_ordinal_alpha(seed):
    ratings = random_ratings(seed)
    result = question_agreement(question="tone", kind="scale", options=OPTIONS, ratings=ratings).figures
    expected = krippendorff.alpha(
        reliability_data=reliability(ratings), level_of_measurement="ordinal", value_domain=range(5)
    )
    assert result.alpha_level == "ordinal" and result.krippendorff_alpha == pytest.approx(expected, abs=1e-12)


def test_ordinal_alpha_counts_unused_points_between_used_ones():
    codes = [[0, 0], [0, 4], [4, 4], [4, 4], [0, 0]]
    rd = np.array(codes, dtype=float).T
    expected = krippendorff.alpha(reliability_data=rd, level_of_measurement="ordinal", value_domain=range(5))
    assert krippendorff_alpha_ordinal(codes, n_categories=5).value == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_multiple_choice_is_one_yes_no_question_per_option(seed):
    ratings = random_ratings(seed, kind="multiple")
    result = question_agreement(question="frames", kind="multiple", options=OPTIONS, ratings=ratings)
    for option in OPTIONS:
        data = reliability(ratings, value=lambda v, o=option: float(o in v))
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal", value_domain=[0, 1])
        assert result.per_option[option].krippendorff_alpha == pytest.approx(expected, abs=1e-12)
    pooled = np.hstack([reliability(ratings, value=lambda v, o=o: float(o in v)) for o in OPTIONS])
    expected = krippendorff.alpha(reliability_data=pooled, level_of_measurement="nominal", value_domain=[0, 1])
    assert result.figures.krippendorff_alpha == pytest.approx(expected, abs=1e-12)


def test_undefined_figures_say_why_and_text_is_not_scored():
    same = {(1, i): {"ann": "0", "bob": "0"} for i in range(5)}
    figures = question_agreement(question="q", kind="single", options=OPTIONS, ratings=same).figures
    assert figures.krippendorff_alpha is None and "no variation" in figures.reasons["krippendorff_alpha"]
    assert figures.percent_agreement == 1.0
    alone = {(1, 0): {"ann": "0"}}
    figures = question_agreement(question="q", kind="single", options=OPTIONS, ratings=alone).figures
    assert (
        figures.n_units == 0 and figures.percent_agreement is None and "two or more" in figures.reasons["fleiss_kappa"]
    )
    text = question_agreement(question="why", kind="text", options=[], ratings={(1,): {"ann": "x", "bob": "y"}})
    assert text.figures is None and text.reason == "free-text answers are kept, not scored" and text.n_items == 1
