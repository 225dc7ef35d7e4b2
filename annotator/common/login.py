"""The HTML login form with a brake on password guessing.

After LOGIN_FAILURE_RATE failed attempts (default "10/15min": ten per fifteen minutes, counted from the first
failure) for one username from one client address, further attempts are refused with a 429 and a clear
message, without checking the password, until the window ends. A successful login clears the count.
Counts live in Django's default cache: use a shared cache (Redis, the database) when several web processes
serve the site, or each process counts on its own.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from annotator.api.throttling import parse_rate

DEFAULT_LOGIN_FAILURE_RATE = "10/15min"
LOCKED_MESSAGE = (
    "Too many failed login attempts for this username from your address. "
    "Try again in {minutes} minute{plural}, or ask an administrator to reset your password."
)


def login_failure_rate() -> tuple[int, int]:
    """(allowed failures, window in seconds) from settings.LOGIN_FAILURE_RATE."""
    limit, window = parse_rate(getattr(settings, "LOGIN_FAILURE_RATE", DEFAULT_LOGIN_FAILURE_RATE))
    if not limit or not window:
        raise ValueError("LOGIN_FAILURE_RATE must allow at least one attempt, e.g. '10/15min'.")
    return limit, window


def _cache_key(username: str, ip: str) -> str:
    digest = hashlib.sha256(f"{username.strip().lower()}\x00{ip}".encode()).hexdigest()
    return f"login-failures:{digest}"


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def login_failures(*, username: str, ip: str) -> tuple[int, float]:
    """(failures so far, seconds until the window ends) for this username and address."""
    entry = cache.get(_cache_key(username, ip))
    if not entry:
        return 0, 0.0
    count, expires_at = entry
    return count, max(0.0, expires_at - time.time())


def login_failure_record(*, username: str, ip: str) -> int:
    """Count one failure; the window starts at the first failure. Returns the new count."""
    _, window = login_failure_rate()
    count, remaining = login_failures(username=username, ip=ip)
    expires_at = time.time() + (remaining if count else window)
    count += 1
    cache.set(_cache_key(username, ip), (count, expires_at), timeout=max(1, math.ceil(expires_at - time.time())))
    return count


def login_failures_clear(*, username: str, ip: str) -> None:
    cache.delete(_cache_key(username, ip))


class RateLimitedLoginView(LoginView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = request.POST.get("username", "")
        limit, _ = login_failure_rate()
        count, remaining = login_failures(username=username, ip=_client_ip(request))
        if count >= limit:
            minutes = max(1, math.ceil(remaining / 60))
            messages.error(request, LOCKED_MESSAGE.format(minutes=minutes, plural="" if minutes == 1 else "s"))
            # An unbound form: the page shows the lock message, not "wrong password".
            context = self.get_context_data(form=self.get_form_class()(request))
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        login_failure_record(username=self.request.POST.get("username", ""), ip=_client_ip(self.request))
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        login_failures_clear(username=form.get_user().get_username(), ip=_client_ip(self.request))
        return super().form_valid(form)
