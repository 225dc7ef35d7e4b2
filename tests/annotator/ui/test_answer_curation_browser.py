"""The curator's answers in a real Chromium, keyboard only: every annotator's answer side by side, take one, give
another, undo, accept the agreed ones in bulk; a gold answer another curator changed meanwhile is refused and the
page shows the server's."""

from __future__ import annotations

import os

import pytest

from annotator.annotations.answers import answer_set, gold_answer_set
from annotator.annotations.models import Answer, Layer
from annotator.projects.questions import question_create
from tests.annotator.annotations.helpers import FAST_HASHERS, finish, make_world
from tests.annotator.projects.factories import PASSWORD
from tests.annotator.ui.test_accessibility_browser import audit
from tests.conftest import browser_login, wait_for

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    w = make_world(name="Answer curation")
    frames = [{"value": "security", "text": "Security"}, {"value": "economic", "text": "Economic"}]
    w.frame = question_create(project=w.project, name="frame", prompt="Primary frame", options=frames, by=w.owner)
    w.tone = question_create(
        project=w.project, name="tone", prompt="Tone", kind="scale", by=w.owner,
        options=[{"value": str(n), "text": f"tone {n}", "numeric": n} for n in (-1, 0, 1)],
    )  # fmt: skip
    a = w.articles[0]
    for user, frame, tone in [(w.ann1, "security", "1"), (w.ann2, "economic", "1")]:
        answer_set(project=w.project, article=a.pk, user=user, question_id=w.frame.pk, value=frame)
        answer_set(project=w.project, article=a.pk, user=user, question_id=w.tone.pk, value=tone)
        finish(w, user, a)
    return w


def gold(w) -> dict:
    return {a.question.name: (a.value, a.provenance["action"]) for a in Answer.objects.filter(layer=Layer.GOLD)}


def tab_to(page, selector: str, limit: int = 200) -> None:
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"never reached {selector} with Tab")


def test_take_give_undo_and_bulk_accept_by_keyboard(page, live_server, world):
    w = world
    browser_login(page, live_server, w.curator.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{w.project.slug}/curate/{w.articles[0].pk}/")
    page.wait_for_selector("[data-testid=answers-curation]:not([hidden]) tbody tr")
    row = page.locator("tr[data-question=frame]")
    assert "ann1: Security" in row.inner_text() and "ann2: Economic" in row.inner_text()
    assert page.get_attribute("tr[data-question=tone]", "data-agreed") == "true"
    # Take ann2's answer.
    tab_to(page, 'button[aria-label^="Take ann2\'s answer Economic"]')
    page.keyboard.press("Enter")
    wait_for(lambda: gold(w) == {"frame": ("economic", "take")}, what="the taken gold answer")
    # Give another with the select.
    tab_to(page, "tr[data-question=frame] select")
    page.keyboard.press("ArrowDown")  # the first option after "give another": Security
    wait_for(lambda: gold(w) == {"frame": ("security", "give")}, what="the given gold answer")
    page.wait_for_selector("tr[data-question=frame] [data-testid=gold-answer] strong:text('Security')")
    # Undo goes back to the taken answer.
    tab_to(page, "[data-testid=answers-undo]")
    page.keyboard.press("Enter")
    wait_for(lambda: gold(w) == {"frame": ("economic", "take")}, what="the undone gold answer")
    # Bulk: the tone both annotators gave.
    tab_to(page, "[data-testid=answers-bulk-accept]")
    assert page.inner_text("[data-testid=answers-bulk-accept]") == "Accept all agreed answers (1)"
    page.keyboard.press("Enter")
    wait_for(lambda: gold(w).get("tone") == ("1", "take"), what="the bulk-accepted tone")
    page.wait_for_selector("[data-testid=answers-bulk-accept]:text('Accept all agreed answers (0)')")
    audit(page, "curation page with the answers section")


def test_a_gold_answer_changed_elsewhere_is_refused_and_reloaded(page, live_server, world):
    w = world
    browser_login(page, live_server, w.curator.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{w.project.slug}/curate/{w.articles[0].pk}/")
    page.wait_for_selector("[data-testid=answers-curation]:not([hidden]) tbody tr")
    page.click('button[aria-label^="Take ann1\'s answer Security"]')
    wait_for(lambda: gold(w) == {"frame": ("security", "take")}, what="the taken gold answer")
    current = Answer.objects.get(layer=Layer.GOLD)
    gold_answer_set(
        project=w.project, article=w.articles[0].pk, by=w.owner, question_id=w.frame.pk, value="economic",
        seen_updated_at=current.updated_at,
    )  # fmt: skip
    page.click('button[aria-label^="Take ann1\'s answer Security"]')
    toast = page.wait_for_selector(".toast.error")
    assert "changed by owner since your page loaded it" in toast.inner_text()
    page.wait_for_selector("tr[data-question=frame] [data-testid=gold-answer] strong:text('Economic')")
    assert gold(w) == {"frame": ("economic", "give")}
