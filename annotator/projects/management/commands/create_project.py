"""python manage.py create_project NAME --owner USERNAME [--slug SLUG] [--description TEXT] [--guidelines FILE.md]
[--codebook framing|babe|empty | --codebook-from PROJECT | --codebook-file CODEBOOK.json]: start a study.

The same service as the New project page and POST /api/v1/projects/ (annotator/projects/services.py::project_start);
run from the command line it may name any account as the owner and copy any project's codebook.
"""

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.common.errors import ApplicationError
from annotator.projects.codebook import CODEBOOK_TEMPLATES, codebook_choose
from annotator.projects.services import project_start


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read the {what} {path!r}: {exc.strerror}") from None


class Command(BaseCommand):
    help = "Start a project (study) with an owner and a codebook from a template, another project or a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the project's name")
        parser.add_argument("--owner", required=True, help="username of the project's first owner")
        parser.add_argument("--slug", default="", help="URL name (default: from the name)")
        parser.add_argument("--description", default="")
        parser.add_argument("--guidelines", default="", metavar="FILE", help="annotation guidelines (Markdown file)")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--codebook", choices=sorted(CODEBOOK_TEMPLATES), help="a template (default: framing)")
        source.add_argument("--codebook-from", default="", metavar="PROJECT", help="copy this project's codebook")
        source.add_argument("--codebook-file", default="", metavar="FILE", help="a codebook file (docs/codebook.md)")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"no user {options['owner']!r}")
        guidelines = _read(options["guidelines"], "guidelines").decode("utf-8-sig") if options["guidelines"] else ""
        path = options["codebook_file"]
        try:
            codebook, origin = codebook_choose(
                by=None,
                template=options["codebook"] or "",
                copy_from=options["codebook_from"],
                document=_read(path, "codebook file") if path else None,
                file_name=Path(path).name,
            )
            project = project_start(
                name=options["name"], owner=owner, by=None, codebook=codebook, codebook_origin=origin,
                slug=options["slug"], description=options["description"], guidelines=guidelines,
            )  # fmt: skip
        except ApplicationError as exc:
            details = "".join(f"\n  {field}: {' '.join(map(str, msgs))}" for field, msgs in exc.extra.items())
            raise CommandError(f"{exc.message}{details}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Project '{project.slug}' created, owner {owner.username}, codebook from {origin} "
                f"({len(codebook.labels)} label(s))."
            )
        )
