"""Writes for the API app: personal API tokens (the raw key is returned once and never stored)."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from annotator.api.authentication import hash_token
from annotator.api.models import ApiToken
from annotator.common.errors import ApplicationError

TOKEN_KEY_PREFIX = "fs_"
TOKEN_PREFIX_LENGTH = 12  # "fs_" + 9 characters: enough to tell tokens apart, useless for guessing
MAX_ACTIVE_TOKENS_PER_USER = 50

TOKEN_NAME_REQUIRED = "Give the token a name, e.g. the script or machine that will use it."
TOKEN_NAME_TOO_LONG = "A token name can be at most {max_length} characters."
TOKEN_LIMIT_REACHED = "You already have {limit} active tokens; revoke one you no longer use first."
TOKEN_NOT_FOUND = "No such token among yours."


def api_token_generate_key() -> str:
    """A fresh raw key: `fs_` followed by 43 URL-safe characters (256 bits of randomness)."""
    return TOKEN_KEY_PREFIX + secrets.token_urlsafe(32)


@transaction.atomic
def api_token_create(*, user: Any, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; return it with the raw key, which is shown once and stored only hashed."""
    name = (name or "").strip()
    max_length = ApiToken._meta.get_field("name").max_length
    if not name:
        raise ApplicationError(TOKEN_NAME_REQUIRED, {"name": [TOKEN_NAME_REQUIRED]})
    if len(name) > max_length:
        message = TOKEN_NAME_TOO_LONG.format(max_length=max_length)
        raise ApplicationError(message, {"name": [message]})
    # Lock the user's rows so two concurrent creates cannot both pass the limit.
    active = list(ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True).values_list("pk"))
    if len(active) >= MAX_ACTIVE_TOKENS_PER_USER:
        raise ApplicationError(TOKEN_LIMIT_REACHED.format(limit=MAX_ACTIVE_TOKENS_PER_USER))
    raw_key = api_token_generate_key()
    token = ApiToken(user=user, name=name, prefix=raw_key[:TOKEN_PREFIX_LENGTH], key_hash=hash_token(raw_key))
    token.full_clean()
    token.save()
    return token, raw_key


@transaction.atomic
def api_token_revoke(*, user: Any, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; it stops authenticating with the next request.

    Someone else's token id is reported as not found (404), so ids cannot be probed. Revoking an already
    revoked token is a no-op that returns it unchanged.
    """
    token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
    if token is None:
        raise ApplicationError(TOKEN_NOT_FOUND, {"token_id": token_id}, status_code=404)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
