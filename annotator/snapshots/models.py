"""A frozen study snapshot: the row that names a hashed, immutable archive (see services.py)."""

from django.conf import settings
from django.db import models


class Snapshot(models.Model):
    """A frozen study: articles, codebook, gold layer, model and scores, hashed and archived."""

    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="snapshots")
    name = models.CharField(max_length=200)
    content_hash = models.CharField(max_length=64)
    manifest = models.JSONField(default=dict)
    archive = models.FileField(upload_to="snapshots/", max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
