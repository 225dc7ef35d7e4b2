"""Keyword-in-context selectors: the examples behind a score, a lexicon term or a variant, with their context.

Two ways in: occurrences of a term in the project's articles (whole words, case-insensitive, any whitespace
between the words of a multi-word term), or the spans of one label in one score source (the gold layer, one
annotator's layer, or the active model's suggestions). Both return plain rows that link to the annotator page.
"""

from __future__ import annotations

import re

from django.db.models import QuerySet

from annotator.annotations.models import Layer, Span, Suggestions
from annotator.annotations.suggestions import unpack
from annotator.common.errors import ApplicationError
from annotator.corpus.models import Article
from annotator.projects.models import Project
from annotator.projects.selectors import label_get_by_name
from annotator.projects.visibility import Viewer, system_viewer

MAX_LIMIT = 200
DEFAULT_WIDTH = 60
SCAN_BATCH = 500


def term_pattern(term: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive pattern for `term`; its words may be separated by any whitespace."""
    words = term.split()
    if not words:
        raise ApplicationError("A term cannot be empty.", {"term": ["This field may not be blank."]})
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", flags=re.IGNORECASE)


def _context(text: str, start: int, end: int, width: int) -> tuple[str, str]:
    left = text[max(0, start - width) : start]
    right = text[end : end + width]
    return ("…" if start > width else "") + left, right + ("…" if end + width < len(text) else "")


def _row(*, project: Project, article: Article, start: int, end: int, width: int) -> dict:
    left, right = _context(article.text, start, end, width)
    return {
        "article_id": article.pk,
        "title": article.title,
        "outlet": article.outlet.slug,
        "published_at": article.published_at,
        "start_char": start,
        "end_char": end,
        "left": left,
        "match": article.text[start:end],
        "right": right,
        "url": f"/projects/{project.slug}/articles/{article.pk}/",
    }


def _check_limits(limit: int, width: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ApplicationError("Bad limit.", {"limit": [f"use a whole number from 1 to {MAX_LIMIT}"]})
    if not 0 <= width <= 500:
        raise ApplicationError("Bad context width.", {"width": ["use a whole number from 0 to 500"]})


def kwic_for_term(
    *,
    project: Project,
    term: str,
    outlet: str | None = None,
    limit: int = 20,
    width: int = DEFAULT_WIDTH,
    viewer: Viewer | None = None,
) -> list[dict]:
    """Up to `limit` occurrences of `term` in the project's articles (oldest article id first). Examples name their
    outlet: a viewer who may not learn outlets is refused (403)."""
    viewer = viewer or system_viewer(project=project)
    viewer.require_outlets()
    _check_limits(limit, width)
    pattern = term_pattern(term)
    articles = (
        Article.objects.filter(project_links__project=project, text__icontains=term.split()[0])
        .select_related("outlet")
        .only("id", "title", "text", "published_at", "outlet__slug")
        .order_by("id")
    )
    if outlet:
        articles = articles.filter(outlet__slug=outlet)
    rows: list[dict] = []
    for article in articles.iterator(chunk_size=SCAN_BATCH):
        for m in pattern.finditer(article.text):
            rows.append(_row(project=project, article=article, start=m.start(), end=m.end(), width=width))
            if len(rows) >= limit:
                return rows
    return rows


def _spans_for_source(*, project: Project, resolved) -> QuerySet[Span]:
    spans = Span.objects.filter(project=project)
    if resolved.source_key == "gold":
        return spans.filter(layer=Layer.GOLD)
    return spans.filter(layer=Layer.ANNOTATOR, annotator_id=int(resolved.source_key.partition(":")[2]))


def _suggestions_picked(*, version, label_id: int, outlet: str | None, limit: int) -> list[tuple[int, int, int]]:
    """(article id, start, end) of the first ``limit`` suggestions of a label by the version, in article and start
    order: the packed rows of the articles whose counts say they hold one (``ArticleScore``), unpacked in turn."""
    from annotator.scoring.models import ArticleScore
    from annotator.scoring.services import model_source

    holding = ArticleScore.objects.filter(source=model_source(version), label_id=label_id, n_spans__gt=0)
    rows = Suggestions.objects.filter(model_version=version, article_id__in=holding.values("article_id"))
    if outlet:
        rows = rows.filter(article__outlet__slug=outlet)
    picked: list[tuple[int, int, int]] = []
    for row_id, article_id, data in (
        rows.order_by("article_id").values_list("pk", "article_id", "spans").iterator(chunk_size=SCAN_BATCH)
    ):
        picked += [
            (article_id, s.start_char, s.end_char) for s in unpack(row_id, article_id, data) if s.label_id == label_id
        ]
        if len(picked) >= limit:
            break
    return picked[:limit]


def kwic_for_label(
    *,
    project: Project,
    label: str,
    source: str = "model",
    outlet: str | None = None,
    limit: int = 20,
    width: int = DEFAULT_WIDTH,
    viewer: Viewer | None = None,
) -> list[dict]:
    """Up to `limit` spans of `label` from `source` (model, gold, annotator:<username>) with their context, from a
    source the viewer may read (``viewer=None``: the system)."""
    viewer = viewer or system_viewer(project=project)
    _check_limits(limit, width)
    from annotator.scoring.selectors import resolve_source

    resolved = resolve_source(project=project, source=source, viewer=viewer)
    label_row = label_get_by_name(project=project, name=label)
    if resolved.version is not None:
        picked = _suggestions_picked(version=resolved.version, label_id=label_row.pk, outlet=outlet, limit=limit)
    else:
        spans = _spans_for_source(project=project, resolved=resolved)
        spans = spans.filter(label=label_row).filter(viewer.rows_q())
        if outlet:
            spans = spans.filter(article__outlet__slug=outlet)
        picked = list(
            spans.order_by("article_id", "start_char").values_list("article_id", "start_char", "end_char")[:limit]
        )
    articles = {
        a.pk: a
        for a in Article.objects.filter(pk__in={p[0] for p in picked})
        .select_related("outlet")
        .only("id", "title", "text", "published_at", "outlet__slug")
    }
    return [_row(project=project, article=articles[a], start=s, end=e, width=width) for a, s, e in picked]
