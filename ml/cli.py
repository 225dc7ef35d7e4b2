"""``python -m ml``: train, predict and evaluate the lexicon classifier and the question classifiers.

    python -m ml train --format babe TRAIN.csv --out MODEL
    python -m ml predict --model MODEL --format babe INPUT.csv > PRED.jsonl
    python -m ml evaluate --model MODEL --format babe TEST.csv [--json]
    python -m ml train-codes --format babe TRAIN.csv --out MODEL [--cv 5]
    python -m ml predict-codes --model MODEL --format babe INPUT.csv > PRED.jsonl

JSON-lines input: one record per line, ``{"text": str, "spans": [{"start", "end", "label"}, ...]}``
(``spans`` may be omitted for ``predict``; ``group`` optionally names the source document). For the question
classifiers a record also has ``"codes": {"<question>": "<answer>"}`` (a list of answers for a multiple-choice
question). BABE files give the question ``bias`` from ``label_bias`` (Biased / Non-biased; rows without one of
these answers, such as "No agreement", are left out of training and reported).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ml import artefact
from ml.babe import BabeFormatError, read_babe
from ml.codes import MultipleChoiceClassifier, SingleChoiceClassifier, codes_data_hash, cross_fit
from ml.evaluation import evaluate, format_report
from ml.lexicon import LexiconClassifier
from ml.spans import Span, as_span


class CliError(Exception):
    """A problem the user can fix (bad file, bad option); printed without a traceback."""


@dataclass(frozen=True)
class Corpus:
    texts: list[str]
    spans: list[list[Span]]
    groups: list[str] | None
    notes: list[str]


def read_babe_corpus(path: Path) -> Corpus:
    try:
        data = read_babe(path)
    except BabeFormatError as exc:
        raise CliError(str(exc)) from exc
    notes = [f"{u['source']}:{u['line']}: {u['message']}" for u in data.unmatched]
    return Corpus(data.texts, data.spans, data.groups, notes)


def read_jsonl_corpus(path: Path) -> Corpus:
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    texts, spans, groups = [], [], []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CliError(f"{path}:{line_no}: not JSON ({exc.msg})") from exc
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise CliError(f'{path}:{line_no}: each line must be an object with a "text" string')
            text = record["text"]
            try:
                doc = [as_span(s) for s in record.get("spans") or []]
            except (ValueError, TypeError) as exc:
                raise CliError(f"{path}:{line_no}: bad span: {exc}") from exc
            for s in doc:
                if s.end > len(text):
                    raise CliError(f"{path}:{line_no}: span {s.key} ends past the text ({len(text)} code points)")
            texts.append(text)
            spans.append(doc)
            groups.append(str(record.get("group", len(groups))))
    if not texts:
        raise CliError(f"{path}: no records")
    return Corpus(texts, spans, groups, [])


READERS: dict[str, Callable[[Path], Corpus]] = {"babe": read_babe_corpus, "jsonl": read_jsonl_corpus}

BABE_QUESTION = "bias"
BABE_ANSWERS = ("Biased", "Non-biased")


@dataclass(frozen=True)
class CodedCorpus:
    """Texts with, per question, each text's answer (None: not answered) and the texts' spans and groups."""

    corpus: Corpus
    answers: dict[str, list]
    skipped: dict[str, Counter]  # per question, what the rows left out held


def read_babe_coded(path: Path) -> CodedCorpus:
    corpus = read_babe_corpus(path)
    labels = [row.label_bias for row in read_babe(path).rows]
    skipped = Counter(label for label in labels if label not in BABE_ANSWERS)
    answers = [a if a in BABE_ANSWERS else None for a in labels]
    return CodedCorpus(corpus, {BABE_QUESTION: answers}, {BABE_QUESTION: skipped})


def read_jsonl_coded(path: Path) -> CodedCorpus:
    corpus = read_jsonl_corpus(path)
    answers: dict[str, list] = {}
    with path.open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    for i, record in enumerate(records):
        codes = record.get("codes") or {}
        if not isinstance(codes, dict):
            raise CliError(f'{path}: record {i + 1}: "codes" must be an object of question: answer')
        for question, answer in codes.items():
            answers.setdefault(question, [None] * len(records))[i] = answer
    skipped = {q: Counter({"(not answered)": a.count(None)}) for q, a in answers.items() if None in a}
    return CodedCorpus(corpus, answers, skipped)


CODED_READERS: dict[str, Callable[[Path], CodedCorpus]] = {"babe": read_babe_coded, "jsonl": read_jsonl_coded}


def _code_model(answers: list, seed: int):
    if any(isinstance(a, list) for a in answers):
        return MultipleChoiceClassifier(random_state=seed)
    return SingleChoiceClassifier(random_state=seed)


def cmd_train_codes(args: argparse.Namespace) -> int:
    coded = CODED_READERS[args.format](args.input)
    corpus = coded.corpus
    if not coded.answers:
        raise CliError(f"{args.input}: no question has answers to learn")
    models, metrics, hashes = {}, {}, {}
    for question, answers in coded.answers.items():
        rows = [i for i, a in enumerate(answers) if a is not None]
        skipped = len(answers) - len(rows)
        if skipped:
            held = ", ".join(f"{value!r} × {n}" for value, n in sorted(coded.skipped[question].items()))
            print(f"note: {question}: {skipped} row(s) skipped, no usable answer ({held})", file=sys.stderr)
        texts = [corpus.texts[i] for i in rows]
        y = [answers[i] for i in rows]
        spans = [corpus.spans[i] for i in rows]
        groups = [corpus.groups[i] for i in rows] if corpus.groups else None
        model = _code_model(y, args.seed)
        try:
            model.fit(texts, y, spans=spans, groups=groups)
            if args.cv:
                cv = cross_fit(model, texts, y, groups=groups or list(range(len(texts))), spans=spans, n_splits=args.cv)
                metrics[question] = {"cv": cv.to_dict()}
        except ValueError as exc:
            raise CliError(f"cannot train {question!r} on {args.input}: {exc}") from exc
        models[question] = model
        hashes[question] = codes_data_hash(texts, y)
        summary = f"{question}: trained on {len(texts)} texts, answers {list(model.classes_)}"
        if question in metrics:
            summary += f", {args.cv}-fold grouped CV macro-F1 {metrics[question]['cv']['pooled']['macro_f1']:.3f}"
        print(summary + f", {skipped} skipped")
    artefact.save_codes(args.out, models, metrics=metrics, data_sha256=hashes)
    print(f"-> {args.out}")
    return 0


def cmd_predict_codes(args: argparse.Namespace) -> int:
    try:
        models = artefact.load_codes(args.model)
    except artefact.ArtefactError as exc:
        raise CliError(str(exc)) from exc
    if not models:
        raise CliError(f"{args.model}: this model version has no question classifier")
    corpus = READERS[args.format](args.input)
    outputs = {question: _code_outputs(model, corpus.texts) for question, model in models.items()}
    out = sys.stdout
    for i, text in enumerate(corpus.texts):
        codes = {question: rows[i] for question, rows in outputs.items()}
        out.write(json.dumps({"text": text, "codes": codes}, ensure_ascii=False) + "\n")
    return 0


def _code_outputs(model, texts: list[str]) -> list[dict]:
    proba = model.predict_proba(texts)
    classes = [str(c) for c in model.classes_]
    if isinstance(model, MultipleChoiceClassifier):
        return [
            {"answers": [a for a, p in zip(classes, row, strict=True) if p >= 0.5],
             "scores": {a: round(float(p), 4) for a, p in zip(classes, row, strict=True)}}
            for row in proba
        ]  # fmt: skip
    answers = model.predict(texts)
    index = {a: j for j, a in enumerate(classes)}
    return [
        {"answer": str(a), "score": round(float(row[index[str(a)]]), 4)} for a, row in zip(answers, proba, strict=True)
    ]


def load_model(path: Path) -> LexiconClassifier:
    try:
        return artefact.load(path)[0]
    except artefact.ArtefactError as exc:
        raise CliError(str(exc)) from exc


def cmd_train(args: argparse.Namespace) -> int:
    corpus = READERS[args.format](args.input)
    for note in corpus.notes:
        print(f"note: {note}", file=sys.stderr)
    model = LexiconClassifier(
        external_lexicon=None if args.no_external else "vader",
        pinned=tuple(args.pin),
        banned=tuple(args.ban),
        random_state=args.seed,
    )
    try:
        model.fit(corpus.texts, corpus.spans, groups=corpus.groups)
    except ValueError as exc:
        raise CliError(f"cannot train on {args.input}: {exc}") from exc
    manifest = artefact.save(model, args.out, texts=corpus.texts, spans=corpus.spans)
    print(
        f"trained on {len(corpus.texts)} texts, {sum(map(len, corpus.spans))} spans: "
        f"{manifest['n_terms']} lexicon terms, thresholds {manifest['thresholds']} -> {args.out}"
    )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    corpus = READERS[args.format](args.input)
    out = sys.stdout
    for text, spans in zip(corpus.texts, model.predict(corpus.texts), strict=True):
        out.write(json.dumps({"text": text, "spans": [s.to_dict() for s in spans]}, ensure_ascii=False) + "\n")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    corpus = READERS[args.format](args.input)
    metrics = evaluate(corpus.texts, corpus.spans, model.predict(corpus.texts))
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print(format_report(metrics))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ml", description="Framescope lexicon and question classifiers")
    sub = parser.add_subparsers(dest="command", required=True)
    fmt = {"choices": sorted(READERS), "required": True, "help": "input format"}
    train = sub.add_parser("train", help="fit a model and save it to a directory")
    train.add_argument("--format", **fmt)
    train.add_argument("input", type=Path)
    train.add_argument("--out", type=Path, required=True, help="model directory to write")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--pin", action="append", default=[], metavar="TERM", help="always predict TERM")
    train.add_argument("--ban", action="append", default=[], metavar="TERM", help="never predict TERM")
    train.add_argument("--no-external", action="store_true", help="do not use the VADER lexicon")
    train.set_defaults(func=cmd_train)
    train_codes = sub.add_parser("train-codes", help="fit a classifier per question and save them to a directory")
    train_codes.add_argument("--format", **fmt)
    train_codes.add_argument("input", type=Path)
    train_codes.add_argument("--out", type=Path, required=True, help="model directory to write (or add to)")
    train_codes.add_argument("--seed", type=int, default=0)
    train_codes.add_argument("--cv", type=int, default=0, metavar="K", help="also store K-fold grouped CV metrics")
    train_codes.set_defaults(func=cmd_train_codes)
    predict_codes = sub.add_parser("predict-codes", help="write one JSON line of predicted answers per input record")
    predict_codes.add_argument("--model", type=Path, required=True)
    predict_codes.add_argument("--format", **fmt)
    predict_codes.add_argument("input", type=Path)
    predict_codes.set_defaults(func=cmd_predict_codes)
    for name, func, help_text in (
        ("predict", cmd_predict, "write one JSON line of predicted spans per input record"),
        ("evaluate", cmd_evaluate, "span P/R/F1 (exact, partial) and word-level P/R/F1"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--model", type=Path, required=True)
        p.add_argument("--format", **fmt)
        p.add_argument("input", type=Path)
        if name == "evaluate":
            p.add_argument("--json", action="store_true", help="print the metrics as JSON")
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
