"""Save and load a model version: a fitted :class:`~ml.lexicon.LexiconClassifier` and/or document classifiers
for codebook questions (:mod:`ml.codes`), described by one manifest.

A model directory holds:

* ``model.json``: the hyper-parameters and every fitted array (lexicon counts, stem counts, context
  vocabularies, logistic-regression coefficients, thresholds). Floats are written with ``repr`` precision,
  so a loaded model predicts exactly what the saved one did.
* ``manifest.json``: ``format``, ``created_at`` (UTC), ``code_version`` (package version and a SHA-256 of
  the ``ml`` sources that define the model), ``data_hash`` (SHA-256 of the training texts and spans),
  ``params``, ``metrics``, ``labels``, ``n_terms``, the external lexicon's name and hash, and the SHA-256 of
  ``model.json`` (checked on load).
* ``codes/NN-<question>.json`` and ``.npz``: one document classifier per question (:func:`save_codes`), its
  parameters and answers as JSON and its arrays as a numpy ``.npz`` (loaded without pickle). The manifest's
  ``codes`` maps each question to its type, answers, files, their SHA-256, metrics, data hash and code version.

A version may hold the lexicon, question classifiers, or both. Without a lexicon (``python -m ml train-codes``)
the manifest's ``format`` is :data:`CODES_ONLY_FORMAT` and :func:`load` refuses it with a clear message; a
manifest written before question classifiers existed has no ``codes`` key and loads as before.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ml.features import load_external_lexicon
from ml.spans import Span, as_span

if TYPE_CHECKING:  # the classes are imported where a model is built: reading a manifest needs no scikit-learn
    from sklearn.linear_model import LogisticRegression

    from ml.codes.persist import CodeClassifier
    from ml.lexicon import LexiconClassifier

FORMAT = "framescope-lexicon/3"  # 3: adds the text model (text_vocab_, text_models_, text_C_)
CODES_ONLY_FORMAT = "framescope-codes-only/1"  # a version with question classifiers and no lexicon
MODEL_FILE = "model.json"
MANIFEST_FILE = "manifest.json"
CODES_DIR = "codes"
_SOURCES = ("lexicon.py", "features.py", "matching.py", "tokenise.py", "spans.py")
_CODES_SOURCES = (
    "features.py",
    "tokenise.py",
    "spans.py",
    "codes/ngrams.py",
    "codes/cues.py",
    "codes/design.py",
    "codes/classifier.py",
    "codes/persist.py",
)


class ArtefactError(ValueError):
    """A model directory is missing, incomplete, corrupt or from an incompatible version."""


def code_version(sources: Sequence[str] = _SOURCES) -> dict:
    """The package version and a SHA-256 over the ml sources that define the model's behaviour."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in sources:
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
    from ml.lexicon import LexiconClassifier

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
    previous = _existing_manifest(directory)
    if previous.get("codes"):
        manifest["codes"] = previous["codes"]
    (directory / MODEL_FILE).write_bytes(body)
    _write_manifest(directory, manifest)
    return manifest


def _existing_manifest(directory: Path) -> dict:
    return read_manifest(directory) if (directory / MANIFEST_FILE).is_file() else {}


def _write_manifest(directory: Path, manifest: dict) -> None:
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


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
        if (directory / MANIFEST_FILE).is_file() and read_manifest(directory).get("format") == CODES_ONLY_FORMAT:
            raise ArtefactError(f"{directory}: this model version has question classifiers only, no lexicon")
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


# ---------------------------------------------------------------------- question classifiers
def _slug(question: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", question.lower()).strip("-")[:40] or "question"


def save_codes(
    directory: str | Path,
    classifiers: Mapping[str, CodeClassifier],
    *,
    metrics: Mapping[str, dict] | None = None,
    data_sha256: Mapping[str, str] | None = None,
) -> dict:
    """Add (or replace) question classifiers in a model directory (created if needed); return the manifest.

    ``classifiers`` maps a question's name to its fitted classifier; ``metrics`` and ``data_sha256`` optionally map
    it to its cross-validation results (:meth:`ml.codes.evaluation.CrossFitted.to_dict`, plain data) and a hash of
    its training data (:func:`ml.codes.codes_data_hash`). A lexicon already in the directory is kept.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ArtefactError(f"{directory} exists and is not a directory")
    (directory / CODES_DIR).mkdir(parents=True, exist_ok=True)
    manifest = _existing_manifest(directory)
    if not manifest:
        manifest = {"format": CODES_ONLY_FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
    codes = dict(manifest.get("codes") or {})
    version = code_version(_CODES_SOURCES)
    for question, model in classifiers.items():
        if not isinstance(question, str) or not question:
            raise ArtefactError(f"question names must be non-empty strings, got {question!r}")
        old = codes.get(question)
        stem = old["file"].rsplit(".", 1)[0] if old else f"{CODES_DIR}/{len(codes):02d}-{_slug(question)}"
        header, record = _write_classifier(directory, stem, model)
        codes[question] = {
            "type": header["type"],
            "answers": header["classes_"],
            **record,
            "params": header["params"],
            "span_labels": header["span_labels"],
            "metrics": dict((metrics or {}).get(question) or {}),
            "data_hash": (data_sha256 or {}).get(question),
            "code_version": version,
        }
    manifest["codes"] = codes
    _write_manifest(directory, manifest)
    return manifest


def load_codes(directory: str | Path, questions: Sequence[str] | None = None) -> dict[str, CodeClassifier]:
    """The question classifiers of a model directory (all, or ``questions``), checked against the manifest."""
    directory = Path(directory)
    codes = read_manifest(directory).get("codes") or {}
    wanted = list(codes) if questions is None else list(questions)
    missing = [q for q in wanted if q not in codes]
    if missing:
        raise ArtefactError(f"{directory}: no classifier for question(s) {missing} (it has {sorted(codes)})")
    out = {}
    for question in wanted:
        out[question] = _read_classifier(directory, codes[question], f"the classifier of {question!r}")
    return out


def _write_classifier(directory: Path, stem: str, model: CodeClassifier) -> tuple[dict, dict]:
    """Write ``stem.json`` and ``stem.npz`` of a fitted classifier; its header and its manifest record."""
    from ml.codes import persist as codes_persist

    header, body = codes_persist.to_parts(model)
    header_bytes = json.dumps(header, ensure_ascii=False, indent=1).encode("utf-8")
    (directory / f"{stem}.json").write_bytes(header_bytes)
    (directory / f"{stem}.npz").write_bytes(body)
    record = {
        "file": f"{stem}.npz",
        "header": f"{stem}.json",
        "sha256": {"header": hashlib.sha256(header_bytes).hexdigest(), "arrays": hashlib.sha256(body).hexdigest()},
    }
    return header, record


def _read_classifier(directory: Path, entry: dict, what: str) -> CodeClassifier:
    """The classifier a manifest record (``file``, ``header``, ``sha256``) points to, checked against its hashes."""
    from ml.codes import persist as codes_persist

    try:
        header_bytes = (directory / entry["header"]).read_bytes()
        body = (directory / entry["file"]).read_bytes()
    except (OSError, KeyError) as exc:
        raise ArtefactError(f"{directory}: {what} is missing ({exc})") from exc
    sums = entry.get("sha256") or {}
    if hashlib.sha256(header_bytes).hexdigest() != sums.get("header") or hashlib.sha256(body).hexdigest() != sums.get(
        "arrays"
    ):
        raise ArtefactError(f"{directory}: {what} does not match the hash in {MANIFEST_FILE}")
    try:
        return codes_persist.from_parts(json.loads(header_bytes), body)
    except (json.JSONDecodeError, UnicodeDecodeError, codes_persist.CodesFormatError, OSError) as exc:
        raise ArtefactError(f"{directory}: {what} cannot be read ({exc})") from exc


def save_code_folds(directory: str | Path, question: str, models: Sequence[CodeClassifier]) -> dict:
    """Store the cross-validation fold models of a question beside its final classifier; return the manifest.

    Fold ``k``'s model (fitted without fold ``k``) is saved as ``codes/NN-<question>.fold<k>.json`` / ``.npz`` in
    the classifier's own format; ``codes[question]["folds"]`` lists their records in fold order. Scoring predicts a
    unit the version did not learn from with fold ``article id mod K``'s model, so the cross-validated
    misclassification describes the model that predicted it (:mod:`annotator.scoring.codes`). The question must
    have a classifier in the directory (:func:`save_codes` first).
    """
    directory = Path(directory)
    manifest = _existing_manifest(directory)
    entry = (manifest.get("codes") or {}).get(question)
    if entry is None:
        raise ArtefactError(f"{directory}: no classifier for question {question!r}; save it before its fold models")
    stem = entry["file"].rsplit(".", 1)[0]
    entry["folds"] = [_write_classifier(directory, f"{stem}.fold{k}", model)[1] for k, model in enumerate(models)]
    _write_manifest(directory, manifest)
    return manifest


def load_code_folds(directory: str | Path, question: str) -> list[CodeClassifier] | None:
    """The fold models :func:`save_code_folds` stored for ``question``, fold ``k``'s at index ``k`` (None when it
    stored none: a version trained before fold models were kept)."""
    directory = Path(directory)
    records = ((read_manifest(directory).get("codes") or {}).get(question) or {}).get("folds")
    if not records:
        return None
    return [_read_classifier(directory, r, f"fold model {k} of {question!r}") for k, r in enumerate(records)]


def save_code_units(directory: str | Path, question: str, arrays: Mapping[str, np.ndarray]) -> dict:
    """Store per-unit arrays beside a question's classifier (e.g. the cross-fitted prediction of every training
    unit, which scoring counts instead of the final model's in-sample one); return the manifest.

    ``arrays`` are plain numeric numpy arrays (saved as ``codes/NN-<question>.units.npz``, read without pickle); the
    manifest's ``codes[question]["units"]`` records the file and its SHA-256. The question must have a classifier
    in the directory (:func:`save_codes` first).
    """
    directory = Path(directory)
    manifest = _existing_manifest(directory)
    entry = (manifest.get("codes") or {}).get(question)
    if entry is None:
        raise ArtefactError(f"{directory}: no classifier for question {question!r}; save it before its units")
    for name, values in arrays.items():
        if np.asarray(values).dtype == object:
            raise ArtefactError(f"units array {name!r} of {question!r} must be numeric, not object")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{name: np.asarray(values) for name, values in arrays.items()})
    body = buffer.getvalue()
    stem = entry["file"].rsplit(".", 1)[0]
    (directory / f"{stem}.units.npz").write_bytes(body)
    entry["units"] = {"file": f"{stem}.units.npz", "sha256": hashlib.sha256(body).hexdigest(), "names": sorted(arrays)}
    _write_manifest(directory, manifest)
    return manifest


def load_code_units(directory: str | Path, question: str) -> dict[str, np.ndarray] | None:
    """The per-unit arrays :func:`save_code_units` stored for ``question`` (None when it stored none)."""
    directory = Path(directory)
    entry = ((read_manifest(directory).get("codes") or {}).get(question) or {}).get("units")
    if not entry:
        return None
    try:
        body = (directory / entry["file"]).read_bytes()
    except OSError as exc:
        raise ArtefactError(f"{directory}: the units of {question!r} are missing ({exc})") from exc
    if hashlib.sha256(body).hexdigest() != entry.get("sha256"):
        raise ArtefactError(f"{directory}: the units of {question!r} do not match the hash in {MANIFEST_FILE}")
    with np.load(io.BytesIO(body), allow_pickle=False) as data:
        return {name: data[name] for name in data.files}
