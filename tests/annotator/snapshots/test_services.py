"""Frozen study snapshots: archive layout and hashes, METHODS.md, tamper detection, and a byte-identical re-import."""

import json
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotator.annotations.models import Adjudication, Layer, Span
from annotator.common.errors import ApplicationError
from annotator.common.models import Job, JobStatus
from annotator.corpus.clustering import story_clusters_update
from annotator.corpus.models import Article
from annotator.projects.models import Assignment, Label, Project
from annotator.scoring.services import score_chunk
from annotator.snapshots.models import Snapshot
from annotator.snapshots.services import (
    TAMPERED,
    canonical_json,
    content_hash_of,
    score_tables,
    snapshot_freeze,
    snapshot_import,
    snapshot_verify,
)
from annotator.training.models import LexiconTerm, ModelVersion
from annotator.training.services import model_version_activate, model_version_create, model_version_train
from annotator.ui.demo import SNAPSHOT_NAME as DEMO_SNAPSHOT_NAME
from tests.annotator.projects.factories import make_user


def _demo_study() -> tuple[Project, object]:
    call_command("load_demo", "--no-model", stdout=StringIO())  # the tests train (or not) their own
    story_clusters_update()
    project = Project.objects.get(slug="demo-framing")
    Project.objects.filter(pk=project.pk).update(bootstrap_resamples=200, syndication_rule="once")
    project.refresh_from_db()
    return project, get_user_model().objects.get(username="demo-curator")


@pytest.fixture
def gold_study(db, settings, tmp_path):
    """The demo project with story clusters and its gold layer (no model)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ARTEFACT_DIR = tmp_path / "artefacts"
    return _demo_study()


@pytest.fixture
def study(gold_study):
    """The same with a trained, active model that has scored the corpus (slow: trains a model)."""
    project, curator = gold_study
    version = model_version_train(version_id=model_version_create(project=project).pk)
    model_version_activate(version=version)
    ids = list(Article.objects.filter(project_links__project=project).order_by("pk").values_list("pk", flat=True))
    job = Job.objects.create(
        kind=Job.Kind.SCORING, project=project, status=JobStatus.RUNNING, progress_total=len(ids),
        params={"model_version": version.pk, "plan": 1},
    )  # fmt: skip
    assert score_chunk(job_id=job.pk, article_ids=ids, plan=1) == len(ids)
    return project, curator


def _zip(snapshot: Snapshot) -> zipfile.ZipFile:
    return zipfile.ZipFile(snapshot.archive.path)


def keep_only_the_archive(snapshot, name: str) -> Path:
    """As on another instance: a copy of the snapshot's archive, and no project, article or span left."""
    path = Path(snapshot.archive.path).with_name(name)
    path.write_bytes(Path(snapshot.archive.path).read_bytes())
    Span.objects.all().delete()
    for p in Project.objects.all():
        p.snapshots.all().delete()
        p.delete()
    Article.objects.all().delete()
    return path


def test_freeze_writes_a_hashed_archive_with_data_model_manifest_and_methods(study):
    project, curator = study
    snapshot = snapshot_freeze(project=project, by=curator, name="Pre-registration freeze")
    assert Path(snapshot.archive.path).parent.name == "snapshots"
    with _zip(snapshot) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        methods = zf.read("METHODS.md").decode()
        articles = [json.loads(line) for line in zf.read("data/articles.jsonl").splitlines()]
        gold = [json.loads(line) for line in zf.read("data/gold_spans.jsonl").splitlines()]
        tables = json.loads(zf.read("data/scores.json"))
        files = {name: zf.read(name) for name in names - {"manifest.json", "METHODS.md"}}
    assert {"data/articles.jsonl", "data/outlets.jsonl", "data/codebook.json", "data/gold_spans.jsonl",
            "model/model.json", "model/manifest.json", "data/scores.json", "data/agreement.json"} <= names  # fmt: skip
    # Every file is listed with its sha256, and the content hash is recomputable from the files alone.
    import hashlib

    assert manifest["files"] == {n: hashlib.sha256(b).hexdigest() for n, b in sorted(files.items())}
    assert content_hash_of(manifest["files"]) == manifest["content_hash"] == snapshot.content_hash
    assert len(articles) == project.articles.count() == manifest["counts"]["articles"]
    assert {a["id"] for a in articles} == set(project.articles.values_list("pk", flat=True))
    assert all(len(a["content_hash"]) == 64 and a["text"] for a in articles)
    assert len(gold) == Span.objects.filter(project=project, layer=Layer.GOLD).count()
    labels = Label.objects.filter(project=project).count()
    assert len(tables) == labels * 2 * 2  # label x (model, gold) x (all, month)
    assert {(t["query"]["source"], t["query"]["period"]) for t in tables} == {
        ("model", "all"), ("model", "month"), ("gold", "all"), ("gold", "month")
    }  # fmt: skip
    assert all(t["query"]["syndication"] == "once" for t in tables)
    version = ModelVersion.objects.get(project=project, is_active=True)
    assert manifest["model"]["number"] == version.number
    assert "Framing scores are loaded terms per 1,000 tokens" in methods
    assert "200 resamples" in methods and f"seed {project.random_seed}" in methods
    assert "counted once" in methods and f"model version {version.number}" in methods
    assert snapshot.content_hash in methods


def test_content_hash_depends_on_the_data_only(gold_study):
    project, curator = gold_study
    first = snapshot_freeze(project=project, by=curator, name="A")
    again = snapshot_freeze(project=project, by=curator, name="B")
    assert first.content_hash == again.content_hash
    article = project.articles.order_by("pk").first()
    label = Label.objects.get(project=project, name="loaded term")
    word = article.text.split()[3]
    start = article.text.index(word)
    Span.objects.create(project=project, article=article, layer=Layer.GOLD, label=label, start_char=start,
                        end_char=start + len(word), text=word)  # fmt: skip
    assert snapshot_freeze(project=project, by=curator, name="C").content_hash != first.content_hash


def test_reimported_study_recomputes_byte_identical_score_tables(study):
    project, curator = study
    snapshot = snapshot_freeze(project=project, by=curator, name="Freeze")
    with _zip(snapshot) as zf:
        archived = zf.read("data/scores.json")
    n_articles = Article.objects.count()
    report = snapshot_import(archive_path=snapshot.archive.path, by=curator, slug="demo-replication")
    copy = report.project
    # Same instance: the articles dedupe (no new rows) and the study is re-created around them.
    assert Article.objects.count() == n_articles and report.articles_reused == project.articles.count()
    assert copy.articles.count() == project.articles.count()
    assert Span.objects.filter(project=copy, layer=Layer.GOLD).count() == report.gold_spans > 0
    assert Adjudication.objects.filter(project=copy).count() == Adjudication.objects.filter(project=project).count()
    new_version = ModelVersion.objects.get(project=copy, is_active=True)
    assert Path(new_version.artefact_path).is_dir() and LexiconTerm.objects.filter(model_version=new_version).exists()
    assert report.rescored == copy.articles.count()
    assert canonical_json(score_tables(project=copy)) == archived
    assert Snapshot.objects.get(project=copy).content_hash == snapshot.content_hash

    # Then as on another instance: drop the demo projects and their articles, keep only the archive.
    path = keep_only_the_archive(snapshot, "moved.zip")
    report = snapshot_import(archive_path=path, by=curator, slug="elsewhere")
    assert report.articles_created == report.project.articles.count() > 0 and report.articles_reused == 0
    assert report.clusters_created == 4 and report.cluster_mismatches == 0
    assert canonical_json(score_tables(project=report.project)) == archived


def test_tampering_is_detected_on_download_and_import(gold_study, tmp_path):
    project, curator = gold_study
    snapshot = snapshot_freeze(project=project, by=curator, name="Freeze")
    snapshot_verify(snapshot=snapshot)  # untouched: fine
    source = Path(snapshot.archive.path)
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(forged, "w") as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "data/gold_spans.jsonl":
                body = body.replace(b'"loaded term"', b'"euphemism"', 1)
            zout.writestr(info, body)
    with pytest.raises(ApplicationError, match="data/gold_spans.jsonl does not match its sha256") as err:
        snapshot_import(archive_path=forged, by=curator, slug="forged")
    assert err.value.message.startswith(TAMPERED.split("{")[0])
    assert not Project.objects.filter(slug="forged").exists()
    source.write_bytes(forged.read_bytes())
    with pytest.raises(ApplicationError, match="modified since it was frozen"):
        snapshot_verify(snapshot=snapshot)


def test_bad_requests_are_refused(gold_study):
    project, curator = gold_study
    annotator = get_user_model().objects.get(username="demo-annotator")
    with pytest.raises(ApplicationError, match="Only curators and owners") as err:
        snapshot_freeze(project=project, by=annotator, name="x")
    assert err.value.status_code == 403
    with pytest.raises(ApplicationError, match="needs a name"):
        snapshot_freeze(project=project, by=curator, name="  ")
    snapshot = snapshot_freeze(project=project, by=curator, name="ok")
    with pytest.raises(ApplicationError, match="already exists"):
        snapshot_import(archive_path=snapshot.archive.path, by=curator, slug=project.slug)
    with pytest.raises(ApplicationError, match="No snapshot archive"):
        snapshot_import(archive_path="/nonexistent.zip", by=curator)


def test_commands_freeze_and_import(gold_study):
    project, curator = gold_study
    out = StringIO()
    err = StringIO()
    call_command("freeze_study", "--project", project.slug, "--name", "CLI freeze", stdout=out, stderr=err)
    snapshot = Snapshot.objects.get(project=project, name="CLI freeze")
    total = snapshot.manifest["counts"]["score_tables"] + 4
    assert f"[0/{total}] Reading articles" in err.getvalue() and f"[{total}/{total}] Done" in err.getvalue()
    assert snapshot.content_hash in out.getvalue() and snapshot.archive.path in out.getvalue()
    out = StringIO()
    call_command(
        "import_snapshot", snapshot.archive.path, "--slug", "cli-copy", "--owner", curator.username, stdout=out
    )
    assert Project.objects.filter(slug="cli-copy").exists() and "cli-copy" in out.getvalue()
    with pytest.raises(CommandError, match="no project"):
        call_command("freeze_study", "--project", "nope", "--name", "x", stdout=StringIO())
    with pytest.raises(CommandError, match="no user"):
        call_command("import_snapshot", snapshot.archive.path, "--owner", "ghost", stdout=StringIO())


def test_api_and_page_queue_a_freeze_that_a_real_worker_finishes(celery_worker, client):
    from tests.annotator.projects.factories import PASSWORD
    from tests.conftest import wait_for

    project, curator = _demo_study()  # committed (transactional test): the worker reads the same data and media
    curator.set_password(PASSWORD)
    curator.save()
    client.login(username=curator.username, password=PASSWORD)
    url = f"/api/v1/projects/{project.slug}/snapshots/create/"
    assert client.post(url, {"name": " "}, content_type="application/json").status_code == 400
    created = client.post(url, {"name": "Via API"}, content_type="application/json")
    assert created.status_code == 202, created.content
    job_id = created.json()["id"]
    assert created.json()["kind"] == "snapshot" and created.json()["status"] in ("queued", "running", "succeeded")
    job = wait_for(
        lambda: Job.objects.filter(pk=job_id, status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED]).first(),
        timeout=120,
        what="the snapshot job",
    )
    assert job.status == JobStatus.SUCCEEDED, job.error
    polled = client.get(f"/api/v1/projects/{project.slug}/jobs/{job_id}/").json()
    n_tables = Label.objects.filter(project=project).count() * 2  # gold only (no model) × all/month
    assert polled["progress_done"] == polled["progress_total"] == n_tables + 4 and polled["progress"] == 1.0
    result = polled["result"]
    snapshot = Snapshot.objects.get(pk=result["snapshot_id"])
    assert result["content_hash"] == snapshot.content_hash and snapshot.created_by == curator
    listed = client.get(f"/api/v1/projects/{project.slug}/snapshots/").json()
    assert [s["name"] for s in listed] == ["Via API", DEMO_SNAPSHOT_NAME]  # newest first; load_demo froze one
    download = client.get(result["download_url"])
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    archive = b"".join(download.streaming_content)
    assert zipfile.ZipFile(__import__("io").BytesIO(archive)).read("METHODS.md")
    page = client.get(f"/projects/{project.slug}/snapshots/")
    assert page.status_code == 200 and b"Via API" in page.content and snapshot.content_hash.encode() in page.content
    assert f'data-job="{job_id}" data-status="succeeded"'.encode() in page.content
    assert result["download_url"].encode() in page.content
    # The page's form queues the same way.
    posted = client.post(f"/projects/{project.slug}/snapshots/", {"name": "Via page"}, follow=True)
    assert b"Freezing &#x27;Via page&#x27;" in posted.content
    job = wait_for(
        lambda: Job.objects.filter(params__name="Via page", status=JobStatus.SUCCEEDED).first(),
        timeout=120,
        what="the page's snapshot job",
    )
    assert Snapshot.objects.filter(project=project, name="Via page").count() == 1
    viewer = make_user()
    client.logout()
    client.login(username=viewer.username, password=PASSWORD)
    assert client.get(f"/api/v1/projects/{project.slug}/snapshots/").status_code == 404


def test_freeze_job_is_retry_safe_and_fails_with_the_reason(gold_study, django_capture_on_commit_callbacks):
    from annotator.snapshots.services import snapshot_job_create, snapshot_job_run
    from annotator.snapshots.tasks import snapshot_freeze_task

    project, curator = gold_study
    with django_capture_on_commit_callbacks(execute=False) as queued:
        job = snapshot_job_create(project=project, by=curator, name="Twice")
        assert snapshot_job_create(project=project, by=curator, name="Twice").pk == job.pk  # a double click
    assert len(queued) == 1
    first = snapshot_job_run(job_id=job.pk)
    again = snapshot_job_run(job_id=job.pk)  # a redelivered message
    assert first == again and first["status"] == JobStatus.SUCCEEDED
    assert Snapshot.objects.filter(project=project, name="Twice").count() == 1
    with pytest.raises(ApplicationError, match="Only curators"):
        snapshot_job_create(project=project, by=get_user_model().objects.get(username="demo-annotator"), name="x")
    assert Job.objects.filter(kind=Job.Kind.SNAPSHOT).count() == 1
    # A job that cannot succeed (here: its name was emptied) ends failed with the service's message.
    broken = Job.objects.create(kind=Job.Kind.SNAPSHOT, project=project, created_by=curator, params={"name": ""})
    snapshot_freeze_task.apply(args=[broken.pk])
    broken.refresh_from_db()
    assert broken.status == JobStatus.FAILED and broken.error.startswith("A snapshot needs a name")


@pytest.fixture
def layered_study(db, settings, tmp_path):
    """Two annotators who agree on some spans and not on others (tests/annotator/annotations/helpers.py)."""
    from tests.annotator.annotations.helpers import annotate_standard, make_world

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ARTEFACT_DIR = tmp_path / "artefacts"
    world = make_world(name="Layered study")
    annotate_standard(world)
    return world.project, world.curator


def _agreement_table(project: Project) -> bytes:
    from annotator.annotations.agreement import AgreementFilters, agreement_compute

    return canonical_json(agreement_compute(project=project, filters=AgreementFilters())["table"])


def test_annotator_layers_travel_pseudonymised_and_agreement_is_recomputed_from_them(layered_study):
    project, curator = layered_study
    spans = Span.objects.filter(project=project, layer=Layer.ANNOTATOR)
    real_names = set(spans.values_list("annotator__username", flat=True))
    assert len(real_names) >= 2 and Assignment.objects.filter(project=project, status="done").exists()
    snapshot = snapshot_freeze(project=project, by=curator, name="Layers")
    with _zip(snapshot) as zf:
        archived = json.loads(zf.read("data/agreement.json"))
        layer_files = b"".join(zf.read(f"data/{n}.jsonl") for n in ("annotators", "assignments", "annotator_spans"))
        names = [json.loads(line)["name"] for line in zf.read("data/annotators.jsonl").splitlines()]
    assert archived["computed"] and canonical_json(archived["table"]) == _agreement_table(project)
    assert any(row["value"] not in (None, 1.0) for row in archived["table"])  # real disagreement, not a trivial 1.0
    assert snapshot.manifest["annotator_names"] == "pseudonyms" and names[0] == "annotator-01"
    assert snapshot.manifest["counts"]["annotator_spans"] == spans.count()
    assert not any(name.encode() in layer_files for name in real_names)

    # On another instance: only the archive is left; the layers come back under per-project pseudonyms.
    path = keep_only_the_archive(snapshot, "layers.zip")
    report = snapshot_import(archive_path=path, by=curator, slug="layers-copy")
    copy = report.project
    assert report.annotator_spans == Span.objects.filter(project=copy, layer=Layer.ANNOTATOR).count() > 0
    assert report.annotators == report.annotators_created == len(names)
    imported = set(
        Span.objects.filter(project=copy, layer=Layer.ANNOTATOR).values_list("annotator__username", flat=True)
    )
    assert imported <= {f"layers-copy.{n}" for n in names}
    assert not get_user_model().objects.filter(username__startswith="layers-copy.", is_active=True).exists()
    assert _agreement_table(copy) == canonical_json(archived["table"])


def test_a_snapshot_with_names_reattaches_the_layers_to_the_same_users(layered_study):
    project, curator = layered_study
    before = sorted(
        Span.objects.filter(project=project, layer=Layer.ANNOTATOR).values_list(
            "annotator__username", "article__external_id", "start_char", "end_char", "label__name"
        )
    )
    snapshot = snapshot_freeze(project=project, by=curator, name="Named", with_names=True)
    assert snapshot.manifest["annotator_names"] == "usernames"
    n_users = get_user_model().objects.count()
    report = snapshot_import(archive_path=snapshot.archive.path, by=curator, slug="named-copy")
    assert report.annotators_created == 0 and get_user_model().objects.count() == n_users
    after = sorted(
        Span.objects.filter(project=report.project, layer=Layer.ANNOTATOR).values_list(
            "annotator__username", "article__external_id", "start_char", "end_char", "label__name"
        )
    )
    assert after == before and _agreement_table(report.project) == _agreement_table(project)


def test_stale_freeze_jobs_fail_with_the_reason_and_live_ones_are_left_alone(gold_study):
    from datetime import timedelta

    from django.utils import timezone

    from annotator.common.tasks import stale_jobs_recover_task

    project, curator = gold_study
    old = timezone.now() - timedelta(hours=1)

    def job(status, **fields):
        made = Job.objects.create(kind=Job.Kind.SNAPSHOT, project=project, status=status, params={"name": "x"})
        Job.objects.filter(pk=made.pk).update(**fields)
        return made

    dead = job(JobStatus.RUNNING, heartbeat_at=old)
    lost = job(JobStatus.QUEUED, created_at=old)
    live = job(JobStatus.RUNNING, heartbeat_at=timezone.now())
    assert stale_jobs_recover_task.apply().get()["snapshot_jobs_failed"] == 2
    for made in (dead, lost, live):
        made.refresh_from_db()
    assert dead.status == lost.status == JobStatus.FAILED and live.status == JobStatus.RUNNING
    assert "no progress" in dead.error and "No worker took the freeze up" in lost.error


def test_page_follows_a_freeze_on_a_real_worker_in_the_browser(live_server, celery_worker, page, screenshot):
    from tests.conftest import browser_login

    project, _ = _demo_study()
    browser_login(page, live_server, "demo-curator", "demo-curator-pw")
    page.goto(f"{live_server.url}/projects/{project.slug}/snapshots/")
    page.fill("input[name=name]", "From the browser")
    page.check("input[name=with_names]")
    page.click("[data-testid=freeze-form] button[type=submit]")
    page.wait_for_selector("[data-testid=freeze-jobs] tr[data-job]")
    # snapshots.js polls the job and reloads the page when it is done: the download link then appears.
    link = page.wait_for_selector('tr[data-status="succeeded"] td.result a[download]', timeout=120_000)
    screenshot("snapshots-freeze-done")
    snapshot = Snapshot.objects.get(project=project, name="From the browser")
    assert link.get_attribute("href").endswith(f"/snapshots/{snapshot.pk}/download/")
    assert snapshot.manifest["annotator_names"] == "usernames"
    assert page.locator("[data-testid=snapshots]").inner_text().count(snapshot.content_hash) == 1
    assert page.request.get(f"{live_server.url}{link.get_attribute('href')}").status == 200


def _answers(project: Project, rename=lambda name: name) -> list[tuple]:
    from annotator.annotations.models import Answer

    rows = Answer.objects.filter(project=project).values_list(
        "article__content_hash", "question__name", "layer", "annotator__username", "start_char", "end_char",
        "span__label__name", "span__start_char", "span__layer", "value", "codebook_version__number",
    )  # fmt: skip
    return sorted((h, q, layer, rename(who) if who else None, *rest) for h, q, layer, who, *rest in rows)


def test_answers_and_questions_are_frozen_and_come_back_on_import(gold_study):
    """The demo's questions (primary_frame; target, an attribute of actor labels) and every answer (both annotators',
    the gold layer's, attributes on their spans) are in the archive and re-created by the import: same answers,
    same question agreement; provenance only in a snapshot with names."""
    from annotator.annotations.agreement import AgreementFilters, agreement_compute
    from annotator.annotations.models import Answer
    from annotator.projects.codebook import codebook_questions

    project, curator = gold_study
    answers = Answer.objects.filter(project=project)
    assert answers.filter(layer=Layer.GOLD).exists() and answers.filter(span__isnull=False).exists()
    snapshot = snapshot_freeze(project=project, by=curator, name="Answers")
    counts = snapshot.manifest["counts"]
    assert (counts["answers"], counts["questions"]) == (answers.count(), 2)
    assert counts["gold_answers"] == answers.filter(layer=Layer.GOLD).count()
    with _zip(snapshot) as zf:
        rows = [json.loads(line) for line in zf.read("data/answers.jsonl").splitlines()]
        codebook = json.loads(zf.read("data/codebook.json"))
    assert {q["name"] for q in codebook["questions"]} == {"primary_frame", "target"}
    assert all(r["provenance"] == {} for r in rows)  # pseudonymised: no names in provenance
    real = set(answers.exclude(annotator=None).values_list("annotator__username", flat=True))
    assert not any(r["annotator"] in real for r in rows)
    attribute = next(r for r in rows if r["span"] is not None)
    assert set(attribute["span"]) == {"label", "start_char", "end_char"}
    before = _answers(project)
    by_alias = {}
    for r in rows:
        if r["annotator"]:
            by_alias.setdefault(r["annotator"], None)

    def unkeyed(value):  # per-pair figures are keyed by user ids, which differ in the copy
        if isinstance(value, dict):
            return {k: sorted(canonical_json(x).decode() for x in v.values()) if k == "per_pair" else unkeyed(v)
                    for k, v in value.items()}  # fmt: skip
        return [unkeyed(v) for v in value] if isinstance(value, list) else value

    questions = lambda p: canonical_json(unkeyed(agreement_compute(project=p, filters=AgreementFilters())["questions"]))  # noqa: E731
    agreement = questions(project)
    assert b"primary_frame" in agreement

    path = keep_only_the_archive(snapshot, "answers.zip")
    report = snapshot_import(archive_path=path, by=curator, slug="answers-copy")
    copy = report.project
    assert (report.questions, report.answers) == (2, len(rows))
    assert [q["name"] for q in codebook_questions(project=copy)] == [q["name"] for q in codebook["questions"]]
    after = _answers(copy)
    strip = lambda rows: [r[:3] + r[4:] for r in rows]  # noqa: E731  (annotators are pseudonyms now)
    assert strip(after) == strip(before)
    assert {r[3] for r in after if r[3]} <= {f"answers-copy.{alias}" for alias in by_alias}
    assert questions(copy) == agreement


def test_a_snapshot_with_names_keeps_the_answers_provenance_and_users(gold_study):
    from annotator.annotations.models import Answer

    project, curator = gold_study
    snapshot = snapshot_freeze(project=project, by=curator, name="Named answers", with_names=True)
    report = snapshot_import(archive_path=snapshot.archive.path, by=curator, slug="named-answers")
    assert _answers(report.project) == _answers(project)
    provenance = lambda p: sorted(  # noqa: E731
        json.dumps(v, sort_keys=True) for v in Answer.objects.filter(project=p).values_list("provenance", flat=True)
    )
    assert provenance(report.project) == provenance(project)
