"""Correcting model-based span counts for the model's cross-validated errors.

Two corrections, both in the spirit of Forman's (2008) adjusted count:

* **Adjusted count (default when the cross-validation's token total is known).** The model's false
  positives arrive at a rate per token that does not depend on how loaded an outlet is, and it finds a share
  ``recall`` of the real spans. So an outlet's observed rate is ``recall * true_rate + fp_rate`` and
  ``true_rate = (observed_rate - fp_rate) / recall`` (clipped at 0). This is what keeps a neutral outlet from
  being over-counted: its observed rate is mostly ``fp_rate``, which is subtracted.
* **Precision/recall ratio** (when no token total is given): ``observed * precision / recall``. It corrects
  the overall level but scales every outlet alike, so neutral outlets stay over-counted.

Both use one set of counts for every outlet. When the model errs differently by outlet (on BABE its false
positives pile up in neutral outlets' sentences), use :class:`ml.stats.strata.StratifiedErrors`, the
precision/recall ratio per outlet, partially pooled.

Uncertainty: ``recall ~ Beta(TP + 1, FN + 1)``, ``precision ~ Beta(TP + 1, FP + 1)`` and the false-positive
rate per token ``~ Gamma(FP + 1) / n_tokens`` (the flat-prior posterior of a Poisson rate), drawn once per
bootstrap resample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PER = 1000.0


@dataclass(frozen=True)
class ClassifierErrors:
    """Cross-validated span counts of one label: true positives, false positives, false negatives.

    ``n_tokens``: tokens of the cross-validated texts; given, the correction is the adjusted count.
    """

    tp: int
    fp: int
    fn: int
    n_tokens: int | None = None

    def __post_init__(self) -> None:
        for name in ("tp", "fp", "fn"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if self.tp == 0:
            raise ValueError(
                "tp must be at least 1: with no true positive, precision and recall are 0 and the count cannot be corrected"
            )
        if self.n_tokens is not None and (not isinstance(self.n_tokens, int | np.integer) or self.n_tokens <= 0):
            raise ValueError(f"n_tokens must be a positive integer or None, got {self.n_tokens!r}")

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn)

    @property
    def adjusted_count(self) -> bool:
        return self.n_tokens is not None

    @property
    def fp_rate(self) -> float:
        """False-positive spans per 1,000 tokens (adjusted count only)."""
        return self.fp / self.n_tokens * PER if self.n_tokens else 0.0

    @property
    def factor(self) -> float:
        """The multiplicative part of the correction: 1 / recall (adjusted count) or precision / recall."""
        return 1.0 / self.recall if self.adjusted_count else self.precision / self.recall

    @property
    def method(self) -> str:
        if self.adjusted_count:
            return "adjusted count: (rate - cross-validated false positives per 1k tokens) / recall"
        return "precision/recall ratio: rate * precision / recall"

    def correct(self, rate: float | np.ndarray) -> float | np.ndarray:
        """Point correction of a rate per 1,000 tokens."""
        corrected = (np.asarray(rate, dtype=float) - self.fp_rate) * self.factor
        corrected = np.maximum(corrected, 0.0)
        return float(corrected) if np.ndim(corrected) == 0 else corrected

    def draw_corrections(self, *, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``size`` draws of (offset, scale): a corrected rate draw is ``max(0, (rate - offset) * scale)``."""
        recall = rng.beta(self.tp + 1, self.fn + 1, size=size)
        if self.adjusted_count:
            offset = rng.gamma(self.fp + 1, 1.0, size=size) / self.n_tokens * PER
            return offset, 1.0 / recall
        precision = rng.beta(self.tp + 1, self.fp + 1, size=size)
        return np.zeros(size), precision / recall

    def draw_factors(self, *, size: int, rng: np.random.Generator) -> np.ndarray:
        """The multiplicative part of :meth:`draw_corrections` (what a difference of two rates is scaled by)."""
        return self.draw_corrections(size=size, rng=rng)[1]
