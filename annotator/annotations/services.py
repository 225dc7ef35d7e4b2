"""Span writes. The ONE owner of the span rules (offsets, text, label, permission, idempotency).

Offsets are Python code-point indices into Article.text; `end_char` is exclusive. Overlapping and
nested spans are allowed (framing devices nest: a loaded term inside a scare quote).
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction

from annotator.annotations.models import Layer, Span
from annotator.common.errors import ApplicationError
from annotator.corpus.models import Article
from annotator.projects.models import CodebookVersion, Label, Project, ProjectArticle
from annotator.projects.permissions import role_can
from annotator.projects.selectors import membership_role

NOTE_MAX_CHARS = 5000
SPAN_MAX_CHARS = 5000

NOT_ALLOWED = "You cannot annotate in this project."
NOT_IN_PROJECT = "This article is not part of the project."
NOT_YOURS = "You can only change your own spans."


def _check_may_annotate(*, project: Project, user) -> None:
    if not role_can(membership_role(project=project, user=user), "annotate"):
        raise ApplicationError(NOT_ALLOWED, {"project": [NOT_ALLOWED]}, status_code=403)


def _label_for(*, project: Project, label_id: int) -> Label:
    label = Label.objects.filter(pk=label_id, project=project).only("id", "name", "project_id").order_by().first()
    if label is None:
        raise ApplicationError("Unknown label.", {"label": [f"Label {label_id} is not in this project's codebook."]})
    return label


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


def _existing_for_client_id(*, client_id: uuid.UUID, project: Project, article: Article, user) -> Span | None:
    span = Span.objects.filter(client_id=client_id).first()
    if span is None:
        return None
    if span.annotator_id != user.pk or span.article_id != article.pk or span.project_id != project.pk:
        raise ApplicationError("This client_id was already used for another span.", {"client_id": ["Already used."]})
    return span


@transaction.atomic
def span_create(
    *,
    project: Project,
    article: Article,
    user,
    label_id: int,
    start_char: int,
    end_char: int,
    text: str,
    note: str = "",
    client_id: uuid.UUID | None = None,
) -> tuple[Span, bool]:
    """Create the user's span in the annotator layer; returns (span, created).

    A retry with the same `client_id` returns the span the first attempt made (created=False).
    """
    _check_may_annotate(project=project, user=user)
    if client_id is not None:
        existing = _existing_for_client_id(client_id=client_id, project=project, article=article, user=user)
        if existing is not None:
            return existing, False
    if not ProjectArticle.objects.filter(project=project, article_id=article.pk).exists():
        raise ApplicationError(NOT_IN_PROJECT, {"article": [NOT_IN_PROJECT]}, status_code=404)
    label = _label_for(project=project, label_id=label_id)
    span_offsets_validate(text=article.text, start_char=start_char, end_char=end_char, span_text=text)
    version_id = (
        CodebookVersion.objects.filter(project=project).order_by("-number").values_list("pk", flat=True).first()
    )
    span = Span(
        project=project,
        article=article,
        layer=Layer.ANNOTATOR,
        annotator=user,
        label=label,
        start_char=start_char,
        end_char=end_char,
        text=text,
        note=_note_validate(note),
        codebook_version_id=version_id,
        client_id=client_id,
    )
    # Foreign keys were checked above; skip full_clean's per-FK queries and the client_id lookup (the
    # unique constraint is the backstop for a concurrent retry, handled below).
    span.full_clean(
        exclude=["project", "article", "annotator", "label", "codebook_version"], validate_constraints=False
    )
    try:
        with transaction.atomic():
            span.save(force_insert=True)
    except IntegrityError:
        if client_id is None:
            raise
        existing = _existing_for_client_id(client_id=client_id, project=project, article=article, user=user)
        if existing is None:
            raise
        return existing, False
    return span, True


def _own_span(*, span: Span, user) -> None:
    _check_may_annotate(project=span.project, user=user)
    if span.layer != Layer.ANNOTATOR or span.annotator_id != user.pk:
        raise ApplicationError(NOT_YOURS, {"span": [NOT_YOURS]}, status_code=403)


@transaction.atomic
def span_update(*, span: Span, user, label_id: int | None = None, note: str | None = None) -> Span:
    """Relabel a span or change its note (offsets are fixed: delete and re-create to move a span)."""
    _own_span(span=span, user=user)
    fields = []
    if label_id is not None and label_id != span.label_id:
        span.label = _label_for(project=span.project, label_id=label_id)
        span.codebook_version_id = (
            CodebookVersion.objects.filter(project_id=span.project_id)
            .order_by("-number")
            .values_list("pk", flat=True)
            .first()
        )
        fields += ["label", "codebook_version"]
    if note is not None and note != span.note:
        span.note = _note_validate(note)
        fields.append("note")
    if fields:
        span.save(update_fields=[*fields, "updated_at"])
    return span


@transaction.atomic
def span_delete(*, span: Span, user) -> None:
    """Delete the user's own span."""
    _own_span(span=span, user=user)
    span.delete()
