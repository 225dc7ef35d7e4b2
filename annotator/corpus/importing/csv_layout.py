"""How a CSV file is laid out: its encoding, its delimiter and which column holds which article field.

Spreadsheets write CSV in many ways: Excel's "CSV UTF-8" starts with a UTF-8 byte-order mark, its "Unicode text"
is UTF-16 with a BOM and tabs, and in much of Europe its CSV is separated by semicolons (BABE's
``final_labels_SG2.csv`` is). Columns are called ``body``, ``headline``, ``source``, ``date`` or ``news_link`` as
often as ``text``, ``title``, ``outlet``, ``published_at`` or ``url``. This module reads all of them as they are:

- the encoding from the byte-order mark (UTF-8 without one);
- the delimiter given (``--delimiter``), else detected on the file's head (:func:`detect_delimiter`);
- the columns by their common names (:data:`COMMON_NAMES`, case-insensitive), or as mapped (``--map
  text=body,outlet=source``); every other column is kept in the article's metadata under its own name.

Only the head is read here, so the same functions serve the import and the upload preview.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field

from annotator.corpus.importing.errors import ImportFileError

# The article fields a column can fill, and the column names that fill each one, in order of preference
# (the first one found wins; a second candidate stays in the metadata under its own name).
COMMON_NAMES: dict[str, tuple[str, ...]] = {
    "text": ("text", "body", "content"),
    "title": ("title", "headline"),
    "outlet": ("outlet", "source", "media", "publisher"),
    "published_at": ("published_at", "date", "published"),
    "url": ("url", "link", "news_link"),
    "external_id": ("external_id",),
    "byline": ("byline",),
    "language": ("language",),
}
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
DELIMITER_NAMES = {name: symbol for symbol, name in DELIMITERS.items()} | {"\\t": "\t"}
DETECT_RECORDS = 50  # records of the head compared per candidate delimiter

BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def parse_delimiter(value: str) -> str:
    """``,`` ``;`` or a tab, from the symbol or its name (``comma``, ``semicolon``, ``tab``, ``\\t``); "" detects."""
    if value in ("", *DELIMITERS):
        return value
    symbol = DELIMITER_NAMES.get(value.strip().lower())
    if symbol is None:
        raise ImportFileError(f"unknown delimiter {value!r}: use ',', ';' or 'tab' (or leave it out to detect it)")
    return symbol


def parse_column_map(value: str) -> dict[str, str]:
    """``"text=body,outlet=source"`` → ``{"text": "body", "outlet": "source"}`` (field → column), checked."""
    mapping: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, sep, column = (part.strip() for part in item.partition("="))
        if not sep or not name or not column:
            raise ImportFileError(f"column map item {item!r} is not FIELD=COLUMN (e.g. text=body,outlet=source)")
        if name not in COMMON_NAMES:
            raise ImportFileError(f"column map: {name!r} is no article field; map one of {', '.join(COMMON_NAMES)}")
        if name in mapping:
            raise ImportFileError(f"column map: {name!r} is mapped twice")
        mapping[name] = column
    return mapping


def detect_encoding(head: bytes) -> str:
    """The codec to read the file with: UTF-16 when it starts with a UTF-16 byte-order mark, else UTF-8.

    A UTF-8 BOM is read as UTF-8 (the header's first name loses the BOM); the ``utf-16`` codec reads the BOM and
    the byte order from it.
    """
    for bom, codec in BOMS:
        if head.startswith(bom):
            return codec
    return "utf-8"


def decode_head(head: bytes, encoding: str) -> str:
    """The head as text for detection: undecodable bytes replaced, a character cut at the end dropped."""
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False).lstrip("\ufeff")


def find_columns(header: list[str], column_map: dict[str, str] | None = None) -> dict[str, int]:
    """Field → index of the column that fills it: mapped columns, then common names (case-insensitive)."""
    names = [name.strip().lstrip("\ufeff") for name in header]
    found: dict[str, int] = {}
    for name, column in (column_map or {}).items():
        if column not in names:
            matches = [i for i, n in enumerate(names) if n.lower() == column.lower()]
            if not matches:
                raise ImportFileError(f"column map: there is no column {column!r} for {name}; the columns are {names}")
            found[name] = matches[0]
        else:
            found[name] = names.index(column)
    taken = set(found.values())
    lowered = [name.lower() for name in names]
    for name, candidates in COMMON_NAMES.items():
        if name in found:
            continue
        for candidate in candidates:
            if candidate in lowered and lowered.index(candidate) not in taken:
                found[name] = lowered.index(candidate)
                taken.add(found[name])
                break
    return found


def column_names(header: list[str], found: dict[str, int], *, source: str) -> list[str]:
    """The name each column's values are stored under: its field, or (metadata) its own name.

    A column that fills no field but is named like one (a ``text`` column when ``--map text=body``) would
    overwrite that field: refused, with the columns named, rather than losing either.
    """
    names = [name.strip().lstrip("\ufeff") for name in header]
    by_index = {index: name for name, index in found.items()}
    result = [by_index.get(i, name) for i, name in enumerate(names)]
    for i, name in enumerate(names):
        if i not in by_index and name in found:
            raise ImportFileError(
                f"{source}: column {name!r} has the name of the field {name!r}, which is taken from column "
                f"{names[found[name]]!r}: rename one of them, or map the field to the column you want"
            )
    return result


def missing_text_message(source: str, header: list[str], delimiter: str) -> str:
    """Why a header gives no text column, naming the columns found (and a likely delimiter mix-up)."""
    names = [name.strip().lstrip("\ufeff") for name in header]
    hint = ""
    if len(names) == 1 and any(sep in names[0] for sep in (*DELIMITERS, "|") if sep != delimiter):
        hint = (
            f" (read with the delimiter {DELIMITERS.get(delimiter, delimiter)!r}, the header is one column: "
            "give the file's delimiter with --delimiter)"
        )
    return (
        f"{source}: no text column: the columns are {names[:20]}{' …' if len(names) > 20 else ''}; the text is "
        f"read from a column named {', '.join(COMMON_NAMES['text'])}, or name it with --map text=COLUMN{hint}"
    )


def _records(text: str, delimiter: str) -> list[list[str]]:
    """The complete records of the head (the last line may be cut, so it is left out unless it is all there)."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines.pop()
    reader = csv.reader(io.StringIO("".join(lines), newline=""), delimiter=delimiter)
    records = []
    try:
        for record in reader:
            records.append(record)
            if len(records) > DETECT_RECORDS:
                break
    except csv.Error:
        pass
    return records


@dataclass(frozen=True, slots=True)
class _Candidate:
    delimiter: str
    has_text: bool
    width: int
    consistent: float
    order: int = field(compare=False, default=0)

    def score(self) -> tuple[bool, bool, float, int, int]:
        return (self.width > 1, self.has_text, self.consistent, self.width, -self.order)


def detect_delimiter(text: str, column_map: dict[str, str] | None = None) -> str:
    """The delimiter among ``,`` ``;`` and tab that splits the head best.

    Each candidate splits the head's records (quotes respected); the best one splits the header into more than one
    column, gives a text column (by its common names or the map), and splits the most records into as many
    fields as the header; ties go to the comma, then the semicolon. (``csv.Sniffer`` is not used: on BABE's head,
    where unquoted sentences hold commas, it answers ``,`` for a semicolon file.)
    """
    candidates = []
    for order, delimiter in enumerate(DELIMITERS):
        records = _records(text, delimiter)
        if not records:
            continue
        header, rows = records[0], records[1:]
        try:
            has_text = "text" in find_columns(header, column_map)
        except ImportFileError:
            has_text = False
        consistent = sum(len(row) == len(header) for row in rows) / len(rows) if rows else 0.0
        candidates.append(_Candidate(delimiter, has_text, len(header), consistent, order))
    if not candidates:
        return ","
    return max(candidates, key=_Candidate.score).delimiter
