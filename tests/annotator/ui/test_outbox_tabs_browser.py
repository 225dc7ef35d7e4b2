"""The annotator page in several tabs of one browser (real Chromium): one outbox per user and project that every tab
shares, through failing and recovering networks; undo of spans this browser did not make; and a page whose copy of
a span went stale (changed in another browser) showing the server's state and who changed it."""

from __future__ import annotations

import os

import pytest

from annotator.annotations.models import Layer, Span
from annotator.annotations.services import span_create, span_delete
from annotator.projects.models import Label
from tests.annotator.projects.factories import PASSWORD, make_article, make_project, make_user
from tests.annotator.ui.text_selection import select_text, u16
from tests.conftest import browser_login, wait_for

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = "Syrian troops liberate areas from Takfiri terrorists.\nThe regime claimed a victory over the rebels."


@pytest.fixture
def world(transactional_db):
    owner, annotator = make_user("tabs-owner"), make_user("tabs-ann")
    article = make_article(text=TEXT, title="Tabs")
    project = make_project(owner=owner, articles=[article], annotators=[annotator], name="Tabs study")
    labels = {label.name: label for label in Label.objects.filter(project=project)}
    return project, article, annotator, labels


def open_article(page, live_server, project, article):
    page.goto(f"{live_server.url}/projects/{project.slug}/articles/{article.pk}/")
    page.wait_for_selector("body[data-annotator-ready='1']")


def mark(page, word: str, key: str) -> None:
    start = TEXT.index(word)
    select_text(page, u16(TEXT, start), u16(TEXT, start + len(word)))
    page.keyboard.press(key)


def drawn(page) -> list[tuple[str, str]]:
    """(text, label) of the user's spans as the page models them, sorted."""
    return sorted(
        tuple(x)
        for x in page.evaluate(
            "[...window.framescope.annotator.spans.values()].map(s => [s.text, "
            "window.framescope.annotator.labelsById.get(s.label_id).name])"
        )
    )


def stored(annotator) -> list[tuple[str, str]]:
    spans = Span.objects.filter(annotator=annotator, layer=Layer.ANNOTATOR).select_related("label")
    return sorted((s.text, s.label.name) for s in spans)


def queued(page) -> int:
    return page.evaluate("Object.keys(localStorage).filter(k => k.includes(':item:')).length")


def click_span(page, word: str) -> None:
    start = TEXT.index(word)
    page.click(f'[data-testid=article-text] .ann[data-span-start="{start}"] >> nth=-1')
    page.wait_for_selector("#span-popover:not([hidden])")


def test_two_tabs_share_one_outbox_through_failing_and_recovering_networks(page, live_server, world):
    project, article, annotator, labels = world
    browser_login(page, live_server, annotator.username, PASSWORD)
    tab_a, tab_b = page, page.context.new_page()
    open_article(tab_a, live_server, project, article)
    open_article(tab_b, live_server, project, article)
    # Tab A's requests fail (its network is down); tab B's go through.
    tab_a.route("**/spans/**", lambda route: route.abort())
    mark(tab_a, "liberate", "1")
    mark(tab_a, "regime", "3")
    tab_a.wait_for_selector("[data-testid=save-status][data-state=error]")
    assert queued(tab_a) == 2 and stored(annotator) == []
    # Tab B draws tab A's changes at once, and keeps them when it saves a span of its own.
    wait_for(lambda: drawn(tab_b) == [("liberate", "loaded term"), ("regime", "actor label")], what="tab B in sync")
    mark(tab_b, "terrorists", "1")
    expected = [("liberate", "loaded term"), ("regime", "actor label"), ("terrorists", "loaded term")]
    wait_for(lambda: stored(annotator) == expected, what="all three spans saved by tab B")
    tab_a.wait_for_selector("[data-testid=save-status][data-state=saved]")
    assert drawn(tab_a) == expected and queued(tab_a) == 0
    wait_for(
        lambda: tab_a.evaluate("document.querySelectorAll('#article-text .ann.pending').length") == 0,
        what="tab A's spans drawn as saved",
    )

    # The whole browser goes offline: changes in both tabs wait in the one outbox.
    tab_a.unroute("**/spans/**")
    page.context.set_offline(True)
    click_span(tab_a, "terrorists")
    tab_a.click("[data-testid=delete-span]")
    # Tab B's own undo (of its "terrorists") is refused: tab A deleted that span meanwhile.
    wait_for(lambda: ("terrorists", "loaded term") not in drawn(tab_b), what="tab B sees the delete")
    tab_b.keyboard.press("Control+z")
    tab_b.wait_for_selector(".toast.error:has-text('no longer on this page')")
    click_span(tab_b, "liberate")
    tab_b.click("#pop-labels .label-btn:has-text('euphemism')")
    mark(tab_a, "rebels", "4")
    wait_for(lambda: queued(tab_a) == 3, what="three changes queued")
    tab_a.close()  # the tab that made two of them is gone; its changes are not
    page_b_expected = [("liberate", "euphemism"), ("rebels", "attribution/hedge"), ("regime", "actor label")]
    assert drawn(tab_b) == page_b_expected
    assert stored(annotator) == expected
    tab_b.context.set_offline(False)
    wait_for(lambda: stored(annotator) == page_b_expected, what="the queued changes saved after the network returned")
    tab_b.wait_for_selector("[data-testid=save-status][data-state=saved]")
    tab_b.reload()
    tab_b.wait_for_selector("body[data-annotator-ready='1']")
    assert drawn(tab_b) == page_b_expected and queued(tab_b) == 0


def test_undo_a_delete_of_a_span_made_elsewhere(page, live_server, world):
    project, article, annotator, labels = world
    start = TEXT.index("Takfiri")
    imported, _ = span_create(
        project=project, article=article, user=annotator, label_id=labels["actor label"].pk, start_char=start,
        end_char=start + 7, text="Takfiri", note="from the import",
    )  # fmt: skip
    assert imported.client_id is None
    browser_login(page, live_server, annotator.username, PASSWORD)
    open_article(page, live_server, project, article)
    click_span(page, "Takfiri")
    page.click("[data-testid=delete-span]")
    wait_for(lambda: not Span.objects.filter(layer=Layer.ANNOTATOR).exists(), what="the delete")
    page.keyboard.press("Control+z")
    page.wait_for_selector("[data-testid=save-status][data-state=saved]")
    restored = wait_for(lambda: Span.objects.filter(layer=Layer.ANNOTATOR).first(), what="the re-create")
    assert (restored.text, restored.label_id, restored.note) == ("Takfiri", labels["actor label"].pk, "from the import")
    assert restored.client_id is not None and restored.pk != imported.pk
    page.keyboard.press("Control+Shift+z")
    wait_for(lambda: not Span.objects.filter(layer=Layer.ANNOTATOR).exists(), what="the redo")
    page.keyboard.press("Control+z")
    wait_for(lambda: Span.objects.filter(layer=Layer.ANNOTATOR).count() == 1, what="the second re-create")
    page.wait_for_selector("[data-testid=save-status][data-state=saved]")
    assert page.locator(".toast.error").count() == 0


def test_stale_page_shows_the_servers_state_and_who_changed_it(page, live_server, world):
    project, article, annotator, labels = world
    start = TEXT.index("regime")
    span, _ = span_create(
        project=project, article=article, user=annotator, label_id=labels["actor label"].pk, start_char=start,
        end_char=start + 6, text="regime",
    )  # fmt: skip
    browser_login(page, live_server, annotator.username, PASSWORD)
    open_article(page, live_server, project, article)
    # Another browser deletes the span; this page still shows it and tries to relabel it.
    span_delete(span=span, user=annotator)
    click_span(page, "regime")
    page.click("#pop-labels .label-btn:has-text('loaded term')")
    page.wait_for_selector(".toast.error:has-text('it was deleted by you (in another tab or window)')")
    page.wait_for_selector("[data-testid=save-status][data-state=refused]")
    wait_for(lambda: drawn(page) == [], what="the page to show the server's spans")
    # Another browser marks "liberate"; this page, which does not show it, marks it too: stored once, shown once.
    lib = TEXT.index("liberate")
    twin, _ = span_create(
        project=project, article=article, user=annotator, label_id=labels["loaded term"].pk, start_char=lib,
        end_char=lib + 8, text="liberate",
    )  # fmt: skip
    mark(page, "liberate", "1")
    page.wait_for_selector(".toast.error:has-text('You already marked “liberate” with loaded term')")
    wait_for(lambda: drawn(page) == [("liberate", "loaded term")], what="one liberate")
    assert list(Span.objects.filter(layer=Layer.ANNOTATOR).values_list("pk", flat=True)) == [twin.pk]
    ids = "[...window.framescope.annotator.spans.values()].map(s => s.id)"
    wait_for(lambda: page.evaluate(ids) == [twin.pk], what="the page to show the saved span")
    # The same span twice on this page is refused at once, without a request.
    mark(page, "liberate", "1")
    page.wait_for_selector(".toast.error:has-text('You already marked “liberate” with loaded term here.')")
    assert Span.objects.filter(layer=Layer.ANNOTATOR).count() == 1


def test_a_queue_left_in_the_old_one_key_format_is_sent(page, live_server, world):
    """A page of the previous version kept its queue as one JSON value per user: the new page adopts and sends it."""
    project, article, annotator, labels = world
    browser_login(page, live_server, annotator.username, PASSWORD)
    open_article(page, live_server, project, article)
    start = TEXT.index("claimed")
    item = {
        "project": project.slug, "article": article.pk, "op": "create", "key": "6f1c3c39-5a2e-4d4e-9a53-1b2c3d4e5f60",
        "data": {"label": labels["attribution/hedge"].pk, "start_char": start, "end_char": start + 7, "text": "claimed",
                 "note": ""},
    }  # fmt: skip
    page.evaluate(
        "([key, item]) => localStorage.setItem(key, JSON.stringify({items: [item], ids: {}}))",
        [f"framescope:outbox:{annotator.pk}", item],
    )
    open_article(page, live_server, project, article)
    wait_for(lambda: stored(annotator) == [("claimed", "attribution/hedge")], what="the old queue's span saved")
    assert page.evaluate(f"localStorage.getItem('framescope:outbox:{annotator.pk}')") is None
    assert str(Span.objects.get().client_id) == item["key"]
