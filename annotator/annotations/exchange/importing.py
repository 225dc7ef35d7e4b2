"""Import annotations in any exchange format into a project: match articles, check every span, write in bulk.

One import is ONE transaction: if any record is bad, nothing is written and every problem is reported as
``{"source", "line", "message"}`` (all of them, not just the first). ``dry_run`` does the same work and rolls
back, so its counts are exact. Importing the same file twice adds nothing: a span is a duplicate when
(article, layer, annotator, label, start, end) already exists.

Span rule: offsets and text are checked by ``annotations.services.span_offsets_validate`` (the one owner of the
offset rule); the label must be in the project's codebook; a named annotator must be a project member. This
module is the only place the import applies them.

Who a span belongs to: ``annotator`` (``--annotator``) for every span, else the file's name for its user,
looked up in ``user_map`` (``--user-map``: the file's user id or e-mail → a member's username or e-mail), then
as a member's username, then as a member's e-mail. Label Studio names its users by number, so a Label Studio
file needs the map unless its ``completed_by`` carries e-mails (Framescope's own export does).

What a file holds beside spans (relations, choices, cancelled annotations, predictions, drafts, document
categories: ``records.ExtraItem``) is counted by kind in the report, or handed to the importer registered for its
kind in ``EXTRA_ITEM_IMPORTERS``.

Article matching, in order: the record's article id (if that article is in the project and has the same text),
its outlet + external id (same text), then the exact text (content hash) among the project's articles. With
``create_articles`` an unmatched record's article is linked from the corpus or created (native: in its own
outlet; other formats: in the "imported" outlet) and added to the project. An importer who is not staff links only
articles granted to the project (the visibility rule): a record whose article is in the corpus but not granted is
reported, not linked.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import IO, Any, TextIO

from django.core.exceptions import ValidationError
from django.db import transaction

from annotator.annotations.answers import AnswerRow, answers_import
from annotator.annotations.exchange.codebook import category_question, exchange_questions
from annotator.annotations.exchange.formats import (
    ExchangeFormat,
    RecordProblem,
    csv_unescape,
    select_format,
    spans_from_bio,
)
from annotator.annotations.exchange.records import (
    AnswerRecord,
    ArticleRecord,
    ExtraItem,
    RowError,
    SpanRecord,
    row_error,
    text_hash,
)
from annotator.annotations.models import Adjudication, Layer, Span
from annotator.annotations.services import NOTE_MAX_CHARS, span_offsets_validate
from annotator.common.errors import ApplicationError
from annotator.corpus.importing.parsers import RowRejected, outlet_slug, parse_datetime
from annotator.corpus.models import Article, Outlet
from annotator.corpus.services import outlet_get_or_create
from annotator.projects.models import CodebookVersion, Label, Membership, Project
from annotator.projects.permissions import role_can
from annotator.projects.selectors import membership_role
from annotator.projects.services import human_layers_changed, project_add_articles
from annotator.projects.visibility import viewer_for
from ml.tokenise import count_tokens

IMPORT_LAYERS = (Layer.ANNOTATOR, Layer.GOLD)
IMPORT_CHUNK_SIZE = 500
ERRORS_KEPT = 1000
IMPORTED_OUTLET = ("Imported", "imported")
NOT_ALLOWED = "Only the project's owners and curators may import annotations."
NEEDS_USER_MAP = (
    "{named} is not a member of project '{project}' (by username or e-mail): map the file's users to members "
    "with --user-map FILE (a CSV of the file's user id or e-mail, and a username), or give --annotator"
)
# An importer for a kind of ExtraItem (a choice, a rating, a document category…): it gets the run and the item with
# the article it belongs to, and returns True when it imported it. Kinds without one are counted as skipped.
ExtraItemImporter = Callable[["_ImportRun", ExtraItem, int], bool]
EXTRA_ITEM_IMPORTERS: dict[str, ExtraItemImporter] = {}


def _lines(text: str) -> str:
    """Line breaks as Label Studio's editor writes them in a region's text."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_user_map(stream: Iterable[str], *, source: str = "user map") -> dict[str, str]:
    """``--user-map``: CSV rows of (the file's user id or e-mail, a member's username or e-mail); a header row is
    allowed. Raises ApplicationError naming the line of a row that is not two cells."""
    mapping: dict[str, str] = {}
    for number, row in enumerate(csv.reader(stream), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if len(cells) != 2 or not all(cells):
            message = f"{source}:{number}: expected two cells (the file's user id or e-mail, a username), got {row}"
            raise ApplicationError(message, {"user_map": [message]})
        if number == 1 and cells[1].lower() in ("username", "member", "user"):
            continue
        mapping[cells[0]] = cells[1]
    return mapping


NOT_LINKABLE = (
    "this article is already in the corpus (outlet '{outlet}') but was not granted to this project; a staff member can "
    "grant its outlet or import batch"
)


@dataclass
class ImportReport:
    """What an import did or, for a dry run or a failed one, would have done."""

    format: str
    source: str
    dry_run: bool
    written: bool = False
    offset_unit: str = "codepoint"
    records: int = 0
    records_with_errors: int = 0
    records_held_back: int = 0  # good records not written because others were bad (all or nothing)
    articles_matched: int = 0
    articles_linked: int = 0
    articles_created: int = 0
    spans_created: int = 0
    spans_duplicate: int = 0
    answers_created: int = 0
    answers_duplicate: int = 0
    adjudications_created: int = 0
    n_errors: int = 0
    errors: list[RowError] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # what the file holds beside spans, by kind

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def skipped_text(self) -> str:
        """``2 relations, 1 choices`` for messages; empty when nothing was skipped."""
        return ", ".join(f"{count} {kind}" for kind, count in sorted(self.skipped.items()))


class _Rollback(Exception):
    pass


def annotations_import(
    *,
    project: Project,
    stream: TextIO | None = None,
    fmt: str,
    source: str = "",
    by=None,
    annotator: str = "",
    layer: str = "",
    dry_run: bool = False,
    create_articles: bool = False,
    offset_unit: str = "",
    user_map: dict[str, str] | None = None,
    archive: IO[bytes] | None = None,
    question: str = "",
) -> ImportReport:
    """Import the annotations in ``stream`` (format ``fmt``) into the project, all or nothing.

    ``annotator``/``layer`` override what the file says for every span. ``offset_unit``: the unit of the file's
    offsets (doccano: ``utf16`` by default, ``grapheme`` or ``codepoint``). ``user_map``: the file's user ids or
    e-mails → members. ``archive`` instead of ``stream``: a zip of files (doccano's export, one file per user).
    ``by=None`` is the command line. ``question``: the question doccano's categories answer (text classification:
    default the project's only article question of single or multiple choice; a sequence-labelling file's ``cats``
    are imported only when it is given, else counted).
    """
    if by is not None and not role_can(membership_role(project=project, user=by), "manage_articles"):
        raise ApplicationError(NOT_ALLOWED, status_code=403)
    try:
        reader = select_format(fmt, unit=offset_unit or None)
    except ValueError as exc:
        raise ApplicationError(str(exc), {"format": [str(exc)]}) from None
    reader.questions = exchange_questions(project=project)
    if fmt.startswith("doccano"):
        reader.question = category_question(
            questions=reader.questions, name=question, required=fmt == "doccano-classification"
        )
    run = _ImportRun(project=project, reader=reader, source=source or fmt, by=by, create_articles=create_articles)
    run.set_overrides(annotator=annotator, layer=layer)
    run.user_map = dict(user_map or {})
    report = run.report
    report.dry_run = dry_run
    try:
        with transaction.atomic():
            items = reader.read_archive(archive, source=run.source) if archive is not None else None
            run.execute(items if items is not None else reader.read(stream, source=run.source))  # type: ignore[arg-type]
            if dry_run or report.n_errors:
                raise _Rollback
    except _Rollback:
        pass
    report.written = not dry_run and not report.n_errors
    report.records_with_errors = len(run.lines_with_errors)
    if report.n_errors:
        report.records_held_back = len(run.record_lines - run.lines_with_errors)
    report.offset_unit = (reader.unit or reader.offset_units[0]).value
    return report


def _problem_text(exc: ApplicationError | ValidationError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    details = [m for messages in exc.extra.values() for m in (messages if isinstance(messages, list) else [messages])]
    return " ".join([exc.message, *map(str, details)])


class _ImportRun:
    def __init__(self, *, project: Project, reader: ExchangeFormat, source: str, by, create_articles: bool) -> None:
        self.project = project
        self.reader = reader
        self.source = source
        self.by = by
        self.create_articles = create_articles
        # What this importer may link from the corpus (the visibility rule): None for the command line and staff.
        self.linkable = None
        if by is not None and not by.is_staff:
            self.linkable = viewer_for(project=project, user=by).addable_articles()
        self.report = ImportReport(format=reader.name, source=source, dry_run=False)
        self.labels = dict(Label.objects.filter(project=project).values_list("name", "pk"))
        rows = Membership.objects.filter(project=project).values_list("user__username", "user__email", "user_id")
        self.members = {username: user_id for username, _, user_id in rows}
        self.member_emails = {email.lower(): user_id for _, email, user_id in rows if email}
        self.user_map: dict[str, str] = {}
        self.lines_with_errors: set[tuple[str, int]] = set()
        self.record_lines: set[tuple[str, int]] = set()
        self.versions = dict(CodebookVersion.objects.filter(project=project).values_list("number", "pk"))
        self.latest_version = self.versions[max(self.versions)] if self.versions else None
        self.layer_override: str | None = None
        self.annotator_override: str | None = None
        self.seen_articles: set[int] = set()

    def set_overrides(self, *, annotator: str, layer: str) -> None:
        if layer and layer not in IMPORT_LAYERS:
            message = f"Unknown layer {layer!r}: spans are imported into the annotator or the gold layer."
            raise ApplicationError(message, {"layer": [message]})
        if annotator and annotator not in self.members:
            message = f"{annotator!r} is not a member of project '{self.project.slug}'."
            raise ApplicationError(message, {"annotator": [message]})
        self.layer_override = layer or None
        self.annotator_override = annotator or None

    # --- the run ---------------------------------------------------------------------------------------

    def member_id(self, name: str) -> int | None:
        """The member a file's name for a user stands for: through the user map, then by username, then e-mail."""
        target = self.user_map.get(name, name)
        return self.members.get(target) or self.member_emails.get(target.lower())

    def error(self, line: int, message: str, source: str = "") -> None:
        """Record one problem; ``source``: the archive member it is in (default: the imported file)."""
        source = source or self.source
        self.lines_with_errors.add((source, line))
        self.report.n_errors += 1
        if len(self.report.errors) < ERRORS_KEPT:
            self.report.errors.append(row_error(source, line, message))

    def execute(self, items: Iterable[ArticleRecord | RowError]) -> None:
        iterator: Iterator[ArticleRecord | RowError] = iter(items)
        while chunk := list(islice(iterator, IMPORT_CHUNK_SIZE)):
            records: list[ArticleRecord] = []
            for item in chunk:
                if isinstance(item, dict):
                    self.error(item["line"], item["message"], item["source"])
                else:
                    records.append(item)
                    self.record_lines.add((item.source or self.source, item.line))
            self.report.records += len(records)
            self._process(records)

    def _process(self, records: list[ArticleRecord]) -> None:
        resolved = self._resolve(records)
        texts = dict(Article.objects.filter(pk__in=set(resolved.values())).values_list("pk", "text"))
        spans: dict[tuple, Span] = {}
        adjudicated: set[int] = set()
        answered: list[tuple[ArticleRecord, int, list[tuple[SpanRecord, tuple]]]] = []
        for index, record in enumerate(records):
            article_id = resolved.get(index)
            if article_id is None:
                continue
            text = texts[article_id]
            self._extras(record, article_id)
            with_attributes = []
            for span in self._record_spans(record, text):
                made = self._span(record, span, article_id, text)
                if made is None:
                    continue
                if span.attributes:
                    with_attributes.append((span, made[0]))
                if made[0] in spans:
                    self.report.spans_duplicate += 1  # the same span twice in the file
                else:
                    spans[made[0]] = made[1]
            if record.answers or with_attributes:
                answered.append((record, article_id, with_attributes))
            if record.adjudication == Adjudication.Status.DONE and self.layer_override in (None, Layer.GOLD):
                adjudicated.add(article_id)
        self._write(spans, adjudicated)
        if answered:
            self._answers(answered)

    # --- answers to codebook questions -------------------------------------------------------------------

    def _answers(self, answered: list[tuple[ArticleRecord, int, list[tuple[SpanRecord, tuple]]]]) -> None:
        """The records' answers and their spans' attributes, through ``answers.answers_import`` (the answer rules);
        a span's attributes find the span by its key (article, layer, annotator, label, offsets), new or not."""
        keys = {key for _, _, spans in answered for _, key in spans}
        span_ids = {}
        if keys:
            rows = Span.objects.filter(project=self.project, article_id__any_of=list({k[0] for k in keys}))
            for pk, *key in rows.values_list(
                "pk", "article_id", "layer", "annotator_id", "label_id", "start_char", "end_char"
            ):
                span_ids[tuple(key)] = pk
        rows_in: list[AnswerRow] = []
        for record, article_id, spans in answered:
            for answer in record.answers:
                row = self._answer_row(answer, article_id, line=answer.line or record.line)
                if row is not None:
                    rows_in.append(row)
            for span, key in spans:
                for answer in span.attributes:  # in the span's layer, by the span's annotator (key[1], key[2])
                    row = self._answer_row(answer, article_id, line=answer.line or record.line, layer=key[1])
                    if row is not None:
                        row.span_id, row.annotator_id = span_ids.get(key), key[2]
                        rows_in.append(row)
        result = answers_import(project=self.project, rows=rows_in)
        for line, message in result.errors:
            self.error(line, message)
        self.report.answers_created += result.created
        self.report.answers_duplicate += result.duplicate

    def _answer_row(
        self, answer: AnswerRecord, article_id: int, *, line: int, layer: str | None = None
    ) -> AnswerRow | None:
        layer = layer or self.layer_override or answer.layer or Layer.ANNOTATOR
        username = self.annotator_override or answer.annotator
        annotator_id = self.member_id(username) if username and layer == Layer.ANNOTATOR else None
        if layer == Layer.ANNOTATOR and annotator_id is None:
            who = (
                f"{username!r} is not a member of project '{self.project.slug}'" if username else "it has no annotator"
            )
            self.error(line, f"answer to {answer.question!r}: {who} (an annotator-layer answer needs one)")
            return None
        if self.reader.lossless and answer.codebook_version is None:
            version = None
        else:
            version = self.versions.get(answer.codebook_version, self.latest_version)
        return AnswerRow(
            article_id=article_id, question=answer.question, value=answer.value, layer=layer,
            annotator_id=annotator_id, start_char=answer.start, end_char=answer.end, codebook_version_id=version,
            provenance=answer.provenance, line=line,
        )  # fmt: skip

    def _extras(self, record: ArticleRecord, article_id: int) -> None:
        for item in record.extras:
            importer = EXTRA_ITEM_IMPORTERS.get(item.kind)
            if importer is None or not importer(self, item, article_id):
                self.report.skipped[item.kind] = self.report.skipped.get(item.kind, 0) + 1

    def _record_spans(self, record: ArticleRecord, text: str) -> list[SpanRecord]:
        if record.bio is None:
            return record.spans
        spans, problems = spans_from_bio(text, record.bio)
        for line, message in problems:
            self.error(line, message, record.source)
        for span in spans:
            span.layer, span.annotator = record.block_layer, record.block_annotator
        return spans

    # --- articles --------------------------------------------------------------------------------------

    def _resolve(self, records: list[ArticleRecord]) -> dict[int, int]:
        """Record index -> article id, for the records whose article was found (or made); errors for the rest."""
        in_project = Article.objects.filter(project_links__project=self.project)
        ids = {r.article_id for r in records if r.article_id is not None}
        by_id = dict(in_project.filter(pk__any_of=ids).values_list("pk", "content_hash"))
        hashes = {r.hash() for r in records} - {""}
        by_hash: dict[str, list[int]] = {}
        for pk, digest in in_project.filter(content_hash__in=hashes).values_list("pk", "content_hash"):
            by_hash.setdefault(digest, []).append(pk)
        external = {r.external_id for r in records if r.external_id and r.outlet}
        by_external = {
            (slug, ext): (pk, digest)
            for pk, slug, ext, digest in in_project.filter(external_id__in=external).values_list(
                "pk", "outlet__slug", "external_id", "content_hash"
            )
        }
        resolved: dict[int, int] = {}
        linked: list[int] = []
        for index, record in enumerate(records):
            try:
                article_id = self._match(record, by_id, by_hash, by_external)
                if article_id is None:
                    article_id, created = self._article_from_corpus(record)
                    linked.append(article_id)
                    self.report.articles_created += created
                    self.report.articles_linked += not created
            except RecordProblem as exc:
                self.error(record.line, str(exc), record.source)
                continue
            resolved[index] = article_id
            if article_id not in self.seen_articles:
                self.seen_articles.add(article_id)
                self.report.articles_matched += 1
        if linked:
            project_add_articles(project=self.project, by=None, article_ids=linked)
        return resolved

    @staticmethod
    def _match(
        record: ArticleRecord,
        by_id: dict[int, str],
        by_hash: dict[str, list[int]],
        by_external: dict[tuple[str, str], tuple[int, str]],
    ) -> int | None:
        digest = record.hash()
        if record.article_id in by_id and (not digest or by_id[record.article_id] == digest):
            return record.article_id
        found = by_external.get((record.outlet, record.external_id))
        if found is not None and (not digest or found[1] == digest):
            return found[0]
        candidates = by_hash.get(digest, [])
        if len(candidates) > 1:
            raise RecordProblem(
                f"{len(candidates)} articles in the project have this exact text (ids {candidates[:5]}); "
                "name the article by id (the native format does)"
            )
        return candidates[0] if candidates else None

    def _article_from_corpus(self, record: ArticleRecord) -> tuple[int, bool]:
        """An unmatched record's article: linked from the corpus or created (with create_articles); (id, created)."""
        where = f"id {record.article_id}" if record.article_id is not None else "this text"
        if not self.create_articles:
            raise RecordProblem(
                f"no article in project '{self.project.slug}' matches {where} (matched by id, external id, then "
                "exact text); pass --create-articles to add it"
            )
        if record.text is None:
            raise RecordProblem("cannot create an article without its text (a CSV needs an article_text column)")
        digest = text_hash(record.text)
        outlet = self._outlet(record)
        stored = Article.objects.filter(outlet=outlet)
        if record.external_id:
            existing = stored.filter(external_id=record.external_id).values_list("pk", "content_hash").first()
            if existing is not None and existing[1] != digest:
                raise RecordProblem(
                    f"article {record.external_id!r} of outlet '{outlet.slug}' exists with a different text"
                )
        else:
            existing = stored.filter(external_id="", content_hash=digest).values_list("pk", "content_hash").first()
        if existing is not None:
            if self.linkable is not None and not self.linkable.filter(pk=existing[0]).exists():
                raise RecordProblem(NOT_LINKABLE.format(outlet=outlet.slug))
            return existing[0], False
        return self._article_create(record, outlet, digest), True

    def _outlet(self, record: ArticleRecord) -> Outlet:
        if self.reader.name == "native" and record.outlet:
            slug = outlet_slug(record.outlet)
            if slug:
                return outlet_get_or_create(name=record.outlet_name or record.outlet, slug=slug)[0]
        return outlet_get_or_create(name=IMPORTED_OUTLET[0], slug=IMPORTED_OUTLET[1])[0]

    def _article_create(self, record: ArticleRecord, outlet: Outlet, digest: str) -> int:
        try:
            published_at = parse_datetime(record.published_at)
        except RowRejected as exc:
            raise RecordProblem(str(exc)) from None
        article = Article(
            outlet=outlet,
            title=record.title[:1000],
            text=record.text or "",
            url=record.url,
            published_at=published_at,
            external_id=record.external_id,
            content_hash=digest,
            n_tokens=count_tokens(record.text or ""),
            metadata=record.metadata,
        )
        try:
            article.full_clean(exclude=["outlet", "batch", "cluster"], validate_constraints=False)
        except ValidationError as exc:
            raise RecordProblem(f"the article cannot be created: {_problem_text(exc)}") from None
        article.save(force_insert=True)
        return article.pk

    # --- spans -----------------------------------------------------------------------------------------

    def _span(self, record: ArticleRecord, span: SpanRecord, article_id: int, text: str) -> tuple[tuple, Span] | None:
        """The Span to create (with its dedup key), or None after recording why the span is rejected."""
        line = span.line or record.line
        try:
            fields = self._span_fields(span, text)
        except RecordProblem as exc:
            self.error(line, f"span {span.start}-{span.end} {span.label!r}: {exc}", record.source)
            return None
        key = (article_id, fields["layer"], fields["annotator_id"], fields["label_id"], span.start, span.end)
        provenance = span.provenance or {}
        if not self.reader.lossless:  # the native format carries provenance itself (empty stays empty)
            provenance = {"import": {"format": self.reader.name, "source": record.source or self.source, "line": line}}
        return key, Span(project=self.project, article_id=article_id, provenance=provenance, **fields)

    def _span_fields(self, span: SpanRecord, text: str) -> dict[str, Any]:
        """THE import span rule: layer, annotator, label, offsets and text, note, codebook version."""
        layer = self.layer_override or span.layer or Layer.ANNOTATOR
        if layer not in IMPORT_LAYERS:
            raise RecordProblem(f"layer {layer!r} cannot be imported (only annotator or gold)")
        username = self.annotator_override or span.annotator
        annotator_id = self.member_id(username) if username else None
        if username and annotator_id is None:
            if span.annotator_source and not self.annotator_override:
                raise RecordProblem(NEEDS_USER_MAP.format(named=span.annotator_source, project=self.project.slug))
            raise RecordProblem(f"annotator {username!r} is not a member of project '{self.project.slug}'")
        if layer == Layer.ANNOTATOR and annotator_id is None:
            raise RecordProblem("a span in the annotator layer needs an annotator (pass --annotator USER)")
        label_id = self.labels.get(span.label)
        if label_id is None:
            known = ", ".join(sorted(self.labels)) or "none"
            raise RecordProblem(f"unknown label {span.label!r} (the project's labels: {known})")
        covered = text[span.start : span.end] if 0 <= span.start < span.end else ""
        span_text = covered if span.text is None else span.text
        if self.reader.escapes_formulas and span_text != covered and csv_unescape(span_text) == covered:
            span_text = covered
        if self.reader.loose_line_breaks and span_text != covered and _lines(span_text) == _lines(covered):
            span_text = covered  # the editor wrote the text's CRLF as LF; the offsets say which characters
        try:
            span_offsets_validate(text=text, start_char=span.start, end_char=span.end, span_text=span_text)
        except ApplicationError as exc:
            raise RecordProblem(_problem_text(exc)) from None
        if len(span.note) > NOTE_MAX_CHARS:
            raise RecordProblem(f"the note is longer than {NOTE_MAX_CHARS} characters")
        if self.reader.lossless and span.codebook_version is None:
            version = None
        else:  # the version with the same number here, else the current one
            version = self.versions.get(span.codebook_version, self.latest_version)
        return {
            "layer": layer,
            "annotator_id": annotator_id,
            "label_id": label_id,
            "start_char": span.start,
            "end_char": span.end,
            "text": span_text,
            "note": span.note,
            "codebook_version_id": version,
        }

    def _write(self, spans: dict[tuple, Span], adjudicated: set[int]) -> None:
        if spans:
            article_ids = {key[0] for key in spans}
            existing = set(
                Span.objects.filter(project=self.project, article_id__any_of=article_ids).values_list(
                    "article_id", "layer", "annotator_id", "label_id", "start_char", "end_char"
                )
            )
            new = [span for key, span in spans.items() if key not in existing]
            self.report.spans_duplicate += len(spans) - len(new)
            Span.objects.bulk_create(new, batch_size=1000)
            self.report.spans_created += len(new)
        if adjudicated:
            rows = Adjudication.objects.filter(project=self.project, article_id__in=adjudicated)
            rows.exclude(status=Adjudication.Status.DONE).update(status=Adjudication.Status.DONE)
            missing = adjudicated - set(rows.values_list("article_id", flat=True))
            Adjudication.objects.bulk_create(
                [
                    Adjudication(project=self.project, article_id=pk, curator=self.by, status=Adjudication.Status.DONE)
                    for pk in sorted(missing)
                ]
            )
            self.report.adjudications_created += len(missing)
        if spans or adjudicated:
            human_layers_changed(project=self.project)
