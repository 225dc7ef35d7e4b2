"""Question classifiers in a model version: the units and answers they learn from, their training and honest
evaluation (ml.codes), and what scoring needs from them later.

A model version holds, beside the lexicon, one document classifier per codebook question that has enough answers
(single choice, multiple choice, scale; text questions and span attributes are not predicted). Units are articles
for article questions and the answered sentences for sentence questions. Each classifier is

* cross-validated on folds grouped by *source document* (an article's story cluster, else its URL, else the
  article: BABE's sentences of one news link, or one story's wire copies, never straddle a fold), which gives the
  model page's per-answer precision, recall, F1 and confusion matrix, and the misclassification counts that correct
  the outlet shares (kept per fold and outlet, so scores can correct each fold with the other folds' errors);
* evaluated leave-one-outlet-out (trained on every other outlet);
* fitted on every unit and stored in the version's artefact directory (``ml.artefact.save_codes``), with the
  cross-fitted prediction of each training unit (``ml.artefact.save_code_units``), which scoring counts for those
  units instead of the final model's in-sample prediction, and the cross-validation's fold models
  (``ml.artefact.save_code_folds``), which predict the units the version did not learn from for the scores (fold
  ``article id mod K``: the misclassification measured on the folds then describes the model that predicted).

A question without enough answers is not trained; the version's metrics say why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from annotator.annotations.models import Answer, Layer, Span
from annotator.common.jsonsafe import json_safe
from annotator.corpus.models import Article
from annotator.projects.codebook import codebook_questions
from annotator.projects.models import Project, Question
from ml.spans import Span as MlSpan

CV_FOLDS = 5
#: Source documents a question needs: five folds, and the internal folds of each fold's fit need five again.
MIN_GROUPS = 8
PREDICTED_KINDS = (Question.Kind.SINGLE, Question.Kind.MULTIPLE, Question.Kind.SCALE)
PREDICTED_SCOPES = (Question.Scope.ARTICLE, Question.Scope.SENTENCE)
ARTICLE_UNIT = -1  # start/end of an article-scope unit in the stored unit arrays
YES, NO = "yes", "no"


@dataclass
class QuestionUnits:
    """One question's training units as plain data for ml.codes: a text, answer, source group, outlet and the
    marked spans (relative to the unit) per unit; ``starts``/``ends`` are sentence offsets (-1 for an article)."""

    question: dict
    article_ids: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    answers: list = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    outlets: list[str] = field(default_factory=list)
    spans: list[list[MlSpan]] = field(default_factory=list)
    dropped: int = 0

    @property
    def kind(self) -> str:
        return self.question["kind"]

    @property
    def options(self) -> list[str]:
        return [o["value"] for o in self.question["options"]]


def predicted_questions(*, project: Project) -> list[dict]:
    """The project's questions a model can predict (choices and scales of articles and sentences), in order."""
    return [
        q
        for q in codebook_questions(project=project)
        if q["kind"] in PREDICTED_KINDS and q["scope"] in PREDICTED_SCOPES
    ]


def source_group(*, article_id: int, cluster_id: int | None, url: str) -> str:
    """The source document an article belongs to for cross-validation: its story cluster, else its URL, else itself."""
    if cluster_id is not None:
        return f"cluster:{cluster_id}"
    if url:
        return f"url:{url}"
    return f"article:{article_id}"


def _clean_value(value, *, kind: str, options: set[str]):
    """The answer as ml.codes takes it (a string, or a tuple for multiple choice); None when it no longer fits the
    question's options (an option removed since; such answers are counted as dropped)."""
    if kind == Question.Kind.MULTIPLE:
        if not isinstance(value, list) or not all(isinstance(v, str) and v in options for v in value):
            return None
        return tuple(sorted(set(value)))
    return value if isinstance(value, str) and value in options else None


def question_units(*, project: Project, question: dict, source: str) -> QuestionUnits:
    """The answered units of one question: the gold layer (``source="gold"``) or every annotator's answers
    (``"all"``: one unit per annotator and unit; an article's annotators share its fold)."""
    layer = Layer.GOLD if source == "gold" else Layer.ANNOTATOR
    units = QuestionUnits(question=question)
    options = set(units.options)
    rows = (
        Answer.objects.filter(project=project, question_id=question["id"], layer=layer)
        .order_by("article_id", "start_char", "annotator_id", "pk")
        .values_list("article_id", "start_char", "end_char", "value")
    )
    answered = []
    for article_id, start, end, value in rows.iterator(chunk_size=5000):
        clean = _clean_value(value, kind=question["kind"], options=options)
        if clean is None:
            units.dropped += 1
            continue
        answered.append((article_id, start, end, clean))
    article_ids = sorted({a for a, *_ in answered})
    articles = {
        pk: (text, outlet, url, cluster)
        for pk, text, outlet, url, cluster in Article.objects.filter(pk__any_of=article_ids).values_list(
            "pk", "text", "outlet__slug", "url", "cluster_id"
        )
    }
    spans: dict[int, list[tuple[int, int, str]]] = {}
    span_rows = Span.objects.filter(project=project, layer=layer, article_id__any_of=article_ids).values_list(
        "article_id", "start_char", "end_char", "label__name"
    )
    for article_id, start, end, label in span_rows.iterator(chunk_size=5000):
        spans.setdefault(article_id, []).append((start, end, label))
    for article_id, start, end, answer in answered:
        text, outlet, url, cluster = articles[article_id]
        lo, hi = (0, len(text)) if start is None else (start, end)
        units.article_ids.append(article_id)
        units.starts.append(ARTICLE_UNIT if start is None else start)
        units.ends.append(ARTICLE_UNIT if start is None else end)
        units.texts.append(text[lo:hi])
        units.answers.append(answer)
        units.groups.append(source_group(article_id=article_id, cluster_id=cluster, url=url))
        units.outlets.append(outlet)
        units.spans.append(
            sorted({MlSpan(s - lo, e - lo, label) for s, e, label in spans.get(article_id, ()) if lo <= s and e <= hi})
        )
    return units


def new_classifier(question: dict, *, random_state: int):
    """The ml.codes classifier for a question's kind (a scale's points in order, with their numbers)."""
    from ml.codes import MultipleChoiceClassifier, OrdinalScaleClassifier, SingleChoiceClassifier

    if question["kind"] == Question.Kind.MULTIPLE:
        return MultipleChoiceClassifier(random_state=random_state)
    if question["kind"] == Question.Kind.SCALE:
        options = question["options"]
        values = [o["numeric"] for o in options]
        return OrdinalScaleClassifier(
            points=tuple(o["value"] for o in options),
            values=None if any(v is None for v in values) else tuple(float(v) for v in values),
            random_state=random_state,
        )
    return SingleChoiceClassifier(random_state=random_state)


def _too_few(units: QuestionUnits) -> str | None:
    n_groups = len(set(units.groups))
    if n_groups < MIN_GROUPS:
        return f"{n_groups} answered source documents; a classifier needs answers on at least {MIN_GROUPS}"
    if units.kind == Question.Kind.MULTIPLE:
        if not any(units.answers):
            return "no unit has any option chosen"
    elif len(set(units.answers)) < 2:
        return f"every answered unit has the same answer ({units.answers[0]!r}); there is nothing to tell apart"
    return None


def _confusion(answers: list[str], true: list, predicted: list) -> np.ndarray:
    index = {a: i for i, a in enumerate(answers)}
    k = len(answers)
    counts = np.zeros((k, k), dtype=np.int64)
    for t, p in zip(true, predicted, strict=True):
        counts[index[str(t)], index[str(p)]] += 1
    return counts


def confusion_by_fold_and_outlet(*, kind: str, answers: list[str], cv, outlets: list[str]) -> dict:
    """Cross-validated confusion counts ``[true][predicted]`` per fold and outlet (str keys, JSON-ready); for a
    multiple-choice question per option, as yes/no. Scores correct a fold's units with the other folds' counts."""

    def per_fold(true: list, predicted: list, names: list[str]) -> dict:
        out: dict = {}
        fold = np.asarray(cv.fold)
        outlet_array = np.asarray(outlets, dtype=object)
        for k in sorted(set(fold.tolist())):
            for outlet in sorted(set(outlet_array[fold == k].tolist())):
                rows = np.flatnonzero((fold == k) & (outlet_array == outlet))
                matrix = _confusion(names, [true[i] for i in rows], [predicted[i] for i in rows])
                out.setdefault(str(k), {})[outlet] = matrix.tolist()
        return out

    if kind == Question.Kind.MULTIPLE:
        return {
            a: per_fold(
                [YES if a in set(t) else NO for t in cv.true], [YES if a in set(p) else NO for p in cv.predicted],
                [YES, NO],
            )
            for a in answers
        }  # fmt: skip
    return per_fold([str(t) for t in cv.true], [str(p) for p in cv.predicted], answers)


def _plain(evaluation) -> dict:
    return {k: v.to_dict() for k, v in evaluation.items()} if isinstance(evaluation, dict) else evaluation.to_dict()


def _leave_one_outlet_out(model, units: QuestionUnits, seed: int) -> dict:
    from ml.codes import cross_fit

    if len(set(units.outlets)) < 2:
        return {"error": "one outlet only"}
    try:
        held = cross_fit(
            model, units.texts, units.answers, groups=units.groups, spans=units.spans, leave_out=units.outlets,
            random_state=seed,
        )  # fmt: skip
    except ValueError as exc:
        return {"error": str(exc)}
    counts = {name: sum(o == name for o in units.outlets) for name in held.fold_names}
    return {
        str(name): {"n_units": counts[name], **_plain(evaluation)}
        for name, evaluation in zip(held.fold_names, held.fold_evaluations, strict=True)
    }


def _unit_predictions(kind: str, answers: list[str], predicted: list) -> np.ndarray:
    """Cross-fitted predictions as numbers: an answer's index, or (multiple choice) a 0/1 row over the answers."""
    index = {a: i for i, a in enumerate(answers)}
    if kind == Question.Kind.MULTIPLE:
        out = np.zeros((len(predicted), len(answers)), dtype=np.uint8)
        for i, chosen in enumerate(predicted):
            out[i, [index[a] for a in chosen]] = 1
        return out
    return np.array([index[str(p)] for p in predicted], dtype=np.int16)


def question_train(
    *, units: QuestionUnits, directory: Path, seed: int, on_fold: Callable[[int, int], None] | None = None
) -> dict:
    """Cross-validate, evaluate leave-one-outlet-out, fit and store one question's classifier; its metrics."""
    from ml import artefact
    from ml.codes import codes_data_hash, cross_fit

    question = units.question
    head = {
        "question": question["name"], "question_id": question["id"], "kind": question["kind"],
        "scope": question["scope"],
        "n_units": len(units.texts), "n_articles": len(set(units.article_ids)), "n_groups": len(set(units.groups)),
        "dropped": units.dropped,
    }  # fmt: skip
    reason = _too_few(units) if units.texts else "no answered unit"
    if reason is not None:
        return {**head, "skipped": reason}
    model = new_classifier(question, random_state=seed)
    try:
        cv = cross_fit(
            model, units.texts, units.answers, groups=units.groups, spans=units.spans, n_splits=CV_FOLDS,
            random_state=seed, on_fold=on_fold, keep_models=True,
        )  # fmt: skip
        fitted = new_classifier(question, random_state=seed).fit(
            units.texts, units.answers, spans=units.spans, groups=units.groups
        )
    except ValueError as exc:  # e.g. a fold whose training part has one answer only
        return {**head, "skipped": f"cannot be cross-validated: {exc}"}
    answers = [str(a) for a in fitted.classes_]
    metrics = {
        **head,
        "answers": answers,
        "grouped_kfold": cv.to_dict(),
        "leave_one_outlet_out": _leave_one_outlet_out(model, units, seed),
        "per_outlet_confusion": confusion_by_fold_and_outlet(
            kind=question["kind"], answers=answers, cv=cv, outlets=units.outlets
        ),
    }
    name = question["name"]
    artefact.save_codes(directory, {name: fitted}, data_sha256={name: codes_data_hash(units.texts, units.answers)})
    # scoring predicts a unit the version did not learn from with fold (article id mod K)'s model (scoring.codes)
    artefact.save_code_folds(directory, name, cv.models)
    artefact.save_code_units(
        directory,
        name,
        {
            "article_id": np.asarray(units.article_ids, dtype=np.int64),
            "start": np.asarray(units.starts, dtype=np.int64),
            "end": np.asarray(units.ends, dtype=np.int64),
            "fold": np.asarray(cv.fold, dtype=np.int16),
            "predicted": _unit_predictions(question["kind"], answers, cv.predicted),
        },
    )
    return metrics


def questions_train(
    *, project: Project, source: str, directory: Path, seed: int, progress: Callable[[float, str], None]
) -> dict[str, dict]:
    """Train every predictable question (see the module docstring); ``progress(fraction, message)`` with the
    fraction of this step done. Returns the metrics per question name (skipped ones say why)."""
    questions = predicted_questions(project=project)
    out = {}
    for i, question in enumerate(questions):
        units = question_units(project=project, question=question, source=source)

        def on_fold(done: int, total: int, i=i, name=question["name"]) -> None:
            progress(
                (i + done / (total + 2)) / len(questions),
                f"Question {name}: cross-validation fold {done + 1} of {total}",
            )

        progress(i / len(questions), f"Question {question['name']}: {len(units.texts)} answered units")
        metrics = question_train(units=units, directory=directory, seed=seed, on_fold=on_fold)
        out[question["name"]] = json_safe(metrics)  # a misclassification row without units is NaN
    return out
