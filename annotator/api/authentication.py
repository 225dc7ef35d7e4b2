"""Token auth for scripts: `Authorization: Token <key>`; the key is looked up by its SHA-256 hash.

A revoked token fails on the very next request (no caching). `last_used_at` is written at most once a
minute per token, so a busy script does not turn every read into a write.
"""

import hashlib
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from rest_framework import authentication, exceptions

LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_KEY_LENGTH = 200


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class HashedTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        from annotator.api.models import ApiToken

        if len(key) > MAX_KEY_LENGTH:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        try:
            token = ApiToken.objects.select_related("user").get(key_hash=hash_token(key), revoked_at__isnull=True)
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.") from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION), pk=token.pk
            ).update(last_used_at=now)
        return token.user, token
