"""The agreement page in a real Chromium under the site's strict Content Security Policy: the per-label chart renders
(expressions interpreted, no 'unsafe-eval'), its tooltip shows values, and the console reports no CSP violation."""

from __future__ import annotations

import os

import pytest

from tests.annotator.annotations.helpers import annotate_standard, make_world
from tests.annotator.projects.factories import PASSWORD
from tests.conftest import browser_login

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db):
    w = make_world(name="Agreement chart study")
    w.spans = annotate_standard(w)
    return w


def test_the_chart_renders_without_unsafe_eval_and_without_csp_violations(page, live_server, screenshot, world):
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    browser_login(page, live_server, world.curator.username, PASSWORD)
    url = f"{live_server.url}/projects/{world.project.slug}/agreement/"
    response = page.goto(url)
    policy = response.headers["content-security-policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-eval'" not in script_src and "'unsafe-inline'" not in script_src, script_src
    page.wait_for_selector("[data-testid=agreement-chart][data-rendered='1']")
    bars = page.locator("[data-testid=agreement-chart] svg .mark-rect path")
    assert bars.count() >= 2  # one bar per (label, measure) with a value
    boxes = [bars.nth(i).bounding_box() for i in range(bars.count())]
    widest = max((box for box in boxes if box), key=lambda box: box["width"])
    assert widest["width"] > 10, boxes  # a value drew a visible bar
    page.mouse.move(widest["x"] + widest["width"] / 2, widest["y"] + widest["height"] / 2)
    page.wait_for_selector("#vg-tooltip-element.visible")
    assert "measure" in page.inner_text("#vg-tooltip-element")
    assert page.eval_on_selector("#vg-tooltip-element", "el => getComputedStyle(el).position") == "fixed"  # app.css
    violations = [line for line in console if "Content Security Policy" in line or line.startswith("pageerror")]
    assert not violations, violations
    screenshot("agreement_chart_strict_csp")
