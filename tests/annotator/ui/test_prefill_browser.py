"""Pre-filling predicted answers on the annotator page in a real Chromium: shown as predicted, not saved, not enough
for Done, then confirmed with Enter or changed with a click, each saved as the annotator's own answer. The answers are
the ones the scoring run stored for the article: the two new articles are scored before the page opens."""

from __future__ import annotations

import contextlib
import os
from unittest import mock

import pytest

from annotator.annotations.models import Answer
from annotator.projects.models import Question, Role
from annotator.projects.questions import question_update
from annotator.projects.services import membership_add, project_add_articles
from tests.annotator.projects.factories import PASSWORD, make_article, make_user
from tests.annotator.scoring.test_answer_counts import trained
from tests.annotator.scoring.test_score_chunk_rows import score_in_process
from tests.annotator.training.synthetic import add_tone_question, synthetic_project
from tests.conftest import browser_login

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = "Officials said the terrorists of the regime attacked the town while residents waited for aid convoys."
CALM = "Officials said talks continued on monday while residents waited for aid convoys near the town."


@contextlib.contextmanager
def _committed(execute: bool = True):
    yield []  # no test transaction here: on_commit callbacks ran when their transaction committed


@pytest.fixture
def world(transactional_db):
    project, articles = synthetic_project(n_per_outlet=12, seed=3)
    add_tone_question(project, articles)
    trained(project)
    owner = project.memberships.get(role="owner").user
    question_update(question=Question.objects.get(project=project, name="tone"), required=True, by=owner)
    new = [
        make_article(text=text, title=f"New {i}", outlet=articles[0].outlet) for i, text in enumerate((HOSTILE, CALM))
    ]
    # the run that adding articles queues is left to score_in_process below: a worker an earlier test of this
    # process started would otherwise score them first, and the in-process run would find nothing left to count
    with mock.patch("annotator.scoring.tasks.scoring_run_plan_task.delay"):
        project_add_articles(project=project, by=owner, article_ids=[a.pk for a in new])
    with mock.patch("annotator.scoring.tasks.score_cache_warm_task.delay"):
        score_in_process(project, chunk_size=50, on_commit=_committed)  # the pre-fill reads what scoring stored
    annotator = make_user("coder")
    membership_add(project=project, user=annotator, role=Role.ANNOTATOR, by=owner)
    return project, new, annotator


def open_article(page, live_server, project, article):
    page.goto(f"{live_server.url}/projects/{project.slug}/articles/{article.pk}/")
    page.wait_for_selector("body[data-annotator-ready='1']")


def saved(annotator) -> dict:
    return dict(Answer.objects.filter(annotator=annotator).values_list("article_id", "value"))


def test_predicted_answers_are_shown_then_confirmed_or_changed(page, live_server, screenshot, world):
    project, (hostile, calm), annotator = world
    browser_login(page, live_server, annotator.username, PASSWORD)
    open_article(page, live_server, project, hostile)
    tone = page.locator("[data-testid=question-tone]")
    assert tone.locator("input:checked").count() == 0
    page.click("[data-testid=prefill]")
    page.wait_for_selector("[data-testid=question-tone].q-predicted")
    assert tone.locator("input:checked").get_attribute("value") == "hostile"
    assert "not saved until you confirm" in tone.locator("[data-testid=predicted]").text_content()
    assert saved(annotator) == {}
    screenshot("prefill-predicted")
    # a predicted answer is not an answer: Done still names the question
    page.keyboard.press("Escape")
    page.click("[data-testid=done]")
    page.wait_for_selector(".toast:has-text('Tone toward the government')")
    assert saved(annotator) == {}
    # Enter in the question confirms it: saved as the annotator's own answer, no longer marked predicted
    tone.locator("input:checked").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=save-status][data-state=saved]")
    page.wait_for_selector("[data-testid=question-tone]:not(.q-predicted)")
    assert saved(annotator) == {hostile.pk: "hostile"}

    # on the other article the annotator changes the model's answer with a click
    open_article(page, live_server, project, calm)
    page.click("[data-testid=prefill]")
    page.wait_for_selector("[data-testid=question-tone].q-predicted")
    predicted = tone.locator("input:checked").get_attribute("value")
    other = "neutral" if predicted == "hostile" else "hostile"
    tone.locator(f"input[value={other}]").check()
    page.wait_for_selector("[data-testid=save-status][data-state=saved]")
    page.wait_for_selector("[data-testid=question-tone]:not(.q-predicted)")
    assert saved(annotator) == {hostile.pk: "hostile", calm.pk: other}
