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
its final model, as before. The final model's pass over every unit gives the pre-fill, which the web process reads
(scoring.selectors.predicted_answers) without ever loading a classifier or scikit-learn.
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


def _counted(qm: QuestionModel, units: list[tuple], final: list[tuple[str, ...]]) -> list[tuple[int, tuple]]:
    """Per unit, the fold and answers the scores count: a learned-from unit's cross-fitted ones; any other unit's
    from fold ``article id mod K``'s model (``FINAL``: corrected with every fold's errors), or without fold models
    the final model's."""
    out: list = [qm.cross_fitted.get((pk, start, end)) for pk, start, end, _text in units]
    new = [i for i, known in enumerate(out) if known is None]
    if not qm.folds:
        for i in new:
            out[i] = (FINAL, final[i])
        return out
    by_model: dict[int, list[int]] = {}
    for i in new:
        by_model.setdefault(units[i][0] % len(qm.folds), []).append(i)
    for k, rows in by_model.items():
        chosen, _proba = _predict(qm, [units[i][3] for i in rows], qm.folds[k])
        for i, answers in zip(rows, chosen, strict=True):
            out[i] = (FINAL, answers)
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
    """A chunk's AnswerCount rows and the annotator page's pre-fill rows (``PredictedAnswers``): per question the
    final model predicts every unit, and the fold models the units the version did not learn from; ``articles`` are
    (id, text, language).

    The pre-fill is the final model's answer on every unit (what the model answers when an annotator asks it, as it
    did when the pre-fill was computed in the web process). The counts are estimates' inputs: a learned-from unit's
    cross-fitted prediction (scores must not count an in-sample one), any other unit's by fold ``article id mod K``'s
    model (the module docstring), so such a unit is predicted twice; a version trained before fold models were
    kept counts the final model's answers, predicted once.
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
        predicted, proba = _predict(qm, [u[3] for u in units])
        counted = _counted(qm, units, predicted)
        n_units: Counter = Counter()
        with_answer: Counter = Counter()
        for (pk, start, end, _text), final, p, (fold, chosen) in zip(units, predicted, proba, counted, strict=True):
            n_units[(pk, fold)] += 1
            for answer in chosen:
                with_answer[(pk, fold, answer)] += 1
            unit = (None, None) if start < 0 else (start, end)
            prefill[pk].append(_prefill_entry(qm, question_id, *unit, final, p))
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
