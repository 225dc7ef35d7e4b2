"""The project lock: one holder at a time per project for the work that must not interleave.

A module of its own that imports only the Project model, so that every app above projects (training, scoring,
snapshots) can take the lock without importing the projects app's services.
"""

from __future__ import annotations

from annotator.projects.models import Project


def project_lock(*, project: Project | int) -> None:
    """Hold the project's row until the caller's transaction ends (outside one it raises): one model or codebook
    version numbering, version activation, assignment generation, owner removal, scoring run start or score
    recount at a time per project.

    FOR NO KEY UPDATE, not FOR UPDATE: holders still exclude each other (and a settings change or the project's
    deletion), but rows that only reference the project, such as an annotator's span, are written meanwhile. Their
    foreign-key checks take FOR KEY SHARE, which FOR UPDATE would make wait for the whole recount or generation."""
    pk = project if isinstance(project, int) else project.pk
    list(Project.objects.select_for_update(no_key=True).filter(pk=pk).values_list("pk", flat=True))
