"""Import BABE (Spinde et al. 2021) into a project: one article per sentence, the marked words as gold spans.

The file is read by ``ml.babe.read_babe``, which owns the matching rule (marked words found as whole tokens,
case-insensitively, every occurrence). Here the rows become corpus rows:

* outlet: the ``outlet`` column, slugified (created if missing);
* article: the sentence, ``external_id`` = ``babe-`` + SHA-256 of sentence + newline + news_link (first 40 hex
  digits), ``url`` = news_link, no date, metadata news_link, topic, type, label_bias, label_opinion;
* a gold span labelled *loaded term* for every matched marked word (the label is created if missing);
* ``Adjudication(status=done)`` for every sentence, so a sentence without marked words counts as a zero;
* ``label_bias`` and ``label_opinion`` as the answers to the codebook's questions ``bias`` and ``opinion`` (BABE's
  template has both) of each sentence: in the gold layer, or as the named annotator's (``annotator``); an article
  question answers for the article (the sentence), a sentence question for the sentence's characters. A value no
  option names (by value or text: "Biased", "No agreement"…), or a question the codebook lacks, is counted and
  reported, never dropped silently.

Marked words that occur nowhere in their sentence are reported (count and first examples). A rerun adds nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from annotator.annotations.answers import AnswerRow, answers_import
from annotator.annotations.exchange.codebook import exchange_questions
from annotator.annotations.exchange.records import RowError
from annotator.annotations.models import Adjudication, Layer, Span
from annotator.annotations.services import span_offsets_validate
from annotator.common.errors import ApplicationError
from annotator.corpus.importing.parsers import content_hash, outlet_slug
from annotator.corpus.models import Article
from annotator.corpus.services import outlet_get_or_create
from annotator.projects.codebook import BABE_LABEL, BABE_LABEL_DESCRIPTION
from annotator.projects.models import CodebookVersion, Label, Membership, Project, Question
from annotator.projects.permissions import role_can
from annotator.projects.selectors import membership_role
from annotator.projects.services import label_create, project_add_articles
from annotator.projects.visibility import NOT_GRANTED, viewer_for
from ml.babe import BabeFormatError, BabeRow, read_babe
from ml.tokenise import count_tokens

UNMATCHED_EXAMPLES = 10
NOT_ALLOWED = "Only the project's owners and curators may import BABE."
# BABE's sentence judgements → the codebook questions (BABE's template) they answer.
BABE_ANSWER_COLUMNS = (("bias", "label_bias"), ("opinion", "label_opinion"))
ANSWER_ERRORS_SHOWN = 5


@dataclass
class BabeImportReport:
    source: str
    dry_run: bool
    sentences: int = 0
    outlets_created: int = 0
    articles_created: int = 0
    articles_existing: int = 0
    spans_created: int = 0
    spans_existing: int = 0
    adjudications_created: int = 0
    answers_created: int = 0
    answers_existing: int = 0
    # answers not imported, by "column: why" (e.g. "label_bias: 'No agreement' is no option of 'bias'")
    answers_skipped: dict[str, int] = field(default_factory=dict)
    answers_layer: str = Layer.GOLD
    answers_annotator: str = ""
    unmatched_count: int = 0
    unmatched_examples: list[RowError] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def babe_external_id(row: BabeRow) -> str:
    """Stable id of a BABE sentence: the same sentence from the same link always gets the same id."""
    return "babe-" + hashlib.sha256(f"{row.text}\n{row.news_link}".encode()).hexdigest()[:40]


class _Rollback(Exception):
    pass


def babe_import(
    *, project: Project, path: str | Path, by=None, dry_run: bool = False, annotator: str = ""
) -> BabeImportReport:
    """Import a BABE ``final_labels_*.csv`` file into the project (see the module docstring); idempotent.
    ``annotator``: the member whose answers BABE's judgements become (default: the gold layer)."""
    if by is not None and not role_can(membership_role(project=project, user=by), "manage_articles"):
        raise ApplicationError(NOT_ALLOWED, status_code=403)
    annotator_id = None
    if annotator:
        annotator_id = (
            Membership.objects.filter(project=project, user__username=annotator).values_list("user_id", flat=True)
        ).first()
        if annotator_id is None:
            message = f"{annotator!r} is not a member of project '{project.slug}'."
            raise ApplicationError(message, {"annotator": [message]})
    try:
        dataset = read_babe(path)
    except BabeFormatError as exc:
        raise ApplicationError(str(exc), {"path": [str(exc)]}) from None
    report = BabeImportReport(source=str(path), dry_run=dry_run, sentences=len(dataset.rows))
    if annotator_id is not None:
        report.answers_layer, report.answers_annotator = Layer.ANNOTATOR, annotator
    report.unmatched_count = len(dataset.unmatched)
    report.unmatched_examples = [dict(item) for item in dataset.unmatched[:UNMATCHED_EXAMPLES]]  # type: ignore[misc]
    try:
        with transaction.atomic():
            _import_rows(project=project, rows=dataset.rows, by=by, report=report, annotator_id=annotator_id)
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    return report


def _import_rows(
    *, project: Project, rows: tuple[BabeRow, ...], by, report: BabeImportReport, annotator_id: int | None = None
) -> None:
    label = Label.objects.filter(project=project, name=BABE_LABEL).first()
    if label is None:
        label = label_create(
            project=project,
            name=BABE_LABEL,
            by=by,
            description=BABE_LABEL_DESCRIPTION,
            changelog=f"Added label '{BABE_LABEL}' for the BABE import.",
        )
        report.messages.append(f"The project had no label '{BABE_LABEL}'; it was created.")
    outlets = {}
    for name in dict.fromkeys(row.outlet for row in rows):
        slug = outlet_slug(name) or "unknown-outlet"
        outlets[name], created = outlet_get_or_create(name=name or "Unknown outlet", slug=slug)
        report.outlets_created += created
    unique = {(outlets[row.outlet].pk, babe_external_id(row)): row for row in reversed(rows)}  # first row wins
    article_ids, created = _articles(rows=unique, outlets=outlets, report=report)
    _check_linkable(project=project, by=by, article_ids=set(article_ids.values()) - created)
    project_add_articles(project=project, by=None, article_ids=list(article_ids.values()))
    _spans(project=project, label=label, rows=unique, article_ids=article_ids, report=report)
    _adjudications(project=project, article_ids=set(article_ids.values()), by=by, report=report)
    _answers(project=project, rows=unique, article_ids=article_ids, report=report, annotator_id=annotator_id)


def _check_linkable(*, project: Project, by, article_ids: set[int]) -> None:
    """Sentences already in the corpus join the project only when granted to it (staff and the command line: any)."""
    if by is None or by.is_staff or not article_ids:
        return
    granted = set(
        viewer_for(project=project, user=by)
        .addable_articles()
        .filter(pk__any_of=article_ids)
        .values_list("pk", flat=True)
    )
    if len(granted) < len(article_ids):
        n = len(article_ids) - len(granted)
        raise ApplicationError(
            f"{n} of these sentences are already in the corpus but were not granted to this project; a staff member "
            "can grant their outlets or import batch.",
            {"path": [NOT_GRANTED]},
            status_code=403,
        )


def _articles(
    *, rows: dict[tuple[int, str], BabeRow], outlets: dict, report: BabeImportReport
) -> tuple[dict, set[int]]:
    """(outlet id, external id) -> article id for every sentence, creating the missing articles in bulk; and the ids
    of the articles this import created."""

    def stored() -> dict[tuple[int, str], int]:
        found = Article.objects.filter(
            outlet_id__in={o.pk for o in outlets.values()}, external_id__in={ext for _, ext in rows}
        ).values_list("outlet_id", "external_id", "pk")
        return {(outlet_id, ext): pk for outlet_id, ext, pk in found}

    existing = stored()
    new = [
        Article(
            outlet_id=outlet_id,
            title="",
            text=row.text,
            url=row.news_link[:2000],
            external_id=ext,
            content_hash=content_hash(row.text),
            n_tokens=count_tokens(row.text),
            metadata={
                "source": "BABE",
                "news_link": row.news_link,
                "topic": row.topic,
                "type": row.type,
                "label_bias": row.label_bias,
                "label_opinion": row.label_opinion,
            },
        )
        for (outlet_id, ext), row in rows.items()
        if (outlet_id, ext) not in existing
    ]
    Article.objects.bulk_create(new, batch_size=500)
    report.articles_created += len(new)
    report.articles_existing += len(rows) - len(new)
    if not new:
        return existing, set()
    ids = stored()
    return ids, set(ids.values()) - set(existing.values())


def _spans(
    *, project: Project, label: Label, rows: dict[tuple[int, str], BabeRow], article_ids: dict, report: BabeImportReport
) -> None:
    existing = set(
        Span.objects.filter(
            project=project, article_id__any_of=article_ids.values(), layer=Layer.GOLD, label=label
        ).values_list("article_id", "start_char", "end_char")
    )
    version = CodebookVersion.objects.filter(project=project).order_by("-number").values_list("pk", flat=True).first()
    new = []
    for key, row in rows.items():
        article_id = article_ids[key]
        for span in row.spans:
            if (article_id, span.start, span.end) in existing:
                report.spans_existing += 1
                continue
            covered = row.text[span.start : span.end]
            span_offsets_validate(text=row.text, start_char=span.start, end_char=span.end, span_text=covered)
            new.append(
                Span(
                    project=project,
                    article_id=article_id,
                    layer=Layer.GOLD,
                    annotator=None,
                    label=label,
                    start_char=span.start,
                    end_char=span.end,
                    text=covered,
                    codebook_version_id=version,
                    provenance={"source": "BABE", "line": row.line, "marked_words": list(row.biased_words)},
                )
            )
    Span.objects.bulk_create(new, batch_size=1000)
    report.spans_created += len(new)


def _adjudications(*, project: Project, article_ids: set[int], by, report: BabeImportReport) -> None:
    rows = Adjudication.objects.filter(project=project, article_id__any_of=article_ids)
    rows.exclude(status=Adjudication.Status.DONE).update(status=Adjudication.Status.DONE)
    missing = article_ids - set(rows.values_list("article_id", flat=True))
    Adjudication.objects.bulk_create(
        [Adjudication(project=project, article_id=pk, curator=by, status=Adjudication.Status.DONE) for pk in missing],
        batch_size=1000,
    )
    report.adjudications_created += len(missing)


def _answers(
    *, project: Project, rows: dict[tuple[int, str], BabeRow], article_ids: dict, report: BabeImportReport,
    annotator_id: int | None,
) -> None:  # fmt: skip
    """BABE's ``label_bias`` and ``label_opinion`` of each sentence as the answers to ``bias`` and ``opinion``,
    through the answer rules (``answers_import``: a rerun counts them as existing; a sentence that already has a
    different answer stops the import)."""
    questions = exchange_questions(project=project)
    layer = Layer.ANNOTATOR if annotator_id is not None else Layer.GOLD
    skipped: dict[str, int] = {}
    answer_rows: list[AnswerRow] = []
    for name, column in BABE_ANSWER_COLUMNS:
        question = questions.get(name)
        usable = (
            question is not None
            and question.scope in (Question.Scope.ARTICLE, Question.Scope.SENTENCE)
            and question.kind in (Question.Kind.SINGLE, Question.Kind.SCALE)
        )
        if not usable:
            why = "no such question" if question is None else f"a {question.scope} question of kind {question.kind}"
            key = f"{column}: the codebook has no article or sentence question '{name}' of single choice ({why})"
            skipped[key] = len(rows)
            continue
        options = {o.value for o in question.options}
        for key, row in rows.items():
            raw = getattr(row, column)
            value = question.option_value(raw)
            if not raw or value not in options:
                reason = f"{column}: {raw!r} is no option of '{name}'" if raw else f"{column}: empty"
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            unit = {}
            if question.scope == Question.Scope.SENTENCE:  # the sentence's characters, without surrounding space
                stripped = row.text.strip()
                start = row.text.index(stripped) if stripped else 0
                unit = {"start_char": start, "end_char": start + len(stripped)}
            answer_rows.append(
                AnswerRow(
                    article_id=article_ids[key], question=name, value=value, layer=layer, annotator_id=annotator_id,
                    provenance={"source": "BABE", "line": row.line, "column": column}, line=row.line, **unit,
                )
            )  # fmt: skip
    result = answers_import(project=project, rows=answer_rows)
    if result.errors:
        shown = "; ".join(f"line {line}: {message}" for line, message in result.errors[:ANSWER_ERRORS_SHOWN])
        message = f"{len(result.errors)} BABE answer(s) cannot be stored, nothing was imported: {shown}"
        raise ApplicationError(message, {"path": [message]})
    report.answers_created += result.created
    report.answers_existing += result.duplicate
    report.answers_skipped = skipped
    for reason, count in skipped.items():
        report.messages.append(f"Not imported as an answer: {count} sentence(s), {reason}.")
