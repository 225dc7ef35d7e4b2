"""Spans: one table, several layers (annotators', gold, model suggestions)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Layer(models.TextChoices):
    ANNOTATOR = "annotator"
    GOLD = "gold"
    SUGGESTION = "suggestion"


class Span(models.Model):
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="spans")
    article = models.ForeignKey("corpus.Article", on_delete=models.CASCADE, related_name="spans")
    layer = models.CharField(max_length=16, choices=Layer.choices, default=Layer.ANNOTATOR)
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="spans"
    )
    label = models.ForeignKey("projects.Label", on_delete=models.PROTECT, related_name="spans")
    # Code-point offsets into Article.text (Python string indices); the browser converts at the edge.
    start_char = models.PositiveIntegerField()
    end_char = models.PositiveIntegerField()
    text = models.TextField(help_text="The covered text, checked against the article on save.")
    note = models.TextField(blank=True)
    codebook_version = models.ForeignKey(
        "projects.CodebookVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="spans"
    )
    model_version = models.ForeignKey(
        "training.ModelVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="spans"
    )
    score = models.FloatField(null=True, blank=True, help_text="Model confidence, for suggestions.")
    provenance = models.JSONField(default=dict, blank=True, help_text="For gold: the annotator spans it came from.")
    client_id = models.UUIDField(null=True, blank=True, help_text="Idempotency key sent by the client.")
    # Who made the span's current state (created, relabelled, moved, merged it): a stale page names them.
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["article", "start_char", "end_char", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(start_char__gte=0), name="span_start_non_negative"),
            models.CheckConstraint(condition=Q(start_char__lt=F("end_char")), name="span_start_before_end"),
            models.UniqueConstraint(fields=["client_id"], condition=Q(client_id__isnull=False), name="span_client_id"),
            # One annotator marks the same text with the same label once (annotations.services.DUPLICATE_SPAN).
            models.UniqueConstraint(
                fields=["annotator", "article", "label", "start_char", "end_char"],
                condition=Q(layer="annotator"),
                name="span_annotator_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "article", "layer"]),
            models.Index(fields=["project", "layer", "annotator"]),
        ]

    def __str__(self) -> str:
        return f"{self.label_id}:{self.start_char}-{self.end_char}"


class SpanDeletion(models.Model):
    """A deleted annotator or gold span: who deleted it and when, so a page that still shows it can say so.

    Keyed by the deleted span's id (ids are never reused).
    """

    span_id = models.PositiveBigIntegerField(primary_key=True)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey("corpus.Article", on_delete=models.CASCADE, related_name="+")
    layer = models.CharField(max_length=16, choices=Layer.choices)
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_at = models.DateTimeField(auto_now_add=True)


class Adjudication(models.Model):
    """A curator's verdict that an article's gold layer is complete (possibly with no spans at all).

    Scores and training on the gold layer count exactly the adjudicated articles, so an article where the
    curator found no loaded language counts as a zero, not as missing.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress"
        DONE = "done"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="adjudications")
    article = models.ForeignKey("corpus.Article", on_delete=models.CASCADE, related_name="adjudications")
    curator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "article"], name="adjudication_unique")]
        indexes = [models.Index(fields=["project", "status"])]


class Answer(models.Model):
    """An answer to a codebook question, in a layer like spans (an annotator's own, or the curated gold).

    The unit it answers depends on the question's scope: the article (no unit fields), a sentence (its code-point
    offsets, stored so the answer survives a change of sentence splitter) or a span (an attribute: ``span``, of the
    same layer and annotator). ``unit_key`` spells the unit out ("article", "sentence:12-80", "span:7") so one
    unique index per layer keeps one answer per (annotator, question, article, unit).

    ``value`` by question kind: single choice and scale the option's ``value`` (a string), multiple choice a list
    of option values (in option order), text a string. The rules live in annotations.answers.
    """

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="answers")
    article = models.ForeignKey("corpus.Article", on_delete=models.CASCADE, related_name="answers")
    # RESTRICT, not PROTECT: a question (or codebook version) with answers cannot be deleted on its own, but a
    # project's deletion takes its questions, versions and answers together.
    question = models.ForeignKey("projects.Question", on_delete=models.RESTRICT, related_name="answers")
    layer = models.CharField(max_length=16, choices=Layer.choices, default=Layer.ANNOTATOR)
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="answers"
    )
    span = models.ForeignKey(Span, null=True, blank=True, on_delete=models.CASCADE, related_name="answers")
    start_char = models.PositiveIntegerField(null=True, blank=True)
    end_char = models.PositiveIntegerField(null=True, blank=True)
    unit_key = models.CharField(max_length=40)
    value = models.JSONField()
    codebook_version = models.ForeignKey(
        "projects.CodebookVersion", null=True, blank=True, on_delete=models.RESTRICT, related_name="answers"
    )
    provenance = models.JSONField(default=dict, blank=True, help_text="For gold: the answers it came from.")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["article", "question", "start_char", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(start_char__isnull=True) & Q(end_char__isnull=True))
                | Q(start_char__gte=0, start_char__lt=F("end_char")),
                name="answer_sentence_offsets",
            ),
            models.CheckConstraint(condition=Q(span__isnull=True) | Q(start_char__isnull=True), name="answer_one_unit"),
            models.UniqueConstraint(
                fields=["annotator", "question", "article", "unit_key"],
                condition=Q(layer="annotator"),
                name="answer_annotator_unique",
            ),
            models.UniqueConstraint(
                fields=["question", "article", "unit_key"], condition=Q(layer="gold"), name="answer_gold_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "article", "layer"]),
            models.Index(fields=["project", "question", "layer"]),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}@{self.unit_key}={self.value!r}"


class Suggestions(models.Model):
    """A model version's suggestions on one article, packed into one row (the suggestion layer).

    A scoring run predicts ~4 spans per article; as span rows each paid four foreign-key checks and five indexes,
    half of PostgreSQL's work in a run (docs/benchmarks.md § Scoring throughput). Here an article's suggestions are
    one ``bytea`` of fixed-size records (``annotations.suggestions.RECORD``: start, end, label id, score, in the
    order the model found them: start, end, label). Nothing
    reads them by span: the annotator page, KWIC and exports unpack one article's row at a time, and scores read
    the per-article counts (``scoring.ArticleScore``). Articles where the model found nothing have no row.

    A suggestion's id is ``row id × 1,000,000 + its index in the row`` (``annotations.suggestions``): stable while
    the version's results are kept, and what a span that accepts it records (``provenance.accepted_suggestion``).
    """

    # No database constraint (like scoring.ArticleScore's keys): the scoring chunk that writes the rows holds its
    # articles' and version's locks until it commits, and Django's deletion cascades them.
    model_version = models.ForeignKey(
        "training.ModelVersion", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    article = models.ForeignKey("corpus.Article", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    spans = models.BinaryField(help_text="Packed records: start, end (code points), label id, score.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model_version", "article"], name="suggestions_unique")]
