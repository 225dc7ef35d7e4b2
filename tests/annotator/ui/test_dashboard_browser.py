"""The Scores dashboard in a real Chromium on the demo project: charts with CI error bars (model: uncorrected and
corrected side by side), the comparison table, term choice, distinctive words, examples behind a bar, PNG/SVG/CSV
downloads, and the "Score corpus" button with live progress from a real Celery worker."""

from __future__ import annotations

import io
import json
import os
from itertools import combinations
from urllib.parse import quote

import pandas as pd
import pytest
from django.core.management import call_command

from annotator.annotations.models import Layer, Span, Suggestions
from annotator.annotations.suggestions import pack
from annotator.common.models import JobStatus
from annotator.projects.models import Label, Project
from annotator.scoring.models import ArticleScore
from annotator.training.models import ModelVersion
from tests.conftest import browser_login, wait_for

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SLUG = "demo-framing"


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", "--no-model", stdout=io.StringIO())
    project = Project.objects.get(slug=SLUG)
    project.bootstrap_resamples = 200
    project.save()
    # load_demo defines the "armed-opposition" concept (terrorists / rebels / militants / armed groups).
    return project


@pytest.fixture
def model_scores(demo, tmp_path):
    """An active version that predicted exactly the gold spans (as suggestions, with their per-article counts) and
    whose cross-validated counts (precision 0.75, recall 0.6) give a corrected rate drawn next to the raw one. Like
    a trained one, it predicts only the labels with gold spans (its manifest says which) and has count rows for
    those alone."""
    project = demo
    gold_labels = set(Span.objects.filter(project=project, layer=Layer.GOLD).values_list("label_id", flat=True))
    labels = list(Label.objects.filter(project=project, pk__in=gold_labels).order_by("name"))
    assert 0 < len(labels) < Label.objects.filter(project=project).count()
    (tmp_path / "manifest.json").write_text(json.dumps({"labels": [label.name for label in labels]}))
    counts = {"tp_pred": 6, "n_pred": 8, "tp_gold": 6, "n_gold": 10}
    version = ModelVersion.objects.create(
        project=project, number=1, status=JobStatus.SUCCEEDED, is_active=True, artefact_path=str(tmp_path),
        metrics={"grouped_kfold": {"partial": {label.name: counts for label in labels}}},
    )  # fmt: skip
    gold = list(Span.objects.filter(project=project, layer=Layer.GOLD).order_by("article_id", "start_char", "end_char"))
    by_article = {}
    for g in gold:
        by_article.setdefault(g.article_id, []).append((g.start_char, g.end_char, g.label_id, 0.9))
    Suggestions.objects.bulk_create(
        Suggestions(model_version=version, article_id=a, spans=pack(records)) for a, records in by_article.items()
    )
    per_article = {}
    for g in gold:
        per_article[(g.article_id, g.label_id)] = per_article.get((g.article_id, g.label_id), 0) + 1
    rows = [
        ArticleScore(
            project=project,
            article=article,
            source=f"model:{version.pk}",
            model_version=version,
            label=label,
            n_spans=per_article.get((article.pk, label.pk), 0),
            n_tokens=article.n_tokens,
        )  # fmt: skip
        for article in project.articles.all()
        for label in labels
    ]
    ArticleScore.objects.bulk_create(rows)
    return version


def open_dashboard(page, live_server):
    browser_login(page, live_server, "demo-admin", "demo-admin-pw")
    page.goto(f"{live_server.url}/projects/{SLUG}/scores/")
    page.wait_for_selector("body[data-dashboard-ready]")


def redraw(page, select: str, value: str) -> None:
    before = page.locator("body").get_attribute("data-dashboard-ready")
    page.select_option(select, value)
    page.wait_for_selector(f"body[data-dashboard-ready]:not([data-dashboard-ready='{before}'])", state="attached")


def test_dashboard_charts_tables_examples_and_downloads(page, live_server, model_scores, screenshot, tmp_path):
    open_dashboard(page, live_server)
    assert page.locator("#dash-error").is_hidden(), page.locator("#dash-error").text_content()
    api = f"{live_server.url}/api/v1/projects/{SLUG}"
    model_rows = page.request.get(f"{api}/framing-scores/?label=loaded%20term&source=model").json()
    n_outlets = len(model_rows)
    assert n_outlets >= 3

    # Model source: an uncorrected and a corrected bar per outlet, each with an error bar.
    assert page.locator("#chart-outlets .mark-rect.role-mark path").count() == 2 * n_outlets
    assert page.locator("#chart-outlets .mark-rule.role-mark line").count() == 2 * n_outlets
    assert page.locator("#chart-outlets").get_by_text("corrected", exact=True).count() >= 1
    # Time series per outlet, the pairwise table, term choice and distinctive words.
    monthly = page.request.get(f"{api}/framing-scores/?label=loaded%20term&source=model&period=month").json()
    dated_outlets = {r["outlet"] for r in monthly if r["period_start"]}
    assert page.locator("#chart-time .mark-line.role-mark path").count() == len(dated_outlets) >= 3
    # Outlet-months of fewer than 5 articles are flagged too_small by the API and drawn hollow, with a legend entry.
    small = [r for r in monthly if r["period_start"] and r["too_small"]]
    assert small and all(r["warning"] and r["n_articles"] < 5 for r in small)
    hollow = page.locator('#chart-time .mark-symbol.role-mark path[fill-opacity="0.12"]')
    assert hollow.count() == len(small)
    assert page.locator("#chart-time").get_by_text("Hollow marks: fewer than 5 articles", exact=False).count() == 1
    assert page.locator("#chart-outlets").get_by_text("Hollow marks", exact=False).count() == (
        1 if any(r["too_small"] for r in model_rows) else 0
    )
    assert page.locator("#compare-table tbody tr").count() == len(list(combinations(range(n_outlets), 2)))
    assert page.locator("#compare-table th", has_text="p (Holm)").count() == 1
    assert page.locator("#chart-terms .mark-rect.role-mark path").count() >= n_outlets
    assert page.locator("#distinctive li").count() > 0

    screenshot("dashboard-model")
    # A bar → the examples behind it, linking to the annotator page.
    bar = page.locator("#chart-outlets .mark-rect.role-mark path").first
    box = bar.bounding_box()
    # the bar itself, below its error bar (10 px in: an outlined bar's box includes its stroke's miter)
    bar.click(position={"x": 10, "y": box["height"] - 10})
    page.wait_for_selector("[data-testid=example-list] li")
    link = page.locator("[data-testid=example-list] a").first.get_attribute("href")
    assert link.startswith(f"/projects/{SLUG}/articles/")
    assert page.locator("[data-testid=example-list] mark").count() > 0
    screenshot("dashboard-model")

    # A label the model was never trained on: no model scores, and the chart says which labels it does score.
    scored = Label.objects.filter(project=model_scores.project, article_scores__source=f"model:{model_scores.pk}")
    trained = sorted(scored.values_list("name", flat=True).distinct())
    untrained = Label.objects.filter(project=model_scores.project).exclude(name__in=trained).first()
    redraw(page, "#ctl-label", untrained.name)
    assert page.request.get(f"{api}/framing-scores/?label={quote(untrained.name)}&source=model").json() == []
    message = page.locator("#chart-outlets p.empty").text_content()
    assert f"The model scores only the labels it was trained on: {', '.join(trained)}." in message
    redraw(page, "#ctl-label", "loaded term")

    # Gold source: one bar per outlet, no corrected estimate.
    redraw(page, "#ctl-source", "gold")
    gold_rows = page.request.get(f"{api}/framing-scores/?label=loaded%20term&source=gold").json()
    assert page.locator("#chart-outlets .mark-rect.role-mark path").count() == len(gold_rows)

    # Downloads: PNG and SVG of a chart, CSV of its data that pandas reads as is.
    card = page.locator("[data-chart=outlets]")
    with page.expect_download() as png:
        card.locator("button[data-download=png]").click()
    png_path = tmp_path / "chart.png"
    png.value.save_as(png_path)
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as svg:
        card.locator("button[data-download=svg]").click()
    svg_path = tmp_path / "chart.svg"
    svg.value.save_as(svg_path)
    assert "<svg" in svg_path.read_text()[:500]
    csv_href = card.locator("a[data-csv]").get_attribute("href")
    frame = pd.read_csv(io.BytesIO(page.request.get(f"{live_server.url}{csv_href}").body()))
    assert sorted(frame["outlet"]) == sorted(r["outlet"] for r in gold_rows)
    assert frame["rate_per_1k"].tolist() == pytest.approx([r["rate_per_1k"] for r in gold_rows])

    # A distinctive word → its occurrences in that outlet.
    page.locator("#distinctive button.word").first.click()
    page.wait_for_selector("#examples h3:has-text(' in ')")
    screenshot("dashboard-gold")


def test_annotator_sees_no_score_button_charts_need_no_eval_and_outlet_blind_gets_403(page, live_server, demo, client):
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    from django.contrib.auth import get_user_model

    annotator = get_user_model().objects.get(username="demo-annotator")
    demo.outlet_blind = True
    demo.save()
    client.force_login(annotator)
    assert client.get(f"/projects/{SLUG}/scores/").status_code == 403
    demo.outlet_blind = False
    demo.save()
    browser_login(page, live_server, "demo-annotator", "demo-annotator-pw")
    page.goto(f"{live_server.url}/projects/{SLUG}/scores/")
    page.wait_for_selector("body[data-dashboard-ready]")
    assert page.locator("#score-button").count() == 0
    assert page.locator("#chart-outlets .mark-rect.role-mark path").count() >= 3  # gold source (no active model)
    assert page.locator("#dash-error").is_hidden()
    assert "unsafe-eval" not in page.request.get(f"{live_server.url}/projects/{SLUG}/scores/").headers.get(
        "content-security-policy", ""
    )
    assert violations == [], violations


def test_score_corpus_button_follows_a_real_run(page, live_server, demo, celery_worker, screenshot):
    """Train a real model (the lead's services), activate it, then score the corpus from the dashboard."""
    from annotator.training import services as training

    version = ModelVersion.objects.create(project=demo, number=1, params={"random_state": demo.random_seed})
    version = training.model_version_train(version_id=version.pk)
    assert version.status == JobStatus.SUCCEEDED, version.error
    training.model_version_activate(version=version)

    open_dashboard(page, live_server)
    page.click("#score-button")
    page.wait_for_selector("#score-progress[data-status]")
    wait_for(
        lambda: page.locator("#score-progress").get_attribute("data-status") in ("succeeded", "failed"),
        timeout=180,
        what="the scoring run to finish",
    )
    assert page.locator("#score-progress").get_attribute("data-status") == "succeeded"
    n_articles = demo.articles.count()
    assert f"{n_articles} / {n_articles} articles" in page.locator("#score-progress .text").text_content()
    page.wait_for_selector("#chart-outlets .mark-rect.role-mark path", state="attached")
    screenshot("dashboard-scored")
