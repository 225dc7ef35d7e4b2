"""The optional gamma wrapper: a clear error without pygamma-agreement, a real gamma with it."""

import builtins

import pytest

from ml.agreement import AgreementInputError, AnnotationSet, GammaUnavailableError, gamma_agreement, gamma_available
from ml.agreement.gamma import INSTALL_HINT

TEXT = "The senator slammed the radical plan, critics said. " * 3


def _data(shift_b: int = 0):
    spans = []
    for annotator, shift in (("a", 0), ("b", shift_b), ("c", 0)):
        spans += [(1, annotator, 12 + shift, 19 + shift, "loaded"), (1, annotator, 24, 36, "framing")]
        spans += [(1, annotator, 64, 71, "loaded"), (1, annotator, 116, 123, "loaded")]
    return AnnotationSet.build(spans=spans, texts={1: TEXT}, coverage={1: ["a", "b", "c"]})


def test_gamma_raises_a_clear_error_when_pygamma_is_missing(monkeypatch):
    real_import = builtins.__import__

    def no_pygamma(name, *args, **kwargs):
        if name.startswith("pygamma_agreement") or name.startswith("pyannote"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pygamma)
    assert gamma_available() is False
    with pytest.raises(GammaUnavailableError, match="pip install 'framescope\\[gamma\\]'") as info:
        gamma_agreement(_data())
    assert str(info.value) == INSTALL_HINT


@pytest.mark.slow
@pytest.mark.extra
def test_gamma_is_high_for_near_identical_annotations_and_lower_for_shifted_ones():
    pytest.importorskip("pygamma_agreement", reason="optional extra 'gamma' not installed")
    same = gamma_agreement(_data(), n_samples=10, precision_level=0.1, random_state=0)
    shifted = gamma_agreement(_data(shift_b=3), n_samples=10, precision_level=0.1, random_state=0)
    assert same.value == pytest.approx(1.0, abs=0.02)
    assert shifted.value < same.value
    assert (same.n_items, same.n_spans, same.annotators) == (1, 12, ["a", "b", "c"])
    with pytest.raises(AgreementInputError, match="at least 2 annotators"):
        gamma_agreement(_data(), annotators=["a"])
