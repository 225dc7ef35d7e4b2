"""The curator flow in a real Chromium: open an article with two annotators' spans, accept one, bulk accept the
agreed ones, mark adjudicated; then the gold spans in the database; and the agreement page renders its chart.
Then the gold row itself: draw gold spans over a selection (mouse and keyboard), relabel, move boundaries by a
token and from a new selection, note, delete, with exact code-point offsets after an emoji, CRLF and a combining
accent; and an annotator refused."""

from __future__ import annotations

import os

import pytest

from annotator.annotations import curation
from annotator.annotations.models import Adjudication, Layer, Span
from annotator.projects.services import project_add_articles
from tests.annotator.annotations.helpers import FAST_HASHERS, annotate_standard, make_world
from tests.annotator.projects.factories import PASSWORD, make_article
from tests.annotator.ui.text_selection import select_text, u16
from tests.conftest import browser_login, wait_for

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
    page.wait_for_selector("body[data-curation-ready='1']")  # the rows are drawn by curation.js
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


# An emoji with a skin tone (2 code points, 4 UTF-16 units), CRLF and a combining accent before the spans:
# a code-point / UTF-16 slip anywhere would move every offset after them.
EMOJI_TEXT = "👍🏽 Fans cheered.\r\nThe re\u0301gime's so-called reforms liberate no one."


@pytest.fixture
def emoji_article(world):
    article = make_article(text=EMOJI_TEXT, title="Emoji story", outlet=world.articles[0].outlet)
    project_add_articles(project=world.project, by=world.owner, article_ids=[article.pk])
    return article


def select_gold_text(page, word: str, *, nth: int = 0) -> None:
    """Select `word` in the gold row's text as a mouse drag would (a DOM range over UTF-16 offsets)."""
    start = -1
    for _ in range(nth + 1):
        start = EMOJI_TEXT.index(word, start + 1)
    select_text(page, u16(EMOJI_TEXT, start), u16(EMOJI_TEXT, start + len(word)), testid="gold-text")


def gold_rows(article):
    spans = Span.objects.filter(article=article, layer=Layer.GOLD).select_related("label").order_by("start_char")
    return [(s.start_char, s.end_char, s.text, s.label.name) for s in spans]


def at(word: str) -> tuple[int, int]:
    start = EMOJI_TEXT.index(word)
    return start, start + len(word)


def wait_gold_saved(page, n_spans: int) -> None:
    page.wait_for_selector("[data-testid=gold-status][data-state=saved]")
    wait_for(lambda: page.locator("[data-testid=gold-span]").count() == n_spans, what=f"{n_spans} gold span(s)")


def test_curator_draws_edits_and_deletes_gold_spans(page, live_server, screenshot, world, emoji_article):
    browser_login(page, live_server, world.curator.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{world.project.slug}/curate/{emoji_article.pk}/")
    page.wait_for_selector("body[data-curation-ready='1']")
    assert page.inner_text("[data-testid=gold-list]") == "No gold spans yet."

    # Draw: select, then a label's number key; and select, then click a label button.
    select_gold_text(page, "so-called")
    page.keyboard.press("1")
    wait_gold_saved(page, 1)
    select_gold_text(page, "reforms")
    page.click(f"#gold-labels [data-label-id='{world.labels['actor label'].pk}']")
    wait_gold_saved(page, 2)
    (s, e), (rs, re_) = at("so-called"), at("reforms")
    assert gold_rows(emoji_article) == [(s, e, "so-called", "loaded term"), (rs, re_, "reforms", "actor label")]
    drawn = Span.objects.get(article=emoji_article, layer=Layer.GOLD, text="so-called")
    assert drawn.provenance == {"from_spans": [], "annotators": [], "by": world.curator.pk, "action": "create"}
    assert "drawn by curator" in page.inner_text(f"[data-testid=gold-span][data-span-id='{drawn.pk}']")

    # The same extent and label again is refused with a clear message, and nothing is added.
    select_gold_text(page, "so-called")
    page.keyboard.press("1")
    page.wait_for_selector("[data-testid=gold-status][data-state=error]")
    assert "already a gold span with this label" in page.inner_text("[data-testid=gold-status]")
    assert len(gold_rows(emoji_article)) == 2

    # Edit: click the span in the text, relabel with a button, then with a number key.
    page.click(f"[data-testid=gold-text] .ann[data-span-key='{drawn.pk}']")
    page.wait_for_selector(f"[data-testid=gold-editor][data-span-id='{drawn.pk}']")
    page.click(f"#gold-editor-labels [data-label-id='{world.labels['scare quotes'].pk}']")
    page.wait_for_selector("#gold-editor-labels .current:has-text('scare quotes')")
    page.keyboard.press("2")
    page.wait_for_selector("#gold-editor-labels .current:has-text('euphemism')")
    assert gold_rows(emoji_article)[0] == (s, e, "so-called", "euphemism")

    # Boundaries by a token: start right ("-called"), back left, end right ("so-called reforms").
    page.keyboard.press("]")
    page.wait_for_selector("[data-testid=gold-editor-text]:text-is('-called')")
    page.click("[data-testid=start-left]")
    page.wait_for_selector("[data-testid=gold-editor-text]:text-is('so-called')")
    page.keyboard.press("}")
    page.wait_for_selector("[data-testid=gold-editor-text]:text-is('so-called reforms')")
    assert gold_rows(emoji_article)[0] == (s, re_, "so-called reforms", "euphemism")

    # Boundaries from a new selection, across the combining accent: "régime's so-called".
    select_gold_text(page, "re\u0301gime's so-called")
    page.click("[data-testid=apply-selection]")
    page.wait_for_selector("[data-testid=gold-editor-text]:text-is('re\u0301gime\\'s so-called')")
    start = EMOJI_TEXT.index("re\u0301gime")
    assert gold_rows(emoji_article)[0] == (start, e, "re\u0301gime's so-called", "euphemism")
    assert (
        EMOJI_TEXT[start:e] == "re\u0301gime's so-called" and start == 22
    )  # emoji 2 + " Fans cheered." 14 + CRLF 2 + "The " 4 code points

    # A note (hostile text stays text).
    page.fill("[data-testid=gold-note]", '<img src=x onerror="window.__pwned=1"> check wording')
    page.click("[data-testid=gold-save-note]")
    page.wait_for_selector("[data-testid=gold-list] .span-note:has-text('check wording')")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("[data-testid=gold-list] img").count() == 0

    # Delete the other span from its list entry.
    other = Span.objects.get(article=emoji_article, layer=Layer.GOLD, text="reforms")
    page.click(f"[data-testid=gold-span][data-span-id='{other.pk}'] button")
    page.wait_for_selector(f"[data-testid=gold-editor][data-span-id='{other.pk}']")
    page.click("[data-testid=gold-delete]")
    wait_gold_saved(page, 1)
    screenshot("curation_gold_edit")

    edited = Span.objects.get(pk=drawn.pk)
    assert gold_rows(emoji_article) == [(start, e, "re\u0301gime's so-called", "euphemism")]
    assert edited.note == '<img src=x onerror="window.__pwned=1"> check wording'
    assert edited.provenance["action"] == "edit" and edited.provenance["from_spans"] == []
    assert edited.provenance["edited_by"] == world.curator.pk
    # The page was never reloaded: the same document shows the state the database holds.
    page.reload()
    page.wait_for_selector("body[data-curation-ready='1']")
    assert page.locator("[data-testid=gold-text] .ann").all_inner_texts() == ["re\u0301gime's so-called"]


def test_keyboard_only_draw_and_delete(page, live_server, world):
    browser_login(page, live_server, world.curator.username, PASSWORD)
    article = world.articles[0]
    page.goto(f"{live_server.url}/projects/{world.project.slug}/curate/{article.pk}/")
    page.wait_for_selector("body[data-curation-ready='1']")
    page.focus("[data-testid=gold-text]")
    page.keyboard.press("Control+ArrowRight")  # past "Syrian"
    page.keyboard.press("Control+Shift+ArrowRight")  # select " troops"
    page.keyboard.press("3")
    wait_for(lambda: page.locator("[data-testid=gold-span]").count() == 1, what="the drawn gold span")
    assert gold(world) == [("troops", "actor label")]
    page.keyboard.press("Delete")  # the new span is the chosen one
    page.wait_for_selector("[data-testid=gold-list] li.muted")
    assert gold(world) == []


def test_undo_and_redo_of_gold_changes_including_a_deleted_accepted_span(page, live_server, world):
    s1, s2 = world.spans["liberate1"], world.spans["liberate2"]
    accepted = curation.gold_span_accept(project=world.project, span=s1, by=world.curator)
    curation.gold_span_accept(project=world.project, span=s2, by=world.curator)
    browser_login(page, live_server, world.curator.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{world.project.slug}/curate/{world.articles[0].pk}/")
    page.wait_for_selector("body[data-curation-ready='1']")

    def db_is(expected):
        wait_for(lambda: gold(world) == expected, what=f"gold spans {expected}")
        page.wait_for_selector("[data-testid=gold-status][data-state=saved]")

    def source_states():
        return [(Span.objects.get(pk=s.pk).provenance.get("curation") or {}).get("status") for s in (s1, s2)]

    assert page.is_disabled("[data-testid=gold-undo]") and page.is_disabled("[data-testid=gold-redo]")
    # draw " troops" by keyboard, relabel it with a key; undo the relabel, then the drawing; redo the drawing
    page.focus("[data-testid=gold-text]")
    page.keyboard.press("Control+ArrowRight")
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("3")
    db_is([("troops", "actor label"), ("liberate", "loaded term")])
    page.keyboard.press("1")
    db_is([("troops", "loaded term"), ("liberate", "loaded term")])
    page.keyboard.press("Control+z")
    db_is([("troops", "actor label"), ("liberate", "loaded term")])
    page.keyboard.press("Control+z")
    db_is([("liberate", "loaded term")])
    page.keyboard.press("Control+Shift+z")
    db_is([("troops", "actor label"), ("liberate", "loaded term")])

    # delete the accepted gold span: its sources go back to undecided; undo restores it with both sources
    page.click(f"[data-testid=gold-span][data-span-id='{accepted.pk}'] button")
    page.click("[data-testid=gold-delete]")
    db_is([("troops", "actor label")])
    assert source_states() == [None, None]
    assert page.locator(f"[data-testid=annotator-span][data-span-id='{s1.pk}'] .curation-pill").count() == 0
    assert page.is_enabled("[data-testid=gold-undo]") and page.is_disabled("[data-testid=gold-redo]")
    page.click("[data-testid=gold-undo]")
    db_is([("troops", "actor label"), ("liberate", "loaded term")])
    assert page.is_enabled("[data-testid=gold-redo]")
    restored = Span.objects.get(project=world.project, layer=Layer.GOLD, text="liberate")
    assert restored.pk != accepted.pk and restored.provenance["from_spans"] == sorted([s1.pk, s2.pk])
    assert restored.provenance["restored_by"] == world.curator.pk and source_states() == ["accepted", "accepted"]
    page.wait_for_selector(f"[data-testid=annotator-span][data-span-id='{s1.pk}'].curation-accepted .curation-pill")
    assert "restored" in page.inner_text(f"[data-testid=gold-span][data-span-id='{restored.pk}']")
    # redo deletes the restored span (its new id), and undo brings it back once more
    page.click("[data-testid=gold-redo]")
    db_is([("troops", "actor label")])
    page.click("[data-testid=gold-undo]")
    db_is([("troops", "actor label"), ("liberate", "loaded term")])
    assert source_states() == ["accepted", "accepted"]
    # older history still reaches the right span: undo the redone drawing of " troops" (a new id since)
    page.click("[data-testid=gold-undo]")
    db_is([("liberate", "loaded term")])
    assert page.is_disabled("[data-testid=gold-undo]")
    page.keyboard.press("Control+z")
    page.wait_for_selector(".toast:has-text('Nothing to undo.')")
    assert gold(world) == [("liberate", "loaded term")]


def test_annotator_cannot_edit_gold_through_the_api(page, live_server, world):
    target = world.spans["claimed2"]
    browser_login(page, live_server, world.ann1.username, PASSWORD)
    response = page.goto(f"{live_server.url}/projects/{world.project.slug}/curate/{world.articles[0].pk}/")
    assert response.status == 403
    page.goto(f"{live_server.url}/projects/{world.project.slug}/")
    status, body = page.evaluate(
        """async ([url, body]) => {
            const token = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
            const r = await fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
                headers: {"Content-Type": "application/json", "X-CSRFToken": token}});
            return [r.status, await r.json()];
        }""",
        [
            f"/api/v1/projects/{world.project.slug}/curate/articles/{world.articles[0].pk}/gold/",
            {"label": target.label_id, "start_char": target.start_char, "end_char": target.end_char,
             "text": target.text},
        ],
    )  # fmt: skip
    assert status == 403 and body["detail"]
    assert Span.objects.filter(project=world.project, layer=Layer.GOLD).count() == 0


def test_selection_stays_in_its_row_and_the_agreed_count_follows_the_gold_row(page, live_server, world):
    browser_login(page, live_server, world.curator.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{world.project.slug}/curate/{world.articles[0].pk}/")
    page.wait_for_selector("body[data-curation-ready='1']")
    assert page.inner_text("#agreed-open") == "2"  # liberate, terrorists
    # A drag that starts in ann1's row and ends in the gold row: confined to ann1's row, so nothing is drawn.
    text = world.articles[0].text
    start, end = text.index("terrorists"), text.index("regime")
    page.evaluate(
        """([s, e]) => {
            const locate = (root, u) => { const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT); let seen = 0;
                for (let n = w.nextNode(); n; n = w.nextNode()) { if (seen + n.length >= u) return [n, u - seen];
                seen += n.length; } };
            const row = document.querySelector('.row-text[data-row="0"]');
            const gold = document.querySelector('[data-testid=gold-text]');
            window.getSelection().setBaseAndExtent(...locate(row, s), ...locate(gold, e));
        }""",
        [start, end],
    )
    wait_for(
        lambda: page.evaluate("document.querySelector('.row-text[data-row=\"0\"]').contains(getSelection().focusNode)"),
        what="the selection confined to ann1's row",
    )
    page.keyboard.press("1")
    page.wait_for_selector(".toast:has-text('gold row')")
    assert gold(world) == []
    # Drawing an agreed span in the gold row lowers "Accept all agreed (n)"; undoing it raises it again.
    select_text(page, start, start + len("terrorists"), testid="gold-text")
    page.keyboard.press("1")
    wait_for(lambda: gold(world) == [("terrorists", "loaded term")], what="the gold span")
    wait_for(lambda: page.inner_text("#agreed-open") == "1", what="the count after drawing")
    page.keyboard.press("Control+z")
    wait_for(lambda: gold(world) == [], what="the undo")
    wait_for(lambda: page.inner_text("#agreed-open") == "2", what="the count after the undo")
    page.click("[data-testid=bulk-accept]")
    page.wait_for_selector("text=Accepted 2 agreed span(s)")
    assert page.inner_text("#agreed-open") == "0"
    # Long span lists scroll inside their row; the verdict buttons say which span of whom they decide on.
    lists = page.eval_on_selector_all(".row-spans .spans", "els => els.map(e => getComputedStyle(e).overflowY)")
    assert lists == ["auto", "auto"]
    regime = world.spans["regime1"]
    accept = page.locator(f"[data-testid=annotator-span][data-span-id='{regime.pk}'] [data-testid=accept]")
    assert (
        accept.get_attribute("aria-label")
        == f"Accept ann1's loaded term “regime” ({regime.start_char}–{regime.end_char})"
    )


def test_a_gold_span_another_curator_changed_is_shown_as_it_is_now(page, live_server, world):
    text = world.articles[0].text
    start = text.index("liberate")
    drawn = curation.gold_span_create(
        project=world.project, article=world.articles[0], by=world.owner, label_id=world.labels["loaded term"].pk,
        start_char=start, end_char=start + 8, text="liberate",
    )  # fmt: skip
    browser_login(page, live_server, world.curator.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{world.project.slug}/curate/{world.articles[0].pk}/")
    page.wait_for_selector("body[data-curation-ready='1']")
    # The owner relabels it elsewhere; this page, which still shows "loaded term", tries to add a note.
    curation.gold_span_update(project=world.project, span=drawn, by=world.owner, label_id=world.labels["euphemism"].pk)
    page.click(f"[data-testid=gold-list] [data-span-key='{drawn.pk}']")
    page.fill("[data-testid=gold-note]", "mine")
    page.click("[data-testid=gold-save-note]")
    page.wait_for_selector(".toast.error:has-text('changed (now euphemism')")
    page.wait_for_selector(f".toast.error:has-text('by {world.owner.username} at')")
    page.wait_for_selector("[data-testid=gold-list] .span-label:has-text('euphemism')")
    drawn.refresh_from_db()
    assert (drawn.note, drawn.label.name) == ("", "euphemism")
    # Then the owner deletes it; deleting it here says so and the row shows no gold span.
    curation.gold_span_delete(project=world.project, span=drawn, by=world.owner)
    page.click("[data-testid=gold-list] [data-span-key]")
    page.click("[data-testid=gold-delete]")
    page.wait_for_selector(f".toast.error:has-text('was deleted by {world.owner.username}')")
    page.wait_for_selector("[data-testid=gold-list] li.muted")


def test_coming_back_to_the_page_shows_another_curators_gold_changes(page, live_server, world):
    text = world.articles[0].text
    start = text.index("regime")
    browser_login(page, live_server, world.curator.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{world.project.slug}/curate/{world.articles[0].pk}/")
    page.wait_for_selector("body[data-curation-ready='1']")
    # This curator's own edit does not count as a change made elsewhere.
    select_text(page, start, start + len("regime"), testid="gold-text")
    page.keyboard.press("1")
    wait_gold_saved(page, 1)
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(500)
    assert page.locator(".toast.error").count() == 0
    # The owner draws a span in another window; when this page is looked at again it shows it, and says by whom.
    lib = text.index("liberate")
    curation.gold_span_create(
        project=world.project, article=world.articles[0], by=world.owner, label_id=world.labels["euphemism"].pk,
        start_char=lib, end_char=lib + 8, text="liberate",
    )  # fmt: skip
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_selector(f".toast.error:has-text('changed elsewhere (by {world.owner.username})')")
    wait_gold_saved(page, 2)
