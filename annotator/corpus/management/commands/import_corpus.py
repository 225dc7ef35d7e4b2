"""python manage.py import_corpus PATH [--format jsonl|csv|txt] [--outlet SLUG] [--delimiter ,|;|tab]
[--map FIELD=COLUMN,…] [--dry-run] [--strict]"""

import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.common.models import JobStatus
from annotator.corpus.importing.csv_layout import parse_column_map, parse_delimiter
from annotator.corpus.importing.errors import ImportFileError
from annotator.corpus.importing.readers import READERS, detect_format
from annotator.corpus.services import ImportSummary, import_batch_create, import_batch_run

ERRORS_PRINTED = 50


class Command(BaseCommand):
    # The system checks import every URL module (and with them scikit-learn): ~2 s of CPU and ~60 MB of memory
    # before the first row, for nothing the import uses. `manage.py check` still runs them.
    requires_system_checks: list[str] = []
    help = (
        "Import articles from a JSONL or CSV file (optionally .gz) or a folder of .txt files (or a .zip of one). "
        "See docs/importing.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="a .jsonl/.csv file (optionally .gz), a folder of .txt files or a .zip of one")
        parser.add_argument("--format", choices=sorted(READERS), help="default: from the extension")
        parser.add_argument(
            "--outlet",
            default="",
            help="outlet for rows without an 'outlet' field (txt: for files not in a sub-folder)",
        )
        parser.add_argument(
            "--delimiter", default="", help="CSV: the column delimiter, ',' ';' or 'tab' (default: detected)"
        )
        parser.add_argument(
            "--map",
            default="",
            metavar="FIELD=COLUMN,…",
            help="CSV: which column fills which field, e.g. text=body,outlet=source (default: common names)",
        )
        parser.add_argument("--dry-run", action="store_true", help="validate and count; write no articles")
        parser.add_argument("--strict", action="store_true", help="import nothing if any row is bad")
        parser.add_argument("--batch-size", type=int, default=settings.IMPORT_BATCH_SIZE, help="rows per commit")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        if not path.exists():
            raise CommandError(f"{path}: no such file or folder")
        try:
            format = options["format"] or detect_format(path)
            delimiter, column_map = parse_delimiter(options["delimiter"]), parse_column_map(options["map"])
        except ImportFileError as exc:
            raise CommandError(exc.message) from None
        if (delimiter or column_map) and format != "csv":
            raise CommandError(f"--delimiter and --map apply to CSV files; {path.name} is read as {format}")
        batch = import_batch_create(
            source_name=str(path.resolve()), format=format, outlet_slug=options["outlet"], delimiter=delimiter,
            column_map=column_map, strict=options["strict"], dry_run=options["dry_run"],
        )  # fmt: skip
        progress = _Progress(self.stderr, tty=sys.stderr.isatty() and options["verbosity"] > 0)
        try:
            summary = import_batch_run(
                batch_id=batch.pk, path=path, batch_size=options["batch_size"], on_progress=progress.update
            )
        finally:
            progress.close()
        self._report(summary, path)

    def _report(self, summary: ImportSummary, path: Path) -> None:
        for error in summary.errors[:ERRORS_PRINTED]:
            self.stderr.write(f"{error['source']}:{error['line']}: {error['message']}")
        if summary.rejected > ERRORS_PRINTED:
            self.stderr.write(
                f"… and {summary.rejected - ERRORS_PRINTED} more rejected rows (import batch {summary.batch_id})"
            )
        if summary.status == JobStatus.FAILED:
            raise CommandError(f"import of {path} failed: {summary.error_message}")
        verb = "would create" if summary.dry_run else "created"
        line = (
            f"{'Dry run' if summary.dry_run else 'Import'} {summary.batch_id} of {path.name}: {summary.rows_read} rows read, "
            f"{summary.created} {verb}, {summary.duplicates} duplicates skipped, {summary.rejected} rejected, "
            f"{summary.outlets_created} outlets {verb}."
        )
        self.stdout.write(line)
        if summary.created == 0 and summary.duplicates and not summary.dry_run:
            self.stdout.write("Nothing new: every valid row was already in the database.")


class _Progress:
    """tqdm on a terminal (bytes with ETA, rows/s); otherwise a plain line every few seconds."""

    PLAIN_EVERY = 5.0

    def __init__(self, stream: Any, *, tty: bool) -> None:
        self.stream, self.tty, self.bar = stream, tty, None
        self.started = self.last = time.monotonic()

    def update(self, summary: ImportSummary) -> None:
        now = time.monotonic()
        rate = summary.rows_read / max(now - self.started, 1e-9)
        if self.tty:
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=summary.bytes_total or None, unit="B", unit_scale=True, file=sys.stderr)
            self.bar.update(summary.bytes_read - self.bar.n)
            self.bar.set_postfix(rows=summary.rows_read, rows_s=f"{rate:,.0f}", created=summary.created, refresh=False)
        elif now - self.last >= self.PLAIN_EVERY:
            self.last = now
            done = summary.bytes_read / summary.bytes_total if summary.bytes_total else 0.0
            eta = (now - self.started) * (1 - done) / done if done else 0.0
            self.stream.write(
                f"{summary.rows_read:,} rows ({done:.0%}) at {rate:,.0f} rows/s, ETA {eta:,.0f} s; "
                f"{summary.created:,} created, {summary.duplicates:,} duplicates, {summary.rejected:,} rejected"
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
