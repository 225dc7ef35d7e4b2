"""Requests Django refuses before any view runs: the API answers with its JSON error body, pages keep HTML.

The 10 MiB JSON body through the span API is in tests/reliability/test_hostile_input.py.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from annotator.corpus.models import ImportBatch
from tests.annotator.projects.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    staff = make_user()
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client = Client(raise_request_exception=False)  # as in production: the refusal is a response
    client.force_login(staff)
    return client


def upload(rows: int = 1) -> SimpleUploadedFile:
    return SimpleUploadedFile("tiny.jsonl", b'{"outlet": "x", "title": "t", "text": "Some text."}\n' * rows)


def test_multipart_upload_with_form_data_over_the_limit_is_a_413_with_the_json_error_body(staff_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024  # form fields count towards it, the file itself does not
    response = staff_client.post(
        reverse("api:import-batch-create"), {"file": upload(), "outlet": "o" * (8 * 1024)}, format="multipart"
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is larger than the limit of 4,096 bytes; send less per request.",
        "errors": {"limit": 4096, "setting": "DATA_UPLOAD_MAX_MEMORY_SIZE"},
    }
    assert not ImportBatch.objects.exists()


def test_a_large_file_under_the_import_limit_is_not_refused_by_the_body_limit(staff_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024
    response = staff_client.post(reverse("api:import-batch-create"), {"file": upload(rows=500)})
    assert response.status_code == 202, response.content
    assert ImportBatch.objects.count() == 1


def test_too_many_form_fields_is_a_413_naming_the_setting(staff_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    fields = {f"field{i}": "x" for i in range(10)}
    response = staff_client.post(reverse("api:import-batch-create"), {"file": upload(), **fields})
    assert response.status_code == 413
    assert response.json()["errors"] == {"limit": 5, "setting": "DATA_UPLOAD_MAX_NUMBER_FIELDS"}
    assert response.json()["detail"] == "The request has more than 5 form fields."


def test_other_refused_api_requests_are_a_400_with_the_json_error_body(settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    response = Client(raise_request_exception=False).get("/api/v1/outlets/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request.", "errors": {}}


def test_pages_keep_the_html_error_page(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024
    client = Client(raise_request_exception=False)
    response = client.post(reverse("login"), {"username": "u", "password": "p" * (8 * 1024)})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"Bad Request" in response.content
