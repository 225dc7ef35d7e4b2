"""Answers (annotator/annotations/answers.py): units by scope, values by kind, upserts, clears, Done's check."""

from __future__ import annotations

import pytest

from annotator.annotations.answers import QuestionSpec, answer_set, answer_value_clean, answers_missing
from annotator.annotations.models import Answer, Layer
from annotator.annotations.selectors import answer_rows_own, article_sentences
from annotator.annotations.services import span_delete, span_update
from annotator.common.errors import ApplicationError
from annotator.projects.models import Assignment, CodebookVersion
from annotator.projects.questions import question_create
from annotator.projects.services import assignment_set_status
from annotator.projects.visibility import viewer_for
from tests.annotator.annotations.helpers import make_world, mark

FRAMES = [{"value": "economic"}, {"value": "security"}, {"value": "morality"}]


# --- values, without a database ---------------------------------------------------------------------------------

SINGLE = QuestionSpec(1, "frame", "article", "single", None, ("economic", "security", "morality"))


@pytest.mark.parametrize(
    "kind, value, stored",
    [
        ("single", "security", "security"),
        ("scale", "morality", "morality"),
        ("multiple", ["morality", "economic", "morality"], ["economic", "morality"]),
        ("text", "  the army  ", "the army"),
    ],
)
def test_values_are_normalised(kind, value, stored):
    assert answer_value_clean(spec=SINGLE.__class__(**{**SINGLE.__dict__, "kind": kind}), value=value) == stored


@pytest.mark.parametrize(
    "kind, value, message",
    [
        ("single", "war", "One of: economic, security, morality."),
        ("single", ["economic"], "One of"),
        ("scale", 2, "One of"),
        ("multiple", [], "A non-empty list"),
        ("multiple", ["economic", "war"], "Unknown option(s) 'war'"),
        ("text", "   ", "A non-blank text"),
        ("text", "x" * 2001, "At most 2000 characters."),
    ],
)
def test_bad_values_are_refused_naming_the_choices(kind, value, message):
    with pytest.raises(ApplicationError) as err:
        answer_value_clean(spec=SINGLE.__class__(**{**SINGLE.__dict__, "kind": kind}), value=value)
    assert message in err.value.extra["value"][0]
    assert err.value.message == "Not an answer to 'frame'."


# --- the service ----------------------------------------------------------------------------------------------------


@pytest.fixture
def world(db):
    w = make_world()
    w.frame = question_create(
        project=w.project, name="frame", prompt="Primary frame?", options=FRAMES, required=True, by=w.owner
    )
    w.bias = question_create(
        project=w.project, name="bias", prompt="Biased?", scope="sentence", by=w.owner,
        options=[{"value": "biased"}, {"value": "neutral"}],
    )  # fmt: skip
    w.target = question_create(
        project=w.project, name="target", prompt="Who?", scope="span", label=w.labels["actor label"], by=w.owner,
        options=[{"value": "government"}, {"value": "armed_opposition"}],
    )  # fmt: skip
    return w


def put(world, question, value, *, user=None, article=None, **unit):
    article = article or world.articles[0]
    return answer_set(
        project=world.project, article=article.pk, user=user or world.ann1, question_id=question.pk, value=value,
        **unit,
    )  # fmt: skip


def test_set_change_and_clear_an_article_answer(world):
    answer, created = put(world, world.frame, "security")
    assert created and answer.unit_key == "article" and answer.layer == Layer.ANNOTATOR
    assert answer.codebook_version == CodebookVersion.objects.filter(project=world.project).order_by("-number")[0]
    again, created = put(world, world.frame, "security")  # a retry of the same change
    assert not created and again.pk == answer.pk
    changed, created = put(world, world.frame, "economic")
    assert not created and changed.pk == answer.pk and changed.value == "economic"
    assert Answer.objects.count() == 1
    assert put(world, world.frame, None) == (None, False)
    assert not Answer.objects.exists()
    assert put(world, world.frame, None) == (None, False)  # clearing twice is fine


def test_each_annotator_has_their_own_answer_and_sees_only_it(world):
    put(world, world.frame, "security")
    put(world, world.frame, "economic", user=world.ann2)
    rows = answer_rows_own(viewer=viewer_for(project=world.project, user=world.ann2), article=world.articles[0])
    assert [(r["question_id"], r["value"]) for r in rows] == [(world.frame.pk, "economic")]


def test_sentence_answers_store_their_offsets(world):
    article = world.articles[0]
    [sentence] = article_sentences(article=article)
    answer, _ = put(world, world.bias, "biased", start_char=sentence.start_char, end_char=sentence.end_char)
    assert (answer.start_char, answer.end_char, answer.unit_key) == (
        0,
        len(article.text),
        f"sentence:0-{len(article.text)}",
    )
    with pytest.raises(ApplicationError) as err:
        put(world, world.bias, "biased")
    assert "send the sentence's start_char and end_char" in err.value.message
    with pytest.raises(ApplicationError) as err:
        put(world, world.bias, "biased", start_char=0, end_char=len(article.text) + 1)
    assert err.value.message == "The sentence offsets fall outside the article text."
    with pytest.raises(ApplicationError):
        put(world, world.frame, "security", start_char=0, end_char=5)
    assert Answer.objects.count() == 1


def test_attributes_are_answered_on_the_annotators_own_span_of_the_label(world):
    a = world.articles[0]
    takfiri = mark(world, world.ann1, a, "Takfiri", "actor label")
    regime = mark(world, world.ann1, a, "regime", "loaded term")
    other = mark(world, world.ann2, a, "Takfiri", "actor label")
    answer, _ = put(world, world.target, "armed_opposition", span_id=takfiri.pk)
    assert answer.span == takfiri and answer.unit_key == f"span:{takfiri.pk}"
    with pytest.raises(ApplicationError) as err:
        put(world, world.target, "government", span_id=regime.pk)
    assert "another label's spans" in err.value.message
    with pytest.raises(ApplicationError) as err:
        put(world, world.target, "government", span_id=other.pk)
    assert err.value.status_code == 404
    # Relabelling the span drops the old label's attributes; deleting it deletes them.
    span_update(span=takfiri, user=world.ann1, label_id=world.labels["loaded term"].pk)
    assert not Answer.objects.exists()
    answer, _ = put(world, world.target, "government", span_id=other.pk, user=world.ann2)
    span_delete(span=other, user=world.ann2)
    assert not Answer.objects.exists()


def test_who_and_what_may_be_answered(world):
    with pytest.raises(ApplicationError) as err:
        put(world, world.frame, "security", user=world.viewer)
    assert err.value.status_code == 403
    outside = make_world(name="Other", prefix="o-")
    with pytest.raises(ApplicationError) as err:
        put(world, world.frame, "security", article=outside.articles[0])
    assert err.value.status_code == 404
    other_question = question_create(
        project=outside.project, name="frame", prompt="?", options=FRAMES, by=outside.owner
    )
    with pytest.raises(ApplicationError) as err:
        put(world, other_question, "security")
    assert err.value.extra == {"question": [f"Question {other_question.pk} is not in this project's codebook."]}
    assert not Answer.objects.exists()


def test_done_refuses_until_required_questions_are_answered_and_names_them(world):
    a = world.articles[0]
    world.bias.required = True
    world.bias.save()
    takfiri = mark(world, world.ann1, a, "Takfiri", "actor label")
    world.target.required = True
    world.target.save()
    missing = answers_missing(project=world.project, annotator_id=world.ann1.pk, article_id=a.pk)
    assert [(m["question"], m["missing"]) for m in missing] == [("frame", 1), ("bias", 1), ("target", 1)]
    with pytest.raises(ApplicationError) as err:
        assignment_set_status(project=world.project, annotator=world.ann1, article_id=a.pk, status="done")
    assert err.value.message == (
        "Answer the required questions first: “Primary frame?”; “Biased?” for 1 sentence; “Who?” for 1 span."
    )
    assert not Assignment.objects.filter(annotator=world.ann1, status="done").exists()
    put(world, world.frame, "security")
    [s] = article_sentences(article=a)
    put(world, world.bias, "neutral", start_char=s.start_char, end_char=s.end_char)
    put(world, world.target, "armed_opposition", span_id=takfiri.pk)
    assignment_set_status(project=world.project, annotator=world.ann1, article_id=a.pk, status="done")
    assert Assignment.objects.get(annotator=world.ann1, article=a).status == "done"
    # Skipping never needs answers.
    assignment_set_status(project=world.project, annotator=world.ann2, article_id=a.pk, status="skipped")
