"""The New project page: staff and accounts with projects.add_project start a study from a template, a copy of one
of their projects or a codebook file; errors come back on the form (with what was typed) and nothing is written."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotator.projects.codebook import codebook_document
from annotator.projects.models import CodebookVersion, Membership, Project, Role
from tests.annotator.projects.factories import make_project, make_project_creator, make_user
from tests.conftest import client_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def creator():
    return make_project_creator("researcher")


def test_home_offers_new_project_only_to_those_allowed(creator):
    assert 'data-testid="project-new-link"' in client_login(creator).get("/").content.decode()
    plain = make_user()
    assert 'data-testid="project-new-link"' not in client_login(plain).get("/").content.decode()
    assert client_login(plain).get("/projects/new/").status_code == 403


def test_start_from_template_lands_on_settings(creator):
    client = client_login(creator)
    form = client.get("/projects/new/").content.decode()
    assert "Framing codebook" in form and "BABE&#x27;s scheme" in form
    response = client.post(
        "/projects/new/",
        {"name": "Border coverage", "description": "d", "guidelines": "# G", "codebook_source": "babe"},
    )
    assert response.status_code == 302 and response.url == "/projects/border-coverage/settings/"
    project = Project.objects.get(slug="border-coverage")
    assert Membership.objects.get(project=project, user=creator).role == Role.OWNER
    assert list(project.labels.values_list("name", flat=True)) == ["loaded term"]
    page = client.get(response.url).content.decode()
    assert "started with 1 label(s) from the codebook template &#x27;babe&#x27;" in page
    assert 'data-testid="codebook-download"' in page


def test_copy_and_file_sources(creator):
    source = make_project(name="Earlier study")
    Membership.objects.create(project=source, user=creator, role=Role.CURATOR)
    client = client_login(creator)
    assert (
        client.post("/projects/new/", {"name": "Copy", "codebook_source": "copy", "copy_from": source.slug}).status_code
        == 302
    )
    assert (
        codebook_document(project=Project.objects.get(slug="copy"))["labels"]
        == codebook_document(project=source)["labels"]
    )
    upload = SimpleUploadedFile("shared.json", json.dumps(codebook_document(project=source)).encode())
    assert (
        client.post(
            "/projects/new/", {"name": "From file", "codebook_source": "file", "codebook_file": upload}
        ).status_code
        == 302
    )
    version = CodebookVersion.objects.get(project__slug="from-file")
    assert version.changelog == "Started from codebook file 'shared.json'." and len(version.labels_snapshot) == 5


def test_errors_are_shown_on_the_form_and_nothing_is_written(creator):
    client = client_login(creator)
    bad = {"format": "framescope-codebook", "version": 1, "labels": [{"name": "x", "colour": "red"}]}
    upload = SimpleUploadedFile("bad.json", json.dumps(bad).encode())
    response = client.post("/projects/new/", {"name": "Kept name", "codebook_source": "file", "codebook_file": upload})
    html = response.content.decode()
    assert response.status_code == 400
    assert "labels[0].colour" in html and 'value="Kept name"' in html
    response = client.post("/projects/new/", {"name": "No file", "codebook_source": "file"})
    assert "Choose a codebook file." in response.content.decode()
    other = make_project(name="Not mine")
    response = client.post("/projects/new/", {"name": "Copy", "codebook_source": "copy", "copy_from": other.slug})
    assert response.status_code == 400  # not among the choices
    make_project(name="Taken")
    response = client.post("/projects/new/", {"name": "Taken", "codebook_source": "empty"})
    assert "already exists" in response.content.decode()
    response = client.post("/projects/new/", {"name": "Reserved", "slug": "new", "codebook_source": "empty"})
    assert "reserved" in response.content.decode()
    assert not Project.objects.filter(name__in=["Kept name", "No file", "Copy", "Reserved"]).exists()
