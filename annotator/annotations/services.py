"""Span writes. The ONE owner of the span rules (offsets, text, label, permission, idempotency).

Offsets are Python code-point indices into Article.text; `end_char` is exclusive. Overlapping and
nested spans are allowed (framing devices nest: a loaded term inside a scare quote).
"""

from __future__ import annotations

import uuid

from django.db import connections, router, transaction
from django.db.models import Exists, OuterRef
from django.db.models.constants import OnConflict
from django.db.models.sql.subqueries import InsertQuery
from django.utils import timezone

from annotator.annotations.models import Layer, Span, SpanDeletion
from annotator.annotations.selectors import suggestion_exists
from annotator.common.errors import ApplicationError
from annotator.corpus.models import Article
from annotator.projects.blinding import matches_with_mask
from annotator.projects.models import Assignment, CodebookVersion, Label, Project, ProjectArticle
from annotator.projects.permissions import role_can
from annotator.projects.selectors import label_get_for_project, membership_role
from annotator.projects.services import LabelUse, human_layers_changed
from annotator.projects.visibility import viewer_for

NOTE_MAX_CHARS = 5000
SPAN_MAX_CHARS = 5000

NOT_ALLOWED = "You cannot annotate in this project."
NOT_IN_PROJECT = "This article is not part of the project."
NOT_YOURS = "You can only change your own spans."
DUPLICATE_SPAN = "You already marked “{text}” with {label} here (span #{id}); the same span is not stored twice."
NOT_IN_QUEUE = "This article is not in your queue."
CALIBRATION_FIRST = "Finish your calibration articles first: the rest of your queue opens when they are done."


def _check_may_annotate(*, project: Project, user) -> None:
    if not role_can(membership_role(project=project, user=user), "annotate"):
        raise ApplicationError(NOT_ALLOWED, {"project": [NOT_ALLOWED]}, status_code=403)


def span_offsets_validate(*, text: str, start_char: int, end_char: int, span_text: str) -> None:
    """Check code-point offsets against the article text; raise ApplicationError with field errors."""
    n = len(text)
    errors: dict[str, list[str]] = {}
    if start_char < 0:
        errors["start_char"] = ["Must be 0 or more."]
    if end_char > n:
        errors["end_char"] = [f"Must be at most the text length ({n} code points)."]
    if start_char >= end_char:
        errors.setdefault("end_char", []).append(
            "Must be greater than start_char (a span covers at least 1 character)."
        )
    elif end_char - start_char > SPAN_MAX_CHARS:
        errors["end_char"] = [f"A span covers at most {SPAN_MAX_CHARS} characters."]
    if errors:
        raise ApplicationError("The span offsets fall outside the article text.", errors)
    actual = text[start_char:end_char]
    if actual != span_text:
        raise ApplicationError(
            "The span text does not match the article at these offsets (offsets are code points).",
            {"text": [f"Expected {actual[:200]!r} at {start_char}-{end_char}, got {span_text[:200]!r}."]},
        )


def _note_validate(note: str) -> str:
    if len(note) > NOTE_MAX_CHARS:
        raise ApplicationError("The note is too long.", {"note": [f"At most {NOTE_MAX_CHARS} characters."]})
    return note


def _existing_for_client_id(*, client_id: uuid.UUID, project: Project, article_id: int, user) -> Span | None:
    span = Span.objects.select_related("label").filter(client_id=client_id).first()
    if span is None:
        return None
    if span.annotator_id != user.pk or span.article_id != article_id or span.project_id != project.pk:
        raise ApplicationError("This client_id was already used for another span.", {"client_id": ["Already used."]})
    return span


def queue_facts_sql(article: str) -> str:
    """The three columns of a user's queue that :func:`_queue_check` decides on, for the save context queries (span
    and answer): has assignments in the project, this article's assignment's calibration flag (NULL without one), a
    calibration assignment not done yet. ``article`` is the SQL of the article id. Parameters, in order: project,
    user; project, user (and the article's, if ``article`` takes any); project, user, True, ``Assignment.Status.DONE``."""
    mine = f"FROM {Assignment._meta.db_table} q WHERE q.project_id = %s AND q.annotator_id = %s"
    return (
        f"EXISTS (SELECT 1 {mine}) AS has_assignments,"
        f" (SELECT q.is_calibration {mine} AND q.article_id = {article}) AS assigned_calibration,"
        f" EXISTS (SELECT 1 {mine} AND q.is_calibration = %s AND q.status <> %s) AS gate_closed"
    )


def _span_context_sql() -> str:
    article, link = Article._meta, ProjectArticle._meta
    label, version = Label._meta, CodebookVersion._meta
    return (
        f"SELECT SUBSTR(a.{article.get_field('text').column}, %s, %s),"
        f" (SELECT l.name FROM {label.db_table} l WHERE l.id = %s AND l.project_id = %s),"
        f" (SELECT v.id FROM {version.db_table} v WHERE v.project_id = %s ORDER BY v.number DESC LIMIT 1),"
        f" {queue_facts_sql('pa.article_id')}"
        f" FROM {link.db_table} pa INNER JOIN {article.db_table} a ON a.id = pa.article_id"
        " WHERE pa.project_id = %s AND pa.article_id = %s"
    )


def _queue_check(*, has_assignments: bool, assigned_calibration: bool | None, gate_closed: bool) -> None:
    """The article must be in the annotator's queue (``projects.selectors.assignment_queue``, the one definition):
    with assignment rows, one of them, and while the calibration gate is closed, a calibration one; without any,
    every article of the project (the fallback queue)."""
    if not has_assignments:
        return
    if assigned_calibration is None:
        raise ApplicationError(NOT_IN_QUEUE, {"article": [NOT_IN_QUEUE]}, status_code=403)
    if gate_closed and not assigned_calibration:
        raise ApplicationError(CALIBRATION_FIRST, {"article": [CALIBRATION_FIRST]}, status_code=403)


def _span_context(
    *, project: Project, user, article_id: int, label_id: int, start_char: int, end_char: int
) -> tuple | None:
    """ONE query: is the article in the project, the covered slice of its text (not the whole text), the label's
    name if the label is in the project's codebook, the latest codebook version, and the user's queue: has
    assignments, this article's assignment (its calibration flag, NULL without one), calibration gate still
    closed. None if the article is not in the project.

    The slice is taken by the database (`SUBSTR`, 1-based, counting characters = code points on PostgreSQL and
    SQLite), so a save never loads a 20,000-word article. Written as SQL (portable to both backends) because
    this runs on every span save and building the equivalent ORM query cost more CPU than running it.
    """
    queue = [project.pk, user.pk]
    done = Assignment.Status.DONE
    params = [
        start_char + 1,
        end_char - start_char,
        label_id,
        project.pk,
        project.pk,
        *queue,
        *queue,
        *queue,
        True,
        done,
    ]
    params += [project.pk, article_id]
    with connections[router.db_for_read(ProjectArticle)].cursor() as cursor:
        cursor.execute(_span_context_sql(), params)
        return cursor.fetchone()


def _insert_ignoring_conflicts(span: Span) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new id, or None when the client_id already exists or the
    annotator already has this span (the two partial unique indexes on spans).

    One statement and no savepoint: a retry (same client_id) or a concurrent duplicate cannot abort the
    surrounding transaction.
    """
    fields = [f for f in Span._meta.concrete_fields if f is not Span._meta.pk]
    query = InsertQuery(Span, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, [span])
    compiler = query.get_compiler(using=router.db_for_write(Span))
    compiler.returning_fields = [Span._meta.pk]
    with compiler.connection.cursor() as cursor:
        for sql, params in compiler.as_sql():
            cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def _duplicate_error(twin: Span, *, user) -> ApplicationError:
    """409 naming the annotator's existing identical span; `errors.duplicate_of` is its id, for the page. Its text is
    quoted as the annotator sees it (masked for an outlet-blind annotator: the visibility rule)."""
    viewer = viewer_for(project=twin.project, user=user)
    shown = twin.text
    if not viewer.sees_outlets:
        article = Article.objects.select_related("outlet").get(pk=twin.article_id)
        shown = viewer.masker(article).span_text(twin.start_char, twin.end_char)
    message = DUPLICATE_SPAN.format(text=shown[:60], label=twin.label.name, id=twin.pk)
    return ApplicationError(message, {"duplicate_of": [twin.pk]}, status_code=409)


def _annotator_twin(*, span: Span, label_id: int) -> Span | None:
    """The user's other span on the same article with the same offsets and this label (the unique constraint's key)."""
    return (
        Span.objects.select_related("label", "project")
        .filter(
            layer=Layer.ANNOTATOR,
            annotator_id=span.annotator_id,
            article_id=span.article_id,
            label_id=label_id,
            start_char=span.start_char,
            end_char=span.end_char,
        )  # fmt: skip
        .exclude(pk=span.pk)
        .first()
    )


def span_deletion_record(*, spans: list[Span], by) -> None:
    """Remember who deleted these spans (a page still showing one can then say so); call before deleting them."""
    SpanDeletion.objects.bulk_create(
        [
            SpanDeletion(
                span_id=s.pk,
                project_id=s.project_id,
                article_id=s.article_id,
                layer=s.layer,
                annotator_id=s.annotator_id,
                deleted_by=by,
            )
            for s in spans
        ],  # fmt: skip
        ignore_conflicts=True,
    )


def spans_label_merge(*, label: Label, merge_into: Label, by) -> tuple[int, int]:
    """Give every span of ``label`` the label ``merge_into`` (a label merge); returns (moved, dropped).

    An annotator's span that they also marked with ``merge_into`` (same article and offsets) would be a duplicate
    after the merge, which the database refuses: it is deleted (its twin stays), and its deletion recorded."""
    twin = Span.objects.filter(
        layer=Layer.ANNOTATOR, label=merge_into, annotator_id=OuterRef("annotator_id"), article_id=OuterRef("article_id"),
        start_char=OuterRef("start_char"), end_char=OuterRef("end_char"),
    )  # fmt: skip
    doomed = list(Span.objects.filter(label=label, layer=Layer.ANNOTATOR).filter(Exists(twin)))
    if doomed:
        span_deletion_record(spans=doomed, by=by)
        Span.objects.filter(pk__in=[s.pk for s in doomed]).delete()
    moved = Span.objects.filter(label=label).update(label=merge_into, updated_by=by, updated_at=timezone.now())
    return moved, len(doomed)


#: The spans' use of labels, registered in projects.services.LABEL_USES (label deletion and merges).
SPAN_LABEL_USE = LabelUse(count=lambda label: Span.objects.filter(label=label).count(), merge=spans_label_merge)


def _offsets_precheck(*, start_char: int, end_char: int) -> None:
    """What can be checked without the text (the rest is checked against the covered slice)."""
    errors: dict[str, list[str]] = {}
    if start_char < 0:
        errors["start_char"] = ["Must be 0 or more."]
    if start_char >= end_char:
        errors["end_char"] = ["Must be greater than start_char (a span covers at least 1 character)."]
    elif end_char - start_char > SPAN_MAX_CHARS:
        errors["end_char"] = [f"A span covers at most {SPAN_MAX_CHARS} characters."]
    if errors:
        raise ApplicationError("The span offsets fall outside the article text.", errors)


def _suggestion_check(*, project: Project, article_id: int, suggestion_id: int) -> None:
    if not suggestion_exists(project=project, article_id=article_id, suggestion_id=suggestion_id):
        raise ApplicationError(
            "Unknown suggestion.", {"accepted_suggestion": ["Not a model suggestion on this article."]}
        )


def span_create(
    *,
    project: Project,
    article: Article | int,
    user,
    label_id: int,
    start_char: int,
    end_char: int,
    text: str,
    note: str = "",
    client_id: uuid.UUID | None = None,
    accepted_suggestion_id: int | None = None,
) -> tuple[Span, bool]:
    """Create the user's span in the annotator layer; returns (span, created).

    `accepted_suggestion_id`: the model suggestion the annotator accepted to make this span (recorded in
    `provenance`); it must be a suggestion on the same article of the project. The suggestion itself is not
    touched: it stays in the suggestion layer and never becomes gold.

    Rules, all checked here: the user may annotate in the project; the article is in the project and in the user's
    queue (their assignments, and only calibration articles while the calibration gate is closed); the label is
    in the project's codebook; the offsets are inside the text and `text` equals the article's text there; the
    note is not too long. A retry with the same `client_id` returns the span the first attempt made
    (created=False); a client_id used for someone else's span is refused. A span the user already has (same
    article, label and offsets) is refused with 409 (`DUPLICATE_SPAN`, `errors.duplicate_of` = its id): the
    database's unique constraint decides, so two tabs saving the same span at once store it once.

    Cost (the hot path of the annotator page): the role comes from the request's cached membership (see
    `project_get_for_user`), then one SELECT for article-in-project + covered slice + label + codebook version,
    and one INSERT ... ON CONFLICT DO NOTHING RETURNING id. Not wrapped in `transaction.atomic` on purpose: the
    only write is that single statement (atomic by itself), so a transaction or savepoint would add round trips
    and protect nothing (READ COMMITTED would not stop a concurrent codebook edit either).
    """
    article_id = article if isinstance(article, int) else article.pk
    _check_may_annotate(project=project, user=user)
    _offsets_precheck(start_char=start_char, end_char=end_char)
    note = _note_validate(note)
    row = _span_context(
        project=project, user=user, article_id=article_id, label_id=label_id, start_char=start_char, end_char=end_char
    )
    if row is None:
        raise ApplicationError(NOT_IN_PROJECT, {"article": [NOT_IN_PROJECT]}, status_code=404)
    covered, label_name, version_id, has_assignments, assigned_calibration, gate_closed = row
    _queue_check(
        has_assignments=bool(has_assignments),
        assigned_calibration=None if assigned_calibration is None else bool(assigned_calibration),
        gate_closed=bool(gate_closed),
    )
    if covered != text and matches_with_mask(shown=text, actual=covered):
        if not viewer_for(project=project, user=user).sees_outlets:
            text = covered  # a blinded annotator saw MASK where the outlet is named; store the real text
    if covered != text or len(covered) != end_char - start_char:  # a slice past the end comes back shorter
        # Rare path: the full text gives the precise message (end past the text, or a different text there), as
        # the annotator was shown it: an outlet-blind annotator's message never quotes the characters under the mask.
        article_row = Article.objects.select_related("outlet").get(pk=article_id)
        shown = viewer_for(project=project, user=user).masker(article_row).text
        span_offsets_validate(text=shown, start_char=start_char, end_char=end_char, span_text=text)
        raise ApplicationError("The span text does not match the article at these offsets.", {"text": ["Mismatch."]})
    if label_name is None:  # not in the codebook: the selector raises its error
        label_get_for_project(project=project, label_id=label_id)
    provenance = {}
    if accepted_suggestion_id is not None:
        _suggestion_check(project=project, article_id=article_id, suggestion_id=accepted_suggestion_id)
        provenance = {"accepted_suggestion": accepted_suggestion_id}
    span = Span(
        project=project,
        article_id=article_id,
        layer=Layer.ANNOTATOR,
        annotator=user,
        label=Label(pk=label_id, project_id=project.pk, name=label_name),
        start_char=start_char,
        end_char=end_char,
        text=text,
        note=note,
        codebook_version_id=version_id,
        client_id=client_id,
        provenance=provenance,
        updated_by=user,
    )
    new_id = _insert_ignoring_conflicts(span)
    if new_id is not None:
        span.pk = new_id
        span._state.adding = False
        span._state.db = router.db_for_write(Span)
        human_layers_changed(project=project)
        return span, True
    if client_id is not None:
        existing = _existing_for_client_id(client_id=client_id, project=project, article_id=article_id, user=user)
        if existing is not None:
            return existing, False
    twin = _annotator_twin(span=span, label_id=label_id)
    if twin is None:  # pragma: no cover - ON CONFLICT fires only for a client_id or an identical span
        raise ApplicationError("The span could not be saved; try again.")
    raise _duplicate_error(twin, user=user)


def _own_span(*, span: Span, user) -> None:
    _check_may_annotate(project=span.project, user=user)
    if span.layer != Layer.ANNOTATOR or span.annotator_id != user.pk:
        raise ApplicationError(NOT_YOURS, {"span": [NOT_YOURS]}, status_code=403)


@transaction.atomic
def span_update(*, span: Span, user, label_id: int | None = None, note: str | None = None) -> Span:
    """Relabel a span or change its note (offsets are fixed: delete and re-create to move a span).

    A relabel onto a label the user already has at these offsets is refused (409, as in `span_create`)."""
    _own_span(span=span, user=user)
    fields = []
    if label_id is not None and label_id != span.label_id:
        span.label = label_get_for_project(project=span.project, label_id=label_id)
        twin = _annotator_twin(span=span, label_id=label_id)
        if twin is not None:
            raise _duplicate_error(twin, user=user)
        span.codebook_version_id = (
            CodebookVersion.objects.filter(project_id=span.project_id)
            .order_by("-number")
            .values_list("pk", flat=True)
            .first()
        )
        fields += ["label", "codebook_version"]
        # The old label's attributes do not apply to the new label: their answers go (the page's undo sets them again).
        span.answers.exclude(question__label_id=label_id).delete()
    if note is not None and note != span.note:
        span.note = _note_validate(note)
        fields.append("note")
    if fields:
        span.updated_by = user
        span.save(update_fields=[*fields, "updated_by", "updated_at"])
        human_layers_changed(project=span.project_id)
    return span


@transaction.atomic
def span_delete(*, span: Span, user) -> None:
    """Delete the user's own span (recorded as deleted by them)."""
    _own_span(span=span, user=user)
    span_deletion_record(spans=[span], by=user)
    span.delete()
    human_layers_changed(project=span.project_id)
