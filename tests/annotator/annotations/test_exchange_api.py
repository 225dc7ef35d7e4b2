"""Export API (streaming, roles, blind mode) and the import/export page (upload form, report, permissions)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from annotator.annotations.models import Span
from annotator.projects.models import Role
from annotator.projects.services import membership_add
from tests.annotator.annotations.test_exchange import TEXTS, World, build_world, export, fresh_project, make_user
from tests.conftest import client_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


def url(world: World, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/projects/{world.project.slug}/annotations/export/?{query}"


def fetch(client: Client, address: str, expected: int):
    response = client.get(address)
    assert response.status_code == expected, (address, response.content[:300])
    return response


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def spans_in(native: str) -> set[tuple]:
    rows = [json.loads(line) for line in native.splitlines()]
    return {(r["article"]["id"], s["layer"], s["annotator"], s["text"]) for r in rows for s in r["spans"]}


def test_owner_streams_every_format(world):
    client = client_login(world.owner)
    response = fetch(client, url(world, format="native"), 200)
    assert response.streaming and response["Content-Type"] == "application/jsonl; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{world.project.slug}-all-native.jsonl"'
    assert body(response) == export(world.project, "native")
    tasks = json.loads(body(fetch(client, url(world, format="labelstudio", layer="gold"), 200)))
    assert len(tasks) == len(TEXTS)
    csv_response = fetch(client, url(world, format="csv"), 200)
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8" and "'=cmd" in body(csv_response)


def test_viewer_exports_the_gold_layer_of_a_blind_project_and_everything_of_an_open_one(world):
    viewer = make_user()
    membership_add(project=world.project, user=viewer, role=Role.VIEWER, by=world.owner)
    client = client_login(viewer)
    native = body(fetch(client, url(world, format="native"), 200))
    assert {layer for _, layer, _, _ in spans_in(native)} <= {"gold"}
    assert len(spans_in(native)) == Span.objects.filter(project=world.project, layer="gold").count()
    for params in ({"layer": "annotator"}, {"layer": "all"}, {"annotator": world.a1.username}):
        assert "blind" in fetch(client, url(world, format="native", **params), 403).json()["detail"]
    world.project.blind = False
    world.project.save()
    native = body(fetch(client, url(world, format="native"), 200))
    assert len(spans_in(native)) == Span.objects.filter(project=world.project).exclude(layer="suggestion").count()


def test_blind_annotator_gets_only_their_own_spans(world):
    client = client_login(world.a1)
    mine = spans_in(body(fetch(client, url(world, format="native"), 200)))
    assert mine and {(layer, who) for _, layer, who, _ in mine} == {("annotator", world.a1.username)}
    assert (
        spans_in(body(fetch(client, url(world, format="native", layer="annotator", annotator=world.a1.username), 200)))
        == mine
    )
    for params in ({"layer": "gold"}, {"layer": "all"}, {"annotator": world.a2.username}):
        response = fetch(client, url(world, format="native", **params), 403)
        assert "blind" in response.json()["detail"]


def test_annotator_in_an_open_project_sees_everyone(world):
    world.project.blind = False
    world.project.save(update_fields=["blind"])
    everything = spans_in(body(fetch(client_login(world.a1), url(world, format="native"), 200)))
    assert len(everything) == Span.objects.filter(project=world.project).count()


def test_outlet_blind_annotator_gets_no_outlet_or_url(world):
    world.project.outlet_blind = True
    world.project.save(update_fields=["outlet_blind"])
    rows = [
        json.loads(line) for line in body(fetch(client_login(world.a1), url(world, format="native"), 200)).splitlines()
    ]
    assert rows and all(r["article"]["outlet"] == "" and r["article"]["url"] == "" for r in rows)
    owner_rows = body(fetch(client_login(world.owner), url(world, format="native"), 200)).splitlines()
    assert json.loads(owner_rows[0])["article"]["outlet"] != ""


def test_strangers_and_bad_parameters(world):
    fetch(client_login(make_user()), url(world, format="native"), 404)
    assert Client().get(url(world, format="native")).status_code in (401, 403)
    bad = fetch(client_login(world.owner), url(world, format="xml"), 400).json()
    assert "format" in bad["errors"]
    missing = fetch(client_login(world.owner), url(world, format="csv", annotator="ghost"), 404).json()
    assert "ghost" in missing["detail"]


# --- the page --------------------------------------------------------------------------------------------------


def page(world: World) -> str:
    return f"/projects/{world.project.slug}/exchange/"


def upload(data: str, name: str = "spans.jsonl") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data.encode("utf-8"), content_type="application/octet-stream")


def test_page_shows_links_and_the_form_by_role(world):
    owner_html = client_login(world.owner).get(page(world)).content.decode()
    assert 'data-testid="import-form"' in owner_html and "format=conll&amp;layer=gold" in owner_html
    annotator_html = client_login(world.a1).get(page(world)).content.decode()
    assert 'data-testid="import-form"' not in annotator_html
    assert "layer=gold" not in annotator_html and "format=native&amp;layer=annotator" in annotator_html
    project_html = client_login(world.a1).get(f"/projects/{world.project.slug}/").content.decode()
    assert page(world) in project_html
    response = client_login(world.a1).post(page(world), {"format": "native", "file": upload("")})
    assert response.status_code == 403


def test_upload_dry_run_then_import_then_errors(world):
    target = fresh_project(world)
    client = client_login(world.owner)
    data = export(world.project, "native")
    address = f"/projects/{target.slug}/exchange/"
    response = client.post(address, {"format": "native", "dry_run": "on", "file": upload(data)})
    assert response.status_code == 200 and "Dry run: nothing written" in response.content.decode()
    assert Span.objects.filter(project=target).count() == 0
    response = client.post(address, {"format": "native", "file": upload(data)})
    assert "Imported" in response.content.decode()
    assert Span.objects.filter(project=target).count() == 10
    bad = data.replace('"label":"euphemism"', '"label":"spin"')
    response = client.post(address, {"format": "native", "file": upload(bad, "bad.jsonl")})
    html = response.content.decode()
    assert response.status_code == 400 and "Nothing was imported" in html
    assert "<td>bad.jsonl</td><td>1</td>" in html and "unknown label &#x27;spin&#x27;" in html
