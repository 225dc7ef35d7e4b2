"""Scoring runs on the `scoring` queue: one planning task, then idempotent chunk tasks (acks_late).

A chunk carries the number of the plan that queued it: after a resume re-planned the job, the old plan's chunks
still in the broker are no-ops.
"""

from celery import shared_task

from annotator.common.queueing import RETRY_POLICY
from annotator.scoring import services


def _fail_job(self, exc, task_id, args, kwargs, einfo) -> None:
    services.scoring_run_fail(job_id=args[0], reason=f"{exc.__class__.__name__}: {exc}")


def _fail_job_of_chunk(self, exc, task_id, args, kwargs, einfo) -> None:
    # A message queued before plans were numbered carries none: it may still fail a run that has no plan number.
    plan = args[2] if len(args) > 2 else kwargs.get("plan")
    services.scoring_run_fail(job_id=args[0], reason=f"{exc.__class__.__name__}: {exc}", plan=plan)


@shared_task(
    name="annotator.scoring.tasks.scoring_run_plan_task",
    acks_late=True,
    on_failure=_fail_job,
    **RETRY_POLICY,
)
def scoring_run_plan_task(job_id: int) -> dict:
    return {"job_id": job_id, "chunks": services.scoring_run_plan(job_id=job_id)}


@shared_task(
    name="annotator.scoring.tasks.score_chunk_task",
    acks_late=True,
    reject_on_worker_lost=True,
    on_failure=_fail_job_of_chunk,
    **RETRY_POLICY,
)
def score_chunk_task(job_id: int, article_ids: list[int], plan: int) -> dict:
    return {"job_id": job_id, "scored": services.score_chunk(job_id=job_id, article_ids=article_ids, plan=plan)}


@shared_task(name="annotator.scoring.tasks.score_cache_warm_task", acks_late=True, **RETRY_POLICY)
def score_cache_warm_task(project_id: int) -> dict:
    return {"project_id": project_id, "tables": services.score_cache_warm(project_id=project_id)}


@shared_task(name="annotator.scoring.tasks.human_scores_refresh_task", acks_late=True, **RETRY_POLICY)
def human_scores_refresh_task(project_id: int) -> dict:
    from annotator.projects.models import Project

    project = Project.objects.filter(pk=project_id).first()
    refreshed = services.human_scores_refresh_stale(project=project) if project is not None else []
    return {"project_id": project_id, "refreshed": refreshed}
