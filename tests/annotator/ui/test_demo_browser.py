"""The demo is alive on first run: load_demo, then the real Celery worker trains model v1, activates it and scores
the project (as `make run` does); every page a newcomer opens shows real content in Chromium: no "undefined", no
empty state where the demo has content, no console error.

The same test writes the screenshots of docs/getting-started.md into test-artifacts/screenshots/getting-started/;
the committed copies in docs/img/ must exist (they are not compared pixel by pixel).
"""

from __future__ import annotations

import io
import os
import re

import pytest
from django.core.management import call_command

from annotator.annotations.agreement import agreement_disagreements
from annotator.annotations.models import Adjudication
from annotator.common.models import Job, JobStatus
from annotator.projects.models import Assignment, Project
from annotator.projects.visibility import system_viewer
from annotator.training.models import ModelVersion
from annotator.ui.demo import PROJECT_SLUG
from tests.conftest import ARTIFACTS_DIR, ROOT, browser_login, wait_for

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DOCS_IMG = ROOT / "docs" / "img"
SHOTS = ARTIFACTS_DIR / "screenshots" / "getting-started"
P = f"/projects/{PROJECT_SLUG}"
# Phrases of the pages' empty states: none may show in the demo (the demo has content for each).
EMPTY_STATES = [
    "No model yet", "No trained model yet", "No metrics yet", "Not computed", "No snapshot yet", "No new terms",
    "No disagreements", "Fewer than two annotators have finished", "Nothing is queued for you", "No concepts yet",
    "No assignments yet", "No labels yet", "You are not a member of any project", "No spans", "No rules yet",
    "not defined", "undefined",
]  # fmt: skip
# (who, path, a selector that must show, screenshot name or None): in the order a researcher works.
PAGES = [
    ("demo-admin", "/", "[data-testid=project-list] li", "01-home"),
    ("demo-admin", "/projects/new/", "[data-testid=codebook-source] input[type=radio]", "02-new-project"),
    ("demo-admin", f"{P}/settings/", "[data-testid=members] tr[data-member]", "03-settings"),
    ("demo-curator", f"{P}/codebook/", "[data-testid=question-item][data-question=primary_frame]", None),
    ("demo-admin", f"{P}/assignments/?preview=1", "[data-testid=progress-table] tbody tr", "04-assignments"),
    ("demo-annotator", f"{P}/", "[data-testid=queue] li", "05-project"),
    ("demo-annotator", f"{P}/articles/{{done}}/", "[data-testid=span-list] li:not(.muted)", "06-annotate"),
    ("demo-curator", f"{P}/curate/", "[data-testid=curate-list] tbody tr", None),
    ("demo-curator", f"{P}/curate/{{open}}/", "[data-testid=annotator-span][data-agreed='0']", "07-curation"),
    ("demo-curator", f"{P}/agreement/", "[data-testid=agreement-chart][data-rendered='1']", "08-agreement"),
    ("demo-curator", f"{P}/agreement/?drill=1", "[data-testid=drill-article]", None),
    ("demo-admin", f"{P}/models/", "#versions-body tr[data-number='1'] .pill.active", "09-models"),
    ("demo-admin", f"{P}/models/1/", "[data-testid=metrics-word] tbody tr", "10-model"),
    ("demo-admin", f"{P}/lexicon/", ".lexicon-label tbody tr", "11-lexicon"),
    ("demo-admin", f"{P}/models/1/lexicon/", ".lexicon-label tbody tr", None),
    ("demo-admin", f"{P}/scores/", "svg .mark-rect path", "12-scores"),
    ("demo-admin", f"{P}/term-suggestions/", "table tbody tr:not(.empty)", None),
    ("demo-admin", f"{P}/snapshots/", "table tbody tr:not(.empty)", "13-snapshots"),
    ("demo-admin", f"{P}/exchange/", "form", None),
    ("demo-admin", "/account/tokens/", "form", None),
    ("demo-annotator", f"{P}/scores/", "svg .mark-rect path", None),
]

# For a screenshot: the part of the page to show, and what to type there first (never sent).
SHOW = {
    "03-settings": ("[data-testid=members]", {"[data-testid=member-add] textarea[name=people]": "ana\nben@example.org"})
}


@pytest.fixture
def live_demo(celery_worker):
    call_command("load_demo", stdout=io.StringIO())
    project = Project.objects.get(slug=PROJECT_SLUG)

    def scored() -> bool:
        version = ModelVersion.objects.filter(project=project, number=1).first()
        assert version is None or version.status != JobStatus.FAILED, version.error
        runs = Job.objects.filter(project=project, kind=Job.Kind.SCORING)
        return bool(version and version.is_active and runs.filter(status=JobStatus.SUCCEEDED).exists())

    wait_for(scored, timeout=300, what="the worker to train, activate and score model v1")
    return project


def _visit(page, live_server, path: str, selector: str, console: list[str]) -> str:
    console.clear()
    response = page.goto(f"{live_server.url}{path}")
    assert response is not None and response.status < 400, (path, response and response.status)
    page.wait_for_load_state("networkidle")
    page.wait_for_selector(selector, state="attached", timeout=20_000)
    text = page.inner_text("main")
    found = [phrase for phrase in EMPTY_STATES if phrase in text]
    assert not found, (path, found, [line for line in text.splitlines() if any(p in line for p in found)][:5])
    assert not console, (path, console)
    return text


def test_every_page_of_the_demo_shows_real_content(live_demo, browser, live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    done = Assignment.objects.filter(project=live_demo, annotator__username="demo-annotator", status="done").first()
    disagreed = agreement_disagreements(viewer=system_viewer(project=live_demo), label=None, outlet=None)
    settled = set(Adjudication.objects.filter(project=live_demo).values_list("article_id", flat=True))
    open_article = next(a["article_id"] for a in disagreed if a["article_id"] not in settled)
    pages_of: dict[str, object] = {}
    console: list[str] = []
    for who, path, selector, shot in PAGES:
        if who not in pages_of:
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            browser_login(page, live_server, who, f"{who}-pw")
            pages_of[who] = page
        page = pages_of[who]
        text = _visit(page, live_server, path.format(done=done.article_id, open=open_article), selector, console)
        if path == f"{P}/agreement/":
            assert re.search(r"krippendorff_alpha\s+all\s+0\.\d{3}", text), text[:2000]
        if shot in SHOW:
            page.locator(SHOW[shot][0]).scroll_into_view_if_needed()
            for field, value in SHOW[shot][1].items():
                page.fill(field, value)
        if shot:
            page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=False)
    for page in pages_of.values():
        page.context.close()
    shots = sorted(path.name for path in SHOTS.glob("*.png"))
    missing = [name for name in shots if not (DOCS_IMG / name).exists()]
    assert not missing, f"docs/img lacks {missing}: copy them from {SHOTS} (docs/getting-started.md shows them)"
