"""Annotation projects: who works on what, under which codebook."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotator.common.timezones import DEFAULT_TIME_ZONE, validate_time_zone


class Role(models.TextChoices):
    OWNER = "owner"
    CURATOR = "curator"
    ANNOTATOR = "annotator"
    VIEWER = "viewer"


class Project(models.Model):
    class TrainingSource(models.TextChoices):
        GOLD = "gold", "Gold layer (adjudicated)"
        ALL_ANNOTATORS = "all", "All annotators' spans"

    class SyndicationRule(models.TextChoices):
        ONCE = "once", "Count syndicated copies once"
        PER_OUTLET = "per_outlet", "Count each outlet's copy"
        EXCLUDE_WIRE = "exclude_wire", "Exclude wire copy"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    guidelines = models.TextField(blank=True, help_text="Markdown; rendered sanitised.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    articles = models.ManyToManyField("corpus.Article", through="ProjectArticle", related_name="projects")

    # Assignment and annotation settings
    annotators_per_article = models.PositiveSmallIntegerField(default=1)
    overlap_fraction = models.FloatField(default=0.0, help_text="Share of articles coded by k annotators; rest by one.")
    blind = models.BooleanField(default=True, help_text="Annotators never see each other's spans.")
    outlet_blind = models.BooleanField(default=False, help_text="Annotators do not see outlet, byline or URL.")
    snap_to_words = models.BooleanField(default=True)
    one_per_cluster = models.BooleanField(default=True, help_text="Assign one article per story cluster.")
    stratify_by = models.JSONField(
        default=list, blank=True, help_text='Strata for assignment, e.g. ["outlet", "month"].'
    )
    calibration_size = models.PositiveIntegerField(default=0)
    random_seed = models.PositiveIntegerField(default=20261126)

    # Training and scoring settings
    training_source = models.CharField(max_length=8, choices=TrainingSource.choices, default=TrainingSource.GOLD)
    score_new_articles = models.BooleanField(default=True)
    follow_outlets = models.JSONField(
        default=list,
        blank=True,
        help_text='Slugs of outlets whose newly imported articles join this project (and are scored); ["*"] follows '
        "every outlet.",
    )
    syndication_rule = models.CharField(
        max_length=16, choices=SyndicationRule.choices, default=SyndicationRule.PER_OUTLET
    )
    bootstrap_resamples = models.PositiveIntegerField(default=1000)
    time_zone = models.CharField(
        max_length=64, default=DEFAULT_TIME_ZONE, validators=[validate_time_zone],
        help_text="IANA time zone in which publication dates fall into days, weeks, months and years (periods); an "
        "outlet's own time zone, where set, wins.",
    )  # fmt: skip

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProjectArticle(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="project_articles")
    article = models.ForeignKey("corpus.Article", on_delete=models.CASCADE, related_name="project_links")
    is_calibration = models.BooleanField(default=False)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "article"], name="project_article_unique")]


class CorpusGrant(models.Model):
    """Staff curate the corpus and grant parts of it to a project: one outlet or one import batch per grant.

    Owners and curators who are not staff add to their project only granted articles (settings page, annotation
    imports); the rule lives in annotator/projects/visibility.py, the model in docs/security.md.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="corpus_grants")
    outlet = models.ForeignKey("corpus.Outlet", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey("corpus.ImportBatch", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outlet__isnull=False, batch__isnull=True) | Q(outlet__isnull=True, batch__isnull=False),
                name="corpus_grant_outlet_or_batch",
            ),
            models.UniqueConstraint(
                fields=["project", "outlet"], condition=Q(outlet__isnull=False), name="corpus_grant_unique_outlet"
            ),
            models.UniqueConstraint(
                fields=["project", "batch"], condition=Q(batch__isnull=False), name="corpus_grant_unique_batch"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} ← {'outlet ' + str(self.outlet) if self.outlet_id else 'import ' + str(self.batch_id)}"


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANNOTATOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"


class CodebookVersion(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="codebook_versions")
    number = models.PositiveIntegerField()
    changelog = models.TextField(blank=True)
    labels_snapshot = models.JSONField(default=list, blank=True, help_text="The labels as they were in this version.")
    questions_snapshot = models.JSONField(
        default=list, blank=True, help_text="The questions (with their options) as they were in this version."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="codebook_version_unique")]

    def __str__(self) -> str:
        return f"{self.project.slug} codebook v{self.number}"


class Label(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, help_text="The definition annotators apply.")
    colour = models.CharField(max_length=7, default="#f4c542")
    hotkey = models.CharField(max_length=1, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    positive_examples = models.JSONField(default=list, blank=True)
    negative_examples = models.JSONField(default=list, blank=True)
    order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="label_unique_name"),
            models.UniqueConstraint(fields=["project", "hotkey"], condition=~Q(hotkey=""), name="label_unique_hotkey"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name


class Question(models.Model):
    """A codebook question: asked of every article, of every sentence, or (an attribute) of every span of a label.

    ``name`` is the stable key (exports, the API, agreement and models refer to it); ``prompt`` is what the
    annotator reads. Options are rows of :class:`QuestionOption` (choices and scales; a text question has none).
    The rules (which kinds need options, hotkeys, what may change once answered) live in projects.services.
    """

    class Scope(models.TextChoices):
        ARTICLE = "article", "Article"
        SENTENCE = "sentence", "Each sentence"
        SPAN = "span", "Each span of a label (attribute)"

    class Kind(models.TextChoices):
        SINGLE = "single", "Single choice"
        MULTIPLE = "multiple", "Multiple choice"
        SCALE = "scale", "Ordinal scale"
        TEXT = "text", "Short text"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="questions")
    name = models.SlugField(max_length=100, allow_unicode=True, help_text="Stable key, unique in the project.")
    prompt = models.CharField(max_length=300)
    description = models.TextField(blank=True, help_text="The definition annotators apply.")
    positive_examples = models.JSONField(default=list, blank=True)
    negative_examples = models.JSONField(default=list, blank=True)
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.ARTICLE)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SINGLE)
    required = models.BooleanField(default=False)
    hotkey = models.CharField(max_length=1, blank=True)
    order = models.PositiveIntegerField(default=0)
    # Set exactly for scope=span: the attribute is asked of every span of this label (in the span popover).
    # RESTRICT: a label with attributes is not deleted on its own (projects.services.label_delete says why), but a
    # project's deletion takes both.
    label = models.ForeignKey(Label, null=True, blank=True, on_delete=models.RESTRICT, related_name="attributes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="question_unique_name"),
            models.UniqueConstraint(
                fields=["project", "hotkey"], condition=~Q(hotkey=""), name="question_unique_hotkey"
            ),
            models.CheckConstraint(
                condition=Q(scope="span", label__isnull=False) | (~Q(scope="span") & Q(label__isnull=True)),
                name="question_label_iff_span_scope",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class QuestionOption(models.Model):
    """One answer a choice or scale question offers. ``value`` is the stable key an answer stores; ``numeric`` is
    the scale point (e.g. -2..+2), which orders a scale and gives its mean."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    value = models.CharField(max_length=100)
    text = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    numeric = models.FloatField(null=True, blank=True)
    hotkey = models.CharField(max_length=1, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["question", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["question", "value"], name="question_option_unique_value"),
            models.UniqueConstraint(
                fields=["question", "hotkey"], condition=~Q(hotkey=""), name="question_option_unique_hotkey"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}:{self.value}"


class Assignment(models.Model):
    class Status(models.TextChoices):
        TODO = "todo"
        IN_PROGRESS = "in_progress"
        DONE = "done"
        SKIPPED = "skipped"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    article = models.ForeignKey("corpus.Article", on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TODO)
    position = models.PositiveIntegerField(default=0, help_text="Order in the annotator's queue.")
    is_calibration = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "annotator", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "article", "annotator"], name="assignment_unique")]
        indexes = [models.Index(fields=["project", "annotator", "status"])]
