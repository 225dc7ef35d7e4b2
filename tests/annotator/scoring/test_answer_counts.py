"""The answer counts a scoring chunk stores, in-process: one row per (article, fold, answer), cross-fitted units."""

from collections import Counter
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from annotator.annotations.models import Answer
from annotator.common.models import JobStatus
from annotator.scoring import codes, services
from annotator.scoring.models import AnswerCount, PredictedAnswers
from annotator.training import services as training
from ml import artefact
from ml.codes import SingleChoiceClassifier
from ml.sentences import split_sentences
from tests.annotator.scoring.test_score_chunk_rows import score_in_process
from tests.annotator.training.synthetic import (
    add_sentence_questions,
    add_tone_question,
    sentence_corpus,
    synthetic_project,
    tone_of,
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

    folds = artefact.load_code_folds(version.artefact_path, "tone")
    units = artefact.load_code_units(version.artefact_path, "tone")
    answers = version.metrics["codes"]["tone"]["answers"]
    cross = {a: (f, answers[p]) for a, f, p in zip(units["article_id"], units["fold"], units["predicted"], strict=True)}
    expected = []
    new = [a for a in articles if a.pk not in cross]
    for article in articles:
        # an article the version did not learn from: fold -1, answered by fold model (article id mod 5)
        fold, answer = cross.get(article.pk) or (-1, str(folds[article.pk % 5].predict([article.text])[0]))
        expected.append((article.pk, fold, answer, 1, 1))
    assert stored(version, "tone") == sorted(expected)
    assert {f for _a, f, *_ in expected} == {-1, 0, 1, 2, 3, 4}
    assert len({a.pk % 5 for a in new}) > 1  # the new articles go to several fold models


def test_a_new_article_is_counted_and_pre_filled_with_fold_model_article_id_mod_k(
    django_capture_on_commit_callbacks,
):
    project, articles = synthetic_project(n_per_outlet=12, seed=3)
    answered = articles[::2]
    add_tone_question(project, answered)
    version = trained(project)
    # fold models that answer differently from the final model: the odd folds learned the opposite tone, so the
    # counts show which model answered each article
    texts = [a.text for a in answered]
    truth = [tone_of(t) for t in texts]
    flipped = [{"hostile": "neutral", "neutral": "hostile"}[t] for t in truth]
    folds = [SingleChoiceClassifier(random_state=0).fit(texts, flipped if k % 2 else truth) for k in range(5)]
    artefact.save_code_folds(version.artefact_path, "tone", folds)
    codes.loaded_question_models.cache_clear()
    score_in_process(project, chunk_size=5, on_commit=django_capture_on_commit_callbacks)

    final = artefact.load_codes(version.artefact_path)["tone"]
    learned = {a.pk for a in answered}
    new = [a for a in articles if a.pk not in learned]
    expected = [(a.pk, -1, str(folds[a.pk % 5].predict([a.text])[0]), 1, 1) for a in new]
    assert [r for r in stored(version, "tone") if r[0] not in learned] == sorted(expected)
    # the test can tell the models apart: some new articles went to an odd fold and got another answer
    assert any(
        str(final.predict([a.text])[0]) != answer for (_pk, _f, answer, *_), a in zip(expected, new, strict=True)
    )
    # one prediction per unit: a new article's pre-fill is the answer its scores count; a learned-from article's
    # is the final model's (its counts take the cross-fitted answer)
    prefill = dict(PredictedAnswers.objects.filter(model_version=version).values_list("article_id", "answers"))
    for pk, _fold, answer, *_ in expected:
        assert [entry[3] for entry in prefill[pk]] == [answer]
    for article in answered:
        assert [entry[3] for entry in prefill[article.pk]] == [str(final.predict([article.text])[0])]


def test_a_version_trained_before_fold_models_were_kept_counts_the_final_models_answers(
    django_capture_on_commit_callbacks,
):
    project, articles = synthetic_project(n_per_outlet=12, seed=3)
    answered = articles[::2]
    add_tone_question(project, answered)
    version = trained(project)
    manifest = artefact.read_manifest(version.artefact_path)
    for entry in manifest["codes"].values():  # what the previous training wrote: no fold models
        entry.pop("folds")
    artefact._write_manifest(Path(version.artefact_path), manifest)
    assert artefact.load_code_folds(version.artefact_path, "tone") is None
    codes.loaded_question_models.cache_clear()
    score_in_process(project, chunk_size=5, on_commit=django_capture_on_commit_callbacks)

    model = artefact.load_codes(version.artefact_path)["tone"]
    learned = {a.pk for a in answered}
    new = [(a.pk, -1, str(model.predict([a.text])[0]), 1, 1) for a in articles if a.pk not in learned]
    assert [r for r in stored(version, "tone") if r[0] not in learned] == sorted(new)
    assert all(r[1] >= 0 for r in stored(version, "tone") if r[0] in learned)


def test_sentence_and_multiple_choice_counts(django_capture_on_commit_callbacks):
    project, articles = sentence_corpus(n_per_outlet=10, seed=5)
    add_sentence_questions(project, articles)
    new = articles[-3:]
    Answer.objects.filter(article__in=new).delete()  # three articles the version did not learn from
    version = trained(project)
    assert "skipped" not in version.metrics["codes"]["bias"], version.metrics["codes"]["bias"]
    score_in_process(project, chunk_size=7, on_commit=django_capture_on_commit_callbacks)

    bias = stored(version, "bias")
    folds = artefact.load_code_folds(version.artefact_path, "bias")
    for article in new:  # every sentence of a new article by one fold model: article id mod 5
        sentences = [article.text[s.start_char : s.end_char] for s in split_sentences(article.text)]
        counts = Counter(str(a) for a in folds[article.pk % 5].predict(sentences))
        assert [r for r in bias if r[0] == article.pk] == sorted(
            (article.pk, -1, answer, len(sentences), n) for answer, n in counts.items()
        )
    for article in articles[:-3]:
        rows = [r for r in bias if r[0] == article.pk]
        assert {r[1] for r in rows} != {-1}  # learned from: cross-fitted, one fold
        assert sum(r[4] for r in rows) == rows[0][3] == len(split_sentences(article.text))

    frames = stored(version, "frames")
    folds = artefact.load_code_folds(version.artefact_path, "frames")
    for article in new:
        chosen = folds[article.pk % 5].predict([article.text])[0]
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
