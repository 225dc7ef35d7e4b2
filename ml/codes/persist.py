"""A fitted code classifier as a JSON header (parameters, answers) plus numpy arrays (no pickle).

:mod:`ml.artefact` stores both inside a model-version directory (``codes/<n>-<question>.json`` and ``.npz``);
arrays round-trip exactly, so a loaded classifier predicts what the saved one did.
"""

from __future__ import annotations

import io

import numpy as np

from ml.codes.classifier import MultipleChoiceClassifier, OrdinalScaleClassifier, SingleChoiceClassifier
from ml.codes.cues import SpanLexicon
from ml.codes.design import TextDesign

FORMAT = "framescope-codes/1"
TYPES = {"single": SingleChoiceClassifier, "multiple": MultipleChoiceClassifier, "ordinal": OrdinalScaleClassifier}
CodeClassifier = SingleChoiceClassifier | MultipleChoiceClassifier | OrdinalScaleClassifier


class CodesFormatError(ValueError):
    """A stored code classifier is incomplete or of another format."""


def question_type(model: CodeClassifier) -> str:
    for name, cls in TYPES.items():
        if type(model) is cls:
            return name
    raise ValueError(f"not a code classifier: {type(model).__name__}")


def plain_params(model: CodeClassifier) -> dict:
    params = model.get_params()
    params["char_ngrams"] = [int(n) for n in params["char_ngrams"]]
    if "points" in params:
        params["points"] = [str(p) for p in params["points"]]
        params["values"] = None if params["values"] is None else [float(v) for v in params["values"]]
    if not isinstance(params["random_state"], int | type(None)):
        params["random_state"] = None
    return params


def to_parts(model: CodeClassifier) -> tuple[dict, bytes]:
    """``(header, npz bytes)`` of a fitted classifier."""
    design = model.design_
    vec = design.vectorizer
    lexicon = design.span_lexicon
    header = {
        "format": FORMAT,
        "type": question_type(model),
        "params": plain_params(model),
        "classes_": [str(c) for c in model.classes_],
        "cue_names": design.cue_names,
        "span_labels": [] if lexicon is None else list(lexicon.labels),
        "n_features_": int(model.n_features_),
    }
    arrays = {
        "word_vocab": vec.word_vocab_,
        "word_idf": vec.word_idf_,
        "char_vocab": vec.char_vocab_,
        "char_idf": vec.char_idf_,
        "cue_mean": design.cue_mean,
        "cue_scale": design.cue_scale,
        "coef": model.coef_,
        "intercept": model.intercept_,
    }
    if isinstance(model, OrdinalScaleClassifier):
        arrays["cut_intercepts"] = model.cut_intercepts_
    if lexicon is not None:
        arrays.update(
            span_hashes=lexicon.hashes, span_support=lexicon.support, span_seen=lexicon.seen, span_base=lexicon.base
        )
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return header, buffer.getvalue()


def from_parts(header: dict, body: bytes) -> CodeClassifier:
    """Rebuild a fitted classifier from :func:`to_parts` output."""
    if header.get("format") != FORMAT:
        raise CodesFormatError(
            f"unsupported code classifier format {header.get('format')!r}; this code reads {FORMAT!r}"
        )
    try:
        cls = TYPES[header["type"]]
        params = dict(header["params"])
        params["char_ngrams"] = tuple(params["char_ngrams"])
        if "points" in params:
            params["points"] = tuple(params["points"])
        model = cls(**params)
        with np.load(io.BytesIO(body), allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        design = TextDesign(
            word_ngrams=model.word_ngrams,
            char_ngrams=model.char_ngrams,
            min_df=model.min_df,
            use_sentiment=model.use_sentiment,
            smoothing=model.smoothing,
            cue_weight=model.cue_weight,
        )
        vec = design.vectorizer
        vec.word_vocab_ = arrays["word_vocab"].astype(np.uint64)
        vec.word_idf_ = arrays["word_idf"]
        vec.char_vocab_ = arrays["char_vocab"].astype(np.uint64)
        vec.char_idf_ = arrays["char_idf"]
        vec.n_features_ = len(vec.word_vocab_) + len(vec.char_vocab_)
        design.cue_mean = arrays["cue_mean"]
        design.cue_scale = arrays["cue_scale"]
        if header["span_labels"]:
            design.span_lexicon = SpanLexicon(
                list(header["span_labels"]),
                arrays["span_hashes"].astype(np.uint64),
                arrays["span_support"],
                arrays["span_seen"],
                arrays["span_base"],
                model.smoothing,
            )
        if design.cue_names != header["cue_names"]:
            raise CodesFormatError(f"cue columns differ: stored {header['cue_names']}, rebuilt {design.cue_names}")
        model.design_ = design
        model.classes_ = np.array(header["classes_"], dtype=object)
        model.coef_ = arrays["coef"]
        model.intercept_ = arrays["intercept"]
        model.n_features_ = int(header["n_features_"])
        if isinstance(model, OrdinalScaleClassifier):
            model.cut_intercepts_ = arrays["cut_intercepts"]
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, CodesFormatError):
            raise
        raise CodesFormatError(f"incomplete or invalid code classifier ({exc!r})") from exc
    if model.coef_.shape[1] != model.n_features_:
        raise CodesFormatError(f"coefficients have {model.coef_.shape[1]} columns for {model.n_features_} features")
    return model
