"""Row locks that serialise work per project or per article, and what they must not block (PostgreSQL only:
SQLite locks the whole database for a write and has no row locks).

Each check runs its second party in another thread, with its own connection and a short lock timeout: a statement
that would wait for the first party's lock fails with "lock timeout" instead.
"""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, transaction
from django.db.transaction import TransactionManagementError

from annotator.annotations.models import Layer, Span
from annotator.common.errors import ApplicationError
from annotator.common.models import JobStatus
from annotator.corpus.models import Article
from annotator.projects.locks import project_lock
from annotator.projects.models import Label, Membership, Role
from annotator.projects.services import (
    codebook_version_create,
    membership_add,
    membership_remove,
    membership_update,
)
from annotator.scoring.services import _lock_articles
from annotator.training.models import ModelVersion
from annotator.training.services import model_version_activate
from tests.annotator.projects.factories import make_article, make_project, make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql,  # row locks are PostgreSQL's
]


def in_other_connection(work) -> Exception | None:
    """Run ``work`` in a transaction of another connection, waiting at most 1 s for any lock; its error, if any."""
    outcome: dict = {}

    def run() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '1s'")
                work()
        except Exception as error:  # noqa: BLE001 - handed back to the test thread
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return outcome.get("error")


@pytest.fixture
def world():
    article = make_article(text="Rebels were liberated by foreign-sponsored and armed groups.")
    user = make_user()
    project = make_project(articles=[article])
    return {"project": project, "article": article, "user": user, "label": Label.objects.filter(project=project)[0]}


def annotator_span(world) -> Span:
    return Span.objects.create(
        project=world["project"], article=world["article"], layer=Layer.ANNOTATOR, annotator=world["user"],
        label=world["label"], start_char=0, end_char=6, text="Rebels",
    )  # fmt: skip


def assert_waited_for_a_lock(error: Exception | None) -> None:
    assert isinstance(error, OperationalError) and "lock timeout" in str(error), error


def test_project_lock_excludes_another_holder_but_not_an_annotators_span(world):
    with transaction.atomic():
        project_lock(project=world["project"])
        assert in_other_connection(lambda: annotator_span(world)) is None
        assert_waited_for_a_lock(in_other_connection(lambda: project_lock(project=world["project"])))
    assert Span.objects.filter(project=world["project"], layer=Layer.ANNOTATOR).count() == 1


def test_a_scoring_chunks_article_lock_excludes_another_run_of_it_but_not_an_annotators_span(world):
    articles = Article.objects.filter(pk=world["article"].pk)
    with transaction.atomic():
        _lock_articles(articles)
        assert in_other_connection(lambda: annotator_span(world)) is None
        assert_waited_for_a_lock(in_other_connection(lambda: _lock_articles(articles)))


def test_activating_a_version_waits_for_the_project_lock(world):
    """Two activations at once used to race on the one-active-version constraint; the second now waits."""
    project = world["project"]
    first, second = (ModelVersion.objects.create(project=project, number=n, status=JobStatus.SUCCEEDED) for n in (1, 2))
    with transaction.atomic():
        project_lock(project=project)
        assert_waited_for_a_lock(in_other_connection(lambda: model_version_activate(version=second)))
    model_version_activate(version=first)
    assert in_other_connection(lambda: model_version_activate(version=second)) is None
    assert list(ModelVersion.objects.filter(project=project, is_active=True)) == [second]


def test_removing_or_demoting_an_owner_waits_for_the_project_lock(world):
    """The last-owner rule counts owners under the lock; a locked count() (FOR UPDATE) is silently dropped by Django."""
    project = world["project"]
    second_owner = membership_add(project=project, user=make_user(), role=Role.OWNER, by=None)
    with transaction.atomic():
        project_lock(project=project)
        assert_waited_for_a_lock(in_other_connection(lambda: membership_remove(membership=second_owner)))
        assert_waited_for_a_lock(
            in_other_connection(lambda: membership_update(membership=second_owner, role=Role.ANNOTATOR))
        )
    assert in_other_connection(lambda: membership_remove(membership=second_owner)) is None
    (last,) = Membership.objects.filter(project=project, role=Role.OWNER)
    with pytest.raises(ApplicationError, match="at least one owner"):
        membership_remove(membership=last)


def test_a_codebook_change_waits_for_the_project_lock(world):
    """Versions are numbered latest + 1; an aggregate() drops FOR UPDATE, so the project row serialises them."""
    project = world["project"]
    with transaction.atomic():
        project_lock(project=project)
        assert_waited_for_a_lock(in_other_connection(lambda: codebook_version_create(project=project, changelog="x")))
    before = project.codebook_versions.count()
    assert in_other_connection(lambda: codebook_version_create(project=project, changelog="y")) is None
    assert project.codebook_versions.count() == before + 1


def test_the_project_lock_outside_a_transaction_is_an_error_not_a_lock_released_at_once(world):
    with pytest.raises(TransactionManagementError):
        project_lock(project=world["project"])
