"""Outlet-blind projects: annotators never get the outlet (name, slug, byline, URL) from the page or the API."""

import pytest
from django.test import Client

from annotator.annotations.models import Span
from annotator.corpus.models import Outlet
from annotator.projects.blinding import MASK, mask_text, outlet_terms
from annotator.projects.models import Label, Role
from annotator.projects.services import membership_add
from tests.annotator.projects.factories import make_article, make_project, make_user

pytestmark = pytest.mark.django_db

TEXT = (
    "LONDON (Daily Planet) -\n"
    "Fighting went on for a third day.\n"
    "Troops liberate the town, the daily planet was told by officials.\n"
    "Rebels claimed the bridge.\n"
    "Residents fled.\n"
    "© Daily Planet Media 2024. Read more at dailyplanet.example"
)


@pytest.fixture
def world():
    outlet = Outlet.objects.create(
        name="Daily Planet", slug="daily-planet", homepage="https://www.dailyplanet.example/"
    )
    article = make_article(
        text=TEXT, title="Troops advance | Daily Planet", outlet=outlet,
        url="https://dailyplanet.example/world/troops", byline="Lois Lane, Daily Planet staff",
    )  # fmt: skip
    owner, ann, curator = make_user(), make_user(), make_user()
    project = make_project(owner=owner, articles=[article], annotators=[ann])
    membership_add(project=project, user=curator, role=Role.CURATOR, by=owner)
    project.outlet_blind = True
    project.save()
    return project, article, owner, ann, curator


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


FORBIDDEN = ("daily planet", "daily-planet", "dailyplanet", "lois lane")


def assert_blind(body: str, where: str) -> None:
    low = body.lower()
    for term in FORBIDDEN:
        assert term not in low, f"{term!r} leaked in {where}"


def test_mask_keeps_offsets_and_hides_boilerplate_lines():
    class FakeOutlet:
        name, slug, homepage = "Daily Planet", "daily-planet", "https://www.dailyplanet.example/"

    masked = mask_text(TEXT, outlet_terms(outlet=FakeOutlet(), article_url=""))
    assert len(masked) == len(TEXT)
    lines, real = masked.split("\n"), TEXT.split("\n")
    assert set(lines[0]) == {MASK} and set(lines[5]) == {MASK}  # dateline and copyright line masked whole
    assert lines[1] == real[1] and lines[3] == real[3]  # ordinary lines are untouched
    start = real[2].index("the daily planet") + len("the ")
    assert lines[2][start : start + 12] == MASK * 12 and lines[2][:start] == real[2][:start]


def test_annotator_api_and_pages_never_contain_the_outlet(world):
    project, article, _, ann, _ = world
    client = client_for(ann)
    label = Label.objects.filter(project=project).first()
    api = f"/api/v1/projects/{project.slug}"
    # A span over a masked word: the annotator sends what they see; the real text is stored.
    line1 = TEXT.index("the daily planet") + 4
    shown = MASK * 12
    created = client.post(
        f"{api}/articles/{article.pk}/spans/create/",
        {"label": label.pk, "start_char": line1, "end_char": line1 + 12, "text": shown},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    span = Span.objects.get(pk=created.json()["id"])
    assert span.text == "daily planet"
    updated = client.patch(f"{api}/spans/{span.pk}/update/", {"note": "n"}, content_type="application/json")
    assert updated.status_code == 200
    bodies = {
        "span create": created.content.decode(),
        "span update": updated.content.decode(),
        "article": client.get(f"{api}/articles/{article.pk}/").content.decode(),
        "spans": client.get(f"{api}/articles/{article.pk}/spans/").content.decode(),
        "queue": client.get(f"{api}/queue/").content.decode(),
        "project": client.get(f"{api}/").content.decode(),
        "projects": client.get(f"{api.rsplit('/', 1)[0]}/").content.decode(),
        "annotate page": client.get(f"/projects/{project.slug}/articles/{article.pk}/").content.decode(),
        "project page": client.get(f"/projects/{project.slug}/").content.decode(),
    }
    for where, body in bodies.items():
        assert_blind(body, where)
    data = client.get(f"{api}/articles/{article.pk}/").json()
    assert data["title"] == "Troops advance | [outlet]"
    assert (data["outlet"], data["byline"], data["url"]) == (None, None, None)
    assert len(data["text"]) == len(TEXT) and "Rebels claimed the bridge." in data["text"]
    assert data["spans"][0]["text"] == shown


def test_curators_and_owners_still_see_the_outlet(world):
    project, article, owner, _, curator = world
    for user in (owner, curator):
        data = client_for(user).get(f"/api/v1/projects/{project.slug}/articles/{article.pk}/").json()
        assert (data["outlet"], data["text"], data["title"]) == ("Daily Planet", TEXT, article.title)
        page = client_for(user).get(f"/projects/{project.slug}/articles/{article.pk}/").content.decode()
        assert "Daily Planet" in page


def test_not_blind_projects_show_the_outlet_to_annotators(world):
    project, article, _, ann, _ = world
    project.outlet_blind = False
    project.save()
    data = client_for(ann).get(f"/api/v1/projects/{project.slug}/articles/{article.pk}/").json()
    assert data["outlet"] == "Daily Planet" and data["text"] == TEXT
