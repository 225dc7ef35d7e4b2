"""The model's answers for the annotator page to pre-fill: stored per (version, article) by the scoring run, from the
final model for every unit (those it learned from included), and read back without loading the artefact."""

from unittest import mock

import pytest

from annotator.annotations.models import Answer
from annotator.annotations.selectors import article_sentences
from annotator.projects.models import Question
from annotator.scoring import services
from annotator.scoring.models import PredictedAnswers
from ml import artefact
from tests.annotator.projects.factories import make_user
from tests.annotator.scoring.test_answer_counts import trained
from tests.annotator.scoring.test_score_chunk_rows import score_in_process
from tests.annotator.training.synthetic import add_sentence_questions, sentence_corpus
from tests.conftest import client_login

pytestmark = pytest.mark.django_db


def test_predicted_answers_are_the_active_models_for_the_article_and_each_sentence(
    django_capture_on_commit_callbacks,
):
    project, articles = sentence_corpus(n_per_outlet=10, seed=5)
    owner = project.memberships.get(role="owner").user
    url = f"/api/v1/projects/{project.slug}/articles/{articles[0].pk}/answers/predicted/"
    assert client_login(owner).get(url).json() == {"model_version": None, "answers": []}
    add_sentence_questions(project, articles)  # every article answered: every unit one the version learned from
    version = trained(project)
    # not scored yet: nothing stored, nothing predicted in the request
    assert client_login(owner).get(url).json() == {"model_version": version.number, "answers": []}
    score_in_process(project, chunk_size=7, on_commit=django_capture_on_commit_callbacks)
    assert PredictedAnswers.objects.filter(model_version=version).count() == len(articles)

    before = Answer.objects.count()
    with mock.patch("annotator.scoring.codes.loaded_question_models", side_effect=AssertionError("loaded")):
        body = client_login(owner).get(url).json()
    assert body["model_version"] == version.number
    models = artefact.load_codes(version.artefact_path)
    article = articles[0]
    sentences = article_sentences(article=article)
    bias = [r for r in body["answers"] if r["start_char"] is not None]
    assert [(r["start_char"], r["end_char"]) for r in bias] == [(s.start_char, s.end_char) for s in sentences]
    texts = [article.text[s.start_char : s.end_char] for s in sentences]
    expected = [str(a) for a in models["bias"].predict(texts)]  # the final model's, not the cross-fitted ones
    assert [r["value"] for r in bias] == expected
    proba = models["bias"].predict_proba(texts)
    answers = list(models["bias"].classes_)
    assert [r["score"] for r in bias] == pytest.approx(
        [p[answers.index(a)] for p, a in zip(proba, expected, strict=True)], abs=1e-4
    )
    assert all(r["scores"] is None for r in bias)
    [frames] = [r for r in body["answers"] if r["start_char"] is None]
    assert frames["value"] == list(models["frames"].predict([article.text])[0])
    assert set(frames["scores"]) == set(models["frames"].classes_) and frames["score"] is None
    assert frames["scores"] == pytest.approx(
        dict(zip(models["frames"].classes_, models["frames"].predict_proba([article.text])[0], strict=True)), abs=1e-4
    )
    assert Answer.objects.count() == before  # reading predictions stores nothing
    assert client_login(make_user("stranger")).get(url).status_code == 404

    # a question renamed (or deleted) since the version was trained is left out, as the version no longer predicts it
    Question.objects.filter(project=project, name="frames").update(name="frame")
    body = client_login(owner).get(url).json()
    assert [r["value"] for r in body["answers"]] == expected

    # discarded with the version's other results
    services.scoring_results_clear(version=version)
    assert not PredictedAnswers.objects.filter(model_version=version).exists()
    assert client_login(owner).get(url).json() == {"model_version": version.number, "answers": []}
