"""Backup and restore as docs/deploy.md describes it: pg_dump of the database plus an archive of the data directory,
restored into a fresh database and a fresh data directory; a separate Django process on the restored copy sees
the same rows, the same framing scores and a loadable model artefact. PostgreSQL only."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import uuid
from unittest import mock

import pytest
from django.db import connection

from annotator.annotations.models import Span
from annotator.annotations.selectors import suggestions_of_version
from annotator.corpus.models import Article
from annotator.scoring import services as scoring
from annotator.scoring.models import ArticleScore
from annotator.scoring.selectors import ScoreQuery, framing_scores
from annotator.training import services as training
from annotator.training.models import LexiconTerm, ModelVersion
from annotator.training.selectors import model_version_labels
from tests.annotator.training.synthetic import synthetic_project
from tests.conftest import ROOT, database_url_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHECK = """
import json, django
django.setup()
from annotator.annotations.models import Span
from annotator.corpus.models import Article
from annotator.projects.models import Project
from annotator.scoring.models import ArticleScore
from annotator.scoring.selectors import ScoreQuery, framing_scores
from annotator.training.models import LexiconTerm, ModelVersion
from ml import artefact

project = Project.objects.get(slug={slug!r})
version = ModelVersion.objects.get(project=project, is_active=True)
model, _ = artefact.load(version.artefact_path)
text = Article.objects.filter(project_links__project=project).order_by("pk").first().text
print(json.dumps({{
    "counts": [Article.objects.count(), Span.objects.count(), ArticleScore.objects.count(), LexiconTerm.objects.count()],
    "scores": framing_scores(project=project, query=ScoreQuery(label="loaded term"), use_cache=False),
    "predicted": [[s.start, s.end, s.label] for s in model.predict([text])[0]],
}}, default=str, sort_keys=True))
"""


def pg_env(settings_dict: dict) -> dict[str, str]:
    import os

    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    return env


def pg_args(settings_dict: dict) -> list[str]:
    args = ["-h", settings_dict.get("HOST") or "127.0.0.1", "-p", str(settings_dict.get("PORT") or 5432)]
    return args + (["-U", settings_dict["USER"]] if settings_dict.get("USER") else [])


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.postgresql  # backup/restore uses pg_dump
def test_pg_dump_and_data_archive_restore_into_a_fresh_database(settings, tmp_path):
    for tool in ("pg_dump", "pg_restore", "createdb", "dropdb"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found (apt-get install postgresql-client)")
    data_dir = tmp_path / "data"
    settings.ARTEFACT_DIR = data_dir / "artefacts"

    # A project with gold spans, a trained and active model, and model scores (all in this process).
    project, articles = synthetic_project(n_per_outlet=8, seed=3)
    with mock.patch("annotator.training.tasks.model_version_train_task.delay"):
        version = training.model_version_create(project=project)
    version = training.model_version_train(version_id=version.pk)
    training.model_version_activate(version=version)
    with (
        mock.patch("annotator.scoring.tasks.scoring_run_plan_task.delay"),
        mock.patch("annotator.scoring.tasks.score_chunk_task.delay"),
    ):
        job = scoring.scoring_run_start(project=project)
        scoring.scoring_run_plan(job_id=job.pk)
    job.refresh_from_db()
    scoring.score_chunk(job_id=job.pk, article_ids=[a.pk for a in articles], plan=job.params["plan"])
    # The human layers' recount the writes above queued, done now: a worker left running by another test would
    # otherwise run it between the figures below and the dump.
    scoring.human_scores_refresh_stale(project=project)
    assert ModelVersion.objects.get(pk=version.pk).artefact_path.startswith(str(data_dir))
    before = {
        "counts": [Article.objects.count(), Span.objects.count(), ArticleScore.objects.count(),
                   LexiconTerm.objects.count()],
        "scores": framing_scores(project=project, query=ScoreQuery(label="loaded term"), use_cache=False),
    }  # fmt: skip
    model_rows = ArticleScore.objects.filter(model_version=version).count()
    assert model_rows == len(articles) * len(model_version_labels(version=version)) and before["scores"]

    # Backup: database first, then the data directory (docs/deploy.md, "Backup and restore").
    db = connection.settings_dict
    env, args = pg_env(db), pg_args(db)
    dump = tmp_path / "framescope.dump"
    run(["pg_dump", *args, "-Fc", "-f", str(dump), db["NAME"]], env)
    archive = tmp_path / "framescope-data.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(data_dir, arcname=".")

    # Disaster: the data directory is gone. Restore both into fresh places (same data path, new database).
    shutil.rmtree(data_dir)
    restored = f"{db['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    run(["createdb", *args, restored], env)
    try:
        run(["pg_restore", *args, "-d", restored, "--no-owner", str(dump)], env)
        data_dir.mkdir()
        with tarfile.open(archive) as tar:
            tar.extractall(data_dir, filter="data")
        restored_env = {
            **env,
            "DATABASE_URL": database_url_for({**db, "NAME": restored}),
            "FRAMESCOPE_ARTEFACT_DIR": str(data_dir / "artefacts"),
            "DJANGO_SETTINGS_MODULE": "annotator.settings",
            "PYTHONPATH": str(ROOT),
        }
        out = run([sys.executable, "-c", CHECK.format(slug=project.slug)], restored_env).stdout
        after = json.loads(out.strip().splitlines()[-1])
    finally:
        subprocess.run(["dropdb", *args, "--if-exists", restored], env=env, capture_output=True, timeout=120)

    assert after["counts"] == before["counts"]
    assert after["scores"] == json.loads(json.dumps(before["scores"], default=str, sort_keys=True))
    stored = [s for s in suggestions_of_version(version_id=version.pk) if s.article_id == articles[0].pk]
    assert stored and sorted(after["predicted"]) == sorted([s.start_char, s.end_char, s.label] for s in stored)
