"""Question classifiers trained with a model version: metrics, artefact, cross-fitted units, skipped questions."""

import numpy as np
import pytest

from annotator.common.models import JobStatus
from annotator.projects.questions import question_create
from annotator.training import services
from annotator.training.codes import MIN_GROUPS, question_units, source_group
from annotator.training.models import ModelVersion
from ml import artefact
from tests.annotator.training.synthetic import add_tone_question, synthetic_project, tone_of
from tests.conftest import client_login

pytestmark = pytest.mark.django_db


def train(project) -> ModelVersion:
    version = services.model_version_create(project=project)
    return services.model_version_train(version_id=version.pk)


def test_a_version_holds_a_classifier_per_answered_question_with_grouped_cv_and_units():
    project, articles = synthetic_project(n_per_outlet=12, seed=3)
    add_tone_question(project, articles)
    question_create(project=project, name="unused", prompt="Never answered", options=[{"value": "a"}, {"value": "b"}])
    version = train(project)
    assert version.status == JobStatus.SUCCEEDED, version.error
    tone = version.metrics["codes"]["tone"]
    assert tone["answers"] == ["hostile", "neutral"] and tone["n_units"] == 36
    pooled = tone["grouped_kfold"]["pooled"]
    assert pooled["n_units"] == 36 and tone["grouped_kfold"]["n_folds"] == 5
    assert sum(map(sum, pooled["confusion"])) == 36
    assert pooled["macro_f1"] > 0.8  # the answer follows two words the classifier can learn
    assert set(tone["leave_one_outlet_out"]) == {a.outlet.slug for a in articles}
    # per fold and outlet, the confusion counts add up to the pooled matrix
    total = np.zeros((2, 2))
    for by_outlet in tone["per_outlet_confusion"].values():
        for matrix in by_outlet.values():
            total += np.array(matrix)
    assert total.tolist() == pooled["confusion"]
    assert "skipped" in version.metrics["codes"]["unused"]
    # the artefact: the lexicon and the classifier side by side, and every training unit's cross-fitted answer
    models = artefact.load_codes(version.artefact_path)
    assert set(models) == {"tone"}
    lexicon, _ = artefact.load(version.artefact_path)
    assert lexicon.labels_
    units = artefact.load_code_units(version.artefact_path, "tone")
    assert sorted(units["article_id"].tolist()) == sorted(a.pk for a in articles)
    assert set(units["fold"].tolist()) == set(range(5)) and (units["start"] == -1).all()
    answers = tone["answers"]
    predicted = dict(zip(units["article_id"].tolist(), units["predicted"].tolist(), strict=True))
    wrong = sum(answers[predicted[a.pk]] != tone_of(a.text) for a in articles)
    assert wrong == pooled["confusion"][0][1] + pooled["confusion"][1][0]
    # the five fold models, each predicting its own fold's units as the cross-validation did (scoring counts them
    # for the units the version did not learn from)
    folds = artefact.load_code_folds(version.artefact_path, "tone")
    assert len(folds) == 5
    text = {a.pk: a.text for a in articles}
    for k, fold_model in enumerate(folds):
        ids = [a for a, f in zip(units["article_id"].tolist(), units["fold"].tolist(), strict=True) if f == k]
        assert [str(x) for x in fold_model.predict([text[a] for a in ids])] == [answers[predicted[a]] for a in ids]


def test_a_question_alone_trains_a_version_without_a_lexicon():
    project, articles = synthetic_project(n_per_outlet=12, seed=4, gold_fraction=0.0)
    add_tone_question(project, articles)
    version = train(project)
    assert version.status == JobStatus.SUCCEEDED, version.error
    assert version.n_spans == 0 and "grouped_kfold" not in version.metrics
    assert set(artefact.load_codes(version.artefact_path)) == {"tone"}
    assert artefact.read_manifest(version.artefact_path)["format"] == artefact.CODES_ONLY_FORMAT


def test_too_few_answers_say_why_and_nothing_to_learn_fails():
    project, articles = synthetic_project(n_per_outlet=12, seed=4, gold_fraction=0.0)
    add_tone_question(project, articles[: MIN_GROUPS - 1])
    version = services.model_version_create(project=project)
    with pytest.raises(Exception, match="nothing to learn") as caught:
        services.model_version_train(version_id=version.pk)
    assert f"at least {MIN_GROUPS}" in str(caught.value)


def test_units_group_by_source_document():
    assert source_group(article_id=1, cluster_id=9, url="http://a") == "cluster:9"
    assert source_group(article_id=1, cluster_id=None, url="http://a") == "url:http://a"
    assert source_group(article_id=1, cluster_id=None, url="") == "article:1"
    project, articles = synthetic_project(n_per_outlet=3, seed=4)
    question = add_tone_question(project, articles)
    from annotator.projects.codebook import codebook_question

    units = question_units(project=project, question=codebook_question(question), source="gold")
    assert units.answers == [tone_of(a.text) for a in sorted(articles, key=lambda a: a.pk)]
    assert all(s.end <= len(t) for spans, t in zip(units.spans, units.texts, strict=True) for s in spans)
    assert sum(map(len, units.spans)) > 0


def test_the_model_page_shows_per_answer_scores_and_the_confusion_matrix():
    project, articles = synthetic_project(n_per_outlet=12, seed=3)
    add_tone_question(project, articles)
    version = train(project)
    owner = project.memberships.get(role="owner").user
    html = client_login(owner).get(f"/projects/{project.slug}/models/{version.number}/").content.decode()
    assert 'data-testid="question-tone"' in html and "Confusion matrix of tone" in html
    assert "hostile" in html and "Leave one outlet out" in html
    outlet = articles[0].outlet.slug
    assert outlet in html
    # an annotator of an outlet-blind project learns no outlet: neither the page nor the API shows the per-outlet parts
    from annotator.projects.models import Role
    from annotator.projects.services import membership_add
    from tests.annotator.projects.factories import make_user

    annotator = make_user("blind-annotator")
    membership_add(project=project, user=annotator, role=Role.ANNOTATOR, by=owner)
    project.outlet_blind = True
    project.save()
    client = client_login(annotator)
    html = client.get(f"/projects/{project.slug}/models/{version.number}/").content.decode()
    assert "Confusion matrix of tone" in html and outlet not in html
    api = client.get(f"/api/v1/projects/{project.slug}/models/{version.number}/").json()
    assert api["metrics"]["codes"]["tone"]["grouped_kfold"]["pooled"]["n_units"] == 36
    assert outlet not in str(api)
