"""Training API: model versions (list, detail, train, activate), lexicon terms (filter, order, CSV, export) and
pin/ban term rules, with the role matrix and the error body."""

from __future__ import annotations

import io
from datetime import timedelta

import pandas as pd
import pytest
from django.utils import timezone

from annotator.common.models import JobStatus
from annotator.projects.models import Label, Role
from annotator.projects.services import membership_add
from annotator.training.models import LexiconTerm, ModelVersion, TermRule
from tests.annotator.projects.factories import make_article, make_project, make_user
from tests.conftest import client_login

pytestmark = pytest.mark.django_db
API = "/api/v1/projects"


@pytest.fixture
def world():
    owner, curator, annotator, viewer = make_user(), make_user(), make_user(), make_user()
    project = make_project(owner=owner, articles=[make_article(text="The regime said so.")], annotators=[annotator])
    membership_add(project=project, user=curator, role=Role.CURATOR, by=owner)
    membership_add(project=project, user=viewer, role=Role.VIEWER, by=owner)
    labels = {label.name: label for label in Label.objects.filter(project=project)}
    done = ModelVersion.objects.create(
        project=project, number=1, status=JobStatus.SUCCEEDED, progress=1.0, n_articles=40, n_spans=120,
        metrics={"grouped_kfold": {"word": {"micro": {"precision": 0.7, "recall": 0.6, "f1": 0.646}}}},
    )  # fmt: skip
    failed = ModelVersion.objects.create(
        project=project, number=2, status=JobStatus.FAILED, error="There is nothing to learn from yet."
    )
    terms = [
        ("terrorists", "loaded term", 2.5, 12, 14),
        ("regime", "loaded term", 1.9, 30, 40),
        ("liberate", "loaded term", 0.7, 3, 9),
        ("rebels", "actor label", 1.2, 8, 20),
    ]
    for term, label, weight, support, seen in terms:
        LexiconTerm.objects.create(
            model_version=done, term=term, label=labels[label], weight=weight, support=support, n_seen=seen,
            precision=support / seen,
        )  # fmt: skip
    return {
        "project": project, "owner": owner, "curator": curator, "annotator": annotator, "viewer": viewer,
        "labels": labels, "done": done, "failed": failed,
    }  # fmt: skip


def url(w, path: str) -> str:
    return f"{API}/{w['project'].slug}/{path}"


class TestModelVersions:
    def test_list_newest_first_with_status_metrics_and_failure_reason(self, world):
        rows = client_login(world["viewer"]).get(url(world, "models/")).json()
        assert [(r["number"], r["status"]) for r in rows] == [(2, "failed"), (1, "succeeded")]
        assert rows[0]["error"] == "There is nothing to learn from yet."
        assert rows[1]["metrics"]["grouped_kfold"]["word"]["micro"]["f1"] == pytest.approx(0.646)
        detail = client_login(world["viewer"]).get(url(world, "models/1/")).json()
        assert detail["n_articles"] == 40 and detail["is_active"] is False

    def test_a_silent_running_version_is_reported_failed_once_the_recovery_ran(self, world):
        from annotator.common.recovery import stale_jobs_recover

        ModelVersion.objects.create(
            project=world["project"], number=3, status=JobStatus.RUNNING,
            heartbeat_at=timezone.now() - timedelta(hours=2),
        )  # fmt: skip
        assert client_login(world["viewer"]).get(url(world, "models/")).json()[0]["status"] == "running"  # a read
        assert stale_jobs_recover()["trainings_failed"] == 1  # the periodic task (beat)
        rows = client_login(world["viewer"]).get(url(world, "models/")).json()
        assert rows[0]["status"] == "failed" and "stopped reporting" in rows[0]["error"]

    def test_unknown_version_is_404_and_non_member_404(self, world):
        assert client_login(world["viewer"]).get(url(world, "models/99/")).status_code == 404
        for path in ("models/", "models/1/", "models/1/terms/", "term-rules/"):
            response = client_login(make_user()).get(url(world, path))
            assert response.status_code == 404 and set(response.json()) == {"detail", "errors"}

    def test_curator_queues_training_annotator_and_viewer_cannot(self, world):
        for user in (world["annotator"], world["viewer"]):
            response = client_login(user).post(url(world, "models/train/"), {}, content_type="application/json")
            assert response.status_code == 403 and set(response.json()) == {"detail", "errors"}
        response = client_login(world["curator"]).post(
            url(world, "models/train/"), {"source": "all"}, content_type="application/json"
        )
        assert response.status_code == 202, response.content
        body = response.json()
        assert (body["number"], body["status"], body["training_source"]) == (3, "queued", "all")
        assert ModelVersion.objects.get(project=world["project"], number=3).created_by == world["curator"]

    def test_train_with_a_bad_source_is_400(self, world):
        response = client_login(world["owner"]).post(
            url(world, "models/train/"), {"source": "web"}, content_type="application/json"
        )
        assert response.status_code == 400 and "source" in response.json()["errors"]
        assert ModelVersion.objects.filter(project=world["project"]).count() == 2

    def test_only_the_owner_activates_and_only_a_succeeded_version(self, world):
        for user in (world["curator"], world["annotator"]):
            assert client_login(user).post(url(world, "models/1/activate/")).status_code == 403
        response = client_login(world["owner"]).post(url(world, "models/2/activate/"))
        assert response.status_code == 400 and "successfully trained" in response.json()["detail"]
        response = client_login(world["owner"]).post(url(world, "models/1/activate/"))
        assert response.status_code == 200 and response.json()["is_active"] is True
        assert ModelVersion.objects.get(pk=world["done"].pk).is_active


class TestLexiconTerms:
    def test_filter_by_label_and_order(self, world):
        client = client_login(world["viewer"])
        rows = client.get(url(world, "models/1/terms/?label=loaded term")).json()
        assert [r["term"] for r in rows] == ["terrorists", "regime", "liberate"]  # by weight, highest first
        rows = client.get(url(world, "models/1/terms/?ordering=-support")).json()
        assert [r["term"] for r in rows] == ["regime", "terrorists", "rebels", "liberate"]
        assert rows[0]["precision"] == pytest.approx(0.75) and rows[0]["n_seen"] == 40

    def test_csv_export_reads_with_pandas_and_json_export_is_an_attachment(self, world):
        client = client_login(world["viewer"])
        response = client.get(url(world, "models/1/terms/?format=csv&download=true"))
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].endswith('-lexicon-v1.csv"')
        frame = pd.read_csv(io.BytesIO(response.content))
        assert list(frame.columns) == ["term", "label", "weight", "support", "n_seen", "precision", "is_pinned"]
        assert frame.set_index("term").loc["regime", "support"] == 30
        exported = client.get(url(world, "models/1/terms/?download=true"))
        assert exported["Content-Disposition"].endswith('-lexicon-v1.json"') and len(exported.json()) == 4

    def test_bad_label_or_ordering_is_400(self, world):
        client = client_login(world["viewer"])
        for query, field in (("label=nope", "label"), ("ordering=random", "ordering")):
            response = client.get(url(world, f"models/1/terms/?{query}"))
            assert response.status_code == 400 and field in response.json()["errors"]


class TestTermRules:
    def test_curator_pins_and_bans_lists_and_deletes(self, world):
        client = client_login(world["curator"])
        label = world["labels"]["loaded term"]
        response = client.post(
            url(world, "term-rules/create/"), {"term": "  Freedom  Fighters ", "label": label.pk, "action": "pin"},
            content_type="application/json",
        )  # fmt: skip
        assert response.status_code == 201, response.content
        rule = response.json()
        assert (rule["term"], rule["action"], rule["label"]) == ("freedom fighters", "pin", "loaded term")
        again = client.post(
            url(world, "term-rules/create/"), {"term": "freedom fighters", "label": label.pk, "action": "ban"},
            content_type="application/json",
        )  # fmt: skip
        assert again.json()["id"] == rule["id"] and again.json()["action"] == "ban"
        listed = client_login(world["viewer"]).get(url(world, "term-rules/")).json()
        assert [(r["term"], r["action"]) for r in listed] == [("freedom fighters", "ban")]
        assert client.delete(url(world, f"term-rules/{rule['id']}/delete/")).status_code == 204
        assert not TermRule.objects.exists()
        assert client.delete(url(world, f"term-rules/{rule['id']}/delete/")).status_code == 404

    def test_annotator_cannot_set_rules_and_bad_input_is_400(self, world):
        label = world["labels"]["loaded term"]
        payload = {"term": "regime", "label": label.pk, "action": "pin"}
        assert (
            client_login(world["annotator"])
            .post(url(world, "term-rules/create/"), payload, content_type="application/json")
            .status_code
            == 403
        )
        other_label = Label.objects.filter(project=make_project(owner=world["owner"])).first()
        for bad, field in (
            ({**payload, "action": "boost"}, "action"),
            ({**payload, "label": other_label.pk}, "label"),
            ({**payload, "term": "   "}, "term"),
        ):
            response = client_login(world["curator"]).post(
                url(world, "term-rules/create/"), bad, content_type="application/json"
            )
            assert response.status_code == 400, response.content
            assert field in response.json()["errors"]
        assert not TermRule.objects.exists()
