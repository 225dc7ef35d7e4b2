"""python manage.py export_annotations --project SLUG --format native|doccano|doccano-classification|labelstudio|conll|
csv|answers-csv [--layer all|annotator|gold|suggestion] [--annotator USER] [--offset-unit utf16|grapheme|codepoint]
[--question NAME] [-o FILE]"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.annotations.exchange.export import EXPORT_LAYERS, export_scope, export_text
from annotator.annotations.exchange.formats import FORMATS
from annotator.annotations.exchange.offsets import OffsetUnit
from annotator.common.errors import ApplicationError
from annotator.projects.models import Project


class Command(BaseCommand):
    help = "Export a project's annotations (streamed; stdout by default). See docs/exchange.md."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--format", required=True, choices=list(FORMATS))
        parser.add_argument("--layer", default="all", choices=list(EXPORT_LAYERS), help="default: all (human layers)")
        parser.add_argument("--annotator", default="", help="only this member's spans (username)")
        parser.add_argument(
            "--offset-unit",
            default="",
            choices=["", *OffsetUnit],
            help="doccano: what the offsets count (default utf16, as doccano counts; grapheme for a project in "
            "grapheme mode)",
        )
        parser.add_argument(
            "--question",
            default="",
            help="doccano-classification: the question whose answers are the categories (default: the project's only "
            "article question of single or multiple choice)",
        )
        parser.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
        parser.add_argument("--chunk-size", type=int, default=1000, help="articles per database round trip")

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"no project with slug {options['project']!r}")
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1")
        try:
            scope = export_scope(project=project, layer=options["layer"], annotator=options["annotator"])
            pieces = export_text(
                project=project, fmt=options["format"], scope=scope, chunk_size=options["chunk_size"],
                offset_unit=options["offset_unit"], question=options["question"],
            )  # fmt: skip
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if options["output"] == "-":
            for piece in pieces:
                sys.stdout.write(piece)
            sys.stdout.flush()
            return
        path = Path(options["output"])
        with path.open("w", encoding="utf-8", newline="") as handle:
            for piece in pieces:
                handle.write(piece)
        self.stderr.write(f"Wrote {path} ({path.stat().st_size:,} bytes).")
