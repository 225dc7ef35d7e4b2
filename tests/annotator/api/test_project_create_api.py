"""POST /api/v1/projects/ starts a study (staff and accounts with projects.add_project; others 403) with a codebook
from a template, a project of theirs or a document; GET /api/v1/projects/<slug>/codebook/ exports it."""

from __future__ import annotations

import pytest
from django.test import Client

from annotator.projects.models import Membership, Project, Role
from tests.annotator.projects.factories import make_project, make_project_creator, make_user

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def creator():
    return make_project_creator("creator")


def test_create_with_template_then_export_and_import_into_another(creator):
    client = client_for(creator)
    response = client.post(
        "/api/v1/projects/",
        {"name": "Border coverage", "description": "d", "guidelines": "# G", "codebook_template": "framing"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert response.json() == {"slug": "border-coverage", "name": "Border coverage", "description": "d"}
    assert Membership.objects.get(project__slug="border-coverage", user=creator).role == Role.OWNER
    exported = client.get("/api/v1/projects/border-coverage/codebook/?download=1")
    assert exported.status_code == 200
    assert exported["Content-Disposition"] == 'attachment; filename="border-coverage-codebook.json"'
    document = exported.json()
    assert document["format"] == "framescope-codebook" and len(document["labels"]) == 5
    second = client.post(
        "/api/v1/projects/", {"name": "Second", "slug": "second", "codebook": document}, content_type="application/json"
    )
    assert second.status_code == 201, second.json()
    assert client.get("/api/v1/projects/second/codebook/").json()["labels"] == document["labels"]
    copied = client.post(
        "/api/v1/projects/", {"name": "Third", "codebook_from": "second"}, content_type="application/json"
    )
    assert copied.status_code == 201
    assert Project.objects.get(slug="third").labels.count() == 5


def test_errors_name_the_field_and_write_nothing(creator):
    client = client_for(creator)
    bad = {"format": "framescope-codebook", "version": 1, "labels": [{"name": "x", "colour": "red"}]}
    response = client.post("/api/v1/projects/", {"name": "Bad", "codebook": bad}, content_type="application/json")
    assert response.status_code == 400
    assert "labels[0].colour" in response.json()["errors"]
    outsider_project = make_project(name="Not yours")
    response = client.post(
        "/api/v1/projects/", {"name": "Copy", "codebook_from": outsider_project.slug}, content_type="application/json"
    )
    assert response.status_code == 400 and "copy_from" in response.json()["errors"]
    response = client.post(
        "/api/v1/projects/",
        {"name": "Two", "codebook_template": "empty", "codebook_from": outsider_project.slug},
        content_type="application/json",
    )
    assert response.status_code == 400 and "Choose one codebook source" in response.json()["detail"]
    assert not Project.objects.filter(name__in=["Bad", "Copy", "Two"]).exists()


def test_users_without_the_permission_get_403_and_anonymous_401_or_403():
    plain = make_user()
    response = client_for(plain).post("/api/v1/projects/", {"name": "Nope"}, content_type="application/json")
    assert response.status_code == 403
    assert "projects | project | Can add project" in response.json()["detail"]
    assert Client().post("/api/v1/projects/", {"name": "Nope"}, content_type="application/json").status_code in (
        401,
        403,
    )
    assert not Project.objects.filter(name="Nope").exists()


def test_codebook_export_is_for_members_only():
    project = make_project()
    assert client_for(make_user()).get(f"/api/v1/projects/{project.slug}/codebook/").status_code == 404
