"""Housekeeping tasks."""

from celery import shared_task
from django.utils import timezone

from annotator.common.models import Job, JobStatus
from annotator.common.queueing import RETRY_POLICY
from annotator.common.recovery import stale_jobs_recover


@shared_task(name="annotator.common.tasks.job_touch_task", **RETRY_POLICY)
def job_touch_task(job_id: int) -> dict:
    """Mark a job succeeded: a round-trip probe that proves a worker reads the broker and the database."""
    updated = Job.objects.filter(pk=job_id).update(
        status=JobStatus.SUCCEEDED, finished_at=timezone.now(), message="touched by worker"
    )
    return {"job_id": job_id, "updated": updated}


@shared_task(name="annotator.common.tasks.stale_jobs_recover_task", **RETRY_POLICY)
def stale_jobs_recover_task() -> dict:
    """Periodic (Celery beat, settings.CELERY_BEAT_SCHEDULE): recover jobs whose worker died or message was lost,
    with the recoveries the apps registered (common.recovery)."""
    return stale_jobs_recover()
