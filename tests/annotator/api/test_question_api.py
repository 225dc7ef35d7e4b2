"""Codebook questions and answers through the API: owners and curators edit questions (codebook versions),
annotators set and clear their own answers (blind: they read only their own), sentences come from the server."""

from __future__ import annotations

import pytest
from django.test import Client

from annotator.annotations.models import Answer
from annotator.projects.models import CodebookVersion, Question
from tests.annotator.annotations.helpers import make_world, mark

pytestmark = pytest.mark.django_db

TEXT = "Troops liberate areas. The regime claimed victory!\nHeadline line"


@pytest.fixture
def world():
    w = make_world()
    w.base = f"/api/v1/projects/{w.project.slug}"
    return w


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def frame_body(**kw):
    return {
        "name": "primary_frame", "prompt": "Primary frame?", "required": True, "hotkey": "f",
        "options": [{"value": "economic", "text": "Economic"}, {"value": "security", "text": "Security"}],
    } | kw  # fmt: skip


def test_curator_adds_edits_and_deletes_a_question_each_a_codebook_version(world):
    curator = client_for(world.curator)
    created = post(curator, f"{world.base}/questions/", frame_body(changelog="Frames from the MFC."))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["options"][1] == {
        "value": "security",
        "text": "Security",
        "description": "",
        "numeric": None,
        "hotkey": "2",
        "order": 2,
    }
    assert (
        CodebookVersion.objects.filter(project=world.project).order_by("-number")[0].changelog == "Frames from the MFC."
    )
    url = f"{world.base}/questions/{body['id']}/"
    edited = curator.patch(url, {"prompt": "The article's main frame?"}, content_type="application/json")
    assert edited.status_code == 200 and edited.json()["prompt"] == "The article's main frame?"
    assert client_for(world.ann1).get(url).json()["name"] == "primary_frame"
    detail = client_for(world.viewer).get(f"{world.base}/").json()
    assert [q["name"] for q in detail["questions"]] == ["primary_frame"]
    assert curator.delete(url).status_code == 204
    assert not Question.objects.exists()


def test_bad_questions_are_400_naming_the_field_and_annotators_get_403(world):
    bad = post(client_for(world.owner), f"{world.base}/questions/", frame_body(options=[{"value": "only"}]))
    assert bad.status_code == 400
    assert bad.json()["errors"]["options"] == ["A single choice question needs at least two options."]
    attribute = frame_body(name="target", scope="span", hotkey="", label=world.labels["actor label"].pk)
    assert post(client_for(world.owner), f"{world.base}/questions/", attribute).status_code == 201
    refused = post(client_for(world.ann1), f"{world.base}/questions/", frame_body())
    assert refused.status_code == 403
    assert (
        post(client_for(world.ann1), f"/api/v1/projects/{world.project.slug}x/questions/", frame_body()).status_code
        == 404
    )
    assert client_for(world.owner).get(f"{world.base}/questions/999999/").status_code == 404


def test_annotator_sets_changes_and_clears_answers_and_reads_only_their_own(world):
    question = post(client_for(world.owner), f"{world.base}/questions/", frame_body()).json()
    article = world.articles[0]
    url = f"{world.base}/articles/{article.pk}/answers/"
    ann1, ann2 = client_for(world.ann1), client_for(world.ann2)
    first = post(ann1, url + "set/", {"question": question["id"], "value": "security"})
    assert first.status_code == 201, first.content
    assert first.json()["answer"]["value"] == "security" and not first.json()["cleared"]
    assert post(ann1, url + "set/", {"question": question["id"], "value": "security"}).status_code == 200
    post(ann2, url + "set/", {"question": question["id"], "value": "economic"})
    assert [a["value"] for a in ann1.get(url).json()] == ["security"]
    assert [a["value"] for a in ann2.get(url).json()] == ["economic"]
    bad = post(ann1, url + "set/", {"question": question["id"], "value": "war"})
    assert bad.status_code == 400 and bad.json()["errors"]["value"] == ["One of: economic, security."]
    cleared = post(ann1, url + "set/", {"question": question["id"], "value": None})
    assert cleared.status_code == 200 and cleared.json() == {
        "question_id": question["id"],
        "cleared": True,
        "answer": None,
    }
    assert ann1.get(url).json() == []
    assert Answer.objects.count() == 1
    assert post(client_for(world.viewer), url + "set/", {"question": question["id"], "value": "x"}).status_code == 403


def test_done_is_refused_with_the_missing_questions_named(world):
    question = post(client_for(world.owner), f"{world.base}/questions/", frame_body()).json()
    article = world.articles[0]
    status = f"{world.base}/articles/{article.pk}/status/"
    refused = post(client_for(world.ann1), status, {"status": "done"})
    assert refused.status_code == 400
    assert refused.json()["detail"] == "Answer the required questions first: “Primary frame?”."
    assert refused.json()["errors"]["missing"][0]["question"] == "primary_frame"
    post(
        client_for(world.ann1),
        f"{world.base}/articles/{article.pk}/answers/set/",
        {"question": question["id"], "value": "economic"},
    )
    assert post(client_for(world.ann1), status, {"status": "done"}).status_code == 200


def test_sentences_and_attribute_answers(world):
    from tests.annotator.projects.factories import make_article

    article = make_article(text=TEXT)
    from annotator.projects.services import project_add_articles

    project_add_articles(project=world.project, by=None, article_ids=[article.pk])
    sentences = client_for(world.ann1).get(f"{world.base}/articles/{article.pk}/sentences/").json()
    assert [TEXT[s["start_char"] : s["end_char"]] for s in sentences] == [
        "Troops liberate areas.", "The regime claimed victory!", "Headline line",
    ]  # fmt: skip
    attribute = post(
        client_for(world.owner), f"{world.base}/questions/",
        frame_body(name="target", scope="span", hotkey="", required=False, label=world.labels["actor label"].pk),
    ).json()  # fmt: skip
    span = mark(world, world.ann1, article, "regime", "actor label")
    url = f"{world.base}/articles/{article.pk}/answers/set/"
    saved = post(client_for(world.ann1), url, {"question": attribute["id"], "span": span.pk, "value": "security"})
    assert saved.status_code == 201 and saved.json()["answer"]["span_id"] == span.pk
    theirs = post(client_for(world.ann2), url, {"question": attribute["id"], "span": span.pk, "value": "security"})
    assert theirs.status_code == 404


def test_questions_are_reordered_through_the_api_by_owners_and_curators(world):
    owner = client_for(world.owner)
    ids = [post(owner, f"{world.base}/questions/", frame_body(name=n, hotkey="")).json()["id"] for n in ("a", "b")]
    url = f"{world.base}/questions/reorder/"
    assert post(client_for(world.ann1), url, {"order": ids[::-1]}).status_code == 403
    bad = post(client_for(world.curator), url, {"order": ids[:1]})
    assert bad.status_code == 400 and bad.json()["errors"]["order"] == ["Missing: b (list every question once)."]
    moved = post(client_for(world.curator), url, {"order": ids[::-1]})
    assert moved.status_code == 200 and [q["name"] for q in moved.json()] == ["b", "a"]
    assert [q["name"] for q in owner.get(f"{world.base}/questions/").json()] == ["b", "a"]


def test_blank_option_values_reach_the_rules_with_the_others(world):
    body = frame_body(hotkey="1", options=[{"value": "economic"}, {"value": " "}])
    bad = post(client_for(world.owner), f"{world.base}/questions/", body)
    assert bad.status_code == 400
    errors = bad.json()["errors"]
    assert errors["hotkey"] == ["Hotkey '1' is already used by a label."]
    assert errors["options"] == ["Option 2: a value (its stable key) of 1 to 100 characters."]
