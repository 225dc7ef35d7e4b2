"""``python -m ml``: train, predict and evaluate the lexicon classifier on BABE or JSON-lines files.

    python -m ml train --format babe TRAIN.csv --out MODEL
    python -m ml predict --model MODEL --format babe INPUT.csv > PRED.jsonl
    python -m ml evaluate --model MODEL --format babe TEST.csv [--json]

JSON-lines input: one record per line, ``{"text": str, "spans": [{"start", "end", "label"}, ...]}``
(``spans`` may be omitted for ``predict``; ``group`` optionally names the source document).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ml import artefact
from ml.babe import BabeFormatError, read_babe
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
    parser = argparse.ArgumentParser(prog="python -m ml", description="Framescope lexicon classifier")
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
