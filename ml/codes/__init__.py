"""Document classifiers for codebook questions, their honest evaluation, and corrected answer shares.

The interface the apps use (all plain data in and out; no Django):

Training (one classifier per question; ``X`` = texts, one per unit: an article, or a sentence for sentence-scope
questions)::

    from ml.codes import SingleChoiceClassifier, MultipleChoiceClassifier, OrdinalScaleClassifier, cross_fit
    model = SingleChoiceClassifier(random_state=0).fit(texts, answers, spans=spans, groups=article_ids)
    cv = cross_fit(SingleChoiceClassifier(random_state=0), texts, answers, groups=article_ids, spans=spans)
    cv.to_dict()            # per-answer P/R/F1, macro-F1, confusion, misclassification P(predicted | true)
    errors = Misclassification.from_units(answers=cv.answers, true=cv.true, predicted=cv.predicted,
                                          strata=outlet_of_each_unit)
    ml.artefact.save_codes(directory, {"bias": model}, metrics={"bias": {"cv": cv.to_dict(),
                           "misclassification": errors.to_dict()}})

Prediction (scoring jobs)::

    model = ml.artefact.load_codes(directory)["bias"]
    model.predict(texts), model.predict_proba(texts)     # answers, probabilities over model.classes_

Scores::

    answer_shares(groups=outlets, articles=article_ids, predicted=answers, answers=list(model.classes_),
                  errors=Misclassification.from_dict(...), strata=outlets)   # -> [AnswerShare]
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ml.codes.shares import (
    AnswerShare,
    Correction,
    Misclassification,
    ShareDraws,
    answer_share_draws,
    answer_shares,
    answer_shares_from_counts,
    correct_shares,
)

if TYPE_CHECKING:
    from ml.codes.classifier import MultipleChoiceClassifier, OrdinalScaleClassifier, SingleChoiceClassifier
    from ml.codes.evaluation import AnswerScores, CodeEvaluation, CrossFitted, cross_fit, evaluate_answers

# The classifiers and their evaluation bring scikit-learn (+70 MiB): they load on first use, so that a web process
# computing code scores with ml.codes.shares never holds it (docs/benchmarks.md, Lean processes).
_LOADED_ON_USE = {
    **dict.fromkeys(("MultipleChoiceClassifier", "OrdinalScaleClassifier", "SingleChoiceClassifier"), "classifier"),
    **dict.fromkeys(("AnswerScores", "CodeEvaluation", "CrossFitted", "cross_fit", "evaluate_answers"), "evaluation"),
}


def __getattr__(name: str):
    if name not in _LOADED_ON_USE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LOADED_ON_USE[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "AnswerScores",
    "AnswerShare",
    "CodeEvaluation",
    "Correction",
    "CrossFitted",
    "Misclassification",
    "MultipleChoiceClassifier",
    "OrdinalScaleClassifier",
    "ShareDraws",
    "SingleChoiceClassifier",
    "answer_share_draws",
    "answer_shares",
    "answer_shares_from_counts",
    "codes_data_hash",
    "correct_shares",
    "cross_fit",
    "evaluate_answers",
]


def codes_data_hash(texts: Sequence[str], answers: Sequence) -> str:
    """SHA-256 of a question's training data: every text and its answer (sets sorted), in order."""
    digest = hashlib.sha256()
    for text, answer in zip(texts, answers, strict=True):
        plain = sorted(answer) if isinstance(answer, set | frozenset | tuple | list) else answer
        digest.update(json.dumps([text, plain], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
