"""Codebook questions and attributes (annotator/projects/questions.py): the rules, versions, and nothing lost."""

from __future__ import annotations

import pytest

from annotator.annotations.answers import answer_set
from annotator.common.errors import ApplicationError
from annotator.projects.models import CodebookVersion, Label, Question, QuestionOption
from annotator.projects.questions import question_create, question_delete, question_update, questions_reorder
from annotator.projects.selectors import question_usage
from annotator.projects.services import label_delete, label_update
from tests.annotator.annotations.helpers import make_world

pytestmark = pytest.mark.django_db

FRAMES = [{"value": "economic", "text": "Economic"}, {"value": "security", "text": "Security and defence"}]
TONE = [
    {"value": str(n), "text": t, "numeric": n} for n, t in [(2, "very positive"), (-2, "very negative"), (0, "neutral")]
]


@pytest.fixture
def world():
    return make_world()


def frame_question(world, **kw):
    fields = {"name": "primary_frame", "prompt": "Primary frame?", "options": FRAMES, "by": world.owner} | kw
    return question_create(project=world.project, **fields)


def versions(world) -> int:
    return CodebookVersion.objects.filter(project=world.project).count()


def test_a_question_makes_a_codebook_version_with_a_snapshot_of_questions(world):
    before = versions(world)
    question = frame_question(world, required=True, hotkey="f")
    version = CodebookVersion.objects.filter(project=world.project).order_by("-number").first()
    assert versions(world) == before + 1
    assert version.changelog == "Added question 'primary_frame'."
    [snap] = version.questions_snapshot
    assert snap["name"] == "primary_frame" and snap["required"] and snap["hotkey"] == "f"
    assert [(o["value"], o["hotkey"], o["order"]) for o in snap["options"]] == [
        ("economic", "1", 1),
        ("security", "2", 2),
    ]
    assert version.labels_snapshot[0]["positive_examples"] == []  # labels snapshot carries examples too
    assert question.options.count() == 2


def test_scale_points_are_ordered_by_their_number_and_each_needs_one(world):
    question = question_create(
        project=world.project,
        name="tone",
        prompt="Tone toward the government",
        kind="scale",
        options=TONE,
        by=world.owner,
    )
    assert list(question.options.values_list("value", flat=True)) == ["-2", "0", "2"]
    with pytest.raises(ApplicationError) as err:
        question_create(
            project=world.project, name="tone2", prompt="Tone", kind="scale", by=world.owner,
            options=[{"value": "a"}, {"value": "b", "numeric": 1}],
        )  # fmt: skip
    assert "Option 1: every point of a scale needs its number" in err.value.extra["options"][0]
    assert not Question.objects.filter(name="tone2").exists()


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"name": "primary frame"}, "name", "Letters, digits"),
        ({"prompt": " "}, "prompt", "needs a prompt"),
        ({"options": FRAMES[:1]}, "options", "at least two options"),
        ({"options": [FRAMES[0], FRAMES[0]]}, "options", "same value"),
        ({"kind": "text"}, "options", None),
        ({"hotkey": "1"}, "hotkey", "used by a label"),
        ({"hotkey": "d"}, "hotkey", "page's own keys"),
        ({"scope": "span"}, "label", "needs the label"),
    ],
)
def test_bad_questions_are_refused_naming_the_field_and_nothing_is_stored(world, fields, field, message):
    before = versions(world)
    with pytest.raises(ApplicationError) as err:
        frame_question(world, **fields)
    assert field in err.value.extra
    if message:
        assert message in " ".join(err.value.extra[field])
    assert not Question.objects.exists() and not QuestionOption.objects.exists()
    assert versions(world) == before


def test_an_attribute_belongs_to_a_label_and_has_no_hotkey(world):
    actor = world.labels["actor label"]
    target = question_create(
        project=world.project, name="target", prompt="Who is named?", scope="span", label=actor, by=world.owner,
        options=[{"value": "government"}, {"value": "armed_opposition"}, {"value": "civilians"}],
    )  # fmt: skip
    assert target.label == actor and list(actor.attributes.all()) == [target]
    with pytest.raises(ApplicationError) as err:
        question_update(question=target, hotkey="t", by=world.owner)
    assert "span popover" in err.value.extra["hotkey"][0]
    with pytest.raises(ApplicationError) as err:
        frame_question(world, name="other", label=actor)
    assert err.value.extra["label"] == ["Only attributes (scope span) have a label."]
    with pytest.raises(ApplicationError) as err:
        label_delete(label=actor, by=world.owner)
    assert "has attributes (target)" in err.value.message
    assert Label.objects.filter(pk=actor.pk).exists()


def test_a_label_cannot_take_a_questions_hotkey(world):
    frame_question(world, hotkey="f")
    with pytest.raises(ApplicationError) as err:
        label_update(label=world.labels["euphemism"], hotkey="f", by=world.owner)
    assert err.value.extra["hotkey"] == ["Hotkey 'f' is already used by a question."]


def test_only_owners_and_curators_edit_questions(world):
    with pytest.raises(ApplicationError) as err:
        frame_question(world, by=world.ann1)
    assert err.value.status_code == 403
    assert frame_question(world, by=world.curator).pk


def test_options_are_edited_as_a_list_matched_by_value(world):
    question = frame_question(world)
    before = versions(world)
    question_update(
        question=question, by=world.owner,
        options=[{"value": "security", "text": "Security"}, {"value": "economic", "text": "Economy"},
                 {"value": "morality", "text": "Morality"}],
    )  # fmt: skip
    options = list(question.options.order_by("order").values_list("value", "text", "hotkey"))
    assert options == [("security", "Security", "1"), ("economic", "Economy", "2"), ("morality", "Morality", "3")]
    version = CodebookVersion.objects.filter(project=world.project).order_by("-number").first()
    assert versions(world) == before + 1
    assert "added option 'morality'" in version.changelog
    question_update(question=question, by=world.owner, prompt=question.prompt)  # no change: no version
    assert versions(world) == before + 1


def test_once_answered_nothing_answered_is_lost_or_reinterpreted(world):
    question = frame_question(world)
    article = world.articles[0]
    answer_set(project=world.project, article=article.pk, user=world.ann1, question_id=question.pk, value="security")
    with pytest.raises(ApplicationError) as err:
        question_update(question=question, by=world.owner, options=FRAMES[:1] + [{"value": "morality"}])
    assert "'security' are used by 1 answer(s)" in err.value.message
    with pytest.raises(ApplicationError) as err:
        question_update(question=question, by=world.owner, kind="multiple")
    assert err.value.extra == {"kind": ["Fixed once answered."]}
    with pytest.raises(ApplicationError) as err:
        question_delete(question=question, by=world.owner)
    assert "has 1 answer(s)" in err.value.message
    assert list(question.options.values_list("value", flat=True)) == ["economic", "security"]
    # Unused options and the wording still change freely.
    question_update(question=question, by=world.owner, prompt="The main frame?", options=[FRAMES[1], {"value": "x"}])
    assert set(question.options.values_list("value", flat=True)) == {"security", "x"}


def test_a_multiple_choice_option_in_use_is_kept(world):
    question = frame_question(world, kind="multiple")
    answer_set(
        project=world.project, article=world.articles[0].pk, user=world.ann1, question_id=question.pk,
        value=["economic", "security"],
    )  # fmt: skip
    with pytest.raises(ApplicationError):
        question_update(question=question, by=world.owner, options=[FRAMES[1], {"value": "x"}])


def test_deleting_an_unanswered_question_makes_a_version(world):
    question = frame_question(world)
    question_delete(question=question, by=world.owner)
    assert not Question.objects.exists()
    latest = CodebookVersion.objects.filter(project=world.project).order_by("-number").first()
    assert latest.changelog == "Deleted question 'primary_frame'." and latest.questions_snapshot == []


def test_a_project_is_deleted_with_its_questions_and_answers_but_a_question_alone_is_not(world):
    from django.db.models import RestrictedError

    from annotator.annotations.models import Answer
    from tests.annotator.annotations.helpers import mark

    question = frame_question(world)
    target = question_create(
        project=world.project, name="target", prompt="Who?", scope="span", label=world.labels["actor label"],
        options=[{"value": "government"}, {"value": "armed_opposition"}], by=world.owner,
    )  # fmt: skip
    article = world.articles[0]
    answer_set(project=world.project, article=article.pk, user=world.ann1, question_id=question.pk, value="security")
    span = mark(world, world.ann1, article, "Takfiri", "actor label")
    answer_set(
        project=world.project, article=article.pk, user=world.ann1, question_id=target.pk, value="government",
        span_id=span.pk,
    )  # fmt: skip
    with pytest.raises(RestrictedError):  # the database backs the service's refusal
        Question.objects.filter(pk=question.pk).delete()
    from annotator.annotations.models import Span

    Span.objects.filter(project=world.project).delete()  # spans' labels are PROTECTed (not this change's concern)
    world.project.delete()
    assert not Question.objects.exists() and not Answer.objects.exists()


def test_every_problem_of_a_question_and_its_options_is_named_at_once(world):
    frame_question(world, hotkey="f")
    with pytest.raises(ApplicationError) as err:
        question_create(
            project=world.project, name="tone", prompt="Tone", kind="scale", hotkey="f", by=world.owner,
            options=[{"value": "neg", "numeric": -1}, {"value": ""}],
        )  # fmt: skip
    assert err.value.extra["hotkey"] == ["Hotkey 'f' is already used by another question."]
    assert err.value.extra["options"] == [
        "Option 2: a value (its stable key) of 1 to 100 characters.",
        "Option 2: every point of a scale needs its number (e.g. -2 to 2).",
    ]
    assert not Question.objects.filter(name="tone").exists()


def test_questions_are_reordered_in_one_codebook_version(world):
    frame = frame_question(world)
    tone = frame_question(world, name="tone", prompt="Tone?")
    target = frame_question(world, name="target", prompt="Who?", scope="span", label=world.labels["actor label"])
    before = versions(world)
    questions_reorder(project=world.project, order=[target.pk, tone.pk, frame.pk], by=world.curator)
    names = list(Question.objects.filter(project=world.project).order_by("order").values_list("name", flat=True))
    assert names == ["target", "tone", "primary_frame"]
    latest = CodebookVersion.objects.filter(project=world.project).order_by("-number").first()
    assert versions(world) == before + 1
    assert latest.changelog == "Reordered the questions: target, tone, primary_frame."
    assert [q["name"] for q in latest.questions_snapshot] == names
    questions_reorder(project=world.project, order=[target.pk, tone.pk, frame.pk], by=world.curator)
    assert versions(world) == before + 1  # the same order again: nothing changed, no version


@pytest.mark.parametrize(
    "order, message",
    [
        (lambda q: q[:1], "Missing: tone"),
        (lambda q: [*q, 999999], "Not questions of this codebook: 999999."),
        (lambda q: [q[0], q[0], q[1]], "A question is listed twice."),
    ],
)
def test_a_reorder_lists_every_question_once_or_nothing_changes(world, order, message):
    ids = [frame_question(world).pk, frame_question(world, name="tone", prompt="Tone?").pk]
    before = versions(world)
    with pytest.raises(ApplicationError) as err:
        questions_reorder(project=world.project, order=order(ids), by=world.owner)
    assert message in " ".join(err.value.extra["order"])
    assert versions(world) == before
    assert list(Question.objects.order_by("order").values_list("pk", flat=True)) == ids


def test_only_owners_and_curators_reorder(world):
    question = frame_question(world)
    with pytest.raises(ApplicationError) as err:
        questions_reorder(project=world.project, order=[question.pk], by=world.ann1)
    assert err.value.status_code == 403


def test_usage_counts_answers_per_question_and_per_option(world):
    single = frame_question(world)
    multiple = frame_question(world, name="frames", prompt="Frames?", kind="multiple")
    text = frame_question(world, name="note", prompt="Note?", kind="text", options=[])
    a, b = world.articles
    for user, article, value in ((world.ann1, a, "economic"), (world.ann2, a, "economic"), (world.ann1, b, "security")):
        answer_set(project=world.project, article=article.pk, user=user, question_id=single.pk, value=value)
    answer_set(project=world.project, article=a.pk, user=world.ann1, question_id=multiple.pk,
               value=["economic", "security"])  # fmt: skip
    answer_set(project=world.project, article=a.pk, user=world.ann2, question_id=multiple.pk, value=["security"])
    answer_set(project=world.project, article=a.pk, user=world.ann1, question_id=text.pk, value="a remark")
    assert question_usage(project=world.project) == {
        single.pk: {"answers": 3, "options": {"economic": 2, "security": 1}},
        multiple.pk: {"answers": 2, "options": {"economic": 1, "security": 2}},
        text.pk: {"answers": 1, "options": {}},
    }
