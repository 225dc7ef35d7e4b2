"""Agreement tasks (default queue): compute a project's agreement report into its Job row."""

from celery import shared_task
from django.db import OperationalError

from annotator.annotations import agreement


def _fail_job(self, exc, task_id, args, kwargs, einfo) -> None:
    agreement.agreement_job_fail(job_id=args[0], reason=f"{exc.__class__.__name__}: {exc}")


@shared_task(
    name="annotator.annotations.tasks.agreement_compute_task",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
    on_failure=_fail_job,
)
def agreement_compute_task(job_id: int) -> dict:
    return agreement.agreement_job_run(job_id=job_id)
