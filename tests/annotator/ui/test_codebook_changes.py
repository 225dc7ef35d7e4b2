"""'What changed since you last annotated': codebook versions after the user's last span/assignment change."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from annotator.annotations.models import Span
from annotator.annotations.selectors import codebook_changes_since_last_work
from annotator.annotations.services import span_create
from annotator.projects.models import CodebookVersion, Label
from annotator.projects.services import label_create, label_update
from tests.annotator.projects.factories import make_article, make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    owner, ann = make_user(), make_user()
    article = make_article(text="Troops liberate the town.")
    project = make_project(owner=owner, articles=[article], annotators=[ann])
    return project, article, owner, ann


def test_only_versions_after_the_last_work_are_listed(world):
    project, article, owner, ann = world
    assert codebook_changes_since_last_work(project=project, user=ann) == []  # never annotated: nothing "changed"
    label = Label.objects.filter(project=project).first()
    span, _ = span_create(project=project, article=article, user=ann, label_id=label.pk, start_char=0, end_char=6,
                          text="Troops")  # fmt: skip
    # Versions made before the span do not count (backdate them to be safe on a fast clock).
    CodebookVersion.objects.filter(project=project).update(created_at=timezone.now() - dt.timedelta(hours=1))
    assert codebook_changes_since_last_work(project=project, user=ann) == []
    label_update(label=label, by=owner, description="Now stricter: only evaluative words.", changelog="Stricter.")
    label_create(project=project, name="dehumanising", by=owner)
    changes = codebook_changes_since_last_work(project=project, user=ann)
    assert [v.changelog for v in changes] == ["Stricter.", "Added label 'dehumanising'."]
    # Working again (a span change) clears the list.
    Span.objects.filter(pk=span.pk).update(updated_at=timezone.now() + dt.timedelta(seconds=5))
    assert codebook_changes_since_last_work(project=project, user=ann) == []


def test_notice_on_project_and_annotator_pages(world):
    project, article, owner, ann = world
    label = Label.objects.filter(project=project).first()
    span_create(project=project, article=article, user=ann, label_id=label.pk, start_char=0, end_char=6, text="Troops")
    Span.objects.update(updated_at=timezone.now() - dt.timedelta(minutes=5))
    CodebookVersion.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))
    label_update(label=label, by=owner, changelog="Clarified 'loaded term' <b>now</b>.", description="Clearer.")
    client = Client()
    client.force_login(ann)
    for url in (f"/projects/{project.slug}/", f"/projects/{project.slug}/articles/{article.pk}/"):
        page = client.get(url).content.decode()
        assert 'data-testid="codebook-changes"' in page
        assert "Clarified &#x27;loaded term&#x27; &lt;b&gt;now&lt;/b&gt;." in page  # escaped, never HTML
        assert "codebook_notice.js" in page
    other = Client()
    other.force_login(owner)  # the owner never annotated: no notice
    assert 'data-testid="codebook-changes"' not in other.get(f"/projects/{project.slug}/").content.decode()
