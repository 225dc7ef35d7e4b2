"""The Scores dashboard: framing scores per outlet with CIs, time series, pairwise comparisons, term choice,
distinctive terms and the examples behind any bar; every chart downloads as PNG/SVG and its data as CSV.

The page only holds the controls and the first state; the charts read the JSON API (`framing-scores/`, …)
and draw with the vendored Vega-Lite (no CDN). Annotators of an outlet-blind project get 403, like the API.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from annotator.api.views.scoring import OUTLET_BLIND_MESSAGE
from annotator.common.models import Job
from annotator.common.permissions import role_at_least
from annotator.corpus.models import Outlet
from annotator.projects.models import Membership, Role
from annotator.projects.selectors import label_list, project_get_for_user
from annotator.scoring.models import Concept
from annotator.scoring.selectors import PERIODS, SYNDICATION_RULES
from annotator.training.selectors import model_version_active, model_version_labels


def score_sources(*, project, active) -> list[dict]:
    """The sources a dashboard can show: the active model (if any), gold, and each annotator's layer."""
    sources = []
    if active is not None:
        sources.append({"value": "model", "name": f"Model v{active.number} (active)"})
    sources.append({"value": "gold", "name": "Gold layer"})
    annotators = (
        Membership.objects.filter(project=project, role__in=[Role.ANNOTATOR, Role.CURATOR, Role.OWNER])
        .select_related("user")
        .order_by("user__username")
    )
    sources += [{"value": f"annotator:{m.user.username}", "name": f"Annotator {m.user.username}"} for m in annotators]
    return sources


@login_required
@ensure_csrf_cookie
def dashboard_page(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = project_get_for_user(slug=slug, user=request.user)
    if project.outlet_blind and role == Role.ANNOTATOR:
        raise PermissionDenied(OUTLET_BLIND_MESSAGE)
    active = model_version_active(project=project)
    labels = list(label_list(project=project))
    outlets = list(
        Outlet.objects.filter(articles__project_links__project=project)
        .distinct()
        .order_by("slug")
        .values("slug", "name")
    )
    concepts = list(Concept.objects.filter(project=project).order_by("name").values("slug", "name", "variants"))
    last_job = Job.objects.filter(project=project, kind=Job.Kind.SCORING).order_by("-created_at").first()
    config = {
        "project": project.slug,
        "api": f"/api/v1/projects/{project.slug}",
        "labels": [label.name for label in labels],
        "sources": score_sources(project=project, active=active),
        "outlets": outlets,
        "concepts": concepts,
        "syndication": project.syndication_rule,
        "syndicationRules": list(SYNDICATION_RULES),
        "periods": list(PERIODS),
        "canScore": role_at_least(role, Role.CURATOR),
        "hasActiveModel": active is not None,
        "modelLabels": model_version_labels(version=active) if active else [],
        "lastJob": {"id": last_job.pk, "status": last_job.status} if last_job else None,
    }
    context = {"project": project, "role": role, "active": active, "config": config, "labels": labels}
    return render(request, "ui/dashboard.html", context)
