"""Span reads, and what they tell about a member's work (the codebook changes since they last annotated)."""

from __future__ import annotations

import json

from django.db.models import Max, Q, QuerySet
from django.http import Http404

from annotator.annotations.models import Layer, Span, SpanDeletion, Suggestions
from annotator.annotations.suggestions import RECORD, Suggestion, split_id, unpack
from annotator.corpus.models import Article
from annotator.projects.models import Assignment, CodebookVersion, Label, Project
from annotator.projects.visibility import BLIND_LAYER, Hidden, Viewer


def _shown(viewer: Viewer, article: Article, spans: list) -> list:
    """Span texts as the viewer was shown the article (masked for an outlet-blind annotator; same offsets)."""
    if not viewer.sees_outlets:
        masker = viewer.masker(article)
        for span in spans:
            if isinstance(span, dict):
                span["text"] = masker.span_text(span["start_char"], span["end_char"])
            else:
                span.text = masker.span_text(span.start_char, span.end_char)
    return spans


def span_list_own(*, viewer: Viewer, article: Article) -> list[Span]:
    """The viewer's own spans on an article (annotator layer), texts as they were shown to them."""
    spans = (
        Span.objects.filter(project=viewer.project, article=article, layer=Layer.ANNOTATOR, annotator=viewer.user)
        .select_related("label")
        .order_by("start_char", "end_char", "id")
    )
    return _shown(viewer, article, list(spans))


def suggestion_list_for_article(*, viewer: Viewer, article: Article) -> list[Suggestion]:
    """The active model version's suggestions on an article (none if no version is active), unpacked from its
    ``Suggestions`` row in the order the model found them (start, end, label); labels the project no longer has
    are left out.

    Suggestions live in their own layer: they are never an annotator's span, never gold, never in agreement.
    """
    if not viewer.sees_layer(Layer.SUGGESTION):
        raise Hidden(BLIND_LAYER, "layer")
    row = (
        Suggestions.objects.filter(
            model_version__project=viewer.project, model_version__is_active=True, article=article
        )
        .values_list("pk", "spans", "model_version__number")
        .first()
    )
    if row is None:
        return []
    pk, data, number = row
    labels = dict(Label.objects.filter(project=viewer.project).values_list("pk", "name"))
    out = []
    for s in unpack(pk, article.pk, data, article.text):
        if s.label_id in labels:
            s.label, s.model_version = labels[s.label_id], number
            out.append(s)
    return _shown(viewer, article, out)


def suggestion_rows_for_articles(*, project: Project, article_ids: tuple[int, int], active_only: bool = True):
    """(row id, article id, packed spans, version number) of the project's ``Suggestions`` rows for articles with
    ids in the closed range ``article_ids``, by article (the active version's only, unless ``active_only`` is
    False)."""
    rows = Suggestions.objects.filter(
        model_version__project=project, article_id__gte=article_ids[0], article_id__lte=article_ids[1]
    )
    if active_only:
        rows = rows.filter(model_version__is_active=True)
    return rows.order_by("article_id", "model_version_id").values_list(
        "pk", "article_id", "spans", "model_version__number"
    )


def suggestion_rows_for_viewer(*, viewer: Viewer, article_id: int | None = None) -> QuerySet[Suggestions]:
    """The active model version's ``Suggestions`` rows in the project (one article's with ``article_id``): the
    annotation list pages these rows by id and unpacks each page (:func:`suggestion_page_shown`)."""
    if not viewer.sees_layer(Layer.SUGGESTION):
        raise Hidden(BLIND_LAYER, "layer")
    rows = Suggestions.objects.filter(model_version__project=viewer.project, model_version__is_active=True)
    if article_id is not None:
        rows = rows.filter(article_id=article_id)
    return rows.select_related("article__outlet", "model_version").defer("article__text")


def suggestion_page_shown(*, viewer: Viewer, rows: list[Suggestions], label: str = "") -> list[Suggestion]:
    """A page of :func:`suggestion_rows_for_viewer` unpacked, as the viewer may see it (``outlet`` None when hidden,
    texts masked for an outlet-blind annotator); only ``label``'s suggestions when given."""
    labels = dict(Label.objects.filter(project=viewer.project).values_list("pk", "name"))
    texts = dict(Article.objects.filter(pk__in=[r.article_id for r in rows]).values_list("pk", "text"))
    out = []
    for row in rows:
        article = row.article
        article.text = texts[row.article_id]
        items = []
        for s in unpack(row.pk, row.article_id, row.spans, article.text):
            if s.label_id in labels and (not label or labels[s.label_id] == label):
                s.label, s.model_version = labels[s.label_id], row.model_version.number
                s.outlet = article.outlet.slug if viewer.sees_outlets else None
                items.append(s)
        out.extend(_shown(viewer, article, items))
    return out


def suggestions_of_version(*, version_id: int) -> list[Suggestion]:
    """Every suggestion of a model version, unpacked, by article (texts and label names filled in): for checks and
    tools over a whole run, not for pages."""
    rows = Suggestions.objects.filter(model_version_id=version_id).order_by("article_id")
    rows = list(rows.values_list("pk", "article_id", "spans", "article__text", "model_version__number"))
    out = []
    for pk, article_id, data, text, number in rows:
        for s in unpack(pk, article_id, data, text):
            s.model_version = number
            out.append(s)
    labels = dict(Label.objects.filter(pk__in={s.label_id for s in out}).values_list("pk", "name"))
    for s in out:
        s.label = labels.get(s.label_id, "")
    return out


def suggestion_exists(*, project: Project, article_id: int, suggestion_id: int) -> bool:
    """Whether ``suggestion_id`` names a model suggestion on this article of the project (of any version)."""
    row_id, index = split_id(suggestion_id)
    data = (
        Suggestions.objects.filter(pk=row_id, article_id=article_id, model_version__project=project)
        .values_list("spans", flat=True)
        .first()
    )
    return data is not None and 0 <= index < len(data) // RECORD.size


OTHERS_HIDDEN = "This project is blind: annotators do not see each other's spans."


def span_rows_for_others(*, viewer: Viewer, article: Article) -> list[dict]:
    """Other annotators' spans on an article (annotator layer), read-only: for viewers who may see them (403 else)."""
    if not viewer.sees_others:
        raise Hidden(OTHERS_HIDDEN, "project")
    rows = (
        Span.objects.filter(project=viewer.project, article=article, layer=Layer.ANNOTATOR)
        .exclude(annotator=viewer.user)
        .order_by("start_char", "end_char", "id")
        .values("id", "label_id", "start_char", "end_char", "text", "annotator__username")
    )
    return _shown(viewer, article, [{**row, "annotator": row.pop("annotator__username")} for row in rows])


SPAN_ROW_FIELDS = ("id", "label_id", "start_char", "end_char", "text", "note", "client_id")


def span_rows_own(*, viewer: Viewer, article: Article) -> list[dict]:
    """The viewer's own spans on an article as plain dicts (no model instances: the annotator page of a long
    article carries 1,000+ of them), texts as shown to them."""
    rows = (
        Span.objects.filter(project=viewer.project, article=article, layer=Layer.ANNOTATOR, annotator=viewer.user)
        .order_by("start_char", "end_char", "id")
        .values(*SPAN_ROW_FIELDS)
    )
    rows = [{**row, "client_id": str(row["client_id"]) if row["client_id"] else None} for row in rows]
    return _shown(viewer, article, rows)


def span_get_own(*, viewer: Viewer, span_id: int) -> Span:
    """One of the viewer's own spans in the project; Http404 for anyone else's."""
    span = (
        Span.objects.select_related("label", "project")
        .filter(pk=span_id, project=viewer.project, layer=Layer.ANNOTATOR, annotator=viewer.user)
        .first()
    )
    if span is None:
        raise Http404("No such span.")
    return span


def span_state_for_viewer(*, viewer: Viewer, span_id: int) -> dict:
    """A span as the server has it now, for a page whose copy went stale: present (with its fields) or deleted, and
    who made that state and when. Http404 if the span never existed or is not the viewer's to see (the visibility
    rule, annotator and gold layers only; deletions are filtered by the same rule as spans)."""
    project, user = viewer.project, viewer.user
    visible = Q(layer__in=[Layer.ANNOTATOR, Layer.GOLD]) & viewer.rows_q()
    span = Span.objects.filter(visible, pk=span_id, project=project).select_related("label", "updated_by").first()
    if span is not None:
        span_text_shown(viewer=viewer, span=span)
        who = span.updated_by
        fields = {f: getattr(span, f) for f in ("id", "article_id", "layer", "label_id", "start_char", "end_char")}
        fields.update(
            label=span.label.name, text=span.text, note=span.note, updated_at=span.updated_at.isoformat(),
            client_id=str(span.client_id) if span.client_id else None,
        )  # fmt: skip
        changed_at = span.updated_at
    else:
        gone = (
            SpanDeletion.objects.filter(visible, span_id=span_id, project=project).select_related("deleted_by").first()
        )
        if gone is None:
            raise Http404("No such span.")
        who, fields, changed_at = gone.deleted_by, None, gone.deleted_at
    return {
        "id": span_id,
        "state": "present" if span is not None else "deleted",
        "span": fields,
        "changed_by": who.username if who else None,
        "changed_by_you": who is not None and who.pk == user.pk,
        "changed_at": changed_at.isoformat(),
    }


def span_text_shown(*, viewer: Viewer, span: Span) -> Span:
    """The span with its text as the viewer sees the article (one article read, only when masking applies)."""
    if not viewer.sees_outlets:
        article = Article.objects.select_related("outlet").get(pk=span.article_id)
        _shown(viewer, article, [span])
    return span


def span_list_for_viewer(
    *, viewer: Viewer, layers: tuple[str, ...], annotator_id: int | None, article_id: int | None, label: str
) -> QuerySet[Span]:
    """The project's spans in ``layers`` (one member's with ``annotator_id``) that the viewer may read.

    ``layers``/``annotator_id`` come from :meth:`Viewer.scope`; the viewer's own rule is applied again here, so
    no caller can widen it. Texts are the stored ones: pass pages through :func:`span_page_shown`.
    """
    spans = (
        Span.objects.filter(project=viewer.project, layer__in=layers)
        .filter(viewer.rows_q())
        .select_related("label", "annotator", "codebook_version", "model_version", "article__outlet")
    )
    if annotator_id is not None:
        spans = spans.filter(annotator_id=annotator_id)
    if article_id is not None:
        spans = spans.filter(article_id=article_id)
    if label:
        spans = spans.filter(label__name=label)
    return spans


def span_page_shown(*, viewer: Viewer, spans: list[Span]) -> list[Span]:
    """A page of :func:`span_list_for_viewer` as the viewer may see it: ``outlet`` set (None when hidden), texts
    masked for an outlet-blind annotator."""
    maskers: dict[int, object] = {}
    for span in spans:
        span.outlet = span.article.outlet.slug if viewer.sees_outlets else None
        if not viewer.sees_outlets:
            masker = maskers.get(span.article_id) or maskers.setdefault(span.article_id, viewer.masker(span.article))
            span.text = masker.span_text(span.start_char, span.end_char)  # type: ignore[attr-defined]
    return spans


def span_count_by_label(*, project: Project) -> dict[int, int]:
    from django.db.models import Count

    rows = Span.objects.filter(project=project).values("label_id").annotate(n=Count("id"))
    return {row["label_id"]: row["n"] for row in rows}


def gold_article_ids(*, project: Project) -> set[int]:
    """Articles whose gold layer counts: adjudicated as done, or holding gold spans (e.g. imported gold)."""
    from annotator.annotations.models import Adjudication

    adjudicated = Adjudication.objects.filter(project=project, status=Adjudication.Status.DONE)
    with_spans = Span.objects.filter(project=project, layer=Layer.GOLD)
    return set(adjudicated.values_list("article_id", flat=True)) | set(with_spans.values_list("article_id", flat=True))


# --- answers to codebook questions -------------------------------------------------------------------------------

ANSWER_ROW_FIELDS = ("id", "question_id", "start_char", "end_char", "span_id", "value", "updated_at")


def article_sentences(*, article_id: int | None = None, article: Article | None = None) -> list:
    """The article's sentence units (ml.sentences, on the real text: everyone gets the same offsets, whatever their
    page shows in place of a masked outlet), as ``ml.sentences.Sentence`` items."""
    from ml.sentences import split_sentences

    if article is None:
        article = (
            Article.objects.select_related("outlet").only("text", "language", "outlet__language").get(pk=article_id)
        )
    return split_sentences(article.text, language=article.language or article.outlet.language)


def answer_rows_own(*, viewer: Viewer, article: Article | int) -> list[dict]:
    """The viewer's own answers on an article (annotator layer) as plain dicts, in question order. Answers are rows
    with a layer and an annotator like spans: the visibility rule filters them the same way."""
    from annotator.annotations.models import Answer

    rows = (
        Answer.objects.filter(project=viewer.project, article=article, layer=Layer.ANNOTATOR, annotator=viewer.user)
        .filter(viewer.rows_q())
        .order_by("question__order", "question_id", "start_char", "span_id", "id")
        .values(*ANSWER_ROW_FIELDS)
    )
    return [{**row, "updated_at": row["updated_at"].isoformat()} for row in rows]


def curation_answers_view(*, project: Project, article: Article) -> dict:
    """Every annotator's answers on an article side by side with the gold answer, unit by unit, for the curator.

    Curators and owners only: callers check the role (this reveals every annotator's answers). Units: each article
    question; each sentence that has an answer; each span offsets (of the attribute's label) that an annotator's
    answered span or a gold span has. ``agreed``: every annotator who finished the article (two or more) gave the
    same answer, which bulk accept would take.
    """
    from annotator.annotations.curation import finished_annotators
    from annotator.annotations.models import Answer
    from annotator.projects.codebook import codebook_questions

    questions = codebook_questions(project=project)
    finishers = finished_annotators(project=project, article_ids=[article.pk]).get(article.pk, set())
    rows = (
        Answer.objects.filter(project=project, article=article, layer__in=[Layer.ANNOTATOR, Layer.GOLD])
        .select_related("annotator", "span", "updated_by")
        .order_by("pk")
    )
    units: dict[tuple, dict] = {}

    def unit_for(question: dict, key: str, **fields) -> dict:
        return units.setdefault(
            (question["id"], key),
            {"question_id": question["id"], "scope": question["scope"], "unit_key": key, **fields, "answers": [],
             "gold": None, "agreed": False},
        )  # fmt: skip

    by_id = {q["id"]: q for q in questions}
    for q in questions:
        if q["scope"] == "article":
            unit_for(q, "article")
    gold_spans = Span.objects.filter(project=project, article=article, layer=Layer.GOLD).order_by("start_char", "pk")
    for q in (q for q in questions if q["scope"] == "span"):
        for span in gold_spans.filter(label_id=q["label_id"]):
            unit_for(q, f"span:{span.start_char}-{span.end_char}", start_char=span.start_char, end_char=span.end_char,
                     text=span.text, gold_span_id=span.pk)  # fmt: skip
    for a in rows:
        q = by_id.get(a.question_id)
        if q is None:
            continue
        if a.span_id:
            s, e = a.span.start_char, a.span.end_char
            unit = unit_for(q, f"span:{s}-{e}", start_char=s, end_char=e, text=a.span.text, gold_span_id=None)
        elif a.start_char is not None:
            unit = unit_for(q, a.unit_key, start_char=a.start_char, end_char=a.end_char,
                            text=article.text[a.start_char : a.end_char])  # fmt: skip
        else:
            unit = unit_for(q, "article")
        if a.layer == Layer.GOLD:
            unit["gold"] = {
                "id": a.pk, "value": a.value, "provenance": a.provenance, "updated_at": a.updated_at.isoformat(),
                "updated_by": a.updated_by.username if a.updated_by else None,
            }  # fmt: skip
        else:
            unit["answers"].append(
                {"id": a.pk, "annotator": a.annotator.username, "annotator_id": a.annotator_id, "value": a.value,
                 "finished": a.annotator_id in finishers}
            )  # fmt: skip
    for unit in units.values():
        finished = [a for a in unit["answers"] if a["finished"]]
        unit["agreed"] = (
            len(finishers) >= 2
            and {a["annotator_id"] for a in finished} == finishers
            and len({json.dumps(a["value"], sort_keys=True) for a in finished}) == 1
        )
    order = {q["id"]: i for i, q in enumerate(questions)}
    ordered = sorted(units.values(), key=lambda u: (order[u["question_id"]], u.get("start_char") or 0, u["unit_key"]))
    return {
        "questions": questions,
        "units": ordered,
        "agreed_open": sum(1 for u in ordered if u["agreed"] and u["gold"] is None),
    }


def codebook_changes_since_last_work(*, project: Project, user) -> list[CodebookVersion]:
    """Codebook versions made after the user last worked in the project (their latest span or assignment
    change), oldest first. Empty for someone who has not annotated here yet (everything is new to them)."""
    last_span = Span.objects.filter(project=project, annotator=user, layer=Layer.ANNOTATOR).aggregate(
        t=Max("updated_at")
    )
    last_assignment = (
        Assignment.objects.filter(project=project, annotator=user)
        .exclude(status=Assignment.Status.TODO)
        .aggregate(t=Max("updated_at"))
    )
    times = [t for t in (last_span["t"], last_assignment["t"]) if t is not None]
    if not times:
        return []
    return list(CodebookVersion.objects.filter(project=project, created_at__gt=max(times)).order_by("number"))
