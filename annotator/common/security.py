"""Content Security Policy (django-csp) for every page, with one looser policy for the Swagger UI.

The app's pages load scripts, styles, images and fonts from their own origin only; an inline <script> runs only
when it carries the per-request nonce (`<script nonce="{{ request.csp_nonce }}">`), so HTML or JavaScript that
slips into article text, notes or labels cannot execute even if a template forgot to escape it. Inline `style`
*attributes* are allowed (`style-src-attr`): the templates colour labels with `style="--c: #hex"`; a `<style>`
element is not. Pages may not be framed (`frame-ancestors 'none'`, and X-Frame-Options: DENY), forms post only
to this origin.

No page needs 'unsafe-eval': the chart pages (Scores dashboard, agreement) draw through `ui/charts.js`, which has
the vendored vega-interpreter evaluate chart expressions instead of Vega compiling them with `new Function`.

The Swagger UI at /api/docs/ is drf-spectacular's page with swagger-ui served from our own static files
(drf-spectacular-sidecar, no CDN); it has an inline <style> block, so that path alone gets SWAGGER_UI_POLICY
(inline styles). Its script is served from the same URL (`?script=`, SpectacularSwaggerSplitView), not inline.
"""

from __future__ import annotations

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponseBase

SWAGGER_UI_PATH = "/api/docs/"

DIRECTIVES: dict[str, list] = {
    "default-src": [SELF],
    "script-src": [SELF, NONCE],
    "style-src": [SELF],
    "style-src-attr": [UNSAFE_INLINE],
    "img-src": [SELF, "data:", "blob:"],
    "font-src": [SELF],
    "connect-src": [SELF],
    "object-src": [NONE],
    "base-uri": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
}

CONTENT_SECURITY_POLICY: dict = {"DIRECTIVES": DIRECTIVES}

SWAGGER_UI_POLICY: dict[str, list] = {"style-src": [SELF, UNSAFE_INLINE]}


class FramescopeCSPMiddleware(CSPMiddleware):
    """django-csp's middleware; the Swagger UI gets its policy on top of the site policy."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request=request, response=response, report_only=report_only)
        if report_only:
            return parts
        if request.path_info == SWAGGER_UI_PATH:
            parts.replace = {**(parts.replace or {}), **SWAGGER_UI_POLICY}
        return parts
