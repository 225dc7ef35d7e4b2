"""Writes shared by every kind of background job."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from annotator.common.models import Job, JobStatus


def job_fail(*, job_id: int, reason: str, **conditions) -> None:
    """Mark the job failed with ``reason`` (cut to 5,000 characters) unless it already succeeded; ``conditions`` are
    further filters the job row must match (e.g. the plan a failed chunk belongs to)."""
    Job.objects.filter(pk=job_id, **conditions).exclude(status=JobStatus.SUCCEEDED).update(
        status=JobStatus.FAILED, error=reason[:5000], finished_at=timezone.now(), message="Failed"
    )


def jobs_fail_stale(
    *, kind: str, seconds: int, running_error: str, queued_error: str, now: datetime | None = None
) -> int:
    """Fail jobs of ``kind`` that stopped reporting (running, no heartbeat for ``seconds``) or that no worker took up
    (queued for ``seconds``), each with its reason; returns how many. For jobs that are failed rather than resumed,
    because a job that is only slow would otherwise run twice.
    """
    now = now or timezone.now()
    before = now - timedelta(seconds=seconds)
    jobs = Job.objects.filter(kind=kind)
    failed = {"status": JobStatus.FAILED, "finished_at": now, "message": "Failed"}
    running = jobs.filter(status=JobStatus.RUNNING, heartbeat_at__lt=before).update(error=running_error, **failed)
    queued = jobs.filter(status=JobStatus.QUEUED, created_at__lt=before).update(error=queued_error, **failed)
    return running + queued
