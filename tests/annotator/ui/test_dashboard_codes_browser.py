"""The Scores dashboard's codebook questions in a real Chromium: answer shares per outlet (corrected bars and the
predicted ticks for the model), the share of one answer over time, the comparison table, span rates by attribute
value, and PNG/SVG/CSV downloads."""

from __future__ import annotations

import contextlib
import io
import os
from datetime import UTC, datetime
from unittest import mock

import pandas as pd
import pytest

from annotator.annotations.answers import AnswerRow, answers_import
from annotator.annotations.models import Layer, Span
from annotator.corpus.models import Article
from annotator.projects.models import Label
from annotator.projects.questions import question_create
from tests.annotator.projects.factories import PASSWORD
from tests.annotator.scoring.test_answer_counts import trained
from tests.annotator.scoring.test_score_chunk_rows import score_in_process
from tests.annotator.training.synthetic import add_tone_question, synthetic_project
from tests.conftest import browser_login

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@contextlib.contextmanager
def _committed(execute: bool = True):
    yield []  # no test transaction here: on_commit callbacks ran when their transaction committed


@pytest.fixture
def study(transactional_db):
    project, articles = synthetic_project(n_per_outlet=12, seed=3)
    project.bootstrap_resamples = 200
    project.save()
    for i, a in enumerate(articles):
        Article.objects.filter(pk=a.pk).update(published_at=datetime(2024, 1 + i % 2, 5, tzinfo=UTC))
    add_tone_question(project, articles)
    label = Label.objects.get(project=project, name="loaded term")
    question_create(project=project, name="target", prompt="Aimed at?", scope="span", label=label,
                    options=[{"value": "government"}, {"value": "opposition"}])  # fmt: skip
    spans = Span.objects.filter(project=project, layer=Layer.GOLD)
    rows = [AnswerRow(article_id=s.article_id, question="target", layer="gold", span_id=s.pk,
                      value="opposition" if s.text.lower() == "terrorists" else "government") for s in spans]  # fmt: skip
    assert not answers_import(project=project, rows=rows).errors
    question_create(project=project, name="intensity", prompt="How loaded?", kind="scale",
                    options=[{"value": "low", "numeric": 0}, {"value": "mid", "numeric": 1},
                             {"value": "high", "numeric": 2}])  # fmt: skip
    levels = ["low", "mid", "high"]
    rows = [AnswerRow(article_id=a.pk, question="intensity", layer="gold",
                      value=levels[min(2, a.text.lower().count("terrorists"))]) for a in articles]  # fmt: skip
    assert not answers_import(project=project, rows=rows).errors
    with mock.patch("annotator.scoring.tasks.score_cache_warm_task.delay"):
        trained(project)
        score_in_process(project, chunk_size=50, on_commit=_committed)
    return project, articles


def redraw(page, select: str, value: str) -> None:
    before = page.locator("body").get_attribute("data-codes-ready")
    page.select_option(select, value)
    page.wait_for_selector(f"body[data-codes-ready]:not([data-codes-ready='{before}'])", state="attached")


def test_codebook_question_charts_tables_and_downloads(page, live_server, study, screenshot, tmp_path):
    project, articles = study
    owner = project.memberships.get(role="owner").user
    browser_login(page, live_server, owner.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.slug}/scores/")
    page.wait_for_selector("body[data-codes-ready]")
    assert page.locator("#codes-error").is_hidden(), page.locator("#codes-error").text_content()
    outlets = {a.outlet.slug for a in articles}

    # Model source: a corrected bar, its error bar and the predicted share's tick per (outlet, answer)
    chart = page.locator("#chart-codes")
    # (Vega draws the ticks as rectangles too: the bars' layer and the ticks' layer, 2 answers x 3 outlets each)
    assert chart.locator(".mark-rect.role-mark.layer_0_marks path").count() == 2 * len(outlets)
    assert chart.locator(".mark-rect.role-mark.layer_2_marks path").count() == 2 * len(outlets)
    assert chart.locator(".mark-rule.role-mark line").count() == 2 * len(outlets)
    assert page.locator("#chart-codes-time .mark-line.role-mark path").count() == len(outlets)
    assert page.locator("#codes-compare-table tbody tr").count() == 3
    assert page.locator("#codes-compare-table th", has_text="Corrected A − B").count() == 1
    # span rates by attribute value need a human layer: the model has none, and says so
    assert "carry no attributes" in page.locator("#chart-attributes").text_content()
    screenshot("dashboard-codes-model")

    # Gold source: answers as coded, no tick; the attribute chart has a bar per outlet and value
    redraw(page, "#ctl-source", "gold")
    assert chart.locator(".mark-rect.role-mark path").count() == 2 * len(outlets)  # bars, no ticks
    assert page.locator("#chart-attributes .mark-rect.role-mark path").count() >= 2 * len(outlets)
    screenshot("dashboard-codes-gold")

    # A scale question: its mean per outlet (all articles) and per outlet and month, each with its interval
    redraw(page, "#ctl-question", "intensity")
    assert page.locator("#codes-means tbody tr").count() == len(outlets)
    months = page.locator("#codes-time-means tbody tr")
    assert months.count() == 2 * len(outlets)  # two months of articles
    first = months.nth(0).locator("td")
    assert first.nth(0).text_content() == "2024-01-01" and first.nth(3).text_content().startswith("[")
    redraw(page, "#ctl-question", "tone")

    # Downloads: PNG and SVG of a chart, its data as CSV that pandas reads as is
    card = page.locator("[data-chart=codes]")
    with page.expect_download() as png:
        card.locator("button[data-download=png]").click()
    png.value.save_as(tmp_path / "codes.png")
    assert (tmp_path / "codes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as svg:
        card.locator("button[data-download=svg]").click()
    svg.value.save_as(tmp_path / "codes.svg")
    assert "<svg" in (tmp_path / "codes.svg").read_text()[:500]
    href = card.locator("a[data-csv]").get_attribute("href")
    assert "code-scores/" in href and "source=gold" in href
    frame = pd.read_csv(io.BytesIO(page.request.get(f"{live_server.url}{href}").body()))
    assert set(frame["outlet"]) == outlets and set(frame["answer"]) == {"hostile", "neutral"}
    assert frame.groupby("outlet")["share"].sum().tolist() == pytest.approx([1.0] * len(outlets))
