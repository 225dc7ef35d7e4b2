"""Export a project's annotations: who may export what (roles, blind mode), and the streaming record generator.

Memory stays flat whatever the size: articles are read with ``QuerySet.iterator(chunk_size=…)`` as plain
tuples, and the spans of each chunk of articles come in ONE query; only one chunk is held at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet, TextField, Value
from django.db.models.functions import Cast

from annotator.annotations.exchange.codebook import category_question, exchange_questions
from annotator.annotations.exchange.formats import select_format
from annotator.annotations.exchange.records import AnswerRecord, ArticleRecord, SpanRecord
from annotator.annotations.models import Adjudication, Answer, Layer, Span
from annotator.annotations.selectors import suggestion_rows_for_articles
from annotator.annotations.suggestions import unpack
from annotator.common.errors import ApplicationError
from annotator.corpus.models import Article, Outlet
from annotator.projects.models import Assignment, CodebookVersion, Label, Project, Question
from annotator.projects.visibility import Viewer

EXPORT_CHUNK_SIZE = 1000
STREAM_CHUNK_CHARS = 64 * 1024

# --layer: "all" is the human layers (annotators' and gold); model suggestions only when asked for by name.
EXPORT_LAYERS: dict[str, tuple[str, ...]] = {
    "all": (Layer.ANNOTATOR, Layer.GOLD),
    "annotator": (Layer.ANNOTATOR,),
    "gold": (Layer.GOLD,),
    "suggestion": (Layer.SUGGESTION,),
}
NO_SUCH_ANNOTATOR = "No member called {name!r} in this project."


@dataclass(frozen=True)
class ExportScope:
    """What an export covers: the layers, optionally one annotator, and the viewer it is for (None: everything,
    the command line)."""

    layer: str = "all"
    annotator_id: int | None = None
    annotator_name: str = ""
    viewer: Viewer | None = None

    @property
    def layers(self) -> tuple[str, ...]:
        return EXPORT_LAYERS[self.layer]

    @property
    def hide_outlet(self) -> bool:
        return self.viewer is not None and not self.viewer.sees_outlets

    @property
    def with_emails(self) -> bool:
        """Label Studio's import matches users by e-mail: members' addresses go to those who may see them."""
        return self.viewer is None or self.viewer.sees_member_emails

    @property
    def stem(self) -> str:
        return self.layer + (f"-{self.annotator_name}" if self.annotator_name else "")


def export_layers_for(*, viewer: Viewer) -> list[str]:
    """The export layer choices (``EXPORT_LAYERS`` keys) whose every layer the viewer reads."""
    return [name for name, layers in EXPORT_LAYERS.items() if all(viewer.sees_layer(x) for x in layers)]


def export_scope(
    *, project: Project, layer: str = "", annotator: str = "", viewer: Viewer | None = None
) -> ExportScope:
    """The scope a viewer may export (``viewer=None``, the command line, may export everything).

    The visibility rule decides (``Viewer.scope``): a viewer who reads only their own annotator layer gets it by
    default and a 403 for any other layer or annotator; an outlet-blind annotator's export is masked (see
    :func:`export_articles`).
    """
    layer = layer or ""
    if layer and layer not in EXPORT_LAYERS:
        known = ", ".join(EXPORT_LAYERS)
        raise ApplicationError(f"Unknown layer {layer!r}; use one of: {known}.", {"layer": [known]})
    if viewer is not None:
        layers, annotator_id = viewer.scope(
            layers=EXPORT_LAYERS[layer or "all"], annotator=annotator, explicit=bool(layer)
        )
        name = next((key for key, value in EXPORT_LAYERS.items() if value == layers), "")
        if not name:  # a default request narrowed to one layer
            name = layers[0] if len(layers) == 1 else "all"
        if annotator_id is not None and not annotator:
            annotator = viewer.user.get_username()
        return ExportScope(layer=name, annotator_id=annotator_id, annotator_name=annotator, viewer=viewer)
    annotator_id = None
    if annotator:
        annotator_id = (
            get_user_model()
            .objects.filter(memberships__project=project, username=annotator)
            .values_list("pk", flat=True)
            .first()
        )
        if annotator_id is None:
            message = NO_SUCH_ANNOTATOR.format(name=annotator)
            raise ApplicationError(message, {"annotator": [message]})
    return ExportScope(layer=layer or "all", annotator_id=annotator_id, annotator_name=annotator)


def _article_queryset(project: Project, scope: ExportScope) -> QuerySet[Article]:
    articles = Article.objects.filter(project_links__project=project)
    if scope.annotator_id is not None:
        # One annotator's export: the articles they were given or marked, not the whole project.
        marked = Span.objects.filter(project=project, annotator_id=scope.annotator_id, layer__in=scope.layers)
        queued = Assignment.objects.filter(project=project, annotator_id=scope.annotator_id)
        answered = Answer.objects.filter(project=project, annotator_id=scope.annotator_id, layer__in=scope.layers)
        articles = articles.filter(
            Q(pk__in=marked.values("article_id"))
            | Q(pk__in=queued.values("article_id"))
            | Q(pk__in=answered.values("article_id"))
        )
    return articles.order_by("pk")


# JSON columns come as raw text (cast), decoded only when not empty: Django's per-row JSONField converter was the
# biggest single cost of a native export (most metadata and provenance are {}).
ARTICLE_FIELDS = (
    "pk", "external_id", "outlet__slug", "title", "url", "published_at", "metadata_raw", "content_hash",
    "outlet__name", "outlet__homepage", "text",
)  # fmt: skip
SPAN_FIELDS = (
    "article_id", "start_char", "end_char", "label_id", "annotator_id", "layer", "text", "note",
    "codebook_version_id", "provenance_raw", "id",
)  # fmt: skip
ANSWER_FIELDS = (
    "article_id", "question_id", "layer", "annotator_id", "start_char", "end_char", "span_id", "value",
    "codebook_version_id", "provenance_raw",
)  # fmt: skip
EMPTY_JSON = ("{}", "", None)


def _json(raw: str | None) -> dict:
    return {} if raw in EMPTY_JSON else json.loads(raw)  # type: ignore[arg-type]


class _Names:
    """Label, user and codebook-version names by id, looked up once (users as they appear)."""

    def __init__(self, project: Project) -> None:
        self.labels = dict(Label.objects.filter(project=project).values_list("pk", "name"))
        self.questions = dict(Question.objects.filter(project=project).values_list("pk", "name"))
        self.versions = dict(CodebookVersion.objects.filter(project=project).values_list("pk", "number"))
        self.users: dict[int | None, str | None] = {None: None}
        self.emails: dict[int | None, str] = {None: ""}

    def load_users(self, ids: set[int | None]) -> None:
        missing = [i for i in ids if i not in self.users]
        if missing:
            for pk, username, email in (
                get_user_model().objects.filter(pk__in=missing).values_list("pk", "username", "email")
            ):
                self.users[pk], self.emails[pk] = username, email


def export_articles(
    *, project: Project, scope: ExportScope, chunk_size: int = EXPORT_CHUNK_SIZE, with_text: bool = True
) -> Iterator[ArticleRecord]:
    """The project's articles (id order) with their spans in the scope, one chunk of articles at a time.

    ``with_text=False`` leaves the texts in the database (``text`` is None): for formats that do not write them.
    For a viewer who may not learn outlets the texts are read anyway (span texts are masked from them), then
    title, text, span texts are masked and outlet, URL, external id and metadata left out.
    """
    names = _Names(project)
    articles = _article_queryset(project, scope).annotate(metadata_raw=Cast("metadata", TextField()))
    with_suggestions = Layer.SUGGESTION in scope.layers
    read_text = with_text or scope.hide_outlet or with_suggestions  # a suggestion's text is cut from its article's
    if not read_text:
        articles = articles.annotate(no_text=Value(None, output_field=TextField()))
    fields = ARTICLE_FIELDS if read_text else (*ARTICLE_FIELDS[:-1], "no_text")
    rows = articles.values_list(*fields).iterator(chunk_size=chunk_size)
    want_adjudication = Layer.GOLD in scope.layers
    with_provenance = scope.viewer is None or scope.viewer.is_curator  # curation's working data: curators only
    while chunk := list(islice(rows, chunk_size)):
        # Chunks are contiguous in id order, so an id range (an index range scan, no 1000-item IN list) finds
        # their spans; spans of articles in the range but outside the chunk are never looked up.
        ids = [row[0] for row in chunk]
        in_chunk = {"article_id__gte": ids[0], "article_id__lte": ids[-1]}
        spans = Span.objects.filter(project=project, layer__in=scope.layers, **in_chunk)
        if scope.annotator_id is not None:
            spans = spans.filter(annotator_id=scope.annotator_id)
        if scope.viewer is not None:
            spans = spans.filter(scope.viewer.rows_q())
        spans = spans.annotate(provenance_raw=Cast("provenance", TextField()))
        span_rows = list(spans.order_by("article_id", "start_char", "end_char", "id").values_list(*SPAN_FIELDS))
        names.load_users({row[4] for row in span_rows})
        by_article: dict[int, list[SpanRecord]] = {}
        spans_by_id: dict[int, SpanRecord] = {}
        for a_id, start, end, label_id, user_id, layer, text, note, version_id, provenance, span_id in span_rows:
            by_article.setdefault(a_id, []).append(
                SpanRecord(
                    id=span_id,
                    start=start,
                    end=end,
                    label=names.labels[label_id],
                    text=text,
                    layer=layer,
                    annotator=names.users[user_id],
                    annotator_email=names.emails[user_id] if scope.with_emails else "",
                    note=note,
                    codebook_version=names.versions.get(version_id),
                    provenance=(_json(provenance) or None) if with_provenance else None,
                )
            )
            spans_by_id[span_id] = by_article[a_id][-1]
        if with_suggestions:
            _add_suggestions(project=project, chunk=chunk, names=names, by_article=by_article)
        answers = _answers(project=project, scope=scope, names=names, in_chunk=in_chunk, spans_by_id=spans_by_id)
        done: set[int] = set()
        if want_adjudication:
            done = set(
                Adjudication.objects.filter(project=project, status=Adjudication.Status.DONE, **in_chunk).values_list(
                    "article_id", flat=True
                )
            )
        for pk, external_id, outlet, title, url, published_at, metadata, digest, name, homepage, text in chunk:
            spans = by_article.get(pk, [])
            if scope.hide_outlet:
                outlet_row = Outlet(name=name, slug=outlet, homepage=homepage)
                title, text = _masked(scope.viewer, spans, title, text, url, outlet_row)
                external_id, text = "", (text if with_text else None)
            yield ArticleRecord(
                text=text,
                spans=spans,
                article_id=pk,
                external_id=external_id,
                outlet="" if scope.hide_outlet else outlet,
                title=title,
                url="" if scope.hide_outlet else url,
                published_at=published_at.isoformat() if published_at else None,
                metadata={} if scope.hide_outlet else _json(metadata),
                content_hash=digest,
                adjudication=(Adjudication.Status.DONE if pk in done else None) if want_adjudication else None,
                answers=answers.get(pk, []),
            )


def _add_suggestions(*, project: Project, chunk: list, names: _Names, by_article: dict[int, list[SpanRecord]]) -> None:
    """The active model version's suggestions on the chunk's articles (unpacked from their ``Suggestions`` rows),
    after the chunk's span rows; a label the project no longer has is left out."""
    texts = {row[0]: row[-1] for row in chunk}
    for row_id, a_id, data, _number in suggestion_rows_for_articles(
        project=project, article_ids=(chunk[0][0], chunk[-1][0])
    ):
        if a_id not in texts:
            continue
        spans = by_article.setdefault(a_id, [])
        for s in unpack(row_id, a_id, data, texts[a_id]):
            if s.label_id in names.labels:
                spans.append(
                    SpanRecord(
                        id=s.id, start=s.start_char, end=s.end_char, label=names.labels[s.label_id], text=s.text,
                        layer=Layer.SUGGESTION.value,
                    )
                )  # fmt: skip
        spans.sort(key=lambda r: (r.start, r.end))


def _answers(
    *, project: Project, scope: ExportScope, names: _Names, in_chunk: dict, spans_by_id: dict[int, SpanRecord]
) -> dict[int, list[AnswerRecord]]:
    """The chunk's answers in the scope: article and sentence answers by article; a span's answers go into its
    ``attributes`` (a span outside the export, e.g. of another layer, takes its answers with it)."""
    answers = Answer.objects.filter(project=project, layer__in=scope.layers, **in_chunk)
    if scope.annotator_id is not None:
        answers = answers.filter(annotator_id=scope.annotator_id)
    if scope.viewer is not None:
        answers = answers.filter(scope.viewer.rows_q())
    with_provenance = scope.viewer is None or scope.viewer.is_curator
    answers = answers.annotate(provenance_raw=Cast("provenance", TextField()))
    rows = list(answers.order_by("article_id", "question__order", "start_char", "id").values_list(*ANSWER_FIELDS))
    names.load_users({row[3] for row in rows})
    by_article: dict[int, list[AnswerRecord]] = {}
    for a_id, question_id, layer, user_id, start, end, span_id, value, version_id, provenance in rows:
        record = AnswerRecord(
            question=names.questions[question_id], value=value, layer=layer, annotator=names.users[user_id],
            start=start, end=end, codebook_version=names.versions.get(version_id),
            provenance=(_json(provenance) or None) if with_provenance else None,
            annotator_email=names.emails[user_id] if scope.with_emails else "",
        )  # fmt: skip
        if span_id is None:
            by_article.setdefault(a_id, []).append(record)
        elif span_id in spans_by_id:
            spans_by_id[span_id].attributes.append(record)
    return by_article


def _masked(viewer, spans: list[SpanRecord], title: str, text: str, url: str, outlet: Outlet) -> tuple[str, str]:
    """Title, text and span texts as an outlet-blind annotator was shown them (same offsets)."""
    masker = viewer.masker_from_values(title=title, text=text, url=url, outlet=outlet)
    for span in spans:
        span.text = masker.span_text(span.start, span.end)
    return masker.title, masker.text


def export_text(
    *,
    project: Project,
    fmt: str,
    scope: ExportScope,
    chunk_size: int = EXPORT_CHUNK_SIZE,
    offset_unit: str = "",
    question: str = "",
) -> Iterator[str]:
    """The export as text pieces of about 64K characters (few writes, bounded memory).

    The format and the offset unit (doccano: ``utf16`` by default, ``grapheme``, ``codepoint``) are checked at once
    (an unknown one raises ApplicationError before anything is streamed). ``question``: the question a doccano
    text-classification export writes (default: the project's only article question of single or multiple choice).
    """
    try:
        writer = select_format(fmt, unit=offset_unit or None)
    except ValueError as exc:
        raise ApplicationError(str(exc), {"format": [str(exc)]}) from None
    writer.questions = exchange_questions(project=project)
    if fmt == "doccano-classification":
        writer.question = category_question(questions=writer.questions, name=question, required=True)
    records = export_articles(project=project, scope=scope, chunk_size=chunk_size, with_text=writer.needs_text)
    return _joined(writer.write(records))


def _joined(pieces: Iterator[str]) -> Iterator[str]:
    batch: list[str] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size >= STREAM_CHUNK_CHARS:
            yield "".join(batch)
            batch, size = [], 0
    if batch:
        yield "".join(batch)


def export_filename(*, project: Project, fmt: str, scope: ExportScope, offset_unit: str = "") -> str:
    writer = select_format(fmt, unit=offset_unit or None)
    unit = f"-{writer.unit.value}" if writer.unit and writer.unit != writer.offset_units[0] else ""
    name = f"{project.slug}-{scope.stem}-{fmt}{unit}.{writer.extension}"
    return "".join(ch for ch in name if ch.isalnum() or ch in "._-")
