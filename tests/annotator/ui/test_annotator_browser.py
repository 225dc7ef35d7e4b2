"""The annotator page in a real Chromium: select, label, reload, offsets, overlap, relabel, delete, undo, done."""

from __future__ import annotations

import os

import pytest

from annotator.annotations.models import Span
from annotator.projects.models import Assignment, Label
from tests.annotator.projects.factories import PASSWORD, make_article, make_project, make_user
from tests.annotator.ui.text_selection import select_text, u16
from tests.conftest import browser_login, wait_for

# Playwright runs an event loop in this thread; the session browser may start before the test DB is set up.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRICKY = "👍🏽 e\u0301 \r\n مرحبا and the regime's 𝐛𝐨𝐥𝐝 claim.\r\nSecond line: liberate"


@pytest.fixture
def world(transactional_db, seed_article):
    title, body = seed_article
    owner, annotator = make_user("owner"), make_user("ann")
    articles = [
        make_article(text=body, title=title),
        make_article(text=TRICKY, title="Tricky text"),
        make_article(text="<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned=2\"> plain words",
                     title="<b>Hostile</b> title"),
    ]  # fmt: skip
    project = make_project(owner=owner, articles=articles, annotators=[annotator], name="Syria framing")
    project.guidelines = "# Mark framing\n\nUse **loaded term** for evaluative words.<script>window.__pwned=3</script>"
    project.save()
    labels = {label.name: label for label in Label.objects.filter(project=project)}
    return project, articles, annotator, labels


def open_article(page, live_server, project, article):
    page.goto(f"{live_server.url}/projects/{project.slug}/articles/{article.pk}/")
    page.wait_for_selector("body[data-annotator-ready='1']")


def wait_saved(page):
    page.wait_for_selector("[data-testid=save-status][data-state=saved]")


def drawn(page, label: str):
    return page.eval_on_selector_all(
        f'[data-testid=article-text] [data-span-label="{label}"]',
        "els => els.map(e => [Number(e.dataset.spanStart), Number(e.dataset.spanEnd), e.textContent])",
    )


def test_select_with_mouse_label_with_hotkey_and_reload(page, live_server, screenshot, world, seed_article):
    project, articles, annotator, labels = world
    _, body = seed_article
    browser_login(page, live_server, annotator.username, PASSWORD)
    assert project.name in page.inner_text("[data-testid=project-list]")
    open_article(page, live_server, project, articles[0])
    start = body.index("Takfiri")
    # Drag across "Takfiri" with the mouse: from just inside the word to its end.
    box = page.evaluate(
        """([s, e]) => {
            const el = document.querySelector('[data-testid=article-text]');
            const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT); const n = w.nextNode();
            const r = document.createRange(); r.setStart(n, s); r.setEnd(n, e);
            const b = r.getClientRects()[0]; return [b.left, b.top, b.right, b.bottom];
        }""",
        [u16(body, start), u16(body, start + len("Takfiri"))],
    )
    y = (box[1] + box[3]) / 2
    page.mouse.move(box[0] + 2, y)
    page.mouse.down()
    page.mouse.move(box[2] - 2, y, steps=5)
    page.mouse.up()
    page.keyboard.press("3")  # actor label
    assert drawn(page, "actor label") == [[start, start + 7, "Takfiri"]]  # snapped to the whole word, at once
    wait_saved(page)
    span = Span.objects.get()
    assert (span.start_char, span.end_char, span.text, span.annotator_id) == (start, start + 7, "Takfiri", annotator.pk)
    page.reload()
    page.wait_for_selector("body[data-annotator-ready='1']")
    assert drawn(page, "actor label") == [[body.index("Takfiri"), body.index("Takfiri") + 7, "Takfiri"]]
    page.wait_for_selector("[data-testid=span-list] .span-text:has-text('Takfiri')")
    # A second, overlapping and a nested span, for the screenshot and the drawing.
    a = body.index("Takfiri Daesh terrorists")
    select_text(page, u16(body, a), u16(body, a + len("Takfiri Daesh terrorists")))
    page.click(f"#labels .label-btn[data-label-id='{labels['loaded term'].pk}']")
    b = body.index("liberated dozens")
    select_text(page, u16(body, b), u16(body, b + len("liberated")))
    page.keyboard.press("1")
    wait_saved(page)
    assert Span.objects.count() == 3
    path = screenshot("annotator_page")
    assert path.exists() and path.stat().st_size > 10_000


def test_emoji_crlf_combining_rtl_offsets_round_trip(page, live_server, world):
    project, articles, annotator, labels = world
    browser_login(page, live_server, annotator.username, PASSWORD)
    open_article(page, live_server, project, articles[1])
    helpers = page.evaluate(
        """(t) => { const f = window.framescope; const out = [];
            for (let cp = 0; cp <= [...t].length; cp++) out.push(f.utf16ToCp(t, f.cpToUtf16(t, cp)) === cp);
            return [out.every(Boolean), f.cpToUtf16(t, 2), f.utf16ToCp(t, 4), [...t].length, t.length]; }""",
        TRICKY,
    )
    assert helpers == [True, 4, 2, len(TRICKY), len(TRICKY.encode("utf-16-le")) // 2]
    targets = [
        ("e\u0301", "euphemism"),
        ("مرحبا", "actor label"),
        ("𝐛𝐨𝐥𝐝", "scare quotes"),
        ("liberate", "loaded term"),
    ]
    for word, label in targets:
        start = TRICKY.index(word)
        select_text(page, u16(TRICKY, start), u16(TRICKY, start + len(word)))
        page.keyboard.press(labels[label].hotkey)
    wait_saved(page)
    got = {s.text: (s.start_char, s.end_char, s.label.name) for s in Span.objects.select_related("label")}
    for word, label in targets:
        start = TRICKY.index(word)
        assert got[word] == (start, start + len(word), label)
    page.reload()
    page.wait_for_selector("body[data-annotator-ready='1']")
    for word, label in targets:
        start = TRICKY.index(word)
        assert drawn(page, label) == [[start, start + len(word), word]]


def test_overlap_relabel_note_delete_undo_redo(page, live_server, world, seed_article):
    project, articles, annotator, labels = world
    _, body = seed_article
    browser_login(page, live_server, annotator.username, PASSWORD)
    open_article(page, live_server, project, articles[0])
    outer = body.index("Takfiri Daesh terrorists")
    inner = body.index("Daesh terrorists as they")
    select_text(page, u16(body, outer), u16(body, outer + len("Takfiri Daesh terrorists")))
    page.keyboard.press("1")
    select_text(page, u16(body, inner), u16(body, inner + len("Daesh terrorists as they")))
    page.keyboard.press("3")
    wait_saved(page)
    # Overlapping spans: both drawn, crossing pieces keep their own offsets.
    assert {tuple(x[:2]) for x in drawn(page, "loaded term")} == {(outer, outer + 24)}
    assert {tuple(x[:2]) for x in drawn(page, "actor label")} == {(inner, inner + 24)}
    assert "".join(x[2] for x in drawn(page, "actor label")) == "Daesh terrorists as they"
    # Relabel + note through the popover.
    page.click(f'[data-span-label="actor label"][data-span-start="{inner}"] >> nth=-1')
    page.wait_for_selector("#span-popover:not([hidden])")
    page.fill("#pop-note", "<img src=x onerror=window.__pwned=9> is a group label")
    page.click("#pop-save-note")
    page.click(f'[data-span-label="actor label"][data-span-start="{inner}"] >> nth=-1')
    page.click("#pop-labels .label-btn:has-text('euphemism')")
    wait_saved(page)
    span = Span.objects.get(start_char=inner)
    assert (span.label_id, span.note) == (
        labels["euphemism"].pk,
        "<img src=x onerror=window.__pwned=9> is a group label",
    )
    # The side list is patched just after the frame that drew the change.
    page.wait_for_selector("[data-testid=span-list] .span-note:has-text('onerror')")
    # Delete, then undo (comes back, saved again), then redo (gone again).
    page.click(f'[data-span-label="euphemism"][data-span-start="{inner}"] >> nth=-1')
    page.click("[data-testid=delete-span]")
    assert drawn(page, "euphemism") == []
    wait_saved(page)
    assert not Span.objects.filter(start_char=inner).exists()
    page.keyboard.press("Control+z")
    assert len(drawn(page, "euphemism")) >= 1
    wait_saved(page)
    restored = Span.objects.get(start_char=inner)
    assert (restored.label_id, restored.note) == (labels["euphemism"].pk, span.note)
    page.keyboard.press("Control+Shift+z")
    wait_saved(page)
    assert not Span.objects.filter(start_char=inner).exists()
    # Undo everything: re-create, relabel, note, then both creates. Nothing is left.
    for _ in range(5):
        page.keyboard.press("Control+z")
    wait_saved(page)
    assert list(Span.objects.values_list("start_char", flat=True)) == []
    assert page.evaluate("window.__pwned") is None


def test_done_goes_to_next_article_and_progress(page, live_server, world):
    project, articles, annotator, _ = world
    browser_login(page, live_server, annotator.username, PASSWORD)
    open_article(page, live_server, project, articles[0])
    assert "0 of 3 done" in page.inner_text("[data-testid=progress]")
    page.click("[data-testid=done]")
    page.wait_for_url(f"**/projects/{project.slug}/articles/{articles[1].pk}/")
    page.wait_for_selector("body[data-annotator-ready='1']")
    assert "1 of 3 done" in page.inner_text("[data-testid=progress]")
    assert Assignment.objects.get(annotator=annotator, article=articles[0]).status == "done"
    page.click("[data-testid=skip]")
    page.wait_for_url(f"**/articles/{articles[2].pk}/")
    assert Assignment.objects.get(annotator=annotator, article=articles[1]).status == "skipped"


def test_keyboard_only_path(page, live_server, world):
    project, articles, annotator, labels = world
    browser_login(page, live_server, annotator.username, PASSWORD)
    open_article(page, live_server, project, articles[0])
    text = articles[0].text
    for _ in range(40):
        if page.evaluate("document.activeElement.dataset.testid") == "article-text":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.testid") == "article-text"
    # Caret starts at 0; word-jump twice, then select one word with Ctrl+Shift+Right.
    page.keyboard.press("Control+ArrowRight")
    page.keyboard.press("Control+ArrowRight")
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("2")
    wait_saved(page)
    span = Span.objects.get()
    word = text.split()[2].strip(",")  # the third word; snapping trims the comma after it
    assert (span.text, span.start_char) == (word, text.index(word))
    assert span.label_id == labels["euphemism"].pk
    # Open it from the span list with the keyboard, relabel with a hotkey.
    page.focus("#span-list .span-item")
    page.keyboard.press("Enter")
    page.wait_for_selector("#span-popover:not([hidden])")
    page.keyboard.press("4")
    wait_saved(page)
    span.refresh_from_db()
    assert span.label_id == labels["attribution/hedge"].pk
    # Guidelines are one key away and sanitised.
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    assert page.is_visible("#guidelines")
    assert "Mark framing" in page.inner_text("#guidelines")
    assert page.evaluate("document.querySelectorAll('#guidelines script').length") == 0


def test_script_in_article_stays_inert(page, live_server, world):
    project, articles, annotator, _ = world
    browser_login(page, live_server, annotator.username, PASSWORD)
    open_article(page, live_server, project, articles[2])
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    body = page.inner_text("[data-testid=article-text]")
    assert "<script>window.__pwned = 1</script>" in body
    assert "<b>Hostile</b> title" in page.inner_text("[data-testid=article-title]")
    # Only paragraph blocks, no element made from the article's markup.
    assert page.evaluate("document.querySelectorAll('[data-testid=article-text] :not(span.blk)').length") == 0
    project_page = f"{live_server.url}/projects/{project.slug}/"
    page.goto(project_page)
    assert page.evaluate("window.__pwned") is None
    assert "Use loaded term for evaluative words." in page.inner_text("[data-testid=guidelines]")


def test_failed_save_is_queued_and_retried(page, live_server, world):
    project, articles, annotator, _ = world
    browser_login(page, live_server, annotator.username, PASSWORD)
    open_article(page, live_server, project, articles[1])
    calls = {"n": 0}

    def flaky(route):
        calls["n"] += 1
        if calls["n"] <= 2:
            route.fulfill(status=503, body='{"detail": "Service unavailable."}', content_type="application/json")
        else:
            route.continue_()

    page.route("**/spans/create/", flaky)
    start = TRICKY.index("liberate")
    select_text(page, u16(TRICKY, start), u16(TRICKY, start + 8))
    page.keyboard.press("1")
    page.wait_for_selector("[data-testid=save-status][data-state=error]")
    assert "retrying" in page.inner_text("[data-testid=save-status]")
    stored = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('framescope:outbox'))")
    assert stored, "the unsaved change is kept in localStorage"
    assert drawn(page, "loaded term") == [[start, start + 8, "liberate"]]
    page.wait_for_selector("[data-testid=save-status][data-state=saved]", timeout=15_000)
    wait_for(lambda: Span.objects.filter(text="liberate").count() == 1, timeout=5, what="the retried span")
    assert calls["n"] == 3
