"""Randomized annotation sessions (tests/annotator/ui/random_sessions.py) in real Chromium: two annotators, two tabs
each, create / relabel / note / delete / undo / redo with the network failing and recovering; the server's spans
must equal what the actions intended, every time.

The quick test (3 seeds x 50 actions) runs in every suite; the full floor (20 seeds x 50 actions) is marked slow
and runs in CI (its time is in docs/benchmarks.md). `-m "not slow"` leaves it out locally."""

from __future__ import annotations

import os

import pytest

from annotator.projects.models import Label
from tests.annotator.projects.factories import PASSWORD, make_article, make_project, make_user
from tests.annotator.ui.random_sessions import Session
from tests.conftest import browser_login

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACTIONS = 50


@pytest.fixture
def study(transactional_db, seed_article):
    _, body = seed_article
    owner, first, second = make_user("rs-owner"), make_user("rs-ann1"), make_user("rs-ann2")
    article = make_article(text=body[:1500], title="Random sessions")
    project = make_project(owner=owner, articles=[article], annotators=[first, second], name="Random sessions")
    label_ids = sorted(Label.objects.filter(project=project).values_list("pk", flat=True))
    return project, article, [first, second], label_ids


def run_session(browser, live_server, study, seed: int) -> None:
    project, article, annotators, label_ids = study
    contexts, users = [], []
    try:
        for user in annotators:
            context = browser.new_context(viewport={"width": 1200, "height": 800})
            context.set_default_timeout(15_000)
            contexts.append(context)
            first = context.new_page()
            browser_login(first, live_server, user.username, PASSWORD)
            pages = [first, context.new_page()]
            for page in pages:
                page.goto(f"{live_server.url}/projects/{project.slug}/articles/{article.pk}/")
                page.wait_for_selector("body[data-annotator-ready='1']")
            users.append((context, pages, user))
        counts = Session(seed=seed, users=users, article=article, label_ids=label_ids).run(ACTIONS)
        print(f"seed {seed}: {dict(sorted(counts.items()))}")
    finally:
        for context in contexts:
            context.close()


@pytest.mark.parametrize("seed", [101, 102, 103])
def test_random_sessions_store_what_the_actions_intended(browser, live_server, study, seed):
    run_session(browser, live_server, study, seed)


@pytest.mark.slow
@pytest.mark.floor
@pytest.mark.parametrize("seed", range(20))
def test_random_sessions_floor_twenty_seeds(browser, live_server, study, seed):
    run_session(browser, live_server, study, seed)
