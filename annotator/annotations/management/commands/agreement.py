"""`manage.py agreement --project SLUG [--label L] [--outlet O] [--codebook-version N] [--json] [--min-overlap 0.5]`."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.annotations.agreement import AgreementFilters, agreement_compute
from annotator.common.errors import ApplicationError
from annotator.projects.models import Project


class Command(BaseCommand):
    help = (
        "Inter-annotator agreement of a project (finished assignments only): spans and codebook questions, as a "
        "table or JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--label", help="Only this label (name).")
        parser.add_argument("--outlet", help="Only articles of this outlet (slug).")
        parser.add_argument("--codebook-version", type=int, help="Only work finished under this codebook version.")
        parser.add_argument("--calibration", action="store_true", help="Only the calibration articles.")
        parser.add_argument("--min-overlap", type=float, default=0.5, help="Jaccard threshold of the tolerant F1.")
        parser.add_argument("--json", action="store_true", help="Print the whole result as JSON.")

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with slug {options['project']!r}.")
        filters = AgreementFilters(
            label=options["label"],
            outlet=options["outlet"],
            codebook_version=options["codebook_version"],
            calibration=options["calibration"],
            threshold=options["min_overlap"],
        )
        try:
            result = agreement_compute(project=project, filters=filters)
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} {exc.extra or ''}".strip()) from exc
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2, sort_keys=True))
            return
        header = f"{'measure':<27} {'question':<16} {'label':<20} {'value':>8} {'n items':>8} {'n units':>8}"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for row in result["table"]:
            value = "—" if row["value"] is None else f"{row['value']:.3f}"
            self.stdout.write(
                f"{row['measure']:<27} {row['question'][:16]:<16} {row['label'][:20]:<20} {value:>8} "
                f"{row['n_items']:>8} {row['n_units']:>8}"
            )
        for note in result["report"].get("notes", []):
            self.stdout.write(f"note: {note}")
