"""The question classifiers: n-gram features, the fast scoring path, the three question types, the sklearn contract."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer

from ml.codes import MultipleChoiceClassifier, OrdinalScaleClassifier, SingleChoiceClassifier
from ml.codes.ngrams import NgramVectorizer
from ml.tokenise import WORD_RE
from tests.ml.codes_corpus import frames, generated, tones


def test_word_block_equals_scikit_learns_tfidf_of_words_and_word_pairs():
    texts = ["The radical plan, the plan!", "A calm plan", "radical radical ideas", "Ideas of the plan"]
    ours = NgramVectorizer(char_ngrams=(), min_df=1).fit(texts).transform(texts).toarray()
    theirs = (
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=WORD_RE.pattern)
        .fit(texts)
        .transform(texts)
        .toarray()
    )
    assert ours.shape == theirs.shape
    # the same values per text (columns are ordered by hash here, alphabetically there)
    np.testing.assert_allclose(np.sort(ours, axis=1), np.sort(theirs, axis=1), atol=1e-12)


def test_character_block_is_the_weighted_sum_of_word_vectors():
    vec = NgramVectorizer(word_ngrams=1, char_ngrams=(3,), min_df=1).fit(["abc abd", "abc"])
    x = vec.transform(["abc abc abd"]).toarray()[0, len(vec.word_vocab_) :]
    # " abc " has 3-grams " ab", "abc", "bc "; " abd " has " ab", "abd", "bd "; idf of " ab" is 1 (in both texts)
    assert np.count_nonzero(x) == 5
    assert np.isclose(np.linalg.norm(x), 1.0, atol=0.2)  # exactly 1 only if the words shared no n-gram


def test_fast_scores_equal_the_design_matrix_times_the_coefficients():
    texts, answers, spans, articles, _ = generated(200)
    model = SingleChoiceClassifier(random_state=0).fit(texts, answers, spans=spans, groups=articles)
    new = ["Reckless thugs met the minister.", "The council said nothing", "Ünïcode wörds, “quoted” radical!", ""]
    fast = model.decision_function(new)
    slow = model.transform(new) @ model.coef_.T + model.intercept_
    np.testing.assert_allclose(fast, slow, atol=1e-10)
    # a second call answers from the per-word cache and gives the same scores
    np.testing.assert_allclose(model.decision_function(new), fast, atol=1e-12)


def test_a_texts_score_does_not_depend_on_its_batch():
    texts, answers, spans, articles, _ = generated(200)
    model = SingleChoiceClassifier(random_state=0).fit(texts, answers, spans=spans, groups=articles)
    alone = np.vstack([model.predict_proba([t]) for t in texts[:20]])
    np.testing.assert_allclose(model.predict_proba(texts[:20] + ["Ωmega text ☃"] * 600)[:20], alone, atol=1e-12)


def test_single_choice_learns_the_cue_words_and_spans_help():
    texts, answers, spans, articles, _ = generated(400, noise=0.0)
    test_texts, test_answers, _, _, _ = generated(200, seed=1, noise=0.0)
    model = SingleChoiceClassifier(random_state=0).fit(texts, answers, spans=spans, groups=articles)
    assert list(model.classes_) == ["Biased", "Non-biased"]
    assert np.mean(model.predict(test_texts) == np.array(test_answers)) > 0.95
    proba = model.predict_proba(test_texts)
    assert proba.shape == (200, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert model.design_.span_lexicon is not None and "span:loaded:max_lift" in model.design_.cue_names
    without = SingleChoiceClassifier(random_state=0, use_spans=False).fit(texts, answers, spans=spans)
    assert without.design_.span_lexicon is None


def test_more_than_two_answers_use_a_multinomial_model():
    texts, answers = [], []
    for i in range(90):
        frame = ["economic", "crime", "other"][i % 3]
        word = {"economic": "tax", "crime": "police", "other": "weather"}[frame]
        texts.append(f"report {i % 7} on {word} today")
        answers.append(frame)
    model = SingleChoiceClassifier(random_state=0).fit(texts, answers)
    assert model.coef_.shape[0] == 3
    assert list(model.predict(["tax again", "police again", "weather again"])) == ["economic", "crime", "other"]


def test_multiple_choice_predicts_sets_of_answers():
    texts, answers = frames(300)
    model = MultipleChoiceClassifier(random_state=0).fit(texts, answers)
    assert list(model.classes_) == ["crime", "economic"]
    predicted = model.predict(
        ["the tax and wages at the police report", "the week in the city by the council", "a court and prison week"]
    )
    assert predicted == [("crime", "economic"), (), ("crime",)]
    assert model.predict_proba(["tax"]).shape == (1, 2)


def test_ordinal_scale_predicts_the_median_point_and_an_expected_value():
    texts, answers = tones(400)
    held_out, truth = tones(200, seed=1)
    points = ["-2", "-1", "0", "1", "2"]
    model = OrdinalScaleClassifier(points=points, values=[-2, -1, 0, 1, 2], random_state=0).fit(texts, answers)
    assert list(model.classes_) == points and model.coef_.shape[0] == 1  # one weight vector, four cut-points
    assert np.all(np.diff(model.cut_intercepts_) <= 0)
    proba = model.predict_proba(held_out)
    assert np.all(proba >= 0) and np.allclose(proba.sum(axis=1), 1.0)
    assert np.mean(model.predict(held_out) == np.array(truth)) > 0.95
    ev = model.expected_value(held_out)
    for point in (-2, -1, 0, 1, 2):  # the expected value follows the true point
        assert abs(np.mean(ev[np.array(truth) == str(point)]) - point) < 0.5


def test_sklearn_contract_clone_params_and_seeded_reproducibility():
    texts, answers, spans, articles, _ = generated(150)
    model = SingleChoiceClassifier(C=2.0, random_state=3)
    assert clone(model).get_params() == model.get_params()
    a = clone(model).fit(texts, answers, spans=spans, groups=articles)
    b = clone(model).fit(texts, answers, spans=spans, groups=articles)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    ordinal = OrdinalScaleClassifier(points=["a", "b"], C=1.0)
    assert clone(ordinal).get_params()["points"] == ["a", "b"] or clone(ordinal).get_params()["points"] == ("a", "b")
    with pytest.raises(Exception, match="not fitted"):
        SingleChoiceClassifier().predict(["x"])


@pytest.mark.parametrize(
    ("model", "y", "message"),
    [
        (SingleChoiceClassifier(), ["a"] * 10, "at least two different answers"),
        (SingleChoiceClassifier(), ["a", None] * 5, "non-empty string"),
        (MultipleChoiceClassifier(), ["a"] * 10, "collection of answers"),
        (MultipleChoiceClassifier(), [set()] * 10, "no answer at all"),
        (OrdinalScaleClassifier(points=["lo", "hi"]), ["lo", "mid"] * 5, "not points of the scale"),
        (OrdinalScaleClassifier(points=["lo"]), ["lo"] * 10, "at least two distinct scale points"),
        (SingleChoiceClassifier(C=0), ["a", "b"] * 5, "C must be positive"),
    ],
)
def test_bad_answers_and_parameters_are_refused_clearly(model, y, message):
    with pytest.raises(ValueError, match=message):
        model.fit([f"text {i}" for i in range(10)], y)


def test_bad_texts_and_spans_are_refused_clearly():
    with pytest.raises(ValueError, match="list of texts"):
        SingleChoiceClassifier().fit("one string", ["a"])
    with pytest.raises(ValueError, match="past the end"):
        SingleChoiceClassifier().fit(["ab", "cd"] * 5, ["a", "b"] * 5, spans=[[(0, 9, "x")], []] * 5)
    with pytest.raises(ValueError, match="fewer than n_splits"):
        SingleChoiceClassifier().fit(["ab", "cd"] * 5, ["a", "b"] * 5, groups=["g"] * 10)
