"""The model's answers for the annotator page to pre-fill: computed now from the active artefact, never stored."""

import pytest

from annotator.annotations.models import Answer
from annotator.annotations.selectors import article_sentences
from ml import artefact
from tests.annotator.projects.factories import make_user
from tests.annotator.scoring.test_answer_counts import trained
from tests.annotator.training.synthetic import add_sentence_questions, sentence_corpus
from tests.conftest import client_login

pytestmark = pytest.mark.django_db


def test_predicted_answers_are_the_active_models_for_the_article_and_each_sentence():
    project, articles = sentence_corpus(n_per_outlet=10, seed=5)
    owner = project.memberships.get(role="owner").user
    url = f"/api/v1/projects/{project.slug}/articles/{articles[0].pk}/answers/predicted/"
    assert client_login(owner).get(url).json() == {"model_version": None, "answers": []}
    add_sentence_questions(project, articles)
    version = trained(project)
    before = Answer.objects.count()
    body = client_login(owner).get(url).json()
    assert body["model_version"] == version.number
    models = artefact.load_codes(version.artefact_path)
    article = articles[0]
    sentences = article_sentences(article=article)
    bias = [r for r in body["answers"] if r["start_char"] is not None]
    assert [(r["start_char"], r["end_char"]) for r in bias] == [(s.start_char, s.end_char) for s in sentences]
    texts = [article.text[s.start_char : s.end_char] for s in sentences]
    expected = [str(a) for a in models["bias"].predict(texts)]
    assert [r["value"] for r in bias] == expected
    proba = models["bias"].predict_proba(texts)
    answers = list(models["bias"].classes_)
    assert [r["score"] for r in bias] == pytest.approx(
        [p[answers.index(a)] for p, a in zip(proba, expected, strict=True)], abs=1e-4
    )
    [frames] = [r for r in body["answers"] if r["start_char"] is None]
    assert frames["value"] == list(models["frames"].predict([article.text])[0])
    assert set(frames["scores"]) == set(models["frames"].classes_) and frames["score"] is None
    assert Answer.objects.count() == before  # reading predictions stores nothing
    assert client_login(make_user("stranger")).get(url).status_code == 404
