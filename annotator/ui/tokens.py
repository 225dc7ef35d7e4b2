"""The /account/tokens/ page: create a personal API token (the key is shown once) and revoke tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from annotator.api.selectors import api_token_list
from annotator.api.services import api_token_create, api_token_revoke
from annotator.common.errors import ApplicationError


@login_required
def token_list_page(request: HttpRequest) -> HttpResponse:
    """GET: the form and the table. POST: create a token and show its key in this response only."""
    context: dict = {"new_key": None, "new_token": None, "error": None, "name": ""}
    status = 200
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            token, raw_key = api_token_create(user=request.user, name=name)
        except ApplicationError as exc:
            context.update(error=exc.message, name=name)
            status = 400
        else:
            context.update(new_key=raw_key, new_token=token)
    context["tokens"] = api_token_list(user=request.user)
    response = render(request, "ui/tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the page may hold a secret: keep it out of the browser cache
    return response


@login_required
@require_POST
def token_revoke_page(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = api_token_revoke(user=request.user, token_id=token_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Token “{token.name}” ({token.prefix}…) revoked; it no longer works.")
    return redirect("ui:tokens")
