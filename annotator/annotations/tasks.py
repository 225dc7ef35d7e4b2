"""Agreement tasks (default queue): compute a project's agreement report into its Job row."""

from celery import shared_task

from annotator.annotations import agreement
from annotator.common.queueing import RETRY_POLICY


def _fail_job(self, exc, task_id, args, kwargs, einfo) -> None:
    agreement.agreement_job_fail(job_id=args[0], reason=f"{exc.__class__.__name__}: {exc}")


@shared_task(
    name="annotator.annotations.tasks.agreement_compute_task",
    acks_late=True,
    on_failure=_fail_job,
    **RETRY_POLICY,
)
def agreement_compute_task(job_id: int) -> dict:
    return agreement.agreement_job_run(job_id=job_id)
