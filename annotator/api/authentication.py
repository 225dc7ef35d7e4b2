"""Token auth for scripts: `Authorization: Token <key>`; the key is looked up by its SHA-256 hash."""

import hashlib

from django.utils import timezone
from rest_framework import authentication, exceptions


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class HashedTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str):
        from annotator.api.models import ApiToken

        try:
            token = ApiToken.objects.select_related("user").get(key_hash=hash_token(key), revoked_at__isnull=True)
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.") from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user, token
