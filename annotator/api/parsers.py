"""The API's JSON parser: DRF's, with a bound on nesting.

A body nested 100,000 levels deep made Python's decoder raise RecursionError, which DRF does not catch (a 500); one
nested a few hundred levels parses, then recurses again in serializers and renderers. No Framescope request needs
more than a few levels, so anything deeper than MAX_JSON_DEPTH is a 400 that says so.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 64
TOO_DEEP = f"The JSON body is nested too deeply: at most {MAX_JSON_DEPTH} levels of arrays and objects."


def json_depth_exceeds(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays/objects in ``data`` nest more than ``limit`` levels (iterative: no recursion of its own)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        if json_depth_exceeds(data):
            raise ParseError(TOO_DEEP)
        return data
