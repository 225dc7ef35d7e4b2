"""The admin: upload page, size limit, safe file names, live status, and a real worker running the import."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotator.common.models import JobStatus
from annotator.corpus import tasks
from annotator.corpus.forms import safe_upload_name
from annotator.corpus.models import Article, ImportBatch, Outlet
from tests.conftest import wait_for

UPLOAD_URL = "admin:corpus_importbatch_upload"


@pytest.fixture
def staff_client(client, django_db_blocker):
    user = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw-123456789")
    client.force_login(user)
    return client


def jsonl(*rows) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


GOOD = jsonl(
    {"outlet": "Upload Times", "title": "One", "text": "First “story” 😀\r\n", "external_id": "u1"},
    {"outlet": "Upload Times", "title": "Two", "text": "Second story"},
    {"outlet": "Upload Times", "title": "Bad date", "text": "x", "published_at": "last Tuesday"},
)


@pytest.mark.worker
def test_upload_is_imported_by_a_real_worker(celery_worker, staff_client, settings):
    response = staff_client.post(reverse(UPLOAD_URL), {"file": SimpleUploadedFile("corpus.jsonl", GOOD)})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{batch.pk}/change/")

    def finished():
        batch.refresh_from_db()
        return batch.status not in (JobStatus.QUEUED, JobStatus.RUNNING)

    wait_for(finished, timeout=60, what="the worker to finish the import")
    assert batch.status == JobStatus.SUCCEEDED, batch.error_message
    assert (batch.created_count, batch.rejected_count, batch.outlets_created) == (2, 1, 1)
    assert Article.objects.get(external_id="u1").text == "First “story” 😀\r\n"
    assert Path(batch.upload.path).is_relative_to(Path(settings.MEDIA_ROOT) / "imports")

    status = staff_client.get(reverse("admin:corpus_importbatch_status", args=[batch.pk])).json()
    assert status["status"] == "succeeded" and status["created"] == 2 and status["fraction"] == 1.0
    page = staff_client.get(reverse("admin:corpus_importbatch_change", args=[batch.pk])).content.decode()
    assert "unknown date format &#x27;last Tuesday&#x27;" in page and "<td>3</td>" in page

    # Rerunning the task on the same batch is idempotent.
    tasks.import_batch_task.delay(batch.pk)

    def rerun_finished():
        again = ImportBatch.objects.get(pk=batch.pk)
        return again.finished_at not in (None, batch.finished_at) and again.status != JobStatus.RUNNING

    wait_for(rerun_finished, timeout=60, what="the rerun")
    batch.refresh_from_db()
    assert (batch.status, batch.created_count, Article.objects.count()) == ("succeeded", 2, 2)


@pytest.mark.worker
def test_malformed_upload_marks_the_batch_failed(celery_worker, staff_client):
    staff_client.post(reverse(UPLOAD_URL), {"file": SimpleUploadedFile("notes.jsonl", b"plain words\n")})
    batch = ImportBatch.objects.get()
    wait_for(lambda: ImportBatch.objects.get(pk=batch.pk).status == JobStatus.FAILED, what="the batch to fail")
    batch.refresh_from_db()
    assert "is not a JSONL file" in batch.error_message and Article.objects.count() == 0


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.worker
def test_zip_of_txt_files_is_imported_by_a_real_worker(celery_worker, staff_client):
    members = {"txt/one.txt": "First title\r\nBody “one”\r\n".encode(), "txt/two.txt": b"Second\nBody two"}
    archive = zipped(members)
    size = sum(map(len, members.values()))  # progress counts the uncompressed bytes
    response = staff_client.post(
        reverse(UPLOAD_URL), {"file": SimpleUploadedFile("articles.zip", archive), "outlet": "zip-courier"}
    )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and batch.format == "txt"
    wait_for(
        lambda: ImportBatch.objects.get(pk=batch.pk).status not in (JobStatus.QUEUED, JobStatus.RUNNING),
        timeout=60, what="the worker to finish the import",
    )  # fmt: skip
    batch.refresh_from_db()
    assert batch.status == JobStatus.SUCCEEDED, batch.error_message
    assert (batch.created_count, batch.rejected_count, batch.bytes_read, batch.bytes_total) == (2, 0, size, size)
    one = Article.objects.get(external_id="one")
    assert (one.title, one.text, one.outlet.slug) == ("First title", "Body “one”\r\n", "zip-courier")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "fields", "message"),
    [
        ("articles.zip", zipped({"a.txt": b"T\nx"}), {}, "lie directly in the archive&#x27;s folder"),
        ("articles.zip", zipped({"c/x/y/a.txt": b"T\nx", "c/b.txt": b"T\ny"}), {}, "lies 2 folders below"),
        ("corpus.jsonl", GOOD, {"format": "txt", "outlet": "x"}, "uploaded as one .zip archive"),
    ],
    ids=["zip-files-at-the-top", "zip-files-two-folders-deep", "jsonl-as-txt"],  # a zip's bytes hold its write time
)
def test_txt_upload_is_checked_like_the_import(staff_client, django_capture_on_commit_callbacks, name, content,
                                              fields, message):  # fmt: skip
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(reverse(UPLOAD_URL), {"file": SimpleUploadedFile(name, content), **fields})
    assert response.status_code == 200 and message in response.content.decode()
    assert not ImportBatch.objects.exists() and not callbacks


@pytest.mark.django_db
def test_upload_size_limit(staff_client, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_UPLOAD_MAX_BYTES = 100
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(reverse(UPLOAD_URL), {"file": SimpleUploadedFile("big.jsonl", GOOD)})
    assert response.status_code == 200
    assert f"The file is {len(GOOD):,} bytes; the upload limit is 100 bytes" in response.content.decode()
    assert not ImportBatch.objects.exists() and not callbacks


@pytest.mark.django_db
@pytest.mark.parametrize("evil", ["../../../etc/evil.jsonl", "..\\..\\evil.jsonl", "/abs/path/evil.jsonl"])
def test_upload_name_cannot_traverse(staff_client, settings, django_capture_on_commit_callbacks, evil):
    boundary = "xXxBOUNDARYxXx"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{evil}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + GOOD
        + f"\r\n--{boundary}--\r\n".encode()
    )
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.generic(
            "POST", reverse(UPLOAD_URL), body, content_type=f"multipart/form-data; boundary={boundary}"
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = ImportBatch.objects.get()
    saved = Path(batch.upload.path).resolve()
    assert saved.is_relative_to((Path(settings.MEDIA_ROOT) / "imports").resolve())
    assert saved.name.startswith("evil") and saved.name.endswith(".jsonl") and ".." not in batch.upload.name
    assert saved.read_bytes() == GOOD
    assert len(callbacks) == 1  # the task is queued only when the transaction commits


@pytest.mark.parametrize(
    ("name", "expected"),
    [("../../x.jsonl", "x.jsonl"), ("..", "upload.jsonl"), (".hidden.csv", "hidden.csv"), ("a b$.csv", "a_b.csv")],
)
def test_safe_upload_name(name, expected):
    assert safe_upload_name(name) == expected


@pytest.mark.django_db
def test_upload_page_renders_and_rejects_unknown_extension(staff_client):
    page = staff_client.get(reverse(UPLOAD_URL))
    assert page.status_code == 200 and b"Upload corpus" in page.content
    response = staff_client.post(reverse(UPLOAD_URL), {"file": SimpleUploadedFile("corpus.xlsx", b"data")})
    assert b"cannot tell the format" in response.content and not ImportBatch.objects.exists()
    changelist = staff_client.get(reverse("admin:corpus_importbatch_changelist")).content.decode()
    assert reverse(UPLOAD_URL) in changelist


@pytest.mark.django_db
def test_admin_pages_for_corpus_models(staff_client):
    outlet = Outlet.objects.create(name="Courier", slug="courier")
    article = Article.objects.create(outlet=outlet, text="t", content_hash="h")
    for name in ("outlet", "article", "storycluster", "importbatch"):
        assert staff_client.get(reverse(f"admin:corpus_{name}_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:corpus_article_change", args=[article.pk])).status_code == 200
    assert staff_client.get(reverse("admin:corpus_importbatch_add")).status_code == 302


@pytest.mark.django_db
def test_task_failure_handler_marks_the_batch_failed():
    batch = ImportBatch.objects.create(source_name="x", format="jsonl")
    tasks._import_failed(None, RuntimeError("worker lost"), "task-id", (batch.pk,), {}, None)
    batch.refresh_from_db()
    assert batch.status == JobStatus.FAILED and batch.error_message == "RuntimeError: worker lost"
    other = ImportBatch.objects.create(source_name="y", format="jsonl")
    assert tasks.import_batch_task.run(other.pk)["status"] == "failed"
    other.refresh_from_db()
    assert other.error_message == "the batch has no uploaded file to import"
