"""Reads for study snapshots: a project's snapshots and its latest freeze jobs."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from annotator.common.models import Job
from annotator.projects.models import Project
from annotator.projects.visibility import Hidden, Viewer
from annotator.snapshots.models import Snapshot

SNAPSHOTS_FOR_CURATORS = "Snapshots hold every layer, annotator and outlet: curators and owners only."


def snapshot_list(*, viewer: Viewer) -> QuerySet[Snapshot]:
    """The project's snapshots, newest first; a snapshot holds every layer, so only for curators and owners."""
    if not viewer.is_curator:
        raise Hidden(SNAPSHOTS_FOR_CURATORS, "project")
    return Snapshot.objects.filter(project=viewer.project).select_related("created_by").order_by("-created_at", "-pk")


def snapshot_get(*, viewer: Viewer, snapshot_id: int) -> Snapshot:
    """One snapshot of the viewer's project (curators and owners); Http404 when there is none."""
    snapshot = snapshot_list(viewer=viewer).filter(pk=snapshot_id).first()
    if snapshot is None:
        raise Http404("No such snapshot in this project.")
    return snapshot


def snapshot_jobs_recent(*, project: Project, limit: int = 5) -> list[Job]:
    """The project's latest freeze jobs, newest first (the page shows their progress or result)."""
    return list(Job.objects.filter(project=project, kind=Job.Kind.SNAPSHOT).order_by("-created_at", "-pk")[:limit])
