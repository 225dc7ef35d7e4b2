"""The answer save is the annotator page's other hot path: one context query before the write, every rule kept.

annotations.answers._save_context reads the queue facts, the question with its options, the article's length and
the unit's current answer in one hand-written statement; these tests pin the statement count and the rules' order
and messages as they were when the save used several ORM queries.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from annotator.annotations.answers import answer_set, gold_answer_set
from annotator.annotations.models import Answer, Layer
from annotator.annotations.selectors import article_sentences
from annotator.common.errors import ApplicationError
from annotator.projects.models import Assignment, CodebookVersion, Question, QuestionOption, Role
from annotator.projects.questions import question_create
from annotator.projects.services import assignment_create_for_annotator, membership_add, project_add_articles
from tests.annotator.annotations.helpers import make_world
from tests.annotator.projects.factories import make_article, make_user

pytestmark = pytest.mark.django_db

# session (on a cache miss), user, project + membership, the save's context, the write
MAX_STATEMENTS = 5
FRAMES = [{"value": "economic"}, {"value": "security"}, {"value": "morality"}]
NOT_IN_QUEUE = "This article is not in your queue."
CALIBRATION_FIRST = "Finish your calibration articles first: the rest of your queue opens when they are done."
NOT_IN_PROJECT = "This article is not part of the project."


@pytest.fixture
def world():
    w = make_world()
    w.frame = question_create(project=w.project, name="frame", prompt="Frame?", options=FRAMES, by=w.owner)
    w.bias = question_create(
        project=w.project, name="bias", prompt="Biased?", scope="sentence", by=w.owner,
        options=[{"value": "biased"}, {"value": "neutral"}],
    )  # fmt: skip
    return w


def post(client, world, article, body):
    return client.post(
        f"/api/v1/projects/{world.project.slug}/articles/{article.pk}/answers/set/", body,
        content_type="application/json",
    )  # fmt: skip


def put(world, question_id, value, *, user=None, article=None, **unit):
    article = article or world.articles[0]
    return answer_set(
        project=world.project, article=article.pk, user=user or world.ann1, question_id=question_id, value=value,
        **unit,
    )  # fmt: skip


@pytest.mark.parametrize("scope", ["article", "sentence"])
def test_a_first_answer_a_change_and_a_clear_are_each_one_read_and_one_write(world, scope):
    client = Client()
    client.force_login(world.ann1)
    article = world.articles[0]
    question, unit = world.frame, {}
    if scope == "sentence":
        [sentence] = article_sentences(article=article)
        question, unit = world.bias, {"start_char": sentence.start_char, "end_char": sentence.end_char}
    first, second = (o.value for o in QuestionOption.objects.filter(question=question).order_by("order")[:2])
    for value, status, write in ((first, 201, "INSERT"), (second, 200, "UPDATE"), (None, 200, "DELETE")):
        with CaptureQueriesContext(connection) as ctx:
            response = post(client, world, article, {"question": question.pk, "value": value, **unit})
        assert response.status_code == status, response.content
        sqls = [q["sql"] for q in ctx.captured_queries]
        assert len(sqls) <= MAX_STATEMENTS, "\n".join(sqls)
        own = [s for s in sqls if "django_session" not in s and '"auth_user"' not in s]
        assert len(own) == 3, "\n".join(own)  # project + membership, the context, the write
        assert "projects_membership" in own[0] and "projects_question" in own[1]
        assert own[2].lstrip().upper().startswith(write), own[2]
        assert not any(s.upper().startswith(("BEGIN", "SAVEPOINT", "COMMIT")) for s in sqls), sqls
    assert not Answer.objects.exists()


def test_the_save_reads_the_codebook_version_and_finds_the_units_answer(world):
    first, created = put(world, world.frame.pk, "security")
    assert created
    assert first.codebook_version_id == CodebookVersion.objects.filter(project=world.project).latest("number").pk
    question_create(project=world.project, name="tone", prompt="Tone?", kind="text", by=world.owner)  # new version
    again, created = put(world, world.frame.pk, "economic")
    assert not created and again.pk == first.pk
    assert (
        Answer.objects.get().codebook_version_id
        == CodebookVersion.objects.filter(project=world.project).latest("number").pk
    )
    other, created = put(world, world.frame.pk, "economic", user=world.ann2)  # another annotator's own unit
    assert created and other.pk != first.pk


def test_options_are_read_in_option_order_not_id_order(world):
    question = question_create(
        project=world.project, name="topics", prompt="Topics?", kind="multiple", by=world.owner,
        options=[{"value": "war"}, {"value": "aid"}, {"value": "talks"}],
    )  # fmt: skip
    for order, value in enumerate(["talks", "war", "aid"]):
        QuestionOption.objects.filter(question=question, value=value).update(order=order)
    answer, _ = put(world, question.pk, ["aid", "talks", "war", "aid"])
    assert answer.value == ["talks", "war", "aid"]
    with pytest.raises(ApplicationError) as err:
        put(world, question.pk, ["peace"])
    assert err.value.extra == {"value": ["Unknown option(s) 'peace'; choose from talks, war, aid."]}
    text = question_create(project=world.project, name="remark", prompt="Remark?", kind="text", by=world.owner)
    assert put(world, text.pk, "  a remark ")[0].value == "a remark"  # no options: one row with a NULL option


def test_rules_are_checked_in_the_same_order_with_the_same_messages(world):
    outside = make_article(text="Not in the project.")
    unknown = Question.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    # Without assignments (the fallback queue): the question, then the article.
    with pytest.raises(ApplicationError) as err:
        put(world, unknown, "security", article=outside)
    assert (err.value.status_code, err.value.message) == (400, "Unknown question.")
    assert err.value.extra == {"question": [f"Question {unknown} is not in this project's codebook."]}
    with pytest.raises(ApplicationError) as err:
        put(world, world.frame.pk, "security", article=outside)
    assert (err.value.status_code, err.value.message, err.value.extra) == (
        404, NOT_IN_PROJECT, {"article": [NOT_IN_PROJECT]}
    )  # fmt: skip
    # The unit before the value, the value last.
    n = len(world.articles[0].text)
    with pytest.raises(ApplicationError) as err:
        put(world, world.bias.pk, "nonsense", start_char=0, end_char=n + 1)
    assert err.value.message == "The sentence offsets fall outside the article text."
    assert err.value.extra == {"end_char": [f"Need 0 <= start_char < end_char <= {n} (code points)."]}
    with pytest.raises(ApplicationError) as err:
        put(world, world.frame.pk, "nonsense", start_char=0, end_char=5)
    assert err.value.extra == {"question": ["Article scope."]}
    with pytest.raises(ApplicationError) as err:
        put(world, world.frame.pk, "nonsense")
    assert err.value.extra == {"value": ["One of: economic, security, morality."]}
    # Permission first of all.
    with pytest.raises(ApplicationError) as err:
        put(world, unknown, "security", user=world.viewer, article=outside)
    assert err.value.status_code == 403 and err.value.message == "You cannot annotate in this project."
    assert not Answer.objects.exists()


def test_the_queue_and_the_calibration_gate_come_before_the_question_and_the_article(world):
    a, b = world.articles
    extra = make_article(text="Forces liberate a third town.", outlet=a.outlet)
    project_add_articles(project=world.project, by=world.owner, article_ids=[extra.pk])
    annotator = make_user("queued")
    membership_add(project=world.project, user=annotator, role=Role.ANNOTATOR, by=world.owner)
    assignment_create_for_annotator(project=world.project, annotator=annotator, article_ids=[a.pk, extra.pk])
    Assignment.objects.filter(project=world.project, annotator=annotator, article=a).update(is_calibration=True)
    unknown = world.frame.pk + 1000
    cases = [
        (b, world.frame.pk, NOT_IN_QUEUE),  # not assigned to them
        (make_article(text="Elsewhere."), unknown, NOT_IN_QUEUE),  # not in the project either, unknown question
        (extra, unknown, CALIBRATION_FIRST),  # assigned, behind the gate
    ]
    for article, question_id, message in cases:
        with pytest.raises(ApplicationError) as err:
            put(world, question_id, "security", user=annotator, article=article)
        assert (err.value.status_code, err.value.message, err.value.extra) == (403, message, {"article": [message]})
    assert put(world, world.frame.pk, "security", user=annotator, article=a)[1]  # the calibration article
    Assignment.objects.filter(project=world.project, annotator=annotator, article=a).update(status="done")
    assert put(world, world.frame.pk, "security", user=annotator, article=extra)[1]  # the gate is open
    client = Client()
    client.force_login(annotator)
    response = post(client, world, b, {"question": world.frame.pk, "value": "security"})
    assert response.status_code == 403 and response.json()["errors"] == {"article": [NOT_IN_QUEUE]}


def test_gold_answers_ignore_the_curators_queue_and_keep_their_unit(world):
    a, b = world.articles
    curator = world.curator
    assignment_create_for_annotator(project=world.project, annotator=curator, article_ids=[b.pk])
    with pytest.raises(ApplicationError):  # their own answers follow their queue
        put(world, world.frame.pk, "security", user=curator, article=a)
    gold = gold_answer_set(
        project=world.project, article=a.pk, by=curator, question_id=world.frame.pk, value="security"
    )
    assert gold.layer == Layer.GOLD and gold.annotator_id is None and gold.unit_key == "article"
    changed = gold_answer_set(project=world.project, article=a.pk, by=curator, question_id=world.frame.pk,
                              value="economic", seen_updated_at=gold.updated_at)  # fmt: skip
    assert changed.pk == gold.pk and Answer.objects.get().value == "economic"
    assert gold_answer_set(project=world.project, article=a.pk, by=curator, question_id=world.frame.pk) is None
    assert not Answer.objects.exists()
