"""Saving and loading a fitted model: identical predictions, a complete manifest, clear errors."""

import json

import numpy as np
import pytest

from ml import artefact
from ml.features import HashIndex
from ml.lexicon import LexiconClassifier
from tests.ml.test_lexicon import make_corpus


@pytest.fixture(scope="module")
def trained():
    texts, spans = make_corpus(200, seed=3)
    model = LexiconClassifier(n_splits=3, random_state=0, banned=["budget"]).fit(texts, spans)
    return model, texts, spans


def test_round_trip_gives_identical_predictions_and_lexicon(tmp_path, trained):
    model, texts, spans = trained
    manifest = artefact.save(model, tmp_path / "m", texts=texts, spans=spans, metrics={"note": 1})
    loaded, read_manifest = artefact.load(tmp_path / "m")
    assert read_manifest == manifest
    probe = [*texts[:60], "The radical regime slammed a bizarre, slamming far-left plan."]
    assert loaded.predict(probe) == model.predict(probe)
    assert loaded.lexicon_ == model.lexicon_
    assert loaded.get_params() == {**model.get_params(), "banned": ("budget",)}
    assert manifest["data_hash"] == artefact.data_hash(texts, spans)
    assert manifest["params"]["random_state"] == 0 and manifest["labels"] == ["loaded"]
    assert manifest["external_lexicon"]["name"] == "vader" and len(manifest["code_version"]["ml_sha256"]) == 64
    assert manifest["metrics"]["note"] == 1 and "internal_cv" in manifest["metrics"]
    assert manifest["created_at"].endswith("+00:00")


def test_data_hash_changes_with_spans(trained):
    _, texts, spans = trained
    changed = [list(doc) for doc in spans]
    changed[0] = []
    assert artefact.data_hash(texts, spans) != artefact.data_hash(texts, changed)


def test_tampered_or_missing_files_are_rejected(tmp_path, trained):
    model, texts, spans = trained
    artefact.save(model, tmp_path / "m", texts=texts, spans=spans)
    body = json.loads((tmp_path / "m" / "model.json").read_text())
    body["thresholds_"] = [0.0]
    (tmp_path / "m" / "model.json").write_text(json.dumps(body))
    with pytest.raises(artefact.ArtefactError, match="does not match the hash"):
        artefact.load(tmp_path / "m")
    with pytest.raises(artefact.ArtefactError, match="not a model directory"):
        artefact.load(tmp_path / "nothing")


def test_every_fitted_attribute_round_trips(tmp_path, trained):
    """save → load restores each public fitted attribute (a missing one broke predict after loading before)."""
    model, texts, spans = trained
    artefact.save(model, tmp_path / "m", texts=texts, spans=spans)
    loaded, _ = artefact.load(tmp_path / "m")
    fitted = [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]
    assert {"suffixes_", "context_vocab_", "thresholds_", "automaton_"} <= set(fitted)
    for name in fitted:
        assert hasattr(loaded, name), name
        a, b = getattr(model, name), getattr(loaded, name)
        if name == "automaton_":
            assert len(a) == len(b)
        elif name in ("context_models_", "text_models_"):
            for x, y in zip(a, b, strict=True):
                assert (x is None) == (y is None), name
                if x is None:
                    continue
                np.testing.assert_array_equal(x.coef_, y.coef_)
                np.testing.assert_array_equal(x.intercept_, y.intercept_)
        elif isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=name)
        elif isinstance(a, HashIndex):
            np.testing.assert_array_equal(a.sorted, b.sorted, err_msg=name)
        elif isinstance(a, dict) and name == "cv_scores_":
            assert {k: {m: float(v) for m, v in s.items()} for k, s in a.items()} == b
        else:
            assert a == b, name
    unseen = ["A bizarre, do-nothing regime slammed the far-left council.", "Nothing loaded here."]
    assert loaded.predict(unseen) == model.predict(unseen)


def test_a_model_saved_in_an_older_format_is_refused_with_a_clear_message(tmp_path, trained):
    model, texts, spans = trained
    artefact.save(model, tmp_path / "m", texts=texts, spans=spans)
    data = json.loads((tmp_path / "m" / "model.json").read_text())
    data["format"] = "framescope-lexicon/2"
    del data["text_models_"]
    body = json.dumps(data).encode()
    (tmp_path / "m" / "model.json").write_bytes(body)
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    manifest["model_sha256"] = __import__("hashlib").sha256(body).hexdigest()
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(artefact.ArtefactError, match="lexicon/2.*trained again"):
        artefact.load(tmp_path / "m")


def test_the_manifest_alone_tells_the_labels_without_loading_the_model(tmp_path, trained):
    model, texts, spans = trained
    artefact.save(model, tmp_path / "m", texts=texts, spans=spans)
    (tmp_path / "m" / artefact.MODEL_FILE).write_text("not read")  # read_manifest never opens the model
    assert artefact.read_manifest(tmp_path / "m")["labels"] == model.labels_
    with pytest.raises(artefact.ArtefactError, match="manifest.json is missing"):
        artefact.read_manifest(tmp_path / "nowhere")
    (tmp_path / "m" / artefact.MANIFEST_FILE).write_text("{")
    with pytest.raises(artefact.ArtefactError, match="corrupt JSON"):
        artefact.read_manifest(tmp_path / "m")
