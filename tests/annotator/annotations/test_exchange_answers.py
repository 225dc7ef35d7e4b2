"""Answers and span attributes in the exchange: the native JSONL carries them losslessly (annotator and gold layers,
article, sentence and attribute units, provenance, codebook version), an import of the same file twice adds nothing,
a bad answer stops the whole import naming its line, and answers-csv has one row per unit, annotator and question."""

from __future__ import annotations

import csv
import io
import json

import pytest

from annotator.annotations.answers import answer_set, gold_answer_set
from annotator.annotations.curation import gold_span_accept
from annotator.annotations.exchange.export import export_scope, export_text
from annotator.annotations.exchange.importing import annotations_import
from annotator.annotations.models import Answer, Span
from annotator.annotations.selectors import article_sentences
from annotator.projects.codebook import codebook_questions
from annotator.projects.questions import question_create
from tests.annotator.annotations.helpers import make_world, mark
from tests.annotator.projects.factories import make_project

pytestmark = pytest.mark.django_db


def add_questions(project, owner, labels):
    question_create(
        project=project, name="frame", prompt="Frame?", kind="multiple", by=owner,
        options=[{"value": "security"}, {"value": "economic"}, {"value": "morality"}],
    )  # fmt: skip
    question_create(
        project=project, name="bias", prompt="Biased?", scope="sentence", by=owner,
        options=[{"value": "biased"}, {"value": "neutral"}],
    )  # fmt: skip
    question_create(
        project=project, name="target", prompt="Who?", scope="span", label=labels["actor label"], by=owner,
        options=[{"value": "government"}, {"value": "armed_opposition"}],
    )  # fmt: skip
    question_create(project=project, name="why", prompt="Why?", kind="text", by=owner)


@pytest.fixture
def world():
    w = make_world()
    add_questions(w.project, w.owner, w.labels)
    q = {x["name"]: x["id"] for x in codebook_questions(project=w.project)}
    a, b = w.articles
    put = lambda user, article, name, value, **unit: answer_set(  # noqa: E731
        project=w.project, article=article.pk, user=user, question_id=q[name], value=value, **unit
    )
    put(w.ann1, a, "frame", ["security", "morality"])
    put(w.ann2, a, "frame", ["economic"])
    put(w.ann1, a, "why", "It says “liberate” 👍🏽.")
    [s] = article_sentences(article=b)
    put(w.ann2, b, "bias", "biased", start_char=s.start_char, end_char=s.end_char)
    t1 = mark(w, w.ann1, a, "Takfiri", "actor label")
    put(w.ann1, a, "target", "armed_opposition", span_id=t1.pk)
    gold = gold_span_accept(project=w.project, span=t1, by=w.curator)  # takes the attribute along
    gold_answer_set(project=w.project, article=a.pk, by=w.curator, question_id=q["frame"], value=["security"])
    w.q, w.gold_span = q, gold
    return w


def answer_set_of(project) -> set[tuple]:
    rows = Answer.objects.filter(project=project).values_list(
        "article__content_hash", "layer", "annotator__username", "question__name", "unit_key", "value",
        "span__start_char", "provenance__action",
    )  # fmt: skip
    return {
        (h, layer, who, q, u if not u.startswith("span:") else "span", json.dumps(v), s, p)
        for h, layer, who, q, u, v, s, p in rows
    }


def export(project, fmt: str) -> str:
    return "".join(export_text(project=project, fmt=fmt, scope=export_scope(project=project)))


def fresh(world):
    target = make_project(owner=world.owner, articles=world.articles, annotators=[world.ann1, world.ann2])
    from annotator.projects.models import Label

    add_questions(target, world.owner, {label.name: label for label in Label.objects.filter(project=target)})
    return target


def do_import(project, data: str, **options):
    return annotations_import(
        project=project, stream=io.StringIO(data, newline=""), fmt="native", source="in", **options
    )


def test_native_round_trip_keeps_every_answer_and_attribute(world):
    data = export(world.project, "native")
    lines = [json.loads(line) for line in data.splitlines()]
    first = lines[0]
    assert {(x["question"], x["layer"], x["annotator"]) for x in first["answers"]} == {
        ("frame", "annotator", "ann1"), ("frame", "annotator", "ann2"), ("why", "annotator", "ann1"),
        ("frame", "gold", None),
    }  # fmt: skip
    takfiri = [s for s in first["spans"] if s["text"] == "Takfiri"]
    assert {s["layer"]: s["attributes"][0]["value"] for s in takfiri} == {
        "annotator": "armed_opposition",
        "gold": "armed_opposition",
    }
    assert next(s for s in takfiri if s["layer"] == "gold")["attributes"][0]["provenance"]["action"] == "take"
    [bias] = lines[1]["answers"]
    assert (bias["start"], bias["end"]) == (0, len(world.articles[1].text))

    target = fresh(world)
    report = do_import(target, data)
    assert report.errors == [] and report.written
    assert (report.answers_created, report.answers_duplicate) == (
        Answer.objects.filter(project=world.project).count(),
        0,
    )
    assert answer_set_of(target) == answer_set_of(world.project)
    # The spans' attributes belong to the imported spans of the same offsets and layer.
    for answer in Answer.objects.filter(project=target, span__isnull=False).select_related("span"):
        assert (answer.span.project_id, answer.span.layer, answer.span.text) == (target.pk, answer.layer, "Takfiri")
    again = do_import(target, data)
    assert again.written and (again.answers_created, again.answers_duplicate) == (0, report.answers_created)
    # Exported again from the target, the answers read the same (ids aside).
    strip = lambda text: [{k: v for k, v in json.loads(x).items() if k != "article"} for x in text.splitlines()]  # noqa: E731
    assert strip(export(target, "native")) == strip(data)


def test_a_bad_answer_stops_the_import_naming_its_line(world):
    lines = export(world.project, "native").splitlines()
    row = json.loads(lines[1])
    row["answers"][0]["value"] = "propaganda"
    lines[1] = json.dumps(row, ensure_ascii=False)
    target = fresh(world)
    report = do_import(target, "\n".join(lines) + "\n")
    assert not report.written
    assert report.errors == [
        {"source": "in", "line": 2, "message": "answer to 'bias': Not an answer to 'bias'. One of: biased, neutral."}
    ]
    assert not Answer.objects.filter(project=target).exists() and not Span.objects.filter(project=target).exists()
    # An answer that differs from the one a unit already has is refused too: an import never overwrites.
    do_import(target, export(world.project, "native"))
    changed = export(world.project, "native").replace('"morality"]', '"economic"]')
    refused = do_import(target, changed)
    assert not refused.written and "already has another answer" in refused.errors[0]["message"]


def test_answers_csv_has_one_row_per_unit_annotator_and_question(world):
    rows = list(csv.DictReader(io.StringIO(export(world.project, "answers-csv"))))
    keyed = {(r["article_id"], r["layer"], r["annotator"], r["question"], r["unit"]): r for r in rows}
    a, b = (str(x.pk) for x in world.articles)
    assert keyed[(a, "annotator", "ann1", "frame", "article")]["value"] == "security|morality"
    assert keyed[(b, "annotator", "ann2", "bias", "sentence")]["unit_text"] == world.articles[1].text
    span_row = keyed[(a, "gold", "", "target", "span")]
    assert (span_row["span_label"], span_row["unit_text"], span_row["value"]) == (
        "actor label",
        "Takfiri",
        "armed_opposition",
    )
    assert len(rows) == Answer.objects.filter(project=world.project).count() == 7
    refused = annotations_import(project=world.project, stream=io.StringIO("x"), fmt="answers-csv", source="in")
    assert not refused.written and "import answers with the native JSONL format" in refused.errors[0]["message"]
