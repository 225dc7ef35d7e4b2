"""The exchange formats: one small class per format, chosen through ``FORMATS`` (like doccano's select_dataset).

Each format writes :class:`ArticleRecord` objects as text pieces (a generator: nothing is held whole) and reads
a text stream back into records, yielding a ``{"source", "line", "message"}`` dict for every bad record instead
of stopping. No database access here: matching records to articles and checking spans is ``importing.py``'s job.

Offsets are code points (Python string indices), ``end`` exclusive, in every format but doccano's, which counts
in UTF-16 code units as doccano does (or grapheme clusters, or code points: ``offset_unit``); each file says so
(``offset_unit``). The conversion happens here, where the file is read or written (``offsets.TextOffsets``).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import IO, Any, ClassVar, TextIO

from annotator.annotations.exchange.offsets import (
    UNIT_NAMES,
    OffsetOutOfText,
    OffsetUnit,
    TextOffsets,
    offset_unit,
)
from annotator.annotations.exchange.records import (
    OFFSET_UNIT,
    AnswerRecord,
    ArticleRecord,
    ExtraItem,
    QuestionInfo,
    RowError,
    SpanRecord,
    row_error,
    text_hash,
)
from annotator.common.csvsafe import FORMULA_TRIGGERS, csv_cell
from ml.tokenise import WORD_RE

# CoNLL tokens: BABE's words (ml.tokenise.WORD_RE) plus every other non-space character on its own, so that
# punctuation inside a span (scare quotes, hyphens) gets a tag too.
CONLL_TOKEN_RE = re.compile(WORD_RE.pattern + r"|[^\w\s]")


class RecordProblem(ValueError):
    """Why one record of a file cannot be read."""


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one instance: json.dumps builds one per call
_dumps = _ENCODER.encode


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise RecordProblem(f"{name} must be an integer (a code-point offset), got {value!r}")
    return value


def _str(value: Any, name: str, *, required: bool = False) -> str:
    if value is None or value == "":
        if required:
            raise RecordProblem(f"{name} is missing")
        return ""
    if not isinstance(value, str):
        raise RecordProblem(f"{name} must be a string, got {type(value).__name__}")
    return value


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecordProblem(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def _json_lines(stream: TextIO, source: str) -> Iterator[tuple[int, dict[str, Any]] | RowError]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield row_error(source, number, f"not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(value, dict):
            yield row_error(source, number, f"each line must be a JSON object, got {type(value).__name__}")
            continue
        yield number, value


def _check_offset_unit(unit: Any) -> None:
    if unit != OFFSET_UNIT:
        raise RecordProblem(f"offset_unit {unit!r} is not supported (only {OFFSET_UNIT!r})")


def _converted(offsets: TextOffsets, span: SpanRecord, what: str) -> SpanRecord | str:
    """The span with code-point offsets, or why its offsets name no place in the text (and what to try)."""
    try:
        start, end = offsets.to_codepoint(span.start), offsets.to_codepoint(span.end)
    except OffsetOutOfText as exc:
        hint = ""
        if offsets.unit != OffsetUnit.CODEPOINT:
            likely = (OffsetUnit.GRAPHEME, OffsetUnit.UTF16, OffsetUnit.CODEPOINT)  # doccano's modes first
            others = " or ".join(u.value for u in likely if u != offsets.unit)
            hint = (
                f"; the offsets were read as {UNIT_NAMES[offsets.unit]}: if {what} counts in another unit, import "
                f"it with --offset-unit {others}"
            )
        return f"span {span.start}-{span.end} {span.label!r}: {exc}{hint}"
    span.start, span.end = start, end
    return span


def _spans_in_codepoints(offsets: TextOffsets, spans: list[SpanRecord], what: str) -> list[SpanRecord]:
    """Every span converted, or one RecordProblem naming each span that could not be (so all are reported)."""
    converted = [_converted(offsets, span, what) for span in spans]
    problems = [item for item in converted if isinstance(item, str)]
    if problems:
        raise RecordProblem("; ".join(problems))
    return converted  # type: ignore[return-value]


def _article_fields(meta: dict[str, Any], where: str, *, id_key: str = "article_id") -> dict[str, Any]:
    """An ArticleRecord's identifying fields from a file's metadata object (``where``: its name in messages)."""
    article_id = meta.get(id_key)
    return {
        "article_id": _int(article_id, f"{where}.{id_key}") if article_id is not None else None,
        **{name: _str(meta.get(name), f"{where}.{name}") for name in ("external_id", "outlet", "title", "url")},
    }


def _labelled_span(
    *, start: Any, end: Any, label: Any, text: Any, layer: Any, annotator: Any, note: Any, line: int, where: str = ""
) -> SpanRecord:
    """A span of a tool's export (doccano, Label Studio) from its raw values; ``where`` prefixes offset field names."""
    return SpanRecord(
        start=_int(start, f"{where}start"),
        end=_int(end, f"{where}end"),
        label=_str(label, "label", required=True),
        text=_str(text, f"{where}text") or None,
        layer=_str(layer, "layer") or None,
        annotator=_str(annotator, "annotator") or None,
        note=_str(note, "note"),
        line=line,
    )


class ExchangeFormat:
    """A file format for a project's annotations: ``write`` records out, ``read`` them back."""

    name: ClassVar[str]
    extension: ClassVar[str]
    content_type: ClassVar[str]
    description: ClassVar[str]
    # Text cells may carry a formula-escaping apostrophe (CSV): the importer resolves it against the article.
    escapes_formulas: ClassVar[bool] = False
    # Everything a span holds is in the file (provenance, codebook version): import keeps it as it is.
    lossless: ClassVar[bool] = False
    # Whether writing needs the article text (CSV does not: it names the article by id and content hash).
    needs_text: ClassVar[bool] = True
    # The units the format's offsets may count in; the first is the default.
    offset_units: ClassVar[tuple[OffsetUnit, ...]] = (OffsetUnit.CODEPOINT,)
    # A span's text may hold "\n" where the article has "\r\n" (Label Studio's editor rewrites line breaks).
    loose_line_breaks: ClassVar[bool] = False
    # Whether the format can be imported (answers-csv is written only) and whether it carries spans.
    readable: ClassVar[bool] = True
    carries_spans: ClassVar[bool] = True

    def __init__(self, *, unit: str | None = None) -> None:
        """``unit``: the offset unit to read and write (None: what the file says, else the format's default)."""
        self.unit = offset_unit(unit) if unit else None
        # The project's codebook questions by name, for formats that carry answers in a tool's own terms (Label
        # Studio's choices, ratings, taxonomies; doccano's categories); the caller fills it (no database here).
        self.questions: dict[str, QuestionInfo] = {}
        # doccano's categories answer ONE question (a text-classification project has one label set).
        self.question: str | None = None
        if self.unit is not None and self.unit not in self.offset_units:
            allowed = " or ".join(u.value for u in self.offset_units)
            raise ValueError(f"{self.name} offsets count in {allowed}, not {self.unit.value}")

    def file_unit(self, stated: Any) -> OffsetUnit:
        """The unit to read a record in: the one asked for, else the one the file states, else the default."""
        if stated is not None and stated not in {u.value for u in self.offset_units}:
            allowed = ", ".join(repr(u.value) for u in self.offset_units)
            raise RecordProblem(f"offset_unit {stated!r} is not supported (only {allowed})")
        if self.unit is not None:
            if stated is not None and stated != self.unit:
                raise RecordProblem(
                    f"the file says its offsets count in {UNIT_NAMES[OffsetUnit(stated)]} (offset_unit "
                    f"{stated!r}), not in {UNIT_NAMES[self.unit]} as asked (--offset-unit {self.unit.value})"
                )
            return self.unit
        return OffsetUnit(stated) if stated is not None else self.offset_units[0]

    def write(self, articles: Iterable[ArticleRecord]) -> Iterator[str]:
        raise NotImplementedError

    def read(self, stream: TextIO, *, source: str) -> Iterator[ArticleRecord | RowError]:
        raise NotImplementedError

    def read_archive(self, archive: IO[bytes], *, source: str) -> Iterator[ArticleRecord | RowError]:
        """A zip archive of files in this format; only doccano writes those."""
        yield row_error(source, 0, f"{source} is a zip archive: the {self.name} format reads one file, not an archive")


class JsonLinesFormat(ExchangeFormat):
    """One JSON object per line, one article per object: subclasses turn an object into a record (``_record``)."""

    def read(self, stream: TextIO, *, source: str) -> Iterator[ArticleRecord | RowError]:
        for item in _json_lines(stream, source):
            if isinstance(item, dict):
                yield item
                continue
            line, data = item
            try:
                yield self._record(data, line)
            except RecordProblem as exc:
                yield row_error(source, line, str(exc))

    def _record(self, data: dict[str, Any], line: int) -> ArticleRecord:
        raise NotImplementedError


# --- native JSONL ------------------------------------------------------------------------------------------


def _answer_to_native(a: AnswerRecord, *, in_span: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"question": a.question, "value": a.value}
    if not in_span:
        out.update(layer=a.layer, annotator=a.annotator)
        if a.start is not None:
            out.update(start=a.start, end=a.end)
    out["codebook_version"] = a.codebook_version
    if a.provenance:
        out["provenance"] = a.provenance
    return out


def _answer_from_native(value: Any, line: int, *, span: SpanRecord | None = None) -> AnswerRecord:
    data = _object(value, "an answer")
    if "value" not in data:
        raise RecordProblem("an answer needs a value")
    provenance, version = data.get("provenance"), data.get("codebook_version")
    start, end = data.get("start"), data.get("end")
    return AnswerRecord(
        question=_str(data.get("question"), "question", required=True),
        value=data["value"],
        layer=span.layer if span else _str(data.get("layer"), "layer") or None,
        annotator=span.annotator if span else _str(data.get("annotator"), "annotator") or None,
        start=_int(start, "start") if start is not None and span is None else None,
        end=_int(end, "end") if end is not None and span is None else None,
        codebook_version=_int(version, "codebook_version") if version is not None else None,
        provenance=_object(provenance, "provenance") if provenance else None,
        line=line,
    )


def _span_from_native(value: Any, line: int) -> SpanRecord:
    data = _object(value, "a span")
    provenance = data.get("provenance")
    version = data.get("codebook_version")
    span = _native_span(data, line, provenance, version)
    attributes = data.get("attributes") or []
    if not isinstance(attributes, list):
        raise RecordProblem("a span's attributes must be a list")
    span.attributes = [_answer_from_native(a, line, span=span) for a in attributes]
    return span


def _native_span(data: dict[str, Any], line: int, provenance: Any, version: Any) -> SpanRecord:
    return SpanRecord(
        start=_int(data.get("start"), "start"),
        end=_int(data.get("end"), "end"),
        label=_str(data.get("label"), "label", required=True),
        text=_str(data.get("text"), "text", required=True),
        layer=_str(data.get("layer"), "layer") or None,
        annotator=_str(data.get("annotator"), "annotator") or None,
        note=_str(data.get("note"), "note"),
        codebook_version=_int(version, "codebook_version") if version is not None else None,
        provenance=_object(provenance, "provenance") if provenance else None,
        line=line,
    )


class NativeFormat(JsonLinesFormat):
    """One JSON object per article: its metadata, its exact text, its spans (each with its answers to its label's
    attributes, ``attributes``) and its answers to the codebook's article and sentence questions (``answers``; a
    sentence answer has the sentence's ``start`` and ``end``), lossless."""

    name = "native"
    extension = "jsonl"
    content_type = "application/jsonl"
    description = "Framescope JSONL (one article per line, lossless)"
    lossless = True

    def write(self, articles: Iterable[ArticleRecord]) -> Iterator[str]:
        for a in articles:
            row: dict[str, Any] = {
                "article": {
                    "id": a.article_id,
                    "external_id": a.external_id,
                    "outlet": a.outlet,
                    "title": a.title,
                    "url": a.url,
                    "published_at": a.published_at,
                    "metadata": a.metadata,
                },
                "offset_unit": OFFSET_UNIT,
                "text": a.text,
                "spans": [
                    {
                        "start": s.start,
                        "end": s.end,
                        "label": s.label,
                        "annotator": s.annotator,
                        "layer": s.layer,
                        "text": s.text,
                        "note": s.note,
                        "codebook_version": s.codebook_version,
                        **({"provenance": s.provenance} if s.provenance else {}),
                        **(
                            {"attributes": [_answer_to_native(x, in_span=True) for x in s.attributes]}
                            if s.attributes
                            else {}
                        ),
                    }
                    for s in a.spans
                ],
            }
            if a.answers:
                row["answers"] = [_answer_to_native(x) for x in a.answers]
            if a.adjudication is not None:
                row["adjudication"] = a.adjudication
            yield _dumps(row) + "\n"

    def _record(self, data: dict[str, Any], line: int) -> ArticleRecord:
        _check_offset_unit(data.get("offset_unit", OFFSET_UNIT))
        article = _object(data.get("article", {}), "article")
        spans, answers = data.get("spans", []), data.get("answers", [])
        if not isinstance(spans, list):
            raise RecordProblem("spans must be a list")
        if not isinstance(answers, list):
            raise RecordProblem("answers must be a list")
        return ArticleRecord(
            text=_str(data.get("text"), "text", required=True),
            spans=[_span_from_native(s, line) for s in spans],
            answers=[_answer_from_native(a, line) for a in answers],
            **_article_fields(article, "article", id_key="id"),
            published_at=_str(article.get("published_at"), "article.published_at") or None,
            metadata=_object(article.get("metadata") or {}, "article.metadata"),
            adjudication=_str(data.get("adjudication"), "adjudication") or None,
            line=line,
        )


# --- doccano JSONL -----------------------------------------------------------------------------------------


class DoccanoFormat(JsonLinesFormat):
    """doccano's sequence-labelling JSONL: ``{"text", "label": [[start, end, "label"]], "meta"}``.

    Offsets count as doccano counts them: UTF-16 code units by default (its editor's JavaScript string indices),
    grapheme clusters for a project in grapheme mode, or code points. ``meta.label_details`` runs parallel to
    ``label`` and names each span's annotator, layer, text and note.

    doccano's own export names no annotator (one file per user), carries no span text, puts the example's meta at
    the top level, and writes ``entities`` (dicts with ``start_offset``/``end_offset``, or triples) in projects with
    relations or intents; ``relations``, ``cats`` (document categories) and ``Comments`` are counted by kind.
    """

    name = "doccano"
    extension = "jsonl"
    content_type = "application/jsonl"
    description = "doccano sequence labelling JSONL"
    offset_units = (OffsetUnit.UTF16, OffsetUnit.GRAPHEME, OffsetUnit.CODEPOINT)
    EXTRA_KINDS: ClassVar[dict[str, str]] = {"relations": "relation", "cats": "category", "Comments": "comment"}

    def write(self, articles: Iterable[ArticleRecord]) -> Iterator[str]:
        unit = self.unit or self.offset_units[0]
        for a in articles:
            offsets = TextOffsets(a.text or "", unit)
            row = {
                "text": a.text,
                "label": [[*offsets.span_from_codepoints(s.start, s.end), s.label] for s in a.spans],
                "meta": {
                    "article_id": a.article_id,
                    "external_id": a.external_id,
                    "outlet": a.outlet,
                    "title": a.title,
                    "url": a.url,
                    "offset_unit": unit.value,
                    "label_details": [
                        {"annotator": s.annotator, "layer": s.layer, "text": s.text, "note": s.note} for s in a.spans
                    ],
                },
            }
            yield _dumps(row) + "\n"

    @staticmethod
    def _entity(value: Any) -> tuple[Any, Any, Any]:
        """An ``entities`` item: a triple (intent projects) or a dict with offsets (relation projects)."""
        if isinstance(value, list | tuple) and len(value) == 3:
            return tuple(value)  # type: ignore[return-value]
        entity = _object(value, "an entity")
        return entity.get("start_offset"), entity.get("end_offset"), entity.get("label")

    def _triples(self, data: dict[str, Any]) -> list[tuple[Any, Any, Any]]:
        if "entities" in data and "label" not in data:  # doccano's export of relation and intent projects
            entities = data["entities"]
            if not isinstance(entities, list):
                raise RecordProblem("entities must be a list")
            return [self._entity(e) for e in entities]
        labels = data.get("label", [])
        if not isinstance(labels, list):
            raise RecordProblem('label must be a list of [start, end, "label"] triples')
        triples = []
        for item in labels:
            if not isinstance(item, list | tuple) or len(item) != 3:
                raise RecordProblem(f'each label must be [start, end, "label"], got {item!r}'[:200])
            triples.append(tuple(item))
        return triples

    def read_archive(self, archive: IO[bytes], *, source: str) -> Iterator[ArticleRecord | RowError]:
        """doccano's export of a project that is not collaborative: a zip with one JSONL file per user
        (``alice.jsonl``). Each file's spans are its user's: the file's stem names the annotator, which the importer
        maps to a member (``--user-map``, username, e-mail). ``all.jsonl`` (a collaborative project's) names nobody.
        """
        try:
            opened = zipfile.ZipFile(archive)
        except zipfile.BadZipFile as exc:
            yield row_error(source, 0, f"{source} is not a readable zip archive ({exc})")
            return
        with opened:
            names = sorted(n for n in opened.namelist() if n.lower().endswith(".jsonl") and "__MACOSX" not in n)
            if not names:
                yield row_error(source, 0, f"{source} holds no .jsonl file (doccano's export zip has one per user)")
            for name in names:
                user = PurePosixPath(name).stem
                member = f"{source}/{name}"
                with opened.open(name) as raw:
                    for item in self.read(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""), source=member):
                        if not isinstance(item, dict):
                            item.source = member
                            for span in item.spans:
                                if span.annotator is None and user != "all":
                                    span.annotator, span.annotator_source = user, f"doccano user {user!r} ({name})"
                            for answer in item.answers:
                                if answer.annotator is None and user != "all":
                                    answer.annotator = user
                        yield item

    def _extras(self, data: dict[str, Any], line: int) -> list[ExtraItem]:
        extras = []
        for key, kind in self.EXTRA_KINDS.items():
            if key == "cats" and self.question:
                continue  # the categories answer the question asked for (``_category_answers``)
            values = data.get(key)
            if isinstance(values, list):
                extras += [ExtraItem(kind, value, line=line) for value in values]
        return extras

    def _record(self, data: dict[str, Any], line: int) -> ArticleRecord:
        meta = _object(data.get("meta") or {}, "meta")
        unit = self.file_unit(meta.get("offset_unit"))
        text = _str(data.get("text"), "text", required=True)
        triples = self._triples(data)
        details = meta.get("label_details") or [{}] * len(triples)
        if not isinstance(details, list) or len(details) != len(triples):
            raise RecordProblem("meta.label_details must have one entry per label")
        spans = []
        for (start, end, label), detail in zip(triples, details, strict=True):
            detail = _object(detail, "a label_details entry")
            spans.append(
                _labelled_span(
                    start=start,
                    end=end,
                    label=label,
                    text=detail.get("text"),
                    layer=detail.get("layer"),
                    annotator=detail.get("annotator"),
                    note=detail.get("note"),
                    line=line,
                )
            )
        return ArticleRecord(
            text=text,
            spans=_spans_in_codepoints(TextOffsets(text, unit), spans, "the doccano project"),
            **_article_fields(meta, "meta"),
            extras=self._extras(data, line),
            answers=self._category_answers(data.get("cats"), "cats", line) if self.question else [],
            line=line,
        )

    def _category_question(self) -> QuestionInfo:
        question = self.questions.get(self.question or "")
        if question is None:
            known = ", ".join(sorted(self.questions)) or "none"
            raise RecordProblem(f"no question {self.question!r} in the project's codebook (its questions: {known})")
        return question

    def _category_answers(self, labels: Any, key: str, line: int, details: Any = None) -> list[AnswerRecord]:
        """doccano's document categories (``label`` of a text-classification export, ``cats`` of an intent one) as
        the answer to ``self.question``: one category for a single choice (or a scale), any number for a multiple
        choice; a category names an option by its value or its text. ``details`` (Framescope's own
        ``meta.answer_details``) gives each annotator's answer instead of the union doccano shows."""
        question = self._category_question()
        if labels is None:
            return []
        if not isinstance(labels, list) or not all(isinstance(v, str) for v in labels):
            raise RecordProblem(f"{key} must be a list of category names, got {labels!r}"[:200])
        if question.scope != "article" or question.kind not in ("single", "multiple", "scale"):
            raise RecordProblem(
                f"doccano's categories answer an article question of single or multiple choice (or a scale); "
                f"{question.name!r} is a {question.scope} question of kind {question.kind}"
            )
        if isinstance(details, list) and details:
            answers = []
            for detail in details:
                detail = _object(detail, "an answer_details entry")
                answers.append(
                    AnswerRecord(
                        question=question.name, value=detail.get("value"), layer=_str(detail.get("layer"), "layer")
                        or None, annotator=_str(detail.get("annotator"), "annotator") or None, line=line,
                    )
                )  # fmt: skip
            return answers
        if not labels:
            return []
        values = list(dict.fromkeys(question.option_value(v) for v in labels))
        if question.kind != "multiple":
            if len(values) != 1:
                raise RecordProblem(
                    f"{key} has {len(values)} categories ({', '.join(map(repr, values))}) but {question.name!r} takes "
                    "one answer: make it a multiple-choice question, or let doccano allow one label per example"
                )
            return [AnswerRecord(question=question.name, value=values[0], line=line)]
        return [AnswerRecord(question=question.name, value=values, line=line)]


class DoccanoClassificationFormat(DoccanoFormat):
    """doccano's text-classification JSONL: ``{"text", "label": ["category", …]}``, one line per example.

    The categories answer ONE article question (``question``: the importer's ``--question``, or the project's only
    article question of single or multiple choice): an option's value or text names it. Export writes each
    article's answers to it: ``label`` is the union of the annotators' and gold values (what doccano shows), and
    ``meta.answer_details`` each answer with its annotator and layer, which doccano keeps and the import reads back.
    doccano's own export (a zip with one file per user) imports as it is, each file's answers its user's."""

    name = "doccano-classification"
    description = "doccano text classification JSONL (one question's answers as categories)"
    offset_units = (OffsetUnit.CODEPOINT,)
    carries_spans = False

    def write(self, articles: Iterable[ArticleRecord]) -> Iterator[str]:
        question = self._category_question()
        order = {option.value: index for index, option in enumerate(question.options)}
        for a in articles:
            answers = [x for x in a.answers if x.question == question.name and x.start is None]
            chosen: set[str] = set()
            for answer in answers:
                chosen.update(answer.value if isinstance(answer.value, list) else [answer.value])
            row = {
                "text": a.text,
                "label": sorted(chosen, key=lambda v: order.get(v, len(order))),
                "meta": {
                    "article_id": a.article_id,
                    "external_id": a.external_id,
                    "outlet": a.outlet,
                    "title": a.title,
                    "url": a.url,
                    "question": question.name,
                    "answer_details": [{"annotator": x.annotator, "layer": x.layer, "value": x.value} for x in answers],
                },
            }
            yield _dumps(row) + "\n"

    def _record(self, data: dict[str, Any], line: int) -> ArticleRecord:
        meta = _object(data.get("meta") or {}, "meta")
        text = _str(data.get("text"), "text", required=True)
        key = "label" if "label" in data else "cats"
        labels = data.get(key, [])
        if isinstance(labels, list) and any(isinstance(v, list) for v in labels):
            raise RecordProblem(
                "label holds [start, end, label] triples: this is a sequence-labelling export (use --format doccano)"
            )
        details = meta.get("answer_details") if meta.get("question") == self.question else None
        extras = [ExtraItem("comment", value, line=line) for value in data.get("Comments") or [] if value]
        return ArticleRecord(
            text=text,
            **_article_fields(meta, "meta"),
            answers=self._category_answers(labels, key, line, details),
            extras=extras,
            line=line,
        )


# --- Label Studio JSON -------------------------------------------------------------------------------------

# Our own key on an annotation: the member's username. Label Studio's import ignores it (and drops it).
ANNOTATOR_KEY = "framescope_annotator"
# Sentence answers ride on regions of this Labels tag (one label, "sentence"): a per-region result on such a region
# answers a sentence question for the region's offsets; the region itself is not a span.
SENTENCE_TAG, SENTENCE_LABEL = "framescope_sentence", "sentence"
# Label Studio's result types that answer codebook questions (``from_name`` is the question's name).
ANSWER_RESULT_TYPES = ("choices", "rating", "taxonomy", "textarea")
EXPORT_PLAIN_JSON = "export plain JSON instead (Export › JSON), which keeps every annotation, its user and offsets"
# Label Studio's other exports, told apart by how they start: none of them can be imported.
LABEL_STUDIO_OTHER_EXPORTS = (
    ("-DOCSTART-", "Label Studio's CONLL2003 export (tokens and tags, no offsets, no users)"),
    ('"annotation_id"', "Label Studio's CSV export (one row per annotation, regions as JSON in a cell)"),
    ("annotation_id,", "Label Studio's CSV export (one row per annotation, regions as JSON in a cell)"),
)


def _label_studio_refusal(head: str, tasks: Any) -> str | None:
    """Why a file is one of Label Studio's exports that cannot be imported (JSON_MIN, CSV, CONLL2003), or None."""
    start = head.lstrip("\ufeff \t\r\n")
    for signature, what in LABEL_STUDIO_OTHER_EXPORTS:
        if start.startswith(signature):
            return f"this is {what}: {EXPORT_PLAIN_JSON}"
    if isinstance(tasks, list) and tasks and isinstance(tasks[0], dict) and "data" not in tasks[0]:
        if "text" in tasks[0] and ("annotation_id" in tasks[0] or "annotator" in tasks[0] or "label" in tasks[0]):
            return f"this is Label Studio's JSON_MIN export (regions without their annotations' users): {EXPORT_PLAIN_JSON}"
    return None


class LabelStudioFormat(ExchangeFormat):
    """Label Studio's JSON export: a list of tasks, one annotation per (annotator, layer); gold is ground truth.

    Suggestions (model output) go to ``predictions``. Offsets are code points, as Label Studio counts them for
    text. An annotation's ``completed_by`` is ``{"email"}`` on export (what Label Studio's import matches users by);
    on import it is Label Studio's user id (a number) or a dict with an e-mail or username, mapped to members by
    the importer (``--user-map``). A region's ``value.text`` may hold ``\n`` where the text has ``\r\n``.
    Relations, choices and other non-span results, cancelled annotations, predictions and drafts are counted by
    kind. On import, ``line`` in an error is the task's position in the list (1-based).
    """

    name = "labelstudio"
    extension = "json"
    content_type = "application/json"
    description = "Label Studio JSON (tasks with labels results)"
    loose_line_breaks = True

    def write(self, articles: Iterable[ArticleRecord]) -> Iterator[str]:
        first = True
        for a in articles:
            yield ("[\n" if first else ",\n") + _dumps(self._task(a))
            first = False
        yield "[]\n" if first else "\n]\n"

    @staticmethod
    def _result(a: ArticleRecord, index: int, s: SpanRecord) -> dict[str, Any]:
        result: dict[str, Any] = {
            "id": f"{a.article_id}-{index}",
            "type": "labels",
            "from_name": "label",
            "to_name": "text",
            "origin": "manual",
            "value": {"start": s.start, "end": s.end, "text": s.text, "labels": [s.label]},
        }
        if s.note:
            result["meta"] = {"text": [s.note]}
        return result

    def _answer_result(self, answer: AnswerRecord, region: dict[str, Any] | None = None) -> dict[str, Any]:
        """An answer as Label Studio's result: ``choices`` (single and multiple choice: option values), ``rating``
        (a scale: its point's position, 1 for the first), ``textarea`` (text); ``from_name`` is the question's name.
        An attribute or a sentence answer is a per-region result: the region's id and offsets."""
        question = self.questions.get(answer.question)
        kind = question.kind if question is not None else ("multiple" if isinstance(answer.value, list) else "text")
        if kind == "scale" and question is not None:
            values = [o.value for o in question.options]
            result_type, value = "rating", {"rating": values.index(answer.value) + 1}
        elif kind in ("single", "multiple"):
            chosen = answer.value if isinstance(answer.value, list) else [answer.value]
            result_type, value = "choices", {"choices": list(chosen)}
        else:
            result_type, value = "textarea", {"text": [answer.value]}
        result: dict[str, Any] = {"type": result_type, "from_name": answer.question, "to_name": "text"}
        if region is not None:
            result["id"] = region["id"]
            value = {key: region["value"][key] for key in ("start", "end", "text")} | value
        result.update(origin="manual", value=value)
        return result

    def _task(self, a: ArticleRecord) -> dict[str, Any]:
        groups: dict[tuple[str | None, str | None], list[dict[str, Any]]] = {}
        emails: dict[str | None, str] = {}
        for index, s in enumerate(a.spans):
            region = self._result(a, index, s)
            group = groups.setdefault((s.layer, s.annotator), [])
            group.append(region)
            emails[s.annotator] = s.annotator_email
            group += [self._answer_result(x, region) for x in s.attributes]
        sentences: dict[tuple[str | None, str | None, int, int], dict[str, Any]] = {}
        for answer in a.answers:
            group = groups.setdefault((answer.layer, answer.annotator), [])
            emails.setdefault(answer.annotator, answer.annotator_email)
            region = None
            if answer.start is not None and answer.end is not None:
                key = (answer.layer, answer.annotator, answer.start, answer.end)
                region = sentences.get(key)
                if region is None:
                    region = sentences[key] = {
                        "id": f"{a.article_id}-s{answer.start}-{answer.end}",
                        "type": "labels",
                        "from_name": SENTENCE_TAG,
                        "to_name": "text",
                        "origin": "manual",
                        "value": {
                            "start": answer.start,
                            "end": answer.end,
                            "text": (a.text or "")[answer.start : answer.end],
                            "labels": [SENTENCE_LABEL],
                        },
                    }
                    group.append(region)
            group.append(self._answer_result(answer, region))
        annotations, predictions = [], []
        for (layer, annotator), results in groups.items():
            if layer == "suggestion":
                predictions.append({"model_version": "framescope", "result": results})
                continue
            # Label Studio finds the user by e-mail (without one it takes the importing user); Framescope by username.
            annotation: dict[str, Any] = {"ground_truth": layer == "gold", "result": results}
            if emails.get(annotator):
                annotation["completed_by"] = {"email": emails[annotator]}
            if annotator:
                annotation[ANNOTATOR_KEY] = annotator
            annotations.append(annotation)
        data = {
            "text": a.text,
            "article_id": a.article_id,
            "external_id": a.external_id,
            "outlet": a.outlet,
            "title": a.title,
            "url": a.url,
            "offset_unit": OFFSET_UNIT,
        }
        return {"id": a.article_id, "data": data, "annotations": annotations, "predictions": predictions}

    def read(self, stream: TextIO, *, source: str) -> Iterator[ArticleRecord | RowError]:
        raw = stream.read()
        try:
            tasks = json.loads(raw)
        except json.JSONDecodeError as exc:
            tasks, invalid = None, row_error(source, exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})")
        else:
            invalid = None
        refusal = _label_studio_refusal(raw[:200], tasks)
        if refusal is not None or invalid is not None:
            yield row_error(source, 1, refusal) if refusal is not None else invalid  # type: ignore[misc]
            return
        if isinstance(tasks, dict):
            tasks = [tasks]
        if not isinstance(tasks, list):
            yield row_error(source, 0, "a Label Studio file is a JSON list of tasks")
            return
        for number, task in enumerate(tasks, start=1):
            try:
                yield self._record(_object(task, "a task"), number)
            except RecordProblem as exc:
                yield row_error(source, number, f"task {number}: {exc}")

    @staticmethod
    def _annotator(completed_by: Any) -> tuple[str | None, str]:
        """(the key the importer maps to a member, how the file named the user) from ``completed_by``."""
        if isinstance(completed_by, dict):
            key = completed_by.get("username") or completed_by.get("email") or completed_by.get("id")
            return (str(key), f"Label Studio user {key}") if key not in (None, "") else (None, "")
        if isinstance(completed_by, int) and not isinstance(completed_by, bool):
            return str(completed_by), f"Label Studio user {completed_by}"
        if isinstance(completed_by, str) and completed_by:
            return completed_by, f"Label Studio user {completed_by}"
        return None, ""

    def _record(self, task: dict[str, Any], number: int) -> ArticleRecord:
        data = _object(task.get("data"), "data")
        self.file_unit(data.get("offset_unit"))
        annotations = task.get("annotations") or []
        if not isinstance(annotations, list):
            raise RecordProblem("annotations must be a list")
        spans: list[SpanRecord] = []
        extras: list[ExtraItem] = []
        answers: list[AnswerRecord] = []
        for annotation in annotations:
            annotation = _object(annotation, "an annotation")
            annotator, named = self._annotator(annotation.get("completed_by"))
            if isinstance(annotation.get(ANNOTATOR_KEY), str) and annotation[ANNOTATOR_KEY]:
                annotator, named = annotation[ANNOTATOR_KEY], ""
            if annotation.get("was_cancelled"):
                extras.append(ExtraItem("cancelled annotation", annotation, annotator, number))
                continue
            layer = "gold" if annotation.get("ground_truth") else None
            self._annotation(annotation, layer, annotator, named, number, spans, answers, extras)
        for key, kind in (("predictions", "prediction"), ("drafts", "draft")):
            items = task.get(key) or []
            extras += [ExtraItem(kind, item, line=number) for item in items if isinstance(items, list)]
        return ArticleRecord(
            text=_str(data.get("text"), "data.text", required=True),
            spans=spans,
            **_article_fields(data, "data"),
            extras=extras,
            answers=answers,
            line=number,
        )

    def _annotation(
        self, annotation: dict[str, Any], layer: str | None, annotator: str | None, named: str, number: int,
        spans: list[SpanRecord], answers: list[AnswerRecord], extras: list[ExtraItem],
    ) -> None:  # fmt: skip
        """One annotation's results: its labels regions are spans (those of ``SENTENCE_TAG`` are sentence units), its
        choices/rating/taxonomy/textarea results that a codebook question is named by are answers, the rest extras."""
        results = [_object(result, "a result") for result in annotation.get("result") or []]
        regions: dict[Any, list[SpanRecord]] = {}
        sentences: dict[Any, tuple[int, int]] = {}
        for result in results:
            if result.get("type") != "labels":
                continue
            if result.get("from_name") == SENTENCE_TAG:
                value = _object(result.get("value"), "a result value")
                sentences[result.get("id")] = (_int(value.get("start"), "value.start"), _int(value.get("end"), "end"))
                continue
            made = self._spans(result, layer=layer, annotator=annotator, named=named, line=number)
            spans.extend(made)
            if result.get("id") is not None:
                regions.setdefault(result["id"], []).extend(made)
        for result in results:
            kind = str(result.get("type") or "unknown result")
            if kind == "labels":
                continue
            question = self.questions.get(str(result.get("from_name")))
            if kind not in ANSWER_RESULT_TYPES or question is None:
                extras.append(ExtraItem(kind, result, annotator, number))
                continue
            answer = AnswerRecord(
                question=question.name, value=self._answer_value(result, question), layer=layer, annotator=annotator,
                line=number,
            )  # fmt: skip
            self._place(answer, kind, result.get("id"), question, regions, sentences, answers)

    @staticmethod
    def _place(
        answer: AnswerRecord, kind: str, region_id: Any, question: QuestionInfo,
        regions: dict[Any, list[SpanRecord]], sentences: dict[Any, tuple[int, int]], answers: list[AnswerRecord],
    ) -> None:  # fmt: skip
        """An attribute goes to its region's span of the attribute's label; a sentence answer takes its region's
        offsets; an article answer is the article's."""
        if question.scope == "span":
            targets = [s for s in regions.get(region_id, []) if s.label == question.label]
            if not targets:
                raise RecordProblem(
                    f"the {kind} result {question.name!r} answers an attribute of label {question.label!r}, "
                    f"but no region {region_id!r} of that label is in the same annotation"
                )
            for target in targets:
                target.attributes.append(answer)
            return
        if question.scope == "sentence":
            unit = sentences.get(region_id)
            if unit is None and regions.get(region_id):
                unit = (regions[region_id][0].start, regions[region_id][0].end)
            if unit is None:
                raise RecordProblem(
                    f"the {kind} result {question.name!r} answers a sentence question, so it must be a "
                    f"per-region result (its id the id of a {SENTENCE_TAG!r} region, or of a labels region)"
                )
            answer.start, answer.end = unit
        answers.append(answer)

    @staticmethod
    def _answer_value(result: dict[str, Any], question: QuestionInfo) -> Any:
        """A choices, rating, taxonomy or textarea result's value as an answer to ``question``: choices and a
        taxonomy's chosen leaves name options (by value or text); a rating is a scale's point by position (1: the
        first point); a textarea's lines are a text answer."""
        kind = result.get("type")
        value = _object(result.get("value"), "a result value")
        if kind == "textarea":
            lines = value.get("text")
            if question.kind != "text" or not isinstance(lines, list):
                raise RecordProblem(f"a textarea result answers a text question; {question.name!r} is {question.kind}")
            return "\n".join(str(line) for line in lines)
        if kind == "rating":
            points = [o.value for o in question.options]
            rating = value.get("rating")
            if question.kind != "scale":
                raise RecordProblem(f"a rating answers a scale question; {question.name!r} is {question.kind}")
            if not isinstance(rating, int | float) or int(rating) != rating or not 1 <= rating <= len(points):
                raise RecordProblem(
                    f"rating {rating!r} of {question.name!r} is not one of its {len(points)} points (1 to "
                    f"{len(points)}: {', '.join(points)})"
                )
            return points[int(rating) - 1]
        if kind == "taxonomy":
            paths = value.get("taxonomy")
            if not isinstance(paths, list) or not all(isinstance(p, list) and p for p in paths):
                raise RecordProblem("value.taxonomy must be a list of paths (lists of names)")
            chosen = [path[-1] for path in paths]
        else:
            chosen = value.get("choices")
            if not isinstance(chosen, list):
                raise RecordProblem("value.choices must be a list")
        if question.kind == "text":
            raise RecordProblem(f"a {kind} result cannot answer the text question {question.name!r}")
        values = list(dict.fromkeys(question.option_value(v) for v in chosen))
        if question.kind == "multiple":
            return values
        if len(values) != 1:
            raise RecordProblem(f"{question.name!r} takes one answer; the {kind} result has {len(values)}: {values}")
        return values[0]

    @staticmethod
    def _spans(
        result: dict[str, Any], *, layer: str | None, annotator: str | None, named: str, line: int
    ) -> list[SpanRecord]:
        value = _object(result.get("value"), "a result value")
        labels = value.get("labels")
        if not isinstance(labels, list) or not labels:
            raise RecordProblem("a labels result needs value.labels, a non-empty list")
        note = (result.get("meta") or {}).get("text") or []
        note = "\n".join(n for n in note if isinstance(n, str))
        spans = []
        for label in labels:
            span = _labelled_span(
                start=value.get("start"), end=value.get("end"), label=label, text=value.get("text"), layer=layer,
                annotator=annotator, note=note, line=line, where="value.",
            )  # fmt: skip
            span.annotator_source = named
            spans.append(span)
        return spans


# --- CoNLL BIO ---------------------------------------------------------------------------------------------


def conll_tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, token) for every word (BABE's rule) and every other non-space character."""
    return [(m.start(), m.end(), m.group()) for m in CONLL_TOKEN_RE.finditer(text)]


def bio_tags(tokens: list[tuple[int, int, str]], spans: list[SpanRecord]) -> tuple[list[str], list[str]]:
    """BIO tags for one annotator's spans, plus a note for every span BIO cannot hold exactly.

    A span covers each token it overlaps. A span overlapping an already tagged token is left out (BIO has one
    tag per token); a span whose ends fall inside tokens is widened to them. Both are named in the notes.
    """
    tags = ["O"] * len(tokens)
    notes: list[str] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end, s.label)):
        covered = [i for i, (start, end, _) in enumerate(tokens) if start < span.end and end > span.start]
        where = f"{span.start}-{span.end} {span.label!r}"
        if not covered:
            notes.append(f"span {where} covers no token: left out")
            continue
        if any(tags[i] != "O" for i in covered):
            notes.append(f"span {where} overlaps another span: left out")
            continue
        if tokens[covered[0]][0] != span.start or tokens[covered[-1]][1] != span.end:
            notes.append(f"span {where} does not fall on token boundaries: widened to the tokens")
        for position, i in enumerate(covered):
            tags[i] = ("B-" if position == 0 else "I-") + span.label
    return tags, notes


def spans_from_bio(text: str, rows: list[tuple[str, str, int]]) -> tuple[list[SpanRecord], list[tuple[int, str]]]:
    """Spans from (token, tag, line) rows checked against ``text``'s tokens; plus (line, problem) pairs."""
    tokens = conll_tokens(text)
    if len(tokens) != len(rows):
        line = rows[min(len(tokens), len(rows) - 1)][2] if rows else 0
        return [], [(line, f"the block has {len(rows)} tokens but the article's text has {len(tokens)}")]
    spans: list[SpanRecord] = []
    current: SpanRecord | None = None
    for (start, end, token), (file_token, tag, line) in zip(tokens, rows, strict=True):
        if token != file_token:
            return [], [(line, f"token {file_token!r} does not match the article's text ({token!r} there)")]
        prefix, _, label = tag.partition("-")
        if tag == "O":
            current = None
        elif prefix in ("B", "I") and label:
            if prefix == "I" and current is not None and current.label == label:
                current.end = end
            else:  # B-, or an I- that starts a chunk (the conlleval convention)
                current = SpanRecord(start=start, end=end, label=label, line=line)
                spans.append(current)
        else:
            return [], [(line, f"tag {tag!r} is not O, B-<label> or I-<label>")]
    for span in spans:
        span.text = text[span.start : span.end]
    return spans, []


class ConllFormat(ExchangeFormat):
    """CoNLL-style BIO: ``token<TAB>tag`` lines, one block per article and (layer, annotator), ``#`` comments."""

    name = "conll"
    extension = "conll"
    content_type = "text/plain"
    description = "CoNLL BIO tokens (one block per article and annotator)"

    def write(self, articles: Iterable[ArticleRecord]) -> Iterator[str]:
        for a in articles:
            tokens = conll_tokens(a.text or "")
            groups: dict[tuple[str | None, str | None], list[SpanRecord]] = {}
            for s in a.spans:
                groups.setdefault((s.layer, s.annotator), []).append(s)
            for (layer, annotator), spans in groups.items() or [((None, None), [])]:
                tags, notes = bio_tags(tokens, spans)
                head = [
                    f"# article_id = {a.article_id}",
                    f"# external_id = {_one_line(a.external_id)}",
                    f"# content_hash = {a.hash()}",
                    f"# layer = {layer or ''}",
                    f"# annotator = {annotator or ''}",
                    f"# offset_unit = {OFFSET_UNIT}",
                    *(f"# note = {n}" for n in notes),
                ]
                body = [f"{token}\t{tag}" for (_, _, token), tag in zip(tokens, tags, strict=True)]
                yield "\n".join(head + body) + "\n\n"

    def read(self, stream: TextIO, *, source: str) -> Iterator[ArticleRecord | RowError]:
        record: ArticleRecord | None = None
        for number, raw in enumerate(stream, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                if record is not None:
                    yield from self._finish(record, source)
                record = None
                continue
            if record is None:
                record = ArticleRecord(text=None, bio=[], line=number)
            if line.startswith("# "):
                key, sep, value = line[2:].partition(" = ")
                if sep:
                    self._comment(record, key.strip(), value.strip())
                continue
            token, _, tag = line.partition("\t") if "\t" in line else line.partition(" ")
            record.bio.append((token, tag.strip(), number))  # type: ignore[union-attr]
        if record is not None:
            yield from self._finish(record, source)

    @staticmethod
    def _comment(record: ArticleRecord, key: str, value: str) -> None:
        if key == "article_id" and value.isdigit():
            record.article_id = int(value)
        elif key == "external_id":
            record.external_id = value
        elif key == "content_hash":
            record.content_hash = value
        elif key == "layer":
            record.block_layer = value or None
        elif key == "annotator":
            record.block_annotator = value or None
        elif key == "offset_unit" and value != OFFSET_UNIT:
            record.metadata["bad_offset_unit"] = value

    @staticmethod
    def _finish(record: ArticleRecord, source: str) -> Iterator[ArticleRecord | RowError]:
        if "bad_offset_unit" in record.metadata:
            yield row_error(source, record.line, f"offset_unit {record.metadata['bad_offset_unit']!r} is not supported")
        elif not record.content_hash and record.article_id is None:
            yield row_error(source, record.line, "the block names no article (# article_id or # content_hash)")
        else:
            yield record


def _one_line(value: str) -> str:
    return value.replace("\r", " ").replace("\n", " ")


# --- CSV ---------------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "article_id", "external_id", "outlet", "content_hash", "layer", "annotator", "label",
    "start", "end", "text", "note", "codebook_version", "offset_unit",
)  # fmt: skip


def csv_unescape(value: str) -> str:
    """Undo the formula escape: drop the apostrophe that export puts before = + - @ TAB CR."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


class CsvFormat(ExchangeFormat):
    """One span per row; text cells starting with = + - @ get a leading apostrophe (CSV injection)."""

    name = "csv"
    extension = "csv"
    content_type = "text/csv"
    description = "CSV, one span per row"
    escapes_formulas = True
    needs_text = False

    def write(self, articles: Iterable[ArticleRecord]) -> Iterator[str]:
        sink = io.StringIO()
        writer = csv.writer(sink, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for a in articles:
            content_hash = a.hash()
            for s in a.spans:
                row = (
                    a.article_id, a.external_id, a.outlet, content_hash, s.layer, s.annotator, s.label,
                    s.start, s.end, s.text, s.note, s.codebook_version, OFFSET_UNIT,
                )  # fmt: skip
                writer.writerow([csv_cell(value) for value in row])
            yield sink.getvalue()
            sink.seek(0)
            sink.truncate()
        if sink.tell():
            yield sink.getvalue()

    def read(self, stream: TextIO, *, source: str) -> Iterator[ArticleRecord | RowError]:
        reader = csv.DictReader(stream)
        header = reader.fieldnames or []
        missing = [c for c in ("label", "start", "end") if c not in header]
        if missing or not {"content_hash", "article_id", "article_text"} & set(header):
            need = missing or ["content_hash, article_id or article_text"]
            yield row_error(source, 1, f"CSV header lacks column(s) {', '.join(need)} (found {header})")
            return
        previous_end = reader.line_num
        for row in reader:
            line, previous_end = previous_end + 1, reader.line_num
            try:
                yield self._record(row, line)
            except RecordProblem as exc:
                yield row_error(source, line, str(exc))

    @staticmethod
    def _record(row: dict[str, Any], line: int) -> ArticleRecord:
        if None in row:
            raise RecordProblem("the row has more cells than the header")
        _check_offset_unit(row.get("offset_unit") or OFFSET_UNIT)
        article_id, version = (row.get("article_id") or "").strip(), (row.get("codebook_version") or "").strip()
        text = row.get("article_text")
        span = SpanRecord(
            start=_int(row.get("start"), "start"),
            end=_int(row.get("end"), "end"),
            label=csv_unescape(_str(row.get("label"), "label", required=True)),
            text=row.get("text") or None,  # a leading apostrophe is resolved against the article's text
            layer=csv_unescape(row.get("layer") or "") or None,
            annotator=csv_unescape(row.get("annotator") or "") or None,
            note=csv_unescape(row.get("note") or ""),
            codebook_version=_int(version, "codebook_version") if version else None,
            line=line,
        )
        return ArticleRecord(
            text=text if text else None,
            spans=[span],
            article_id=_int(article_id, "article_id") if article_id else None,
            external_id=csv_unescape(row.get("external_id") or ""),
            outlet=csv_unescape(row.get("outlet") or ""),
            content_hash=(row.get("content_hash") or "").strip().lower(),
            line=line,
        )


ANSWER_CSV_COLUMNS = (
    "article_id", "external_id", "outlet", "content_hash", "layer", "annotator", "question", "unit", "start", "end",
    "span_label", "unit_text", "value", "codebook_version", "offset_unit",
)  # fmt: skip
MULTIPLE_SEPARATOR = "|"


class AnswersCsvFormat(ExchangeFormat):
    """Answers to the codebook's questions, one row per (article, unit, annotator, question): the unit is the
    article, a sentence or a span (``start``/``end`` in code points, ``unit_text`` its text); a multiple-choice
    value is its option values joined by ``|``. Export only: import answers with the native format."""

    name = "answers-csv"
    extension = "csv"
    content_type = "text/csv"
    description = (
        "CSV of the answers to the codebook's questions, one row per article/sentence/span, annotator, question"
    )
    readable = False
    carries_spans = False

    def write(self, articles: Iterable[ArticleRecord]) -> Iterator[str]:
        sink = io.StringIO()
        writer = csv.writer(sink, lineterminator="\r\n")
        writer.writerow(ANSWER_CSV_COLUMNS)
        for a in articles:
            rows = [(x, None) for x in a.answers] + [(x, s) for s in a.spans for x in s.attributes]
            for answer, span in rows:
                start, end = (span.start, span.end) if span else (answer.start, answer.end)
                unit = "span" if span else "sentence" if start is not None else "article"
                text = "" if start is None or a.text is None else a.text[start:end]
                value = MULTIPLE_SEPARATOR.join(answer.value) if isinstance(answer.value, list) else answer.value
                row = (
                    a.article_id, a.external_id, a.outlet, a.hash(), answer.layer, answer.annotator, answer.question,
                    unit, start, end, span.label if span else "", text, value, answer.codebook_version, OFFSET_UNIT,
                )  # fmt: skip
                writer.writerow([csv_cell(v) for v in row])
            yield sink.getvalue()
            sink.seek(0)
            sink.truncate()

    def read(self, stream: TextIO, *, source: str) -> Iterator[ArticleRecord | RowError]:
        yield row_error(source, 1, "answers-csv is an export format; import answers with the native JSONL format")


FORMATS: dict[str, type[ExchangeFormat]] = {
    f.name: f
    for f in (
        NativeFormat,
        DoccanoFormat,
        DoccanoClassificationFormat,
        LabelStudioFormat,
        ConllFormat,
        CsvFormat,
        AnswersCsvFormat,
    )
}


def select_format(name: str, *, unit: str | None = None) -> ExchangeFormat:
    """The format called ``name``, reading and writing offsets in ``unit`` (None: the file's, else the format's
    default); an unknown name, or a unit the format does not count in, raises ValueError saying so."""
    try:
        cls = FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; use one of: {', '.join(FORMATS)}") from None
    return cls(unit=unit)


READABLE_FORMATS = [name for name, cls in FORMATS.items() if cls.readable]

__all__ = [
    "FORMATS",
    "READABLE_FORMATS",
    "ExchangeFormat",
    "bio_tags",
    "conll_tokens",
    "select_format",
    "spans_from_bio",
    "text_hash",
]
