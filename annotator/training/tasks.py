"""Training runs on the `training` queue, so a long fit never blocks imports or scoring."""

from celery import shared_task

from annotator.common.errors import ApplicationError
from annotator.common.queueing import RETRY_POLICY
from annotator.training import services


def _on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
    services.model_version_fail_from_exception(version_id=args[0], exc=exc)


@shared_task(
    bind=True,
    name="annotator.training.tasks.model_version_train_task",
    acks_late=True,
    reject_on_worker_lost=True,
    on_failure=_on_failure,
    **RETRY_POLICY,
)
def model_version_train_task(self, version_id: int) -> dict:
    try:
        version = services.model_version_train(version_id=version_id)
    except ApplicationError as exc:
        services.model_version_fail(version_id=version_id, reason=exc.message)
        return {"version_id": version_id, "status": "failed", "reason": exc.message}
    return {"version_id": version.id, "status": version.status}
