"""import_corpus / import_batch_run end to end on the test database."""

import json
import zipfile
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotator.common.models import JobStatus
from annotator.corpus import services
from annotator.corpus.importing.parsers import content_hash
from annotator.corpus.management.commands import import_corpus
from annotator.corpus.models import Article, ImportBatch, Outlet
from annotator.corpus.selectors import import_batch_article_ids
from ml.tokenise import count_tokens
from tests.annotator.corpus.helpers import article, write_csv, write_jsonl
from tests.conftest import SEED_ARTICLE

pytestmark = pytest.mark.django_db

TRICKY = "  “Curly” quotes, it’s 😀 emoji\r\nCRLF line\nLF line\u00a0nbsp, café\t "


def run(path, *args):
    out, err = StringIO(), StringIO()
    call_command("import_corpus", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("parse_in_child", [False, True], ids=["in-process", "parser-process"])
def test_jsonl_import_stores_fields_and_text_exactly(tmp_path, monkeypatch, parse_in_child):
    # the parser process sends texts as UTF-8 bytes: COPY writes them as they are, INSERT (SQLite) decodes them
    monkeypatch.setattr("annotator.corpus.importing.pipeline.PARALLEL_MIN_BYTES", 0 if parse_in_child else 10**12)
    rows = [
        article(1, text=TRICKY, published_at="2024-05-01T10:00:00", url="https://ex.org/1", byline="A. Writer",
                language="en", section="world", tags=["a", "b"], title="Title 1 “é” 👩‍👩‍👧"),
        article(2, outlet="Evening Post", published_at="2024-05-02", external_id=""),
    ]  # fmt: skip
    out, _ = run(write_jsonl(tmp_path / "a.jsonl", rows))
    assert "2 rows read, 2 created, 0 duplicates skipped, 0 rejected, 2 outlets created" in out
    first = Article.objects.get(external_id="a1")
    assert first.text == TRICKY
    assert first.content_hash == content_hash(TRICKY) == __import__("hashlib").sha256(TRICKY.encode()).hexdigest()
    assert first.n_tokens == count_tokens(TRICKY)
    assert first.published_at.isoformat() == "2024-05-01T10:00:00+00:00"
    assert (first.url, first.byline, first.language) == ("https://ex.org/1", "A. Writer", "en")
    assert first.title == "Title 1 “é” 👩‍👩‍👧"
    assert first.metadata == {"section": "world", "tags": ["a", "b"]}
    assert first.outlet.name == "Daily Courier" and first.outlet.slug == "daily-courier"
    second = Article.objects.get(title="Title 2")
    assert second.outlet.slug == "evening-post" and second.external_id == ""
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.created_count, batch.rows_read, batch.outlets_created) == ("succeeded", 2, 2, 2)
    assert batch.bytes_read == batch.bytes_total == (tmp_path / "a.jsonl").stat().st_size
    assert set(import_batch_article_ids(batch_id=batch.pk)) == {first.pk, second.pk}


def test_csv_import(tmp_path):
    path = write_csv(tmp_path / "a.csv", ["outlet", "title", "text", "external_id", "published_at", "desk"],
                     [["Courier", "T1", TRICKY, "c1", "2024-01-01T00:00:00Z", "news"],
                      ["Courier", "T2", "second", "", "", ""]])  # fmt: skip
    out, _ = run(path)
    assert "2 created" in out
    stored = Article.objects.get(external_id="c1")
    assert stored.text == TRICKY and stored.metadata == {"desk": "news"}
    assert Article.objects.get(title="T2").published_at is None


def test_gz_import(tmp_path):
    run(write_jsonl(tmp_path / "a.jsonl.gz", [article(i) for i in range(5)], gz=True))
    assert Article.objects.count() == 5
    run(write_csv(tmp_path / "b.csv.gz", ["outlet", "text"], [["Gz", "one"], ["Gz", "two"]], gz=True))
    assert Article.objects.filter(outlet__slug="gz").count() == 2


def test_txt_folder_import_needs_an_outlet_for_its_own_files(tmp_path):
    folder = tmp_path / "txt"
    folder.mkdir()
    seed = SEED_ARTICLE
    (folder / seed.name).write_bytes(seed.read_bytes())
    (folder / "crlf.txt").write_bytes("A title\r\nBody “x”\r\n".encode())
    with pytest.raises(
        CommandError, match=r"2 \.txt file\(s\) .* carry no outlet: give an outlet for them \(--outlet\)"
    ):
        run(folder)
    assert Article.objects.count() == 0 and ImportBatch.objects.get().status == JobStatus.FAILED
    run(folder, "--outlet", "press-tv")
    title, _, body = seed.read_text(encoding="utf-8").partition("\n")
    stored = Article.objects.get(external_id=seed.stem)
    assert (stored.title, stored.text, stored.outlet.slug) == (title, body, "press-tv")
    assert Article.objects.get(external_id="crlf").text == "Body “x”\r\n"


def test_rerun_creates_nothing_new(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [article(i) for i in range(4)] + [{"outlet": "X", "text": "no id"}])
    run(path)
    out, _ = run(path)
    assert "5 rows read, 0 created, 5 duplicates skipped" in out and "Nothing new" in out
    assert Article.objects.count() == 5


def test_dedup_rules_within_file_and_against_db(tmp_path):
    rows = [
        article(1, text="first"),
        article(1, text="same external id, other text"),  # duplicate by (outlet, external_id)
        {"outlet": "Daily Courier", "text": "no id"},
        {"outlet": "Daily Courier", "text": "no id", "title": "other title"},  # duplicate by (outlet, hash)
        {"outlet": "Other Outlet", "text": "no id"},  # same text, other outlet: kept
        article(2, text="no id"),  # same text but an external id: kept
    ]
    out, _ = run(write_jsonl(tmp_path / "a.jsonl", rows), "--batch-size", "2")
    assert "6 rows read, 4 created, 2 duplicates skipped" in out
    assert Article.objects.get(external_id="a1").text == "first"
    assert Article.objects.filter(text="no id").count() == 3


def test_rerun_finds_both_kinds_of_key_across_outlets_in_one_chunk(tmp_path):
    rows = [article(1), article(1, outlet="Evening Post"), {"outlet": "Daily Courier", "text": "no id"},
            {"outlet": "Evening Post", "text": "no id"}, {"outlet": "Third", "text": "no id", "external_id": "a1"}]  # fmt: skip
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    assert "5 created" in run(path)[0]
    path.write_text(path.read_text() + json.dumps(article(2, outlet="Evening Post")) + "\n")
    out, _ = run(path)
    assert "6 rows read, 1 created, 5 duplicates skipped" in out
    assert Article.objects.count() == 6


def test_a_row_written_by_a_concurrent_import_after_the_lookup_is_kept_once(tmp_path, monkeypatch):
    """The window between the de-dup lookup and the write: the conflicting rows count as duplicates, the
    others are written (PostgreSQL: the COPY fails as a whole and the chunk is retried with INSERT)."""
    lookup = services._ImportRun._existing_keys

    def lookup_then_a_concurrent_write(import_run, rows):
        found = lookup(import_run, rows)
        outlet = Outlet.objects.get(slug="daily-courier")
        Article.objects.create(outlet=outlet, text="theirs", external_id="a1", content_hash=content_hash("theirs"))
        Article.objects.create(outlet=outlet, text="no id", content_hash=content_hash("no id"))
        return found

    monkeypatch.setattr(services._ImportRun, "_existing_keys", lookup_then_a_concurrent_write)
    rows = [article(0), article(1), article(2), {"outlet": "Daily Courier", "text": "no id", "title": "mine"}]
    out, _ = run(write_jsonl(tmp_path / "a.jsonl", rows))
    assert "4 rows read, 2 created, 2 duplicates skipped" in out
    assert Article.objects.get(external_id="a1").text == "theirs"
    assert Article.objects.get(text="no id").title == ""
    assert sorted(Article.objects.filter(batch__isnull=False).values_list("external_id", flat=True)) == ["a0", "a2"]


def test_metadata_of_every_json_type_is_stored_as_given(tmp_path):
    metadata = {"nested": {"list": [1, 2.5, None, True], "text": "café 😀 “q”"}, "empty": {}, "n": -7}
    run(write_jsonl(tmp_path / "a.jsonl", [article(1, **metadata), article(2)]))
    assert Article.objects.get(external_id="a1").metadata == metadata
    assert Article.objects.get(external_id="a2").metadata == {}


def test_copy_format_markers_and_offsets_are_stored_as_given(tmp_path):
    """Backslashes, tabs and the text format's NULL marker are data; a UTC offset is kept as the same instant."""
    text = "\\N\tback\\slash \\. end\\"
    run(
        write_jsonl(
            tmp_path / "a.jsonl", [article(1, text=text, title="\\N", published_at="2024-05-01T10:00:00+02:00")]
        )
    )
    stored = Article.objects.get(external_id="a1")
    assert (stored.text, stored.title) == (text, "\\N")
    assert stored.published_at.isoformat() == "2024-05-01T08:00:00+00:00"


def test_bad_rows_are_reported_and_good_rows_imported(tmp_path):
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps(article(1)),
        json.dumps({"outlet": "Daily Courier", "title": "no text"}),
        "{not json",
        json.dumps(article(2, published_at="01/02/2024")),
        json.dumps(article(3, title="t" * 1001)),
        json.dumps(article(4, url="https://x.org/" + "u" * 2000)),
        json.dumps(article(5, external_id="e" * 256)),
        json.dumps(article(6)),
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"outlet": "A", "text": "caf\xe9"}\n')
    out, err = run(path)
    assert "9 rows read, 2 created, 0 duplicates skipped, 7 rejected" in out
    batch = ImportBatch.objects.get()
    assert [(e["source"], e["line"]) for e in batch.errors] == [("mixed.jsonl", n) for n in (2, 3, 4, 5, 6, 7, 9)]
    messages = [e["message"] for e in batch.errors]
    assert messages[0] == "missing text" and messages[1].startswith("invalid JSON")
    assert "unknown date format '01/02/2024'" in messages[2]
    assert "title too long" in messages[3] and "url too long" in messages[4] and "external_id too long" in messages[5]
    assert messages[6].startswith("invalid UTF-8")
    assert "mixed.jsonl:2: missing text" in err
    assert set(Article.objects.values_list("external_id", flat=True)) == {"a1", "a6"}


def test_strict_writes_nothing_if_any_row_is_bad(tmp_path):
    Outlet.objects.create(name="Daily Courier", slug="daily-courier")
    Outlet.objects.create(name="A", slug="a")
    path = write_jsonl(tmp_path / "a.jsonl", [article(i) for i in range(5)] + [{"outlet": "A", "text": ""}])
    with pytest.raises(CommandError, match="strict mode: 1 row"):
        run(path, "--strict", "--batch-size", "2")
    assert Article.objects.count() == 0 and Outlet.objects.count() == 2
    batch = ImportBatch.objects.get()
    assert batch.status == JobStatus.FAILED and batch.errors == [
        {"source": "a.jsonl", "line": 6, "message": "missing text"}
    ]


def test_strict_requires_existing_outlets(tmp_path):
    Outlet.objects.create(name="Daily Courier", slug="daily-courier")
    path = write_jsonl(tmp_path / "a.jsonl", [article(1), article(2, outlet="Unknown Gazette")])
    with pytest.raises(CommandError, match="strict mode"):
        run(path, "--strict")
    assert Article.objects.count() == 0
    assert ImportBatch.objects.get().errors[0]["message"] == "unknown outlet 'Unknown Gazette' (strict mode)"
    run(write_jsonl(tmp_path / "b.jsonl", [article(1)]), "--strict")
    assert Article.objects.count() == 1 and Outlet.objects.count() == 1


def test_dry_run_writes_nothing_and_counts(tmp_path):
    Outlet.objects.create(name="Daily Courier", slug="daily-courier")
    rows = [article(1), article(1), article(2, outlet="New Outlet"), {"outlet": "A", "text": ""}]
    out, _ = run(write_jsonl(tmp_path / "a.jsonl", rows), "--dry-run", "--batch-size", "1")
    assert "Dry run" in out and "2 would create, 1 duplicates skipped, 1 rejected, 1 outlets would create" in out
    assert Article.objects.count() == 0 and Outlet.objects.count() == 1
    assert ImportBatch.objects.get().dry_run is True


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.jsonl", b"just some prose\nmore prose\n", "is not a JSONL file"),
        ("a.jsonl", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("a.csv", b"outlet,headline\nA,hello\n", r"no text column: the columns are \['outlet', 'headline'\]"),
        ("a.txt", b"hello", "cannot tell the format"),
    ],
)
def test_malformed_file_is_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message) as excinfo:
        run(path)
    assert "Traceback" not in str(excinfo.value)
    assert Article.objects.count() == 0 and Outlet.objects.count() == 0


def test_gz_over_the_decompressed_cap_writes_nothing(tmp_path, settings):
    settings.IMPORT_MAX_DECOMPRESSED_BYTES = 5_000
    path = write_jsonl(tmp_path / "big.jsonl.gz", [article(i, text="word " * 50) for i in range(40)], gz=True)
    with pytest.raises(CommandError, match="exceeds the limit of 5,000 bytes"):
        run(path, "--batch-size", "1")
    assert Article.objects.count() == 0 and Outlet.objects.count() == 0
    assert ImportBatch.objects.get().status == JobStatus.FAILED


def test_missing_path_and_bad_batch_size(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "nope.jsonl")
    with pytest.raises(CommandError, match="at least 1"):
        run(write_jsonl(tmp_path / "a.jsonl", [article(1)]), "--batch-size", "0")


def test_stored_error_list_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(services, "ERRORS_STORED_MAX", 3)
    run(write_jsonl(tmp_path / "a.jsonl", [article(0)] + [{"outlet": "A", "text": ""}] * 7))
    batch = ImportBatch.objects.get()
    assert batch.rejected_count == 7 and len(batch.errors) == 3 and batch.created_count == 1


def test_progress_is_committed_per_chunk(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [article(i) for i in range(7)])
    batch = services.import_batch_create(source_name="a.jsonl", format="jsonl")
    seen = []

    def on_progress(summary):
        stored = ImportBatch.objects.get(pk=batch.pk)
        seen.append((summary.rows_read, stored.rows_read, stored.created_count, stored.status))

    services.import_batch_run(batch_id=batch.pk, path=path, batch_size=3, on_progress=on_progress)
    assert seen == [(3, 3, 3, "running"), (6, 6, 6, "running"), (7, 7, 7, "running")]


def test_plain_progress_lines_when_not_a_tty(tmp_path, monkeypatch):
    monkeypatch.setattr(import_corpus._Progress, "PLAIN_EVERY", 0.0)
    _, err = run(write_jsonl(tmp_path / "a.jsonl", [article(i) for i in range(4)]), "--batch-size", "2")
    assert "2 rows (" in err and "rows/s, ETA" in err and "4 rows (100%)" in err


def test_rerunning_a_batch_counts_its_earlier_rows_as_created(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [article(i) for i in range(6)] + [article(0)])
    batch = services.import_batch_create(source_name="a.jsonl", format="jsonl")
    first = services.import_batch_run(batch_id=batch.pk, path=path, batch_size=2)
    again = services.import_batch_run(batch_id=batch.pk, path=path, batch_size=2)
    assert (first.created, first.duplicates) == (again.created, again.duplicates) == (6, 1)
    assert Article.objects.count() == 6


def test_post_import_hooks_get_the_summary(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(services, "POST_IMPORT_HOOKS", [calls.append])
    run(write_jsonl(tmp_path / "a.jsonl", [article(1), article(2)]))
    run(write_jsonl(tmp_path / "b.jsonl", [article(3)]), "--dry-run")
    assert len(calls) == 1
    assert list(import_batch_article_ids(batch_id=calls[0].batch_id)) == list(
        Article.objects.order_by("id").values_list("id", flat=True)
    )


def test_a_failing_post_import_hook_does_not_fail_the_import(tmp_path, monkeypatch, caplog):
    def broken(summary):
        raise RuntimeError("hook broke")

    monkeypatch.setattr(services, "POST_IMPORT_HOOKS", [broken])
    out, _ = run(write_jsonl(tmp_path / "a.jsonl", [article(1)]))
    assert "1 created" in out and ImportBatch.objects.get().status == JobStatus.SUCCEEDED
    assert "post-import hook" in caplog.text and "hook broke" in caplog.text


@pytest.mark.sqlite
def test_sqlite_import_raises_the_page_cache_only_for_the_run(tmp_path):
    from django.db import connection

    seen = []
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()

    def progress(summary):
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            seen.append(cursor.fetchone()[0])

    batch = services.import_batch_create(source_name="a.jsonl", format="jsonl")
    path = write_jsonl(tmp_path / "a.jsonl", [article(i) for i in range(3)])
    services.import_batch_run(batch_id=batch.pk, path=path, batch_size=2, on_progress=progress)
    assert seen == [services.SQLITE_IMPORT_CACHE_KIB] * 2
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == before != services.SQLITE_IMPORT_CACHE_KIB


@pytest.mark.parametrize("kind", ["id", "hash"])
def test_dedup_lookup_probes_the_unique_index_not_the_outlets_articles(tmp_path, kind):
    """The lookup stays one index probe per key while the table's statistics lag behind a bulk load (the
    earlier per-outlet ``= ANY`` form was planned as a scan of all the outlet's articles: quadratic)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows = [article(i, external_id=f"e{i}" if kind == "id" else "") for i in range(3000)]
    run(write_jsonl(tmp_path / "a.jsonl", rows))  # no ANALYZE after it, as during an import
    outlet_id = Outlet.objects.get().pk
    keys = [f"e{i}" if kind == "id" else content_hash(f"Body of article {i}.") for i in range(2998, 3400)]
    lookup = services.STORED_KEY_LOOKUPS.get(connection.vendor, services._stored_keys_by_outlet)
    with CaptureQueriesContext(connection) as queries:
        found = lookup(kind=kind, pairs=[(outlet_id, key) for key in keys])
    assert sorted(key for _, key, _, _ in found) == sorted(keys[:2])
    explain = "EXPLAIN " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    index = "article_unique_outlet_external_id" if kind == "id" else "article_unique_outlet_content"
    for query in queries.captured_queries:
        with connection.cursor() as cursor:
            cursor.execute(explain + query["sql"])
            plan = " ".join(str(line) for line in cursor.fetchall())
        assert index in plan and "outlet__" not in plan and "Seq Scan" not in plan and "SCAN a" not in plan, plan


def zip_of(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_zip_of_a_txt_folder_imports_like_the_folder(tmp_path):
    seed = SEED_ARTICLE
    members = {
        f"press/{seed.name}": seed.read_bytes(),
        "press/crlf.txt": "A title\r\nBody “x”\r\n".encode(),
        "press/notes.md": b"not an article",
        "__MACOSX/press/._crlf.txt": b"\x00\x05resource fork",
        "press/.hidden.txt": b"skipped\nhidden",
    }
    path = zip_of(tmp_path / "press.zip", members)
    with pytest.raises(CommandError, match="carry no outlet"):
        run(path)
    out, _ = run(path, "--outlet", "press-tv")
    assert "2 rows read, 2 created" in out
    title, _, body = seed.read_text(encoding="utf-8").partition("\n")
    stored = Article.objects.get(external_id=seed.stem)
    assert (stored.title, stored.text, stored.outlet.slug) == (title, body, "press-tv")
    assert Article.objects.get(external_id="crlf").text == "Body “x”\r\n"
    assert ImportBatch.objects.latest("pk").format == "txt"

    # the same files from a folder are duplicates of the archive's: the two forms import the same articles
    folder = tmp_path / "press"
    folder.mkdir()
    (folder / seed.name).write_bytes(seed.read_bytes())
    (folder / "crlf.txt").write_bytes(members["press/crlf.txt"])
    out, _ = run(folder, "--outlet", "press-tv")
    assert "0 created, 2 duplicates skipped" in out and Article.objects.count() == 2


def test_zip_member_with_bad_utf8_is_a_rejected_row_named_by_its_path(tmp_path):
    path = zip_of(tmp_path / "a.zip", {"good.txt": b"T\nfine", "bad.txt": b"T\nbad \xff byte"})
    out, err = run(path, "--outlet", "x")
    assert "1 created" in out and "1 rejected" in out
    assert "bad.txt:1: invalid UTF-8 (byte 0xff" in err


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"c/a/x/one.txt": b"T\nx", "c/b/two.txt": b"T\ny"}, r"c/a/x/one\.txt lies 2 folders below .* \(c/\)"),
        ({"readme.md": b"no articles"}, "the archive has no .txt files"),
    ],
)
def test_zip_that_is_not_a_txt_folder_is_one_clear_error(tmp_path, members, message):
    with pytest.raises(CommandError, match=message):
        run(zip_of(tmp_path / "a.zip", members), "--outlet", "x")
    assert Article.objects.count() == 0 and Outlet.objects.count() == 0


def test_zip_over_the_decompressed_cap_writes_nothing(tmp_path, settings):
    settings.IMPORT_MAX_DECOMPRESSED_BYTES = 5_000
    path = zip_of(tmp_path / "big.zip", {f"{i:03}.txt": b"Title\n" + b"word " * 100 for i in range(20)})
    with pytest.raises(CommandError, match="over the limit of 5,000 bytes"):
        run(path, "--outlet", "x", "--batch-size", "1")
    assert Article.objects.count() == 0 and ImportBatch.objects.get().status == JobStatus.FAILED


def test_corrupt_zip_member_fails_before_any_row_is_written(tmp_path):
    members = {f"{i:03}.txt": f"Title {i}\n".encode() + b"body " * 50 for i in range(5)}
    path = zip_of(tmp_path / "c.zip", members, compression=zipfile.ZIP_STORED)
    data = path.read_bytes()
    at = data.index(b"Title 4\n") + 10  # a byte of the last member's body: its CRC no longer matches
    path.write_bytes(data[:at] + b"X" + data[at + 1 :])
    with pytest.raises(CommandError, match=r"004\.txt cannot be read"):
        run(path, "--outlet", "x", "--batch-size", "1")
    assert Article.objects.count() == 0 and ImportBatch.objects.get().status == JobStatus.FAILED


def test_a_file_that_is_neither_folder_nor_zip_is_refused_for_txt(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "x"}\n')
    with pytest.raises(CommandError, match="a folder of .txt files or a .zip archive of one"):
        run(path, "--format", "txt", "--outlet", "x")


def test_sub_folders_are_outlets_and_files_beside_them_take_the_default(tmp_path):
    root = tmp_path / "corpus"
    for outlet, names in {"Daily Planet": ["a", "b"], "courier": ["a"]}.items():
        (root / outlet).mkdir(parents=True)
        for name in names:
            (root / outlet / f"{name}.txt").write_text(f"{outlet} {name}\nBody of {name} in {outlet}.")
    (root / "courier" / "deeper").mkdir()
    (root / "courier" / "deeper" / "ignored.txt").write_text("Not read\nDeeper than one sub-folder.")
    (root / "loose.txt").write_text("Loose\nA file beside the sub-folders.")
    with pytest.raises(CommandError, match=r"1 \.txt file\(s\) \(loose\.txt\)"):
        run(root)
    out, _ = run(root, "--outlet", "wire")
    assert "4 rows read, 4 created" in out and "3 outlets created" in out
    placed = sorted(Article.objects.values_list("outlet__slug", "external_id", "title"))
    assert placed == [
        ("courier", "a", "courier a"),
        ("daily-planet", "a", "Daily Planet a"),
        ("daily-planet", "b", "Daily Planet b"),
        ("wire", "loose", "Loose"),
    ]
    assert Outlet.objects.get(slug="daily-planet").name == "Daily Planet"


def test_zip_of_a_corpus_folder_with_one_sub_folder_per_outlet(tmp_path):
    members = {
        "corpus/planet/one.txt": b"One\nPlanet's first.",
        "corpus/planet/two.txt": b"Two\nPlanet's second.",
        "corpus/courier/one.txt": b"One\nCourier's first.",
    }
    out, _ = run(zip_of(tmp_path / "corpus.zip", members))
    assert "3 created" in out and "2 outlets created" in out
    assert sorted(Article.objects.values_list("outlet__slug", "external_id")) == [
        ("courier", "one"), ("planet", "one"), ("planet", "two"),
    ]  # fmt: skip
    batch = ImportBatch.objects.get()
    assert (batch.format, batch.outlet_slug, batch.status) == ("txt", "", JobStatus.SUCCEEDED)
