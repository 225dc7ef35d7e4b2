"""An automated accessibility audit (axe-core, through Playwright) of the annotator, curation, codebook, project and
scores pages on the demo project, with spans, suggestions and an open span editor drawn: no serious or critical finding.
Then the keyboard paths axe cannot judge: suggestions reached, accepted and dismissed from the keyboard; focus kept
after a relabel, a note and a delete made from the span list; the current label marked with aria-pressed.

axe-core (MPL-2.0) comes bundled in the PyPI package axe-playwright-python (a test dependency)."""

from __future__ import annotations

import io
import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command

from annotator.annotations.models import Layer, Span
from annotator.projects.models import Assignment, Label, Project
from annotator.training.models import ModelVersion
from annotator.ui.colours import contrast_on_white
from tests.annotator.projects.factories import make_suggestions
from tests.annotator.ui.text_selection import select_text, u16
from tests.conftest import browser_login, wait_for

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SLUG = "demo-framing"
BLOCKING = ("serious", "critical")
RGB_JS = """([sel, prop]) => {
    const el = document.querySelector(sel);
    const m = el && el.isConnected && getComputedStyle(el)[prop].match(/\\d+/g);
    return m ? m.slice(0, 3).map(Number) : null;
}"""


def css_colour(page, selector: str, prop: str) -> str:
    """A computed colour of the element as #rrggbb (the first colour in the property's value)."""
    # Read in one evaluation, retried until there is a colour: the value can be "none" for a moment after a key press
    # (the focus ring is drawn on the next frame), and a saved span is redrawn, so an element found by one call can be
    # detached (no computed style) by the next.
    r, g, b = page.wait_for_function(RGB_JS, arg=[selector, prop]).json_value()
    return f"#{r:02x}{g:02x}{b:02x}"


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", stdout=io.StringIO())
    return Project.objects.get(slug=SLUG)


def audit(page, what: str) -> None:
    """Run axe-core on the page as it is now; fail listing every serious or critical finding."""
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(n['target'][0] for n in v['nodes'][:5])}"
        for v in blocking
    )
    assert not blocking, f"{what}: {len(blocking)} serious/critical accessibility finding(s)\n{report}"
    assert results.response["passes"] or results.response["inapplicable"]  # axe really ran on the page


def an_article_with_spans(project, username: str):
    article_id = (
        Assignment.objects.filter(project=project, annotator__username=username)
        .order_by("position", "pk")
        .values_list("article_id", flat=True)
        .first()
    )
    return article_id


def test_annotator_curation_project_and_scores_pages_have_no_serious_findings(page, live_server, demo):
    project = demo
    article_id = an_article_with_spans(project, "demo-annotator")
    article = project.articles.get(pk=article_id) if hasattr(project, "articles") else None
    labels = {label.name: label for label in Label.objects.filter(project=project)}
    version = ModelVersion.objects.create(project=project, number=99, status="succeeded", is_active=True)
    from annotator.corpus.models import Article

    article = Article.objects.get(pk=article_id)
    word = next(w for w in article.text.split() if len(w) > 6 and w.isalpha())
    start = article.text.index(word)
    make_suggestions(version=version, article=article, spans=[(start, start + len(word), labels["loaded term"], 0.8)])
    browser_login(page, live_server, "demo-annotator", "demo-annotator-pw")
    page.goto(f"{live_server.url}/projects/{SLUG}/")
    audit(page, "project page")
    page.goto(f"{live_server.url}/projects/{SLUG}/articles/{article_id}/")
    page.wait_for_selector("body[data-annotator-ready='1']")
    select_text(page, u16(article.text, start), u16(article.text, start + len(word)))
    page.keyboard.press("2")
    page.wait_for_selector("[data-testid=save-status][data-state=saved]")
    page.check("[data-testid=suggestions-toggle]")
    page.wait_for_selector("body[data-suggestions='shown']")
    page.click("#span-list .span-item >> nth=0")
    page.wait_for_selector("#span-popover:not([hidden])")
    audit(page, "annotator page, span editor open, suggestions shown")

    page.context.clear_cookies()
    browser_login(page, live_server, "demo-admin", "demo-admin-pw")
    page.goto(f"{live_server.url}/projects/{SLUG}/curate/{article_id}/")
    page.wait_for_selector("body[data-curation-ready='1']")
    page.click("[data-testid=gold-list] [data-span-key] >> nth=0")
    audit(page, "curation page, a gold span chosen")
    page.goto(f"{live_server.url}/projects/{SLUG}/codebook/")
    page.wait_for_selector("body[data-codebook-ready='1']")
    audit(page, "codebook page")
    page.click("[data-testid=question-item][data-question=primary_frame] button[data-action=edit]")
    page.wait_for_selector("#question-editor[open]")
    audit(page, "codebook page, a question's editor open")
    page.keyboard.press("Escape")
    page.goto(f"{live_server.url}/projects/{SLUG}/scores/")
    page.wait_for_selector("body[data-dashboard-ready]")
    audit(page, "scores page")


TEXT = "Syrian troops liberate areas from Takfiri terrorists.\nThe regime claimed a victory over the rebels."


def test_keyboard_paths_suggestions_focus_and_pressed_label(page, live_server, transactional_db):
    from tests.annotator.projects.factories import PASSWORD, make_article, make_project, make_user

    owner, annotator = make_user("a11y-owner"), make_user("a11y-ann")
    article = make_article(text=TEXT, title="Keyboard")
    project = make_project(owner=owner, articles=[article], annotators=[annotator], name="Keyboard study")
    labels = {label.name: label for label in Label.objects.filter(project=project)}
    version = ModelVersion.objects.create(project=project, number=1, status="succeeded", is_active=True)
    make_suggestions(
        version=version, article=article,
        spans=[
            (TEXT.index(word), TEXT.index(word) + len(word), labels[label], 0.9)
            for word, label in (("liberate", "loaded term"), ("claimed", "attribution/hedge"))
        ],
    )  # fmt: skip
    browser_login(page, live_server, annotator.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.slug}/articles/{article.pk}/")
    page.wait_for_selector("body[data-annotator-ready='1']")
    page.focus("[data-testid=suggestions-toggle]")
    page.keyboard.press("Space")
    page.wait_for_selector("[data-testid=suggestion-list] li >> nth=1")
    # Tab reaches the first suggestion's Accept button; Enter accepts it; focus stays in the list.
    page.keyboard.press("Tab")
    assert (
        page.evaluate("document.activeElement.getAttribute('aria-label')")
        == "Accept suggestion loaded term: “liberate”"
    )
    page.keyboard.press("Enter")
    wait_for(lambda: Span.objects.filter(layer=Layer.ANNOTATOR, text="liberate").exists(), what="the accepted span")
    assert page.evaluate("document.activeElement.closest('#suggestion-list') !== null")
    # The other is dismissed from the keyboard: Tab to Dismiss, Enter.
    page.focus("[data-testid=suggestion-list] li button[data-action=dismiss]")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=suggestion-list]", state="hidden")
    assert Span.objects.filter(layer=Layer.ANNOTATOR).count() == 1
    # Spans in the text have a role and a name.
    ann = page.locator("[data-testid=article-text] .ann >> nth=0")
    assert ann.get_attribute("role") == "group"
    assert ann.get_attribute("aria-label") == "loaded term: liberate"
    # Scare quotes (#e9a100, 2.2:1 on white) are underlined 3:1; the text's focus ring is 3:1 or more.
    rebels = TEXT.index("rebels")
    select_text(page, u16(TEXT, rebels), u16(TEXT, rebels + 6))
    page.keyboard.press("5")
    line = css_colour(page, f"[data-testid=article-text] .ann[data-span-start='{rebels}']", "borderBottomColor")
    assert labels["scare quotes"].colour == "#e9a100" and contrast_on_white(line) >= 3
    article_focused = "() => document.activeElement?.dataset?.testid === 'article-text'"
    for _ in range(3):  # a toast that appears between the two presses takes a place in the tab order: try again
        page.focus("[data-testid=article-text]")
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # focus by keyboard: :focus-visible
        if page.evaluate(article_focused):
            break
    assert page.evaluate(article_focused)
    assert contrast_on_white(css_colour(page, "[data-testid=article-text]", "boxShadow")) >= 3
    page.keyboard.press("Control+z")  # the scare quotes go again
    # From the span list: relabel, note and delete keep the keyboard focus in the list, never on <body>.
    select_text(page, u16(TEXT, TEXT.index("regime")), u16(TEXT, TEXT.index("regime") + 6))
    page.keyboard.press("3")
    page.wait_for_selector("[data-testid=save-status][data-state=saved]")
    page.focus("#span-list .span-item >> nth=0")
    page.keyboard.press("Enter")
    assert page.get_attribute("#pop-labels .label-btn.current", "aria-pressed") == "true"
    assert page.locator("#pop-labels .label-btn[aria-pressed=false]").count() == len(labels) - 1
    page.keyboard.press("2")  # relabel liberate
    wait_for(
        lambda: page.evaluate("document.activeElement.classList.contains('span-item')"), what="focus after relabel"
    )
    page.keyboard.press("Enter")
    page.fill("#pop-note", "a note")
    page.click("#pop-save-note")
    wait_for(lambda: page.evaluate("document.activeElement.classList.contains('span-item')"), what="focus after note")
    page.keyboard.press("Enter")
    page.keyboard.press("Delete")
    wait_for(lambda: Span.objects.filter(layer=Layer.ANNOTATOR).count() == 1, what="the delete")
    wait_for(
        lambda: (
            page.evaluate("document.activeElement.classList.contains('span-item')")
            and "regime" in page.evaluate("document.activeElement.textContent")
        ),
        what="focus on the next span after the delete",
    )
