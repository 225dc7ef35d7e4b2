"""Models, model detail and lexicon pages: what each role sees, the metric tables, and (in Chromium with a real
Celery worker) training from the button with live progress, activation, examples in context and pin/ban."""

from __future__ import annotations

import io
import os

import pytest
from django.core.management import call_command

from annotator.common.models import JobStatus
from annotator.projects.models import Label, Project
from annotator.training.models import LexiconTerm, ModelVersion, TermRule
from tests.annotator.projects.factories import make_article, make_project, make_user
from tests.conftest import browser_login, client_login, wait_for

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PRF = {"precision": 0.8, "recall": 0.5, "f1": 0.6154, "tp_pred": 8, "n_pred": 10, "tp_gold": 5, "n_gold": 10}
METRICS = {
    "grouped_kfold": {
        "n_texts": 40,
        "exact": {"loaded term": {**PRF, "f1": 0.4321}, "micro": PRF},
        "partial": {"loaded term": PRF, "micro": PRF},
        "word": {"loaded term": {**PRF, "f1": 0.7777}, "micro": {**PRF, "f1": 0.7001}},
    },
    "leave_one_outlet_out": {
        "daily-planet": {"n_texts": 12, "exact": {"micro": PRF}, "partial": {"micro": PRF}, "word": {"micro": {**PRF, "f1": 0.5555}}},
    },
}  # fmt: skip


@pytest.fixture
def world(db):
    owner, curator, annotator = make_user(), make_user(), make_user()
    project = make_project(
        owner=owner, articles=[make_article(text="The regime said the terrorists fled.")], annotators=[annotator]
    )
    from annotator.projects.models import Role
    from annotator.projects.services import membership_add

    membership_add(project=project, user=curator, role=Role.CURATOR, by=owner)
    label = Label.objects.get(project=project, name="loaded term")
    good = ModelVersion.objects.create(
        project=project, number=1, status=JobStatus.SUCCEEDED, metrics=METRICS, n_articles=40
    )
    ModelVersion.objects.create(project=project, number=2, status=JobStatus.FAILED, error="Only 2 annotated articles.")
    LexiconTerm.objects.create(
        model_version=good, term="regime", label=label, weight=1.75, support=9, n_seen=12, precision=0.75
    )
    return {"project": project, "owner": owner, "curator": curator, "annotator": annotator, "good": good}


class TestServerRenderedPages:
    def test_models_page_lists_versions_with_failure_reason_and_role_buttons(self, world):
        slug = world["project"].slug
        html = client_login(world["owner"]).get(f"/projects/{slug}/models/").content.decode()
        assert "Only 2 annotated articles." in html and "0.700" in html  # failure reason; word micro F1
        assert 'id="train-button"' in html and 'class="activate"' in html
        curator = client_login(world["curator"]).get(f"/projects/{slug}/models/").content.decode()
        assert 'id="train-button"' in curator and 'class="activate"' not in curator
        annotator = client_login(world["annotator"]).get(f"/projects/{slug}/models/").content.decode()
        assert 'id="train-button"' not in annotator and 'class="activate"' not in annotator

    def test_model_detail_shows_exact_partial_word_and_leave_one_outlet_out(self, world):
        html = client_login(world["annotator"]).get(f"/projects/{world['project'].slug}/models/1/").content.decode()
        for measure, f1 in (("exact", "0.432"), ("partial", "0.615"), ("word", "0.778")):
            table = html.split(f'data-testid="metrics-{measure}"')[1].split("</table>")[0]
            assert "loaded term" in table and f1 in table and "all labels (micro)" in table
        outlets = html.split('data-testid="metrics-outlets"')[1].split("</table>")[0]
        assert "daily-planet" in outlets and "0.556" in outlets

    def test_outlet_blind_hides_the_outlet_table_from_annotators(self, world):
        project = world["project"]
        project.outlet_blind = True
        project.save()
        html = client_login(world["annotator"]).get(f"/projects/{project.slug}/models/1/").content.decode()
        assert "daily-planet" not in html
        assert (
            "daily-planet" in client_login(world["owner"]).get(f"/projects/{project.slug}/models/1/").content.decode()
        )
        assert client_login(world["annotator"]).get(f"/projects/{project.slug}/scores/").status_code == 403

    def test_lexicon_page_shows_terms_and_export_links(self, world):
        slug = world["project"].slug
        html = client_login(world["curator"]).get(f"/projects/{slug}/lexicon/").content.decode()
        assert 'data-term="regime"' in html and "1.75" in html and "0.75" in html
        assert f"/api/v1/projects/{slug}/models/1/terms/?format=csv" in html
        assert 'data-action="pin"' in html
        assert (
            'data-action="pin"'
            not in client_login(world["annotator"]).get(f"/projects/{slug}/lexicon/").content.decode()
        )

    def test_non_members_get_404_and_unknown_versions_404(self, world):
        slug = world["project"].slug
        stranger = client_login(make_user())
        for path in ("models/", "models/1/", "lexicon/", "scores/", "models/1/lexicon/"):
            assert stranger.get(f"/projects/{slug}/{path}").status_code == 404
        assert client_login(world["owner"]).get(f"/projects/{slug}/models/9/").status_code == 404

    def test_project_page_links_to_the_new_pages(self, world):
        slug = world["project"].slug
        html = client_login(world["annotator"]).get(f"/projects/{slug}/").content.decode()
        assert f"/projects/{slug}/models/" in html and f"/projects/{slug}/scores/" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_train_from_the_page_activate_and_curate_the_lexicon(page, live_server, celery_worker, settings, screenshot):
    call_command("load_demo", "--no-model", stdout=io.StringIO())
    project = Project.objects.get(slug="demo-framing")
    browser_login(page, live_server, "demo-admin", "demo-admin-pw")
    page.goto(f"{live_server.url}/projects/{project.slug}/models/")
    page.select_option("#train-source", "gold")
    page.click("#train-button")
    page.wait_for_selector("#versions-body tr[data-number='1']")
    # The row is redrawn from the polled JSON until the worker has finished.
    wait_for(
        lambda: (
            page.locator("#versions-body tr[data-number='1']").get_attribute("data-status") in ("succeeded", "failed")
        ),
        timeout=240,
        what="training to finish",
    )
    row = page.locator("#versions-body tr[data-number='1']")
    assert row.get_attribute("data-status") == "succeeded", row.text_content()
    row.locator("button.activate").click()
    page.wait_for_selector("#versions-body tr[data-number='1'] .pill.active")
    assert ModelVersion.objects.get(project=project, number=1).is_active
    screenshot("models-page")

    page.goto(f"{live_server.url}/projects/{project.slug}/models/1/")
    assert page.locator("[data-testid=metrics-word] tbody tr").count() >= 2
    assert page.locator("[data-testid=metrics-outlets] tbody tr").count() >= 3
    screenshot("model-detail")

    page.goto(f"{live_server.url}/projects/{project.slug}/lexicon/")
    first = page.locator(".lexicon-label[data-label='loaded term'] tbody tr").first
    term = first.get_attribute("data-term")
    first.locator("button.kwic").click()
    page.wait_for_selector("[data-testid=example-list] li")
    assert term.split()[0].lower() in page.locator("[data-testid=example-list] mark").first.text_content().lower()
    first.locator("button.rule[data-action=ban]").click()
    page.wait_for_selector(f"#rules li:has-text('{term}')")
    assert TermRule.objects.get(project=project, term=term).action == "ban"
    screenshot("lexicon-page")
