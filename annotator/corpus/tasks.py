"""Celery tasks of the corpus app (queue ``imports``, routed by name prefix)."""

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from annotator.corpus.models import ImportBatch
from annotator.corpus.services import import_batch_fail, import_batch_run


def _import_failed(self: Any, exc: BaseException, task_id: str, args: tuple, kwargs: dict, einfo: Any) -> None:
    batch_id = kwargs.get("batch_id", args[0] if args else None)
    if batch_id is not None:
        import_batch_fail(batch_id=batch_id, message=f"{type(exc).__name__}: {exc}")


@shared_task(
    name="annotator.corpus.tasks.import_batch_task",
    autoretry_for=(OperationalError, InterfaceError, ConnectionError),
    retry_backoff=5,
    retry_jitter=True,
    max_retries=3,
    on_failure=_import_failed,
)
def import_batch_task(batch_id: int) -> dict:
    """Run (or rerun: rows already stored are skipped) the import of an uploaded file."""
    batch = ImportBatch.objects.get(pk=batch_id)
    if not batch.upload:
        import_batch_fail(batch_id=batch_id, message="the batch has no uploaded file to import")
        return {"batch_id": batch_id, "status": "failed"}
    return import_batch_run(batch_id=batch_id, path=batch.upload.path).as_dict()
