"""Scoring the corpus through real Celery workers: complete, idempotent, and resumable after a kill."""

from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command

from annotator.annotations.models import Layer, Span
from annotator.annotations.selectors import suggestions_of_version
from annotator.common.errors import ApplicationError
from annotator.common.models import Job, JobStatus
from annotator.scoring import services
from annotator.scoring.models import ArticleScore, ScoreCache
from annotator.training import services as training
from annotator.training.models import ModelVersion
from annotator.training.selectors import model_version_labels
from tests.annotator.training.synthetic import synthetic_project
from tests.annotator.training.test_training_worker import wait_finished
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def trained_project(**kwargs):
    project, articles = synthetic_project(**kwargs)
    version = wait_finished(training.model_version_create(project=project))
    assert version.status == JobStatus.SUCCEEDED, version.error
    training.model_version_activate(version=version)
    return project, articles, version


def wait_job(job: Job, timeout: float = 180) -> Job:
    def finished():
        job.refresh_from_db()
        return job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    wait_for(finished, timeout=timeout, interval=0.2, what=f"scoring job {job.pk}")
    return job


def results(version: ModelVersion) -> tuple[list, list]:
    scores = sorted(
        ArticleScore.objects.filter(source=services.model_source(version)).values_list(
            "article_id", "label__name", "n_spans", "n_tokens", "score_sum"
        )
    )
    spans = [
        (s.article_id, s.start_char, s.end_char, s.label, s.score)
        for s in suggestions_of_version(version_id=version.pk)
    ]
    return scores, spans


def test_scoring_covers_every_article_and_label_once(celery_worker):
    project, articles, version = trained_project()
    gold_before = Span.objects.filter(project=project, layer=Layer.GOLD).count()
    job = wait_job(services.scoring_run_start(project=project, chunk_size=5))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.progress_done == job.progress_total == len(articles)
    n_labels = project.labels.count()
    # a label the model never learned is not measured: no count rows for it
    counted = model_version_labels(version=version)
    assert 0 < len(counted) < n_labels
    assert ArticleScore.objects.filter(source=f"model:{version.pk}").count() == len(articles) * len(counted)
    assert set(ArticleScore.objects.filter(source=f"model:{version.pk}").values_list("label__name", flat=True)) == set(
        counted
    )
    suggestions = suggestions_of_version(version_id=version.pk)
    assert suggestions and all(s.label == "loaded term" and 0 < s.score <= 1 for s in suggestions)
    assert all(s.text and s.start_char < s.end_char for s in suggestions)
    loaded = ArticleScore.objects.filter(source=f"model:{version.pk}", label__name="loaded term")
    herald = sum(s.n_spans for s in loaded if s.article.outlet.name == "Herald")
    ledger = sum(s.n_spans for s in loaded if s.article.outlet.name == "Ledger")
    assert herald > ledger
    assert Span.objects.filter(project=project, layer=Layer.GOLD).count() == gold_before

    # The finished run stores the dashboard's per-outlet and per-month tables of every label.
    def warmed():
        return ScoreCache.objects.filter(project=project, key__startswith="scores:").count() == 2 * n_labels

    wait_for(warmed, timeout=60, what="the score cache to be warmed for every label")

    # A chunk delivered again after the run finished changes nothing.
    before = results(version)
    chunk = [a.pk for a in articles[:7]]
    assert services.score_chunk(job_id=job.pk, article_ids=chunk, plan=job.params["plan"]) == 0
    assert results(version) == before
    job.refresh_from_db()
    assert job.progress_done == len(articles)


def test_a_redelivered_chunk_and_a_superseded_plans_chunk_change_nothing(celery_worker):
    project, articles, version = trained_project(n_per_outlet=4, seed=5)
    queued: list[tuple] = []
    with (
        mock.patch("annotator.scoring.tasks.scoring_run_plan_task.delay"),
        mock.patch("annotator.scoring.tasks.score_chunk_task.delay", side_effect=lambda *a: queued.append(a)),
    ):
        job = services.scoring_run_start(project=project, chunk_size=4)
        assert services.scoring_run_start(project=project) == job  # a second click joins the unfinished run
        assert services.scoring_run_plan(job_id=job.pk) == 3
        (first_id, first, plan_1), *_ = queued
        assert services.score_chunk(job_id=job.pk, article_ids=first, plan=plan_1) == 4
        scored_once = results(version)
        assert services.score_chunk(job_id=job.pk, article_ids=first, plan=plan_1) == 0  # redelivered
        assert results(version) == scored_once
        job.refresh_from_db()
        assert (job.status, job.progress_done, job.progress_total) == (JobStatus.RUNNING, 4, 12)

        queued.clear()
        assert services.scoring_run_plan(job_id=job.pk) == 2  # a resume: only the 8 unscored articles
        superseded = [a.pk for a in articles if a.pk not in first][:4]
        assert services.score_chunk(job_id=job.pk, article_ids=superseded, plan=plan_1) == 0
        assert results(version) == scored_once
        for _job_id, chunk, plan_2 in queued:
            assert plan_2 == plan_1 + 1
            assert services.score_chunk(job_id=job.pk, article_ids=chunk, plan=plan_2) == 4
    job.refresh_from_db()
    assert (job.status, job.progress_done, job.progress_total) == (JobStatus.SUCCEEDED, 12, 12)
    assert len(results(version)[0]) == 12 * len(model_version_labels(version=version))


def test_rescoring_discards_counts_and_spans_together_then_scores_every_article_again(celery_worker):
    project, articles, version = trained_project(n_per_outlet=4, seed=7)
    with mock.patch("annotator.scoring.tasks.scoring_run_plan_task.delay"):
        job = services.scoring_run_start(project=project)
    with pytest.raises(ApplicationError, match=f"Scoring run {job.pk} of this model version is still queued"):
        services.scoring_results_clear(version=version)
    services.scoring_run_plan(job_id=job.pk)
    job = wait_job(job)
    assert job.status == JobStatus.SUCCEEDED, job.error
    scores, spans = results(version)
    assert spans and len(scores) == len(articles) * len(model_version_labels(version=version))
    gold_before = Span.objects.filter(project=project, layer=Layer.GOLD).count()

    assert services.scoring_results_clear(version=version) == len(articles)
    assert results(version) == ([], [])
    assert Span.objects.filter(project=project, layer=Layer.GOLD).count() == gold_before
    rescored = wait_job(services.scoring_run_start(project=project))
    assert rescored.status == JobStatus.SUCCEEDED, rescored.error
    assert results(version) == (scores, spans)

    out = StringIO()
    call_command("score_corpus", "--project", project.slug, "--rescore", "--wait", stdout=out)
    assert f"Discarded the scores of {len(articles)} articles from model version v{version.number}" in out.getvalue()
    assert f"Scored {len(articles)} articles" in out.getvalue()
    assert results(version) == (scores, spans)


def test_kill_a_worker_mid_scoring_then_resume_gives_the_uninterrupted_result(
    worker_factory, _session_worker, transactional_db
):
    project, articles, version = trained_project(n_per_outlet=40, seed=9)
    _session_worker.stop()  # the worker we kill must be the only one scoring
    victim = worker_factory(queues="scoring", concurrency=1)
    job = services.scoring_run_start(project=project, chunk_size=1)

    def midway():
        job.refresh_from_db()
        return 5 <= job.progress_done < job.progress_total

    wait_for(midway, timeout=120, interval=0.02, what="scoring to be under way")
    victim.kill()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.progress_done < len(articles)

    worker_factory(queues="scoring", concurrency=2)
    services.scoring_run_plan(job_id=job.pk)  # what `score_corpus --resume` and the stale-job reaper do
    job = wait_job(job)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.progress_done == len(articles)
    resumed = results(version)

    # The first plan's chunks are still in the broker (a resume cannot take them out): now no-ops, they must not
    # write into the uninterrupted run below, nor move the finished job's progress.
    assert services.scoring_results_clear(version=version) == len(articles)
    fresh = wait_job(services.scoring_run_start(project=project, chunk_size=50))
    assert fresh.status == JobStatus.SUCCEEDED, fresh.error
    assert fresh.progress_done == fresh.progress_total == len(articles)
    # Counts and suggestion spans are identical to an uninterrupted run, every article × label once.
    assert results(version) == resumed
    assert len(resumed[0]) == len(articles) * len(model_version_labels(version=version))
    job.refresh_from_db()
    assert job.progress_done == job.progress_total == len(articles)


def test_articles_added_to_a_project_with_an_active_model_are_scored(celery_worker):
    from annotator.projects.services import project_add_articles
    from tests.annotator.projects.factories import make_article

    project, articles, version = trained_project(n_per_outlet=4, seed=21)
    owner = project.memberships.get(role="owner").user
    late = make_article(text="Later the terrorists liberated nothing, officials said.", outlet=articles[0].outlet)
    assert project_add_articles(project=project, by=owner, article_ids=[late.pk]) == 1
    job = Job.objects.filter(project=project, kind=Job.Kind.SCORING).latest("created_at")
    assert job.params["article_ids"] == [late.pk]
    job = wait_job(job)
    assert job.status == JobStatus.SUCCEEDED, job.error
    scored = ArticleScore.objects.filter(source=f"model:{version.pk}", article=late)
    assert scored.count() == len(model_version_labels(version=version))


@pytest.mark.django_db
def test_a_failing_chunk_of_a_superseded_plan_does_not_fail_the_run_that_replaced_it():
    from annotator.scoring.tasks import _fail_job_of_chunk
    from tests.annotator.projects.factories import make_project

    job = Job.objects.create(
        kind=Job.Kind.SCORING, project=make_project(), status=JobStatus.RUNNING, params={"plan": 2}
    )
    _fail_job_of_chunk(None, RuntimeError("old worker's bug"), "task-1", (job.pk, [1, 2], 1), {}, None)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and not job.error

    _fail_job_of_chunk(
        None, RuntimeError("model file unreadable"), "task-2", (job.pk,), {"article_ids": [1], "plan": 2}, None
    )
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "RuntimeError: model file unreadable"
