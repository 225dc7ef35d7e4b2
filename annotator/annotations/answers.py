"""Answer writes: the ONE owner of the answer rules (question, unit, value, layer, permission).

An answer is keyed by its unit, not by an id the client makes up: (layer, annotator, question, article, unit). Setting
an answer is therefore an upsert, and sending the same change twice (a retry of the page's outbox) stores it once;
``value=None`` clears the answer (deletes the row). This is why answers, unlike spans, need no ``client_id``.

Units by the question's scope:

* ``article``: no unit fields;
* ``sentence``: ``start_char``/``end_char``, code-point offsets of the sentence in the article text (the page gets
  them from the server's splitter, ml.sentences; any offsets inside the text are accepted, so answers imported from
  other tools and answers made under another splitter keep theirs);
* ``span`` (an attribute): ``span_id``, a span of the question's label in the same layer (for the annotator layer:
  the annotator's own span).

Values by the question's kind: single choice and scale the option's value; multiple choice a non-empty list of
option values (stored in option order, without repeats); text a non-blank string of at most TEXT_MAX_CHARS.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.db.models.constants import OnConflict
from django.db.models.functions import Length
from django.db.models.sql.subqueries import InsertQuery
from django.utils import timezone

from annotator.annotations.models import Answer, Layer, Span
from annotator.common.errors import ApplicationError
from annotator.corpus.models import Article
from annotator.projects.models import Assignment, CodebookVersion, Project, ProjectArticle, Question, QuestionOption

TEXT_MAX_CHARS = 2000
NOT_IN_PROJECT = "This article is not part of the project."
ARTICLE_UNIT = "article"


@dataclass(frozen=True)
class QuestionSpec:
    """What the answer rules need to know of a question (read once per save, without model instances)."""

    id: int
    name: str
    scope: str
    kind: str
    label_id: int | None
    options: tuple[str, ...]  # option values in option order


def _spec_from_rows(rows: list[tuple], question_id: int) -> QuestionSpec:
    """The spec from rows of (id, name, scope, kind, label_id, option value), one per option in option order (one
    row with a NULL option for a question without options, or a NULL id for no question); 400 if unknown."""
    if not rows or rows[0][0] is None:
        raise ApplicationError(
            "Unknown question.", {"question": [f"Question {question_id} is not in this project's codebook."]}
        )
    return QuestionSpec(*rows[0][:5], options=tuple(row[5] for row in rows if row[5] is not None))


def question_spec(*, project: Project, question_id: int) -> QuestionSpec:
    """The question of the project's codebook as a :class:`QuestionSpec` (one query: a row per option); 400 if
    unknown."""
    rows = list(
        Question.objects.filter(project=project, pk=question_id)
        .order_by("options__order", "options__id")
        .values_list("pk", "name", "scope", "kind", "label_id", "options__value")
    )
    return _spec_from_rows(rows, question_id)


def answer_value_clean(*, spec: QuestionSpec, value):
    """The value as stored, or an ApplicationError naming ``value`` (no database access)."""
    kind, options = spec.kind, spec.options
    if kind in (Question.Kind.SINGLE, Question.Kind.SCALE):
        if not isinstance(value, str) or value not in options:
            raise _value_error(spec, f"One of: {', '.join(options)}.")
        return value
    if kind == Question.Kind.MULTIPLE:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise _value_error(spec, f"A non-empty list of: {', '.join(options)} (clear the answer with null).")
        unknown = [v for v in value if v not in options]
        if unknown:
            raise _value_error(
                spec, f"Unknown option(s) {', '.join(map(repr, unknown))}; choose from {', '.join(options)}."
            )
        chosen = set(value)
        return [v for v in options if v in chosen]
    if not isinstance(value, str) or not value.strip():
        raise _value_error(spec, "A non-blank text (clear the answer with null).")
    if len(value) > TEXT_MAX_CHARS:
        raise _value_error(spec, f"At most {TEXT_MAX_CHARS} characters.")
    return value.strip()


def _value_error(spec: QuestionSpec, message: str) -> ApplicationError:
    return ApplicationError(f"Not an answer to '{spec.name}'.", {"value": [message]})


@dataclass(frozen=True)
class Unit:
    key: str
    start_char: int | None = None
    end_char: int | None = None
    span_id: int | None = None


def unit_key(*, start_char: int | None = None, end_char: int | None = None, span_id: int | None = None) -> str:
    """The unit as the unique indexes key it: "article", "sentence:<start>-<end>" or "span:<id>"."""
    if span_id is not None:
        return f"span:{span_id}"
    if start_char is not None:
        return f"sentence:{start_char}-{end_char}"
    return ARTICLE_UNIT


def _unit(
    *, spec: QuestionSpec, project: Project, article_id: int, text_length: int, layer: str, annotator_id: int | None,
    start_char: int | None, end_char: int | None, span_id: int | None,
) -> Unit:  # fmt: skip
    """Check the unit fields against the question's scope; the unit, or an ApplicationError naming the field."""
    offsets = start_char is not None or end_char is not None
    if spec.scope == Question.Scope.ARTICLE:
        if offsets or span_id is not None:
            raise ApplicationError(
                f"'{spec.name}' is asked of the whole article: send no sentence offsets and no span.",
                {"question": ["Article scope."]},
            )
        return Unit(ARTICLE_UNIT)
    if spec.scope == Question.Scope.SENTENCE:
        if span_id is not None or start_char is None or end_char is None:
            raise ApplicationError(
                f"'{spec.name}' is asked of each sentence: send the sentence's start_char and end_char.",
                {"start_char": ["Required for a sentence question."]},
            )
        if not 0 <= start_char < end_char <= text_length:
            raise ApplicationError(
                "The sentence offsets fall outside the article text.",
                {"end_char": [f"Need 0 <= start_char < end_char <= {text_length} (code points)."]},
            )
        return Unit(unit_key(start_char=start_char, end_char=end_char), start_char, end_char)
    if offsets or span_id is None:
        raise ApplicationError(
            f"'{spec.name}' is an attribute of spans: send the span's id.", {"span": ["Required for an attribute."]}
        )
    span = Span.objects.filter(pk=span_id, project=project, article_id=article_id).values_list(
        "layer", "annotator_id", "label_id"
    )
    found = span.first()
    if found is None or found[0] != layer or (layer == Layer.ANNOTATOR and found[1] != annotator_id):
        mine = "one of your spans" if layer == Layer.ANNOTATOR else f"a {layer} span"
        raise ApplicationError(
            f"Span {span_id} is not {mine} on this article.", {"span": ["Unknown span."]}, status_code=404
        )
    if found[2] != spec.label_id:
        raise ApplicationError(
            f"'{spec.name}' is an attribute of another label's spans.",
            {"span": ["The span's label has no such attribute."]},
        )
    return Unit(unit_key(span_id=span_id), span_id=span_id)


def _article_length(*, project: Project, article_id: int) -> int:
    """The article's length in code points; 404 if it is not in the project."""
    row = (
        ProjectArticle.objects.filter(project=project, article_id=article_id)
        .annotate(n=Length("article__text"))
        .values_list("n", flat=True)
        .first()
    )
    if row is None:
        raise _not_in_project()
    return row


def _not_in_project() -> ApplicationError:
    return ApplicationError(NOT_IN_PROJECT, {"article": [NOT_IN_PROJECT]}, status_code=404)


def _latest_version_id(project: Project) -> int | None:
    return CodebookVersion.objects.filter(project=project).order_by("-number").values_list("pk", flat=True).first()


def _insert_ignoring_conflicts(answer: Answer) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new id, or None when the unit already has an answer in the
    layer (a concurrent save); one statement, so a conflict cannot abort the surrounding transaction."""
    fields = [f for f in Answer._meta.concrete_fields if f is not Answer._meta.pk]
    query = InsertQuery(Answer, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, [answer])
    compiler = query.get_compiler(using=router.db_for_write(Answer))
    compiler.returning_fields = [Answer._meta.pk]
    with compiler.connection.cursor() as cursor:
        for sql, params in compiler.as_sql():
            cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class SaveContext:
    """What an answer save reads before it writes, in one statement (:func:`_save_context`)."""

    text_length: int | None  # the article's length in code points; None: the article is not in the project
    version_id: int | None  # the latest codebook version
    current: int | None  # the unit's answer in the layer (the annotator's own in the annotator layer)
    # the user's queue, for annotations.services._queue_check: any assignment in the project; this article's
    # assignment's calibration flag (None: not assigned); a calibration assignment not done yet
    has_assignments: bool
    assigned_calibration: bool | None
    gate_closed: bool
    question: list[tuple]  # (id, name, scope, kind, label_id, option value) per option in order: _spec_from_rows


def _key_filter(
    *, layer: str, question_id: int, article_id: int, annotator_id: int | None, start_char: int | None,
    end_char: int | None, span_id: int | None,
) -> dict:  # fmt: skip
    """The unit's answer in the layer, as the unique indexes key it (the unit fields are checked against the
    question's scope later: a unit that does not fit is refused before anything is written)."""
    key = unit_key(start_char=start_char, end_char=end_char, span_id=span_id)
    key_filter = {"layer": layer, "question_id": question_id, "article_id": article_id, "unit_key": key}
    if layer == Layer.ANNOTATOR:
        key_filter["annotator_id"] = annotator_id
    return key_filter


@functools.cache
def _save_context_sql(annotator_layer: bool) -> str:
    from annotator.annotations.services import queue_facts_sql  # services imports this module

    link, article, version = ProjectArticle._meta, Article._meta, CodebookVersion._meta
    answer, question, option = Answer._meta, Question._meta, QuestionOption._meta
    order = connections[router.db_for_read(Question)].ops.quote_name(option.get_field("order").column)
    own = " AND x.annotator_id = %s" if annotator_layer else ""
    return (
        "SELECT c.n, c.version, c.current, c.has_assignments, c.assigned_calibration, c.gate_closed,"
        " qn.id, qn.name, qn.scope, qn.kind, qn.label_id, o.value FROM (SELECT"
        f" (SELECT LENGTH(a.{article.get_field('text').column}) FROM {link.db_table} pa"
        f" INNER JOIN {article.db_table} a ON a.id = pa.article_id"
        " WHERE pa.project_id = %s AND pa.article_id = %s) AS n,"
        f" (SELECT v.id FROM {version.db_table} v WHERE v.project_id = %s ORDER BY v.number DESC LIMIT 1) AS version,"
        f" (SELECT x.id FROM {answer.db_table} x WHERE x.layer = %s AND x.question_id = %s AND x.article_id = %s"
        f" AND x.unit_key = %s{own} LIMIT 1) AS current,"
        f" {queue_facts_sql('%s')}) c"
        f" LEFT JOIN {question.db_table} qn ON qn.id = %s AND qn.project_id = %s"
        f" LEFT JOIN {option.db_table} o ON o.question_id = qn.id"
        f" ORDER BY o.{order}, o.id"
    )


def _save_context(*, project: Project, key_filter: dict, queue_user_id: int | None = None) -> SaveContext:
    """ONE query, the save's hot path (see answer_set): the article's length if it is in the project, the latest
    codebook version, the unit's current answer (``key_filter``, from :func:`_key_filter`), the queue facts of
    ``queue_user_id`` (none for None) and the question with its options, a row per option in option order.

    Written as SQL (portable to PostgreSQL and SQLite, like the span save's ``_span_context_sql``) because building
    the equivalent ORM queries cost more CPU than running them. The options come as rows of a join, not aggregated:
    ordered aggregation is not portable, and the context's scalar subqueries are computed once for all the rows."""
    annotator_layer = key_filter["layer"] == Layer.ANNOTATOR
    article_id, queue = key_filter["article_id"], [project.pk, queue_user_id]
    params = [
        project.pk, article_id, project.pk,
        key_filter["layer"], key_filter["question_id"], article_id, key_filter["unit_key"],
        *([key_filter["annotator_id"]] if annotator_layer else []),
        *queue, *queue, article_id, *queue, True, Assignment.Status.DONE,
        key_filter["question_id"], project.pk,
    ]  # fmt: skip
    with connections[router.db_for_read(Answer)].cursor() as cursor:
        cursor.execute(_save_context_sql(annotator_layer), params)
        rows = cursor.fetchall()
    n, version_id, current, has_assignments, assigned_calibration, gate_closed = rows[0][:6]
    return SaveContext(
        text_length=n, version_id=version_id, current=current, has_assignments=bool(has_assignments),
        assigned_calibration=None if assigned_calibration is None else bool(assigned_calibration),
        gate_closed=bool(gate_closed), question=[row[6:] for row in rows],
    )  # fmt: skip


def _upsert(*, answer: Answer, key_filter: dict, current: int | None) -> tuple[Answer, bool]:
    """Store ``answer`` as the unit's answer in its layer: update the ``current`` row, else insert; a row that went
    or came meanwhile (another tab) is found again. Returns (answer, created); one statement in the usual case."""
    now = timezone.now()
    fields = {
        "value": answer.value, "codebook_version_id": answer.codebook_version_id, "provenance": answer.provenance,
        "updated_by_id": answer.updated_by_id, "updated_at": now,
    }  # fmt: skip
    for _attempt in range(3):
        if current is not None and Answer.objects.filter(pk=current).update(**fields):
            answer.pk, answer.updated_at = current, now
            break
        new_id = _insert_ignoring_conflicts(answer)
        if new_id is not None:
            answer.pk = new_id
            answer._state.adding = False
            answer._state.db = router.db_for_write(Answer)
            return answer, True
        current = Answer.objects.filter(**key_filter).values_list("pk", flat=True).first()
    else:  # pragma: no cover - a row that keeps appearing and vanishing
        raise IntegrityError("The answer could not be stored; try again.")
    answer._state.adding = False
    answer._state.db = router.db_for_write(Answer)
    return answer, False


def _store(
    *, project: Project, article_id: int, spec: QuestionSpec, layer: str, annotator_id: int | None, by, value,
    start_char: int | None, end_char: int | None, span_id: int | None, provenance: dict | None = None,
    context: SaveContext | None = None,
) -> tuple[Answer | None, bool]:  # fmt: skip
    """The shared path of every answer write: check the unit and the value, then upsert (or delete for None).
    ``context``: the save's context when the caller read it already (answer_set, for the queue and the question)."""
    key_filter = _key_filter(
        layer=layer, question_id=spec.id, article_id=article_id, annotator_id=annotator_id, start_char=start_char,
        end_char=end_char, span_id=span_id,
    )  # fmt: skip
    if context is None:
        context = _save_context(project=project, key_filter=key_filter)
    if context.text_length is None:
        raise _not_in_project()
    unit = _unit(
        spec=spec, project=project, article_id=article_id, text_length=context.text_length, layer=layer,
        annotator_id=annotator_id, start_char=start_char, end_char=end_char, span_id=span_id,
    )  # fmt: skip
    if value is None:
        if context.current is not None:
            # One DELETE statement: no model refers to answers and no signal listens for their deletion, so
            # QuerySet.delete()'s collector would only wrap the same statement in BEGIN ... COMMIT.
            rows = Answer.objects.filter(**key_filter)
            rows._raw_delete(rows.db)
        return None, False
    answer = Answer(
        project=project, article_id=article_id, question_id=spec.id, layer=layer, annotator_id=annotator_id,
        span_id=unit.span_id, start_char=unit.start_char, end_char=unit.end_char, unit_key=unit.key,
        value=answer_value_clean(spec=spec, value=value), codebook_version_id=context.version_id,
        provenance=provenance or {}, updated_by=by,
    )  # fmt: skip
    return _upsert(answer=answer, key_filter=key_filter, current=context.current)


def answer_set(
    *,
    project: Project,
    article: int,
    user,
    question_id: int,
    value,
    start_char: int | None = None,
    end_char: int | None = None,
    span_id: int | None = None,
) -> tuple[Answer | None, bool]:
    """Set (or, with ``value=None``, clear) the user's own answer to a question for one unit of an article.

    Returns (answer, created); (None, False) after a clear. The user must be allowed to annotate; the article must
    be in the project and in the user's queue (the calibration gate too, as for spans); the question in its codebook; the unit must fit the question's scope and the value its kind
    (see the module docstring). Not wrapped in one transaction on purpose, like span_create: each write is a
    single statement, and a lost race on a first answer is resolved by updating the row that won.

    Cost (the hot path of the page): the role from the request's cached membership, ONE query for the queue facts,
    the question and its options, article-in-project + its length + the codebook version + the unit's current
    answer (:func:`_save_context`), and one UPDATE or INSERT (DELETE for a clear). The rules are checked in this
    order: may annotate, queue and calibration gate, question, article in project, unit, value.
    """
    from annotator.annotations.services import _check_may_annotate, _queue_check

    _check_may_annotate(project=project, user=user)
    key_filter = _key_filter(
        layer=Layer.ANNOTATOR, question_id=question_id, article_id=article, annotator_id=user.pk,
        start_char=start_char, end_char=end_char, span_id=span_id,
    )  # fmt: skip
    context = _save_context(project=project, key_filter=key_filter, queue_user_id=user.pk)
    _queue_check(
        has_assignments=context.has_assignments, assigned_calibration=context.assigned_calibration,
        gate_closed=context.gate_closed,
    )  # fmt: skip
    spec = _spec_from_rows(context.question, question_id)
    return _store(
        project=project, article_id=article, spec=spec, layer=Layer.ANNOTATOR, annotator_id=user.pk, by=user,
        value=value, start_char=start_char, end_char=end_char, span_id=span_id, context=context,
    )  # fmt: skip


# --- required questions before Done --------------------------------------------------------------------------------


def answers_missing(*, project: Project, annotator_id: int, article_id: int) -> list[dict]:
    """The required questions the annotator has not answered on the article yet, each with what is missing.

    Article scope: the article's answer. Sentence scope: an answer for every sentence of the current splitter.
    Attribute: an answer for every one of the annotator's spans of the label. ``[{"question", "prompt", "scope",
    "missing": n, "units": [first few sentence offsets or span ids]}]``; empty when Done may go ahead.
    """
    required = list(
        Question.objects.filter(project=project, required=True)
        .order_by("order", "name")
        .values_list("pk", "name", "prompt", "scope", "label_id")
    )
    if not required:
        return []
    have: dict[int, set[str]] = {}
    answered = Answer.objects.filter(
        project=project, article_id=article_id, layer=Layer.ANNOTATOR, annotator_id=annotator_id,
        question_id__in=[q[0] for q in required],
    ).values_list("question_id", "unit_key")  # fmt: skip
    for question_id, key in answered:
        have.setdefault(question_id, set()).add(key)
    sentences = None
    out = []
    for question_id, name, prompt, scope, label_id in required:
        keys = have.get(question_id, set())
        if scope == Question.Scope.ARTICLE:
            needed = [ARTICLE_UNIT]
        elif scope == Question.Scope.SENTENCE:
            if sentences is None:
                from annotator.annotations.selectors import article_sentences

                sentences = article_sentences(article_id=article_id)
            needed = [unit_key(start_char=s.start_char, end_char=s.end_char) for s in sentences]
        else:
            spans = Span.objects.filter(
                project=project, article_id=article_id, layer=Layer.ANNOTATOR, annotator_id=annotator_id,
                label_id=label_id,
            ).order_by("start_char", "end_char", "id")  # fmt: skip
            needed = [unit_key(span_id=pk) for pk in spans.values_list("pk", flat=True)]
        missing = [k for k in needed if k not in keys]
        if missing:
            out.append(
                {"question": name, "prompt": prompt, "scope": scope, "missing": len(missing), "units": missing[:20]}
            )
    return out


def _missing_phrase(item: dict) -> str:
    if item["scope"] == Question.Scope.ARTICLE:
        return f"“{item['prompt']}”"
    what = "sentence" if item["scope"] == Question.Scope.SENTENCE else "span"
    return f"“{item['prompt']}” for {item['missing']} {what}{'s' if item['missing'] != 1 else ''}"


def answers_done_check(*, project: Project, annotator, article_id: int) -> None:
    """Refuse Done while required questions are unanswered, naming them (registered in ASSIGNMENT_DONE_CHECKS)."""
    missing = answers_missing(project=project, annotator_id=annotator.pk, article_id=article_id)
    if missing:
        names = "; ".join(_missing_phrase(item) for item in missing)
        raise ApplicationError(
            f"Answer the required questions first: {names}.",
            {"missing": missing, "status": [f"Not {Assignment.Status.DONE.value}: required questions unanswered."]},
        )


# --- curation: the gold layer of answers ---------------------------------------------------------------------------

GOLD_ANSWER_CHANGED = "This gold answer was changed by {who} since your page loaded it; the page now shows it as it is."


def _sources(*, project: Project, article_id: int, spec: QuestionSpec, unit: Unit, ids: list[int]) -> list[Answer]:
    """The annotators' answers a gold answer is taken from: the same question, article and unit (for an attribute, a
    span at the gold span's offsets); every id must be one."""
    sources = list(
        Answer.objects.filter(pk__in=ids, project=project, article_id=article_id, question_id=spec.id, layer=Layer.ANNOTATOR)
        .select_related("span")
        .order_by("pk")
    )  # fmt: skip
    if unit.span_id is not None:
        gold = Span.objects.filter(pk=unit.span_id).values_list("start_char", "end_char").first()
        sources = [a for a in sources if a.span_id and (a.span.start_char, a.span.end_char) == gold]
    else:
        sources = [a for a in sources if a.unit_key == unit.key]
    missing = sorted(set(ids) - {a.pk for a in sources})
    if missing:
        raise ApplicationError(
            "Some source answers are not annotators' answers to this question for this unit.",
            {"from_answers": [f"Unknown or other answer id(s): {', '.join(map(str, missing[:20]))}."]},
        )
    return sources


def gold_answer_set(
    *,
    project: Project,
    article: int,
    by,
    question_id: int,
    value=None,
    start_char: int | None = None,
    end_char: int | None = None,
    span_id: int | None = None,
    from_answers: list[int] | None = None,
    seen_updated_at=None,
) -> Answer | None:
    """The curator sets the gold answer of a unit: taken from annotators' answers (``from_answers``; their common
    value, unless ``value`` is given too and equals it) or given (``value`` alone). ``value=None`` without sources
    clears it (the curator page's undo of a first gold answer). An attribute's unit is a gold span (``span_id``).

    Provenance: ``{"action": "take" | "give", "from_answers": [ids], "annotators": [user ids], "by": curator id}``.
    ``seen_updated_at``: the gold answer's ``updated_at`` as the curator's page shows it (None: the page showed no
    gold answer); if another curator changed it since, the change is refused (409, naming them)."""
    from annotator.annotations.curation import curator_check

    curator_check(project=project, user=by)
    spec = question_spec(project=project, question_id=question_id)
    with transaction.atomic():
        length = _article_length(project=project, article_id=article)
        unit = _unit(
            spec=spec, project=project, article_id=article, text_length=length, layer=Layer.GOLD, annotator_id=None,
            start_char=start_char, end_char=end_char, span_id=span_id,
        )  # fmt: skip
        key_filter = {"layer": Layer.GOLD, "question_id": spec.id, "article_id": article, "unit_key": unit.key}
        locked = Answer.objects.select_for_update(of=("self",)).select_related("updated_by").order_by("pk")
        current = locked.filter(**key_filter).first()
        if seen_updated_at is not None and (current is None or current.updated_at != seen_updated_at):
            who = (current.updated_by.username if current and current.updated_by else None) or "someone"
            raise ApplicationError(GOLD_ANSWER_CHANGED.format(who=who), {"question": [spec.name]}, status_code=409)
        sources = _sources(project=project, article_id=article, spec=spec, unit=unit, ids=from_answers or [])
        values = {json.dumps(a.value, sort_keys=True) for a in sources}
        if len(values) > 1:
            raise ApplicationError(
                "The source answers differ: take one of them, or give the gold answer yourself.",
                {"from_answers": ["Different values."]},
            )
        if sources and value is None:
            value = sources[0].value
        elif sources and json.dumps(answer_value_clean(spec=spec, value=value), sort_keys=True) not in values:
            raise ApplicationError("The value differs from the answer taken.", {"value": ["Not the source's value."]})
        provenance = {
            "action": "take" if sources else "give", "from_answers": [a.pk for a in sources],
            "annotators": sorted({a.annotator_id for a in sources}), "by": by.pk,
        }  # fmt: skip
        answer, _ = _store(
            project=project, article_id=article, spec=spec, layer=Layer.GOLD, annotator_id=None, by=by, value=value,
            start_char=start_char, end_char=end_char, span_id=span_id, provenance=provenance,
        )  # fmt: skip
        return answer


def _agreed_units(answers: list[Answer], finishers: set[int]) -> list[list[Answer]]:
    """Groups of answers (one question, one unit) on which every annotator who finished the article (two or more)
    gave the same value."""
    groups: dict[tuple, list[Answer]] = defaultdict(list)
    for a in answers:
        if a.annotator_id in finishers:
            unit = (a.span.start_char, a.span.end_char) if a.span_id else a.unit_key
            groups[(a.question_id, unit)].append(a)
    return [
        group
        for group in groups.values()
        if len(finishers) >= 2
        and {a.annotator_id for a in group} == finishers
        and len({json.dumps(a.value, sort_keys=True) for a in group}) == 1
    ]


def gold_answers_bulk_accept(*, project: Project, by, article: int | None = None) -> dict:
    """Take every answer on which all annotators who finished an article agree into the gold layer, where the unit
    has no gold answer yet (a curator's own gold answer is never overwritten). For one article, or for every article
    of the project not adjudicated yet. An attribute is taken when a gold span of its label has the same offsets
    (accept the span first). Returns counts."""
    from annotator.annotations.curation import bulk_article_ids, curator_check, finished_annotators

    curator_check(project=project, user=by)
    if article is not None:
        _article_length(project=project, article_id=article)
    finishers = finished_annotators(project=project, article_ids=bulk_article_ids(project=project, article=article))
    answers = defaultdict(list)
    rows = Answer.objects.filter(project=project, layer=Layer.ANNOTATOR, article_id__any_of=list(finishers))
    for a in rows.select_related("span").order_by("pk"):
        answers[a.article_id].append(a)
    gold_spans = defaultdict(dict)
    for pk, article_id, label_id, start, end in Span.objects.filter(
        project=project, layer=Layer.GOLD, article_id__any_of=list(finishers)
    ).values_list("pk", "article_id", "label_id", "start_char", "end_char"):
        gold_spans[article_id][(label_id, start, end)] = pk
    labels = dict(Question.objects.filter(project=project).values_list("pk", "label_id"))
    taken = skipped = 0
    with transaction.atomic():
        for article_id, who in sorted(finishers.items()):
            have = set(Answer.objects.filter(project=project, article_id=article_id, layer=Layer.GOLD).values_list(
                "question_id", "unit_key"))  # fmt: skip
            for group in _agreed_units(answers.get(article_id, []), who):
                first = group[0]
                span_id = None
                if first.span_id:
                    span_id = gold_spans[article_id].get(
                        (labels[first.question_id], first.span.start_char, first.span.end_char)
                    )
                    if span_id is None:
                        skipped += 1
                        continue
                if (first.question_id, unit_key(span_id=span_id) if span_id else first.unit_key) in have:
                    skipped += 1
                    continue
                gold_answer_set(
                    project=project, article=article_id, by=by, question_id=first.question_id,
                    start_char=first.start_char, end_char=first.end_char, span_id=span_id,
                    from_answers=[a.pk for a in group],
                )  # fmt: skip
                taken += 1
    return {"articles": len(finishers), "gold_answers_created": taken, "skipped": skipped}


# --- import: answers from files (the exchange formats call this) -----------------------------------------------------


@dataclass
class AnswerRow:
    """One answer read from a file, its article already found. ``question`` is the question's name. The unit:
    ``start_char``/``end_char`` for a sentence question, ``span_id`` for an attribute, neither for the article.
    ``codebook_version_id`` None: the current version. ``line``: where the file has it, for messages."""

    article_id: int
    question: str
    value: Any
    layer: str = Layer.ANNOTATOR
    annotator_id: int | None = None
    start_char: int | None = None
    end_char: int | None = None
    span_id: int | None = None
    codebook_version_id: int | None = None
    provenance: dict | None = None
    line: int = 0


@dataclass
class AnswersImported:
    created: int = 0
    duplicate: int = 0  # the unit already had this very answer (importing a file twice adds nothing)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


def answers_import(*, project: Project, rows: Iterable[AnswerRow]) -> AnswersImported:
    """Check and store answers read from a file (the native JSONL, and any format that reads codes: Label Studio
    choices, doccano categories, BABE's label_bias). The same rules as the page's (unit by scope, value by kind, an
    attribute's span in the same layer and of the question's label); an annotator-layer answer needs its annotator,
    a gold one has none. A unit that already has the same answer counts as a duplicate; one that has a different
    answer is an error (an import never overwrites an answer). Nothing is written for a row with an error; the caller
    decides whether to keep the others (the exchange import is all or nothing). Call it inside the caller's
    transaction; no permission check here: the caller checks who may import."""
    result = AnswersImported()
    rows = list(rows)
    specs = _import_specs(project)
    version_id = _latest_version_id(project)
    lengths = dict(
        Article.objects.filter(pk__in={r.article_id for r in rows}).annotate(n=Length("text")).values_list("pk", "n")
    )
    pending: dict[tuple, Answer] = {}
    for row in rows:
        try:
            answer = _import_answer(project, row, specs, lengths, version_id)
        except ApplicationError as exc:
            details = " ".join(
                str(m)
                for messages in exc.extra.values()
                for m in (messages if isinstance(messages, list) else [messages])
            )
            result.errors.append((row.line, f"answer to {row.question!r}: {exc.message} {details}".strip()))
            continue
        key = (answer.layer, answer.annotator_id, answer.question_id, answer.article_id, answer.unit_key)
        if key in pending and pending[key].value != answer.value:
            result.errors.append(
                (row.line, f"answer to {row.question!r}: the file answers this unit twice, differently")
            )
        pending.setdefault(key, answer)
    if not pending:
        return result
    existing = {
        (layer, annotator, question, article, unit): value
        for layer, annotator, question, article, unit, value in Answer.objects.filter(
            project=project, article_id__any_of=list({k[3] for k in pending})
        ).values_list("layer", "annotator_id", "question_id", "article_id", "unit_key", "value")
    }
    new = []
    for key, answer in pending.items():
        if key not in existing:
            new.append(answer)
        elif existing[key] == answer.value:
            result.duplicate += 1
        else:
            result.errors.append((0, f"the unit {answer.unit_key} of article {answer.article_id} already has another "
                                     f"answer to question {answer.question_id} ({existing[key]!r}); an import never "
                                     "overwrites an answer"))  # fmt: skip
    Answer.objects.bulk_create(new, batch_size=1000)
    result.created = len(new)
    return result


def _import_specs(project: Project) -> dict[str, QuestionSpec]:
    options: dict[int, list[str]] = defaultdict(list)
    for question_id, value in (
        QuestionOption.objects.filter(question__project=project)
        .order_by("order", "id")
        .values_list("question_id", "value")
    ):
        options[question_id].append(value)
    return {
        name: QuestionSpec(pk, name, scope, kind, label_id, tuple(options[pk]))
        for pk, name, scope, kind, label_id in Question.objects.filter(project=project).values_list(
            "pk", "name", "scope", "kind", "label_id"
        )
    }


def _import_answer(project, row: AnswerRow, specs, lengths, version_id) -> Answer:
    spec = specs.get(row.question)
    if spec is None:
        known = ", ".join(sorted(specs)) or "none"
        raise ApplicationError(f"unknown question (the project's questions: {known})")
    if row.layer not in (Layer.ANNOTATOR, Layer.GOLD):
        raise ApplicationError(f"layer {row.layer!r} cannot be imported (only annotator or gold)")
    if (row.layer == Layer.ANNOTATOR) != (row.annotator_id is not None):
        raise ApplicationError("an annotator-layer answer needs its annotator, a gold answer has none")
    unit = _unit(
        spec=spec, project=project, article_id=row.article_id, text_length=lengths.get(row.article_id, 0),
        layer=row.layer, annotator_id=row.annotator_id, start_char=row.start_char, end_char=row.end_char,
        span_id=row.span_id,
    )  # fmt: skip
    return Answer(
        project=project, article_id=row.article_id, question_id=spec.id, layer=row.layer,
        annotator_id=row.annotator_id, span_id=unit.span_id, start_char=unit.start_char, end_char=unit.end_char,
        unit_key=unit.key, value=answer_value_clean(spec=spec, value=row.value),
        codebook_version_id=row.codebook_version_id or version_id, provenance=row.provenance or {},
    )  # fmt: skip
