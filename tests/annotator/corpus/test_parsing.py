"""Readers and the row parser, without a database."""

import gzip
from datetime import UTC, datetime, timedelta, timezone

import pytest

from annotator.corpus.importing.errors import ImportFileError
from annotator.corpus.importing.parsers import RowRejected, content_hash, parse_datetime, parse_row
from annotator.corpus.importing.readers import RawRow, detect_format, reader_for
from tests.annotator.corpus.helpers import write_csv, write_jsonl

LIMIT = 10**9


def rows_of(path, format=None):
    return list(reader_for(path, format=format, max_decompressed_bytes=LIMIT).rows())


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.jsonl", "jsonl"), ("a.JSONL.gz", "jsonl"), ("b.csv", "csv"), ("b.csv.gz", "csv"), ("x.ndjson", "jsonl")],
)
def test_detect_format(tmp_path, name, expected):
    assert detect_format(tmp_path / name) == expected


def test_detect_format_folder_and_unknown(tmp_path):
    assert detect_format(tmp_path) == "txt"
    with pytest.raises(ImportFileError, match="cannot tell the format"):
        detect_format(tmp_path / "data.gz")


def test_parse_datetime():
    assert parse_datetime("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_datetime("2024-05-01T12:30:00") == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert parse_datetime("2024-05-01T12:30:00Z") == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    offset = parse_datetime("2024-05-01T12:30:00+02:00")
    assert offset.utcoffset() == timedelta(hours=2) and offset.tzinfo == timezone(timedelta(hours=2))
    assert parse_datetime("") is None and parse_datetime(None) is None
    for bad in ("01/05/2024", "yesterday", "2024-13-01", 1714560000):
        with pytest.raises(RowRejected, match="unknown date format"):
            parse_datetime(bad)


def test_parse_row_keeps_text_exactly_and_extra_fields_as_metadata():
    text = "  “Curly” quotes, it’s 😀\r\nCRLF line\n\ttab  "
    row = parse_row(RawRow("f.jsonl", 3, {"outlet": "Le Monde", "text": text, "section": "world", "rank": 2}))
    assert row.text == text
    assert row.content_hash == content_hash(text) and len(row.content_hash) == 64
    assert row.outlet_slug == "le-monde" and row.outlet_name == "Le Monde"
    assert row.metadata == {"section": "world", "rank": 2}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"outlet": "A"}, "missing text"),
        ({"outlet": "A", "text": "   "}, "missing text"),
        ({"outlet": "A", "text": 12}, "text must be a string"),
        ({"text": "x"}, "missing outlet"),
        ({"outlet": "!!!", "text": "x"}, "no letters or digits"),
        ({"outlet": "A", "text": "x", "title": "t" * 1001}, "title too long: 1001 characters (maximum 1000)"),
        ({"outlet": "A", "text": "x", "url": "https://x/" + "u" * 2000}, "url too long"),
        ({"outlet": "A", "text": "x", "url": "ftp://x"}, "url must start with http"),
        ({"outlet": "A", "text": "x", "external_id": "e" * 256}, "external_id too long: 256"),
        ({"outlet": "A", "text": "x", "published_at": "May 1st"}, "unknown date format"),
        ({"outlet": "A", "text": "a\x00b"}, "NUL"),
        ({"outlet": "A", "text": "bad \ud800 surrogate"}, "unpaired surrogate"),
        ({"outlet": "A", "text": "x", "title": ["list"]}, "title must be a string"),
    ],
)
def test_parse_row_rejects_with_reason(fields, message):
    with pytest.raises(RowRejected) as excinfo:
        parse_row(RawRow("f", 1, fields))
    assert message in str(excinfo.value)


def test_default_outlet_applies_to_rows_without_one():
    row = parse_row(RawRow("f", 1, {"text": "x"}), default_outlet="wire")
    assert row.outlet_slug == "wire"
    assert parse_row(RawRow("f", 1, {"text": "x", "outlet": "Other"}), default_outlet="wire").outlet_slug == "other"


def test_jsonl_reader_reports_bad_lines_with_numbers(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"text": "one"}\n\n{broken\n[1, 2]\n{"text": "caf\xe9"}\n{"text": "two"}\n')
    rows = rows_of(path)
    assert [(r.line, r.fields is not None) for r in rows] == [(1, True), (3, False), (4, False), (5, False), (6, True)]
    assert rows[1].error.startswith("invalid JSON")
    assert rows[2].error == "expected a JSON object, got list"
    assert rows[3].error.startswith("invalid UTF-8")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello, this is not json\n", "is not a JSONL file"),
        (b'[{"text": "a"}, {"text": "b"}]\n', "is not a JSONL file"),
        (b"\x00\x01\x02binary\x00", "binary"),
        (b"PK\x03\x04zipdata", "zip archive"),
    ],
)
def test_jsonl_reader_malformed_file_is_one_error(tmp_path, content, message):
    path = tmp_path / "a.jsonl"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        rows_of(path)


def test_csv_reader_quoted_newlines_and_line_numbers(tmp_path):
    path = write_csv(tmp_path / "a.csv", ["outlet", "text", "extra"],
                     [["A", "multi\r\nline “text”", "x"], ["A", "second", "y"]])  # fmt: skip
    rows = rows_of(path)
    assert [r.line for r in rows] == [2, 4]
    assert rows[0].fields == {"outlet": "A", "text": "multi\r\nline “text”", "extra": "x"}


def test_csv_reader_field_count_and_utf8_errors(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"outlet,text\nA,ok\nA,too,many\nA,caf\xe9\n")
    rows = rows_of(path)
    assert rows[1].error == "expected 2 fields as in the header, got 3" and rows[1].line == 3
    assert rows[2].error.startswith("invalid UTF-8") and rows[2].line == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"outlet,title\nA,t\n", r"no text column: the columns are \['outlet', 'title'\]"),
        (b"", "is empty"),
    ],
)
def test_csv_reader_bad_header_is_one_error(tmp_path, content, message):
    path = tmp_path / "a.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        rows_of(path)


def test_gzip_is_streamed_and_capped(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl.gz", [{"text": "x" * 1000}] * 50, gz=True)
    assert len(rows_of(path)) == 50
    reader = reader_for(path, format=None, max_decompressed_bytes=10_000)
    with pytest.raises(ImportFileError, match="IMPORT_MAX_DECOMPRESSED_BYTES"):
        reader.check_decompressed_size()
    assert gzip.decompress(path.read_bytes()).count(b"\n") == 50


def test_txt_folder_reader(tmp_path):
    (tmp_path / "b.txt").write_bytes("Second title\r\nBody ’two’\r\n".encode())
    (tmp_path / "a.txt").write_bytes(b"First title\nBody one\n\nPara 2")
    (tmp_path / "c.txt").write_bytes(b"Bad \xff title\nbody")
    (tmp_path / "ignored.md").write_text("not an article")
    rows = rows_of(tmp_path)
    assert rows[0].fields == {"title": "First title", "text": "Body one\n\nPara 2", "external_id": "a"}
    assert rows[1].fields == {"title": "Second title", "text": "Body ’two’\r\n", "external_id": "b"}
    assert rows[2].source == "c.txt" and rows[2].error.startswith("invalid UTF-8")


def _chunks_as_data(path, parallel):
    from annotator.corpus.importing.pipeline import parsed_chunks

    reader = reader_for(path, format=None, max_decompressed_bytes=LIMIT)
    chunks = list(parsed_chunks(reader, size=3, parallel=parallel))
    # The parser process sends each text as its UTF-8 bytes (made for the hash anyway); in process it stays a str.
    assert all(isinstance(r.text, bytes if parallel else str) for c in chunks for r in c.rows)
    return [
        (c.rows_read, c.bytes_read,
         [(r.line, r.text.decode() if parallel else r.text, r.content_hash, r.n_tokens, r.published_at)
          for r in c.rows],
         c.errors)
        for c in chunks
    ]  # fmt: skip


def test_parsing_in_a_child_process_gives_the_same_chunks(tmp_path):
    rows = [{"outlet": "A", "text": f"it’s “row” {i} 😀\r\n", "published_at": "2024-01-02T03:04:05+02:00"}
            for i in range(8)] + ['{"outlet": "A"}', "{broken"]  # fmt: skip
    path = write_jsonl(tmp_path / "a.jsonl.gz", rows, gz=True)
    in_process = _chunks_as_data(path, parallel=False)
    assert in_process == _chunks_as_data(path, parallel=True)
    assert [len(chunk[3]) for chunk in in_process] == [0, 0, 1, 1]


def test_a_file_error_in_the_child_process_is_raised_here(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"not json at all\n")
    with pytest.raises(ImportFileError, match="is not a JSONL file"):
        _chunks_as_data(path, parallel=True)


def test_fewer_gc_collections_raises_the_threshold_and_restores_it():
    import gc

    from annotator.corpus.importing.pipeline import IMPORT_GC_THRESHOLD, fewer_gc_collections

    before = gc.get_threshold()
    with fewer_gc_collections():
        assert gc.get_threshold() == (IMPORT_GC_THRESHOLD, *before[1:])
        assert gc.isenabled()
    assert gc.get_threshold() == before
