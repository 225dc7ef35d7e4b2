"""The codebook page in a real Chromium, from the keyboard only: a curator adds a scale question (a hotkey clash
refused and shown beside the field, nothing lost), reorders it, is refused changing an answered question's kind,
removing an option in use and deleting it, adds and deletes a span attribute; every change is one codebook version.
Focus is reached with Tab alone (``tab_to`` fails when Tab never gets there)."""

from __future__ import annotations

import os

import pytest

from annotator.annotations.models import Answer, Layer
from annotator.projects.models import CodebookVersion, Label, Question, Role
from annotator.projects.questions import question_create
from annotator.projects.services import membership_add
from tests.annotator.projects.factories import PASSWORD, make_article, make_project, make_user
from tests.annotator.ui.test_accessibility_browser import audit
from tests.conftest import browser_login, wait_for

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FRAMES = [{"value": "economic", "text": "Economic"}, {"value": "security", "text": "Security"},
          {"value": "morality", "text": "Morality"}]  # fmt: skip


@pytest.fixture
def world(transactional_db):
    owner, curator, annotator = make_user("cb-owner"), make_user("cb-curator"), make_user("cb-ann")
    article = make_article(text="Troops liberate the town; the regime claimed a victory.", title="Town")
    project = make_project(owner=owner, articles=[article], annotators=[annotator], name="CB study")
    membership_add(project=project, user=curator, role=Role.CURATOR, by=owner)
    frame = question_create(project=project, name="frame", prompt="Primary frame", options=FRAMES, hotkey="f", by=owner)
    Answer.objects.create(project=project, article=article, question=frame, layer=Layer.ANNOTATOR, annotator=annotator,
                          unit_key="article", value="economic")  # fmt: skip
    return project, curator, frame


def active(page) -> str:
    """The focused element: its id, else its data-testid / data-action and question, else its tag."""
    return page.evaluate(
        "(() => { const a = document.activeElement; const item = a.closest('[data-question]');"
        " return a.id || [a.dataset.testid || a.dataset.action || a.tagName, item ? item.dataset.question : '']"
        ".filter(Boolean).join(':'); })()"
    )


def tab_to(page, selector: str, *, limit: int = 80, back: bool = False) -> None:
    """Press Tab (Shift+Tab) until ``selector`` has the focus; fail if the keyboard never reaches it."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"Tab never reached {selector} (stuck at {active(page)})")


def type_into(page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.press("Control+a")
    page.keyboard.type(text)


def versions(project) -> list[str]:
    return list(CodebookVersion.objects.filter(project=project).order_by("number").values_list("changelog", flat=True))


def test_keyboard_only_add_reorder_refusals_and_attributes(page, live_server, screenshot, world):
    project, curator, frame = world
    before = versions(project)
    browser_login(page, live_server, curator.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.slug}/codebook/")
    page.wait_for_selector("body[data-codebook-ready='1']")
    assert page.locator("[data-testid=question-item][data-question=frame]").inner_text().count("1 answer") == 1

    # Add a scale question; its hotkey clashes with the frame question's: refused, shown at the field, nothing lost.
    tab_to(page, "[data-testid=question-add]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#question-editor[open]")
    assert active(page) == "qe-prompt"
    page.keyboard.type("Tone toward the government")
    assert page.input_value("#qe-name") == "tone_toward_the_government"  # the key follows the prompt
    tab_to(page, "#qe-kind")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#qe-kind") == "scale"
    assert page.is_visible("#qe-options th.o-numeric-col")
    type_into(page, "#qe-hotkey", "f")
    for i, (value, text, number) in enumerate((("neg", "Negative", "-1"), ("pos", "Positive", "1"))):
        type_into(page, f"tr[data-index='{i}'] input.o-value", value)
        type_into(page, f"tr[data-index='{i}'] input.o-text", text)
        type_into(page, f"tr[data-index='{i}'] input.o-numeric", number)
    tab_to(page, "[data-testid=option-add]")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.matches(\"tr[data-index='2'] input.o-value\")")
    page.keyboard.type("neutral")
    type_into(page, "tr[data-index='2'] input.o-numeric", "0")
    tab_to(page, "[data-testid=question-save]")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=editor-errors]:not([hidden])")
    assert active(page) == "qe-errors"
    assert "Hotkey 'f' is already used by another question." in page.inner_text("[data-testid=editor-errors]")
    assert "already used by another question" in page.inner_text("#qe-hotkey-error")
    assert page.get_attribute("#qe-hotkey", "aria-invalid") == "true"
    assert page.input_value("#qe-prompt") == "Tone toward the government"
    assert page.input_value("tr[data-index='2'] input.o-value") == "neutral"
    assert not Question.objects.filter(project=project, name="tone_toward_the_government").exists()
    assert versions(project) == before
    audit(page, "codebook editor with an error")
    # The summary's link takes the keyboard to the field; fix it and save.
    tab_to(page, "#qe-errors a[data-focus=qe-hotkey]")
    page.keyboard.press("Enter")
    assert active(page) == "qe-hotkey"
    page.keyboard.press("Control+a")
    page.keyboard.type("t")
    tab_to(page, "[data-testid=question-save]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#question-editor:not([open])", state="attached")
    wait_for(lambda: "Codebook version" in page.inner_text("[data-testid=codebook-status]"), what="the status")
    tone = Question.objects.get(project=project, name="tone_toward_the_government")
    assert (tone.kind, tone.hotkey) == ("scale", "t")
    assert [(o.value, o.numeric) for o in tone.options.order_by("order")] == [("neg", -1), ("neutral", 0), ("pos", 1)]
    assert versions(project) == [*before, "Added question 'tone_toward_the_government'."]
    assert active(page) == "edit:tone_toward_the_government"
    status = page.inner_text("[data-testid=codebook-status]")
    assert f"Codebook version {len(before) + 1}: Added question 'tone_toward_the_government'." in status
    assert page.locator("[data-testid=codebook-versions] li >> nth=0").inner_text().startswith(f"v{len(before) + 1}")

    # Move it up: one version; the focus stays on the move still possible.
    page.keyboard.press("Tab")
    assert active(page) == "up:tone_toward_the_government"
    page.keyboard.press("Enter")
    wait_for(lambda: "Moved" in page.inner_text("[data-testid=codebook-status]"), what="the move")
    assert list(Question.objects.filter(project=project).order_by("order").values_list("name", flat=True)) == [
        "tone_toward_the_government", "frame",
    ]  # fmt: skip
    assert versions(project)[-1] == "Reordered the questions: tone_toward_the_government, frame."
    assert active(page) == "down:tone_toward_the_government"
    names = page.locator("[data-testid=question-list] [data-testid=question-item]")
    assert [names.nth(i).get_attribute("data-question") for i in range(2)] == ["tone_toward_the_government", "frame"]

    # The answered question: its kind is fixed and its option in use stays; both refusals are shown, nothing saved.
    n_versions = len(versions(project))
    tab_to(page, "[data-question=frame] button[data-action=edit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#question-editor[open]")
    tab_to(page, "#qe-kind")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#qe-kind") == "multiple"
    tab_to(page, "[data-testid=question-save]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#qe-kind-error")
    assert "Fixed once answered." in page.inner_text("#qe-kind-error")
    assert "has answers: its kind can no longer change" in page.inner_text("[data-testid=editor-errors]")
    tab_to(page, "#qe-kind", back=True)
    page.keyboard.press("ArrowUp")
    tab_to(page, "tr[data-index='0'] button[data-option-action=remove]")
    assert page.input_value("tr[data-index='0'] input.o-value") == "economic"
    page.keyboard.press("Enter")
    assert page.locator("[data-testid=option-row]").count() == 2
    tab_to(page, "[data-testid=question-save]")
    page.keyboard.press("Enter")
    wait_for(lambda: "are used by 1 answer" in page.inner_text("[data-testid=editor-errors]"), what="the refusal")
    assert "In use: economic." in page.inner_text("#qe-options")
    page.keyboard.press("Escape")
    page.wait_for_selector("#question-editor:not([open])", state="attached")
    assert active(page) == "edit:frame"  # back where the editor was opened
    frame.refresh_from_db()
    assert frame.kind == "single" and frame.options.count() == 3
    assert len(versions(project)) == n_versions
    # … and it cannot be deleted.
    tab_to(page, "[data-question=frame] button[data-action=delete]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#question-delete[open]")
    assert "It has 1 answer(s)." in page.inner_text("#qd-text")
    tab_to(page, "[data-testid=question-delete-confirm]", back=True)
    page.keyboard.press("Enter")
    page.wait_for_selector("#qd-errors:not([hidden])")
    assert "cannot be deleted" in page.inner_text("#qd-errors")
    page.keyboard.press("Escape")
    assert Question.objects.filter(pk=frame.pk).exists() and len(versions(project)) == n_versions

    # A span attribute on "actor label": no hotkey field; added, then deleted (no answers): two versions.
    tab_to(page, "[data-testid='attribute-add-actor label']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#question-editor[open]")
    assert page.input_value("#qe-scope") == "span"
    assert page.is_hidden("#qe-hotkey") and page.is_visible("#qe-label")
    page.keyboard.type("Who is named?")
    tab_to(page, "#qe-kind")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#qe-kind") == "text" and page.is_hidden("[data-testid=option-editor]")
    tab_to(page, "[data-testid=question-save]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#question-editor:not([open])", state="attached")
    wait_for(lambda: Question.objects.filter(project=project, name="who_is_named").exists(), what="the attribute")
    attribute = Question.objects.get(project=project, name="who_is_named")
    assert (attribute.scope, attribute.label.name, attribute.kind) == ("span", "actor label", "text")
    page.wait_for_selector("[data-testid='attribute-list-actor label'] [data-question=who_is_named]")
    screenshot("codebook-editor")
    assert active(page) == "edit:who_is_named"
    tab_to(page, "[data-question=who_is_named] button[data-action=delete]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#question-delete[open]")
    tab_to(page, "[data-testid=question-delete-confirm]", back=True)
    page.keyboard.press("Enter")
    page.wait_for_selector("#question-delete:not([open])", state="attached")
    wait_for(lambda: not Question.objects.filter(pk=attribute.pk).exists(), what="the delete")
    assert versions(project)[-2:] == [
        "Added attribute 'who_is_named' of label 'actor label'.", "Deleted question 'who_is_named'.",
    ]  # fmt: skip
    wait_for(lambda: active(page) == "attribute-add-actor label", what="the focus after the delete")
    assert Label.objects.filter(project=project, name="actor label").exists()
