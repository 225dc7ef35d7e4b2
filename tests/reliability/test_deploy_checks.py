"""Production settings: Django's deployment checklist is clean, and pages and API responses carry the security
headers (CSP with nonces, X-Frame-Options, nosniff, HSTS and secure cookies over https)."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.annotator.projects.factories import make_article, make_project, make_user

ROOT = Path(__file__).resolve().parents[2]


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    unset = {"DEBUG", "SECURE_SSL", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}  # as in production
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(
        DEBUG="0",
        SECURE_SSL="1",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="framescope.example.org",
        FRAMESCOPE_DATA_DIR=str(tmp_path),
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "manage.py", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout + result.stderr


def test_check_deploy_flags_an_insecure_configuration(tmp_path):
    """The check above can fail: plain http and a short key are reported."""
    env = production_env(tmp_path, SECURE_SSL="0", SECRET_KEY="short")
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    for check_id in ("security.W004", "security.W008", "security.W009", "security.W012", "security.W016"):
        assert check_id in result.stderr, (check_id, result.stderr)


HTTPS_PROBE = """
import django, json
django.setup()
from django.test import Client
response = Client(HTTP_HOST="framescope.example.org").get("/accounts/login/", secure=True)
plain = Client(HTTP_HOST="framescope.example.org").get("/accounts/login/")
cookie = response.cookies["csrftoken"]
print(json.dumps({
    "status": response.status_code, "hsts": response.get("Strict-Transport-Security"),
    "csrf_secure": bool(cookie["secure"]), "plain_status": plain.status_code, "plain_location": plain.get("Location"),
}))
"""


def test_https_settings_give_hsts_secure_cookies_and_a_redirect(tmp_path):
    env = production_env(tmp_path, DJANGO_SETTINGS_MODULE="annotator.settings")
    result = subprocess.run(
        [sys.executable, "-c", HTTPS_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["status"] == 200
    assert probe["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert probe["csrf_secure"] is True
    assert probe["plain_status"] == 301 and probe["plain_location"].startswith("https://framescope.example.org/")


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_common_headers(response) -> dict[str, list[str]]:
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    csp = csp_directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-inline'" not in csp["style-src"]
    return csp


@pytest.fixture
def owner_client(db):
    owner = make_user()
    project = make_project(owner=owner, articles=[make_article(text="The regime said so.")])
    client = Client()
    client.force_login(owner)
    return client, project


def test_pages_and_api_responses_carry_the_security_headers(owner_client):
    client, project = owner_client
    for url in (reverse("ui:home"), reverse("ui:project", args=[project.slug]), "/accounts/login/"):
        response = client.get(url)
        assert response.status_code == 200, url
        csp = assert_common_headers(response)
        assert csp["script-src"][0] == "'self'" and "'unsafe-eval'" not in csp["script-src"], url
    api = client.get("/api/v1/projects/")
    assert api.status_code == 200 and api["Content-Type"].startswith("application/json")
    assert_common_headers(api)


def test_inline_scripts_run_only_with_the_request_nonce(owner_client):
    client, _ = owner_client
    first, second = client.get(reverse("ui:tokens")), client.get(reverse("ui:tokens"))
    nonces = []
    for response in (first, second):
        html = response.content.decode()
        csp = assert_common_headers(response)
        nonce = next(src for src in csp["script-src"] if src.startswith("'nonce-"))[len("'nonce-") : -1]
        inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
        assert inline, "the tokens page has an inline script"
        assert all(f'nonce="{nonce}"' in attrs for attrs in inline), inline
        nonces.append(nonce)
    assert nonces[0] != nonces[1] and len(nonces[0]) >= 16


def test_every_inline_script_in_the_templates_carries_the_nonce():
    """A new inline <script> without nonce would be blocked by the browser: catch it here instead."""
    offenders = []
    for template in (ROOT / "annotator").rglob("templates/**/*.html"):
        for attrs in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", template.read_text()):
            if "application/json" not in attrs and "csp_nonce" not in attrs:
                offenders.append(f"{template.relative_to(ROOT)}: <script{attrs}>")
    assert not offenders, offenders


def test_chart_pages_get_the_site_policy_without_eval(owner_client):
    """Vega's expressions go through vega-interpreter (ui/charts.js): no page needs 'unsafe-eval'."""
    client, project = owner_client
    for name in ("ui:scores", "ui:agreement", "ui:lexicon"):
        response = client.get(reverse(name, args=[project.slug]))
        assert response.status_code == 200, name
        script_src = csp_directives(response["Content-Security-Policy"])["script-src"]
        assert "'unsafe-eval'" not in script_src and "'unsafe-inline'" not in script_src, (name, script_src)


def test_swagger_ui_works_under_its_own_policy(owner_client):
    client, _ = owner_client
    page = client.get("/api/docs/")
    assert page.status_code == 200 and b"swagger-ui" in page.content
    html = page.content.decode()
    csp = csp_directives(page["Content-Security-Policy"])
    assert "'unsafe-inline'" not in csp["script-src"]
    for src in re.findall(r'<script src="([^"]+)"', html):
        assert src.startswith(("/static/", "/api/docs/")), src  # no CDN: this machine and many servers have none
        assert any(src.startswith(allowed.strip("'")) or allowed == "'self'" for allowed in csp["script-src"])
    assert not re.findall(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html), "no inline script on the docs page"
    script_url = re.search(r'<script src="(/api/docs/[^"]+)"', html).group(1).replace("&amp;", "&")
    script = client.get(script_url)
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


def test_upload_and_request_size_limits_are_set():
    from django.conf import settings

    assert 0 < settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 16 * 1024 * 1024
    assert 0 < settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert settings.IMPORT_UPLOAD_MAX_BYTES > 0 and settings.IMPORT_MAX_DECOMPRESSED_BYTES > 0
