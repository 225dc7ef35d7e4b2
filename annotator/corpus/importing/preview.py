"""The first rows of a file as the import would store them, read from the file's head only; no database access.

The upload page sends the first ``PREVIEW_HEAD_BYTES`` of the chosen file (the browser slices it, so a 1 GB file
is never sent for a preview) and shows what comes back: the detected encoding, delimiter and columns, and each
of the first rows as the import's own reader and ``parse_row`` see it, or the reason it would be rejected.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from annotator.corpus.importing.csv_layout import DELIMITERS
from annotator.corpus.importing.errors import ImportFileError
from annotator.corpus.importing.parsers import KNOWN_FIELDS, RowRejected, parse_row
from annotator.corpus.importing.readers import CsvReader, RawRow, detect_format, reader_for

PREVIEW_HEAD_BYTES = 256 * 1024
PREVIEW_ROWS = 10
PREVIEW_TEXT_CHARS = 400
PREVIEW_FORMATS = ("csv", "jsonl")


@dataclass
class PreviewColumn:
    name: str
    field: str | None  # the article field it fills; None: kept in the metadata under its name


@dataclass
class PreviewRow:
    source: str
    line: int
    fields: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class ImportPreview:
    format: str
    head_bytes: int
    complete: bool  # the head is the whole file
    encoding: str = ""
    delimiter: str = ""
    delimiter_name: str = ""
    delimiter_detected: bool = False
    columns: list[PreviewColumn] = field(default_factory=list)
    rows: list[PreviewRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _shown(row: RawRow, default_outlet: str) -> PreviewRow:
    try:
        article = parse_row(row, default_outlet=default_outlet)
    except RowRejected as exc:
        return PreviewRow(row.source, row.line, error=str(exc))
    text = article.text
    fields = {
        "outlet": article.outlet_name,
        "outlet_slug": article.outlet_slug,
        "title": article.title,
        "text": text if len(text) <= PREVIEW_TEXT_CHARS else text[:PREVIEW_TEXT_CHARS] + "…",
        "text_length": len(text),
        "url": article.url,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "external_id": article.external_id,
        "byline": article.byline,
        "language": article.language,
        "metadata": article.metadata,
    }
    return PreviewRow(row.source, row.line, fields=fields)


def import_preview(
    *,
    head: bytes,
    name: str,
    format: str = "",
    delimiter: str = "",
    column_map: dict[str, str] | None = None,
    default_outlet: str = "",
    complete: bool = False,
    rows: int = PREVIEW_ROWS,
) -> ImportPreview:
    """The first ``rows`` rows of a CSV or JSONL file from its first bytes (``complete``: they are all of it).

    A row cut off by the end of the head is left out. Raises ImportFileError with the import's own message for a
    file the import would refuse (no text column, binary, not JSONL).
    """
    chosen = format or detect_format(Path(name))
    if chosen not in PREVIEW_FORMATS:
        raise ImportFileError(f"the preview reads CSV and JSONL files, not {chosen}")
    reader = reader_for(
        Path(name), format=chosen, max_decompressed_bytes=len(head), head=head, delimiter=delimiter,
        column_map=column_map,
    )  # fmt: skip
    preview = ImportPreview(format=chosen, head_bytes=len(head), complete=complete)
    raw_rows = reader.rows()
    try:
        read = list(islice(raw_rows, rows + 1))
    except csv.Error:  # a quoted field cut off by the end of the head
        read = []
    if not complete and len(read) <= rows:
        read = read[:-1]  # the last row read may be cut off by the end of the head
    preview.rows = [_shown(row, default_outlet) for row in read[:rows]]
    if isinstance(reader, CsvReader):
        preview.encoding = reader.encoding
        preview.delimiter = reader.delimiter
        preview.delimiter_name = DELIMITERS.get(reader.delimiter, reader.delimiter)
        preview.delimiter_detected = not delimiter
        by_index = {index: name for name, index in reader.columns.items()}
        preview.columns = [PreviewColumn(column, by_index.get(i)) for i, column in enumerate(reader.header)]
    else:
        preview.encoding = "utf-8"
        keys = dict.fromkeys(key for row in read if row.fields for key in row.fields)
        preview.columns = [PreviewColumn(key, key if key in KNOWN_FIELDS else None) for key in keys]
    return preview
