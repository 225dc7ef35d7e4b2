"""Cohen's kappa, Fleiss' kappa and Krippendorff's alpha on coded arrays, against references and textbook data."""

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from ml.agreement import AgreementInputError, cohen_kappa, fleiss_kappa, krippendorff_alpha_nominal
from ml.agreement.coefficients import value_counts

krippendorff = pytest.importorskip("krippendorff")

# Krippendorff (1995: p. 57), example A digitised: Bertha vs Bill, one code per segment (via DKPro's test).
BERTHA = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
BILL = [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]

# Fleiss (1971: p. 379): 30 patients, 6 psychiatrists, 5 diagnoses (1..5).
FLEISS_1971 = [
    (4, 4, 4, 4, 4, 4), (2, 2, 2, 5, 5, 5), (2, 3, 3, 3, 3, 5), (5, 5, 5, 5, 5, 5), (2, 2, 2, 4, 4, 4),
    (1, 1, 3, 3, 3, 3), (3, 3, 3, 3, 5, 5), (1, 1, 3, 3, 3, 4), (1, 1, 4, 4, 4, 4), (5, 5, 5, 5, 5, 5),
    (1, 4, 4, 4, 4, 4), (1, 2, 4, 4, 4, 4), (2, 2, 2, 3, 3, 3), (1, 4, 4, 4, 4, 4), (2, 2, 4, 4, 4, 5),
    (3, 3, 3, 3, 3, 5), (1, 1, 1, 4, 5, 5), (1, 1, 1, 1, 1, 2), (2, 2, 4, 4, 4, 4), (1, 3, 3, 5, 5, 5),
    (5, 5, 5, 5, 5, 5), (2, 4, 4, 4, 4, 4), (2, 2, 4, 5, 5, 5), (1, 1, 4, 4, 4, 4), (1, 4, 4, 4, 4, 5),
    (2, 2, 2, 2, 2, 4), (1, 1, 1, 1, 5, 5), (2, 2, 4, 4, 4, 4), (1, 3, 3, 3, 3, 3), (5, 5, 5, 5, 5, 5),
]  # fmt: skip

# Krippendorff (2011) "Computing Krippendorff's alpha-reliability", nominal example with missing values:
# 4 observers x 12 units, None = missing; published nominal alpha = 0.743.
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _units_by_raters(observers):
    return np.array([[-1 if v is None else v for v in row] for row in observers]).T


def test_cohen_kappa_on_krippendorff_1995_example_a():
    assert cohen_kappa(BERTHA, BILL).value == pytest.approx(0.385, abs=0.001)


def test_cohen_kappa_hand_computed():
    # p_o = 3/4, p_a = (1/2, 1/2), p_b = (1/4, 3/4): p_e = 1/2, kappa = (0.75 - 0.5) / 0.5
    result = cohen_kappa([0, 0, 1, 1], [0, 1, 1, 1])
    assert (result.value, result.observed, result.expected, result.n_units) == (0.5, 0.75, 0.5, 4)


@pytest.mark.parametrize("seed", range(8))
def test_cohen_kappa_matches_sklearn_on_random_data(seed):
    rng = np.random.default_rng(seed)
    n_cat = int(rng.integers(2, 6))
    a = rng.integers(0, n_cat, size=int(rng.integers(20, 300)))
    # b agrees with a on a random share of units, so kappa ranges over weak to strong agreement.
    b = np.where(rng.random(a.size) < rng.random(), a, rng.integers(0, n_cat, size=a.size))
    assert cohen_kappa(a, b).value == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_cohen_kappa_skips_units_missing_in_either():
    full = cohen_kappa([0, 1, 1, 0, 2], [0, 1, 0, 0, 2])
    with_missing = cohen_kappa([0, 1, 1, 0, 2, -1, 1], [0, 1, 0, 0, 2, 2, -1])
    assert with_missing == full


def test_cohen_kappa_undefined_without_variation_or_units():
    constant = cohen_kappa([0, 0, 0], [0, 0, 0])
    assert constant.value is None and "no variation" in constant.reason
    assert cohen_kappa([0, -1], [-1, 1]).value is None
    assert cohen_kappa([], []).reason == "no unit was coded by both annotators"


def test_cohen_kappa_total_disagreement_is_minus_one():
    assert cohen_kappa([0, 1, 0, 1], [1, 0, 1, 0]).value == -1.0


def test_cohen_kappa_rejects_bad_input():
    with pytest.raises(AgreementInputError, match="same length"):
        cohen_kappa([0, 1], [0])
    with pytest.raises(AgreementInputError, match="integer category codes"):
        cohen_kappa([0.5, 1.0], [0.5, 1.0])
    with pytest.raises(AgreementInputError, match="-1 for missing"):
        cohen_kappa([0, -3], [0, 1])


def test_fleiss_kappa_reproduces_fleiss_1971():
    codes = np.array(FLEISS_1971) - 1
    result = fleiss_kappa(value_counts(codes))
    assert result.observed == pytest.approx(0.5556, abs=0.001)
    assert result.expected == pytest.approx(0.2201, abs=0.001)
    assert result.value == pytest.approx(0.430, abs=0.001)
    assert result.n_units == 30


def test_fleiss_kappa_with_two_raters_equals_scotts_pi():
    # For two raters Fleiss' kappa is Scott's pi: 0.314 on Krippendorff's example A (DKPro's figure).
    assert fleiss_kappa(value_counts(np.array([BERTHA, BILL]).T)).value == pytest.approx(0.314, abs=0.001)


def test_fleiss_kappa_requires_equal_ratings_per_unit():
    with pytest.raises(AgreementInputError, match="same number of ratings"):
        fleiss_kappa([[2, 0], [1, 2]])
    with pytest.raises(AgreementInputError, match="at least 2 ratings"):
        fleiss_kappa([[1, 0], [0, 1]])
    assert fleiss_kappa([[3, 0], [3, 0]]).value is None


def test_krippendorff_alpha_reproduces_krippendorff_2011():
    result = krippendorff_alpha_nominal(_units_by_raters(K2011))
    assert result.value == pytest.approx(0.743, abs=0.001)
    assert result.n_units == 11  # unit 12 has a single value and is not pairable


def test_krippendorff_alpha_on_krippendorff_1995_example_a():
    assert krippendorff_alpha_nominal(np.array([BERTHA, BILL]).T).value == pytest.approx(0.329, abs=0.001)


@pytest.mark.parametrize("seed", range(8))
def test_krippendorff_alpha_matches_krippendorff_package_with_missing_values(seed):
    rng = np.random.default_rng(100 + seed)
    n_units, n_raters, n_cat = int(rng.integers(10, 200)), int(rng.integers(2, 6)), int(rng.integers(2, 5))
    truth = rng.integers(0, n_cat, size=n_units)
    codes = np.where(rng.random((n_units, n_raters)) < 0.7, truth[:, None], rng.integers(0, n_cat, (n_units, n_raters)))
    codes[rng.random(codes.shape) < 0.25] = -1
    reference = krippendorff.alpha(
        reliability_data=np.where(codes >= 0, codes, np.nan).T.astype(float), level_of_measurement="nominal"
    )
    ours = krippendorff_alpha_nominal(codes)
    assert ours.value == pytest.approx(reference, abs=1e-9)
    assert -1 <= ours.value <= 1


def test_krippendorff_alpha_undefined_without_variation_or_pairable_units():
    same = krippendorff_alpha_nominal(np.zeros((5, 3), dtype=int))
    assert same.value is None and "no variation" in same.reason
    lonely = krippendorff_alpha_nominal(np.array([[0, -1], [-1, 1], [1, -1]]))
    assert lonely.value is None and lonely.n_units == 0


@pytest.mark.parametrize("seed", range(20))
def test_coefficients_stay_within_minus_one_and_one_on_adversarial_data(seed):
    rng = np.random.default_rng(500 + seed)
    n_units = int(rng.integers(2, 12))
    a = rng.integers(0, 3, size=n_units)
    b = (a + rng.integers(1, 3, size=n_units)) % 3  # b never agrees with a
    for result in (cohen_kappa(a, b), krippendorff_alpha_nominal(np.stack([a, b], axis=1))):
        assert result.value is None or -1 <= result.value <= 0


@pytest.mark.parametrize("seed", range(4))
def test_fleiss_kappa_matches_statsmodels(seed):
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    rng = np.random.default_rng(900 + seed)
    truth = rng.integers(0, 4, size=60)
    codes = np.where(rng.random((60, 5)) < 0.6, truth[:, None], rng.integers(0, 4, (60, 5)))
    table = value_counts(codes)
    assert fleiss_kappa(table).value == pytest.approx(inter_rater.fleiss_kappa(table, method="fleiss"), abs=1e-12)
