"""python manage.py import_snapshot ARCHIVE --owner USERNAME [--slug SLUG] [--name NAME]: re-create a frozen study."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.common.errors import ApplicationError
from annotator.snapshots.services import snapshot_import


class Command(BaseCommand):
    help = "Re-create a study from a snapshot archive (verifies every hash first; see docs/rigour.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="the snapshot .zip")
        parser.add_argument("--owner", required=True, help="username who owns the re-created project")
        parser.add_argument("--slug", default=None, help="project slug (default: the original one)")
        parser.add_argument("--name", default=None, help="project name (default: the original one)")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"no user {options['owner']!r}")
        try:
            report = snapshot_import(
                archive_path=options["archive"], by=owner, slug=options["slug"], name=options["name"]
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        r = report.as_dict()
        self.stdout.write(
            self.style.SUCCESS(
                f"Project '{r['project']}': {r['articles_created']} articles created, {r['articles_reused']} reused, "
                f"{r['gold_spans']} gold spans, {r['annotator_spans']} annotator spans by {r['annotators']} annotators, "
                f"{r['rescored']} articles re-scored with the imported model."
            )
        )
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(warning))
