"""Pages for research rigour: a project's frozen snapshots (freeze, list, download) and term suggestions from
agreed annotator spans (with a form that sends a term to annotators for verification).

Both pages need the curator role or above; the writes go through the same services as the API. A freeze runs on a
worker (a Job); the page shows its progress (static/ui/snapshots.js polls the job) and the download link when done.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

from annotator.common.errors import ApplicationError
from annotator.projects.models import Role
from annotator.projects.roles import role_at_least
from annotator.projects.selectors import annotating_members, project_get_for_user
from annotator.projects.visibility import viewer_for
from annotator.snapshots.selectors import snapshot_jobs_recent, snapshot_list
from annotator.snapshots.services import snapshot_job_create
from annotator.training.term_suggestions import MATCH_RULES, term_suggestions, term_verification_send


def _curator_project(request: HttpRequest, slug: str):
    project, role = project_get_for_user(slug=slug, user=request.user)
    if not role_at_least(role, Role.CURATOR):
        raise Http404("This page is for curators and owners.")
    return project, role


@login_required
@ensure_csrf_cookie
def snapshots_page(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = _curator_project(request, slug)
    if request.method == "POST":
        try:
            job = snapshot_job_create(
                project=project, by=request.user, name=request.POST.get("name", ""),
                with_names=request.POST.get("with_names") == "on",
            )  # fmt: skip
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.info(request, f"Freezing '{job.params['name']}': the progress is shown below.")
        return redirect(reverse("ui:snapshots", kwargs={"slug": project.slug}))
    snapshots = list(snapshot_list(viewer=viewer_for(project=project, user=request.user, role=role)))
    for s in snapshots:
        s.download_url = reverse("api:snapshot-download", kwargs={"slug": project.slug, "snapshot_id": s.pk})
    context = {
        "project": project, "role": role, "snapshots": snapshots, "jobs": snapshot_jobs_recent(project=project),
        "config": {"api": f"/api/v1/projects/{project.slug}"},
    }  # fmt: skip
    return render(request, "ui/snapshots.html", context)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


@login_required
def term_suggestions_page(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = _curator_project(request, slug)
    annotators = annotating_members(project=project)
    if request.method == "POST":
        chosen = [u for u in annotators if str(u.pk) in request.POST.getlist("annotators")]
        limit = _int(request.POST.get("limit"), 0) or None
        try:
            result = term_verification_send(
                project=project, by=request.user, term=request.POST.get("term", ""),
                label=request.POST.get("label", ""), annotators=chosen, limit=limit,
            )  # fmt: skip
        except ApplicationError as exc:
            messages.error(request, f"{exc.message} {' '.join(str(v) for v in exc.extra.values())}".strip())
        else:
            queued = ", ".join(f"{name}: {n}" for name, n in result["queued"].items())
            messages.success(
                request, f"'{result['term']}' sent for verification: {len(result['articles'])} articles ({queued} new)."
            )
        return redirect(request.get_full_path())
    match = request.GET.get("match", "overlap")
    match = match if match in MATCH_RULES else "overlap"
    min_annotators = max(2, _int(request.GET.get("min_annotators"), 2))
    error = None
    try:
        suggestions = term_suggestions(project=project, match=match, min_annotators=min_annotators)
    except ApplicationError as exc:
        suggestions, error = [], exc.message
    outlets = sorted({o for s in suggestions for o in s["frequency"]})
    for s in suggestions:
        s["frequency_row"] = [s["frequency"].get(o, 0.0) for o in outlets]
    context = {
        "project": project, "role": role, "suggestions": suggestions, "outlets": outlets, "annotators": annotators,
        "match": match, "match_rules": MATCH_RULES, "min_annotators": min_annotators, "error": error,
    }  # fmt: skip
    return render(request, "ui/term_suggestions.html", context)
