"""Housekeeping tasks."""

from celery import shared_task
from django.utils import timezone

from annotator.common.models import Job, JobStatus


@shared_task(name="annotator.common.tasks.job_touch_task")
def job_touch_task(job_id: int) -> dict:
    """Mark a job succeeded: a round-trip probe that proves a worker reads the broker and the database."""
    updated = Job.objects.filter(pk=job_id).update(
        status=JobStatus.SUCCEEDED, finished_at=timezone.now(), message="touched by worker"
    )
    return {"job_id": job_id, "updated": updated}
