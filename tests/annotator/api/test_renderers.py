"""CSV and JSON Lines: the renderers (through real endpoints) and the constant-memory streaming helpers."""

import io
import json
from decimal import Decimal

import pandas as pd
import pytest
from rest_framework.test import APIClient

from annotator.api.models import ApiToken
from annotator.api.renderers import (
    CSVRenderer,
    JSONLinesRenderer,
    csv_lines,
    csv_streaming_response,
    flatten_row,
    jsonl_streaming_response,
    model_row,
    queryset_rows,
    streaming_export_response,
)
from annotator.api.services import api_token_create
from annotator.common.errors import ApplicationError
from annotator.corpus.models import Article, Outlet

TOKENS_URL = "/api/v1/tokens/"


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


class TestCells:
    def test_the_csv_renderer_writes_decimals_as_numbers(self):
        assert CSVRenderer().render([{"d": Decimal("-1.50")}]).decode() == "d\r\n-1.50\r\n"

    def test_flatten_nested_dicts_with_dotted_keys(self):
        row = {"id": 1, "outlet": {"slug": "bbc", "meta": {"country": "UK"}}, "tags": ["a"], "extra": {}}
        assert flatten_row(row) == {
            "id": 1,
            "outlet.slug": "bbc",
            "outlet.meta.country": "UK",
            "tags": ["a"],
            "extra": None,
        }


class TestCSVRenderer:
    def test_rows_columns_and_pandas_roundtrip(self):
        data = [
            {"id": 1, "title": "=cmd|' /C calc'!A0", "outlet": {"slug": "bbc", "name": "BBC"}, "labels": ["x", "y"]},
            {"id": 2, "title": 'Quote "and", comma\nnewline', "outlet": {"slug": "ft", "name": "FT"}, "labels": []},
            {"id": 3, "title": None, "outlet": {"slug": "ap", "name": "AP"}, "labels": [], "late": True},
        ]
        body = CSVRenderer().render(data)
        frame = pd.read_csv(io.BytesIO(body), keep_default_na=False)
        assert list(frame.columns) == ["id", "title", "outlet.slug", "outlet.name", "labels", "late"]
        assert frame["id"].tolist() == [1, 2, 3]
        assert frame["title"].tolist() == ["'=cmd|' /C calc'!A0", 'Quote "and", comma\nnewline', ""]
        assert frame["outlet.slug"].tolist() == ["bbc", "ft", "ap"]
        assert [json.loads(cell) for cell in frame["labels"]] == [["x", "y"], [], []]
        assert frame["late"].tolist() == ["", "", "true"]

    def test_paginated_page_renders_its_results(self):
        page = {"next": "http://x/?cursor=abc", "previous": None, "results": [{"id": 7}, {"id": 8}]}
        assert CSVRenderer().render(page).decode().splitlines() == ["id", "7", "8"]

    def test_single_object_is_one_row(self):
        assert CSVRenderer().render({"detail": "Not found.", "errors": {}}).decode().splitlines() == [
            "detail,errors",
            "Not found.,",
        ]

    def test_jsonl_renderer(self):
        page = {"next": None, "previous": None, "results": [{"id": 1, "t": "é"}, {"id": 2, "t": None}]}
        lines = JSONLinesRenderer().render(page).decode().splitlines()
        assert [json.loads(line) for line in lines] == page["results"]


@pytest.mark.django_db
class TestFormatNegotiation:
    @pytest.fixture
    def client(self, django_user_model):
        user = django_user_model.objects.create_user("alice", password="x")
        api_token_create(user=user, name='=HYPERLINK("http://evil")')
        api_token_create(user=user, name="notebook")
        client = APIClient()
        client.force_authenticate(user)
        return client

    def test_format_query_param_gives_csv_readable_by_pandas(self, client):
        response = client.get(TOKENS_URL + "?format=csv")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        frame = pd.read_csv(io.BytesIO(response.content))
        assert list(frame.columns) == ["id", "name", "prefix", "created_at", "last_used_at"]
        assert frame["name"].tolist() == ["notebook", '\'=HYPERLINK("http://evil")']
        assert frame["id"].tolist() == sorted(ApiToken.objects.values_list("id", flat=True), reverse=True)

    def test_accept_header_gives_csv(self, client):
        response = client.get(TOKENS_URL, HTTP_ACCEPT="text/csv")
        assert response["Content-Type"].startswith("text/csv")
        assert response.content.decode().splitlines()[0] == "id,name,prefix,created_at,last_used_at"

    def test_jsonl_format(self, client):
        response = client.get(TOKENS_URL + "?format=jsonl")
        assert response["Content-Type"].startswith("application/jsonl")
        names = [json.loads(line)["name"] for line in response.content.decode().splitlines()]
        assert names == ["notebook", '=HYPERLINK("http://evil")']  # JSON needs no escaping

    def test_empty_list_still_has_a_header(self, django_user_model):
        client = APIClient()
        client.force_authenticate(django_user_model.objects.create_user("nobody"))
        response = client.get(TOKENS_URL + "?format=csv")
        frame = pd.read_csv(io.BytesIO(response.content))
        assert frame.empty and list(frame.columns) == ["id", "name", "prefix", "created_at", "last_used_at"]

    def test_unknown_format_is_404(self, client):
        assert client.get(TOKENS_URL + "?format=xlsx").status_code == 404


class TestStreaming:
    def test_jsonl_stream_is_lazy_and_complete(self):
        produced = []

        def rows():
            for i in range(20_000):
                produced.append(i)
                yield {"id": i, "text": "ä" * 10}

        response = jsonl_streaming_response(rows(), filename="spans.jsonl")
        assert response.streaming and produced == []  # nothing consumed until the server iterates
        chunks = iter(response.streaming_content)
        first = next(chunks)
        assert 0 < len(produced) < 20_000  # the first chunk needed only part of the rows
        body = first + b"".join(chunks)
        lines = body.decode().splitlines()
        assert len(lines) == 20_000 and json.loads(lines[-1]) == {"id": 19_999, "text": "ä" * 10}
        assert response["Content-Disposition"] == 'attachment; filename="spans.jsonl"'
        assert response["Content-Type"] == "application/jsonl; charset=utf-8"

    def test_csv_stream_escapes_and_flattens(self):
        rows = [{"id": 1, "outlet": {"slug": "=bad"}, "labels": ["a"]}, {"id": 2, "outlet": {"slug": "ok"}}]
        frame = pd.read_csv(io.BytesIO(streamed(csv_streaming_response(iter(rows)))), keep_default_na=False)
        assert list(frame.columns) == ["id", "outlet.slug", "labels"]
        assert frame["outlet.slug"].tolist() == ["'=bad", "ok"]
        assert frame["labels"].tolist() == ['["a"]', ""]

    def test_csv_stream_refuses_to_drop_columns(self):
        lines = csv_lines(iter([{"id": 1}, {"id": 2, "surprise": 3}]))
        assert next(lines) == "id\r\n"
        assert next(lines) == "1\r\n"
        with pytest.raises(ValueError, match="surprise"):
            next(lines)

    def test_csv_stream_with_explicit_columns_and_no_rows(self):
        assert list(csv_lines(iter([]), columns=["id", "name"])) == ["id,name\r\n"]
        assert list(csv_lines(iter([]))) == []

    def test_unknown_export_format(self):
        with pytest.raises(ApplicationError, match="Unknown export format 'xml'; use one of: csv, jsonl"):
            streaming_export_response(iter([]), fmt="xml")

    def test_export_filename_is_sanitised(self):
        response = streaming_export_response(iter([{"a": 1}]), fmt="csv", filename_stem='x";\r\nSet-Cookie: y')
        assert response["Content-Disposition"] == 'attachment; filename="xSet-Cookiey.csv"'


@pytest.mark.django_db
def test_queryset_rows_stream_model_rows():
    outlet = Outlet.objects.create(name="BBC", slug="bbc")
    for i in range(5):
        Article.objects.create(outlet=outlet, title=f"t{i}", text="x", content_hash=f"h{i}")
    rows = queryset_rows(
        Article.objects.select_related("outlet").order_by("id"),
        lambda a: model_row(a, ["id", "title", "outlet__slug"]),
        chunk_size=2,
    )
    lines = [json.loads(line) for line in streamed(jsonl_streaming_response(rows)).decode().splitlines()]
    assert [row["title"] for row in lines] == [f"t{i}" for i in range(5)]
    assert {row["outlet.slug"] for row in lines} == {"bbc"}
