"""python manage.py check_codebook FILE [FILE …]: check codebook files (docs/codebook.md) with every rule a project
applies when it loads one, writing nothing; exit status 1 if any file is not a valid codebook."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.common.errors import ApplicationError
from annotator.projects.services import codebook_check


class Command(BaseCommand):
    help = "Check codebook files (JSON) without loading them into a project; every problem is named by its path."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", help="codebook files (framescope-codebook JSON)")

    def handle(self, *args: Any, **options: Any) -> None:
        invalid = 0
        for name in options["files"]:
            path = Path(name)
            if not path.is_file():
                self.stderr.write(f"{path}: no such file")
                invalid += 1
                continue
            try:
                summary = codebook_check(raw=path.read_bytes(), source=path.name)
            except ApplicationError as err:
                invalid += 1
                self.stderr.write(f"{path}: {err.message}")
                for where, problems in (err.extra or {}).items():
                    for problem in problems if isinstance(problems, list) else [problems]:
                        self.stderr.write(f"  {where}: {problem}")
                continue
            self.stdout.write(
                f"{path}: a valid codebook{' (' + summary['name'] + ')' if summary['name'] else ''}: "
                f"{summary['labels']} labels, {summary['questions']} questions, {summary['attributes']} attributes."
            )
            for note in summary["notes"]:
                self.stdout.write(f"  note: {note}")
        if invalid:
            raise CommandError(f"{invalid} of {len(options['files'])} file(s) are not valid codebooks.")
