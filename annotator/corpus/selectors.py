"""Reads for the corpus app."""

from django.db.models import QuerySet

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
