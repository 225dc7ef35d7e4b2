"""Read BABE (Spinde et al., EMNLP Findings 2021) sentence files into texts with *loaded term* spans.

Matching rule (documented in docs/model.md): every entry of a row's ``biased_words`` is tokenised with
BABE's word regex (:data:`ml.tokenise.WORD_RE`); it is found wherever the same token sequence occurs in
the sentence, compared case-insensitively on whole tokens. Every occurrence becomes a span labelled
``loaded`` (annotators marked word types, not positions). Entries that occur nowhere are reported in
:attr:`BabeRow.unmatched` and :attr:`BabeDataset.unmatched`, never silently dropped.
"""

from __future__ import annotations

import ast
import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ml.spans import Span
from ml.tokenise import iter_tokens

LOADED = "loaded"
COLUMNS = ("text", "news_link", "outlet", "topic", "type", "label_bias", "label_opinion", "biased_words")


class BabeFormatError(ValueError):
    """A BABE file cannot be read; the message names the file and the line."""


@dataclass(frozen=True)
class BabeRow:
    """One BABE sentence with its metadata and its loaded-term spans."""

    line: int
    text: str
    news_link: str
    outlet: str
    topic: str
    type: str
    label_bias: str
    label_opinion: str
    biased_words: tuple[str, ...]
    spans: tuple[Span, ...]
    unmatched: tuple[str, ...] = ()


@dataclass(frozen=True)
class BabeDataset:
    """All rows of a BABE file, plus the list of marked words that could not be found in their sentence."""

    path: str
    rows: tuple[BabeRow, ...]
    unmatched: tuple[dict, ...] = field(default_factory=tuple)

    @property
    def texts(self) -> list[str]:
        return [row.text for row in self.rows]

    @property
    def spans(self) -> list[list[Span]]:
        return [list(row.spans) for row in self.rows]

    @property
    def groups(self) -> list[str]:
        return [row.news_link for row in self.rows]

    @property
    def n_spans(self) -> int:
        return sum(len(row.spans) for row in self.rows)


def parse_biased_words(value: str, *, line: int = 0, source: str = "") -> tuple[str, ...]:
    """Parse the ``biased_words`` cell, a Python list literal such as ``"['fringe', 'extreme']"``."""
    value = (value or "").strip()
    if not value:
        return ()
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError) as exc:
        raise BabeFormatError(f"{source}:{line}: biased_words is not a list literal: {value[:80]!r}") from exc
    if not isinstance(parsed, list | tuple) or not all(isinstance(w, str) for w in parsed):
        raise BabeFormatError(f"{source}:{line}: biased_words must be a list of strings, got {value[:80]!r}")
    return tuple(w for w in parsed if w.strip())


def find_word_spans(text: str, words: Iterable[str], *, label: str = LOADED) -> tuple[list[Span], list[str]]:
    """Spans for every case-insensitive whole-token occurrence of each word/phrase; plus the words not found."""
    tokens = list(iter_tokens(text))
    lowered = [w.lower() for _, _, w in tokens]
    found: set[tuple[int, int]] = set()
    unmatched: list[str] = []
    for word in dict.fromkeys(words):  # unique, in order
        needle = [w.lower() for _, _, w in iter_tokens(word)]
        hits = 0
        if needle:
            n = len(needle)
            for i in range(len(tokens) - n + 1):
                if lowered[i : i + n] == needle:
                    found.add((tokens[i][0], tokens[i + n - 1][1]))
                    hits += 1
        if not hits:
            unmatched.append(word)
    return [Span(s, e, label) for s, e in sorted(found)], unmatched


def read_babe(path: str | Path) -> BabeDataset:
    """Read a BABE ``final_labels_*.csv`` file (``;``-separated, header row) into a :class:`BabeDataset`."""
    path = Path(path)
    if not path.is_file():
        raise BabeFormatError(f"{path}: no such file")
    rows: list[BabeRow] = []
    unmatched: list[dict] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, delimiter=";")
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise BabeFormatError(
                    f"{path}: not a BABE file: missing column(s) {', '.join(missing)} "
                    f"(found {reader.fieldnames}; the file must be ';'-separated with a header row)"
                )
            for record in reader:
                line = reader.line_num
                if record.get("text") is None or None in record:
                    raise BabeFormatError(f"{path}:{line}: wrong number of fields")
                words = parse_biased_words(record["biased_words"], line=line, source=str(path))
                spans, missed = find_word_spans(record["text"], words)
                unmatched.extend({"source": str(path), "line": line, "message": f"marked word {w!r} not found in text"}
                                 for w in missed)  # fmt: skip
                rows.append(
                    BabeRow(
                        line=line,
                        text=record["text"],
                        news_link=record["news_link"],
                        outlet=record["outlet"],
                        topic=record["topic"],
                        type=record["type"],
                        label_bias=record["label_bias"],
                        label_opinion=record["label_opinion"],
                        biased_words=words,
                        spans=tuple(spans),
                        unmatched=tuple(missed),
                    )
                )
    except UnicodeDecodeError as exc:
        raise BabeFormatError(f"{path}: not UTF-8 text ({exc})") from exc
    if not rows:
        raise BabeFormatError(f"{path}: the file has a header but no rows")
    return BabeDataset(path=str(path), rows=tuple(rows), unmatched=tuple(unmatched))
