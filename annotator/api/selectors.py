"""Reads for the API app: a user's personal API tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from annotator.api.models import ApiToken


def api_token_list(*, user: Any, include_revoked: bool = False) -> QuerySet[ApiToken]:
    """The user's tokens, newest first; only active ones unless `include_revoked`."""
    tokens = ApiToken.objects.filter(user=user)
    if not include_revoked:
        tokens = tokens.filter(revoked_at__isnull=True)
    return tokens.order_by("-created_at", "-id")
