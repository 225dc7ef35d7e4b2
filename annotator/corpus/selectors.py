"""Reads for the corpus app. Which articles and outlets a person may see is the visibility rule's
(annotator/projects/visibility.py: ``corpus_articles_for``, ``corpus_outlets_for``)."""

from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404

from annotator.corpus.models import Article, ImportBatch


def import_batch_article_ids(*, batch_id: int) -> QuerySet:
    """Ids of the articles an import batch created (the input of a post-import hook)."""
    return Article.objects.filter(batch_id=batch_id).order_by("id").values_list("id", flat=True)


def import_batch_progress(*, batch: ImportBatch) -> dict:
    """The live progress of a batch, as the admin's status endpoint returns it."""
    fraction = None
    if batch.bytes_total:
        fraction = min(1.0, batch.bytes_read / batch.bytes_total)
    return {
        "id": batch.pk,
        "status": batch.status,
        "dry_run": batch.dry_run,
        "rows_read": batch.rows_read,
        "bytes_read": batch.bytes_read,
        "bytes_total": batch.bytes_total,
        "fraction": fraction,
        "created": batch.created_count,
        "duplicates": batch.duplicate_count,
        "rejected": batch.rejected_count,
        "outlets_created": batch.outlets_created,
        "error_message": batch.error_message,
        "errors_shown": len(batch.errors or []),
        "started_at": batch.started_at.isoformat() if batch.started_at else None,
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
    }


def article_search(*, articles: QuerySet[Article], query: str) -> QuerySet[Article]:
    """Full-text search in title and text: PostgreSQL full text (websearch syntax); elsewhere every word, icontains."""
    query = query.strip()
    if not query:
        return articles
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        vector = SearchVector("title", "text", config="simple")
        return articles.annotate(search=vector).filter(
            search=SearchQuery(query, config="simple", search_type="websearch")
        )
    for word in query.split():
        articles = articles.filter(Q(title__icontains=word) | Q(text__icontains=word))
    return articles


def import_batch_list_for_user(*, user: Any) -> QuerySet[ImportBatch]:
    """Import batches: all for staff, otherwise the ones the user started."""
    batches = ImportBatch.objects.select_related("user")
    if not user.is_authenticated:
        return batches.none()
    return batches if user.is_staff else batches.filter(user=user)


def import_batch_get_for_user(*, user: Any, batch_id: int) -> ImportBatch:
    batch = import_batch_list_for_user(user=user).filter(pk=batch_id).first()
    if batch is None:
        raise Http404("No such import batch.")
    return batch
