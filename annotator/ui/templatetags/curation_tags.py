"""`{% curation_panel project user role %}`: curator links and the annotator's calibration status on the project page."""

from __future__ import annotations

from django import template

from annotator.annotations.agreement import calibration_summary
from annotator.projects.models import Role
from annotator.projects.roles import role_at_least

register = template.Library()


@register.inclusion_tag("ui/_curation_panel.html")
def curation_panel(project, user, role: str | None) -> dict:
    return {
        "project": project,
        "is_curator": role_at_least(role, Role.CURATOR),
        "calibration": calibration_summary(project=project, user=user),
    }
