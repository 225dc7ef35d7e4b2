"""The assignments page: a preview (articles per annotator, overlap, calibration set) before anything is written,
then a generation of exactly that plan; a plan that changed meanwhile is refused and previewed again."""

from __future__ import annotations

import pytest

from annotator.projects.models import Assignment, Role
from annotator.projects.services import membership_add
from tests.annotator.projects.factories import make_article, make_project, make_user
from tests.conftest import client_login

pytestmark = pytest.mark.django_db


def test_preview_then_generate_from_the_page():
    owner, ana, ben = make_user(), make_user("ana"), make_user("ben")
    articles = [make_article(text=f"Story {i} text.", title=f"Story {i}") for i in range(8)]
    project = make_project(owner=owner, articles=articles, annotators=[ana, ben])
    client = client_login(owner)
    page = client.get(f"/projects/{project.slug}/assignments/").content.decode()
    assert 'data-testid="preview-form"' in page and 'data-testid="generate"' not in page
    url = f"/projects/{project.slug}/assignments/?preview=1&annotators_per_article=2&overlap_fraction=0.5&calibration_size=2"
    page = client.get(url).content.decode()
    assert not Assignment.objects.filter(project=project).exists()
    assert "<strong>13</strong> new assignment(s)" in page  # 2 calibration x 2, 6 regular of which 3 doubled: 4 + 9
    assert "<tr><td>ana</td><td>0</td><td>6</td><td>2</td><td>6</td></tr>" in page
    assert "Calibration set (2)" in page
    plan = page.split('name="plan" value="')[1].split('"')[0]
    form = {"annotators_per_article": "2", "overlap_fraction": "0.5", "calibration_size": "2", "plan": plan}
    response = client.post(f"/projects/{project.slug}/assignments/", form)
    assert response.status_code == 302
    assert Assignment.objects.filter(project=project).count() == 13
    membership_add(project=project, user=make_user("cleo"), role=Role.ANNOTATOR, by=owner)
    response = client.post(f"/projects/{project.slug}/assignments/", form, follow=True)
    assert "changed since the preview" in response.content.decode()
    assert 'data-testid="preview-result"' in response.content.decode()  # back on a fresh preview
    assert Assignment.objects.filter(project=project).count() == 13


def test_curators_preview_but_do_not_generate():
    owner, curator = make_user(), make_user()
    project = make_project(owner=owner, articles=[make_article(text="One story.")], annotators=[make_user()])
    membership_add(project=project, user=curator, role=Role.CURATOR, by=owner)
    page = client_login(curator).get(f"/projects/{project.slug}/assignments/?preview=1").content.decode()
    assert "Only a project owner can generate assignments." in page and 'data-testid="generate"' not in page
