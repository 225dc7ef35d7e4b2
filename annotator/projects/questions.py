"""Writes for codebook questions and their options. Every change makes a codebook version, as label changes do.

The rules, all checked here:

* ``name`` is a stable key (letters, digits, ``-``, ``_``), unique in the project; ``prompt`` is not blank.
* ``scope`` article or sentence: no label. Scope span (an attribute): the label whose spans it is asked of; it is
  answered in the span popover, so it has no hotkey of its own.
* Choice and scale questions have at least two options; a text question has none. Option values are unique keys;
  a scale's options each have a distinct number, and they are kept in increasing order of it.
* A question's hotkey is one visible character used by no label and no other question, and none of the page's own
  keys (``RESERVED_KEYS``). Options without hotkeys get 1-9 in order (they apply while the question has focus).
* Once a question has answers, its scope, kind and label are fixed, an option that answers use cannot be removed,
  and the question cannot be deleted: nothing answered is ever lost or reinterpreted.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import Max

from annotator.common.errors import ApplicationError
from annotator.projects.models import Label, Project, Question, QuestionOption
from annotator.projects.services import _require, codebook_version_create

# Keys of the annotator page itself: a (accept suggestion), d (done), w (snap), ? (guidelines), [ and ] (sentences).
RESERVED_KEYS = frozenset("adw?[]")
NAME_PATTERN = re.compile(r"^[\w-]+$")
QUESTION_FIELDS = (
    "name",
    "prompt",
    "description",
    "positive_examples",
    "negative_examples",
    "scope",
    "kind",
    "required",
    "hotkey",
    "order",
    "label",
)
FIXED_ONCE_ANSWERED = ("scope", "kind", "label")
CHOICE_KINDS = (Question.Kind.SINGLE, Question.Kind.MULTIPLE, Question.Kind.SCALE)


def _question_errors(question: Question) -> dict[str, list[str]]:
    question.name = (question.name or "").strip()
    question.prompt = (question.prompt or "").strip()
    errors = {**_name_errors(question), **_scope_errors(question)}
    if not question.prompt:
        errors["prompt"] = ["A question needs a prompt (what the annotator reads)."]
    if question.kind not in Question.Kind.values:
        errors["kind"] = [f"Choose one of {', '.join(Question.Kind.values)}."]
    if question.hotkey and "hotkey" not in errors:
        errors.update(_hotkey_errors(question))
    for field in ("positive_examples", "negative_examples"):
        value = getattr(question, field)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors[field] = ["A list of example texts."]
    return errors


def _name_errors(question: Question) -> dict[str, list[str]]:
    if not question.name:
        return {"name": ["A question needs a name (its stable key, e.g. primary_frame)."]}
    if not NAME_PATTERN.match(question.name):
        return {"name": ["Letters, digits, - and _ only (it is the key exports and the API use)."]}
    if Question.objects.filter(project_id=question.project_id, name=question.name).exclude(pk=question.pk).exists():
        return {"name": [f"The project already has a question called '{question.name}'."]}
    return {}


def _scope_errors(question: Question) -> dict[str, list[str]]:
    if question.scope not in Question.Scope.values:
        return {"scope": [f"Choose one of {', '.join(Question.Scope.values)}."]}
    if question.scope != Question.Scope.SPAN:
        return {"label": ["Only attributes (scope span) have a label."]} if question.label_id is not None else {}
    errors = {}
    if question.label_id is None:
        errors["label"] = ["An attribute (scope span) needs the label whose spans it is asked of."]
    elif not Label.objects.filter(pk=question.label_id, project_id=question.project_id).exists():
        errors["label"] = ["The label must belong to the same project."]
    if question.hotkey:
        errors["hotkey"] = ["An attribute is answered in the span popover; it has no hotkey of its own."]
    return errors


def _hotkey_errors(question: Question) -> dict[str, list[str]]:
    key = question.hotkey
    if len(key) != 1 or key.isspace():
        return {"hotkey": ["A hotkey is one visible character."]}
    if key.lower() in RESERVED_KEYS:
        return {"hotkey": [f"'{key}' is one of the page's own keys ({' '.join(sorted(RESERVED_KEYS))})."]}
    if Label.objects.filter(project_id=question.project_id, hotkey__iexact=key).exists():
        return {"hotkey": [f"Hotkey '{key}' is already used by a label."]}
    others = Question.objects.filter(project_id=question.project_id, hotkey__iexact=key).exclude(pk=question.pk)
    if others.exists():
        return {"hotkey": [f"Hotkey '{key}' is already used by another question."]}
    return {}


def _options_clean(question: Question, options: list[dict]) -> list[dict]:
    """The options as they will be stored (value, text, description, numeric, hotkey, order); raises on errors."""
    if not isinstance(options, list) or not all(isinstance(o, dict) for o in options):
        raise ApplicationError("The options are not valid.", {"options": ["A list of options."]})
    if question.kind == Question.Kind.TEXT:
        if options:
            raise ApplicationError("A text question has no options.", {"options": ["Leave empty for kind text."]})
        return []
    errors: list[str] = []
    if len(options) < 2:
        errors.append(f"A {question.get_kind_display().lower()} question needs at least two options.")
    clean = [_option_clean(i, raw, kind=question.kind, errors=errors) for i, raw in enumerate(options, start=1)]
    values, keys = [o["value"] for o in clean], [o["hotkey"] for o in clean if o["hotkey"]]
    if len(set(values)) != len(values):
        errors.append("Two options have the same value (the value is the key answers keep).")
    if len(set(keys)) != len(keys):
        errors.append("Two options have the same hotkey.")
    if question.kind == Question.Kind.SCALE and not errors:
        _scale_order(clean, errors)
    if errors:
        raise ApplicationError("The options are not valid.", {"options": errors})
    if not keys:
        for o, key in zip(clean, "123456789", strict=False):
            o["hotkey"] = key
    for order, o in enumerate(clean, start=1):
        o["order"] = order
    return clean


def _scale_order(clean: list[dict], errors: list[str]) -> None:
    """Scale points in increasing order of their numbers, which must differ."""
    numbers = [o["numeric"] for o in clean]
    if len(set(numbers)) != len(numbers):
        errors.append("Two points of the scale have the same number.")
    clean.sort(key=lambda o: o["numeric"])


def _option_clean(i: int, raw: dict, *, kind: str, errors: list[str]) -> dict:
    """One option as stored; problems are appended to ``errors`` (numbered as the user counts, from 1)."""
    value = str(raw.get("value", "")).strip()
    text = str(raw.get("text") or value).strip()
    hotkey = str(raw.get("hotkey") or "")
    numeric = raw.get("numeric")
    if not value or len(value) > 100:
        errors.append(f"Option {i}: a value (its stable key) of 1 to 100 characters.")
    if len(text) > 200:
        errors.append(f"Option {i}: the text is longer than 200 characters.")
    if hotkey and (len(hotkey) != 1 or hotkey.isspace()):
        errors.append(f"Option {i}: a hotkey is one visible character.")
    if numeric is not None and (isinstance(numeric, bool) or not isinstance(numeric, int | float)):
        errors.append(f"Option {i}: the number of a scale point is a number.")
        numeric = None
    if kind == Question.Kind.SCALE and numeric is None:
        errors.append(f"Option {i}: every point of a scale needs its number (e.g. -2 to 2).")
    return {
        "value": value, "text": text or value, "description": str(raw.get("description") or ""),
        "numeric": float(numeric) if numeric is not None else None, "hotkey": hotkey,
    }  # fmt: skip


def _options_store(question: Question, options: list[dict]) -> list[str]:
    """Replace the question's options by ``options`` (matched by value); returns what changed, for the changelog.
    An option that answers use is never removed."""
    existing = {o.value: o for o in question.options.all()}
    removed = sorted(set(existing) - {o["value"] for o in options})
    if removed:
        used = _answer_count(question, values=removed)
        if used:
            raise ApplicationError(
                f"Option(s) {', '.join(repr(v) for v in removed)} are used by {used} answer(s); they cannot be removed "
                "(rename their text instead: the value is the key answers keep).",
                {"options": [f"In use: {', '.join(removed)}."]},
            )
        QuestionOption.objects.filter(question=question, value__in=removed).delete()
    # Hotkeys are unique per question: clear the kept ones first so two options can swap keys.
    QuestionOption.objects.filter(question=question).update(hotkey="")
    changes = [f"removed option {v!r}" for v in removed]
    for spec in options:
        option = existing.get(spec["value"])
        if option is None:
            QuestionOption.objects.create(question=question, **spec)
            changes.append(f"added option {spec['value']!r}")
            continue
        if any(getattr(option, f) != v for f, v in spec.items() if f != "hotkey"):
            changes.append(f"changed option {spec['value']!r}")
        for field, value in spec.items():
            setattr(option, field, value)
        option.save()
    return changes


def _answer_count(question: Question, *, values: list[str] | None = None) -> int:
    """How many answers (any layer) use the question, or, with ``values``, one of these options."""
    if question.pk is None:
        return 0
    answers = question.answers.all()
    if values is None:
        return answers.count()
    if question.kind == Question.Kind.MULTIPLE:
        return sum(1 for v in answers.values_list("value", flat=True) if set(v or []) & set(values))
    return answers.filter(value__in=values).count()


def _save(question: Question, options: list[dict] | None = None) -> list[dict]:
    """Check the question and (when given) its options together, so one answer names every problem; save the
    question and return the options as they will be stored."""
    errors = _question_errors(question)
    clean: list[dict] = []
    if options is not None:
        try:
            clean = _options_clean(question, options)
        except ApplicationError as exc:
            if not errors:
                raise
            errors.update(exc.extra)
    if errors:
        raise ApplicationError("The question is not valid.", errors)
    question.full_clean(validate_constraints=False)
    question.save()
    return clean


@transaction.atomic
def question_create(
    *,
    project: Project,
    name: str,
    prompt: str,
    by=None,
    scope: str = Question.Scope.ARTICLE,
    kind: str = Question.Kind.SINGLE,
    options: list[dict] | None = None,
    description: str = "",
    positive_examples: list | None = None,
    negative_examples: list | None = None,
    required: bool = False,
    hotkey: str = "",
    order: int | None = None,
    label: Label | None = None,
    changelog: str = "",
    record_version: bool = True,
) -> Question:
    """Add a question (or, with scope span and a label, an attribute) to the codebook; makes a codebook version
    (unless ``record_version`` is False: a whole codebook loaded at once makes one, projects.services.codebook_load)."""
    _require(project=project, user=by, capability="edit_codebook")
    if order is None:
        order = (Question.objects.filter(project=project).aggregate(n=Max("order"))["n"] or 0) + 1
    question = Question(
        project=project, name=name, prompt=prompt, scope=scope, kind=kind, description=description,
        positive_examples=positive_examples or [], negative_examples=negative_examples or [], required=required,
        hotkey=hotkey, order=order, label=label,
    )  # fmt: skip
    clean = _save(question, options or [])
    _options_store(question, clean)
    what = f"attribute '{question.name}' of label '{label.name}'" if label else f"question '{question.name}'"
    if record_version:
        codebook_version_create(project=project, changelog=changelog or f"Added {what}.", by=by)
    return question


@transaction.atomic
def question_update(*, question: Question, by=None, changelog: str = "", **fields) -> Question:
    """Change a question: its prompt, definition, examples, hotkey, order, whether it is required, its options
    (``options``: the full new list, matched by value). Makes a codebook version when anything changed."""
    project = question.project
    _require(project=project, user=by, capability="edit_codebook")
    options = fields.pop("options", None)
    unknown = set(fields) - set(QUESTION_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown question field(s): {', '.join(sorted(unknown))}.")
    if "label" in fields:
        label = fields.pop("label")
        fields["label_id"] = label.pk if label is not None else None
    changed = [name for name, value in fields.items() if getattr(question, name) != value]
    fixed = [name.removesuffix("_id") for name in changed if name.removesuffix("_id") in FIXED_ONCE_ANSWERED]
    if fixed and _answer_count(question):
        raise ApplicationError(
            f"Question '{question.name}' has answers: its {', '.join(fixed)} can no longer change "
            "(the answers would not fit). Add a new question instead.",
            {name: ["Fixed once answered."] for name in fixed},
        )
    old_name = question.name
    for name in changed:
        setattr(question, name, fields[name])
    option_changes = []
    if options is not None or "kind" in changed:
        current = [
            {k: getattr(o, k) for k in ("value", "text", "description", "numeric", "hotkey")}
            for o in question.options.all()
        ]
        clean = _save(question, current if options is None else options)
        option_changes = _options_store(question, clean)
    elif changed:
        _save(question)
    if not changed and not option_changes:
        return question
    if not changelog:
        what = [name.removesuffix("_id") for name in changed] + option_changes
        changelog = (
            f"Renamed question '{old_name}' to '{question.name}'."
            if changed == ["name"] and not option_changes
            else f"Changed {', '.join(what)} of question '{question.name}'."
        )
    codebook_version_create(project=project, changelog=changelog, by=by)
    return question


@transaction.atomic
def question_delete(*, question: Question, by=None, changelog: str = "") -> None:
    """Delete a question that has no answers; makes a codebook version."""
    project = question.project
    _require(project=project, user=by, capability="edit_codebook")
    n = _answer_count(question)
    if n:
        raise ApplicationError(
            f"Question '{question.name}' has {n} answer(s); it cannot be deleted (they would be lost).",
            {"question": [f"{n} answer(s)."]},
        )
    name = question.name
    question.delete()
    codebook_version_create(project=project, changelog=changelog or f"Deleted question '{name}'.", by=by)


@transaction.atomic
def questions_reorder(*, project: Project, order: list[int], by=None, changelog: str = "") -> list[Question]:
    """Put the codebook's questions and attributes in the order of ``order`` (every question id of the project, each
    once); one codebook version for the whole move. Returns the questions in their new order."""
    _require(project=project, user=by, capability="edit_codebook")
    questions = {q.pk: q for q in Question.objects.filter(project=project).select_for_update(of=("self",))}
    unknown = [pk for pk in order if pk not in questions]
    missing = sorted(set(questions) - set(order))
    if unknown or missing or len(set(order)) != len(order):
        problems = []
        if unknown:
            problems.append(f"Not questions of this codebook: {', '.join(map(str, unknown))}.")
        if missing:
            problems.append(f"Missing: {', '.join(questions[pk].name for pk in missing)} (list every question once).")
        if len(set(order)) != len(order):
            problems.append("A question is listed twice.")
        raise ApplicationError("The new order is not valid.", {"order": problems})
    moved = [questions[pk] for pk in order]
    changed = [q for position, q in enumerate(moved, start=1) if q.order != position]
    for position, q in enumerate(moved, start=1):
        q.order = position
    Question.objects.bulk_update(changed, ["order"])
    if changed:
        names = ", ".join(q.name for q in moved)
        codebook_version_create(project=project, changelog=changelog or f"Reordered the questions: {names}.", by=by)
    return moved
