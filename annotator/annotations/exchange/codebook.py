"""The project's codebook questions as the exchange formats need them (plain ``QuestionInfo``s; one read)."""

from __future__ import annotations

from annotator.annotations.exchange.records import QuestionInfo, QuestionOptionInfo
from annotator.common.errors import ApplicationError
from annotator.projects.models import Project, Question, QuestionOption

CATEGORY_KINDS = (Question.Kind.SINGLE, Question.Kind.MULTIPLE)


def exchange_questions(*, project: Project) -> dict[str, QuestionInfo]:
    """Every question and attribute of the project's codebook by name, options in codebook order."""
    options: dict[int, list[QuestionOptionInfo]] = {}
    for question_id, value, text, numeric in (
        QuestionOption.objects.filter(question__project=project)
        .order_by("order", "id")
        .values_list("question_id", "value", "text", "numeric")
    ):
        options.setdefault(question_id, []).append(QuestionOptionInfo(value, text, numeric))
    return {
        name: QuestionInfo(name, scope, kind, label, tuple(options.get(pk, ())))
        for pk, name, scope, kind, label in Question.objects.filter(project=project)
        .order_by("order", "id")
        .values_list("pk", "name", "scope", "kind", "label__name")
    }


def category_question(*, questions: dict[str, QuestionInfo], name: str = "", required: bool) -> str | None:
    """The question doccano's categories answer: ``name`` if given (it must exist), else the project's only article
    question of single or multiple choice. ``required``: raise when there is none or several (text
    classification), else None (a sequence-labelling file's ``cats`` are then counted, not imported)."""
    if name:
        if name not in questions:
            known = ", ".join(sorted(questions)) or "none"
            message = f"No question {name!r} in the project's codebook (its questions: {known})."
            raise ApplicationError(message, {"question": [message]})
        return name
    candidates = [q.name for q in questions.values() if q.scope == Question.Scope.ARTICLE and q.kind in CATEGORY_KINDS]
    if len(candidates) == 1:
        return candidates[0] if required else None
    if required:
        listed = ", ".join(candidates) or "none"
        message = (
            "Name the question doccano's categories answer (--question NAME): the project has "
            f"{len(candidates)} article questions of single or multiple choice ({listed})."
        )
        raise ApplicationError(message, {"question": [message]})
    return None
