"""python manage.py export_codebook PROJECT [--out FILE]: a project's codebook as a shareable JSON file
(docs/codebook.md); another study starts from it with create_project --codebook-file or the New project page."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.projects.codebook import codebook_document
from annotator.projects.models import Project


class Command(BaseCommand):
    help = "Write a project's codebook as JSON (stdout, or --out FILE)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="project slug")
        parser.add_argument("--out", default="", help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"no project with slug {options['project']!r}")
        text = json.dumps(codebook_document(project=project), ensure_ascii=False, indent=2) + "\n"
        if not options["out"]:
            self.stdout.write(text, ending="")
            return
        with open(options["out"], "w", encoding="utf-8") as handle:
            handle.write(text)
        self.stderr.write(f"Wrote the codebook of '{project.slug}' to {options['out']}.")
