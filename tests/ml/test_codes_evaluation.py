"""Cross-fitted evaluation of question classifiers: metrics equal scikit-learn's, folds never split an article."""

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from ml.codes import MultipleChoiceClassifier, SingleChoiceClassifier, cross_fit, evaluate_answers
from ml.codes.evaluation import CodeEvaluation
from tests.ml.codes_corpus import frames, generated


def test_evaluate_answers_equals_scikit_learn():
    rng = np.random.RandomState(0)
    answers = ["a", "b", "c"]
    true = list(rng.choice(answers, 300))
    pred = [t if rng.rand() < 0.7 else rng.choice(answers) for t in true]
    e = evaluate_answers(true, pred, answers=answers)
    p, r, f, s = precision_recall_fscore_support(true, pred, labels=answers, zero_division=0)
    assert [a.precision for a in e.per_answer] == pytest.approx(p)
    assert [a.recall for a in e.per_answer] == pytest.approx(r)
    assert [a.f1 for a in e.per_answer] == pytest.approx(f)
    assert [a.support for a in e.per_answer] == list(s)
    assert e.macro_f1 == pytest.approx(f1_score(true, pred, labels=answers, average="macro"))
    cm = confusion_matrix(true, pred, labels=answers)
    assert e.confusion == cm.tolist()
    np.testing.assert_allclose(e.misclassification, cm / cm.sum(axis=1, keepdims=True))
    assert CodeEvaluation.from_dict(e.to_dict()) == e


def test_an_answer_never_true_has_a_nan_row_and_unknown_answers_are_refused():
    e = evaluate_answers(["a", "a"], ["a", "b"], answers=["a", "b"])
    assert np.isnan(e.misclassification[1]).all() and e.per_answer[1].recall == 0.0
    with pytest.raises(ValueError, match="not among"):
        evaluate_answers(["a"], ["z"], answers=["a", "b"])


def test_cross_fit_predicts_every_unit_once_with_folds_grouped_by_article():
    texts, answers, spans, articles, _ = generated(300)
    cv = cross_fit(SingleChoiceClassifier(random_state=0), texts, answers, groups=articles, spans=spans, n_splits=5)
    assert len(cv.predicted) == 300 and None not in cv.predicted
    assert sorted(set(cv.fold.tolist())) == [0, 1, 2, 3, 4]
    for article in set(articles):  # both sentences of an article are in one fold
        assert len({int(cv.fold[i]) for i, a in enumerate(articles) if a == article}) == 1
    assert cv.evaluation.n_units == 300 and cv.evaluation.macro_f1 > 0.8  # 10 % label noise
    assert np.allclose(cv.proba.sum(axis=1), 1.0)
    plain = cv.to_dict()
    assert plain["n_folds"] == 5 and len(plain["per_fold"]) == 5 and "misclassification" in plain["pooled"]
    again = cross_fit(SingleChoiceClassifier(random_state=0), texts, answers, groups=articles, spans=spans)
    assert again.predicted == cv.predicted  # seeded
    assert cv.models == []


def test_cross_fit_keeps_the_fold_models_on_request_with_the_same_results():
    texts, answers, spans, articles, _ = generated(200)
    plain = cross_fit(SingleChoiceClassifier(random_state=0), texts, answers, groups=articles, spans=spans)
    kept = cross_fit(
        SingleChoiceClassifier(random_state=0), texts, answers, groups=articles, spans=spans, keep_models=True
    )
    assert kept.predicted == plain.predicted and kept.fold.tolist() == plain.fold.tolist()
    np.testing.assert_array_equal(kept.proba, plain.proba)
    assert kept.to_dict() == plain.to_dict() and len(kept.models) == 5
    for k, model in enumerate(kept.models):  # fold k's model is the one that predicted fold k
        rows = np.flatnonzero(kept.fold == k)
        assert list(model.predict([texts[i] for i in rows])) == [kept.predicted[i] for i in rows]
        np.testing.assert_array_equal(model.predict_proba([texts[i] for i in rows]), kept.proba[rows])


def test_leave_one_outlet_out():
    texts, answers, spans, articles, outlets = generated(240)
    cv = cross_fit(SingleChoiceClassifier(random_state=0), texts, answers, groups=articles, leave_out=outlets)
    assert cv.fold_names == ["outlet0", "outlet1", "outlet2"]
    for k, name in enumerate(cv.fold_names):
        assert {outlets[i] for i in np.flatnonzero(cv.fold == k)} == {name}


def test_multiple_choice_is_evaluated_per_answer_as_yes_no():
    texts, answers = frames(200)
    cv = cross_fit(MultipleChoiceClassifier(random_state=0), texts, answers, groups=list(range(200)), n_splits=3)
    assert set(cv.evaluation) == {"crime", "economic"}
    crime = cv.evaluation["crime"]
    assert crime.answers == ["yes", "no"] and crime.n_units == 200 and crime.macro_f1 > 0.9


def test_cross_fit_refuses_too_few_groups():
    texts, answers, _, _, _ = generated(20)
    with pytest.raises(ValueError, match="fewer than n_splits"):
        cross_fit(SingleChoiceClassifier(), texts, answers, groups=["a", "b"] * 10, n_splits=5)
