"""Scoring's half of the question classifiers: predict a chunk's articles, turn the answers into AnswerCount rows and
store the annotator page's pre-fill (PredictedAnswers).

A scoring chunk (scoring.services.score_chunk) calls :func:`chunk_answer_rows` beside the lexicon's span counts and
writes both in one transaction. Per question the version learned (its artefact's ``codes``): article questions
predict the article's text, sentence questions each sentence (``ml.sentences``, as the annotator page splits them).
A unit the version learned from is counted with its cross-fitted prediction (``ml.artefact.load_code_units``) and
the fold that made it, so scores never count an in-sample prediction and correct each fold with errors measured on
the others (scoring.code_scores). Any other unit is counted with the prediction of one of the version's
cross-validation models (``ml.artefact.load_code_folds``): fold ``article id mod K``, so an article's sentences
share a model and a re-scored article gets the same answers. The cross-validated misclassification then describes
the models that predicted: the final model, fitted on all the gold, errs less than the fold models the errors were
measured on, and correcting its answers with them over-corrects (docs/benchmarks.md, "Known truth"). Those units
keep fold -1 (``FINAL``): all five fold models predict them in equal parts, whose errors are all the folds'
counts together, one matrix (scoring.code_scores). A version trained before fold models were kept predicts them with
its final model, as before. Each unit is predicted once, and that prediction also gives the pre-fill (the fold
model's answer on a new unit, the answer its scores count; the final model's on a learned-from one), which the web
process reads (scoring.selectors.predicted_answers) without ever loading a classifier or scikit-learn.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from annotator.annotations.models import Layer
from annotator.common.errors import ApplicationError
from annotator.projects.models import Question
from annotator.projects.visibility import Viewer
from annotator.scoring.models import AnswerCount
from annotator.training.models import ModelVersion

ANSWER_COUNT_FIELDS = ("model_version_id", "article_id", "question_id", "answer", "fold", "n_units", "n_with_answer")
PREDICTED_ANSWERS_FIELDS = ("model_version_id", "article_id", "answers")
FINAL = AnswerCount.FINAL_MODEL


@dataclass(frozen=True)
class QuestionModel:
    """One question's fitted classifier with what scoring needs beside it."""

    name: str
    multiple: bool
    model: object
    answers: tuple[str, ...]
    #: (article id, start, end) of each unit the version learned from -> (fold, its cross-fitted answers)
    cross_fitted: dict
    #: the cross-validation's fold models, fold k's at index k (empty for a version trained before they were kept)
    folds: tuple = ()


@lru_cache(maxsize=4)
def loaded_question_models(artefact_path: str) -> tuple[QuestionModel, ...]:
    """The question classifiers of an artefact and their cross-fitted units (one load per worker and artefact)."""
    from ml import artefact

    manifest = artefact.read_manifest(artefact_path)
    entries = manifest.get("codes") or {}
    if not entries:
        return ()
    models = artefact.load_codes(artefact_path)
    out = []
    for name, entry in entries.items():
        answers = tuple(str(a) for a in models[name].classes_)
        multiple = entry["type"] == "multiple"
        units = artefact.load_code_units(artefact_path, name) or {}
        cross_fitted = {}
        if units:
            for article_id, start, end, fold, predicted in zip(
                units["article_id"].tolist(), units["start"].tolist(), units["end"].tolist(),
                units["fold"].tolist(), units["predicted"].tolist(), strict=True,
            ):  # fmt: skip
                chosen = (
                    tuple(a for a, yes in zip(answers, predicted, strict=True) if yes)
                    if multiple
                    else (answers[predicted],)
                )
                cross_fitted[(article_id, start, end)] = (fold, chosen)
        folds = tuple(artefact.load_code_folds(artefact_path, name) or ())
        out.append(QuestionModel(name, multiple, models[name], answers, cross_fitted, folds))
    return tuple(out)


@dataclass(frozen=True)
class LearnedQuestion:
    question_id: int
    scope: str


def version_questions(*, version: ModelVersion) -> dict[str, LearnedQuestion]:
    """The questions the version learned (by name) that the project still has, with their scope when trained."""
    learned = {
        name: m["scope"] for name, m in ((version.metrics or {}).get("codes") or {}).items() if "skipped" not in m
    }
    current = dict(
        Question.objects.filter(project=version.project_id, name__in=list(learned)).values_list("name", "pk")
    )
    return {name: LearnedQuestion(current[name], scope) for name, scope in learned.items() if name in current}


def question_models_check(*, version: ModelVersion, questions: dict[str, LearnedQuestion], has_lexicon: bool) -> None:
    """A version without a lexicon must still predict one of the project's questions, or nothing could be stored
    (and every later run would plan the same articles again)."""
    if not has_lexicon and not questions:
        raise ApplicationError(
            f"Model version {version.number} has no lexicon and predicts none of this project's questions "
            "(deleted or renamed since it was trained); train a new version."
        )


def _predict(qm: QuestionModel, texts: list[str], model=None) -> tuple[list[tuple[str, ...]], list[list[float]]]:
    """Each text's predicted answers and the probabilities they come from, in one ``predict_proba`` pass (of the
    final model, or ``model``)."""
    if not texts:
        return [], []
    model = qm.model if model is None else model
    proba = model.predict_proba(texts)
    predicted = model.answers_from_proba(proba)
    chosen = [tuple(p) for p in predicted] if qm.multiple else [(str(p),) for p in predicted]
    return chosen, proba.tolist()


def _unit_predictions(qm: QuestionModel, units: list[tuple]) -> list[tuple[tuple, list[float], int, tuple]]:
    """Per unit, what its model answers (the pre-fill: answers and probabilities) and what the scores count (fold and
    answers), each unit predicted once: a learned-from unit is shown the final model's answer and counted with its
    cross-fitted one; any other unit is predicted by fold ``article id mod K``'s model, shown and counted alike
    (``FINAL``: corrected with every fold's errors), or by the final model for a version without fold models."""
    known = [qm.cross_fitted.get((pk, start, end)) for pk, start, end, _text in units]
    by_model: dict[int, list[int]] = {}  # model index (-1: the final model) -> its units
    for i, (pk, *_rest) in enumerate(units):
        k = pk % len(qm.folds) if qm.folds and known[i] is None else -1
        by_model.setdefault(k, []).append(i)
    out: list = [None] * len(units)
    for k, rows in by_model.items():
        chosen, proba = _predict(qm, [units[i][3] for i in rows], qm.folds[k] if k >= 0 else None)
        for i, answers, p in zip(rows, chosen, proba, strict=True):
            fold, counted = known[i] or (FINAL, answers)
            out[i] = (answers, p, fold, counted)
    return out


def _prefill_entry(qm: QuestionModel, question_id: int, start, end, chosen: tuple[str, ...], p: list[float]) -> list:
    """One ``PredictedAnswers.answers`` entry: ``[question_id, start, end, value, score]``."""
    if qm.multiple:
        return [question_id, start, end, list(chosen), {a: round(x, 4) for a, x in zip(qm.answers, p, strict=True)}]
    return [question_id, start, end, chosen[0], round(p[qm.answers.index(chosen[0])], 4)]


@dataclass
class ChunkAnswers:
    #: AnswerCount rows (``ANSWER_COUNT_FIELDS``)
    counts: list[tuple]
    #: PredictedAnswers rows (``PREDICTED_ANSWERS_FIELDS``), one per article with at least one unit
    predicted: list[tuple]


def chunk_answer_rows(
    *, version_id: int, questions: dict[str, LearnedQuestion], artefact_path: str, articles: list[tuple[int, str, str]]
) -> ChunkAnswers:
    """A chunk's AnswerCount rows and the annotator page's pre-fill rows (``PredictedAnswers``), from one prediction
    of each unit (:func:`_unit_predictions`); ``articles`` are (id, text, language).

    A unit the version did not learn from is predicted by fold ``article id mod K``'s model (the module docstring):
    the pre-fill shows the answer the scores count. A learned-from unit is counted with its cross-fitted answer
    (scores must not count an in-sample one) and shown the final model's. A version trained before fold models were
    kept shows and counts the final model's answers.
    """
    from ml.sentences import split_sentences

    counts: list[tuple] = []
    prefill: dict[int, list] = {pk: [] for pk, _t, _l in articles}
    sentences: dict[int, list] | None = None
    for qm in loaded_question_models(artefact_path):
        learned = questions.get(qm.name)
        if learned is None:
            continue
        question_id = learned.question_id
        if learned.scope == Question.Scope.SENTENCE:
            if sentences is None:  # split once per chunk, whatever the number of sentence questions
                sentences = {
                    pk: [(s.start_char, s.end_char) for s in split_sentences(text, language=language)]
                    for pk, text, language in articles
                }
            units = [(pk, start, end, text[start:end]) for pk, text, _l in articles for start, end in sentences[pk]]
        else:
            units = [(pk, -1, -1, text) for pk, text, _language in articles]
        n_units: Counter = Counter()
        with_answer: Counter = Counter()
        for (pk, start, end, _text), (shown, p, fold, counted) in zip(units, _unit_predictions(qm, units), strict=True):
            n_units[(pk, fold)] += 1
            for answer in counted:
                with_answer[(pk, fold, answer)] += 1
            unit = (None, None) if start < 0 else (start, end)
            prefill[pk].append(_prefill_entry(qm, question_id, *unit, shown, p))
        answered = {(pk, fold) for pk, fold, _a in with_answer}
        for (pk, fold, answer), n in sorted(with_answer.items()):
            counts.append((version_id, pk, question_id, answer, fold, n_units[(pk, fold)], n))
        for (pk, fold), n in sorted(n_units.items()):
            if (pk, fold) not in answered:
                counts.append((version_id, pk, question_id, "", fold, n, 0))
        seen = {pk for pk, _fold in n_units}  # an article without a sentence still gets its row: 0 units
        counts.extend((version_id, pk, question_id, "", FINAL, 0, 0) for pk, _t, _l in articles if pk not in seen)
    return ChunkAnswers(counts, [(version_id, pk, rows) for pk, rows in prefill.items() if rows])


def predicts_questions(*, viewer: Viewer) -> bool:
    """True when the viewer may read the model's answers and the active version predicts one of the project's
    questions (the annotator page then offers to pre-fill them)."""
    if not viewer.sees_layer(Layer.SUGGESTION):
        return False
    version = ModelVersion.objects.filter(project=viewer.project, is_active=True).only("metrics", "project_id").first()
    return version is not None and bool(version_questions(version=version))
