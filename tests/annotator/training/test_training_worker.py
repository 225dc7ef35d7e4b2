"""Training through a real Celery worker: versions, metrics, lexicon rows, determinism, pin/ban, crashes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from annotator.common.models import JobStatus
from annotator.projects.models import Label
from annotator.training import selectors, services
from annotator.training.models import LexiconTerm, ModelVersion
from ml import artefact
from tests.annotator.projects.factories import make_suggestions
from tests.annotator.training.synthetic import synthetic_project
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def wait_finished(version: ModelVersion, timeout: float = 180) -> ModelVersion:
    def finished():
        version.refresh_from_db()
        return version.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    wait_for(finished, timeout=timeout, interval=0.25, what=f"model version {version.pk} to finish")
    return version


def lexicon_of(version: ModelVersion) -> list[tuple]:
    return list(
        LexiconTerm.objects.filter(model_version=version)
        .order_by("label__name", "term")
        .values_list("term", "label__name", "weight", "support", "n_seen")
    )


def test_training_task_stores_a_version_with_metrics_and_lexicon(celery_worker):
    project, _ = synthetic_project()
    version = wait_finished(services.model_version_create(project=project))
    assert version.status == JobStatus.SUCCEEDED, version.error
    assert version.progress == 1.0
    assert version.n_articles == 36 and version.n_spans > 36
    assert len(version.data_hash) == 64
    word = version.metrics["grouped_kfold"]["word"]["micro"]
    assert 0.0 <= word["f1"] <= 1.0 and word["n_gold"] > 0
    assert set(version.metrics["leave_one_outlet_out"]) == {a.outlet.slug for a in project.articles.all()}
    terms = {t for t, *_ in lexicon_of(version)}
    assert {"terrorists", "takfiri"} <= terms
    assert version.artefact_path
    services.model_version_activate(version=version)
    assert selectors.model_version_active(project=project) == version


def test_same_data_and_seed_give_identical_lexicons(celery_worker):
    project, _ = synthetic_project(seed=11)
    first = wait_finished(services.model_version_create(project=project))
    second = wait_finished(services.model_version_create(project=project))
    assert first.status == second.status == JobStatus.SUCCEEDED
    assert first.data_hash == second.data_hash
    assert lexicon_of(first) == lexicon_of(second)
    assert first.metrics == second.metrics


def test_pinned_and_banned_terms_are_honoured_by_the_next_training(celery_worker):
    project, _ = synthetic_project(seed=5)
    label = Label.objects.get(project=project, name="loaded term")
    services.term_rule_set(project=project, term="Terrorists", label=label, action="ban")
    services.term_rule_set(project=project, term="convoys", label=label, action="pin")
    version = wait_finished(services.model_version_create(project=project))
    assert version.status == JobStatus.SUCCEEDED, version.error
    terms = {
        t: pinned for t, pinned in LexiconTerm.objects.filter(model_version=version).values_list("term", "is_pinned")
    }
    assert "terrorists" not in terms
    assert terms.get("convoys") is True
    model, _ = artefact.load(version.artefact_path)
    text = "The terrorists left as convoys arrived; takfiri fighters stayed."
    predicted = {text[s.start : s.end].lower() for s in model.predict([text])[0]}
    assert "terrorists" not in predicted
    assert "convoys" in predicted


def test_too_little_data_fails_with_a_reason(celery_worker):
    project, _ = synthetic_project(n_per_outlet=1)
    version = wait_finished(services.model_version_create(project=project))
    assert version.status == JobStatus.FAILED
    assert "nothing to learn" in version.error.lower()


def test_suggestions_never_enter_the_training_data(db):
    project, articles = synthetic_project(n_per_outlet=2)
    label = Label.objects.get(project=project, name="loaded term")
    gold_before = selectors.training_data(project=project, source="gold")
    version = ModelVersion.objects.create(project=project, number=1, status="succeeded", is_active=True)
    make_suggestions(version=version, article=articles[0], spans=[(0, 3, label, 0.9)])
    gold_after = selectors.training_data(project=project, source="gold")
    assert gold_after.spans == gold_before.spans
    assert gold_after.data_hash() == gold_before.data_hash()


def test_a_killed_worker_leaves_the_version_failed_not_running(
    worker_factory, _session_worker, transactional_db, settings
):
    _session_worker.stop()  # only the worker we kill may take the task; the fixture restarts it later
    project, _ = synthetic_project(n_per_outlet=60, seed=3)
    worker = worker_factory(queues="training", concurrency=1)
    version = services.model_version_create(project=project)

    def running():
        version.refresh_from_db()
        return version.status == JobStatus.RUNNING

    wait_for(running, timeout=60, interval=0.05, what="training to start")
    worker.kill()
    version.refresh_from_db()
    assert version.status == JobStatus.RUNNING, "training finished before the kill: make the corpus bigger"
    reaped = services.model_versions_reap_stale(
        project=project, now=timezone.now() + timedelta(seconds=settings.TRAINING_STALE_SECONDS + 1)
    )
    version.refresh_from_db()
    assert reaped == 1
    assert version.status == JobStatus.FAILED
    assert "stopped reporting" in version.error
