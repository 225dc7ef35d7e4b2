"""Render every API error as {"detail": str, "errors": {...}}."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import bad_request as html_bad_request
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from annotator.common.errors import ApplicationError


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, "errors": exc.extra}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "Invalid input.", "errors": response.data}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"]), "errors": {}}
    return response


API_PATH_PREFIX = "/api/"
# Django's request limits, each with its setting: the error names the limit and the setting that sets it.
REQUEST_LIMITS = {
    RequestDataTooBig: ("The request body is larger than the limit of {limit:,} bytes; send less per request.",
                        "DATA_UPLOAD_MAX_MEMORY_SIZE"),
    TooManyFieldsSent: ("The request has more than {limit:,} form fields.", "DATA_UPLOAD_MAX_NUMBER_FIELDS"),
    TooManyFilesSent: ("The request has more than {limit:,} files.", "DATA_UPLOAD_MAX_NUMBER_FILES"),
}  # fmt: skip


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 handler, for a request refused before any view runs: JSON on API routes, HTML on pages.

    On the API a request over one of Django's size or count limits is a 413 naming the limit; any other a 400.
    """
    if not request.path_info.startswith(API_PATH_PREFIX):
        return html_bad_request(request, exception)
    for exception_class, (message, setting_name) in REQUEST_LIMITS.items():
        if isinstance(exception, exception_class):
            limit = getattr(settings, setting_name)
            body = {"detail": message.format(limit=limit), "errors": {"limit": limit, "setting": setting_name}}
            return JsonResponse(body, status=413)
    return JsonResponse({"detail": "Bad request.", "errors": {}}, status=400)
