"""Curator pages: the article list and the stacked article view, agreement (table, chart, drill-down), and
assignments (generate + progress). Curators and owners only (annotators and viewers 403, non-members 404).

Article text is always rendered as text: the annotators' rows and the gold row are drawn in the browser by
curation.js from the text and the spans' offsets (the gold row is edited there too: draw, relabel, move boundaries,
note, delete, through the curation API); accept / reject / bulk accept / adjudicate are plain form posts handled by
`curate_action`.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST

from annotator.annotations import curation
from annotator.annotations.agreement import (
    AgreementFilters,
    agreement_disagreements,
    agreement_job_create,
    agreement_read,
)
from annotator.annotations.models import Layer, Span
from annotator.common.errors import ApplicationError
from annotator.common.models import JobStatus
from annotator.projects.assignment import (
    PLAN_SETTINGS,
    assignment_preview,
    assignment_progress,
    assignments_generate,
)
from annotator.projects.models import Role
from annotator.projects.roles import project_for_user_or_404, role_at_least
from annotator.projects.selectors import article_get_for_project, label_list, outlet_list_for_project
from annotator.projects.visibility import viewer_for
from annotator.ui.colours import label_for_page
from annotator.ui.project_settings import SettingsForm

CHART_MEASURES = ("span_f1_overlap", "cohen_kappa", "krippendorff_alpha")


def _curator_project(request: HttpRequest, slug: str):
    return project_for_user_or_404(user=request.user, slug=slug, min_role=Role.CURATOR)


@login_required
def curate_list_page(request: HttpRequest, slug: str) -> HttpResponse:
    project = _curator_project(request, slug)
    articles = curation.curation_article_list(project=project)
    return render(request, "ui/curate_list.html", {"project": project, "articles": articles})


@login_required
@ensure_csrf_cookie
def curate_page(request: HttpRequest, slug: str, article_id: int) -> HttpResponse:
    project = _curator_project(request, slug)
    article = article_get_for_project(project=project, article_id=article_id)
    view = curation.curation_article_view(project=project, article=article)
    text = view["article"]["text"]
    labels = label_list(project=project)
    context = {
        "project": project,
        "article": article,
        "view": view,
        "labels": labels,
        "n_disagreements": sum(d["n_disagreements"] for d in view["disagreements"]),
        "gold_config": _gold_config(project, article, text, labels, view),
        "action_url": reverse("ui:curate-action", args=[project.slug, article.pk]),
        "answer_urls_json": json.dumps(
            {
                "article": article.pk,
                "view": reverse("api:curation-answers", args=[project.slug, article.pk]),
                "set": reverse("api:gold-answer-set", args=[project.slug, article.pk]),
                "bulk": reverse("api:gold-answer-bulk-accept", args=[project.slug]),
            }
        ),
    }
    return render(request, "ui/curate.html", context)


def _gold_config(project, article, text: str, labels, view: dict) -> dict:
    """What curation.js needs to draw the annotators' rows (the text once; their spans as [id, label id, start, end,
    agreed, curation verdict], in the text and as the lists of accept / reject buttons of each row's form) and to draw
    and edit the gold layer through the curation API."""
    return {
        "text": text,
        "snap": project.snap_to_words,
        "labels": [label_for_page(lb) for lb in labels],
        "gold": view["gold"],
        "rows": [
            {
                "username": row["username"],
                "spans": [
                    [s["id"], s["label_id"], s["start_char"], s["end_char"], int(s["agreed"]), s["curation"]]
                    for s in row["spans"]
                ],
            }
            for row in view["annotators"]
        ],  # fmt: skip
        "agreed": view["agreed_keys"],
        "urls": {
            "create": reverse("api:gold-create", args=[project.slug, article.pk]),
            "gold": reverse("api:gold-update", args=[project.slug, 0]).removesuffix("0/"),
            "span": reverse("api:span-state", args=[project.slug, 0]).removesuffix("0/"),
        },
    }


def _run_action(request: HttpRequest, project, article) -> str:
    action = request.POST.get("action", "")
    span_id = request.POST.get("span_id", "")
    for verb in ("accept", "reject"):  # a row's form: the button is named after its action, its value is the span
        if verb in request.POST:
            action, span_id = verb, request.POST[verb]
    if action in ("accept", "reject"):
        if not span_id.isdigit():
            raise ApplicationError("Choose a span.")
        span = Span.objects.filter(pk=int(span_id), project=project, article=article, layer=Layer.ANNOTATOR).first()
        if span is None:
            raise Http404("No such span on this article.")
        if action == "accept":
            gold = curation.gold_span_accept(project=project, span=span, by=request.user)
            return f"Accepted “{span.text[:60]}” as gold span #{gold.pk}."
        curation.annotator_span_reject(project=project, span=span, by=request.user)
        return f"Rejected “{span.text[:60]}”."
    if action == "bulk_accept":
        summary = curation.gold_bulk_accept(project=project, by=request.user, article=article)
        return f"Accepted {summary['gold_created']} agreed span(s) ({summary['already_gold']} already gold)."
    if action in ("adjudicate", "reopen"):
        status = "done" if action == "adjudicate" else "in_progress"
        curation.adjudication_set(project=project, article=article, curator=request.user, status=status)
        return "Marked adjudicated: the gold layer of this article is complete." if status == "done" else "Reopened."
    raise ApplicationError(f"Unknown action {action!r}.")


@login_required
@require_POST
def curate_action(request: HttpRequest, slug: str, article_id: int) -> HttpResponse:
    project = _curator_project(request, slug)
    article = article_get_for_project(project=project, article_id=article_id)
    try:
        messages.success(request, _run_action(request, project, article))
    except ApplicationError as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
    return redirect("ui:curate", slug=slug, article_id=article.pk)


def _chart_rows(table: list[dict]) -> list[dict]:
    return [
        {"measure": r["measure"], "label": r["label"], "value": r["value"]}
        for r in table
        if r["measure"] in CHART_MEASURES and r["label"] != "all" and r["value"] is not None and not r.get("question")
    ]


@login_required
def agreement_page(request: HttpRequest, slug: str) -> HttpResponse:
    project = _curator_project(request, slug)
    label = request.GET.get("label") or None
    outlet = request.GET.get("outlet") or None
    filters = AgreementFilters(label=label, outlet=outlet, calibration=request.GET.get("calibration") == "1")
    error = job = None
    if request.method == "POST":
        agreement_job_create(project=project, filters=filters, by=request.user)
        messages.success(request, "Recomputation queued.")
        return redirect(request.get_full_path())
    try:
        job = agreement_read(project=project, filters=filters)
    except ApplicationError as exc:
        error = exc.message
    result = job.result if job is not None and job.status == JobStatus.SUCCEEDED else None
    drill = None
    viewer = viewer_for(project=project, user=request.user, role=project.user_role)
    if request.GET.get("drill") == "1" and error is None:
        drill = agreement_disagreements(viewer=viewer, label=label, outlet=outlet)
    context = {
        "project": project,
        "labels": label_list(project=project),
        "outlets": outlet_list_for_project(viewer=viewer),
        "label": label or "",
        "outlet": outlet or "",
        "job": job,
        "result": result,
        "chart_rows": _chart_rows(result["table"]) if result else [],
        "error": error,
        "drill": drill,
    }
    return render(request, "ui/agreement.html", context)


class AssignmentSettingsForm(forms.Form):
    """The settings a generation uses, as on the settings page (the same fields and bounds), plus the preview's plan."""

    annotators_per_article = SettingsForm.base_fields["annotators_per_article"]
    overlap_fraction = SettingsForm.base_fields["overlap_fraction"]
    calibration_size = SettingsForm.base_fields["calibration_size"]
    plan = forms.CharField(required=False, widget=forms.HiddenInput)

    def settings(self) -> dict:
        return {name: self.cleaned_data[name] for name in PLAN_SETTINGS}


def _generate(request: HttpRequest, project) -> HttpResponse:
    form = AssignmentSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not generated. " + " ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        return redirect("ui:assignments", slug=project.slug)
    try:
        summary = assignments_generate(
            project=project, by=request.user, settings=form.settings(), expected_plan=form.cleaned_data["plan"] or None
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        query = urlencode({**form.settings(), "preview": 1})
        return redirect(reverse("ui:assignments", args=[project.slug]) + f"?{query}")
    messages.success(
        request,
        f"Created {summary['created']} assignment(s): {summary['calibration_articles']} calibration, "
        f"{summary['eligible_articles']} other article(s), {summary['overlap_articles']} with overlap, "
        f"{summary['cluster_duplicates_skipped']} cluster duplicate(s) skipped."
        + "".join(f" Note: {n}." for n in summary["notes"]),
    )
    return redirect("ui:assignments", slug=project.slug)


@login_required
def assignments_page(request: HttpRequest, slug: str) -> HttpResponse:
    project = _curator_project(request, slug)
    is_owner = role_at_least(project.user_role, Role.OWNER)
    if request.method == "POST":
        if not is_owner:
            raise PermissionDenied("Only a project owner can generate assignments.")
        return _generate(request, project)
    initial = {name: getattr(project, name) for name in PLAN_SETTINGS}
    asked = {**initial, **request.GET.dict()} if "preview" in request.GET else None  # missing: the project's
    form = AssignmentSettingsForm(asked, initial=initial)
    preview = None
    if form.is_bound and form.is_valid():
        try:
            preview = assignment_preview(project=project, **form.settings())
        except ApplicationError as exc:
            form.add_error(None, exc.message)
    if preview is not None:
        form = AssignmentSettingsForm(initial={**form.settings(), "plan": preview["plan"]})
    context = {
        "project": project,
        "is_owner": is_owner,
        "progress": assignment_progress(project=project),
        "form": form,
        "preview": preview,
    }
    return render(request, "ui/assignments.html", context)
