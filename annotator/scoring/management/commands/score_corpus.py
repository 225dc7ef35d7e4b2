"""`python manage.py score_corpus --project SLUG [--wait] [--resume]`: score the corpus with the active model."""

import time

from django.core.management.base import BaseCommand, CommandError

from annotator.common.errors import ApplicationError
from annotator.common.models import Job, JobStatus
from annotator.projects.models import Project
from annotator.scoring import services


class Command(BaseCommand):
    help = "Score every not-yet-scored article of a project with its active model version (Celery chunks)."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument("--resume", action="store_true", help="re-plan the project's unfinished scoring runs")
        parser.add_argument("--wait", action="store_true", help="follow progress until the run finishes")
        parser.add_argument("--timeout", type=float, default=6 * 3600.0)

    def handle(self, *args, project: str, resume: bool, wait: bool, timeout: float, **options):
        proj = Project.objects.filter(slug=project).first()
        if proj is None:
            raise CommandError(f"No project with slug {project!r}.")
        if resume:
            jobs = Job.objects.filter(
                project=proj, kind=Job.Kind.SCORING, status__in=[JobStatus.RUNNING, JobStatus.QUEUED]
            )
            job = jobs.order_by("-created_at").first()
            if job is None:
                raise CommandError("No unfinished scoring run to resume.")
            chunks = services.scoring_run_plan(job_id=job.pk)
            self.stdout.write(f"Resumed scoring run {job.pk}: {chunks} chunks queued.")
        else:
            try:
                job = services.scoring_run_start(project=proj)
            except ApplicationError as exc:
                raise CommandError(exc.message) from None
            self.stdout.write(f"Queued scoring run {job.pk} for {proj.slug}.")
        if not wait:
            return
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            job.refresh_from_db()
            line = f"{job.status}: {job.progress_done}/{job.progress_total} articles ({job.message})"
            if line != last:
                self.stdout.write(line)
                last = line
            if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                break
            time.sleep(1.0)
        else:
            raise CommandError(f"Timed out; run {job.pk} is {job.status}. Resume with --resume.")
        if job.status == JobStatus.FAILED:
            raise CommandError(f"Scoring failed: {job.error}")
        self.stdout.write(self.style.SUCCESS(f"Scored {job.progress_done} articles."))
