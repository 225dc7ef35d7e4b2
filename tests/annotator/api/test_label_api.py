"""The codebook through the API: owners and curators add, edit and delete labels (each change a codebook version
with its changelog), with the settings page's validation; annotators get 403, outsiders 404."""

from __future__ import annotations

import pytest
from django.test import Client

from annotator.annotations.models import Span
from annotator.projects.models import CodebookVersion, Label
from tests.annotator.annotations.helpers import annotate_standard, make_world
from tests.annotator.projects.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    w = make_world()
    w.spans = annotate_standard(w)
    return w


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def versions(world) -> list[str]:
    return list(
        CodebookVersion.objects.filter(project=world.project).order_by("number").values_list("changelog", flat=True)
    )


def test_curator_adds_edits_and_deletes_a_label_each_a_codebook_version(world):
    base = f"/api/v1/projects/{world.project.slug}/labels/"
    curator = client_for(world.curator)
    before = versions(world)
    parent = world.labels["loaded term"]
    created = curator.post(
        base,
        {"name": "dehumanising", "colour": "#112233", "hotkey": "9", "parent": parent.pk,
         "positive_examples": ["vermin"], "changelog": "Split from loaded term."},
        content_type="application/json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    label = Label.objects.get(pk=body["id"])
    assert (label.name, label.colour, label.hotkey, label.parent_id) == ("dehumanising", "#112233", "9", parent.pk)
    assert label.positive_examples == ["vermin"] and body["parent_id"] == parent.pk
    assert versions(world) == [*before, "Split from loaded term."]

    renamed = curator.patch(f"{base}{label.pk}/", {"name": "dehumanizing"}, content_type="application/json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "dehumanizing"
    assert versions(world)[-1] == "Renamed label 'dehumanising' to 'dehumanizing'."
    assert curator.get(f"{base}{label.pk}/").json()["name"] == "dehumanizing"

    gone = curator.delete(f"{base}{label.pk}/")
    assert gone.status_code == 200 and gone.json() == {"deleted": label.pk, "spans_moved": 0}
    assert not Label.objects.filter(pk=label.pk).exists()
    assert versions(world)[-1] == "Deleted label 'dehumanizing'."


def test_a_label_in_use_is_deleted_only_by_merging_its_spans(world):
    base = f"/api/v1/projects/{world.project.slug}/labels/"
    owner = client_for(world.owner)
    used = world.labels["actor label"]
    n_used = Span.objects.filter(label=used).count()
    assert n_used
    refused = owner.delete(f"{base}{used.pk}/")
    assert refused.status_code == 400 and f"used by {n_used} span(s)" in refused.json()["detail"]
    assert Label.objects.filter(pk=used.pk).exists()
    target = world.labels["loaded term"]
    merged = owner.delete(f"{base}{used.pk}/?merge_into={target.pk}")
    assert merged.status_code == 200 and merged.json()["spans_moved"] == n_used
    assert Span.objects.filter(label=target).count() >= n_used and not Label.objects.filter(pk=used.pk).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "loaded term"}, "name"),  # taken
        ({"name": "new", "colour": "red"}, "colour"),
        ({"name": "new", "hotkey": "1"}, "hotkey"),  # loaded term's
        ({"name": "new", "parent": 999_999}, "parent"),
        ({"colour": "#123456"}, "name"),  # POST needs a name
    ],
)
def test_invalid_labels_are_refused_with_the_field_and_nothing_changes(world, body, field):
    before = (Label.objects.count(), versions(world))
    response = client_for(world.curator).post(
        f"/api/v1/projects/{world.project.slug}/labels/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert (Label.objects.count(), versions(world)) == before


def test_annotators_are_refused_and_outsiders_do_not_see_the_project(world):
    base = f"/api/v1/projects/{world.project.slug}/labels/"
    label = world.labels["loaded term"]
    annotator = client_for(world.ann1)
    assert annotator.get(base).status_code == 200 and annotator.get(f"{base}{label.pk}/").status_code == 200
    assert annotator.post(base, {"name": "x"}, content_type="application/json").status_code == 403
    assert annotator.patch(f"{base}{label.pk}/", {"name": "x"}, content_type="application/json").status_code == 403
    assert annotator.delete(f"{base}{label.pk}/").status_code == 403
    outsider = client_for(make_user("outsider"))
    assert outsider.post(base, {"name": "x"}, content_type="application/json").status_code == 404
    assert outsider.delete(f"{base}{label.pk}/").status_code == 404
    missing = client_for(world.curator).get(f"{base}999999/")
    assert missing.status_code == 404
    assert missing.json()["errors"] == {"label": ["Label 999999 is not in this project's codebook."]}
    assert Label.objects.get(pk=label.pk).name == "loaded term"
