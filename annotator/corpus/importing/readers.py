"""Readers turn a file (or a folder of .txt files, or a .zip of one) into raw rows, streaming: memory does not grow
with size.

Each reader yields ``RawRow(line, fields, error)``: ``fields`` is the row as a dict of field name → value, or
``error`` says why the row could not be read (invalid UTF-8, invalid JSON). A file that cannot be read at all
raises ``ImportFileError`` before its first row, so nothing is written.
"""

import codecs
import csv
import gzip
import io
import os
import sys
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

import orjson

from annotator.corpus.importing.csv_layout import (
    column_names,
    decode_head,
    detect_delimiter,
    detect_encoding,
    find_columns,
    missing_text_message,
)
from annotator.corpus.importing.errors import ImportFileError

GZIP_MAGIC = b"\x1f\x8b"
SNIFF_BYTES = 8192
HEAD_BYTES = 64 * 1024  # what the CSV encoding and delimiter are detected on
EXTENSION_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(slots=True)
class RawRow:
    source: str
    line: int
    fields: dict[str, Any] | None = None
    error: str | None = None


def detect_format(path: Path) -> str:
    """The format implied by a path: a folder or a ``.zip`` is ``txt``; ``x.jsonl``, ``x.csv`` and their ``.gz``
    forms."""
    if path.is_dir() or path.suffix.lower() == ".zip":
        return "txt"
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in EXTENSION_FORMATS:
        return EXTENSION_FORMATS[suffixes[-1]]
    raise ImportFileError(
        f"cannot tell the format of {path.name!r} from its extension: use .jsonl, .csv (optionally .gz) "
        "or a folder of .txt files (or a .zip of one), or pass --format jsonl|csv|txt"
    )


class _CappedStream(io.RawIOBase):
    """A decompressed stream that refuses to yield more than ``limit`` bytes (a zip bomb stops here)."""

    def __init__(self, inner: IO[bytes], limit: int, name: str) -> None:
        self.inner, self.limit, self.name, self.seen = inner, limit, name, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        self.seen += len(data)
        if self.seen > self.limit:
            raise ImportFileError(
                f"{self.name}: the decompressed data exceeds the limit of {self.limit:,} bytes "
                "(settings.IMPORT_MAX_DECOMPRESSED_BYTES); nothing was imported"
            )
        buffer[: len(data)] = data
        return len(data)


class Reader:
    """Base reader: opens ``path`` (plain or gzip), tracks ``bytes_read``/``bytes_total`` for progress."""

    format: ClassVar[str] = ""

    def __init__(self, path: Path, *, max_decompressed_bytes: int, head: bytes | None = None) -> None:
        self.path = Path(path)
        self.max_decompressed_bytes = max_decompressed_bytes
        self.source = self.path.name
        self._raw: IO[bytes] | None = None
        # A preview reads only the file's first bytes (decompressed, if it is gzip): ``head`` holds them.
        self._head = _decompressed_head(head) if head is not None else None
        self.bytes_total = len(head) if head is not None else self._total_size()

    def _total_size(self) -> int:
        if not self.path.exists():
            raise ImportFileError(f"{self.path}: no such file or folder")
        if self.path.is_dir():
            raise ImportFileError(f"{self.path} is a folder; only the txt format reads folders")
        return self.path.stat().st_size

    @property
    def bytes_read(self) -> int:
        """Bytes of the file on disk consumed so far (compressed bytes for .gz)."""
        return self._raw.tell() if self._raw is not None and not self._raw.closed else self.bytes_total

    def is_gzip(self) -> bool:
        with self.path.open("rb") as fh:
            return fh.read(2) == GZIP_MAGIC

    def check_decompressed_size(self) -> None:
        """Decompress a .gz once without keeping anything, so an oversized one fails before any write."""
        if not self.is_gzip():
            return
        with self.open_binary() as stream:
            while stream.read(1 << 20):
                pass

    def open_binary(self) -> IO[bytes]:
        if self._head is not None:
            self._raw = io.BytesIO(self._head)
            return io.BufferedReader(self._raw)  # type: ignore[arg-type]
        self._raw = self.path.open("rb")
        if self._raw.read(2) == GZIP_MAGIC:
            self._raw.seek(0)
            capped = _CappedStream(gzip.GzipFile(fileobj=self._raw), self.max_decompressed_bytes, self.source)
            return io.BufferedReader(capped, buffer_size=1 << 20)
        self._raw.seek(0)
        return self._raw

    def rows(self) -> Iterator[RawRow]:
        raise NotImplementedError

    def check_outlet(self, default_outlet: str) -> None:
        """Refuse, before any write, a file whose rows could not get an outlet (rows here name their own)."""

    def read_head(self, size: int = HEAD_BYTES) -> bytes:
        """The first ``size`` bytes of the (decompressed) data."""
        with self.open_binary() as stream:
            return stream.read(size)

    def _sniff(self, stream: IO[bytes], *, text_may_hold_nul: bool = False) -> None:
        head = stream.peek(SNIFF_BYTES)[:SNIFF_BYTES] if hasattr(stream, "peek") else b""
        if b"\x00" in head and not text_may_hold_nul:
            raise ImportFileError(f"{self.source} looks like a binary file, not {self.format.upper()} text")
        if head.startswith(b"PK\x03\x04"):
            raise ImportFileError(
                f"{self.source} is a zip archive: only the txt format reads archives (a .zip of .txt files); "
                "unzip a zipped JSONL or CSV file first"
            )


def _decompressed_head(head: bytes) -> bytes:
    """A head as the readers see it: a gzip head is decompressed as far as it goes (its end is cut off)."""
    if not head.startswith(GZIP_MAGIC):
        return head
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head)
    except zlib.error as exc:
        raise ImportFileError(f"the file starts like gzip but cannot be decompressed ({exc})") from None


def _decode_line(raw: bytes) -> tuple[str | None, str | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"invalid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"


def _load_json_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(object, None) or (None, reason). orjson parses the bytes directly and checks the UTF-8 as it goes."""
    try:
        fields = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        text, error = _decode_line(raw)
        return None, error if text is None else f"invalid JSON: {exc}"
    if not isinstance(fields, dict):
        return None, f"expected a JSON object, got {type(fields).__name__}"
    return fields, None


class JsonlReader(Reader):
    """One JSON object per line; blank lines are skipped. A first line that is not JSON fails the whole file."""

    format = "jsonl"

    def rows(self) -> Iterator[RawRow]:
        with self.open_binary() as stream:
            stream = stream if hasattr(stream, "peek") else io.BufferedReader(stream)  # type: ignore[arg-type]
            self._sniff(stream)
            seen_good = False
            for number, raw in enumerate(stream, start=1):
                if number == 1:
                    raw = raw.removeprefix(codecs.BOM_UTF8)
                if not raw.strip():
                    continue
                fields, error = _load_json_line(raw)
                if error is None:
                    seen_good = True
                    yield RawRow(self.source, number, fields)
                    continue
                if not seen_good:
                    raise ImportFileError(
                        f"{self.source} is not a JSONL file (one JSON object per line): line {number}: {error}"
                    )
                yield RawRow(self.source, number, error=error)


class CsvReader(Reader):
    """A header row and one record per article; quoted fields may span lines.

    The encoding (UTF-8, with or without a BOM, or UTF-16 with a BOM) and the delimiter (``,`` ``;`` or tab,
    unless given) are found on the file's head, and the columns are mapped to article fields by their common
    names or by ``column_map`` (see ``csv_layout``).
    """

    format = "csv"

    def __init__(
        self,
        path: Path,
        *,
        max_decompressed_bytes: int,
        head: bytes | None = None,
        delimiter: str = "",
        column_map: dict[str, str] | None = None,
    ) -> None:
        super().__init__(path, max_decompressed_bytes=max_decompressed_bytes, head=head)
        self.delimiter = delimiter
        self.column_map = dict(column_map or {})
        self.encoding = ""
        self.header: list[str] = []
        self.columns: dict[str, int] = {}

    def detect_layout(self) -> None:
        """Encoding and delimiter from the head (the delimiter only when not given)."""
        head = self.read_head()
        self.encoding = detect_encoding(head)
        if not self.delimiter:
            self.delimiter = detect_delimiter(decode_head(head, self.encoding), self.column_map)

    def rows(self) -> Iterator[RawRow]:
        self.detect_layout()
        with self.open_binary() as stream:
            stream = stream if hasattr(stream, "peek") else io.BufferedReader(stream)  # type: ignore[arg-type]
            self._sniff(stream, text_may_hold_nul=self.encoding == "utf-16")
            # UTF-8: surrogateescape keeps bad bytes visible per field, so one bad row does not stop the file.
            errors = "surrogateescape" if self.encoding == "utf-8" else "surrogatepass"
            text_stream = codecs.getreader(self.encoding)(stream, errors=errors)
            reader = csv.reader(_lines(text_stream), delimiter=self.delimiter)
            header = next(reader, None)
            names = self._names(header)
            previous_end = reader.line_num
            for record in reader:
                start, previous_end = previous_end + 1, reader.line_num
                if not record or record == [""]:
                    continue
                yield self._row(self.source, start, names, record, self.encoding)

    def _names(self, header: list[str] | None) -> list[str]:
        """What each column's values are stored under; a header without a text column fails the file."""
        if not header:
            raise ImportFileError(f"{self.source} is empty: a CSV needs a header row with a text column")
        self.header = [name.strip().lstrip("\ufeff") for name in header]
        self.columns = find_columns(header, self.column_map)
        if "text" not in self.columns:
            raise ImportFileError(missing_text_message(self.source, header, self.delimiter))
        return column_names(header, self.columns, source=self.source)

    @staticmethod
    def _row(source: str, line: int, names: list[str], record: list[str], encoding: str = "utf-8") -> RawRow:
        if len(record) != len(names):
            return RawRow(source, line, error=f"expected {len(names)} fields as in the header, got {len(record)}")
        for value in record:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                if encoding != "utf-8":
                    return RawRow(source, line, error=f"invalid {encoding.upper()} (an unpaired surrogate)")
                bad = value[exc.start].encode("utf-8", "surrogateescape")
                return RawRow(source, line, error=f"invalid UTF-8 (byte 0x{bad[0]:02x})")
        return RawRow(source, line, dict(zip(names, record, strict=True)))


def _lines(stream: IO[str]) -> Iterator[str]:
    """Lines with their endings intact (the csv module needs them to keep CRLF inside quoted fields)."""
    while True:
        line = stream.readline()
        if not line:
            return
        yield line


@dataclass(frozen=True, slots=True)
class _TxtFile:
    name: str  # shown in error messages: the file name, or the member's path inside the archive
    stem: str  # the article's external_id
    size: int
    location: Path | zipfile.ZipInfo
    outlet: str = ""  # the sub-folder the file lies in ("" directly in the folder: the import's --outlet)


class TxtFolderReader(Reader):
    """A folder of ``*.txt`` files, one article each, or a ``.zip`` archive of such a folder: the title on the first
    line, the body after it. The body is stored exactly (everything after the first line break); ``external_id``
    is the file stem.

    Files directly in the folder belong to the import's outlet (``--outlet``); files one sub-folder down belong to
    the outlet named like that sub-folder (``guardian/a.txt`` → outlet "guardian"), so a corpus kept as one folder
    per outlet imports in one run. Deeper folders are not read. An archive is read as the folder its ``.txt``
    members have in common (zipping ``corpus/`` gives ``corpus/guardian/a.txt``: the root is ``corpus``); macOS
    resource forks (``__MACOSX/``) and hidden files are skipped. Its declared sizes count against
    ``max_decompressed_bytes`` before anything is read, and :meth:`check_decompressed_size` reads every member once
    (checking its CRC), so a corrupt or oversized archive fails before any row is written.
    """

    format = "txt"

    def _total_size(self) -> int:
        if self.path.is_dir():
            self._archive = None
            self._files = _folder_files(self.path)
            if not self._files:
                raise ImportFileError(f"{self.path}: the folder or its sub-folders has no .txt files")
        elif self.path.is_file() and zipfile.is_zipfile(self.path):
            self._archive = self.path
            self._files = archive_txt_files(self.path, source=self.source, max_bytes=self.max_decompressed_bytes)
        elif self.path.exists():
            raise ImportFileError(
                f"{self.path}: the txt format reads a folder of .txt files or a .zip archive of one, not this file"
            )
        else:
            raise ImportFileError(f"{self.path}: no such file or folder")
        self._done = 0
        return sum(f.size for f in self._files)

    def check_outlet(self, default_outlet: str) -> None:
        unplaced = [f.name for f in self._files if not f.outlet]
        if unplaced and not default_outlet:
            raise ImportFileError(
                f"{self.source}: {len(unplaced)} .txt file(s) ({', '.join(unplaced[:3])}) lie directly in the "
                "folder and carry no outlet: give an outlet for them (--outlet), or put the files in one "
                "sub-folder per outlet"
            )

    @property
    def bytes_read(self) -> int:
        return self._done

    def check_decompressed_size(self) -> None:
        if self._archive is None:
            return
        for _ in self._read_all():
            pass
        self._done = 0

    def rows(self) -> Iterator[RawRow]:
        for number, (file, data) in enumerate(self._read_all(), start=1):
            self.source = file.name
            yield self._row(number, file, data)

    def _read_all(self) -> Iterator[tuple[_TxtFile, bytes]]:
        if self._archive is None:
            for file in self._files:
                data = file.location.read_bytes()  # type: ignore[union-attr]
                self._done += len(data)
                yield file, data
            return
        with zipfile.ZipFile(self._archive) as archive:
            for file in self._files:
                try:
                    with archive.open(file.location) as member:  # type: ignore[arg-type]
                        data = member.read(file.size + 1)  # its CRC is checked at the end
                except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                    raise ImportFileError(
                        f"{self.source}: {file.name} cannot be read ({exc}); nothing was imported"
                    ) from None
                if len(data) != file.size:
                    raise ImportFileError(
                        f"{self.source}: {file.name} holds more or less data than its header says; nothing was imported"
                    )
                self._done += len(data)
                yield file, data

    @staticmethod
    def _row(number: int, file: _TxtFile, data: bytes) -> RawRow:
        text, error = _decode_line(data)
        if text is None:
            return RawRow(file.name, 1, error=error)
        title, _, body = text.partition("\n")
        fields = {"title": title.removesuffix("\r"), "text": body, "external_id": file.stem}
        if file.outlet:
            fields["outlet"] = file.outlet
        return RawRow(file.name, 1, fields)


def archive_txt_files(file: Path | IO[bytes], *, source: str, max_bytes: int) -> list[_TxtFile]:
    """The article members of a ``.zip`` (a path or an open file; see :class:`TxtFolderReader`), checked: readable,
    some ``.txt`` members, none encrypted, declared sizes within ``max_bytes``, each directly in the members' common
    folder or one sub-folder (its outlet) below it. The import and the upload form both ask this."""
    try:
        with zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileError(f"{source}: not a readable zip archive ({exc})") from None
    members = [info for info in infos if not info.is_dir() and _is_article_member(info.filename)]
    if not members:
        raise ImportFileError(f"{source}: the archive has no .txt files")
    encrypted = [info.filename for info in members if info.flag_bits & 0x1]
    if encrypted:
        raise ImportFileError(f"{source}: {encrypted[0]} is encrypted; archives must not be encrypted")
    declared = sum(info.file_size for info in members)
    if declared > max_bytes:
        raise ImportFileError(
            f"{source}: the archive's .txt files hold {declared:,} bytes, over the limit of {max_bytes:,} bytes "
            "(settings.IMPORT_MAX_DECOMPRESSED_BYTES); nothing was imported"
        )
    root = _common_folder([info.filename for info in members])
    files = []
    for info in sorted(members, key=lambda info: info.filename):
        inside = info.filename[len(root) :].split("/")
        if len(inside) > 2:
            raise ImportFileError(
                f"{source}: {info.filename} lies {len(inside) - 1} folders below the archive's common folder "
                f"({root or '(root)'}); .txt files go directly in it or in one sub-folder per outlet"
            )
        outlet = inside[0] if len(inside) == 2 else ""
        files.append(_TxtFile(info.filename, Path(info.filename).stem, info.file_size, info, outlet))
    return files


def _is_txt(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".txt" and not path.name.startswith(".")


def _folder_files(root: Path) -> list[_TxtFile]:
    """The ``.txt`` files directly in ``root`` (no outlet) and in its sub-folders (the sub-folder's name)."""
    files = [_TxtFile(p.name, p.stem, p.stat().st_size, p) for p in sorted(root.iterdir()) if _is_txt(p)]
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files += [
            _TxtFile(f"{folder.name}/{p.name}", p.stem, p.stat().st_size, p, folder.name)
            for p in sorted(folder.iterdir())
            if _is_txt(p)
        ]
    return files


def _common_folder(names: list[str]) -> str:
    """The deepest folder (with its trailing slash, or "") that holds every one of ``names``."""
    folders = [name.split("/")[:-1] for name in names]
    common: list[str] = []
    for parts in zip(*folders, strict=False) if folders else ():
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "".join(part + "/" for part in common)


def _is_article_member(name: str) -> bool:
    """A ``.txt`` member that is not a macOS resource fork or a hidden file."""
    parts = name.split("/")
    return name.lower().endswith(".txt") and parts[0] != "__MACOSX" and not any(part.startswith(".") for part in parts)


READERS: dict[str, type[Reader]] = {reader.format: reader for reader in (JsonlReader, CsvReader, TxtFolderReader)}


def reader_for(
    path: Path | str,
    *,
    format: str | None,
    max_decompressed_bytes: int,
    head: bytes | None = None,
    delimiter: str = "",
    column_map: dict[str, str] | None = None,
) -> Reader:
    """The reader for ``path`` in ``format`` (inferred from the path when None); ``head``: only these first bytes
    (a preview). ``delimiter`` and ``column_map`` are CSV's."""
    path = Path(os.fspath(path))
    chosen = format or detect_format(path)
    if chosen not in READERS:
        raise ImportFileError(f"unknown format {chosen!r}; choose one of {', '.join(sorted(READERS))}")
    if chosen == CsvReader.format:
        return CsvReader(
            path, max_decompressed_bytes=max_decompressed_bytes, head=head, delimiter=delimiter, column_map=column_map
        )
    if delimiter or column_map:
        raise ImportFileError(f"a delimiter and a column map apply to CSV files, not to {chosen}")
    return READERS[chosen](path, max_decompressed_bytes=max_decompressed_bytes, head=head)
