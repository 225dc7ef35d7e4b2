"""Snapshot tasks (default queue): freeze a study snapshot for a queued Job."""

from celery import shared_task

from annotator.common.errors import ApplicationError
from annotator.common.queueing import RETRY_POLICY
from annotator.snapshots import services


def _fail_job(self, exc, task_id, args, kwargs, einfo) -> None:
    reason = exc.message if isinstance(exc, ApplicationError) else f"{exc.__class__.__name__}: {exc}"
    services.snapshot_job_fail(job_id=args[0], reason=reason)


@shared_task(
    name="annotator.snapshots.tasks.snapshot_freeze_task",
    acks_late=True,
    on_failure=_fail_job,
    **RETRY_POLICY,
)
def snapshot_freeze_task(job_id: int) -> dict:
    return services.snapshot_job_run(job_id=job_id)
