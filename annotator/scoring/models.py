"""Per-article counts that score queries aggregate, cached bootstrap results, and concepts."""

from django.db import models


class ArticleScore(models.Model):
    """Spans per label in one article from one source: `model:<version id>`, `gold` or `annotator:<user id>`.

    Derived rows, written in bulk (a scoring chunk writes one per article and label): their foreign keys have no
    database constraint, whose per-row checks were most of PostgreSQL's work in a scoring run. The writers take the
    same locks once per chunk instead (``scoring.services.parents_lock``: the parents cannot be deleted until the
    rows are committed) and Django's deletion cascades them as before; only a hand-written ``DELETE`` of a parent
    could leave rows behind."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="article_scores", db_constraint=False
    )
    article = models.ForeignKey("corpus.Article", on_delete=models.CASCADE, related_name="scores", db_constraint=False)
    source = models.CharField(max_length=64)
    model_version = models.ForeignKey(
        "training.ModelVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="article_scores",
        db_constraint=False,
    )  # fmt: skip
    label = models.ForeignKey(
        "projects.Label", on_delete=models.CASCADE, related_name="article_scores", db_constraint=False
    )
    n_spans = models.PositiveIntegerField(default=0)
    n_tokens = models.PositiveIntegerField(default=0)
    score_sum = models.FloatField(default=0.0, help_text="Sum of span probabilities (model source).")
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "source", "label"], name="article_score_unique"),
        ]
        indexes = [
            models.Index(fields=["project", "source", "label"]),
            # The cache fingerprint reads max(computed_at) per (project, source): an index lookup, not a scan.
            models.Index(fields=["project", "source", "computed_at"], name="article_score_fingerprint"),
        ]


class ScoreCache(models.Model):
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="score_caches")
    key = models.CharField(max_length=64)
    query = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=64, help_text="Changes whenever the underlying scores change.")
    result = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="score_cache_unique")]


class Concept(models.Model):
    """A concept with its competing variants, e.g. armed opposition: terrorists / rebels / militants."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="concepts")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)
    variants = models.JSONField(
        default=list, help_text='[{"name": "terrorists", "terms": ["terrorist", "terrorists"]}]'
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "slug"], name="concept_unique_slug")]


class AnswerCount(models.Model):
    """A model version's predicted answers to one codebook question in one article: how many of the article's units
    (1 for an article question, its sentences for a sentence question) it predicted with ``answer``.

    Compact on purpose (code scores read these and nothing per sentence): one row per answer the article's units
    got, each carrying the article's ``n_units``; an article none of whose units got any answer (multiple choice
    with nothing chosen, or no sentence at all) has one row with ``answer=""``. ``fold`` says which errors correct
    the units: ``k`` for units the version learned from, counted with the prediction of the cross-validation model
    of fold ``k``, which did not see them (never an in-sample one), and corrected with the other folds' errors; -1
    for the units it did not learn from, predicted by the cross-validation model of fold ``article id mod K`` (by
    the final model for a version trained before fold models were kept) and corrected with every fold's errors.
    """

    FINAL_MODEL = -1

    model_version = models.ForeignKey("training.ModelVersion", on_delete=models.CASCADE, related_name="answer_counts")
    article = models.ForeignKey("corpus.Article", on_delete=models.CASCADE, related_name="+")
    question = models.ForeignKey("projects.Question", on_delete=models.CASCADE, related_name="+")
    answer = models.CharField(max_length=100, blank=True)
    fold = models.SmallIntegerField(default=FINAL_MODEL)
    n_units = models.PositiveIntegerField()
    n_with_answer = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "question", "article", "fold", "answer"], name="answer_count_unique"
            ),
        ]
        # Code scores' cache fingerprint reads max(id) per (version, question): an index lookup, not a scan.
        indexes = [models.Index(fields=["model_version", "question", "id"], name="answer_count_fingerprint")]


class PredictedAnswers(models.Model):
    """A model version's predicted answers on one article, as the annotator page's *Pre-fill from the model* shows
    them: one row per (version, article), written by the scoring chunk that writes the article's ``AnswerCount`` rows
    (``scoring.codes.chunk_answer_rows``), so the web process never loads a classifier.

    ``answers`` is a JSON list with one compact entry per (question, unit), in the version's question order and each
    question's unit order: ``[question_id, start_char, end_char, value, score]``. ``start_char``/``end_char`` are
    the sentence's offsets (null for an article question); ``value`` is what an answer stores (a list of options for
    multiple choice); ``score`` is the model's probability of ``value`` (rounded to 4 decimals), or for multiple
    choice ``{option: probability}`` of every option. ``scoring.selectors.predicted_answers`` spells the entries out.
    Each entry is the one prediction the scoring chunk made of the unit: the fold model whose answer ``AnswerCount``
    counts for a unit the version did not learn from, the final model for one it learned from (whose count is its
    cross-fitted answer; ``scoring.codes``). An article without any unit (a sentence question only, and no sentence)
    has no row.
    """

    # No database constraint (like annotations.Suggestions): the scoring chunk that writes the rows holds its
    # articles' and version's locks until it commits, and Django's deletion cascades them.
    model_version = models.ForeignKey(
        "training.ModelVersion", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    article = models.ForeignKey("corpus.Article", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    answers = models.JSONField(help_text="[[question id, start, end, value, score or {option: score}], …]")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_version", "article"], name="predicted_answers_unique"),
        ]
