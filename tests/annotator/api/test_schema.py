"""The OpenAPI schema: generated without warnings, valid, and documenting the shared error body.

This test keeps guarding the schema as endpoints are added: when it fails, the message lists the offending
view and serializer (file:line) as drf-spectacular reports them.
"""

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.drainage import reset_generator_stats
from drf_spectacular.validation import validate_schema
from rest_framework import serializers

from annotator.api.schema import nested_serializer_name

HOW_TO_REPRODUCE = "Reproduce with: .venv/bin/python manage.py spectacular --validate --fail-on-warn > /dev/null"


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    return generate(tmp_path_factory.mktemp("schema") / "schema.yaml")


def generate(path) -> dict:
    import io
    import sys

    reset_generator_stats()
    stderr, real_stderr = io.StringIO(), sys.stderr
    sys.stderr = stderr  # drf-spectacular prints each warning, with the view and file:line, to sys.stderr
    try:
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    except Exception as exc:  # noqa: BLE001 - re-raised as a test failure with the details
        pytest.fail(
            f"The OpenAPI schema is broken: {type(exc).__name__}: {exc}\n"
            f"Offending endpoints (file:line [View > Serializer]: problem):\n{stderr.getvalue() or '(none printed)'}\n"
            f"{HOW_TO_REPRODUCE}",
            pytrace=False,
        )
    finally:
        sys.stderr = real_stderr
        reset_generator_stats()
    return yaml.safe_load(path.read_text())


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_schema_generates_without_warnings_and_validates(schema):
    validate_schema(schema)  # again on the parsed file, so the YAML round trip is covered too
    assert "/api/v1/tokens/" in schema["paths"]


def test_operation_ids_are_unique(schema):
    seen: dict[str, str] = {}
    for path, method, operation in operations(schema):
        op_id = operation["operationId"]
        assert op_id not in seen, f"{method.upper()} {path} reuses operationId {op_id!r} of {seen[op_id]}"
        seen[op_id] = f"{method.upper()} {path}"


def test_every_operation_documents_the_error_body(schema):
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"detail", "errors"}
    for path, method, operation in operations(schema):
        forbidden = operation["responses"].get("403", {})
        assert forbidden.get("content", {}).get("application/json", {}).get("schema") == {
            "$ref": "#/components/schemas/Error"
        }, f"{method.upper()} {path} does not document the 403 error body"
        if "{" in path:
            assert "404" in operation["responses"], f"{method.upper()} {path} names an object but documents no 404"


def test_csv_and_jsonl_are_documented_as_text(schema):
    ok = schema["paths"]["/api/v1/tokens/"]["get"]["responses"]["200"]["content"]
    assert ok["application/json"]["schema"] == {"$ref": "#/components/schemas/PaginatedTokenOutputList"}
    assert ok["text/csv"]["schema"]["type"] == "string"
    assert ok["application/jsonl"]["schema"]["type"] == "string"


def test_cursor_pagination_parameters(schema):
    params = {p["name"]: p for p in schema["paths"]["/api/v1/tokens/"]["get"]["parameters"]}
    assert {"cursor", "page_size", "ordering"} <= set(params)
    assert params["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000}


def test_nested_serializers_are_named_after_their_view():
    class ThingListApi:
        class OutputSerializer(serializers.Serializer):
            pass

    class Plain(serializers.Serializer):
        pass

    assert nested_serializer_name(ThingListApi.OutputSerializer) == "ThingListOutputSerializer"
    assert nested_serializer_name(Plain) == "Plain"


@pytest.mark.django_db
def test_schema_and_swagger_ui_are_served(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Framescope API"
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
