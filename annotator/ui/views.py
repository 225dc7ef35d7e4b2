"""Server-rendered pages: the user's projects, a project's queue, and the annotator page."""

from __future__ import annotations

import markdown
import nh3
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import ensure_csrf_cookie

from annotator.annotations.selectors import (
    answer_rows_own,
    article_sentences,
    codebook_changes_since_last_work,
    span_rows_own,
)
from annotator.projects.codebook import codebook_questions
from annotator.projects.permissions import project_create_allowed, role_can
from annotator.projects.selectors import (
    article_get_for_project,
    article_shown,
    assignment_queue,
    label_list,
    project_get_for_user,
    project_list_for_user,
    queue_for,
)
from annotator.projects.visibility import viewer_for
from annotator.scoring.codes import predicts_questions
from annotator.ui.colours import label_for_page


def render_guidelines(source: str) -> str:
    """Markdown to HTML, then sanitised with nh3 (guidelines are written by users: never trusted)."""
    html = markdown.markdown(source or "", extensions=["extra", "sane_lists"])
    return mark_safe(nh3.clean(html))  # noqa: S308 - sanitised by nh3 on the line above


@login_required
def home(request: HttpRequest) -> HttpResponse:
    projects = project_list_for_user(user=request.user)
    context = {"projects": projects, "can_create_project": project_create_allowed(request.user)}
    return render(request, "ui/home.html", context)


@login_required
def project_page(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = project_get_for_user(slug=slug, user=request.user)
    queue = queue_for(viewer=viewer_for(project=project, user=request.user, role=role))
    context = {
        "project": project,
        "role": role,
        "queue": queue,
        "next_article_id": queue.next_open(),
        "labels": label_list(project=project),
        "guidelines_html": render_guidelines(project.guidelines),
        **_codebook_changes(project, request.user),
    }
    return render(request, "ui/project.html", context)


def _codebook_changes(project, user) -> dict:
    changes = codebook_changes_since_last_work(project=project, user=user)
    return {"codebook_changes": changes, "codebook_latest_change": changes[-1].number if changes else None}


@login_required
def project_next(request: HttpRequest, slug: str) -> HttpResponse:
    project, _ = project_get_for_user(slug=slug, user=request.user)
    next_id = assignment_queue(project=project, user=request.user).next_open()
    if next_id is None:
        return redirect("ui:project", slug=slug)
    return redirect("ui:annotate", slug=slug, article_id=next_id)


@login_required
@ensure_csrf_cookie
def annotate_page(request: HttpRequest, slug: str, article_id: int) -> HttpResponse:
    project, role = project_get_for_user(slug=slug, user=request.user)
    viewer = viewer_for(project=project, user=request.user, role=role)
    article = article_get_for_project(project=project, article_id=article_id)
    queue = assignment_queue(project=project, user=request.user)
    index = queue.index_of(article.pk)
    previous_id, next_id = queue.neighbours(article.pk)
    labels = list(label_list(project=project))
    api = f"/api/v1/projects/{project.slug}"
    shown = article_shown(viewer=viewer, article=article)
    spans = span_rows_own(viewer=viewer, article=article)
    questions = codebook_questions(project=project)
    config = {
        "project": project.slug,
        "articleId": article.pk,
        "userId": request.user.pk,
        "canAnnotate": role_can(role, "annotate"),
        "snap": project.snap_to_words,
        "text": shown["text"],
        "labels": [
            {
                **label_for_page(lb),
                "description": lb.description,
                "positive_examples": lb.positive_examples,
                "negative_examples": lb.negative_examples,
            }
            for lb in labels
        ],
        "spans": spans,
        # Codebook questions, the user's own answers, and the sentence units (split on the server, never here).
        "questions": questions,
        "answers": answer_rows_own(viewer=viewer, article=article),
        "sentences": [[s.start_char, s.end_char] for s in article_sentences(article=article)]
        if any(q["scope"] == "sentence" for q in questions)
        else [],
        "api": api,
        "suggestionsUrl": f"{api}/articles/{article.pk}/suggestions/",
        # the page offers the model's answers to pre-fill when the active version predicts one of its questions
        "predictedUrl": f"{api}/articles/{article.pk}/answers/predicted/"
        if predicts_questions(viewer=viewer)
        else None,
        "othersUrl": f"{api}/articles/{article.pk}/others/" if viewer.sees_others else None,
        "urls": {
            "previous": reverse("ui:annotate", args=[slug, previous_id]) if previous_id else None,
            "next": reverse("ui:annotate", args=[slug, next_id]) if next_id else None,
            "project": reverse("ui:project", args=[slug]),
            "annotateBase": reverse("ui:project", args=[slug]) + "articles/",
        },
    }
    context = {
        "project": project,
        "article": shown,
        "labels": labels,
        "title": shown["title"],
        "show_outlet": viewer.sees_outlets,
        "queue": queue,
        "position": index + 1 if index is not None else None,
        "status": queue.items[index].status if index is not None else None,
        "config": config,
        "guidelines_html": render_guidelines(project.guidelines),
        **_codebook_changes(project, request.user),
    }
    return render(request, "ui/annotate.html", context)
