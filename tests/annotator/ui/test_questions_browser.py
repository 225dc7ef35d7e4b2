"""Codebook questions on the annotator page in a real Chromium: keyboard only, Done's check, undo/redo, span
attributes in the popover, sentences from the server, the outbox's retry, outlet-blind masking."""

from __future__ import annotations

import os

import pytest

from annotator.annotations.models import Answer
from annotator.projects.models import Assignment, Label
from annotator.projects.questions import question_create
from tests.annotator.projects.factories import PASSWORD, make_article, make_outlet, make_project, make_user
from tests.annotator.ui.test_accessibility_browser import audit
from tests.conftest import browser_login

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = (
    "Government troops liberate the town. The Takfiri gangs fled north.\n"
    "Residents said the regime shelled the market. Aid agencies called for calm."
)
FRAMES = [{"value": "security", "text": "Security and defence"}, {"value": "economic", "text": "Economic"},
          {"value": "morality", "text": "Morality"}]  # fmt: skip


@pytest.fixture
def world(transactional_db):
    owner, annotator = make_user("owner"), make_user("ann")
    outlet = make_outlet("Secret Outlet Times")
    article = make_article(text=TEXT, title="Town story", outlet=outlet)
    project = make_project(owner=owner, articles=[article], annotators=[annotator], name="Frames study")
    labels = {label.name: label for label in Label.objects.filter(project=project)}
    frame = question_create(
        project=project, name="primary_frame", prompt="Primary frame", options=FRAMES, required=True, hotkey="f",
        by=owner,
    )  # fmt: skip
    tone = question_create(
        project=project, name="tone", prompt="Tone toward the government", kind="scale", hotkey="t", by=owner,
        options=[{"value": str(n), "text": str(n), "numeric": n} for n in (-2, -1, 0, 1, 2)],
    )  # fmt: skip
    bias = question_create(
        project=project, name="bias", prompt="Is the sentence biased?", scope="sentence", required=True, by=owner,
        options=[{"value": "biased", "text": "Biased"}, {"value": "neutral", "text": "Neutral"}],
    )  # fmt: skip
    target = question_create(
        project=project, name="target", prompt="Who is named?", scope="span", label=labels["actor label"], required=True,
        options=[{"value": "government"}, {"value": "armed_opposition"}, {"value": "civilians"}], by=owner,
    )  # fmt: skip
    return project, article, annotator, labels, {"frame": frame, "tone": tone, "bias": bias, "target": target}


def open_article(page, live_server, project, article):
    page.goto(f"{live_server.url}/projects/{project.slug}/articles/{article.pk}/")
    page.wait_for_selector("body[data-annotator-ready='1']")


def wait_saved(page):
    page.wait_for_selector("[data-testid=save-status][data-state=saved]")


def answers(annotator) -> dict:
    out = {}
    for a in Answer.objects.filter(annotator=annotator).select_related("question"):
        out[(a.question.name, a.unit_key if not a.span_id else "span")] = a.value
    return out


def focused(page) -> str:
    return page.evaluate(
        "(() => { const a = document.activeElement; const fs = a.closest('fieldset');"
        " return `${fs ? fs.dataset.testid : ''}:${a.value || a.dataset.testid || a.tagName}`; })()"
    )


def test_keyboard_only_questions_sentences_attributes_undo_and_done(page, live_server, screenshot, world):
    project, article, annotator, labels, q = world
    browser_login(page, live_server, annotator.username, PASSWORD)
    open_article(page, live_server, project, article)
    assert page.inner_text("[data-testid=sentence-position]") == "Sentence 1 of 4"
    assert page.inner_text("[data-testid=sentence-text]") == "Government troops liberate the town."
    # Done first: refused, naming what is missing, and the first missing question gets the focus.
    page.keyboard.press("d")
    toast = page.wait_for_selector(".toast.error")
    assert toast.inner_text() == (
        "Answer the required questions first: “Primary frame”; “Is the sentence biased?” for 4 sentences."
    )
    assert focused(page) == "question-primary_frame:security"
    # f focuses the frame question from anywhere; its option keys answer it.
    page.keyboard.press("Escape")
    page.keyboard.press("f")
    page.keyboard.press("2")
    assert focused(page) == "question-primary_frame:economic"
    wait_saved(page)
    assert answers(annotator) == {("primary_frame", "article"): "economic"}
    # Undo and redo through the server.
    page.keyboard.press("Control+z")
    wait_saved(page)
    assert answers(annotator) == {}
    page.keyboard.press("Control+Shift+z")
    wait_saved(page)
    assert answers(annotator) == {("primary_frame", "article"): "economic"}
    # The scale: t, then the key of the point (options of a scale get 1-5 in order of their numbers: -2..2).
    page.keyboard.press("t")
    page.keyboard.press("1")
    wait_saved(page)
    assert answers(annotator)[("tone", "article")] == "-2"
    page.keyboard.press("Delete")  # clears the focused question's answer
    wait_saved(page)
    assert ("tone", "article") not in answers(annotator)
    # Sentences: Done again jumps to the first unanswered sentence; ] moves on, staying on the question.
    page.keyboard.press("d")
    assert focused(page).startswith("question-bias:")
    for key in ["1", "]", "2", "]", "2", "]", "1"]:
        page.keyboard.press(key)
    wait_saved(page)
    assert page.inner_text("[data-testid=sentence-position]") == "Sentence 4 of 4"
    units = {u: v for (name, u), v in answers(annotator).items() if name == "bias"}
    starts = [0, TEXT.index("The Takfiri"), TEXT.index("Residents"), TEXT.index("Aid agencies")]
    ends = [TEXT.index(" The Takfiri"), TEXT.index("\n"), TEXT.index(" Aid"), len(TEXT)]
    assert units == {
        f"sentence:{s}-{e}": v for s, e, v in zip(starts, ends, ["biased", "neutral", "neutral", "biased"], strict=True)
    }
    # A span of a label with an attribute: made from the caret, answered in the popover, all by keyboard.
    page.keyboard.press("Escape")  # back to the text
    for _ in range(5):
        page.keyboard.press("Control+ArrowRight")
    page.keyboard.press("Control+ArrowRight")
    page.keyboard.press("Control+ArrowRight")
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("3")  # actor label
    wait_saved(page)
    page.keyboard.press("d")  # the attribute is required: Done opens the span's popover
    page.wait_for_selector("#span-popover:not([hidden]) [data-testid=question-target]")
    assert "Who is named?" in page.inner_text("[data-testid=span-attributes]")
    page.focus("[data-testid=question-target] input")
    page.keyboard.press("2")
    wait_saved(page)
    assert answers(annotator)[("target", "span")] == "armed_opposition"
    screenshot("annotator_questions")
    audit(page, "annotator page with questions, sentences and a span's attributes open")
    page.keyboard.press("Escape")
    page.keyboard.press("d")
    page.wait_for_url(f"{live_server.url}/projects/{project.slug}/")
    assert Assignment.objects.get(annotator=annotator, article=article).status == "done"


def test_answers_wait_in_the_outbox_through_failures_and_a_reload(page, live_server, world):
    project, article, annotator, labels, q = world
    browser_login(page, live_server, annotator.username, PASSWORD)
    open_article(page, live_server, project, article)
    page.route("**/answers/set/", lambda route: route.fulfill(status=503, body='{"detail": "Down for a moment."}'))
    page.keyboard.press("f")
    page.keyboard.press("3")
    page.wait_for_selector("[data-testid=save-status][data-state=error]")
    assert not Answer.objects.exists()
    page.reload()
    page.wait_for_selector("body[data-annotator-ready='1']")
    assert page.is_checked("[data-testid=question-primary_frame] input[value=morality]")  # drawn from the outbox
    page.unroute("**/answers/set/")
    page.evaluate("window.framescope.annotator.outbox.pump()")
    wait_saved(page)
    assert answers(annotator) == {("primary_frame", "article"): "morality"}


def test_outlet_blind_annotator_sees_the_sentence_masked_and_only_their_answers(page, live_server, world):
    project, article, annotator, labels, q = world
    article.text = "Troops left the town.\nAid arrived.\nAs Secret Outlet Times reports, calm returned.\nOne.\nTwo."
    article.save()
    project.outlet_blind = True
    project.save()
    other = make_user("other")
    from annotator.annotations.answers import answer_set
    from annotator.projects.services import membership_add

    membership_add(project=project, user=other, by=project.created_by)
    answer_set(project=project, article=article.pk, user=other, question_id=q["frame"].pk, value="morality")
    browser_login(page, live_server, annotator.username, PASSWORD)
    open_article(page, live_server, project, article)
    assert "Secret Outlet Times" not in page.content()
    page.keyboard.press("]")
    page.keyboard.press("]")
    assert page.inner_text("[data-testid=sentence-text]") == "As " + "█" * 19 + " reports, calm returned."
    assert not page.is_checked("[data-testid=question-primary_frame] input[value=morality]")
