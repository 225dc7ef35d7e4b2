"""Plain records that every exchange format reads into and writes from (no database access).

Offsets are Python code-point indices into the article text, ``end`` exclusive, exactly as in ``Span``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, TypedDict

OFFSET_UNIT = "codepoint"


class RowError(TypedDict):
    source: str
    line: int
    message: str


def row_error(source: str, line: int, message: str) -> RowError:
    return {"source": source, "line": line, "message": message}


def text_hash(text: str) -> str:
    """The corpus' content hash: SHA-256 of the UTF-8 bytes, lowercase hex (same as corpus.importing.parsers)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(slots=True)
class AnswerRecord:
    """One answer to a codebook question as a file holds it: of the article (no offsets), of a sentence (``start``,
    ``end``: code points), or, inside a ``SpanRecord``'s ``attributes``, of that span."""

    question: str
    value: Any
    layer: str | None = None
    annotator: str | None = None
    start: int | None = None
    end: int | None = None
    codebook_version: int | None = None
    provenance: dict[str, Any] | None = None
    line: int = 0
    annotator_email: str = ""  # export: the annotator's e-mail (Label Studio names users by it)


@dataclass(frozen=True, slots=True)
class QuestionOptionInfo:
    value: str
    text: str = ""
    numeric: float | None = None


@dataclass(frozen=True, slots=True)
class QuestionInfo:
    """A codebook question as the formats that carry answers in a tool's own terms need it (Label Studio's choices,
    ratings and taxonomies, doccano's categories): options in codebook order (a scale's points in scale order)."""

    name: str
    scope: str  # article | sentence | span
    kind: str  # single | multiple | scale | text
    label: str | None = None  # an attribute's label
    options: tuple[QuestionOptionInfo, ...] = ()

    def option_value(self, raw: Any) -> Any:
        """The option a tool's answer names: by value, else by its text (case and surrounding spaces ignored);
        anything else comes back as it is, for the answer rules to refuse with the question's options named."""
        if not isinstance(raw, str):
            return raw
        for option in self.options:
            if option.value == raw:
                return option.value
        folded = raw.strip().casefold()
        for option in self.options:
            if option.value.casefold() == folded or (option.text and option.text.strip().casefold() == folded):
                return option.value
        return raw


@dataclass(slots=True)
class SpanRecord:
    """One span as a file holds it; ``text`` is None when the format does not carry it (doccano's bare triples)."""

    start: int
    end: int
    label: str
    text: str | None = None
    layer: str | None = None
    annotator: str | None = None
    note: str = ""
    codebook_version: int | None = None
    provenance: dict[str, Any] | None = None
    line: int = 0
    annotator_email: str = ""  # export: the annotator's e-mail (Label Studio names users by it)
    annotator_source: str = ""  # import: how the file named the annotator, for messages ("Label Studio user 2")
    attributes: list[AnswerRecord] = field(default_factory=list)  # its answers to its label's attributes
    id: int | None = None  # export: the span's id here (never written; attributes are found by it)


@dataclass(slots=True)
class ExtraItem:
    """Something a file holds beside spans: a relation, a choice, a cancelled annotation, a prediction, a draft, a
    document category. The import counts each by ``kind``; a kind with an importer in
    ``importing.EXTRA_ITEM_IMPORTERS`` is handed to it instead (``value``: the item as the file holds it)."""

    kind: str
    value: Any = None
    annotator: str | None = None
    line: int = 0


@dataclass(slots=True)
class ArticleRecord:
    """One article with its spans. ``text`` is None for formats that name the article instead (CSV, CoNLL)."""

    text: str | None
    spans: list[SpanRecord] = field(default_factory=list)
    article_id: int | None = None
    external_id: str = ""
    outlet: str = ""
    outlet_name: str = ""
    title: str = ""
    url: str = ""
    published_at: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    content_hash: str = ""
    adjudication: str | None = None
    line: int = 0
    # CoNLL: (token, tag, line) rows, turned into spans once the article text is known.
    bio: list[tuple[str, str, int]] | None = None
    block_layer: str | None = None
    block_annotator: str | None = None
    extras: list[ExtraItem] = field(default_factory=list)
    source: str = ""  # the archive member it came from (a doccano export zip), for error reports
    answers: list[AnswerRecord] = field(default_factory=list)  # article and sentence answers

    def hash(self) -> str:
        """The text's content hash: the stored one if the record came from the database, else computed."""
        if not self.content_hash and self.text is not None:
            self.content_hash = text_hash(self.text)
        return self.content_hash
