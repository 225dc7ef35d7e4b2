"""Celery tasks of the corpus app (queue ``imports``, routed by name prefix)."""

from typing import Any

from celery import shared_task

from annotator.common.queueing import RETRY_POLICY
from annotator.corpus.models import ImportBatch
from annotator.corpus.services import import_batch_fail, import_batch_run


def _import_failed(self: Any, exc: BaseException, task_id: str, args: tuple, kwargs: dict, einfo: Any) -> None:
    batch_id = kwargs.get("batch_id", args[0] if args else None)
    if batch_id is not None:
        import_batch_fail(batch_id=batch_id, message=f"{type(exc).__name__}: {exc}")


@shared_task(
    name="annotator.corpus.tasks.import_batch_task",
    on_failure=_import_failed,
    **RETRY_POLICY,
)
def import_batch_task(batch_id: int) -> dict:
    """Run (or rerun: rows already stored are skipped) the import of an uploaded file."""
    batch = ImportBatch.objects.get(pk=batch_id)
    if not batch.upload:
        import_batch_fail(batch_id=batch_id, message="the batch has no uploaded file to import")
        return {"batch_id": batch_id, "status": "failed"}
    return import_batch_run(batch_id=batch_id, path=batch.upload.path).as_dict()


@shared_task(
    name="annotator.corpus.tasks.story_clusters_update_task",
    bind=True,
    **RETRY_POLICY,
)
def story_clusters_update_task(self: Any, batch_id: int | None = None) -> dict:
    """Place a batch's new articles into story clusters (``batch_id=None``: recluster the whole corpus).

    One run at a time (a cache lock); a second run waits and retries, so concurrent imports do not race.
    """
    from django.core.cache import cache

    from annotator.corpus.clustering import pending_key, story_clusters_update

    if batch_id is not None:
        cache.delete(pending_key(batch_id))
    if not cache.add("story-clusters:running", self.request.id or "local", timeout=30 * 60):
        raise self.retry(countdown=30, max_retries=60)
    try:
        ids = None
        if batch_id is not None:
            ids = list(ImportBatch.objects.get(pk=batch_id).articles.values_list("pk", flat=True))
        return story_clusters_update(article_ids=ids).as_dict()
    finally:
        cache.delete("story-clusters:running")
