"""Krippendorff's unitizing alpha against the worked examples of Krippendorff (1995) and (2004).

The expected figures and their tolerances are those of DKPro Statistics' tests
(``unitizing/Krippendorff1995Test.java`` and ``Krippendorff2004Test.java``): observed disagreements are exact;
for 1995 the expected disagreements and alphas are the paper's printed values, which DKPro notes contain a
small error in D_E, hence their 0.005 / 0.02 tolerances.
"""

import pytest

from ml.agreement import AgreementInputError, AnnotationSet, unitizing_alpha, unitizing_alpha_category
from ml.agreement.unitizing import BELOW_MINUS_ONE

# Krippendorff (2004: p. 254): continuum [150, 450), two observers, categories c and k; (offset, length).
K2004 = {
    "c": [[(225, 70), (370, 30)], [(220, 80), (355, 20), (400, 20)]],
    "k": [[(180, 60), (300, 50)], [(180, 60), (300, 50)]],
}

# Krippendorff (1995: p. 57): four pairs of coders on a 24-position continuum; (offset, length).
K1995 = {
    "A": [[(2, 8), (14, 6)], [(4, 4), (15, 2)]],
    "B": [[(0, 18)], [(0, 2), (2, 1), (3, 1), (4, 1), (5, 1), (6, 3), (9, 1)]],
    "C": [[(2, 6), (10, 2), (14, 4), (20, 2)], [(0, 2), (4, 4), (10, 4), (16, 2), (20, 2)]],
    "D": [[(0, 2), (2, 8), (10, 4), (14, 6), (20, 4)], [(0, 4), (4, 4), (8, 7), (15, 2), (17, 7)]],
}


def _ranges(coders, stretch=1.0):
    # As DKPro's createExample(stretch): offsets and lengths scaled then truncated separately.
    return [[(int(o * stretch), int(o * stretch) + int(n * stretch)) for o, n in coder] for coder in coders]


def test_krippendorff_2004_example():
    c = unitizing_alpha_category(_ranges(K2004["c"]), begin=150, length=300)
    k = unitizing_alpha_category(_ranges(K2004["k"]), begin=150, length=300)
    assert c.observed == pytest.approx(0.0144, abs=0.0001)
    assert c.expected == pytest.approx(0.0532, abs=0.0001)
    assert c.value == pytest.approx(0.7286, abs=0.0001)
    assert k.observed == 0.0 and k.expected == pytest.approx(0.0490, abs=0.0001) and k.value == 1.0
    pooled = 1 - (c.observed + k.observed) / (c.expected + k.expected)
    assert pooled == pytest.approx(0.8591, abs=0.0005)


@pytest.mark.parametrize(("category", "observed"), [("A", 0.03125), ("B", 2.26736), ("C", 0.02777), ("D", 0.38715)])
def test_krippendorff_1995_observed_disagreement(category, observed):
    result = unitizing_alpha_category(_ranges(K1995[category]), begin=0, length=24)
    assert result.observed == pytest.approx(observed, abs=0.00001)


@pytest.mark.parametrize(
    ("category", "expected", "alpha"),
    [("A", 0.06990, 0.553), ("B", 1.17731, -0.926), ("C", 0.08642, 0.679), ("D", 0.41445, 0.066)],
)
def test_krippendorff_1995_on_a_fine_continuum(category, expected, alpha):
    stretch = 1_200_000 // 24
    result = unitizing_alpha_category(_ranges(K1995[category], stretch), begin=0, length=24 * stretch)
    assert result.expected == pytest.approx(expected, abs=0.005)
    assert result.value == pytest.approx(alpha, abs=0.02)


def test_krippendorff_1995_c_on_a_coarse_continuum_matches_dkpro_exactly():
    result = unitizing_alpha_category(_ranges(K1995["C"], 0.5), begin=0, length=12)
    assert result.expected == pytest.approx(0.05494, abs=0.00001)
    assert result.value == pytest.approx(0.494, abs=0.001)


def test_alpha_u_can_fall_below_minus_one_and_says_so():
    # Example B on the raw 24-position continuum: systematic disagreement, D_o > 2 D_e.
    result = unitizing_alpha_category(_ranges(K1995["B"]), begin=0, length=24)
    assert result.value < -1 and result.reason == BELOW_MINUS_ONE


def test_unitizing_alpha_category_validates_units():
    with pytest.raises(AgreementInputError, match="at least 2 annotators"):
        unitizing_alpha_category([[(0, 1)]], begin=0, length=5)
    with pytest.raises(AgreementInputError, match="outside the continuum"):
        unitizing_alpha_category([[(0, 9)], []], begin=0, length=5)


def test_overlapping_units_of_one_annotator_are_merged():
    merged = unitizing_alpha_category([[(0, 10)], [(0, 10)]], begin=0, length=30)
    split = unitizing_alpha_category([[(0, 6), (4, 10)], [(0, 10)]], begin=0, length=30)
    assert split == merged and merged.value == 1.0


def test_unitizing_alpha_on_annotations_per_label_and_pair():
    text = "The senator slammed the radical plan, critics said."
    spans = [
        (1, "a", 12, 19, "loaded"),  # slammed
        (1, "b", 12, 19, "loaded"),
        (1, "c", 12, 23, "loaded"),  # slammed the
        (1, "a", 24, 36, "framing"),  # radical plan
        (1, "b", 24, 36, "framing"),
        (1, "c", 24, 36, "framing"),
    ]
    data = AnnotationSet.build(spans=spans, texts={1: text}, coverage={1: ["a", "b", "c"]})
    chars = unitizing_alpha(data, unit="char")
    tokens = unitizing_alpha(data, unit="token")
    assert chars.per_label["framing"].value == 1.0 and tokens.per_label["framing"].value == 1.0
    assert chars.per_label["loaded"].value < 1 and tokens.per_label["loaded"].value < 1
    assert chars.per_pair["a|b"].value == 1.0 and chars.per_pair["a|c"].value < 1
    by_hand = unitizing_alpha_category([[(12, 19)], [(12, 19)], [(12, 23)]], begin=0, length=len(text))
    assert chars.per_label["loaded"].value == pytest.approx(by_hand.value)
    # on tokens, "slammed" is token 2 and "slammed the" tokens 2-3, out of 8 tokens
    by_hand_tokens = unitizing_alpha_category([[(2, 3)], [(2, 3)], [(2, 4)]], begin=0, length=8)
    assert tokens.per_label["loaded"].value == pytest.approx(by_hand_tokens.value)
    with pytest.raises(AgreementInputError, match="unit must be one of"):
        unitizing_alpha(data, unit="sentence")
