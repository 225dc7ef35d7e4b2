"""Pages load every resource they ask for: no 404 (e.g. the browser's own favicon request) on the log-in page or
a project page."""

from __future__ import annotations

import os

import pytest

from tests.annotator.annotations.helpers import make_world
from tests.annotator.projects.factories import PASSWORD
from tests.conftest import browser_login

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_in_and_project_pages_request_nothing_that_fails(page, live_server, transactional_db):
    world = make_world(name="Asset study")
    failed: list[str] = []
    page.on(
        "response",
        lambda response: failed.append(f"{response.status} {response.url}") if response.status >= 400 else None,
    )
    page.on("requestfailed", lambda request: failed.append(f"failed {request.url}"))
    browser_login(page, live_server, world.curator.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{world.project.slug}/")
    page.wait_for_load_state("networkidle")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon and icon.endswith(".svg")
    assert failed == []
