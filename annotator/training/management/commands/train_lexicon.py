"""`python manage.py train_lexicon --project SLUG [--wait]`: queue a training run and optionally follow it."""

import time

from django.core.management.base import BaseCommand, CommandError

from annotator.common.errors import ApplicationError
from annotator.common.models import JobStatus
from annotator.projects.models import Project
from annotator.training import services
from annotator.training.models import ModelVersion


class Command(BaseCommand):
    help = "Train a new lexicon model version for a project on a Celery worker."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--source", choices=["gold", "all"], help="spans to learn from (default: project setting)")
        parser.add_argument("--wait", action="store_true", help="follow progress until the version finishes")
        parser.add_argument("--activate", action="store_true", help="with --wait: activate the version if it succeeds")
        parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait with --wait")

    def handle(self, *args, project: str, source: str | None, wait: bool, activate: bool, timeout: float, **options):
        try:
            proj = Project.objects.get(slug=project)
        except Project.DoesNotExist:
            raise CommandError(f"No project with slug {project!r}.") from None
        try:
            version = services.model_version_create(project=proj, source=source)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Queued model version {version.number} (id {version.id}) for {proj.slug}.")
        if not wait:
            return
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            version = ModelVersion.objects.get(pk=version.pk)
            line = f"[{version.progress:6.1%}] {version.status}: {version.progress_message}"
            if line != last:
                self.stdout.write(line)
                last = line
            if version.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                break
            services.model_versions_reap_stale(project=proj)
            time.sleep(1.0)
        else:
            raise CommandError(f"Timed out after {timeout:.0f}s; the version is still {version.status}.")
        if version.status == JobStatus.FAILED:
            raise CommandError(f"Training failed: {version.error}")
        micro = (version.metrics.get("grouped_kfold") or {}).get("word", {}).get("micro", {})
        self.stdout.write(
            self.style.SUCCESS(
                f"Version {version.number} trained on {version.n_articles} articles / {version.n_spans} spans; "
                f"cross-validated word F1 {micro.get('f1', 0):.3f}"
            )
        )
        if activate:
            services.model_version_activate(version=version)
            self.stdout.write(f"Version {version.number} is now active.")
