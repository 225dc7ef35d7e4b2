"""The answer counts a scoring chunk stores, in-process: one row per (article, fold, answer), cross-fitted units."""

from collections import Counter
from unittest import mock

import numpy as np
import pytest

from annotator.annotations.models import Answer
from annotator.common.models import JobStatus
from annotator.scoring import services
from annotator.scoring.models import AnswerCount
from annotator.training import services as training
from ml import artefact
from ml.sentences import split_sentences
from tests.annotator.scoring.test_score_chunk_rows import score_in_process
from tests.annotator.training.synthetic import (
    add_sentence_questions,
    add_tone_question,
    sentence_corpus,
    synthetic_project,
)

pytestmark = pytest.mark.django_db


def trained(project):
    with mock.patch("annotator.training.tasks.model_version_train_task.delay"):
        version = training.model_version_create(project=project, source="gold")
    version = training.model_version_train(version_id=version.pk)
    assert version.status == JobStatus.SUCCEEDED, version.error
    return training.model_version_activate(version=version)


def stored(version, question: str) -> list[tuple]:
    rows = AnswerCount.objects.filter(model_version=version, question__name=question)
    return sorted(rows.values_list("article_id", "fold", "answer", "n_units", "n_with_answer"))


def test_article_answers_are_cross_fitted_for_training_units_and_predicted_for_the_rest(
    django_capture_on_commit_callbacks,
):
    project, articles = synthetic_project(n_per_outlet=12, seed=3)
    answered = articles[::4] + articles[1::4] + articles[2::4]  # three quarters of the articles have a gold answer
    add_tone_question(project, answered)
    version = trained(project)
    score_in_process(project, chunk_size=5, on_commit=django_capture_on_commit_callbacks)

    model = artefact.load_codes(version.artefact_path)["tone"]
    units = artefact.load_code_units(version.artefact_path, "tone")
    answers = version.metrics["codes"]["tone"]["answers"]
    cross = {a: (f, answers[p]) for a, f, p in zip(units["article_id"], units["fold"], units["predicted"], strict=True)}
    expected = []
    for article in articles:
        fold, answer = cross.get(article.pk) or (-1, str(model.predict([article.text])[0]))
        expected.append((article.pk, fold, answer, 1, 1))
    assert stored(version, "tone") == sorted(expected)
    assert {f for _a, f, *_ in expected} == {-1, 0, 1, 2, 3, 4}


def test_sentence_and_multiple_choice_counts(django_capture_on_commit_callbacks):
    project, articles = sentence_corpus(n_per_outlet=10, seed=5)
    add_sentence_questions(project, articles)
    new = articles[-3:]
    Answer.objects.filter(article__in=new).delete()  # three articles the version did not learn from
    version = trained(project)
    assert "skipped" not in version.metrics["codes"]["bias"], version.metrics["codes"]["bias"]
    score_in_process(project, chunk_size=7, on_commit=django_capture_on_commit_callbacks)

    bias = stored(version, "bias")
    model = artefact.load_codes(version.artefact_path)["bias"]
    for article in new:
        sentences = [article.text[s.start_char : s.end_char] for s in split_sentences(article.text)]
        counts = Counter(str(a) for a in model.predict(sentences))
        assert [r for r in bias if r[0] == article.pk] == sorted(
            (article.pk, -1, answer, len(sentences), n) for answer, n in counts.items()
        )
    for article in articles[:-3]:
        rows = [r for r in bias if r[0] == article.pk]
        assert {r[1] for r in rows} != {-1}  # learned from: cross-fitted, one fold
        assert sum(r[4] for r in rows) == rows[0][3] == len(split_sentences(article.text))

    frames = stored(version, "frames")
    model = artefact.load_codes(version.artefact_path)["frames"]
    for article in new:
        chosen = model.predict([article.text])[0]
        rows = [r for r in frames if r[0] == article.pk]
        assert rows == ([(article.pk, -1, a, 1, 1) for a in sorted(chosen)] or [(article.pk, -1, "", 1, 0)])
    assert {r[0] for r in frames} == {a.pk for a in articles}


def test_a_chunk_run_twice_counts_once_and_a_version_without_lexicon_scores(django_capture_on_commit_callbacks):
    project, articles = synthetic_project(n_per_outlet=12, seed=4, gold_fraction=0.0)
    add_tone_question(project, articles)
    version = trained(project)
    assert not artefact.read_manifest(version.artefact_path).get("labels")
    score_in_process(project, chunk_size=50, on_commit=django_capture_on_commit_callbacks)
    first = stored(version, "tone")
    assert len(first) == len(articles)
    job = services.scoring_run_start(project=project)  # nothing left to score
    services.scoring_run_plan(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.message == "Nothing left to score"
    # the same chunk again, as a redelivered message: replaced, not added
    services.score_chunk(job_id=job.pk, article_ids=[a.pk for a in articles[:5]], plan=job.params["plan"])
    assert stored(version, "tone") == first
    assert (
        np.unique(list(AnswerCount.objects.filter(model_version=version).values_list("article_id", flat=True))).size
        == 36
    )
