"""Housekeeping tasks."""

from celery import shared_task
from django.utils import timezone

from annotator.annotations.agreement import agreement_jobs_fail_stale
from annotator.common.models import Job, JobStatus
from annotator.common.queueing import RETRY_POLICY
from annotator.projects.snapshots import snapshot_jobs_fail_stale
from annotator.scoring.services import scoring_runs_resume_stale
from annotator.training.services import model_versions_reap_stale


@shared_task(name="annotator.common.tasks.job_touch_task", **RETRY_POLICY)
def job_touch_task(job_id: int) -> dict:
    """Mark a job succeeded: a round-trip probe that proves a worker reads the broker and the database."""
    updated = Job.objects.filter(pk=job_id).update(
        status=JobStatus.SUCCEEDED, finished_at=timezone.now(), message="touched by worker"
    )
    return {"job_id": job_id, "updated": updated}


@shared_task(name="annotator.common.tasks.stale_jobs_recover_task", **RETRY_POLICY)
def stale_jobs_recover_task() -> dict:
    """Periodic (Celery beat, settings.CELERY_BEAT_SCHEDULE): recover jobs whose worker died or message was lost.

    Each step is idempotent and leaves a job that still reports progress alone.
    """
    return {
        "trainings_failed": model_versions_reap_stale(),
        "scoring_runs_resumed": len(scoring_runs_resume_stale()),
        "agreement_jobs_failed": agreement_jobs_fail_stale(),
        "snapshot_jobs_failed": snapshot_jobs_fail_stale(),
    }
