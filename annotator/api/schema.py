"""OpenAPI generation tuned to the house style.

- Nested `InputSerializer`/`OutputSerializer` classes are named after their view: `ProjectListApi.OutputSerializer`
  becomes component `ProjectListOutput` (and `...Request` for inputs). drf-spectacular's default (the class
  name) would make every view's serializers collide as "Input"/"Output".
- CSV and JSON Lines responses are documented as text, not as the JSON object they are rendered from.
- The shared error body `{"detail", "errors"}` is documented for the errors every endpoint can return (403;
  400 when it takes input; 404 when its path names an object; 429 when it is throttled), so clients and
  schema tests know its shape.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from annotator.api.renderers import CSV_MEDIA_TYPE, JSONL_MEDIA_TYPE

TEXT_MEDIA_TYPES = {
    CSV_MEDIA_TYPE: "Tidy CSV: one row per object, nested fields as dotted columns, lists as JSON.",
    JSONL_MEDIA_TYPE: "JSON Lines: one JSON object per line.",
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input; `errors` maps each field to its messages.",
    "403": "Not logged in, or your role does not allow this.",
    "404": "No such object, or it belongs to a project you are not a member of.",
    "429": "Rate limit exceeded; retry after the number of seconds in the Retry-After header.",
}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in one sentence.")
    errors = serializers.DictField(help_text="Per-field messages or extra data; empty when there is none.")


def nested_serializer_name(cls: type) -> str:
    """`Outer.Inner` qualnames become `OuterInner` (without a trailing `Api` on the outer class)."""
    parts = cls.__qualname__.split(".<locals>.")[-1].split(".")
    if len(parts) < 2:
        return cls.__name__
    outer = parts[-2].removesuffix("Api")
    return f"{outer}{parts[-1]}"


class FramescopeAutoSchema(AutoSchema):
    def get_serializer_name(self, serializer: Any, direction: Any) -> str:
        return nested_serializer_name(serializer.__class__)

    def get_operation(self, path: str, path_regex: str, path_prefix: str, method: str, registry: Any) -> Any:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for response in responses.values():
            content = response.get("content") or {}
            for media_type in list(content):
                base = media_type.split(";")[0].strip()
                if base in TEXT_MEDIA_TYPES:
                    content[media_type] = {"schema": {"type": "string", "description": TEXT_MEDIA_TYPES[base]}}
        error_schema = self.resolve_serializer(ErrorSerializer, "response").ref
        for code in self._error_codes(path, operation):
            response = responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
            if not response.get("content"):
                response["content"] = {"application/json": {"schema": error_schema}}
        return operation

    def _error_codes(self, path: str, operation: dict[str, Any]) -> list[str]:
        codes = ["403"]
        if operation.get("parameters") or operation.get("requestBody"):
            codes.append("400")
        if "{" in path:
            codes.append("404")
        if getattr(self.view, "throttle_scope", None):
            codes.append("429")
        return codes
