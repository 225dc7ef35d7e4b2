"""The Scores dashboard: framing scores per outlet with CIs, time series, pairwise comparisons, term choice,
distinctive terms and the examples behind any bar; every chart downloads as PNG/SVG and its data as CSV.

The page only holds the controls and the first state; the charts read the JSON API (`framing-scores/`, …)
and draw with the vendored Vega-Lite (no CDN). The visibility rule decides what the page offers: annotators of an
outlet-blind project get 403, like the API, and the sources are those the viewer may read.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from annotator.projects.codebook import codebook_questions
from annotator.projects.models import Role
from annotator.projects.roles import role_at_least
from annotator.projects.selectors import label_list, outlet_list_for_project, project_get_for_user
from annotator.projects.visibility import OUTLET_BLIND_SCORES, Viewer, viewer_for
from annotator.scoring.code_scores import NO_VALUE, SCORED_KINDS
from annotator.scoring.selectors import PERIODS, SYNDICATION_RULES, concept_list, scoring_job_latest
from annotator.training.selectors import model_version_active, model_version_labels


def score_sources(*, viewer: Viewer, active) -> list[dict]:
    """The sources the dashboard offers: those the viewer may read (active model, gold, annotators' layers)."""
    names = {"model": f"Model v{active.number} (active)" if active else "", "gold": "Gold layer"}
    return [
        {"value": value, "name": names.get(value) or f"Annotator {value.partition(':')[2]}"}
        for value in viewer.score_source_choices(has_model=active is not None)
    ]


def code_score_choices(*, project) -> dict:
    """The questions (choices and scales of articles and sentences) and span attributes the dashboard can score."""
    questions, attributes = [], []
    for q in codebook_questions(project=project):
        if q["kind"] not in SCORED_KINDS:
            continue
        entry = {"name": q["name"], "prompt": q["prompt"], "scope": q["scope"], "kind": q["kind"]}
        if q["scope"] == "span":
            attributes.append({**entry, "label": q["label"], "values": [o["value"] for o in q["options"]] + [NO_VALUE]})
        else:
            questions.append({**entry, "answers": [o["value"] for o in q["options"]]})
    return {"questions": questions, "attributes": attributes}


@login_required
@ensure_csrf_cookie
def dashboard_page(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = project_get_for_user(slug=slug, user=request.user)
    viewer = viewer_for(project=project, user=request.user, role=role)
    if not viewer.sees_outlets:
        raise PermissionDenied(OUTLET_BLIND_SCORES)
    active = model_version_active(project=project)
    labels = list(label_list(project=project))
    last_job = scoring_job_latest(project=project)
    config = {
        "project": project.slug,
        "api": f"/api/v1/projects/{project.slug}",
        "labels": [label.name for label in labels],
        "sources": score_sources(viewer=viewer, active=active),
        "outlets": outlet_list_for_project(viewer=viewer),
        "concepts": list(concept_list(project=project).values("slug", "name", "variants")),
        "syndication": project.syndication_rule,
        "syndicationRules": list(SYNDICATION_RULES),
        "periods": list(PERIODS),
        "timeZone": project.time_zone,
        "canScore": role_at_least(role, Role.CURATOR),
        "hasActiveModel": active is not None,
        "modelLabels": model_version_labels(version=active) if active else [],
        "lastJob": {"id": last_job.pk, "status": last_job.status} if last_job else None,
        **code_score_choices(project=project),
    }
    context = {"project": project, "role": role, "active": active, "config": config, "labels": labels}
    return render(request, "ui/dashboard.html", context)
