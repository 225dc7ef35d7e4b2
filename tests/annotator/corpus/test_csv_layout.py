"""CSV files as spreadsheets write them: delimiters, BOMs, UTF-16, column names, explicit maps; and the preview."""

import codecs
import csv
import gzip
import io

import pytest
from django.core.management import CommandError, call_command

from annotator.corpus.importing.csv_layout import (
    detect_delimiter,
    detect_encoding,
    find_columns,
    parse_column_map,
    parse_delimiter,
)
from annotator.corpus.importing.errors import ImportFileError
from annotator.corpus.importing.preview import import_preview
from annotator.corpus.importing.readers import reader_for
from annotator.corpus.models import Article, ImportBatch

LIMIT = 10**9
# BABE's own layout (final_labels_SG2.csv): semicolons, unquoted sentences full of commas, a UTF-8 BOM; the
# sentences here are invented.
BABE_HEADER = "text;news_link;outlet;topic;type;label_bias;label_opinion;biased_words"
BABE_ROWS = [
    "The council, after a long night, approved the budget.;https://example.org/a;Daily Planet;budget;center;"
    "Non-biased;Entirely factual;[]",
    '"Officials called the so-called ""reform"" a disaster, again.";https://example.org/b;Morning Star;reform;left;'
    "Biased;Expresses writer’s opinion;['disaster']",
    "Crowds cheered 😀 as the mayor, smiling, spoke.;https://example.org/c;Daily Planet;city;right;No agreement;"
    "Somewhat factual but also opinionated;[]",
]


def babe_file(tmp_path, *, bom: bool = True):
    path = tmp_path / "final_labels_SG2.csv"
    data = ("\n".join([BABE_HEADER, *BABE_ROWS]) + "\n").encode("utf-8")
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return path


def rows_of(path, **options):
    return list(reader_for(path, format=None, max_decompressed_bytes=LIMIT, **options).rows())


def table(delimiter: str, rows: list[list[str]]) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


# --- detection ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_detected_even_when_texts_hold_the_others(delimiter):
    rows = [["outlet", "title", "text"]] + [
        ["Daily Planet", f"Title {i}; part {i}", f"Text, with commas; and semicolons\tand tabs {i}"] for i in range(5)
    ]
    assert detect_delimiter(table(delimiter, rows)) == delimiter


def test_babe_head_is_semicolon_although_its_sentences_are_full_of_commas():
    head = "\n".join([BABE_HEADER, *BABE_ROWS])
    assert detect_delimiter(head) == ";"


def test_a_cut_last_line_does_not_decide_the_delimiter():
    head = "title;text\nOne;a, b, c\nTwo;d, e\nThree;f, g, h, i, j, k, l, m"  # the head ends inside a record
    assert detect_delimiter(head) == ";"


@pytest.mark.parametrize(
    ("head", "encoding"),
    [(b"text\n", "utf-8"), (codecs.BOM_UTF8 + b"text\n", "utf-8"), ("text\n".encode("utf-16"), "utf-16")],
)
def test_encoding_from_the_byte_order_mark(head, encoding):
    assert detect_encoding(head) == encoding
    assert detect_encoding("text\n".encode("utf-16-be").join([codecs.BOM_UTF16_BE, b""])) == "utf-16"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["Body", "Headline", "Source", "Date", "Link"],
         {"text": 0, "title": 1, "outlet": 2, "published_at": 3, "url": 4}),
        (["content", "media", "published", "news_link"], {"text": 0, "outlet": 1, "published_at": 2, "url": 3}),
        (["text", "body", "publisher", "outlet"], {"text": 0, "outlet": 3}),  # the first name of the list wins
        (["external_id", "byline", "language", "content"],
         {"text": 3, "external_id": 0, "byline": 1, "language": 2}),
    ],
)  # fmt: skip
def test_columns_are_found_by_common_names(header, expected):
    assert find_columns(header) == expected


def test_column_map_and_delimiter_options_are_checked():
    assert parse_column_map(" text = Body , outlet=source ") == {"text": "Body", "outlet": "source"}
    assert [parse_delimiter(v) for v in (",", ";", "tab", "\\t", "Semicolon", "")] == [",", ";", "\t", "\t", ";", ""]
    for bad, message in [("text", "not FIELD=COLUMN"), ("body=text", "no article field"), ("text=a,text=b", "twice")]:
        with pytest.raises(ImportFileError, match=message):
            parse_column_map(bad)
    with pytest.raises(ImportFileError, match="unknown delimiter '|'"):
        parse_delimiter("|")
    with pytest.raises(ImportFileError, match=r"no column 'corps' for text; the columns are \['body', 'source'\]"):
        find_columns(["body", "source"], {"text": "corps"})


# --- reading -----------------------------------------------------------------------------------------------------


def test_babe_file_reads_as_a_corpus_with_no_conversion(tmp_path):
    rows = rows_of(babe_file(tmp_path))
    assert [row.error for row in rows] == [None, None, None]
    first = rows[1].fields
    assert first["text"] == 'Officials called the so-called "reform" a disaster, again.'
    assert (first["url"], first["outlet"], first["label_bias"]) == ("https://example.org/b", "Morning Star", "Biased")
    assert "news_link" not in first and first["biased_words"] == "['disaster']"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le-bom", "utf-8-sig"])
def test_excel_unicode_text_and_csv_utf8_files(tmp_path, codec):
    text = "Crowds cheered 😀 as the re\u0301gime, \u202bقالت\u202c, fell.\r\nSecond line."
    data = table("\t", [["Headline", "Body", "Source"], ["One", text, "Daily Planet"], ["Two", "plain", "Star"]])
    path = tmp_path / "export.csv"
    if codec == "utf-16-le-bom":
        path.write_bytes(codecs.BOM_UTF16_LE + data.encode("utf-16-le"))
    else:
        path.write_bytes(data.encode(codec))
    rows = rows_of(path)
    assert [row.fields["text"] for row in rows] == [text, "plain"]
    assert rows[0].fields == {"title": "One", "text": text, "outlet": "Daily Planet"}
    assert [row.line for row in rows] == [2, 4]


def test_gzipped_utf16_file(tmp_path):
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(table(";", [["text", "outlet"], ["Été 😀", "A"]]).encode("utf-16")))
    assert rows_of(path)[0].fields == {"text": "Été 😀", "outlet": "A"}


def test_explicit_map_wins_over_common_names_and_keeps_the_rest_as_metadata(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("summary,full_story,source,desk\ns,The story,Daily Planet,city\n", encoding="utf-8")
    (row,) = rows_of(path, column_map={"text": "full_story", "title": "summary"})
    assert row.fields == {"title": "s", "text": "The story", "outlet": "Daily Planet", "desk": "city"}


def test_a_column_named_like_a_mapped_field_is_refused_not_lost(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("text,body\nshort,long\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="column 'text' has the name of the field 'text', which is taken from"):
        rows_of(path, column_map={"text": "body"})


def test_a_given_delimiter_that_does_not_fit_says_so(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("outlet;text\nA;hello\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="the header is one column: give the file's delimiter with --delimiter"):
        rows_of(path, delimiter=",")
    assert rows_of(path, delimiter=";")[0].fields == {"outlet": "A", "text": "hello"}


def test_delimiter_and_map_are_for_csv_only(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "x"}\n')
    with pytest.raises(ImportFileError, match="apply to CSV files, not to jsonl"):
        rows_of(path, delimiter=";")


def test_jsonl_with_a_utf8_bom(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(codecs.BOM_UTF8 + b'{"text": "x", "outlet": "A"}\n')
    assert rows_of(path)[0].fields == {"text": "x", "outlet": "A"}


# --- the import end to end ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_corpus_imports_babe_layout_and_reports_bad_rows(tmp_path, capsys):
    path = babe_file(tmp_path)
    with path.open("ab") as handle:
        handle.write(b"too;few\n")
    (tmp_path / "x.jsonl").write_text('{"text": "x"}\n')
    with pytest.raises(CommandError, match="--delimiter and --map apply to CSV files"):
        call_command("import_corpus", str(tmp_path / "x.jsonl"), "--delimiter", ";")
    call_command("import_corpus", str(path))
    captured = capsys.readouterr()
    assert "3 created" in captured.out and "1 rejected" in captured.out
    assert "final_labels_SG2.csv:5: expected 8 fields as in the header, got 2" in captured.err
    article = Article.objects.get(url="https://example.org/c")
    assert article.text == "Crowds cheered 😀 as the mayor, smiling, spoke."
    assert (article.outlet.name, article.metadata["topic"], article.metadata["label_opinion"]) == (
        "Daily Planet", "city", "Somewhat factual but also opinionated",
    )  # fmt: skip


@pytest.mark.django_db
def test_import_corpus_options_are_kept_on_the_batch(tmp_path):
    path = tmp_path / "wire.csv"
    path.write_text("story\tagency\tday\nIt rained.\tWire\t2024-05-01\n", encoding="utf-8")
    call_command("import_corpus", str(path), "--delimiter", "tab", "--map", "text=story,outlet=agency")
    batch = ImportBatch.objects.get()
    assert (batch.delimiter, batch.column_map) == ("\t", {"text": "story", "outlet": "agency"})
    article = Article.objects.get()
    assert (article.text, article.outlet.name, article.metadata) == ("It rained.", "Wire", {"day": "2024-05-01"})
    with pytest.raises(CommandError, match="no article field"):
        call_command("import_corpus", str(path), "--map", "story=text")


# --- the preview -------------------------------------------------------------------------------------------------


def test_preview_shows_the_first_rows_as_they_will_be_imported(tmp_path):
    head = babe_file(tmp_path).read_bytes()
    preview = import_preview(head=head, name="final_labels_SG2.csv", complete=True, rows=2)
    assert (preview.encoding, preview.delimiter, preview.delimiter_name, preview.delimiter_detected) == (
        "utf-8", ";", "semicolon", True,
    )  # fmt: skip
    assert [(c.name, c.field) for c in preview.columns][:3] == [
        ("text", "text"),
        ("news_link", "url"),
        ("outlet", "outlet"),
    ]
    assert [row.line for row in preview.rows] == [2, 3]
    assert preview.rows[0].fields["outlet_slug"] == "daily-planet"
    assert preview.rows[1].fields["metadata"]["biased_words"] == "['disaster']"


def test_preview_of_a_head_leaves_out_the_row_it_cuts_and_shows_rejections():
    data = "text,published_at\n" + "".join(f"Story {i},2024-05-0{i}\n" for i in range(1, 4)) + "Bad,yesterday\n"
    head = (data + "Cut in the mid").encode()
    preview = import_preview(head=head, name="a.csv", default_outlet="wire")
    assert [row.line for row in preview.rows] == [2, 3, 4, 5]
    assert preview.rows[0].fields["published_at"] == "2024-05-01T00:00:00+00:00"
    assert "unknown date format 'yesterday'" in preview.rows[3].error
    gz = import_preview(head=gzip.compress(data.encode())[:-12], name="a.csv.gz", default_outlet="wire")
    assert [row.line for row in gz.rows] == [2, 3, 4]  # a cut gzip head: what decompresses, less the cut row


def test_preview_refuses_what_the_import_refuses():
    with pytest.raises(ImportFileError, match="no text column"):
        import_preview(head=b"title,source\nx,y\n", name="a.csv", complete=True)
    with pytest.raises(ImportFileError, match="reads CSV and JSONL files, not txt"):
        import_preview(head=b"PK\x03\x04", name="a.zip")


@pytest.mark.data
@pytest.mark.django_db
def test_the_real_babe_file_imports_as_a_corpus_with_no_conversion(babe_file, capsys):
    call_command("import_corpus", str(babe_file), "--dry-run")
    out = capsys.readouterr().out
    n_rows = sum(1 for _ in csv.reader(babe_file.open(encoding="utf-8-sig", newline=""), delimiter=";")) - 1
    assert f"{n_rows} rows read, {n_rows} would create, 0 duplicates skipped, 0 rejected" in out
    preview = import_preview(head=babe_file.read_bytes()[:65536], name=babe_file.name)
    assert (preview.delimiter, preview.delimiter_detected) == (";", True)
    assert {c.name: c.field for c in preview.columns}["news_link"] == "url"
    assert all(row.error is None for row in preview.rows) and len(preview.rows) == 10
