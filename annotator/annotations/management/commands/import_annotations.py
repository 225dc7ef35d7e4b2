"""python manage.py import_annotations PATH --project SLUG --format native|doccano|doccano-classification|labelstudio|
conll|csv|babe [--annotator USER] [--layer annotator|gold] [--offset-unit utf16|grapheme|codepoint] [--user-map FILE]
[--question NAME] [--create-articles] [--dry-run]"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.annotations.exchange.babe import BabeImportReport, babe_import
from annotator.annotations.exchange.formats import READABLE_FORMATS
from annotator.annotations.exchange.importing import IMPORT_LAYERS, ImportReport, annotations_import, read_user_map
from annotator.annotations.exchange.offsets import OffsetUnit
from annotator.common.errors import ApplicationError
from annotator.projects.models import Project

ERRORS_PRINTED = 50


class Command(BaseCommand):
    help = "Import annotations into a project, all or nothing; a rerun adds no duplicates. See docs/exchange.md."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the file to import")
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--format", required=True, choices=[*READABLE_FORMATS, "babe"])
        parser.add_argument("--annotator", default="", help="attribute every span to this member (username)")
        parser.add_argument("--layer", default="", choices=["", *IMPORT_LAYERS], help="put every span in this layer")
        parser.add_argument(
            "--offset-unit",
            default="",
            choices=["", *OffsetUnit],
            help="doccano: what the offsets count (default: as the file says, else utf16 like doccano; grapheme for "
            "a doccano project in grapheme mode)",
        )
        parser.add_argument(
            "--user-map",
            default="",
            metavar="FILE",
            help="CSV of (the file's user id or e-mail, a member's username): Label Studio names users by number",
        )
        parser.add_argument(
            "--question",
            default="",
            help="doccano: the question its categories answer (text classification: default the project's only "
            "article question of single or multiple choice; a sequence-labelling file's cats only when given)",
        )
        parser.add_argument("--create-articles", action="store_true", help="add articles that match nothing")
        parser.add_argument("--dry-run", action="store_true", help="check everything, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"no project with slug {options['project']!r}")
        try:
            if options["format"] == "babe":
                self._babe(
                    babe_import(project=project, path=path, dry_run=options["dry_run"], annotator=options["annotator"])
                )
                return
            user_map = {}
            if options["user_map"]:
                map_path = Path(options["user_map"])
                if not map_path.is_file():
                    raise CommandError(f"{map_path}: no such file")
                with map_path.open(encoding="utf-8-sig", newline="") as handle:
                    user_map = read_user_map(handle, source=map_path.name)
            zipped = zipfile.is_zipfile(path)  # doccano's export of a project that is not collaborative
            with path.open("rb") if zipped else path.open(encoding="utf-8-sig", newline="") as handle:
                report = annotations_import(
                    project=project, fmt=options["format"], source=path.name, annotator=options["annotator"],
                    layer=options["layer"], dry_run=options["dry_run"], create_articles=options["create_articles"],
                    offset_unit=options["offset_unit"], user_map=user_map, question=options["question"],
                    **({"archive": handle} if zipped else {"stream": handle}),
                )  # fmt: skip
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: not UTF-8 text ({exc})") from None
        self._report(report)

    def _report(self, report: ImportReport) -> None:
        for error in report.errors[:ERRORS_PRINTED]:
            self.stderr.write(f"{error['source']}:{error['line']}: {error['message']}")
        if report.n_errors > ERRORS_PRINTED:
            self.stderr.write(f"… and {report.n_errors - ERRORS_PRINTED} more problems")
        verb = "created" if report.written else "to create"
        summary = (
            f"{report.records} records, {report.articles_matched} articles ({report.articles_created} {verb}, "
            f"{report.articles_linked} linked from the corpus), {report.spans_created} spans {verb}, "
            f"{report.spans_duplicate} duplicates skipped, {report.answers_created} answers {verb} "
            f"({report.answers_duplicate} duplicates skipped), {report.adjudications_created} adjudications {verb}; "
            f"offsets read as {report.offset_unit}."
        )
        if report.skipped:
            summary += f" Not spans, skipped: {report.skipped_text()}."
        if report.n_errors:
            raise CommandError(
                f"{report.n_errors} problem(s) in {report.records_with_errors} record(s); nothing was imported (an "
                f"import is all or nothing): the {report.records_held_back} good record(s) were not imported "
                f"either. Fix or remove the records named above and import again. {summary}"
            )
        self.stdout.write(("Dry run: " if report.dry_run else "Imported: ") + summary)

    def _babe(self, report: BabeImportReport) -> None:
        for message in report.messages:
            self.stdout.write(message)
        verb = "to create" if report.dry_run else "created"
        self.stdout.write(
            f"BABE {report.source}: {report.sentences} sentences; {report.articles_created} articles {verb} "
            f"({report.articles_existing} already there), {report.outlets_created} outlets {verb}, "
            f"{report.spans_created} 'loaded term' gold spans {verb} ({report.spans_existing} already there), "
            f"{report.adjudications_created} adjudications {verb}, {report.answers_created} answers to bias and "
            f"opinion {verb} ({report.answers_existing} already there; "
            f"{'as ' + report.answers_annotator if report.answers_annotator else 'gold'})."
        )
        if report.unmatched_count:
            self.stdout.write(f"{report.unmatched_count} marked word(s) not found in their sentence, e.g.:")
            for item in report.unmatched_examples:
                self.stdout.write(f"  line {item['line']}: {item['message']}")
