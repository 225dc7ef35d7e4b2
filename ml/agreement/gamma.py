"""Mathet et al.'s (2015) gamma through the optional ``pygamma-agreement`` package (extra ``gamma``).

``pip install 'framescope[gamma]'`` pulls in pygamma-agreement and its solvers (cvxpy, numba, pyannote.core).
Gamma is estimated by sampling random continua, so it is stochastic and slow: the first call in a process
spends about 20 s compiling numba code, and the alignment grows quickly with the number of spans. Use it on
one article or a small sample, not on a whole project in a web request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ml.agreement.data import AgreementInputError, AnnotationSet, Annotator, ItemId

INSTALL_HINT = "gamma needs the optional dependency pygamma-agreement: pip install 'framescope[gamma]'"


class GammaUnavailableError(RuntimeError):
    """pygamma-agreement is not installed."""


@dataclass
class GammaResult:
    """Gamma over the chosen items laid end to end on one character continuum."""

    value: float
    n_items: int
    n_spans: int
    annotators: list[str]
    alpha: float
    beta: float
    n_samples: int
    precision_level: float


def _import_pygamma():  # noqa: ANN202 - returns two modules
    try:
        import pygamma_agreement
        from pyannote.core import Segment
    except ImportError as exc:
        raise GammaUnavailableError(INSTALL_HINT) from exc
    return pygamma_agreement, Segment


def gamma_available() -> bool:
    """True when pygamma-agreement can be imported."""
    try:
        _import_pygamma()
    except GammaUnavailableError:
        return False
    return True


def gamma_agreement(
    data: AnnotationSet,
    *,
    items: Sequence[ItemId] | None = None,
    annotators: Sequence[Annotator] | None = None,
    alpha: float = 1.0,
    beta: float = 1.0,
    n_samples: int = 30,
    precision_level: float = 0.05,
    random_state: int | None = None,
) -> GammaResult:
    """Gamma with pygamma's combined categorical dissimilarity (positional weight ``alpha``, categorical ``beta``).

    Parameters
    ----------
    items : sequence, optional
        Items to use (default: every item all the chosen annotators completed); laid end to end.
    random_state : int, optional
        Seeds numpy's global generator for the call (pygamma samples through ``np.random``), and restores the
        previous global state afterwards.

    Raises
    ------
    GammaUnavailableError
        pygamma-agreement is not installed.
    AgreementInputError
        Fewer than two annotators, or no span to align.
    """
    pa, segment_cls = _import_pygamma()
    chosen = list(data.annotators if annotators is None else annotators)
    if len(chosen) < 2:
        raise AgreementInputError(f"gamma needs at least 2 annotators, got {chosen!r}")
    covered = data.items_covered_by(chosen)
    use = covered if items is None else list(items)
    not_covered = [i for i in use if i not in covered]
    if not_covered:
        raise AgreementInputError(f"item(s) {not_covered[:5]!r} were not completed by all of {chosen!r}")
    continuum = pa.Continuum()
    offset, n_spans = 0, 0
    for item in use:
        for annotator in chosen:
            continuum.add_annotator(str(annotator))
            for span in data.spans_of(item_id=item, annotator=annotator):
                continuum.add(str(annotator), segment_cls(offset + span.start, offset + span.end), span.label)
                n_spans += 1
        offset += len(data.texts[item]) + 1
    if n_spans == 0:
        raise AgreementInputError("gamma needs at least one span to align")
    dissimilarity = pa.CombinedCategoricalDissimilarity(alpha=alpha, beta=beta)
    saved = np.random.get_state() if random_state is not None else None
    try:
        if random_state is not None:
            np.random.seed(random_state)
        results = continuum.compute_gamma(dissimilarity, n_samples=n_samples, precision_level=precision_level)
    finally:
        if saved is not None:
            np.random.set_state(saved)
    return GammaResult(
        value=float(results.gamma),
        n_items=len(use),
        n_spans=n_spans,
        annotators=[str(a) for a in chosen],
        alpha=alpha,
        beta=beta,
        n_samples=n_samples,
        precision_level=precision_level,
    )
