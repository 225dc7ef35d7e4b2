"""Outlets, articles and the import runs that brought them in."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotator.common.models import JobStatus
from annotator.common.timezones import validate_time_zone


class Outlet(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    country = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=20, blank=True)
    leaning = models.CharField(max_length=50, blank=True, help_text="Political leaning, if the study uses one.")
    homepage = models.URLField(max_length=500, blank=True)
    is_wire_agency = models.BooleanField(default=False, help_text="A news agency whose copy other outlets syndicate.")
    time_zone = models.CharField(
        max_length=64, blank=True, default="", validators=[validate_time_zone],
        help_text="IANA time zone of the outlet's publication dates for periods; blank: the project's.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    class Format(models.TextChoices):
        JSONL = "jsonl"
        CSV = "csv"
        TXT = "txt"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    source_name = models.CharField(max_length=500)
    upload = models.FileField(upload_to="imports/%Y/%m/", blank=True, max_length=500)
    format = models.CharField(max_length=10, choices=Format.choices)
    outlet_slug = models.SlugField(max_length=100, blank=True)
    delimiter = models.CharField(
        max_length=1, blank=True, choices=[(",", "comma"), (";", "semicolon"), ("\t", "tab")],
        help_text="CSV: the delimiter given; blank: detected from the file's head.",
    )  # fmt: skip
    column_map = models.JSONField(
        default=dict, blank=True, help_text="CSV: article field → column name, over the common column names."
    )
    strict = models.BooleanField(default=False)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    rows_total = models.PositiveBigIntegerField(null=True, blank=True)
    rows_read = models.PositiveBigIntegerField(default=0)
    bytes_total = models.PositiveBigIntegerField(null=True, blank=True)
    bytes_read = models.PositiveBigIntegerField(default=0)
    created_count = models.PositiveBigIntegerField(default=0)
    duplicate_count = models.PositiveBigIntegerField(default=0)
    rejected_count = models.PositiveBigIntegerField(default=0)
    outlets_created = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{source, line, message}], capped")
    error_message = models.TextField(blank=True, help_text="Why the whole import failed, if it did.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"Import {self.pk}: {self.source_name} ({self.status})"


class StoryCluster(models.Model):
    """Exact and near-duplicate copies of one story (wire copy, syndication) across outlets."""

    representative = models.ForeignKey(
        "corpus.Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_outlet = models.ForeignKey(Outlet, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    method = models.CharField(max_length=50, default="minhash-lsh")
    threshold = models.FloatField(null=True, blank=True)
    size = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)


class Article(models.Model):
    """One news article.

    Every index is written on every import row, so each one is here for a query that needs it (migration
    corpus.0004 dropped the ones nothing used; see docs/importing.md, Indexes):

    - primary key: lookups by id, the API's default order;
    - ``article_unique_outlet_external_id`` / ``article_unique_outlet_content`` (partial, unique): the import's
      de-duplication lookups and its race-safe guarantee of one copy per (outlet, external id) else (outlet,
      content hash), also the snapshot restore's article lookups;
    - (outlet, published_at): the outlet filter and per-outlet date ranges (API, project sampling, scores),
      and the check that a deleted outlet has no articles (PROTECT), so ``outlet`` needs no index of its own;
    - published_at: date ranges across all outlets (API ``published_after``/``published_before``);
    - batch: an import's articles (resume watermark, post-import hooks, the batch's article list);
    - cluster: a story cluster's articles (API ``cluster`` filter, clustering updates).

    ``content_hash`` alone has no index: it is only ever looked up together with the outlet, which the partial
    unique index above serves.
    """

    # No index of its own: (outlet, published_at) and the unique constraints all start with outlet_id.
    outlet = models.ForeignKey(Outlet, on_delete=models.PROTECT, related_name="articles", db_index=False)
    title = models.CharField(max_length=1000, blank=True)
    # Stored exactly as given: span offsets are code-point indices into this string.
    text = models.TextField()
    url = models.URLField(max_length=2000, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    language = models.CharField(max_length=20, blank=True)
    byline = models.CharField(max_length=500, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    content_hash = models.CharField(max_length=64)
    n_tokens = models.PositiveIntegerField(default=0)
    batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles")
    cluster = models.ForeignKey(StoryCluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles")
    is_wire_copy = models.BooleanField(default=False, help_text="A syndicated copy of another outlet's story.")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["outlet", "external_id"], condition=~Q(external_id=""), name="article_unique_outlet_external_id"
            ),
            models.UniqueConstraint(
                fields=["outlet", "content_hash"], condition=Q(external_id=""), name="article_unique_outlet_content"
            ),
        ]
        indexes = [models.Index(fields=["outlet", "published_at"])]

    def __str__(self) -> str:
        return self.title or f"Article {self.pk}"


class ArticleSignature(models.Model):
    """An article's MinHash signature, kept so that clustering a new batch hashes only the new articles' texts."""

    article = models.OneToOneField(Article, on_delete=models.CASCADE, primary_key=True, related_name="signature")
    scheme = models.CharField(max_length=40, help_text="Shingle size, signature length and seed (ml.near_duplicates).")
    minhash = models.BinaryField(help_text="Little-endian uint32 values; empty for a text without words.")
