"""python manage.py freeze_study --project SLUG --name NAME [--user USERNAME]: freeze a study into a snapshot.

Runs in this process (no worker needed), printing each step to stderr; the page and API queue the same freeze as a job.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.common.errors import ApplicationError
from annotator.projects.models import Project
from annotator.snapshots.services import snapshot_freeze


class Command(BaseCommand):
    help = "Freeze a project's study (articles, codebook, gold, model, score tables) into an immutable archive."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--name", required=True, help="a short name for the snapshot")
        parser.add_argument("--user", default=None, help="record this user as its author (must be curator/owner)")
        parser.add_argument(
            "--with-names",
            action="store_true",
            help="keep the annotators' usernames in the annotator layers (default: pseudonyms annotator-01 …)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"no project with slug {options['project']!r}")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user {options['user']!r}")

        def progress(done: int, total: int, message: str) -> None:
            self.stderr.write(f"[{done}/{total}] {message}")

        try:
            snapshot = snapshot_freeze(
                project=project, by=user, name=options["name"], on_progress=progress, with_names=options["with_names"]
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        counts = snapshot.manifest["counts"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Snapshot {snapshot.pk} '{snapshot.name}': {counts['articles']} articles, {counts['gold_spans']} gold "
                f"spans, {counts['annotator_spans']} annotator spans by {counts['annotators']} annotators "
                f"({snapshot.manifest['annotator_names']}), {counts['score_tables']} score tables.\n  content hash {snapshot.content_hash}\n"
                f"  archive {snapshot.archive.path}"
            )
        )
