"""Scoring's half of the question classifiers: predict a chunk's articles and turn the answers into AnswerCount rows.

A scoring chunk (scoring.services.score_chunk) calls :func:`answer_count_rows` beside the lexicon's span counts and
writes both in one transaction. Per question the version learned (its artefact's ``codes``): article questions
predict the article's text, sentence questions each sentence (``ml.sentences``, as the annotator page splits them).
A unit the version learned from is counted with its cross-fitted prediction (``ml.artefact.load_code_units``) and
the fold that made it, so scores never count an in-sample prediction and correct each fold with errors measured on
the others (scoring.code_scores).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from annotator.annotations.models import Layer
from annotator.common.errors import ApplicationError
from annotator.projects.models import Question
from annotator.projects.visibility import BLIND_LAYER, Hidden, Viewer
from annotator.scoring.models import AnswerCount
from annotator.training.models import ModelVersion

ANSWER_COUNT_FIELDS = ("model_version_id", "article_id", "question_id", "answer", "fold", "n_units", "n_with_answer")
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
        out.append(QuestionModel(name, multiple, models[name], answers, cross_fitted))
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


def _predict(qm: QuestionModel, texts: list[str]) -> list[tuple[str, ...]]:
    if not texts:
        return []
    predicted = qm.model.predict(texts)
    return [tuple(p) for p in predicted] if qm.multiple else [(str(p),) for p in predicted]


def answer_count_rows(
    *, version_id: int, questions: dict[str, LearnedQuestion], artefact_path: str, articles: list[tuple[int, str, str]]
) -> list[tuple]:
    """AnswerCount rows (``ANSWER_COUNT_FIELDS``) of a chunk: ``articles`` are (id, text, language)."""
    from ml.sentences import split_sentences

    rows: list[tuple] = []
    for qm in loaded_question_models(artefact_path):
        learned = questions.get(qm.name)
        if learned is None:
            continue
        question_id = learned.question_id
        if learned.scope == Question.Scope.SENTENCE:
            units = [
                (pk, s.start_char, s.end_char, text[s.start_char : s.end_char])
                for pk, text, language in articles
                for s in split_sentences(text, language=language)
            ]
        else:
            units = [(pk, -1, -1, text) for pk, text, _language in articles]
        todo = [i for i, (pk, start, end, _t) in enumerate(units) if (pk, start, end) not in qm.cross_fitted]
        predicted = dict(zip(todo, _predict(qm, [units[i][3] for i in todo]), strict=True))
        n_units: Counter = Counter()
        with_answer: Counter = Counter()
        for i, (pk, start, end, _text) in enumerate(units):
            fold, chosen = qm.cross_fitted.get((pk, start, end)) or (FINAL, predicted[i])
            n_units[(pk, fold)] += 1
            for answer in chosen:
                with_answer[(pk, fold, answer)] += 1
        answered = {(pk, fold) for pk, fold, _a in with_answer}
        for (pk, fold, answer), n in sorted(with_answer.items()):
            rows.append((version_id, pk, question_id, answer, fold, n_units[(pk, fold)], n))
        for (pk, fold), n in sorted(n_units.items()):
            if (pk, fold) not in answered:
                rows.append((version_id, pk, question_id, "", fold, n, 0))
        seen = {pk for pk, _fold in n_units}  # an article without a sentence still gets its row: 0 units
        rows.extend((version_id, pk, question_id, "", FINAL, 0, 0) for pk, _t, _l in articles if pk not in seen)
    return rows


def predicted_answers(*, viewer: Viewer, article) -> dict:
    """The active version's predicted answers on an article, for the annotator page to pre-fill (computed now from
    the artefact, never stored): per question the model learned, the article's answer, or each sentence's.

    ``{"model_version": n, "answers": [{question_id, start_char, end_char, value, score}]}``; ``value`` as an
    answer stores it (a list for multiple choice), ``score`` the model's probability of it (multiple choice: of
    each chosen option, ``scores``). Readable by whoever reads the model's suggestions (the same layer rule);
    ``model_version`` is None and the list empty without an active version."""
    from annotator.annotations.selectors import article_sentences

    if not viewer.sees_layer(Layer.SUGGESTION):
        raise Hidden(BLIND_LAYER, "layer")
    version = ModelVersion.objects.filter(project=viewer.project, is_active=True).first()
    if version is None or not version.artefact_path:
        return {"model_version": None, "answers": []}
    questions = version_questions(version=version)
    out = []
    sentences = None
    for qm in loaded_question_models(version.artefact_path):
        learned = questions.get(qm.name)
        if learned is None:
            continue
        if learned.scope == Question.Scope.SENTENCE:
            if sentences is None:
                sentences = [(s.start_char, s.end_char) for s in article_sentences(article=article)]
            units = sentences
        else:
            units = [(None, None)]
        texts = [article.text if start is None else article.text[start:end] for start, end in units]
        if not texts:
            continue
        proba = qm.model.predict_proba(texts)
        predicted = _predict(qm, texts)
        for (start, end), chosen, p in zip(units, predicted, proba.tolist(), strict=True):
            row = {"question_id": learned.question_id, "start_char": start, "end_char": end}
            if qm.multiple:
                scores = {a: round(s, 4) for a, s in zip(qm.answers, p, strict=True)}
                row.update(value=list(chosen), score=None, scores=scores)
            else:
                row.update(value=chosen[0], score=round(p[qm.answers.index(chosen[0])], 4), scores=None)
            out.append(row)
    return {"model_version": version.number, "answers": out}


def predicts_questions(*, viewer: Viewer) -> bool:
    """True when the viewer may read the model's answers and the active version predicts one of the project's
    questions (the annotator page then offers to pre-fill them)."""
    if not viewer.sees_layer(Layer.SUGGESTION):
        return False
    version = ModelVersion.objects.filter(project=viewer.project, is_active=True).only("metrics", "project_id").first()
    return version is not None and bool(version_questions(version=version))
