"""Question classifiers inside a model version: exact round trip, beside the lexicon, old versions still load."""

import json

import numpy as np
import pytest

from ml import artefact
from ml.codes import MultipleChoiceClassifier, OrdinalScaleClassifier, SingleChoiceClassifier
from ml.lexicon import LexiconClassifier
from tests.ml.codes_corpus import frames, generated, tones


@pytest.fixture(scope="module")
def fitted():
    texts, answers, spans, articles, _ = generated(200)
    single = SingleChoiceClassifier(random_state=0).fit(texts, answers, spans=spans, groups=articles)
    f_texts, f_answers = frames(150)
    multiple = MultipleChoiceClassifier(random_state=0).fit(f_texts, f_answers)
    t_texts, t_answers = tones(150)
    ordinal = OrdinalScaleClassifier(points=["-2", "-1", "0", "1", "2"], random_state=0).fit(t_texts, t_answers)
    return {"bias": single, "primary frame": multiple, "tone": ordinal}, texts, spans


def test_classifiers_round_trip_exactly(tmp_path, fitted):
    models, texts, _ = fitted
    manifest = artefact.save_codes(tmp_path, models, metrics={"bias": {"cv": {"macro_f1": 0.9}}})
    assert manifest["format"] == artefact.CODES_ONLY_FORMAT
    assert manifest["codes"]["bias"]["type"] == "single" and manifest["codes"]["tone"]["type"] == "ordinal"
    assert manifest["codes"]["primary frame"]["file"] == "codes/01-primary-frame.npz"
    assert manifest["codes"]["bias"]["metrics"] == {"cv": {"macro_f1": 0.9}}
    loaded = artefact.load_codes(tmp_path)
    probe = texts[:30] + ["Unseen wörds entirely", ""]
    for name, model in models.items():
        np.testing.assert_array_equal(loaded[name].predict_proba(probe), model.predict_proba(probe))
        assert list(loaded[name].classes_) == list(model.classes_)
    assert list(artefact.load_codes(tmp_path, ["tone"])) == ["tone"]


def test_codes_and_lexicon_share_one_version_in_either_order(tmp_path, fitted):
    models, texts, spans = fitted
    lexicon = LexiconClassifier(external_lexicon=None, n_splits=2, random_state=0).fit(texts, spans)
    artefact.save_codes(tmp_path, {"bias": models["bias"]})
    artefact.save(lexicon, tmp_path, texts=texts, spans=spans)
    manifest = artefact.read_manifest(tmp_path)
    assert manifest["format"] == artefact.FORMAT and list(manifest["codes"]) == ["bias"]
    artefact.save_codes(tmp_path, {"tone": models["tone"]})
    assert list(artefact.read_manifest(tmp_path)["codes"]) == ["bias", "tone"]
    assert artefact.load(tmp_path)[0].predict(texts[:5]) == lexicon.predict(texts[:5])
    assert set(artefact.load_codes(tmp_path)) == {"bias", "tone"}


def test_a_version_saved_before_question_classifiers_still_loads(tmp_path, fitted):
    _, texts, spans = fitted
    lexicon = LexiconClassifier(external_lexicon=None, n_splits=2, random_state=0).fit(texts, spans)
    artefact.save(lexicon, tmp_path, texts=texts, spans=spans)
    assert "codes" not in artefact.read_manifest(tmp_path)  # exactly what the previous code wrote
    assert artefact.load(tmp_path)[0].predict(texts[:3]) == lexicon.predict(texts[:3])
    assert artefact.load_codes(tmp_path) == {}


def test_tampered_missing_or_codes_only_versions_are_refused_clearly(tmp_path, fitted):
    models, _, _ = fitted
    artefact.save_codes(tmp_path, {"bias": models["bias"]})
    with pytest.raises(artefact.ArtefactError, match="question classifiers only, no lexicon"):
        artefact.load(tmp_path)
    with pytest.raises(artefact.ArtefactError, match=r"no classifier for question\(s\) \['frame'\]"):
        artefact.load_codes(tmp_path, ["frame"])
    header = tmp_path / "codes" / "00-bias.json"
    data = json.loads(header.read_text())
    data["classes_"] = ["x", "y"]
    header.write_text(json.dumps(data))
    with pytest.raises(artefact.ArtefactError, match="does not match the hash"):
        artefact.load_codes(tmp_path)
    (tmp_path / "codes" / "00-bias.npz").unlink()
    with pytest.raises(artefact.ArtefactError, match="is missing"):
        artefact.load_codes(tmp_path)


def test_fold_models_round_trip_beside_the_final_one_and_older_versions_have_none(tmp_path, fitted):
    models, texts, _ = fitted
    artefact.save_codes(tmp_path, {"bias": models["bias"], "tone": models["tone"]})
    assert artefact.load_code_folds(tmp_path, "bias") is None  # saved as before fold models were kept
    with pytest.raises(artefact.ArtefactError, match="save it before its fold models"):
        artefact.save_code_folds(tmp_path, "frame", [models["bias"]])
    folds = [models["bias"], models["primary frame"]]  # any classifiers: the format is the final model's
    manifest = artefact.save_code_folds(tmp_path, "bias", folds)
    assert [r["file"] for r in manifest["codes"]["bias"]["folds"]] == [
        "codes/00-bias.fold0.npz",
        "codes/00-bias.fold1.npz",
    ]
    loaded = artefact.load_code_folds(tmp_path, "bias")
    for model, back in zip(folds, loaded, strict=True):
        np.testing.assert_array_equal(back.predict_proba(texts[:20]), model.predict_proba(texts[:20]))
    assert artefact.load_code_folds(tmp_path, "tone") is None and set(artefact.load_codes(tmp_path)) == {"bias", "tone"}
    (tmp_path / "codes" / "00-bias.fold1.npz").write_bytes(b"tampered")
    with pytest.raises(artefact.ArtefactError, match="fold model 1 of 'bias' does not match the hash"):
        artefact.load_code_folds(tmp_path, "bias")
