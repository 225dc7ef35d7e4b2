"""Curation: a curator builds an article's gold layer from the annotators' spans, then marks it adjudicated.

Gold spans carry their provenance: ``{"from_spans": [annotator span ids], "annotators": [user ids],
"by": curator id, "action": "accept" | "bulk_accept" | "create" | "edit"}``; "create" is a span drawn by the
curator (no source), "edit" one whose label, boundaries or note the curator changed (``"edited_by"``). A deleted
gold span restored with its sources (the curator page's undo) is an "accept" again, with ``"restored_by"``. Two
gold spans never share offsets and label.

Rejection is recorded, not silent: the rejected annotator span gets ``provenance["curation"] =
{"status": "rejected", "by": curator id}`` (annotators never see provenance), it is removed from any gold
span's sources, and a gold span left with no source that the curator did not draw or edit is deleted. Bulk
accept never accepts a group that contains a rejected span. Accepting sets ``{"status": "accepted",
"gold_span": id}`` on the source span.

Accepting a span also takes its attributes into gold when every accepted source span answered them alike. The gold
layer of codebook answers (set, taken, bulk-accepted) is curated through annotator.annotations.answers.

Only curators and owners may curate (ApplicationError 403 otherwise).
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from dataclasses import asdict

from django.db import transaction
from django.utils import timezone

from annotator.annotations.models import Adjudication, Layer, Span
from annotator.annotations.services import span_deletion_record, span_offsets_validate
from annotator.common.errors import ApplicationError
from annotator.corpus.models import Article
from annotator.projects.models import Assignment, CodebookVersion, Label, Project, ProjectArticle, Role
from annotator.projects.roles import role_at_least
from annotator.projects.selectors import label_get_for_project, membership_role
from annotator.projects.services import human_layers_changed

NOT_CURATOR = "Only curators and owners can curate the gold layer."
NOT_ANNOTATOR_SPAN = "Only annotators' spans can be accepted or rejected."
GOLD_CHANGED = "This gold span was changed by {who} since your page loaded it; the page now shows it as it is."
ACCEPTED, REJECTED = "accepted", "rejected"


def _changes_human_layers(service):
    """The gold layer and its coverage change: announce it (the human score sources are recounted after commit)."""

    @functools.wraps(service)
    def wrapper(*args, project: Project, **kwargs):
        result = service(*args, project=project, **kwargs)
        human_layers_changed(project=project)
        return result

    return wrapper


def curator_check(*, project: Project, user) -> str:
    """The user's role if they may curate; ApplicationError 403 otherwise."""
    role = membership_role(project=project, user=user)
    if not role_at_least(role, Role.CURATOR):
        raise ApplicationError(NOT_CURATOR, {"role": [f"You are {role or 'not a member'}."]}, status_code=403)
    return role


def _latest_version_id(project: Project) -> int | None:
    return CodebookVersion.objects.filter(project=project).order_by("-number").values_list("pk", flat=True).first()


def _in_project(project: Project, article: Article) -> None:
    if not ProjectArticle.objects.filter(project=project, article_id=article.pk).exists():
        raise ApplicationError("This article is not part of the project.", status_code=404)


def _no_duplicate_gold(*, project: Project, article_id: int, start: int, end: int, label: Label, pk=None) -> None:
    """Refuse a second gold span with the same offsets and label (accepting would merge into it anyway)."""
    twin = (
        Span.objects.filter(
            project=project, article_id=article_id, layer=Layer.GOLD, start_char=start, end_char=end, label=label
        )
        .exclude(pk=pk)
        .values_list("pk", flat=True)
        .first()
    )
    if twin is not None:
        raise ApplicationError(
            "There is already a gold span with this label at these offsets.",
            {"end_char": [f"Gold span #{twin} is {label.name} at {start}-{end}."]},
        )


def _add_source(gold: Span, sources: list[Span]) -> None:
    prov = dict(gold.provenance or {})
    from_spans = list(prov.get("from_spans", []))
    annotators = list(prov.get("annotators", []))
    for span in sources:
        if span.pk not in from_spans:
            from_spans.append(span.pk)
        if span.annotator_id not in annotators:
            annotators.append(span.annotator_id)
    prov["from_spans"], prov["annotators"] = sorted(from_spans), sorted(annotators)
    gold.provenance = prov


def _mark(spans: list[Span], status: str, *, by, gold: Span | None = None) -> None:
    for span in spans:
        span.provenance = {
            **(span.provenance or {}),
            "curation": {
                "status": status,
                "by": by.pk,
                "at": timezone.now().isoformat(),
                "gold_span": gold and gold.pk,
            },
        }
        span.save(update_fields=["provenance"])


def _accept_group(*, project: Project, sources: list[Span], by, action: str, label: Label | None = None) -> tuple:
    """Copy spans that share (article, start, end, label) into one gold span; returns (gold, created)."""
    first = sources[0]
    label = label or first.label
    gold = (
        Span.objects.select_for_update()
        .filter(
            project=project,
            article_id=first.article_id,
            layer=Layer.GOLD,
            start_char=first.start_char,
            end_char=first.end_char,
            label=label,
        )
        .first()
    )
    created = gold is None
    if created:
        gold = Span(
            project=project,
            article_id=first.article_id,
            layer=Layer.GOLD,
            annotator=None,
            label=label,
            start_char=first.start_char,
            end_char=first.end_char,
            text=first.text,
            codebook_version_id=_latest_version_id(project),
            provenance={"from_spans": [], "annotators": [], "by": by.pk, "action": action},
        )
    _add_source(gold, sources)
    gold.updated_by = by
    gold.full_clean(
        exclude=["project", "article", "annotator", "label", "codebook_version"], validate_constraints=False
    )
    gold.save()
    _mark(sources, ACCEPTED, by=by, gold=gold)
    _attributes_to_gold(project=project, gold=gold, sources=sources, by=by)
    return gold, created


def _attributes_to_gold(*, project: Project, gold: Span, sources: list[Span], by) -> None:
    """The accepted spans' attributes go with them: an attribute every source span answered alike becomes the gold
    span's (taken, with provenance), unless the gold span has its own answer already."""
    from annotator.annotations.answers import gold_answer_set
    from annotator.annotations.models import Answer

    answers = Answer.objects.filter(span__in=sources, question__label_id=gold.label_id).order_by("pk")
    groups: dict[int, list[Answer]] = defaultdict(list)
    for answer in answers:
        groups[answer.question_id].append(answer)
    answered = set(Answer.objects.filter(span=gold).values_list("question_id", flat=True))
    for question_id, group in groups.items():
        alike = len({json.dumps(a.value, sort_keys=True) for a in group}) == 1
        if question_id in answered or len(group) != len(sources) or not alike:
            continue
        gold_answer_set(
            project=project, article=gold.article_id, by=by, question_id=question_id, span_id=gold.pk,
            from_answers=[a.pk for a in group],
        )  # fmt: skip


@transaction.atomic
@_changes_human_layers
def gold_span_accept(*, project: Project, span: Span, by, label_id: int | None = None) -> Span:
    """Accept an annotator's span into the gold layer (optionally under another label); idempotent."""
    curator_check(project=project, user=by)
    if span.project_id != project.pk:
        raise ApplicationError("No such span in this project.", status_code=404)
    if span.layer != Layer.ANNOTATOR:
        raise ApplicationError(NOT_ANNOTATOR_SPAN, {"span": [f"This span is in the {span.layer} layer."]})
    label = label_get_for_project(project=project, label_id=label_id)
    gold, _ = _accept_group(project=project, sources=[span], by=by, action="accept", label=label)
    return gold


@transaction.atomic
@_changes_human_layers
def annotator_span_reject(*, project: Project, span: Span, by) -> Span:
    """Record that the curator rejected an annotator span; withdraw it from the gold spans it fed."""
    curator_check(project=project, user=by)
    if span.project_id != project.pk:
        raise ApplicationError("No such span in this project.", status_code=404)
    if span.layer != Layer.ANNOTATOR:
        raise ApplicationError(NOT_ANNOTATOR_SPAN, {"span": [f"This span is in the {span.layer} layer."]})
    for gold in Span.objects.select_for_update().filter(project=project, article_id=span.article_id, layer=Layer.GOLD):
        prov = dict(gold.provenance or {})
        if span.pk not in prov.get("from_spans", []):
            continue
        prov["from_spans"] = [pk for pk in prov["from_spans"] if pk != span.pk]
        remaining = Span.objects.filter(pk__in=prov["from_spans"]).values_list("annotator_id", flat=True)
        prov["annotators"] = sorted(set(remaining))
        if not prov["from_spans"] and prov.get("action") in ("accept", "bulk_accept"):
            span_deletion_record(spans=[gold], by=by)
            gold.delete()
        else:
            gold.provenance = prov
            gold.save(update_fields=["provenance", "updated_at"])
    _mark([span], REJECTED, by=by)
    return span


@transaction.atomic
@_changes_human_layers
def gold_span_create(
    *,
    project: Project,
    article: Article,
    by,
    label_id: int,
    start_char: int,
    end_char: int,
    text: str,
    note: str = "",
    from_spans: list[int] | None = None,
) -> Span:
    """A gold span drawn by the curator (no annotator source), or, with ``from_spans``, a deleted gold span
    restored (the curator page's undo): its annotator sources are linked and marked accepted again, as when it was
    accepted from them."""
    curator_check(project=project, user=by)
    _in_project(project, article)
    label = label_get_for_project(project=project, label_id=label_id)
    span_offsets_validate(text=article.text, start_char=start_char, end_char=end_char, span_text=text)
    _no_duplicate_gold(project=project, article_id=article.pk, start=start_char, end=end_char, label=label)
    sources = _restored_sources(project=project, article=article, ids=from_spans or [])
    gold = Span(
        project=project,
        article=article,
        layer=Layer.GOLD,
        label=label,
        start_char=start_char,
        end_char=end_char,
        text=text,
        note=note,
        codebook_version_id=_latest_version_id(project),
        provenance={"from_spans": [], "annotators": [], "by": by.pk, "action": "accept" if sources else "create"},
        updated_by=by,
    )
    if sources:
        gold.provenance["restored_by"] = by.pk
        _add_source(gold, sources)
    gold.full_clean(
        exclude=["project", "article", "annotator", "label", "codebook_version"], validate_constraints=False
    )
    gold.save()
    _mark(sources, ACCEPTED, by=by, gold=gold)
    return gold


def _restored_sources(*, project: Project, article: Article, ids: list[int]) -> list[Span]:
    """The annotator spans a restored gold span came from, locked; every id must be one of this article's."""
    if not ids:
        return []
    sources = list(
        Span.objects.select_for_update()
        .filter(pk__in=ids, project=project, article=article, layer=Layer.ANNOTATOR)
        .order_by("pk")
    )
    missing = sorted(set(ids) - {span.pk for span in sources})
    if missing:
        raise ApplicationError(
            "Some source spans are not annotator spans of this article.",
            {"from_spans": [f"Unknown or deleted span id(s): {', '.join(map(str, missing[:20]))}."]},
        )
    return sources


@transaction.atomic
@_changes_human_layers
def gold_span_update(
    *,
    project: Project,
    span: Span,
    by,
    label_id: int | None = None,
    start_char: int | None = None,
    end_char: int | None = None,
    note: str | None = None,
    seen_updated_at=None,
) -> Span:
    """Edit a gold span: relabel, move its boundaries (text is re-read from the article), change its note.

    `seen_updated_at`: the span's `updated_at` as the curator's page shows it; if another curator changed it since,
    the edit is refused (409, naming them) instead of overwriting what the page never showed.
    """
    curator_check(project=project, user=by)
    if span.project_id != project.pk or span.layer != Layer.GOLD:
        raise ApplicationError("No such gold span in this project.", status_code=404)
    span = _gold_locked_unchanged(span=span, seen_updated_at=seen_updated_at)
    if label_id is not None:
        span.label = label_get_for_project(project=project, label_id=label_id)
    if start_char is not None or end_char is not None:
        start = span.start_char if start_char is None else start_char
        end = span.end_char if end_char is None else end_char
        text = span.article.text
        if not (0 <= start < end <= len(text)):
            raise ApplicationError(
                "The span offsets fall outside the article text.",
                {"end_char": [f"Need 0 <= start < end <= {len(text)}; got {start}-{end}."]},
            )
        span_offsets_validate(text=text, start_char=start, end_char=end, span_text=text[start:end])
        span.start_char, span.end_char, span.text = start, end, text[start:end]
    _no_duplicate_gold(
        project=project, article_id=span.article_id, start=span.start_char, end=span.end_char, label=span.label,
        pk=span.pk,
    )  # fmt: skip
    if note is not None:
        span.note = note
    span.provenance = {**(span.provenance or {}), "action": "edit", "edited_by": by.pk}
    span.codebook_version_id = _latest_version_id(project)
    span.updated_by = by
    span.full_clean(
        exclude=["project", "article", "annotator", "label", "codebook_version"], validate_constraints=False
    )
    span.save()
    return span


def _gold_locked_unchanged(*, span: Span, seen_updated_at) -> Span:
    """The gold span's row, locked and re-read; 404 if it is gone, 409 if it changed after `seen_updated_at`."""
    locked = (
        Span.objects.select_for_update(of=("self",)).select_related("label", "article", "updated_by").filter(pk=span.pk)
    )
    span = locked.first()
    if span is None:
        raise ApplicationError("This gold span was already deleted.", status_code=404)
    if seen_updated_at is not None and span.updated_at != seen_updated_at:
        who = span.updated_by.username if span.updated_by else "someone"
        raise ApplicationError(GOLD_CHANGED.format(who=who), {"span": [span.pk]}, status_code=409)
    return span


@transaction.atomic
@_changes_human_layers
def gold_span_delete(*, project: Project, span: Span, by, seen_updated_at=None) -> None:
    """Remove a gold span (its sources go back to undecided); `seen_updated_at` as in `gold_span_update`."""
    curator_check(project=project, user=by)
    if span.project_id != project.pk or span.layer != Layer.GOLD:
        raise ApplicationError("No such gold span in this project.", status_code=404)
    # Read the sources from the locked row: an accept since `span` was loaded may have added one.
    span = _gold_locked_unchanged(span=span, seen_updated_at=seen_updated_at)
    source_ids = (span.provenance or {}).get("from_spans", [])
    for source in Span.objects.filter(pk__in=source_ids, layer=Layer.ANNOTATOR):
        prov = dict(source.provenance or {})
        prov.pop("curation", None)
        source.provenance = prov
        source.save(update_fields=["provenance"])
    span_deletion_record(spans=[span], by=by)
    span.delete()


def finished_annotators(*, project: Project, article_ids: list[int] | None = None) -> dict[int, set[int]]:
    """article id -> annotators whose assignment on it is done."""
    rows = Assignment.objects.filter(project=project, status=Assignment.Status.DONE)
    if article_ids is not None:
        rows = rows.filter(article_id__any_of=article_ids)
    out: dict[int, set[int]] = defaultdict(set)
    for article_id, annotator_id in rows.values_list("article_id", "annotator_id"):
        out[article_id].add(annotator_id)
    return dict(out)


def bulk_article_ids(*, project: Project, article: Article | int | None = None) -> list[int]:
    """What a bulk accept works on: the one article, or every article of the project not adjudicated yet."""
    if article is not None:
        return [article if isinstance(article, int) else article.pk]
    done = Adjudication.objects.filter(project=project, status=Adjudication.Status.DONE).values("article_id")
    return list(
        ProjectArticle.objects.filter(project=project).exclude(article_id__in=done).values_list("article_id", flat=True)
    )


def agreed_groups(spans: list[Span], finishers: set[int], *, min_annotators: int | None = None) -> list[list[Span]]:
    """Groups of finished annotators' spans with the same (start, end, label) marked by enough annotators.

    Enough = all who finished the article (default; needs at least 2) or at least `min_annotators`. A group
    containing a rejected span is never returned.
    """
    need = max(2, len(finishers)) if min_annotators is None else min_annotators
    groups: dict[tuple, list[Span]] = defaultdict(list)
    for span in spans:
        if span.annotator_id in finishers:
            groups[(span.start_char, span.end_char, span.label_id)].append(span)
    out = []
    for key in sorted(groups):
        members = groups[key]
        if any((s.provenance or {}).get("curation", {}).get("status") == REJECTED for s in members):
            continue
        if len({s.annotator_id for s in members}) >= need:
            out.append(members)
    return out


@transaction.atomic
@_changes_human_layers
def gold_bulk_accept(
    *, project: Project, by, article: Article | None = None, min_annotators: int | None = None
) -> dict:
    """Accept every exact agreement (same start, end, label) of the annotators who finished an article.

    For one article, or for every article of the project that is not adjudicated yet. Returns counts.
    """
    curator_check(project=project, user=by)
    if min_annotators is not None and min_annotators < 2:
        raise ApplicationError("min_annotators must be at least 2.", {"min_annotators": [str(min_annotators)]})
    if article is not None:
        _in_project(project, article)
    finishers = finished_annotators(project=project, article_ids=bulk_article_ids(project=project, article=article))
    spans_by_article: dict[int, list[Span]] = defaultdict(list)
    candidates = Span.objects.filter(
        project=project, layer=Layer.ANNOTATOR, article_id__any_of=finishers
    ).select_related("label")
    for span in candidates.order_by("article_id", "start_char", "end_char", "id"):
        spans_by_article[span.article_id].append(span)
    created = already = articles_touched = 0
    for article_id in sorted(finishers):
        groups = agreed_groups(
            spans_by_article.get(article_id, []), finishers[article_id], min_annotators=min_annotators
        )
        if groups:
            articles_touched += 1
        for group in groups:
            _, was_created = _accept_group(project=project, sources=group, by=by, action="bulk_accept")
            created += was_created
            already += not was_created
    return {"articles": articles_touched, "gold_created": created, "already_gold": already}


@transaction.atomic
@_changes_human_layers
def adjudication_set(*, project: Project, article: Article, curator, status: str) -> Adjudication:
    """Mark an article's gold layer done (or back in progress)."""
    curator_check(project=project, user=curator)
    if status not in Adjudication.Status.values:
        raise ApplicationError(
            f"Unknown status {status!r}.", {"status": [f"Choose one of {', '.join(Adjudication.Status.values)}."]}
        )
    _in_project(project, article)
    adjudication, _ = Adjudication.objects.select_for_update().get_or_create(
        project=project, article=article, defaults={"curator": curator, "status": status}
    )
    if adjudication.status != status or adjudication.curator_id != curator.pk:
        adjudication.status, adjudication.curator = status, curator
        adjudication.save(update_fields=["status", "curator", "updated_at"])
    return adjudication


# --- reads for the curator's article view ----------------------------------------------------------------


def _span_dict(span: Span) -> dict:
    curation = (span.provenance or {}).get("curation") or {}
    return {
        "id": span.pk,
        "label_id": span.label_id,
        "label": span.label.name,
        "colour": span.label.colour,
        "start_char": span.start_char,
        "end_char": span.end_char,
        "text": span.text,
        "note": span.note,
        "curation": curation.get("status"),
        "provenance": span.provenance if span.layer == Layer.GOLD else None,
        "updated_at": span.updated_at.isoformat(),
        "updated_by": span.updated_by.username if span.updated_by_id else None,
    }


def gold_span_rows(*, project: Project, article: Article) -> list[dict]:
    """The article's gold spans as the curator page draws them. Curators and owners only: callers check the role."""
    spans = Span.objects.filter(project=project, article=article, layer=Layer.GOLD)
    return [_span_dict(s) for s in spans.select_related("label", "updated_by").order_by("start_char", "end_char", "id")]


def curation_article_view(*, project: Project, article: Article) -> dict:
    """Everything the curator sees on one article: each annotator's spans, gold, disagreements, agreed spans.

    Curators and owners only: callers check the role first (this reveals every annotator's spans).
    """
    from ml.agreement import compare_spans

    assignments = list(
        Assignment.objects.filter(project=project, article=article)
        .select_related("annotator")
        .order_by("annotator__username")
    )
    spans = list(
        Span.objects.filter(project=project, article=article, layer__in=[Layer.ANNOTATOR, Layer.GOLD])
        .select_related("label", "annotator", "updated_by")
        .order_by("start_char", "end_char", "id")
    )
    by_annotator: dict[int, list[Span]] = defaultdict(list)
    for span in spans:
        if span.layer == Layer.ANNOTATOR:
            by_annotator[span.annotator_id].append(span)
    rows = [
        {"annotator_id": a.annotator_id, "username": a.annotator.username, "status": a.status,
         "spans": [_span_dict(s) for s in by_annotator.pop(a.annotator_id, [])]}
        for a in assignments
    ]  # fmt: skip
    for annotator_id, extra in sorted(by_annotator.items()):  # spans without an assignment (fallback queue)
        rows.append(
            {"annotator_id": annotator_id, "username": extra[0].annotator.username, "status": "todo",
             "spans": [_span_dict(s) for s in extra]}
        )  # fmt: skip
    finishers = {r["annotator_id"] for r in rows if r["status"] == Assignment.Status.DONE}
    finished_spans = [s for s in spans if s.layer == Layer.ANNOTATOR and s.annotator_id in finishers]
    agreed = agreed_groups(finished_spans, finishers) if len(finishers) >= 2 else []
    agreed_ids = {s.pk for group in agreed for s in group}
    names = {r["annotator_id"]: r["username"] for r in rows}
    finished = sorted(finishers)
    disagreements = []
    for i, a in enumerate(finished):
        for b in finished[i + 1 :]:
            d = compare_spans(
                [(s.start_char, s.end_char, s.label.name) for s in finished_spans if s.annotator_id == a],
                [(s.start_char, s.end_char, s.label.name) for s in finished_spans if s.annotator_id == b],
                text=article.text,
            )
            body = {"annotator_a": names[a], "annotator_b": names[b], "n_disagreements": d.n_disagreements}
            body.update({k: v for k, v in asdict(d).items() if k in ("boundary", "label", "only_a", "only_b")})
            disagreements.append(body)
    adjudication = Adjudication.objects.filter(project=project, article=article).first()
    for row in rows:
        for span in row["spans"]:
            span["agreed"] = span["id"] in agreed_ids
    gold_keys = {(s.start_char, s.end_char, s.label_id) for s in spans if s.layer == Layer.GOLD}
    agreed_keys = [(g[0].start_char, g[0].end_char, g[0].label_id) for g in agreed]
    return {
        "article": {"id": article.pk, "title": article.title, "text": article.text, "outlet": article.outlet.slug},
        "annotators": rows,
        "gold": [_span_dict(s) for s in spans if s.layer == Layer.GOLD],
        "agreed_groups": len(agreed),
        # what "Accept all agreed" would still add: the agreed (start, end, label) groups not yet in gold
        "agreed_not_gold": [list(k) for k in agreed_keys if k not in gold_keys],
        "agreed_keys": [list(k) for k in agreed_keys],
        "disagreements": disagreements,
        "adjudication": adjudication.status if adjudication else None,
    }


def curation_article_list(*, project: Project) -> list[dict]:
    """Project articles with the number of finished annotators, gold spans and adjudication status."""
    from django.db.models import Count, Q

    links = ProjectArticle.objects.filter(project=project).select_related("article__outlet").order_by("article_id")
    finished = dict(
        Assignment.objects.filter(project=project, status=Assignment.Status.DONE)
        .values("article_id").annotate(n=Count("id")).values_list("article_id", "n")
    )  # fmt: skip
    gold = dict(
        Span.objects.filter(project=project, layer=Layer.GOLD)
        .values("article_id").annotate(n=Count("id", filter=Q(layer=Layer.GOLD))).values_list("article_id", "n")
    )  # fmt: skip
    adjudicated = dict(Adjudication.objects.filter(project=project).values_list("article_id", "status"))
    return [
        {
            "article_id": link.article_id,
            "title": link.article.title,
            "outlet": link.article.outlet.slug,
            "is_calibration": link.is_calibration,
            "finished": finished.get(link.article_id, 0),
            "gold_spans": gold.get(link.article_id, 0),
            "adjudication": adjudicated.get(link.article_id),
        }
        for link in links
    ]
