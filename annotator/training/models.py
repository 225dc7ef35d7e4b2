"""Lexicon model versions, their learned terms, and researchers' pin/ban rules."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotator.common.models import JobStatus


class ModelVersion(models.Model):
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="model_versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=500, blank=True)
    params = models.JSONField(default=dict, blank=True)
    training_source = models.CharField(max_length=8, default="gold")
    data_hash = models.CharField(max_length=64, blank=True)
    n_articles = models.PositiveIntegerField(default=0)
    n_spans = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    artefact_path = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="model_version_unique_number"),
            models.UniqueConstraint(fields=["project"], condition=Q(is_active=True), name="model_version_one_active"),
        ]

    def __str__(self) -> str:
        return f"{self.project.slug} model v{self.number} ({self.status})"


class LexiconTerm(models.Model):
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="terms")
    term = models.CharField(max_length=500)
    label = models.ForeignKey("projects.Label", on_delete=models.CASCADE, related_name="lexicon_terms")
    weight = models.FloatField()
    support = models.PositiveIntegerField(default=0, help_text="Times annotators marked it.")
    n_seen = models.PositiveIntegerField(default=0, help_text="Times it occurs in the training texts.")
    precision = models.FloatField(null=True, blank=True)
    is_pinned = models.BooleanField(default=False)

    class Meta:
        ordering = ["model_version", "label", "-weight"]
        constraints = [models.UniqueConstraint(fields=["model_version", "term", "label"], name="lexicon_term_unique")]


class TermRule(models.Model):
    class Action(models.TextChoices):
        PIN = "pin"
        BAN = "ban"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="term_rules")
    term = models.CharField(max_length=500)
    label = models.ForeignKey("projects.Label", on_delete=models.CASCADE, related_name="term_rules")
    action = models.CharField(max_length=8, choices=Action.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "term", "label"], name="term_rule_unique")]
