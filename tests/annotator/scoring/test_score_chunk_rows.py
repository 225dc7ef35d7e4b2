"""The rows a scoring chunk stores, in-process (no worker): exactly the model's predictions, by either writer."""

from collections import Counter, defaultdict
from unittest import mock

import pytest

from annotator.annotations.models import Layer, Span, Suggestions
from annotator.annotations.selectors import suggestions_of_version
from annotator.annotations.suggestions import pack
from annotator.common.copy import rows_insert
from annotator.common.errors import ApplicationError
from annotator.common.models import JobStatus
from annotator.projects.models import Label
from annotator.scoring import services
from annotator.scoring.models import ArticleScore
from annotator.scoring.selectors import ScoreQuery, framing_scores, outlet_comparison
from annotator.training import services as training
from tests.annotator.training.synthetic import synthetic_project

pytestmark = pytest.mark.django_db


def trained_in_process():
    project, articles = synthetic_project(n_per_outlet=10)
    with mock.patch("annotator.training.tasks.model_version_train_task.delay"):
        version = training.model_version_create(project=project, source="gold")
    version = training.model_version_train(version_id=version.pk)
    assert version.status == JobStatus.SUCCEEDED, version.error
    training.model_version_activate(version=version)
    return project, articles, version


def score_in_process(project, chunk_size: int, on_commit) -> None:
    chunks = []
    with (
        mock.patch("annotator.scoring.tasks.scoring_run_plan_task.delay"),
        mock.patch("annotator.scoring.tasks.score_chunk_task.delay", side_effect=lambda *a: chunks.append(a)),
        mock.patch("annotator.scoring.tasks.score_cache_warm_task.delay"),
    ):
        job = services.scoring_run_start(project=project, chunk_size=chunk_size)
        with on_commit(execute=True):  # the test's transaction never commits
            services.scoring_run_plan(job_id=job.pk)
        for job_id, ids, plan in chunks:
            services.score_chunk(job_id=job_id, article_ids=ids, plan=plan)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error


def test_a_chunk_stores_the_spans_and_counts_that_predict_returns(django_capture_on_commit_callbacks):
    project, articles, version = trained_in_process()
    Label.objects.create(project=project, name="unknown to the model")  # not measured: no count rows, not zeros
    score_in_process(project, chunk_size=7, on_commit=django_capture_on_commit_callbacks)

    model = services._loaded_model(version.artefact_path)
    labels = list(Label.objects.filter(project=project).values_list("name", flat=True))
    counted = [name for name in labels if name in model.labels_]
    assert counted and len(counted) < len(labels)
    expected_spans, expected_scores = [], []
    for article, predicted in zip(articles, model.predict([a.text for a in articles]), strict=True):
        counts, sums = Counter(), defaultdict(float)
        for s in predicted:
            if s.label in labels:
                counts[s.label] += 1
                sums[s.label] += float(s.score)
                expected_spans.append((article.pk, s.start, s.end, s.label, s.score, article.text[s.start : s.end]))
        expected_scores += [(article.pk, n, counts[n], article.n_tokens, sums[n]) for n in counted]
    stored = suggestions_of_version(version_id=version.pk)
    stored_spans = [(s.article_id, s.start_char, s.end_char, s.label, s.score, s.text) for s in stored]
    assert stored_spans == sorted(expected_spans)  # by article, start, end (the model's order), scores exact
    assert expected_spans
    # packed: one row per article with a suggestion, none for the others, and no suggestion span rows at all
    with_spans = {a for a, *_ in expected_spans}
    assert set(Suggestions.objects.filter(model_version=version).values_list("article_id", flat=True)) == with_spans
    assert len(with_spans) < len(articles)
    assert not Span.objects.filter(layer=Layer.SUGGESTION).exists()
    stored_scores = ArticleScore.objects.filter(source=services.model_source(version)).values_list(
        "article_id", "label__name", "n_spans", "n_tokens", "score_sum"
    )
    assert sorted(stored_scores) == sorted(expected_scores)
    assert set(ArticleScore.objects.filter(source=services.model_source(version)).values_list("model_version_id")) == {
        (version.pk,)
    }
    # a label the model was never trained on has no model scores: an empty table, and a comparison says why
    unknown = ScoreQuery(label="unknown to the model", source="model")
    assert framing_scores(project=project, query=unknown) == []
    assert framing_scores(project=project, query=ScoreQuery(label=counted[0], source="model"))
    outlets = sorted({a.outlet.slug for a in articles})
    with pytest.raises(ApplicationError, match="Nothing to compare") as refused:
        outlet_comparison(project=project, label="unknown to the model", source="model", a=outlets[0], b=outlets[1])
    assert "trained on" in refused.value.extra["label"][0]


def test_a_model_that_predicts_none_of_the_projects_labels_stores_nothing_and_says_why(
    django_capture_on_commit_callbacks,
):
    project, articles, version = trained_in_process()
    model = services._loaded_model(version.artefact_path)
    chunks = []
    with (
        mock.patch("annotator.scoring.tasks.scoring_run_plan_task.delay"),
        mock.patch("annotator.scoring.tasks.score_chunk_task.delay", side_effect=lambda *a: chunks.append(a)),
    ):
        job = services.scoring_run_start(project=project)
        with django_capture_on_commit_callbacks(execute=True):
            services.scoring_run_plan(job_id=job.pk)
        # its labels renamed while the run was queued: the chunk refuses, and nothing is stored
        for name in model.labels_:
            Label.objects.filter(project=project, name=name).update(name=f"{name} (renamed)")
        job_id, ids, plan = chunks[0]
        refusal = f"Model version {version.number} predicts none of this project's labels"
        with pytest.raises(ApplicationError, match=refusal):
            services.score_chunk(job_id=job_id, article_ids=ids, plan=plan)
        assert not ArticleScore.objects.filter(source=services.model_source(version)).exists()
        assert not Suggestions.objects.filter(model_version=version).exists()
        services.scoring_run_fail(job_id=job.pk, reason="renamed")
        # a new run is refused before anything is queued, naming what the model knows
        with pytest.raises(ApplicationError, match=refusal) as refused:
            services.scoring_run_start(project=project)
        assert ", ".join(model.labels_) in refused.value.message


@pytest.mark.postgresql  # COPY is PostgreSQL's; elsewhere rows_insert is bulk_create
def test_rows_written_by_copy_equal_those_written_by_bulk_create():
    project, articles, version = trained_in_process()
    label = Label.objects.get(project=project, name="loaded term")
    a, b = articles[0], articles[1]
    now = a.created_at
    fields = services.SUGGESTIONS_FIELDS
    span_rows = [
        (version.pk, a.pk, pack([(0, 3, label.pk, 0.25)])),
        (version.pk, b.pk, pack([(4, 9, label.pk, 0.123456), (5, 9, label.pk, 1.0)])),
    ]
    score_rows = [
        (project.pk, a.pk, "copy", version.pk, label.pk, 2, 61, 1.5, now),
        (project.pk, b.pk, "copy", version.pk, label.pk, 0, 60, 0.0, now),
    ]
    assert rows_insert(Suggestions, fields, span_rows) == 2
    assert rows_insert(ArticleScore, services.SCORE_FIELDS, score_rows) == 2
    copied = sorted((a, bytes(d)) for a, d in Suggestions.objects.values_list("article_id", "spans"))
    Suggestions.objects.all().delete()
    Suggestions.objects.bulk_create([Suggestions(**dict(zip(fields, r, strict=True))) for r in span_rows])
    created = sorted((a, bytes(d)) for a, d in Suggestions.objects.values_list("article_id", "spans"))
    assert copied == created == sorted((a, d) for _v, a, d in span_rows)
    ArticleScore.objects.bulk_create(
        [ArticleScore(**dict(zip(services.SCORE_FIELDS, r[:2] + ("orm",) + r[3:], strict=True))) for r in score_rows]
    )

    def score_values(source):
        return sorted(
            ArticleScore.objects.filter(source=source).values_list(
                "project_id", "article_id", "model_version_id", "label_id", "n_spans", "n_tokens", "score_sum"
            )
        )

    assert score_values("copy") == score_values("orm") and len(score_values("copy")) == 2


def test_results_without_row_checks_still_go_with_their_parents(django_capture_on_commit_callbacks):
    """Counts and suggestions have no database constraint on their keys: Django's deletion cascades them, and the
    chunk's locks refuse a parent that is gone (what the row checks did)."""
    project, articles, version = trained_in_process()
    score_in_process(project, chunk_size=7, on_commit=django_capture_on_commit_callbacks)
    with_suggestions = Suggestions.objects.filter(model_version=version).values_list("article_id", flat=True)
    article = articles[0].__class__.objects.get(pk=with_suggestions[0])
    article.delete()
    assert not ArticleScore.objects.filter(article_id=article.pk).exists()
    assert not Suggestions.objects.filter(article_id=article.pk).exists()
    assert ArticleScore.objects.filter(model_version=version).exists() and with_suggestions.exists()
    label_ids = list(Label.objects.filter(project=project).values_list("pk", flat=True))
    services.parents_lock(project_id=project.pk, label_ids=label_ids, version_id=version.pk)  # all there: no error
    if services.connection.vendor == "postgresql":
        with pytest.raises(ApplicationError, match="deleted meanwhile"):
            services.parents_lock(project_id=project.pk, label_ids=[*label_ids, max(label_ids) + 1000])
    version.delete()
    assert not ArticleScore.objects.filter(source=services.model_source(version)).exists()
    assert not Suggestions.objects.exists()
