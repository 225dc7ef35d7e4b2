"""Cursor pagination by id: stable under inserts, O(1) per page however deep, the default for every list.

`?page_size=` (1-1000, default 100) and `?ordering=id` or `-id` (default: the view's `cursor_ordering`,
else `-id`, newest first). Follow `next` until it is null. Bad values are a 400 with a clear message.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination

ORDERINGS = ("-id", "id")


class IdCursorPagination(CursorPagination):
    page_size = 100
    max_page_size = 1000
    page_size_query_param = "page_size"
    ordering_query_param = "ordering"
    ordering = "-id"

    def get_page_size(self, request: Any) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            message = (
                f"page_size must be a whole number from 1 to {self.max_page_size} (got {raw!r}); "
                "for everything at once use the streaming export (?format=jsonl) where an endpoint offers it."
            )
            raise ValidationError({self.page_size_query_param: [message]})
        return size

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        if any(hasattr(backend, "get_ordering") for backend in getattr(view, "filter_backends", [])):
            return super().get_ordering(request, queryset, view)  # an OrderingFilter on the view decides
        default = getattr(view, "cursor_ordering", type(self).ordering)
        if default not in ORDERINGS:
            raise ValueError(f"{type(view).__name__}.cursor_ordering must be one of {ORDERINGS}, not {default!r}")
        ordering = request.query_params.get(self.ordering_query_param) or default
        if ordering not in ORDERINGS:
            message = f"ordering must be 'id' (oldest first) or '-id' (newest first), not {ordering!r}."
            raise ValidationError({self.ordering_query_param: [message]})
        return (ordering,)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        if not any(hasattr(backend, "get_ordering") for backend in getattr(view, "filter_backends", [])):
            parameters.append(
                {
                    "name": self.ordering_query_param,
                    "required": False,
                    "in": "query",
                    "description": "id (oldest first) or -id (newest first).",
                    "schema": {"type": "string", "enum": list(ORDERINGS)},
                }
            )
        return parameters
