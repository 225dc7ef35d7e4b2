"""Agreement per codebook question through the app: finished annotators only, article / sentence / attribute units
(attributes on the spans both marked), equal to the krippendorff package; in the report, the table, the API, the
page and `manage.py agreement`."""

from __future__ import annotations

import io

import krippendorff
import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client

from annotator.annotations.agreement import (
    AgreementFilters,
    agreement_compute,
    agreement_job_create,
    agreement_job_run,
)
from annotator.annotations.answers import answer_set
from annotator.annotations.selectors import article_sentences
from annotator.projects.questions import question_create
from annotator.projects.services import project_add_articles
from tests.annotator.annotations.helpers import finish, make_world, mark
from tests.annotator.projects.factories import grant_outlets, make_article

pytestmark = pytest.mark.django_db

FRAMES = ["security", "economic", "morality"]
# (ann1, ann2) primary frame per article; the last article only ann1 finishes.
FRAME_ANSWERS = [("security", "security"), ("economic", "security"), ("morality", "morality"), ("economic", "economic")]


@pytest.fixture
def world():
    w = make_world()
    texts = [f"Article {i}: the regime fell. Takfiri fighters left town {i}." for i in range(3)]
    w.articles += [make_article(text=t, title=f"A{i}") for i, t in enumerate(texts)]
    grant_outlets(w.project, w.articles[2:])
    project_add_articles(project=w.project, by=w.owner, article_ids=[a.pk for a in w.articles[2:]])
    w.frame = question_create(
        project=w.project, name="frame", prompt="Frame?", options=[{"value": v} for v in FRAMES], by=w.owner
    )
    w.tone = question_create(
        project=w.project, name="tone", prompt="Tone", kind="scale", by=w.owner,
        options=[{"value": str(n), "numeric": n} for n in (-2, -1, 0, 1, 2)],
    )  # fmt: skip
    w.bias = question_create(
        project=w.project, name="bias", prompt="Biased?", scope="sentence", by=w.owner,
        options=[{"value": "biased"}, {"value": "neutral"}],
    )  # fmt: skip
    w.target = question_create(
        project=w.project, name="target", prompt="Who?", scope="span", label=w.labels["actor label"], by=w.owner,
        options=[{"value": "government"}, {"value": "armed_opposition"}],
    )  # fmt: skip
    w.why = question_create(project=w.project, name="why", prompt="Why?", kind="text", by=w.owner)
    return w


def put(w, user, article, question, value, **unit):
    answer_set(project=w.project, article=article.pk, user=user, question_id=question.pk, value=value, **unit)


def annotate(w):
    docs = w.articles[1:5]
    for doc, (a, b) in zip(docs, FRAME_ANSWERS, strict=True):
        put(w, w.ann1, doc, w.frame, a)
        put(w, w.ann2, doc, w.frame, b)
    for doc, (a, b) in zip(docs, [("-2", "-1"), ("0", "0"), ("2", "1"), ("1", "1")], strict=True):
        put(w, w.ann1, doc, w.tone, a)
        put(w, w.ann2, doc, w.tone, b)
    doc = w.articles[2]
    for i, s in enumerate(article_sentences(article=doc)):
        put(w, w.ann1, doc, w.bias, "biased", start_char=s.start_char, end_char=s.end_char)
        put(w, w.ann2, doc, w.bias, "biased" if i == 0 else "neutral", start_char=s.start_char, end_char=s.end_char)
    # Both mark "Takfiri" (one unit: the same offsets); only ann1 marks "regime" as an actor.
    t1, t2 = mark(w, w.ann1, doc, "Takfiri", "actor label"), mark(w, w.ann2, doc, "Takfiri", "actor label")
    regime = mark(w, w.ann1, doc, "regime", "actor label")
    put(w, w.ann1, doc, w.target, "armed_opposition", span_id=t1.pk)
    put(w, w.ann2, doc, w.target, "armed_opposition", span_id=t2.pk)
    put(w, w.ann1, doc, w.target, "government", span_id=regime.pk)
    put(w, w.ann1, doc, w.why, "It blames the regime.")
    put(w, w.ann2, doc, w.why, "Neutral tone.")
    for doc in docs[:3]:
        finish(w, w.ann1, doc)
        finish(w, w.ann2, doc)
    finish(w, w.ann1, docs[3])  # ann2 never finishes the last: their answers there do not count


def by_name(result) -> dict:
    return {q["question"]: q for q in result["questions"]}


def test_question_agreement_equals_krippendorff_on_finished_work(world):
    annotate(world)
    result = by_name(agreement_compute(project=world.project, filters=AgreementFilters()))
    frame = result["frame"]["figures"]
    data = np.array([[FRAMES.index(a) for a, _ in FRAME_ANSWERS[:3]], [FRAMES.index(b) for _, b in FRAME_ANSWERS[:3]]])
    assert frame["n_units"] == 3 and result["frame"]["n_items"] == 3
    assert frame["krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal", value_domain=range(3))
    )
    assert frame["percent_agreement"] == pytest.approx(2 / 3)
    tone = result["tone"]["figures"]
    assert tone["alpha_level"] == "ordinal"
    assert tone["krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(
            reliability_data=[[0, 2, 4], [1, 2, 3]], level_of_measurement="ordinal", value_domain=range(5)
        )
    )
    bias = result["bias"]
    assert bias["n_items"] == 1 and bias["figures"]["n_units"] == 2 and bias["figures"]["percent_agreement"] == 0.5
    target = result["target"]["figures"]
    assert target["n_units"] == 1 and target["percent_agreement"] == 1.0  # "regime" was marked by ann1 only
    assert result["why"]["figures"] is None and result["why"]["reason"] == "free-text answers are kept, not scored"


def test_table_api_page_and_command_show_the_questions(world):
    annotate(world)
    client = Client()
    client.force_login(world.curator)
    rows = client.get(f"/api/v1/projects/{world.project.slug}/agreement/table/").json()
    mine = {(r["question"], r["measure"], r["label"]): r for r in rows if r["question"]}
    assert mine[("tone", "krippendorff_alpha_ordinal", "all")]["n_units"] == 3
    assert mine[("frame", "percent_agreement", "all")]["value"] == pytest.approx(2 / 3)
    assert all(r["question"] == "" for r in rows if r["measure"].startswith("span_f1"))
    page = client.get(f"/projects/{world.project.slug}/agreement/").content.decode()
    assert 'data-testid="question-agreement-table"' in page and 'data-question="target"' in page
    out = io.StringIO()
    call_command("agreement", "--project", world.project.slug, stdout=out)
    assert any(line.startswith("percent_agreement") and " frame " in line for line in out.getvalue().splitlines())
    # The label filter keeps only that label's attributes (and the article and sentence questions).
    filtered = by_name(agreement_compute(project=world.project, filters=AgreementFilters(label="loaded term")))
    assert "target" not in filtered and "frame" in filtered


def test_a_new_answer_makes_the_stored_report_stale(world):
    annotate(world)
    client = Client()
    client.force_login(world.curator)
    url = f"/api/v1/projects/{world.project.slug}/agreement/"
    stored = agreement_job_create(project=world.project, filters=AgreementFilters(), queue=False)
    agreement_job_run(job_id=stored.pk)
    assert client.get(url).json()["job_id"] == stored.pk
    put(world, world.ann1, world.articles[1], world.frame, "morality")
    assert client.get(url).json()["job_id"] is None  # computed for the request, the stale job not served
