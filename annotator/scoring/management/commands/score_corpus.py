"""`python manage.py score_corpus --project SLUG [--wait] [--resume | --rescore]`: score the corpus with the active
model."""

import time

from django.core.management.base import BaseCommand, CommandError

from annotator.common.errors import ApplicationError
from annotator.common.models import Job, JobStatus
from annotator.projects.models import Project
from annotator.scoring import services
from annotator.training.models import ModelVersion


class Command(BaseCommand):
    help = "Score every not-yet-scored article of a project with its active model version (Celery chunks)."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument("--resume", action="store_true", help="re-plan the project's unfinished scoring runs")
        parser.add_argument(
            "--rescore",
            action="store_true",
            help="discard the active version's scores and suggestions first, then score every article again",
        )
        parser.add_argument("--wait", action="store_true", help="follow progress until the run finishes")
        parser.add_argument("--timeout", type=float, default=6 * 3600.0)

    def handle(self, *args, project: str, resume: bool, rescore: bool, wait: bool, timeout: float, **options):
        proj = Project.objects.filter(slug=project).first()
        if proj is None:
            raise CommandError(f"No project with slug {project!r}.")
        if resume and rescore:
            raise CommandError("Use either --resume or --rescore.")
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
                if rescore:
                    self._clear_active_version(proj)
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

    def _clear_active_version(self, project: Project) -> None:
        version = ModelVersion.objects.filter(project=project, is_active=True).first()
        if version is None:
            raise ApplicationError(services.NO_ACTIVE_MODEL)
        n_articles = services.scoring_results_clear(version=version)
        self.stdout.write(f"Discarded the scores of {n_articles} articles from model version v{version.number}.")
