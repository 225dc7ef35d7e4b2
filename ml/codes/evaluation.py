"""Honest evaluation of a document classifier: cross-fitted predictions with folds grouped by article, and
leave-one-outlet-out.

:func:`cross_fit` splits the units (articles, or sentences grouped by their article) into folds that never split a
group, fits a fresh clone of the model on the other folds and predicts the held-out fold, so every unit gets
exactly one prediction from a model that never saw it. :func:`evaluate_answers` turns true and predicted answers
into per-answer precision / recall / F1, macro-F1, accuracy, the confusion matrix and the misclassification
matrix ``P(predicted | true)`` that :func:`ml.codes.shares.answer_shares` inverts. Everything is plain data
(lists, dicts) through ``to_dict()``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

from ml.codes.classifier import MultipleChoiceClassifier, OrdinalScaleClassifier, SingleChoiceClassifier

CodeModel = SingleChoiceClassifier | MultipleChoiceClassifier | OrdinalScaleClassifier


@dataclass(frozen=True)
class AnswerScores:
    """Precision, recall and F1 of one answer (0.0 when undefined); ``support`` = units whose true answer it is."""

    answer: str
    precision: float
    recall: float
    f1: float
    support: int
    n_predicted: int


@dataclass(frozen=True)
class CodeEvaluation:
    """Scores of predicted against true answers over ``n_units`` units.

    ``confusion[i][j]`` counts units whose true answer is ``answers[i]`` and predicted ``answers[j]``;
    ``misclassification[i][j]`` is ``P(predicted answers[j] | true answers[i])`` (row ``i`` divided by its sum; a
    row without units is all NaN).
    """

    answers: list[str]
    n_units: int
    accuracy: float
    macro_f1: float
    per_answer: list[AnswerScores]
    confusion: list[list[int]]
    misclassification: list[list[float]]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CodeEvaluation:
        fields = dict(data)
        fields["per_answer"] = [AnswerScores(**a) for a in data["per_answer"]]
        return cls(**fields)


def evaluate_answers(true: Sequence[str], predicted: Sequence[str], *, answers: Sequence[str]) -> CodeEvaluation:
    """Per-answer P/R/F1, macro-F1 (the mean F1 over ``answers``), accuracy and the two matrices.

    >>> e = evaluate_answers(["B", "B", "N", "N"], ["B", "N", "N", "N"], answers=["B", "N"])
    >>> e.confusion, e.misclassification, round(e.macro_f1, 3)
    ([[1, 1], [0, 2]], [[0.5, 0.5], [0.0, 1.0]], 0.733)
    """
    answers = list(answers)
    index = {a: i for i, a in enumerate(answers)}
    if len(true) != len(predicted):
        raise ValueError(f"true has {len(true)} answers but predicted has {len(predicted)}")
    unknown = sorted({str(a) for a in [*true, *predicted] if a not in index})
    if unknown:
        raise ValueError(f"answers not among {answers}: {unknown[:5]}")
    k = len(answers)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, ([index[a] for a in true], [index[a] for a in predicted]), 1)
    per_answer = []
    for i, answer in enumerate(answers):
        tp = int(confusion[i, i])
        support, n_pred = int(confusion[i].sum()), int(confusion[:, i].sum())
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_answer.append(AnswerScores(answer, precision, recall, f1, support, n_pred))
    rows = confusion.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        misclassification = np.where(rows > 0, confusion / np.where(rows > 0, rows, 1), np.nan)
    n = int(confusion.sum())
    return CodeEvaluation(
        answers=answers,
        n_units=n,
        accuracy=float(np.trace(confusion) / n) if n else 0.0,
        macro_f1=float(np.mean([a.f1 for a in per_answer])) if per_answer else 0.0,
        per_answer=per_answer,
        confusion=confusion.tolist(),
        misclassification=misclassification.tolist(),
    )


@dataclass
class CrossFitted:
    """Every unit predicted once by a model fitted without its fold.

    ``fold[i]`` is unit ``i``'s fold, ``predicted[i]`` its predicted answer (for a multiple-choice question, the
    tuple of answers), ``proba[i]`` the model's probabilities over ``answers``. ``evaluation`` pools all units;
    ``fold_evaluations`` has one entry per fold (for a multiple-choice question both are per answer, as yes/no,
    keyed by answer). ``models``: the fitted fold models, fold ``k``'s at index ``k`` (only with
    ``cross_fit(keep_models=True)``; empty otherwise).
    """

    answers: list[str]
    fold: np.ndarray
    true: list
    predicted: list
    proba: np.ndarray
    evaluation: CodeEvaluation | dict[str, CodeEvaluation]
    fold_evaluations: list = field(default_factory=list)
    fold_names: list = field(default_factory=list)
    models: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """The evaluation as plain data (per-unit predictions are left out: they can be long)."""

        def plain(e):
            return {k: v.to_dict() for k, v in e.items()} if isinstance(e, dict) else e.to_dict()

        return {
            "answers": self.answers,
            "n_units": len(self.true),
            "n_folds": len(self.fold_evaluations),
            "folds": [str(f) for f in self.fold_names],
            "pooled": plain(self.evaluation),
            "per_fold": [plain(e) for e in self.fold_evaluations],
        }


YES, NO = "yes", "no"


def evaluate_model_output(model: CodeModel, true: Sequence, predicted: Sequence):
    """:func:`evaluate_answers` for a fitted model's question type (per answer as yes/no for multiple choice)."""
    answers = [str(a) for a in model.classes_]
    if isinstance(model, MultipleChoiceClassifier):
        return {
            a: evaluate_answers(
                [YES if a in set(t) else NO for t in true], [YES if a in set(p) else NO for p in predicted],
                answers=[YES, NO],
            )
            for a in answers
        }  # fmt: skip
    return evaluate_answers(list(true), list(predicted), answers=answers)


def cross_fit(
    model: CodeModel,
    texts: Sequence[str],
    answers: Sequence,
    *,
    groups: Sequence[Hashable],
    spans: Sequence[Sequence] | None = None,
    n_splits: int = 5,
    leave_out: Sequence[Hashable] | None = None,
    random_state: int = 0,
    fit_groups: bool = True,
    on_fold: Callable[[int, int], None] | None = None,
    keep_models: bool = False,
) -> CrossFitted:
    """Fit ``clone(model)`` on all folds but one and predict that one, for every fold.

    Parameters
    ----------
    model : an unfitted code classifier (its parameters are used, not its state)
    texts, answers : the units and their true answers (the shape ``model.fit`` takes)
    groups : a group per unit (its article; for BABE sentences, ``news_link``): folds never split a group
    spans : marked spans per unit, passed to ``fit`` (never to ``predict``)
    n_splits : folds when ``leave_out`` is None
    leave_out : optional, a key per unit (e.g. its outlet): one fold per distinct key (leave-one-outlet-out)
    random_state : shuffles the groups before they are dealt to folds
    fit_groups : pass ``groups`` to ``fit`` (its internal folds then respect them too)
    on_fold : called with ``(fold index, number of folds)`` as each fold starts (progress)
    keep_models : keep the fitted fold models in :attr:`CrossFitted.models` (to predict new units cross-fitted:
        fold ``k``'s model with the misclassification of the others, :mod:`ml.codes.shares`); the results are the
        same either way
    """
    texts = list(texts)
    answers = list(answers)
    n = len(texts)
    if len(answers) != n or len(groups) != n:
        raise ValueError(
            f"texts ({n}), answers ({len(answers)}) and groups ({len(groups)}) must have one entry per unit"
        )
    if leave_out is not None:
        if len(leave_out) != n:
            raise ValueError(f"leave_out has {len(leave_out)} entries for {n} units")
        keys = np.array([str(k) for k in leave_out])
        splits = list(LeaveOneGroupOut().split(np.zeros(n), groups=keys))
        names = [keys[test[0]] for _, test in splits]
    else:
        rng = np.random.RandomState(random_state)
        uniq = sorted({str(g) for g in groups})
        if len(uniq) < n_splits:
            raise ValueError(f"groups has {len(uniq)} distinct values, fewer than n_splits={n_splits}")
        shuffled = dict(zip(uniq, rng.permutation(len(uniq)), strict=True))
        codes = np.array([shuffled[str(g)] for g in groups])
        splits = list(GroupKFold(n_splits=n_splits).split(np.zeros(n), groups=codes))
        names = list(range(len(splits)))
    all_answers = answer_list(model, answers)
    fold = np.zeros(n, dtype=np.int64)
    predicted: list = [None] * n
    proba = np.zeros((n, len(all_answers)))
    fold_evaluations = []
    models = []
    for k, (train, test) in enumerate(splits):
        if on_fold is not None:
            on_fold(k, len(splits))
        fitted = clone(model)
        fit_kwargs = {"groups": [groups[i] for i in train]} if fit_groups else {}
        if spans is not None:
            fit_kwargs["spans"] = [spans[i] for i in train]
        fitted.fit([texts[i] for i in train], [answers[i] for i in train], **fit_kwargs)
        test_texts = [texts[i] for i in test]
        p = fitted.predict_proba(test_texts)
        proba[test] = _align(p, [str(a) for a in fitted.classes_], all_answers)
        pred = fitted.predict(test_texts)
        for i, a in zip(test, pred, strict=True):
            predicted[i] = a
        fold[test] = k
        fold_evaluations.append(_evaluate_like(fitted, [answers[i] for i in test], list(pred), all_answers))
        if keep_models:
            models.append(fitted)
    last = clone(model)
    last.classes_ = np.array(all_answers, dtype=object)
    return CrossFitted(
        answers=all_answers,
        fold=fold,
        true=answers,
        predicted=predicted,
        proba=proba,
        evaluation=_evaluate_like(last, answers, predicted, all_answers),
        fold_evaluations=fold_evaluations,
        fold_names=names,
        models=models,
    )


def answer_list(model: CodeModel, answers: Sequence) -> list[str]:
    """The answers a question's units can take, in the order of the model's ``classes_``."""
    if isinstance(model, OrdinalScaleClassifier):
        return [str(p) for p in model.points]
    if isinstance(model, MultipleChoiceClassifier):
        return sorted({str(a) for row in answers for a in row})
    return sorted({str(a) for a in answers})


def _align(proba: np.ndarray, labels: list[str], answers: list[str]) -> np.ndarray:
    """Columns of ``proba`` (over ``labels``) placed under ``answers`` (0 for an answer a fold never saw)."""
    out = np.zeros((len(proba), len(answers)))
    index = {a: j for j, a in enumerate(answers)}
    for j, label in enumerate(labels):
        if label in index:
            out[:, index[label]] = proba[:, j]
    return out


def _evaluate_like(model: CodeModel, true: list, predicted: list, answers: list[str]):
    if isinstance(model, MultipleChoiceClassifier):
        probe = clone(model)
        probe.classes_ = np.array(answers, dtype=object)
        return evaluate_model_output(probe, true, predicted)
    return evaluate_answers([str(a) for a in true], [str(a) for a in predicted], answers=answers)
