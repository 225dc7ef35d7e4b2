"""Agreement through the app equals ml.agreement on the same data; Cohen's kappa equals sklearn's on the token
vectors; filters; Job rows (in-request and on a real worker); `manage.py agreement`."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from sklearn.metrics import cohen_kappa_score

from annotator.annotations.agreement import (
    AgreementFilters,
    agreement_compute,
    agreement_data,
    agreement_job_create,
    agreement_job_run,
    agreement_jobs_fail_stale,
)
from annotator.common.errors import ApplicationError
from annotator.common.models import Job, JobStatus
from annotator.projects.services import label_update
from ml.agreement import AnnotatedSpan, AnnotationSet, agreement_report
from ml.tokenise import token_spans
from tests.annotator.annotations.helpers import annotate_standard, finish, make_world, mark
from tests.conftest import wait_for


@pytest.fixture
def world(db):
    w = make_world()
    w.spans = annotate_standard(w)
    return w


def expected_set(world) -> AnnotationSet:
    """The same data built by hand, independent of the adapter's queries."""
    a, b = world.articles
    spans = [
        AnnotatedSpan(s.article_id, s.annotator_id, s.start_char, s.end_char, s.label.name)
        for s in world.spans.values()
    ]
    return AnnotationSet.build(
        spans=spans,
        texts={a.pk: a.text, b.pk: b.text},
        coverage={a.pk: {world.ann1.pk, world.ann2.pk}, b.pk: {world.ann2.pk}},
        labels=list(world.labels),
    )


def test_app_numbers_equal_ml_agreement(world):
    result = agreement_compute(project=world.project, filters=AgreementFilters())
    expected = agreement_report(expected_set(world)).to_dict()
    assert result["report"] == expected
    assert result["annotator_names"] == {str(world.ann1.pk): "ann1", str(world.ann2.pk): "ann2"}
    rows = {(r["measure"], r["label"]): r for r in result["table"]}
    assert rows[("cohen_kappa", "all")]["value"] == expected["cohen_kappa"]["value"]
    exact = rows[("span_f1_exact", "all")]
    # 4 vs 4 spans on article A (B had one finisher), 2 exact matches: F1 = 2*2/(4+4)
    assert exact["value"] == pytest.approx(0.5) and exact["n_items"] == 1


def categories(text, spans):
    out = []
    for start, end in token_spans(text):
        labels = sorted({s.label.name for s in spans if s.start_char < end and s.end_char > start})
        out.append("+".join(labels) if labels else "O")
    return out


def test_cohen_kappa_equals_sklearn_on_token_vectors(world):
    a = world.articles[0]
    result = agreement_compute(project=world.project, filters=AgreementFilters())
    mine = [s for s in world.spans.values() if s.article_id == a.pk]
    y1 = categories(a.text, [s for s in mine if s.annotator_id == world.ann1.pk])
    y2 = categories(a.text, [s for s in mine if s.annotator_id == world.ann2.pk])
    assert y1 != y2 and len(y1) == len(token_spans(a.text))
    key = f"{world.ann1.pk}|{world.ann2.pk}"
    kappa = result["report"]["cohen_kappa"]["per_pair"][key]["value"]
    assert kappa == pytest.approx(cohen_kappa_score(y1, y2), abs=1e-12)
    # per label (binary) too
    for label in ("loaded term", "actor label"):
        b1 = [label in c.split("+") for c in y1]
        b2 = [label in c.split("+") for c in y2]
        per = result["report"]["cohen_kappa"]["per_label"][label]["per_pair"][key]["value"]
        assert per == pytest.approx(cohen_kappa_score(b1, b2), abs=1e-12)


def test_unfinished_work_is_left_out_and_empty_finish_counts(world):
    a, b = world.articles
    mark(world, world.ann1, b, "ceasefire", "loaded term")  # ann1 has not finished B: not counted
    data = agreement_data(project=world.project, filters=AgreementFilters())
    assert data.coverage[b.pk] == frozenset({world.ann2.pk})
    assert not [s for s in data.spans if s.item_id == b.pk and s.annotator == world.ann1.pk]
    finish(world, world.ann1, b)
    data = agreement_data(project=world.project, filters=AgreementFilters())
    assert data.coverage[b.pk] == frozenset({world.ann1.pk, world.ann2.pk})


def test_filters_label_outlet_codebook_version(world):
    a, b = world.articles
    by_label = agreement_compute(project=world.project, filters=AgreementFilters(label="loaded term"))
    assert by_label["report"]["labels"] == ["loaded term"]
    assert by_label["report"]["n_spans"] == 6  # liberate x2, terrorists x2, Takfiri (ann2), regime
    by_outlet = agreement_compute(project=world.project, filters=AgreementFilters(outlet=b.outlet.slug))
    assert by_outlet["report"]["n_items"] == 1 and by_outlet["report"]["n_spans"] == 1
    with pytest.raises(ApplicationError, match="Unknown label 'nope'"):
        agreement_compute(project=world.project, filters=AgreementFilters(label="nope"))
    with pytest.raises(ApplicationError, match="Codebook version 99"):
        agreement_compute(project=world.project, filters=AgreementFilters(codebook_version=99))
    # all work so far was finished under version 1; a codebook change makes version 2, with no finished work yet
    label_update(label=world.labels["euphemism"], by=world.owner, description="Softer words.")
    v1 = agreement_compute(project=world.project, filters=AgreementFilters(codebook_version=1))
    v2 = agreement_compute(project=world.project, filters=AgreementFilters(codebook_version=2))
    assert v1["report"]["n_items"] == 2 and v2["report"]["n_items"] == 0


def test_api_get_computes_without_storing_and_serves_a_stored_job_until_the_data_changes(world):
    client = Client()
    client.force_login(world.curator)
    url = f"/api/v1/projects/{world.project.slug}/agreement/"
    first = client.get(url)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["status"] == "succeeded" and body["result"]["report"] == agreement_report(expected_set(world)).to_dict()
    assert body["job_id"] is None and not Job.objects.filter(kind=Job.Kind.AGREEMENT).exists()  # a read stores nothing
    stored = client.post(url, {}, content_type="application/json").json()["job_id"]  # an explicit POST stores one
    agreement_job_run(job_id=stored)  # (what the worker runs)
    assert client.get(url).json()["job_id"] == stored  # same data: the stored result
    mark(world, world.ann1, world.articles[0], "Monday", "loaded term")
    changed = client.get(url).json()
    assert changed["job_id"] is None and changed["result"] != body["result"]  # changed data: computed again
    assert client.get(url, {"label": "nope"}).status_code == 400
    assert client.get(url, {"threshold": "2"}).status_code == 400


def test_api_table_is_the_reports_rows_with_filters_and_job_in_json_and_tidy_csv(world):
    import pandas as pd

    client = Client()
    client.force_login(world.curator)
    base = f"/api/v1/projects/{world.project.slug}/agreement/"
    report = client.get(base, {"threshold": "0.4"}).json()
    response = client.get(base + "table/", {"threshold": "0.4"})
    assert response.status_code == 200, response.content
    rows = response.json()
    assert [(r["measure"], r["label"], r["value"], r["n_items"], r["n_units"], r["reason"]) for r in rows] == [
        (r["measure"], r["label"], r["value"], r["n_items"], r["n_units"], r["reason"])
        for r in report["result"]["table"]
    ]
    assert {(r["job_id"], r["threshold"], r["filter_label"], r["calibration"]) for r in rows} == {
        (report["job_id"], 0.4, "", False)
    }
    exact = next(r for r in rows if (r["measure"], r["label"]) == ("span_f1_exact", "all"))
    assert exact["value"] == pytest.approx(0.5)

    as_csv = client.get(base + "table/", {"threshold": "0.4", "format": "csv"})
    assert as_csv["Content-Type"].startswith("text/csv")
    frame = pd.read_csv(io.StringIO(as_csv.content.decode()))
    assert list(frame.columns) == list(rows[0])
    assert len(frame) == len(rows) and frame["threshold"].eq(0.4).all()
    f1 = frame[(frame["measure"] == "span_f1_exact") & (frame["label"] == "all")]["value"]
    assert f1.item() == pytest.approx(0.5)
    by_label = client.get(base + "table/", {"label": "loaded term"}).json()
    assert by_label and {r["filter_label"] for r in by_label} == {"loaded term"}
    assert client.get(base + "table/", {"label": "nope"}).status_code == 400


def test_api_table_of_a_large_project_is_a_202_until_a_post_computed_it(world, monkeypatch):
    from annotator.annotations import agreement

    monkeypatch.setattr(agreement, "SYNC_MAX_SPANS", 0)  # too big to compute in the request
    client = Client()
    client.force_login(world.curator)
    table = f"/api/v1/projects/{world.project.slug}/agreement/table/"
    response = client.get(table)
    assert response.status_code == 202 and response.json()["status"] == "not computed"
    assert not Job.objects.filter(kind=Job.Kind.AGREEMENT).exists()
    client.post(f"/api/v1/projects/{world.project.slug}/agreement/", {}, content_type="application/json")
    response = client.get(table)
    assert response.status_code == 202 and response["Retry-After"] == "5"
    body = response.json()
    assert body["status"] == "queued" and "being computed" in body["detail"] and "result" not in body
    annotator = Client()
    annotator.force_login(world.ann1)
    assert annotator.get(table).status_code == 403


def test_a_stalled_job_is_failed_with_a_reason_and_the_next_get_recomputes(world, settings):
    client = Client()
    client.force_login(world.curator)
    url = f"/api/v1/projects/{world.project.slug}/agreement/"
    stalled = agreement_job_create(project=world.project, filters=AgreementFilters(), queue=False)
    started = timezone.now()
    Job.objects.filter(pk=stalled.pk).update(status=JobStatus.RUNNING, heartbeat_at=started)
    assert client.get(url).json()["job_id"] == stalled.pk  # a running job is served, not computed again
    limit = timedelta(seconds=settings.AGREEMENT_STALE_SECONDS)
    assert agreement_jobs_fail_stale(now=started + limit - timedelta(seconds=1)) == 0  # still within its time
    assert agreement_jobs_fail_stale(now=started + limit + timedelta(seconds=1)) == 1
    stalled.refresh_from_db()
    assert stalled.status == JobStatus.FAILED and "never finished" in stalled.error
    fresh = client.get(url).json()
    assert fresh["job_id"] is None and fresh["status"] == "succeeded"
    assert agreement_jobs_fail_stale(now=started + 2 * limit) == 0  # a finished job is never failed


def test_management_command_json_and_table(world):
    out = io.StringIO()
    call_command("agreement", project=world.project.slug, json=True, min_overlap=0.5, stdout=out)
    data = json.loads(out.getvalue())
    assert data["report"] == json.loads(json.dumps(agreement_report(expected_set(world)).to_dict()))
    assert data["filters"]["threshold"] == 0.5
    out = io.StringIO()
    call_command("agreement", project=world.project.slug, label="loaded term", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["measure", "question", "label", "value", "n", "items", "n", "units"]
    assert any(line.startswith("cohen_kappa") and "loaded term" in line for line in lines)
    with pytest.raises(CommandError, match="No project"):
        call_command("agreement", project="missing", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Unknown label"):
        call_command("agreement", project=world.project.slug, label="nope", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_post_queues_a_job_that_a_real_worker_computes(celery_worker):
    w = make_world(name="Worker agreement")
    w.spans = annotate_standard(w)
    client = Client()
    client.force_login(w.curator)
    response = client.post(
        f"/api/v1/projects/{w.project.slug}/agreement/", {"label": "loaded term"}, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["job_id"]
    job = wait_for(
        lambda: Job.objects.filter(pk=job_id, status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED]).first(),
        timeout=60,
        what="the agreement job",
    )
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.kind == Job.Kind.AGREEMENT and job.progress_done == job.progress_total == 3
    expected = agreement_compute(project=w.project, filters=AgreementFilters(label="loaded term"))
    assert job.result["report"] == json.loads(json.dumps(expected["report"]))
