"""Answers in the tools' own terms: Label Studio's choices, rating, taxonomy and textarea results (article answers,
per-region attributes, sentence answers on framescope_sentence regions) and doccano's text-classification categories
go out and come back as the same answers; what does not fit a question is refused naming it, and results that answer
no question are counted, never dropped. (Files written by the real tools: test_interchange.py.)"""

from __future__ import annotations

import io
import json

import pytest

from annotator.annotations.answers import answer_set
from annotator.annotations.exchange.export import export_scope, export_text
from annotator.annotations.exchange.importing import annotations_import
from annotator.annotations.models import Answer
from annotator.common.errors import ApplicationError
from annotator.projects.codebook import codebook_questions
from annotator.projects.questions import question_create
from tests.annotator.annotations.test_exchange_answers import answer_set_of, export, fresh, world  # noqa: F401

pytestmark = pytest.mark.django_db

TONE = [{"value": "neg", "text": "Negative", "numeric": -1}, {"value": "neutral", "text": "Neutral", "numeric": 0},
        {"value": "pos", "text": "Positive", "numeric": 1}]  # fmt: skip


def add_tone(project, owner):
    question_create(project=project, name="tone", prompt="Tone?", kind="scale", by=owner, options=TONE)


def without_provenance(rows: set[tuple]) -> set[tuple]:
    return {row[:-1] for row in rows}


def do_import(project, data: str, fmt: str, **options):
    return annotations_import(project=project, stream=io.StringIO(data, newline=""), fmt=fmt, source="in", **options)


def test_label_studio_round_trip_carries_every_kind_of_answer(world):  # noqa: F811
    add_tone(world.project, world.owner)
    tone = next(q["id"] for q in codebook_questions(project=world.project) if q["name"] == "tone")
    answer_set(project=world.project, article=world.articles[1].pk, user=world.ann1, question_id=tone, value="pos")
    data = export(world.project, "labelstudio")
    tasks = json.loads(data)
    results = [r for t in tasks for a in t["annotations"] for r in a["result"]]
    by_type = {}
    for r in results:
        by_type.setdefault(r["type"], []).append(r)
    assert {r["from_name"] for r in by_type["choices"]} == {"frame", "bias", "target"}
    assert [r["value"]["rating"] for r in by_type["rating"]] == [3]  # "pos": the third point
    assert [r["value"]["text"] for r in by_type["textarea"]] == [["It says “liberate” 👍🏽."]]
    sentence = next(r for r in by_type["labels"] if r["from_name"] == "framescope_sentence")
    bias = next(r for r in by_type["choices"] if r["from_name"] == "bias")
    assert bias["id"] == sentence["id"] and bias["value"]["start"] == sentence["value"]["start"] == 0
    target = [r for r in by_type["choices"] if r["from_name"] == "target"]
    regions = {r["id"]: r for r in by_type["labels"]}
    assert all(regions[r["id"]]["value"]["labels"] == ["actor label"] for r in target) and len(target) == 2

    other = fresh(world)
    add_tone(other, world.owner)
    report = do_import(other, data, "labelstudio")
    assert report.errors == [] and report.written and report.skipped == {}, report.errors
    assert without_provenance(answer_set_of(other)) == without_provenance(answer_set_of(world.project))
    again = do_import(other, data, "labelstudio")
    assert (again.answers_created, again.answers_duplicate) == (0, Answer.objects.filter(project=other).count())


def ls_task(text: str, *results: dict, ground_truth: bool = False) -> str:
    annotation = {"completed_by": {"username": "ann1"}, "ground_truth": ground_truth, "result": list(results)}
    return json.dumps([{"data": {"text": text}, "annotations": [annotation]}])


def test_label_studio_choices_rating_and_taxonomy_name_options_by_value_or_text(world):  # noqa: F811
    add_tone(world.project, world.owner)
    article = world.articles[1]  # ann1 has answered nothing there
    data = ls_task(
        article.text,
        {"type": "taxonomy", "from_name": "frame", "to_name": "text",
         "value": {"taxonomy": [["Frames", "Security"], ["Frames", "economic"]]}},
        {"type": "rating", "from_name": "tone", "to_name": "text", "value": {"rating": 1}},
        {"type": "choices", "from_name": "stance", "to_name": "text", "value": {"choices": ["critical"]}},
    )  # fmt: skip
    report = do_import(world.project, data, "labelstudio")
    assert report.errors == [] and report.written, report.errors
    assert report.skipped == {"choices": 1}  # "stance" is no question here: counted, not dropped
    stored = dict(
        Answer.objects.filter(project=world.project, annotator=world.ann1, article=article).values_list(
            "question__name", "value"
        )
    )
    assert stored == {"frame": ["security", "economic"], "tone": "neg"}  # the leaves, by text or value; point 1


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"type": "rating", "from_name": "tone", "value": {"rating": 4}}, "rating 4 of 'tone' is not one of its 3"),
        ({"type": "rating", "from_name": "frame", "value": {"rating": 1}}, "a rating answers a scale question"),
        ({"type": "choices", "from_name": "tone", "value": {"choices": ["neg", "pos"]}}, "'tone' takes one answer"),
        ({"type": "choices", "from_name": "tone", "value": {"choices": ["awful"]}}, "One of: neg, neutral, pos"),
        ({"type": "choices", "from_name": "target", "id": "x", "value": {"choices": ["government"]}},
         "answers an attribute of label 'actor label', but no region 'x'"),
        ({"type": "choices", "from_name": "bias", "value": {"choices": ["biased"]}},
         "answers a sentence question, so it must be a per-region result"),
    ],
)  # fmt: skip
def test_a_label_studio_answer_that_does_not_fit_its_question_is_refused_by_name(world, result, message):  # noqa: F811
    add_tone(world.project, world.owner)
    fresh_article = world.articles[1]
    report = do_import(world.project, ls_task(fresh_article.text, {"to_name": "text", **result}), "labelstudio")
    assert not report.written and message in report.errors[0]["message"], report.errors


def test_doccano_classification_round_trip_and_doccanos_own_lines(world):  # noqa: F811
    question_create(project=world.project, name="genre", prompt="Genre?", by=world.owner,
                    options=[{"value": "news"}, {"value": "opinion"}])  # fmt: skip
    with pytest.raises(ApplicationError, match=r"Name the question .*2 article questions .*\(frame, genre\)"):
        export(world.project, "doccano-classification")
    scope = export_scope(project=world.project)
    data = "".join(export_text(project=world.project, fmt="doccano-classification", question="frame", scope=scope))
    first = json.loads(data.splitlines()[0])
    assert first["label"] == ["security", "economic", "morality"]  # the union, in option order
    assert {(d["annotator"], d["layer"]) for d in first["meta"]["answer_details"]} == {
        ("ann1", "annotator"), ("ann2", "annotator"), (None, "gold"),
    }  # fmt: skip
    other = fresh(world)
    report = do_import(other, data, "doccano-classification", question="frame")
    assert report.errors == [] and report.written, report.errors
    frames = lambda p: {r for r in without_provenance(answer_set_of(p)) if r[3] == "frame"}  # noqa: E731
    assert frames(other) == frames(world.project)

    # doccano's own line (no meta): the file's categories are one annotator's answer, by value or text
    third = fresh(world)
    line = json.dumps({"id": 3, "text": world.articles[0].text, "label": ["Security", "morality"], "Comments": []})
    report = do_import(third, line + "\n", "doccano-classification", question="frame", annotator="ann2")
    assert report.written and report.answers_created == 1, report.errors
    assert Answer.objects.get(project=third).value == ["security", "morality"]
    refused = do_import(third, line.replace("Security", "Sport") + "\n", "doccano-classification", question="frame",
                        annotator="ann1")  # fmt: skip
    assert "Unknown option(s) 'Sport'" in refused.errors[0]["message"]
