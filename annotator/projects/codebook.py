"""The codebook as a document: the one home of its JSON shape.

A codebook travels between studies as a JSON document (docs/codebook.md):

    {"format": "framescope-codebook", "version": 1, "name": "...", "description": "...",
     "labels": [{"name": "loaded term", "description": "...", "colour": "#e4572e", "hotkey": "1",
                 "parent": "optional name of a label listed before it",
                 "positive_examples": ["..."], "negative_examples": ["..."]}, ...]}

Everything that reads or writes a codebook's content goes through this module: the export (``codebook_document``),
the import check (``codebook_parse``: JSON Schema, then the rules that span labels, every problem named by its path),
the templates a new project starts from (``CODEBOOK_TEMPLATES``), and the label list each codebook version keeps
(``codebook_labels``, stored in ``CodebookVersion.labels_snapshot``). New codebook content (codebook questions, span
attributes) is added here once: a key in ``CODEBOOK_SCHEMA``, its part of ``codebook_labels``/``codebook_document``
and its checks in ``codebook_parse``; the services that load a codebook take the parsed ``Codebook``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from annotator.common.errors import ApplicationError
from annotator.projects.models import Label, Project, Question
from annotator.projects.selectors import project_list_for_user, question_list

FORMAT = "framescope-codebook"
VERSION = 1
MAX_LABELS = 500
MAX_EXAMPLES = 100
DEFAULT_COLOUR = "#f4c542"

_EXAMPLES = {"type": "array", "items": {"type": "string", "maxLength": 2000}, "maxItems": MAX_EXAMPLES}
LABEL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "description": {"type": "string", "description": "The definition annotators apply (plain text)."},
        "colour": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$", "description": "Like #e4572e."},
        "hotkey": {"type": "string", "maxLength": 1, "description": "One character, or empty."},
        "parent": {
            "type": "string",
            "nullable": True,
            "description": "Name of a label listed before this one (a sub-label); absent or null for none.",
        },
        "positive_examples": _EXAMPLES,
        "negative_examples": _EXAMPLES,
    },
}
OPTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["value"],
    "additionalProperties": False,
    "properties": {
        "value": {"type": "string", "minLength": 1, "maxLength": 100, "description": "The stable key answers keep."},
        "text": {"type": "string", "maxLength": 200},
        "description": {"type": "string"},
        "numeric": {"type": "number", "nullable": True, "description": "A scale point's number."},
        "hotkey": {"type": "string", "maxLength": 1},
    },
}
QUESTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "prompt"],
    "additionalProperties": False,
    "properties": {
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "description": "Stable key (letters, digits, - _).",
        },
        "prompt": {"type": "string", "minLength": 1, "maxLength": 300},
        "description": {"type": "string"},
        "positive_examples": _EXAMPLES,
        "negative_examples": _EXAMPLES,
        "scope": {"type": "string", "enum": ["article", "sentence", "span"], "description": "Default: article."},
        "kind": {"type": "string", "enum": ["single", "multiple", "scale", "text"], "description": "Default: single."},
        "required": {"type": "boolean"},
        "hotkey": {"type": "string", "maxLength": 1},
        "label": {
            "type": "string",
            "nullable": True,
            "description": "Scope span (an attribute): the name of the label whose spans it is asked of.",
        },
        "options": {"type": "array", "items": OPTION_SCHEMA, "maxItems": 100},
    },
}
# OpenAPI 3.0 compatible (no $defs, no const): the same dict documents the API's codebook fields.
CODEBOOK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Framescope codebook",
    "required": ["format", "version", "labels"],
    "additionalProperties": False,
    "properties": {
        "format": {"type": "string", "enum": [FORMAT]},
        "version": {"type": "integer", "enum": [VERSION], "description": "The codebook format's version."},
        "name": {"type": "string", "maxLength": 200, "description": "Informational: where the codebook comes from."},
        "description": {"type": "string"},
        "labels": {"type": "array", "items": LABEL_SCHEMA, "maxItems": MAX_LABELS},
        "questions": {"type": "array", "items": QUESTION_SCHEMA, "maxItems": MAX_LABELS},
    },
}


@dataclass(frozen=True)
class CodebookLabel:
    name: str
    description: str = ""
    colour: str = DEFAULT_COLOUR
    hotkey: str = ""
    parent: str | None = None
    positive_examples: tuple[str, ...] = ()
    negative_examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Codebook:
    """A checked codebook document: labels in order, parents listed before their children."""

    labels: tuple[CodebookLabel, ...] = ()
    questions: tuple[dict, ...] = ()  # as QUESTION_SCHEMA has them; projects.questions checks the rest on loading
    name: str = ""
    description: str = ""
    notes: list[str] = field(default_factory=list, compare=False)


# --- reading a project's codebook ---------------------------------------------------------------------------------


def codebook_labels(*, project: Project) -> list[dict]:
    """The project's labels as stored in a codebook version's snapshot (with their ids), in codebook order."""
    return [
        {
            "id": label.pk,
            "name": label.name,
            "description": label.description,
            "colour": label.colour,
            "hotkey": label.hotkey,
            "parent": label.parent.name if label.parent_id else None,
            "order": label.order,
            "positive_examples": list(label.positive_examples or []),
            "negative_examples": list(label.negative_examples or []),
        }
        for label in Label.objects.filter(project=project).select_related("parent").order_by("order", "name")
    ]


def codebook_question(question: Question) -> dict:
    """A question (or span attribute) with its options, as codebook versions keep it and the API and the annotator
    page show it. ``label`` is the attribute's label name (scope span), None otherwise; options in their order."""
    return {
        "id": question.pk,
        "name": question.name,
        "prompt": question.prompt,
        "description": question.description,
        "positive_examples": list(question.positive_examples or []),
        "negative_examples": list(question.negative_examples or []),
        "scope": question.scope,
        "kind": question.kind,
        "required": question.required,
        "hotkey": question.hotkey,
        "order": question.order,
        "label_id": question.label_id,
        "label": question.label.name if question.label_id else None,
        "options": [
            {
                "value": o.value,
                "text": o.text,
                "description": o.description,
                "numeric": o.numeric,
                "hotkey": o.hotkey,
                "order": o.order,
            }
            for o in sorted(question.options.all(), key=lambda o: (o.order, o.pk))
        ],
    }


def codebook_questions(*, project: Project) -> list[dict]:
    """The project's questions and attributes as stored in a codebook version's snapshot, in codebook order."""
    return [codebook_question(q) for q in question_list(project=project)]


def codebook_document_from_snapshot(
    labels: list[dict], questions: list[dict] = (), *, name: str = "", description: str = ""
) -> dict:
    """A codebook document from label and question dicts as ``codebook_labels`` and ``codebook_questions`` (or an
    older version's snapshots) have them.

    Parents come before their children, whatever the stored order, so the document imports as it reads."""
    by_name = {entry["name"]: entry for entry in labels}
    ordered: list[dict] = []
    placed: set[str] = set()

    def place(entry: dict, seen: frozenset = frozenset()) -> None:
        parent = entry.get("parent")
        if parent and parent in by_name and parent not in placed and parent not in seen:
            place(by_name[parent], seen | {entry["name"]})
        if entry["name"] not in placed:
            placed.add(entry["name"])
            ordered.append(entry)

    for entry in labels:
        place(entry)
    document: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    if name:
        document["name"] = name
    if description:
        document["description"] = description
    document["labels"] = [_label_document(entry) for entry in ordered]
    if questions:
        document["questions"] = [_question_document(entry) for entry in questions]
    return document


def _question_document(entry: dict) -> dict:
    out = {key: entry[key] for key in ("name", "prompt", "description", "scope", "kind", "required", "hotkey")}
    out["positive_examples"] = list(entry.get("positive_examples") or [])
    out["negative_examples"] = list(entry.get("negative_examples") or [])
    if entry.get("label"):
        out["label"] = entry["label"]
    out["options"] = [
        {key: option[key] for key in ("value", "text", "description", "numeric", "hotkey")}
        for option in entry.get("options") or []
    ]
    return out


def _label_document(entry: dict) -> dict:
    out = {
        "name": entry["name"],
        "description": entry.get("description") or "",
        "colour": entry.get("colour") or DEFAULT_COLOUR,
        "hotkey": entry.get("hotkey") or "",
    }
    if entry.get("parent"):
        out["parent"] = entry["parent"]
    out["positive_examples"] = list(entry.get("positive_examples") or [])
    out["negative_examples"] = list(entry.get("negative_examples") or [])
    return out


def codebook_document(*, project: Project) -> dict:
    """The project's current codebook as a shareable document (no ids: they belong to this database)."""
    return codebook_document_from_snapshot(
        codebook_labels(project=project), codebook_questions(project=project), name=project.name
    )


def codebook_from_project(*, project: Project) -> Codebook:
    """The project's current codebook, ready to load into another project."""
    return codebook_parse(codebook_document(project=project), source=f"project '{project.slug}'")


# --- checking a document ------------------------------------------------------------------------------------------


def _path(error) -> str:
    parts = []
    for part in error.absolute_path:
        parts.append(f"[{part}]" if isinstance(part, int) else (f".{part}" if parts else str(part)))
    return "".join(parts) or "(document)"


def _schema_message(error) -> str:
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return f"{error.message} (known keys: {allowed})"
    if error.validator == "enum" and list(error.absolute_path) == ["version"]:
        return (
            f"codebook format version {error.instance!r} is not one this Framescope reads (it reads version "
            f"{VERSION}); export the codebook again from a matching Framescope"
        )
    if error.validator == "enum" and list(error.absolute_path) == ["format"]:
        return f"{error.instance!r} is not a Framescope codebook (format must be {FORMAT!r})"
    return error.message


def _drop_nulls(value: Any) -> Any:
    """A key set to null means the key left out (every nullable key is optional): ``"parent": null`` is no parent."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _label_rule_errors(labels: list[dict]) -> dict[str, list[str]]:
    """The rules between labels that a schema cannot say: unique names and hotkeys, parents listed earlier."""
    errors: dict[str, list[str]] = {}
    names: dict[str, int] = {}
    hotkeys: dict[str, int] = {}
    for index, entry in enumerate(labels):
        name = entry["name"].strip()
        where = f"labels[{index}]"
        parent = entry.get("parent")
        if parent is not None and parent.strip() not in names:
            errors[f"{where}.parent"] = [
                "A label cannot be its own parent."
                if parent.strip() == name
                else f"Parent {parent!r} must be the name of a label listed before this one."
            ]
        if not name:
            errors[f"{where}.name"] = ["A label needs a name."]
        elif name in names:
            errors[f"{where}.name"] = [f"Label {name!r} is listed twice (first at labels[{names[name]}])."]
        else:
            names[name] = index
        hotkey = entry.get("hotkey", "")
        if hotkey and hotkey.isspace():
            errors[f"{where}.hotkey"] = ["A hotkey is one visible character."]
        elif hotkey in hotkeys:
            errors[f"{where}.hotkey"] = [f"Hotkey {hotkey!r} is already used by labels[{hotkeys[hotkey]}]."]
        elif hotkey:
            hotkeys[hotkey] = index
    return errors


def _question_rule_errors(document: dict) -> dict[str, list[str]]:
    """Between questions and labels: unique names, an attribute's label listed in the document, hotkeys no label has.
    The rules of one question (options per kind, reserved keys…) are projects.questions', checked on loading."""
    errors: dict[str, list[str]] = {}
    label_names = {entry["name"].strip() for entry in document["labels"]}
    label_keys = {entry.get("hotkey") for entry in document["labels"] if entry.get("hotkey")}
    names: dict[str, int] = {}
    for index, entry in enumerate(document.get("questions", ())):
        where = f"questions[{index}]"
        if entry["name"] in names:
            errors[f"{where}.name"] = [
                f"Question {entry['name']!r} is listed twice (first at questions[{names[entry['name']]}])."
            ]
        names.setdefault(entry["name"], index)
        label = entry.get("label")
        if label is not None and label.strip() not in label_names:
            errors[f"{where}.label"] = [f"No label {label!r} in this codebook's labels."]
        if entry.get("hotkey") and entry["hotkey"] in label_keys:
            errors[f"{where}.hotkey"] = [f"Hotkey {entry['hotkey']!r} is already used by a label."]
    return errors


def codebook_parse(document: Any, *, source: str = "the codebook") -> Codebook:
    """A checked ``Codebook``, or ApplicationError whose ``extra`` names every problem by its path in the document
    (``labels[2].colour``); nothing is written either way."""
    import jsonschema  # 0.16 s of imports: only when a codebook is read, not in every web process

    document = _drop_nulls(document)
    validator = jsonschema.Draft202012Validator(CODEBOOK_SCHEMA)
    problems = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    if problems:
        errors: dict[str, list[str]] = {}
        for problem in problems[:50]:
            errors.setdefault(_path(problem), []).append(_schema_message(problem))
        first = next(iter(errors.items()))
        raise ApplicationError(f"{source} is not a valid codebook: {first[0]}: {first[1][0]}.", errors)
    rule_errors = _label_rule_errors(document["labels"]) | _question_rule_errors(document)
    if rule_errors:
        first = next(iter(rule_errors.items()))
        raise ApplicationError(f"{source} is not a valid codebook: {first[0]}: {first[1][0]}", rule_errors)
    labels = tuple(
        CodebookLabel(
            name=entry["name"].strip(),
            description=entry.get("description", ""),
            colour=entry.get("colour", DEFAULT_COLOUR),
            hotkey=entry.get("hotkey", ""),
            parent=(entry.get("parent") or "").strip() or None,
            positive_examples=tuple(entry.get("positive_examples", ())),
            negative_examples=tuple(entry.get("negative_examples", ())),
        )
        for entry in document["labels"]
    )
    questions = tuple(dict(entry) for entry in document.get("questions", ()))
    return Codebook(
        labels=labels, questions=questions, name=document.get("name", ""), description=document.get("description", "")
    )


def codebook_read(raw: bytes | str, *, source: str = "the file") -> Codebook:
    """Parse an uploaded codebook file (UTF-8 JSON, with or without a BOM) and check it."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ApplicationError(
                f"{source} is not UTF-8 text (byte {exc.start}); a codebook file is JSON in UTF-8.",
                {"codebook": ["Not UTF-8."]},
            ) from None
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApplicationError(
            f"{source} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            {"codebook": [f"Not JSON (line {exc.lineno}, column {exc.colno})."]},
        ) from None
    return codebook_parse(document, source=source)


# --- templates ----------------------------------------------------------------------------------------------------

DEFAULT_FRAMING_LABELS: list[dict] = [
    {
        "name": "loaded term",
        "hotkey": "1",
        "colour": "#e4572e",
        "description": "A word or phrase with strong connotations that characterises rather than describes "
        "(e.g. 'regime', 'thugs', 'terrorists' used as a label, 'liberate').",
    },
    {
        "name": "euphemism",
        "hotkey": "2",
        "colour": "#3a86ff",
        "description": "A mild or vague expression that softens something harsh "
        "(e.g. 'collateral damage', 'enhanced interrogation', 'neutralised').",
    },
    {
        "name": "actor label",
        "hotkey": "3",
        "colour": "#8338ec",
        "description": "How a person, group or state is named when another neutral name exists "
        "(e.g. 'militants' vs 'fighters' vs 'rebels', 'Takfiri').",
    },
    {
        "name": "attribution/hedge",
        "hotkey": "4",
        "colour": "#2a9d8f",
        "description": "A verb or phrase that signals doubt or credence in a source "
        "(e.g. 'claimed', 'admitted', 'so-called', 'allegedly').",
    },
    {
        "name": "scare quotes",
        "hotkey": "5",
        "colour": "#e9a100",
        "description": "Quotation marks that distance the writer from a term (mark the quotes and the words).",
    },
]
# BABE (Spinde et al. 2021) marks the words that make a sentence biased; its importer
# (annotator/annotations/exchange/babe.py) stores them as gold spans of this label.
BABE_LABEL = "loaded term"
BABE_LABEL_DESCRIPTION = (
    "A word or phrase with strong connotations that characterises rather than describes (BABE's biased words)."
)


@dataclass(frozen=True)
class CodebookTemplate:
    key: str
    title: str
    summary: str
    labels: tuple[dict, ...]
    questions: tuple[dict, ...] = ()

    def codebook(self) -> Codebook:
        document = {"format": FORMAT, "version": VERSION, "name": self.title, "labels": list(self.labels)}
        if self.questions:
            document["questions"] = list(self.questions)
        return codebook_parse(document, source=f"template {self.key!r}")


# BABE's two sentence-level judgements (one article per sentence when BABE is imported), with its own wording.
BABE_QUESTIONS = (
    {
        "name": "bias", "prompt": "Is the sentence biased?", "kind": "single",
        "description": "BABE's label_bias: the experts' majority judgement of the sentence.",
        "options": [{"value": "biased", "text": "Biased"}, {"value": "non-biased", "text": "Non-biased"},
                    {"value": "no-agreement", "text": "No agreement"}],
    },
    {
        "name": "opinion", "prompt": "Is it factual or opinion?", "kind": "single",
        "description": "BABE's label_opinion.",
        "options": [{"value": "factual", "text": "Entirely factual"},
                    {"value": "somewhat-factual", "text": "Somewhat factual but also opinionated"},
                    {"value": "opinion", "text": "Expresses writer’s opinion"},
                    {"value": "no-agreement", "text": "No agreement"}],
    },
)  # fmt: skip


CODEBOOK_TEMPLATES: dict[str, CodebookTemplate] = {
    template.key: template
    for template in (
        CodebookTemplate(
            "framing",
            "Framing codebook",
            "Five span labels: loaded term, euphemism, actor label, attribution/hedge, scare quotes (hotkeys 1-5).",
            tuple(DEFAULT_FRAMING_LABELS),
        ),
        CodebookTemplate(
            "babe",
            "BABE's scheme",
            "One span label for the words that make a sentence biased, as BABE (Spinde et al. 2021) marks them, and "
            "BABE's two questions of each sentence (biased? factual or opinion?); import BABE's data with "
            "import_annotations --format babe (or the Exchange page).",
            ({"name": BABE_LABEL, "hotkey": "1", "colour": "#e4572e", "description": BABE_LABEL_DESCRIPTION},),
            BABE_QUESTIONS,
        ),
        CodebookTemplate("empty", "Empty codebook", "No labels: add your own on the settings page.", ()),
    )
}
DEFAULT_TEMPLATE = "framing"


def codebook_template(key: str) -> Codebook:
    """The codebook of a named template, or ApplicationError listing the known ones."""
    template = CODEBOOK_TEMPLATES.get(key)
    if template is None:
        known = ", ".join(CODEBOOK_TEMPLATES)
        raise ApplicationError(f"Unknown codebook template {key!r}.", {"codebook_template": [f"Choose {known}."]})
    return template.codebook()


def codebook_choose(
    *, by, template: str = "", copy_from: str = "", document: Any = None, file_name: str = ""
) -> tuple[Codebook, str]:
    """The codebook a new project starts from, and a phrase saying where it came from: one of a template name, the
    slug of a project to copy (one ``by`` is a member of; any project for ``by=None``, the command line) or a
    document (parsed JSON, or the raw bytes of an uploaded file named ``file_name``). None given: the default
    template."""
    given = [name for name, value in (("template", template), ("copy_from", copy_from)) if value]
    given += ["codebook"] if document is not None else []
    if len(given) > 1:
        message = f"Choose one codebook source, not {' and '.join(given)}."
        raise ApplicationError(message, {name: [message] for name in given})
    if copy_from:
        projects = Project.objects.all() if by is None else project_list_for_user(user=by)
        source = projects.filter(slug=copy_from).first()
        if source is None:
            raise ApplicationError(
                f"No project {copy_from!r} among yours to copy the codebook from.",
                {"copy_from": ["Not a project you are a member of."]},
            )
        return codebook_from_project(project=source), f"a copy of the codebook of project '{source.slug}'"
    if document is not None:
        where = f"codebook file '{file_name}'" if file_name else "an imported codebook"
        if isinstance(document, bytes | str):
            return codebook_read(document, source=where), where
        return codebook_parse(document, source=where), where
    key = template or DEFAULT_TEMPLATE
    return codebook_template(key), f"the codebook template '{key}'"
