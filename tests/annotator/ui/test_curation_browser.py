"""The curator flow in a real Chromium: open an article with two annotators' spans, accept one, bulk accept the
agreed ones, mark adjudicated; then the gold spans in the database; and the agreement page renders its chart."""

from __future__ import annotations

import os

import pytest

from annotator.annotations.models import Adjudication, Layer, Span
from tests.annotator.annotations.helpers import FAST_HASHERS, annotate_standard, make_world
from tests.annotator.projects.factories import PASSWORD
from tests.conftest import browser_login

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    w = make_world(name="Curation study")
    w.spans = annotate_standard(w)
    # hostile span note / text never executes: the article text is rendered as text
    return w


def gold(world):
    return list(
        Span.objects.filter(project=world.project, layer=Layer.GOLD)
        .order_by("start_char")
        .values_list("text", "label__name")
    )


def test_curator_accepts_bulk_accepts_and_adjudicates(page, live_server, screenshot, world):
    browser_login(page, live_server, world.curator.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{world.project.slug}/")
    page.click("[data-testid=curation-links] >> text=Curate")
    page.click("text=Liberation story")
    rows = page.locator("[data-testid=row-annotator]")
    assert rows.count() == 2
    assert [rows.nth(i).get_attribute("data-annotator") for i in range(2)] == ["ann1", "ann2"]
    assert page.inner_text("[data-testid=n-disagreements]") == "3"
    assert page.locator(".stack-row .seg.disagree").count() >= 3  # Takfiri x2, regime, claimed
    # accept ann2's "claimed" (a span only ann2 marked)
    claimed = world.spans["claimed2"]
    page.click(f"[data-testid=annotator-span][data-span-id='{claimed.pk}'] [data-testid=accept]")
    page.wait_for_selector("[data-testid=gold-span]")
    assert gold(world) == [("claimed", "attribution/hedge")]
    # reject ann1's "regime"
    page.click(f"[data-testid=annotator-span][data-span-id='{world.spans['regime1'].pk}'] [data-testid=reject]")
    page.wait_for_selector(f"[data-span-id='{world.spans['regime1'].pk}'].curation-rejected")
    page.click("[data-testid=bulk-accept]")
    page.wait_for_selector("text=Accepted 2 agreed span(s)")
    assert page.locator("[data-testid=gold-span]").count() == 3
    page.click("[data-testid=adjudicate]")
    page.wait_for_selector("[data-testid=adjudication]:has-text('done')")
    path = screenshot("curation_article")
    assert path.stat().st_size > 10_000
    assert gold(world) == [("liberate", "loaded term"), ("terrorists", "loaded term"), ("claimed", "attribution/hedge")]
    by_text = {s.text: s for s in Span.objects.filter(project=world.project, layer=Layer.GOLD)}
    assert by_text["liberate"].provenance["annotators"] == sorted([world.ann1.pk, world.ann2.pk])
    assert by_text["claimed"].provenance["from_spans"] == [claimed.pk]
    adj = Adjudication.objects.get(project=world.project, article=world.articles[0])
    assert adj.status == "done" and adj.curator_id == world.curator.pk
    world.spans["regime1"].refresh_from_db()
    assert world.spans["regime1"].provenance["curation"]["status"] == "rejected"


def test_agreement_page_table_chart_and_drilldown(page, live_server, screenshot, world):
    browser_login(page, live_server, world.curator.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{world.project.slug}/agreement/")
    page.wait_for_selector("[data-testid=agreement-chart][data-rendered='1']")
    assert page.locator("[data-testid=agreement-chart] svg").count() == 1
    row = page.locator("[data-testid=agreement-table] tr[data-measure=span_f1_exact][data-label=all]")
    assert "0.500" in row.inner_text()
    page.click("[data-testid=drill-link]")
    page.wait_for_selector("[data-testid=drill-article]")
    assert "Liberation story" in page.inner_text("[data-testid=drill-article]")
    screenshot("agreement_page")


def test_annotator_cannot_open_curator_pages(page, live_server, world):
    browser_login(page, live_server, world.ann1.username, PASSWORD)
    response = page.goto(f"{live_server.url}/projects/{world.project.slug}/curate/{world.articles[0].pk}/")
    assert response.status == 403
    page.goto(f"{live_server.url}/projects/{world.project.slug}/")
    assert page.locator("[data-testid=curation-links]").count() == 0
