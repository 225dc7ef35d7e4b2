"""Tidy exports: CSV and JSON Lines renderers, and constant-memory streaming responses for big exports.

CSV is "tidy": one row per object; nested objects become dotted columns (`outlet.slug`), lists are written as
JSON, None is an empty cell, columns keep the serializer's order; cells go through `common.csvsafe.csv_cell`, so a
spreadsheet program never runs a text cell as a formula (CSV injection).
Paginated responses render their `results`. `?format=csv` and `Accept: text/csv` both select it; the output
reads with `pandas.read_csv(url)` as is.

For exports too big for one response, build rows lazily (`QuerySet.iterator(chunk_size=...)`) and return
`jsonl_streaming_response(rows)` or `csv_streaming_response(rows)`; memory stays flat whatever the row count.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.db.models import Model, QuerySet
from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer
from rest_framework.utils.encoders import JSONEncoder

from annotator.common.csvsafe import csv_cell

STREAM_CHUNK_BYTES = 64 * 1024
DEFAULT_ITERATOR_CHUNK_SIZE = 2000

JSONL_MEDIA_TYPE = "application/jsonl"
CSV_MEDIA_TYPE = "text/csv"


# --- cells and rows ------------------------------------------------------------------------------


def flatten_row(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings become dotted keys: {"outlet": {"slug": "x"}} -> {"outlet.slug": "x"}; lists stay whole."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if value:
                flat.update(flatten_row(value, prefix=f"{name}."))
            else:
                flat[name] = None
        else:
            flat[name] = value
    return flat


def rows_from_data(data: Any) -> list[Mapping[str, Any]]:
    """The objects a response holds: `results` of a paginated page, the items of a list, or the one object."""
    if data is None:
        return []
    if isinstance(data, Mapping) and isinstance(data.get("results"), list):
        data = data["results"]
    if isinstance(data, Mapping):
        return [data]
    if isinstance(data, list | tuple):
        return [item if isinstance(item, Mapping) else {"value": item} for item in data]
    return [{"value": data}]


def columns_for(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Column order: keys in the order first seen (serializer field order, then any later extras)."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _serializer_columns(data: Any) -> list[str]:
    """Header for an empty list, from the serializer that produced it (DRF's ReturnList keeps a reference)."""
    if isinstance(data, Mapping) and "results" in data:
        data = data["results"]
    serializer = getattr(data, "serializer", None)
    serializer = getattr(serializer, "child", serializer)
    return _field_names(getattr(serializer, "fields", None) or {})


def _field_names(fields: Mapping[str, Any], prefix: str = "") -> list[str]:
    names: list[str] = []
    for name, field in fields.items():
        nested = getattr(field, "fields", None)
        if nested and not getattr(field, "many", False):
            names.extend(_field_names(nested, prefix=f"{prefix}{name}."))
        else:
            names.append(f"{prefix}{name}")
    return names


class _LineBuffer:
    """A file-like sink for csv.writer that hands back what was written since the last call."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()

    def write(self, text: str) -> int:
        return self._buffer.write(text)

    def take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text


# --- renderers -------------------------------------------------------------------------------------


class CSVRenderer(BaseRenderer):
    media_type = CSV_MEDIA_TYPE
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        rows = [flatten_row(row) for row in rows_from_data(data)]
        columns = columns_for(rows) or _serializer_columns(data)
        if not columns:
            return b""
        sink = _LineBuffer()
        writer = csv.writer(sink, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row.get(column)) for column in columns])
        return sink.take().encode(self.charset)


class JSONLinesRenderer(BaseRenderer):
    """One JSON object per line (JSON Lines / NDJSON); paginated responses render their `results`."""

    media_type = JSONL_MEDIA_TYPE
    format = "jsonl"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        return "".join(jsonl_line(row) for row in rows_from_data(data)).encode(self.charset)


# --- streaming -------------------------------------------------------------------------------------


def jsonl_line(row: Any) -> str:
    return json.dumps(row, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":")) + "\n"


def _chunked(pieces: Iterable[str], chunk_bytes: int = STREAM_CHUNK_BYTES) -> Iterator[bytes]:
    """Join small strings into ~64 KiB byte chunks: far fewer writes than one per row, memory still bounded."""
    batch: list[str] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size >= chunk_bytes:
            yield "".join(batch).encode()
            batch, size = [], 0
    if batch:
        yield "".join(batch).encode()


def _streaming_response(chunks: Iterator[bytes], content_type: str, filename: str | None) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["X-Accel-Buffering"] = "no"  # let nginx pass the stream through instead of buffering it
    response["Cache-Control"] = "no-store"
    if filename:
        safe = "".join(ch for ch in filename if ch.isalnum() or ch in "._-") or "export"
        response["Content-Disposition"] = f'attachment; filename="{safe}"'
    return response


def jsonl_streaming_response(rows: Iterable[Any], *, filename: str | None = None) -> StreamingHttpResponse:
    """Stream `rows` (dicts, consumed lazily) as JSON Lines in constant memory."""
    return _streaming_response(_chunked(map(jsonl_line, rows)), f"{JSONL_MEDIA_TYPE}; charset=utf-8", filename)


def csv_lines(rows: Iterable[Mapping[str, Any]], *, columns: Sequence[str] | None = None) -> Iterator[str]:
    """CSV text line by line (header first), flattened and formula-escaped like CSVRenderer.

    Columns default to the first row's (flattened) keys. A later row with a key outside the columns raises
    ValueError rather than silently dropping data; pass `columns=` when rows differ in shape.
    """
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None and not columns:
        return
    first_flat = flatten_row(first) if first is not None else None
    header = list(columns) if columns else list(first_flat or {})
    allowed = set(header)
    sink = _LineBuffer()
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow(header)
    yield sink.take()
    pending = [first_flat] if first_flat is not None else []
    for flat in _chain_flat(pending, iterator):
        extra = flat.keys() - allowed
        if extra:
            raise ValueError(f"row has columns not in the header: {sorted(extra)}; pass columns= to csv_lines")
        writer.writerow([csv_cell(flat.get(column)) for column in header])
        yield sink.take()


def _chain_flat(first: list[dict[str, Any]], rest: Iterator[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from first
    for row in rest:
        yield flatten_row(row)


def csv_streaming_response(
    rows: Iterable[Mapping[str, Any]], *, columns: Sequence[str] | None = None, filename: str | None = None
) -> StreamingHttpResponse:
    """Stream `rows` (dicts, consumed lazily) as tidy CSV in constant memory."""
    return _streaming_response(_chunked(csv_lines(rows, columns=columns)), f"{CSV_MEDIA_TYPE}; charset=utf-8", filename)


STREAMING_FORMATS: dict[str, Callable[..., StreamingHttpResponse]] = {
    "jsonl": jsonl_streaming_response,
    "csv": csv_streaming_response,
}


def streaming_export_response(
    rows: Iterable[Mapping[str, Any]],
    *,
    fmt: str,
    filename_stem: str = "export",
    columns: Sequence[str] | None = None,
) -> StreamingHttpResponse:
    """Stream `rows` as `fmt` ("jsonl" or "csv"); an unknown format is a 400 with the known ones listed."""
    from annotator.common.errors import ApplicationError

    if fmt not in STREAMING_FORMATS:
        known = ", ".join(sorted(STREAMING_FORMATS))
        raise ApplicationError(f"Unknown export format {fmt!r}; use one of: {known}.", {"format": [known]})
    filename = f"{filename_stem}.{fmt}"
    if fmt == "csv":
        return csv_streaming_response(rows, columns=columns, filename=filename)
    return jsonl_streaming_response(rows, filename=filename)


def queryset_rows(
    queryset: QuerySet[Any],
    to_row: Callable[[Any], Mapping[str, Any]],
    *,
    chunk_size: int = DEFAULT_ITERATOR_CHUNK_SIZE,
) -> Iterator[Mapping[str, Any]]:
    """Rows from a queryset without loading it whole (QuerySet.iterator); `to_row` turns an item into a dict."""
    for item in queryset.iterator(chunk_size=chunk_size):
        yield to_row(item)


def model_row(instance: Model, fields: Sequence[str]) -> dict[str, Any]:
    """A dict of the named attributes; `a__b` follows relations and becomes the dotted column `a.b`."""
    row: dict[str, Any] = {}
    for field in fields:
        value: Any = instance
        for part in field.split("__"):
            value = getattr(value, part, None) if value is not None else None
        row[field.replace("__", ".")] = value
    return row
