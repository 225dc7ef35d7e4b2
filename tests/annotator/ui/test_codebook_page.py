"""The codebook page (annotator/ui/codebook.py): owners and curators only, with the codebook, the labels and how
many answers each question and option has (what the editor shows beside the rules answers bring)."""

import json

import pytest
from django.test import Client

from annotator.annotations.answers import answer_set
from annotator.projects.questions import question_create
from tests.annotator.annotations.helpers import make_world

pytestmark = pytest.mark.django_db


def get(user, project):
    client = Client()
    client.force_login(user)
    return client.get(f"/projects/{project.slug}/codebook/")


def test_owners_and_curators_open_it_others_are_refused():
    world = make_world()
    assert get(world.owner, world.project).status_code == 200
    assert get(world.curator, world.project).status_code == 200
    assert get(world.ann1, world.project).status_code == 403
    assert get(world.viewer, world.project).status_code == 403
    assert get(make_world(prefix="other-").owner, world.project).status_code == 404


def test_the_page_carries_the_codebook_labels_and_answer_counts():
    world = make_world()
    frame = question_create(
        project=world.project, name="frame", prompt="Frame?", by=world.owner,
        options=[{"value": "economic"}, {"value": "security"}],
    )  # fmt: skip
    answer_set(project=world.project, article=world.articles[0].pk, user=world.ann1, question_id=frame.pk,
               value="security")  # fmt: skip
    response = get(world.curator, world.project)
    config = json.loads(
        response.content.decode().split('id="codebook-config" type="application/json">')[1].split("</script>")[0]
    )
    assert [q["name"] for q in config["questions"]] == ["frame"]
    assert config["usage"] == {str(frame.pk): {"answers": 1, "options": {"security": 1}}}
    assert {label["name"] for label in config["labels"]} >= {"actor label", "loaded term"}
    assert config["urls"]["reorder"] == f"/api/v1/projects/{world.project.slug}/questions/reorder/"
    assert config["urls"]["version"] == f"/api/v1/projects/{world.project.slug}/codebook/versions/"
    assert b"Added question &#x27;frame&#x27;." in response.content  # the recent versions
