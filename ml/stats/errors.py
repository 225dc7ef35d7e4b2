"""Correcting model-based span counts for the model's cross-validated precision and recall.

An adjusted count in the spirit of Forman (2008): if the model finds ``observed`` spans, of which a
share ``precision`` are real, and it finds a share ``recall`` of all real spans, the expected number of
real spans is ``observed * precision / recall``.  Precision and recall come from cross-validation
counts (TP, FP, FN); their uncertainty enters the bootstrap through Beta posteriors under a uniform
prior, ``precision ~ Beta(TP + 1, FP + 1)`` and ``recall ~ Beta(TP + 1, FN + 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassifierErrors:
    """Cross-validated span counts of one label: true positives, false positives, false negatives."""

    tp: int
    fp: int
    fn: int

    def __post_init__(self) -> None:
        for name in ("tp", "fp", "fn"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if self.tp == 0:
            raise ValueError(
                "tp must be at least 1: with no true positive, precision and recall are 0 and the count cannot be corrected"
            )

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn)

    @property
    def factor(self) -> float:
        """Point estimate of precision / recall, i.e. (TP + FN) / (TP + FP)."""
        return self.precision / self.recall

    def draw_factors(self, *, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` draws of precision / recall from the two independent Beta posteriors."""
        precision = rng.beta(self.tp + 1, self.fp + 1, size=size)
        recall = rng.beta(self.tp + 1, self.fn + 1, size=size)
        return precision / recall
