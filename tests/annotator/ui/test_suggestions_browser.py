"""Model suggestions and other annotators' spans on the annotator page (real Chromium), and their API."""

from __future__ import annotations

import os

import pytest
from django.test import Client

from annotator.annotations.models import Layer, Span, Suggestions
from annotator.annotations.services import span_create
from annotator.projects.models import Label, Role
from annotator.projects.services import label_update, membership_add
from annotator.training.models import ModelVersion
from tests.annotator.projects.factories import PASSWORD, make_article, make_project, make_suggestions, make_user
from tests.conftest import browser_login, wait_for

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

TEXT = "Syrian troops liberate areas from Takfiri terrorists.\nThe regime claimed victory."


def make_world():
    owner, ann, other = make_user("sg-owner"), make_user("sg-ann"), make_user("sg-other")
    article = make_article(text=TEXT, title="Suggestions")
    project = make_project(owner=owner, articles=[article], annotators=[ann, other], name="Suggest study")
    labels = {label.name: label for label in Label.objects.filter(project=project)}
    old = ModelVersion.objects.create(project=project, number=1, status="succeeded")
    active = ModelVersion.objects.create(project=project, number=2, status="succeeded", is_active=True)

    def suggestion(word, label, score):
        start = TEXT.index(word)
        return (start, start + len(word), labels[label], score)

    suggestions = make_suggestions(
        version=active, article=article,
        spans=[suggestion("liberate", "loaded term", 0.91), suggestion("claimed", "attribution/hedge", 0.7)],
    )  # fmt: skip
    # an inactive version's suggestion: never shown
    make_suggestions(version=old, article=article, spans=[suggestion("regime", "loaded term", 0.5)])
    gold = Span.objects.create(
        project=project, article=article, layer=Layer.GOLD, label=labels["actor label"], start_char=TEXT.index("Takfiri"),
        end_char=TEXT.index("Takfiri") + 7, text="Takfiri",
    )  # fmt: skip
    return project, article, owner, ann, other, labels, suggestions, gold


@pytest.mark.django_db
def test_suggestion_api_lists_active_version_only_and_accept_validates():
    project, article, _, ann, _, labels, suggestions, _ = make_world()
    client = Client()
    client.force_login(ann)
    api = f"/api/v1/projects/{project.slug}/articles/{article.pk}"
    rows = client.get(f"{api}/suggestions/").json()
    assert [(r["text"], r["score"], r["model_version"]) for r in rows] == [("liberate", 0.91, 2), ("claimed", 0.7, 2)]
    start = TEXT.index("liberate")
    body = {"label": labels["loaded term"].pk, "start_char": start, "end_char": start + 8, "text": "liberate"}
    bad = client.post(f"{api}/spans/create/", {**body, "provenance": {"accepted_suggestion": 999999}},
                      content_type="application/json")  # fmt: skip
    assert bad.status_code == 400 and "accepted_suggestion" in bad.json()["errors"]
    bad = client.post(f"{api}/spans/create/", {**body, "provenance": {"gold": True}}, content_type="application/json")
    assert bad.status_code == 400 and "provenance" in bad.json()["errors"]
    ok = client.post(f"{api}/spans/create/", {**body, "provenance": {"accepted_suggestion": suggestions[0].pk}},
                     content_type="application/json")  # fmt: skip
    assert ok.status_code == 201 and ok.json()["provenance"] == {"accepted_suggestion": suggestions[0].pk}


@pytest.mark.django_db
def test_other_annotators_spans_only_in_non_blind_projects():
    project, article, owner, ann, other, labels, _, _ = make_world()
    span_create(project=project, article=article, user=other, label_id=labels["euphemism"].pk,
                start_char=0, end_char=6, text="Syrian")  # fmt: skip
    client = Client()
    client.force_login(ann)
    url = f"/api/v1/projects/{project.slug}/articles/{article.pk}/others/"
    assert project.blind
    refused = client.get(url)
    assert refused.status_code == 403 and "blind" in refused.json()["detail"]
    page = client.get(f"/projects/{project.slug}/articles/{article.pk}/").content.decode()
    assert 'data-testid="others-toggle"' not in page and '"othersUrl": null' in page
    project.blind = False
    project.save()
    rows = client.get(url).json()
    assert [(r["text"], r["annotator"]) for r in rows] == [("Syrian", "sg-other")]
    viewer = make_user()
    membership_add(project=project, user=viewer, role=Role.VIEWER, by=owner)
    assert (
        'data-testid="others-toggle"' in client.get(f"/projects/{project.slug}/articles/{article.pk}/").content.decode()
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_suggestions_toggle_accept_and_others_view(page, live_server, screenshot):
    project, article, owner, ann, other, labels, suggestions, gold = make_world()
    project.blind = False
    project.save()
    span_create(project=project, article=article, user=other, label_id=labels["euphemism"].pk,
                start_char=0, end_char=6, text="Syrian")  # fmt: skip
    label_update(label=labels["loaded term"], by=owner, positive_examples=["regime"], negative_examples=["government"])
    browser_login(page, live_server, ann.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.slug}/articles/{article.pk}/")
    page.wait_for_selector("body[data-annotator-ready='1']")
    # Off by default: nothing dashed on the page.
    assert not page.is_checked("[data-testid=suggestions-toggle]")
    assert page.locator(".sugg").count() == 0
    page.check("[data-testid=suggestions-toggle]")
    page.wait_for_selector("body[data-suggestions='shown']")
    drawn = page.eval_on_selector_all(".sugg", "els => els.map((e) => [e.dataset.suggLabel, e.textContent])")
    assert drawn == [["loaded term", "liberate"], ["attribution/hedge", "claimed"]]
    assert page.locator("[data-testid=span-list] .span-item").count() == 0  # never mixed with the user's spans
    # Remembered per user: still on after a reload.
    page.reload()
    page.wait_for_selector("body[data-suggestions='shown']")
    # Click a suggestion, press a: a normal annotator span is made, gold and the suggestion rows are untouched.
    page.click(".sugg[data-sugg-label='loaded term']")
    page.keyboard.press("a")
    page.wait_for_selector("[data-testid=save-status][data-state=saved]")
    made = wait_for(lambda: Span.objects.filter(layer=Layer.ANNOTATOR, annotator=ann).first(), what="the accepted span")
    assert (made.text, made.label_id, made.provenance) == (
        "liberate", labels["loaded term"].pk, {"accepted_suggestion": suggestions[0].pk},
    )  # fmt: skip
    assert page.locator(".ann[data-span-label='loaded term']").count() == 1
    assert page.locator(".sugg").count() == 1  # the accepted one is now the user's span
    assert list(Span.objects.filter(layer=Layer.GOLD).values_list("pk", "text")) == [(gold.pk, "Takfiri")]
    assert Suggestions.objects.count() == 2 and not Span.objects.filter(layer=Layer.SUGGESTION).exists()
    # Others' spans (non-blind project): read-only, dotted, not clickable into the span popover.
    page.check("[data-testid=others-toggle]")
    page.wait_for_selector("body[data-others='shown']")
    assert page.eval_on_selector_all(".other", "els => els.map((e) => [e.dataset.otherAnnotator, e.textContent])") == [
        ["sg-other", "Syrian"]
    ]
    page.click(".other")
    assert page.is_hidden("#span-popover")
    # Label help popover: definition and examples.
    page.click(f"[data-help-for='{labels['loaded term'].pk}']")
    help_text = page.inner_text("[data-testid=label-help]")
    assert "regime" in help_text and "government" in help_text and "strong connotations" in help_text
    screenshot("annotator-suggestions")
    page.keyboard.press("Escape")
    assert page.is_hidden("[data-testid=label-help]")
