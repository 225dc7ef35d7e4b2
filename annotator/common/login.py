"""Login protection with django-axes, on every login path: the login page, /admin/login/ and any other
``authenticate()`` made for an HTTP request (axes' backend sits first in AUTHENTICATION_BACKENDS).

Two counters, each with its own limit within the cool-off (settings LOGIN_FAILURE_LIMIT, LOGIN_ADDRESS_FAILURE_LIMIT,
LOGIN_COOLOFF_MINUTES; docs/security.md):

* one username from one client address: guessing one account's password;
* one client address, whatever the usernames: one password tried across many accounts.

Past a limit every attempt of that username and address (or of that address) is refused with HTTP 429 and a clear
page, without checking the password, until the cool-off ends. A successful login clears the username's counter,
not the address's (an attacker with an account of their own cannot reset it). The client address is
``REMOTE_ADDR``, or with BEHIND_PROXY the address the reverse proxy forwards (django-ipware; PROXY_HOPS says how many
proxies append to X-Forwarded-For). Counts live in Django's default cache: a shared one (Redis) when several web
processes serve the site.

Written here, on top of axes: axes compares its highest counter with a single limit, so the handler below gives each
counter its own (a dozen lines), and its backend lets an ``authenticate()`` without a request (a shell, a test
client) through, since there is no client to count.
"""

from __future__ import annotations

import math
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_client_cache_keys, get_credentials
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

LOCKED_MESSAGE = (
    "Too many failed login attempts from your address. "
    "Try again in {minutes} minute{plural}, or ask an administrator to reset your password."
)


def counter_limits() -> tuple[int, int]:
    """(failures allowed for one username from one address, failures allowed from one address)."""
    return settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_ADDRESS_FAILURE_LIMIT


def username_key(request: HttpRequest, credentials: dict | None) -> str:
    """The username as counted: case and surrounding spaces do not make a new counter."""
    username = (credentials or {}).get("username")
    if username is None:
        username = request.POST.get("username", "") if hasattr(request, "POST") else ""
    return str(username).strip().lower()


class LoginAttemptBackend(AxesStandaloneBackend):
    """axes' backend: refuses a locked-out client before any password is checked."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kw):
        if request is None:  # no HTTP client to count (a shell, Client.login in tests)
            return None
        return super().authenticate(request, username=username, password=password, **kw)


class LoginCountersHandler(AxesCacheHandler):
    """axes' cache handler with one limit per counter (AXES_LOCKOUT_PARAMETERS, in order: username and address,
    then address); a successful login clears the first only."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        keys = get_client_cache_keys(request, credentials)
        return any(self.cache.get(key, 0) >= limit for key, limit in zip(keys, counter_limits(), strict=True))

    def user_logged_in(self, sender, request, user, **kwargs) -> None:
        super().user_logged_in(sender, request, user, **kwargs)
        self.cache.delete(get_client_cache_keys(request, get_credentials(user.get_username()))[0])


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """The page a locked-out client gets (the login page's look, HTTP 429)."""
    minutes = max(1, math.ceil(settings.LOGIN_COOLOFF_MINUTES))
    message = LOCKED_MESSAGE.format(minutes=minutes, plural="" if minutes == 1 else "s")
    return render(request, "registration/locked.html", {"message": message}, status=429)
