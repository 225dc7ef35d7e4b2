"""Per-article counts that score queries aggregate, cached bootstrap results, and concepts."""

from django.db import models


class ArticleScore(models.Model):
    """Spans per label in one article from one source: `model:<version id>`, `gold` or `annotator:<user id>`."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="article_scores")
    article = models.ForeignKey("corpus.Article", on_delete=models.CASCADE, related_name="scores")
    source = models.CharField(max_length=64)
    model_version = models.ForeignKey(
        "training.ModelVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="article_scores"
    )
    label = models.ForeignKey("projects.Label", on_delete=models.CASCADE, related_name="article_scores")
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
