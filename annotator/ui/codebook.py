"""The codebook page: questions and span attributes added, edited, reordered and deleted (owners and curators).

The page is drawn by codebook_editor.js from this config and writes through the questions API; the rules (fixed once
answered, options in use, hotkey clashes, ...) are annotator/projects/questions.py's, and the page shows the errors
the API returns. Labels are edited on the settings page (owners)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

from annotator.projects.codebook import codebook_questions
from annotator.projects.models import Question
from annotator.projects.permissions import role_can
from annotator.projects.selectors import codebook_version_list, label_list, project_get_for_user, question_usage


@login_required
@ensure_csrf_cookie
def codebook_page(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = project_get_for_user(slug=slug, user=request.user)
    if not role_can(role, "edit_codebook"):
        raise PermissionDenied("Only the project's owners and curators edit its codebook.")
    api = reverse("api:question-list", args=[slug])
    config = {
        "urls": {
            "questions": api,
            "reorder": reverse("api:question-reorder", args=[slug]),
            "project": reverse("api:project-detail", args=[slug]),
            "version": reverse("api:codebook-version-detail", args=[slug, 0]).removesuffix("0/"),
        },
        "questions": codebook_questions(project=project),
        "usage": question_usage(project=project),
        "labels": [
            {"id": label.pk, "name": label.full_name, "colour": label.colour} for label in label_list(project=project)
        ],
        "scopes": Question.Scope.choices,
        "kinds": Question.Kind.choices,
    }
    context = {
        "project": project,
        "role": role,
        "config": config,
        "versions": list(codebook_version_list(project=project).order_by("-number")[:10]),
    }
    return render(request, "ui/codebook.html", context)
