"""Headless Chromium for the page benchmarks: one logged-in page on a bench server."""

from __future__ import annotations

import argparse
import os

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def logged_in_page(pw, *, base: str, username: str, password: str):
    """(browser, page) with a 1400x900 page logged in as `username` at the server `base`."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return browser, page


def page_bench_parser(doc: str, *, spans: int) -> argparse.ArgumentParser:
    """The options every page benchmark takes: database, article size, its spans, page loads."""
    from bench.span_save_bench import DEFAULT_DB

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--words", type=int, default=20_000)
    parser.add_argument("--spans", type=int, default=spans)
    parser.add_argument("--loads", type=int, default=5)
    return parser


def annotator_ready_times(page, url: str, loads: int) -> list[float]:
    """Load the annotator page ``loads`` times: ms from navigation start to its `annotator-ready` mark, each time."""
    times = []
    for _ in range(loads):
        page.goto(url)
        page.wait_for_selector("body[data-annotator-ready='1']", timeout=30_000)
        times.append(page.evaluate("performance.getEntriesByName('annotator-ready')[0].startTime"))
    return times
