"""Training runs on the `training` queue, so a long fit never blocks imports or scoring."""

from celery import shared_task
from django.db import OperationalError

from annotator.common.errors import ApplicationError
from annotator.training import services


def _on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
    services.model_version_fail_from_exception(version_id=args[0], exc=exc)


@shared_task(
    bind=True,
    name="annotator.training.tasks.model_version_train_task",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
    on_failure=_on_failure,
)
def model_version_train_task(self, version_id: int) -> dict:
    try:
        version = services.model_version_train(version_id=version_id)
    except ApplicationError as exc:
        services.model_version_fail(version_id=version_id, reason=exc.message)
        return {"version_id": version_id, "status": "failed", "reason": exc.message}
    return {"version_id": version.id, "status": version.status}
