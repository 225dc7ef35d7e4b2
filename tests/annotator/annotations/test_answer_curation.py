"""Curation of answers: the curator takes an annotator's answer or gives another (with provenance), refuses stale
pages, bulk-accepts where every finished annotator agrees, and accepted spans bring their agreed attributes."""

from __future__ import annotations

import pytest
from django.test import Client

from annotator.annotations.answers import answer_set, gold_answer_set, gold_answers_bulk_accept
from annotator.annotations.curation import gold_span_accept
from annotator.annotations.models import Answer, Layer
from annotator.annotations.selectors import curation_answers_view
from annotator.common.errors import ApplicationError
from annotator.projects.questions import question_create
from tests.annotator.annotations.helpers import finish, make_world, mark

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    w = make_world()
    w.frame = question_create(
        project=w.project, name="frame", prompt="Frame?", by=w.owner,
        options=[{"value": "security"}, {"value": "economic"}, {"value": "morality"}],
    )  # fmt: skip
    w.tone = question_create(
        project=w.project, name="tone", prompt="Tone", kind="scale", by=w.owner,
        options=[{"value": str(n), "numeric": n} for n in (-1, 0, 1)],
    )  # fmt: skip
    w.target = question_create(
        project=w.project, name="target", prompt="Who?", scope="span", label=w.labels["actor label"], by=w.owner,
        options=[{"value": "government"}, {"value": "armed_opposition"}],
    )  # fmt: skip
    w.a = w.articles[0]
    return w


def put(w, user, question, value, **unit):
    return answer_set(project=w.project, article=w.a.pk, user=user, question_id=question.pk, value=value, **unit)[0]


def gold(w):
    return {
        (a.question.name, a.unit_key): (a.value, a.provenance["action"])
        for a in Answer.objects.filter(layer=Layer.GOLD)
    }


def test_take_one_give_another_undo_and_stale_pages(world):
    w = world
    mine, theirs = put(w, w.ann1, w.frame, "security"), put(w, w.ann2, w.frame, "economic")
    taken = gold_answer_set(
        project=w.project, article=w.a.pk, by=w.curator, question_id=w.frame.pk, from_answers=[theirs.pk]
    )
    assert taken.value == "economic" and taken.layer == Layer.GOLD and taken.annotator is None
    assert taken.provenance == {
        "action": "take",
        "from_answers": [theirs.pk],
        "annotators": [w.ann2.pk],
        "by": w.curator.pk,
    }
    with pytest.raises(ApplicationError) as err:
        gold_answer_set(
            project=w.project, article=w.a.pk, by=w.curator, question_id=w.frame.pk, from_answers=[mine.pk, theirs.pk]
        )
    assert "The source answers differ" in err.value.message
    given = gold_answer_set(
        project=w.project, article=w.a.pk, by=w.owner, question_id=w.frame.pk, value="morality",
        seen_updated_at=taken.updated_at,
    )  # fmt: skip
    assert given.pk == taken.pk and given.value == "morality" and given.provenance["action"] == "give"
    with pytest.raises(ApplicationError) as err:  # the curator's page still shows the taken answer
        gold_answer_set(
            project=w.project, article=w.a.pk, by=w.curator, question_id=w.frame.pk, value="security",
            seen_updated_at=taken.updated_at,
        )  # fmt: skip
    assert err.value.status_code == 409 and "changed by owner" in err.value.message
    assert gold(w) == {("frame", "article"): ("morality", "give")}
    # Undo of the curator's first gold answer clears it; annotators cannot touch gold.
    gold_answer_set(project=w.project, article=w.a.pk, by=w.curator, question_id=w.frame.pk, value=None)
    assert gold(w) == {}
    with pytest.raises(ApplicationError) as err:
        gold_answer_set(project=w.project, article=w.a.pk, by=w.ann1, question_id=w.frame.pk, value="security")
    assert err.value.status_code == 403
    assert Answer.objects.filter(layer=Layer.ANNOTATOR).count() == 2  # the annotators' answers stay as they were


def test_bulk_accept_takes_only_what_every_finished_annotator_agrees_on(world):
    w = world
    put(w, w.ann1, w.frame, "security")
    put(w, w.ann2, w.frame, "security")
    put(w, w.ann1, w.tone, "1")
    put(w, w.ann2, w.tone, "0")
    t1, t2 = mark(w, w.ann1, w.a, "Takfiri", "actor label"), mark(w, w.ann2, w.a, "Takfiri", "actor label")
    put(w, w.ann1, w.target, "armed_opposition", span_id=t1.pk)
    put(w, w.ann2, w.target, "armed_opposition", span_id=t2.pk)
    assert gold_answers_bulk_accept(project=w.project, by=w.curator)["gold_answers_created"] == 0  # nobody finished
    finish(w, w.ann1, w.a)
    finish(w, w.ann2, w.a)
    view = curation_answers_view(project=w.project, article=w.a)
    agreed = {(u["question_id"], u["unit_key"]): u["agreed"] for u in view["units"]}
    assert agreed[(w.frame.pk, "article")] and not agreed[(w.tone.pk, "article")]
    assert view["agreed_open"] == 2
    result = gold_answers_bulk_accept(project=w.project, by=w.curator, article=w.a.pk)
    assert result == {"articles": 1, "gold_answers_created": 1, "skipped": 1}  # the attribute waits for its gold span
    assert gold(w) == {("frame", "article"): ("security", "take")}
    # Accepting the span brings its agreed attribute along.
    gold_span = gold_span_accept(project=w.project, span=t1, by=w.curator)
    gold_span_accept(project=w.project, span=t2, by=w.curator)
    assert gold(w)[("target", f"span:{gold_span.pk}")] == ("armed_opposition", "take")
    # A curator's own gold answer is never overwritten by bulk accept.
    gold_answer_set(project=w.project, article=w.a.pk, by=w.curator, question_id=w.frame.pk, value="economic")
    assert gold_answers_bulk_accept(project=w.project, by=w.curator)["gold_answers_created"] == 0
    assert gold(w)[("frame", "article")] == ("economic", "give")


def test_curation_api_side_by_side_and_roles(world):
    w = world
    put(w, w.ann1, w.frame, "security")
    theirs = put(w, w.ann2, w.frame, "economic")
    base = f"/api/v1/projects/{w.project.slug}/curate"
    curator, annotator = Client(), Client()
    curator.force_login(w.curator)
    annotator.force_login(w.ann1)
    view = curator.get(f"{base}/articles/{w.a.pk}/answers/").json()
    frame = next(u for u in view["units"] if u["question_id"] == w.frame.pk)
    assert {a["annotator"]: a["value"] for a in frame["answers"]} == {"ann1": "security", "ann2": "economic"}
    body = {"question": w.frame.pk, "from_answers": [theirs.pk]}
    taken = curator.post(f"{base}/articles/{w.a.pk}/answers/gold/", body, content_type="application/json")
    assert taken.status_code == 200 and taken.json()["gold"]["value"] == "economic"
    assert annotator.get(f"{base}/articles/{w.a.pk}/answers/").status_code == 403
    assert (
        annotator.post(f"{base}/articles/{w.a.pk}/answers/gold/", body, content_type="application/json").status_code
        == 403
    )
    bulk = curator.post(f"{base}/answers/bulk-accept/", {"article": w.a.pk}, content_type="application/json")
    assert bulk.status_code == 200 and bulk.json()["gold_answers_created"] == 0
