"""Save and load a fitted :class:`~ml.lexicon.LexiconClassifier` as plain JSON plus a manifest.

A model directory holds two files:

* ``model.json``: the hyper-parameters and every fitted array (lexicon counts, stem counts, context
  vocabularies, logistic-regression coefficients, thresholds). Floats are written with ``repr`` precision,
  so a loaded model predicts exactly what the saved one did.
* ``manifest.json``: ``format``, ``created_at`` (UTC), ``code_version`` (package version and a SHA-256 of
  the ``ml`` sources that define the model), ``data_hash`` (SHA-256 of the training texts and spans),
  ``params``, ``metrics``, ``labels``, ``n_terms``, the external lexicon's name and hash, and the SHA-256 of
  ``model.json`` (checked on load).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from ml.features import load_external_lexicon
from ml.lexicon import LexiconClassifier
from ml.spans import Span, as_span

FORMAT = "framescope-lexicon/3"  # 3: adds the text model (text_vocab_, text_models_, text_C_)
MODEL_FILE = "model.json"
MANIFEST_FILE = "manifest.json"
_SOURCES = ("lexicon.py", "features.py", "matching.py", "tokenise.py", "spans.py")


class ArtefactError(ValueError):
    """A model directory is missing, incomplete, corrupt or from an incompatible version."""


def code_version() -> dict:
    """The package version and a SHA-256 over the ml sources that define the model's behaviour."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _SOURCES:
        digest.update((here / name).read_bytes())
    try:
        version = metadata.version("framescope")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"package": version, "ml_sha256": digest.hexdigest()}


def data_hash(texts: Sequence[str], spans: Sequence[Sequence]) -> str:
    """SHA-256 of the training data: every text and its sorted ``(start, end, label)`` spans, in order."""
    digest = hashlib.sha256()
    for text, doc in zip(texts, spans, strict=True):
        keys = sorted(as_span(s).key for s in doc)
        digest.update(json.dumps([text, keys], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def _params(model: LexiconClassifier) -> dict:
    params = model.get_params()
    params["pinned"] = [r if isinstance(r, str) else list(r) for r in params["pinned"]]
    params["banned"] = [r if isinstance(r, str) else list(r) for r in params["banned"]]
    if not isinstance(params["random_state"], int | type(None)):
        params["random_state"] = None
    return params


def to_dict(model: LexiconClassifier) -> dict:
    """Every parameter and fitted attribute of ``model`` as JSON-ready values."""
    models = [
        None if m is None else {"coef": m.coef_.ravel().tolist(), "intercept": float(m.intercept_[0])}
        for m in model.context_models_
    ]
    return {
        "format": FORMAT,
        "params": _params(model),
        "labels_": list(model.labels_),
        "terms_": list(model.terms_),
        "term_support_": model.term_support_.tolist(),
        "term_seen_": model.term_seen_.tolist(),
        "stems_": list(model.stems_),
        "stem_support_": model.stem_support_.tolist(),
        "stem_seen_": model.stem_seen_.tolist(),
        "base_rate_": model.base_rate_.tolist(),
        "suffixes_": list(model.suffixes_),
        "suffix_support_": model.suffix_support_.tolist(),
        "suffix_seen_": model.suffix_seen_.tolist(),
        "context_vocab_": [int(h) for h in model.context_vocab_],
        "suffix_vocab_": [int(h) for h in model.suffix_vocab_],
        "term_vocab_": list(model.term_vocab_),
        "context_models_": models,
        "text_vocab_": [int(h) for h in model.text_vocab_],
        "text_models_": [
            None if m is None else {"coef": m.coef_.ravel().tolist(), "intercept": float(m.intercept_[0])}
            for m in model.text_models_
        ],
        "text_C_": model.text_C_.tolist(),
        "constant_proba_": model.constant_proba_.tolist(),
        "thresholds_": model.thresholds_.tolist(),
        "cv_scores_": {k: {m: float(v) for m, v in s.items()} for k, s in model.cv_scores_.items()},
        "n_features_": int(model.n_features_),
    }


def from_dict(data: dict) -> LexiconClassifier:
    """Rebuild a fitted model from :func:`to_dict` output."""
    if data.get("format") != FORMAT:
        raise ArtefactError(
            f"unsupported model format {data.get('format')!r}; this code reads {FORMAT!r} "
            "(a model saved by an older version must be trained again, e.g. with `python -m ml train`)"
        )
    params = dict(data["params"])
    params["pinned"] = tuple(r if isinstance(r, str) else tuple(r) for r in params["pinned"])
    params["banned"] = tuple(r if isinstance(r, str) else tuple(r) for r in params["banned"])
    model = LexiconClassifier(**params)
    n_labels = len(data["labels_"])
    model.labels_ = list(data["labels_"])
    model.terms_ = list(data["terms_"])
    model.term_support_ = np.array(data["term_support_"], dtype=np.int64).reshape(-1, n_labels)
    model.term_seen_ = np.array(data["term_seen_"], dtype=np.int64)
    model.stems_ = list(data["stems_"])
    model.stem_support_ = np.array(data["stem_support_"], dtype=np.int64).reshape(-1, n_labels)
    model.stem_seen_ = np.array(data["stem_seen_"], dtype=np.int64)
    model.base_rate_ = np.array(data["base_rate_"], dtype=float)
    model.suffixes_ = list(data["suffixes_"])
    model.suffix_support_ = np.array(data["suffix_support_"], dtype=np.int64).reshape(-1, n_labels)
    model.suffix_seen_ = np.array(data["suffix_seen_"], dtype=np.int64)
    model.context_vocab_ = np.array(data["context_vocab_"], dtype=np.uint64)
    model.suffix_vocab_ = np.array(data["suffix_vocab_"], dtype=np.uint64)
    model.term_vocab_ = [str(t) for t in data["term_vocab_"]]
    model.context_models_ = [None if m is None else _logistic(model, m) for m in data["context_models_"]]
    model.text_vocab_ = np.array(data["text_vocab_"], dtype=np.uint64)
    model.text_models_ = [None if m is None else _logistic(model, m) for m in data["text_models_"]]
    model.text_C_ = np.array(data["text_C_"], dtype=float)
    model.constant_proba_ = np.array(data["constant_proba_"], dtype=float)
    model.thresholds_ = np.array(data["thresholds_"], dtype=float)
    model.cv_scores_ = data["cv_scores_"]
    model.n_features_ = int(data["n_features_"])
    model._build_automaton()
    model.lexicon_ = model._lexicon_table()
    return model


def _logistic(model: LexiconClassifier, saved: dict) -> LogisticRegression:
    lr = model._new_lr()
    lr.coef_ = np.array(saved["coef"], dtype=float).reshape(1, -1)
    lr.intercept_ = np.array([saved["intercept"]], dtype=float)
    lr.classes_ = np.array([0, 1])
    lr.n_features_in_ = lr.coef_.shape[1]
    return lr


def save(
    model: LexiconClassifier,
    directory: str | Path,
    *,
    texts: Sequence[str] | None = None,
    spans: Sequence[Sequence[Span]] | None = None,
    metrics: dict | None = None,
    data_sha256: str | None = None,
) -> dict:
    """Write ``model.json`` and ``manifest.json`` into ``directory`` (created if needed); return the manifest."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ArtefactError(f"{directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    body = json.dumps(to_dict(model), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if data_sha256 is None and texts is not None and spans is not None:
        data_sha256 = data_hash(texts, spans)
    external = load_external_lexicon(model.external_lexicon) if model.external_lexicon else None
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
        "data_hash": data_sha256,
        "params": _params(model),
        "labels": list(model.labels_),
        "n_terms": len(model.lexicon_),
        "thresholds": dict(zip(model.labels_, model.thresholds_.tolist(), strict=True)),
        "metrics": {"internal_cv": to_dict(model)["cv_scores_"], **(metrics or {})},
        "external_lexicon": None
        if external is None
        else {"name": external.name, "licence": external.licence, "sha256": external.sha256},
        "model_sha256": hashlib.sha256(body).hexdigest(),
    }
    (directory / MODEL_FILE).write_bytes(body)
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def read_manifest(directory: str | Path) -> dict:
    """The manifest of a model directory alone (labels, metrics, provenance), without loading the model."""
    path = Path(directory) / MANIFEST_FILE
    if not path.is_file():
        raise ArtefactError(f"{directory}: not a model directory ({MANIFEST_FILE} is missing)")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtefactError(f"{directory}: corrupt JSON ({exc})") from exc


def load(directory: str | Path) -> tuple[LexiconClassifier, dict]:
    """Read a model directory written by :func:`save`; returns ``(model, manifest)``."""
    directory = Path(directory)
    model_path = directory / MODEL_FILE
    if not model_path.is_file():
        raise ArtefactError(f"{directory}: not a model directory ({MODEL_FILE} is missing)")
    manifest = read_manifest(directory)
    try:
        body = model_path.read_bytes()
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtefactError(f"{directory}: corrupt JSON ({exc})") from exc
    if hashlib.sha256(body).hexdigest() != manifest.get("model_sha256"):
        raise ArtefactError(f"{directory}: {MODEL_FILE} does not match the hash in {MANIFEST_FILE}")
    ext = manifest.get("external_lexicon")
    if ext and load_external_lexicon(ext["name"]).sha256 != ext["sha256"]:
        raise ArtefactError(
            f"{directory}: the installed {ext['name']} lexicon differs from the one it was trained with"
        )
    try:
        return from_dict(data), manifest
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ArtefactError):
            raise
        raise ArtefactError(f"{directory}: incomplete or invalid model ({exc!r})") from exc
