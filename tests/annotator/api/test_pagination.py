"""Cursor pagination by id: the default for list endpoints; page_size and ordering checked, bad values explained."""

import pytest
from django.urls import path
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient

from annotator.api.models import ApiToken
from annotator.api.pagination import IdCursorPagination
from annotator.corpus.models import Outlet

pytestmark = pytest.mark.django_db
TOKENS_URL = "/api/v1/tokens/"


class OutletListView(generics.ListAPIView):
    """A GenericAPIView with no pagination_class of its own: it must get the project default."""

    permission_classes = [AllowAny]
    queryset = Outlet.objects.all()

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Outlet
            fields = ["id", "slug"]

    serializer_class = OutputSerializer


class OldestFirstOutletListView(OutletListView):
    cursor_ordering = "id"


urlpatterns = [
    path("outlets/", OutletListView.as_view()),
    path("outlets-oldest-first/", OldestFirstOutletListView.as_view()),
]


@pytest.fixture
def user_with_tokens(django_user_model):
    user = django_user_model.objects.create_user("alice")
    ApiToken.objects.bulk_create(
        ApiToken(user=user, name=f"t{i}", prefix=f"fs_{i:09d}", key_hash=f"{i:064d}") for i in range(250)
    )
    return user


@pytest.fixture
def client(user_with_tokens):
    client = APIClient()
    client.force_authenticate(user_with_tokens)
    return client


def walk(client, url: str) -> list[list[int]]:
    pages = []
    while url:
        body = client.get(url).json()
        pages.append([row["id"] for row in body["results"]])
        url = body["next"]
    return pages


def test_default_page_size_and_walking_every_page(client, user_with_tokens):
    pages = walk(client, TOKENS_URL)
    assert [len(page) for page in pages] == [100, 100, 50]
    ids = [i for page in pages for i in page]
    assert ids == sorted(ApiToken.objects.filter(user=user_with_tokens).values_list("id", flat=True), reverse=True)


def test_page_size_and_ascending_order(client):
    pages = walk(client, TOKENS_URL + "?page_size=120&ordering=id")
    assert [len(page) for page in pages] == [120, 120, 10]
    ids = [i for page in pages for i in page]
    assert ids == sorted(ids) and len(set(ids)) == 250


def test_previous_link_goes_back(client):
    first = client.get(TOKENS_URL + "?page_size=10").json()
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]


def test_new_rows_do_not_shift_later_pages(client, user_with_tokens):
    first = client.get(TOKENS_URL + "?page_size=10").json()
    ApiToken.objects.create(user=user_with_tokens, name="new", prefix="fs_new", key_hash="f" * 64)
    second = client.get(first["next"]).json()
    assert second["results"][0]["id"] == first["results"][-1]["id"] - 1


@pytest.mark.parametrize("value", ["0", "-1", "1001", "abc", "2.5"])
def test_bad_page_size_is_a_clear_400(client, value):
    response = client.get(TOKENS_URL, {"page_size": value})
    assert response.status_code == 400
    message = response.json()["errors"]["page_size"][0]
    assert "page_size must be a whole number from 1 to 1000" in message and repr(value) in message


def test_max_page_size_is_allowed(client):
    assert len(client.get(TOKENS_URL + "?page_size=1000").json()["results"]) == 250


def test_bad_ordering_is_a_clear_400(client):
    response = client.get(TOKENS_URL + "?ordering=name")
    assert response.status_code == 400
    assert response.json()["errors"]["ordering"] == [
        "ordering must be 'id' (oldest first) or '-id' (newest first), not 'name'."
    ]


def test_tampered_cursor_is_404(client):
    response = client.get(TOKENS_URL + "?cursor=bz1hYmM=")
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor", "errors": {}}


@pytest.mark.urls(__name__)
def test_generic_list_views_get_cursor_pagination_by_default():
    assert OutletListView().paginator.__class__ is IdCursorPagination
    Outlet.objects.bulk_create(Outlet(name=f"o{i}", slug=f"o{i}") for i in range(5))
    client = APIClient()
    body = client.get("/outlets/?page_size=2").json()
    assert set(body) == {"next", "previous", "results"}
    assert [r["slug"] for r in body["results"]] == ["o4", "o3"]
    oldest = client.get("/outlets-oldest-first/?page_size=2").json()
    assert [r["slug"] for r in oldest["results"]] == ["o0", "o1"]


@pytest.mark.urls(__name__)
def test_view_with_invalid_cursor_ordering_fails_loudly():
    class Broken(OutletListView):
        cursor_ordering = "name"

    from rest_framework.test import APIRequestFactory

    with pytest.raises(ValueError, match="cursor_ordering must be one of"):
        Broken.as_view()(APIRequestFactory().get("/outlets/"))
