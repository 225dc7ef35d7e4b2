"""The admin's upload page in a real Chromium: choosing a semicolon CSV shows its first rows as the import will
store them (detected delimiter, encoding and columns), a column map changes them, and nothing is written."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model

from annotator.corpus.models import Article, ImportBatch
from tests.annotator.annotations.helpers import FAST_HASHERS
from tests.conftest import client_login

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_choosing_a_file_previews_its_first_rows(page, live_server, settings, tmp_path, screenshot):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    boss = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw-123456789")
    path = tmp_path / "europe.csv"
    rows = "".join(f"Headline {i};Story {i}, told with commas 😀;Daily Planet;2024-05-0{i}\n" for i in range(1, 8))
    path.write_bytes(("\ufeffheadline;story;media;date\n" + rows).encode("utf-8"))
    session = client_login(boss).cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    # the live server's first page can take longer than the 10 s default on a loaded machine
    page.goto(f"{live_server.url}/admin/corpus/importbatch/upload/", timeout=30_000)
    page.set_input_files("input[name=file]", str(path))
    error = page.locator("#preview-error")
    error.wait_for(state="visible")
    assert "no text column" in error.inner_text() and "'story'" in error.inner_text()
    page.fill("input[name=column_map]", "text=story")
    page.locator("input[name=column_map]").dispatch_event("change")
    page.locator("#preview-rows tbody tr").nth(6).wait_for()
    layout = page.locator("#preview-layout").inner_text()
    assert "CSV, utf-8, semicolon-separated (detected)" in layout
    assert "text ← story" in layout and "title ← headline" in layout and "outlet ← media" in layout
    first = page.locator("#preview-rows tbody tr").first.locator("td").all_inner_texts()
    assert first[:5] == ["2", "Daily Planet", "Headline 1", "Story 1, told with commas 😀", ""]
    assert first[5] == "2024-05-01T00:00:00+00:00"
    screenshot("corpus-upload-preview")
    assert Article.objects.count() == 0 and ImportBatch.objects.count() == 0
