"""Personal API tokens: services, token authentication, the /api/v1/tokens/ endpoints and the /account/tokens/ page."""

import hashlib
import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from annotator.api.models import ApiToken
from annotator.api.selectors import api_token_list
from annotator.api.services import (
    MAX_ACTIVE_TOKENS_PER_USER,
    TOKEN_NAME_REQUIRED,
    TOKEN_NOT_FOUND,
    api_token_create,
    api_token_revoke,
)
from annotator.api.views.tokens import SESSION_REQUIRED
from annotator.common.errors import ApplicationError

pytestmark = pytest.mark.django_db

TOKENS_URL = "/api/v1/tokens/"


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-pass-123")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-pass-123")


def token_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw_key}")
    return client


def session_client(user, *, csrf: bool = True) -> APIClient:
    client = APIClient(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def csrf_token_for(client) -> str:
    """Fetch a page that sets the CSRF cookie, as a browser would, and return the token."""
    client.get("/account/tokens/")
    return client.cookies["csrftoken"].value


class TestApiTokenCreate:
    def test_returns_raw_key_once_and_stores_only_its_hash(self, alice):
        token, raw_key = api_token_create(user=alice, name="  laptop  ")
        assert re.fullmatch(r"fs_[A-Za-z0-9_-]{43}", raw_key)
        stored = ApiToken.objects.get(pk=token.pk)
        assert stored.name == "laptop"
        assert stored.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
        assert stored.prefix == raw_key[:12]
        assert raw_key not in {stored.key_hash, stored.prefix, stored.name}

    def test_keys_are_unique(self, alice):
        keys = {api_token_create(user=alice, name=f"t{i}")[1] for i in range(5)}
        assert len(keys) == 5

    @pytest.mark.parametrize("name", ["", "   "])
    def test_blank_name_is_refused_and_nothing_is_stored(self, alice, name):
        with pytest.raises(ApplicationError) as excinfo:
            api_token_create(user=alice, name=name)
        assert excinfo.value.message == TOKEN_NAME_REQUIRED
        assert ApiToken.objects.count() == 0

    def test_overlong_name_is_refused(self, alice):
        with pytest.raises(ApplicationError, match="at most 100 characters"):
            api_token_create(user=alice, name="x" * 101)
        assert ApiToken.objects.count() == 0

    def test_active_token_limit(self, alice):
        for i in range(MAX_ACTIVE_TOKENS_PER_USER):
            api_token_create(user=alice, name=f"t{i}")
        with pytest.raises(ApplicationError, match="revoke one"):
            api_token_create(user=alice, name="one too many")
        assert ApiToken.objects.filter(user=alice).count() == MAX_ACTIVE_TOKENS_PER_USER
        api_token_revoke(user=alice, token_id=ApiToken.objects.filter(user=alice).first().pk)
        api_token_create(user=alice, name="fits again")


class TestApiTokenRevoke:
    def test_revoke_takes_effect_on_the_next_request(self, alice):
        token, raw_key = api_token_create(user=alice, name="script")
        client = token_client(raw_key)
        assert client.get(TOKENS_URL).status_code == 200
        api_token_revoke(user=alice, token_id=token.pk)
        response = client.get(TOKENS_URL)
        assert response.status_code == 403
        assert response.json() == {"detail": "Invalid or revoked token.", "errors": {}}

    def test_cannot_revoke_someone_elses_token(self, alice, bob):
        token, raw_key = api_token_create(user=alice, name="script")
        with pytest.raises(ApplicationError) as excinfo:
            api_token_revoke(user=bob, token_id=token.pk)
        assert excinfo.value.message == TOKEN_NOT_FOUND
        assert excinfo.value.status_code == 404
        assert ApiToken.objects.get(pk=token.pk).revoked_at is None
        assert token_client(raw_key).get(TOKENS_URL).status_code == 200

    def test_revoking_twice_keeps_the_first_time(self, alice):
        token, _ = api_token_create(user=alice, name="script")
        first = api_token_revoke(user=alice, token_id=token.pk).revoked_at
        assert api_token_revoke(user=alice, token_id=token.pk).revoked_at == first

    def test_list_shows_only_own_active_tokens(self, alice, bob):
        keep, _ = api_token_create(user=alice, name="keep")
        gone, _ = api_token_create(user=alice, name="gone")
        api_token_create(user=bob, name="bobs")
        api_token_revoke(user=alice, token_id=gone.pk)
        assert list(api_token_list(user=alice)) == [keep]
        assert set(api_token_list(user=alice, include_revoked=True)) == {keep, gone}


class TestTokenAuthentication:
    def test_wrong_and_malformed_keys_are_refused(self, alice):
        api_token_create(user=alice, name="script")
        for header in ["Token fs_wrong", "Token " + "x" * 500, "Token a b"]:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=header)
            assert client.get(TOKENS_URL).status_code == 403, header

    def test_inactive_user_is_refused(self, alice):
        _, raw_key = api_token_create(user=alice, name="script")
        alice.is_active = False
        alice.save()
        assert token_client(raw_key).get(TOKENS_URL).json()["detail"] == "User inactive or deleted."

    def test_last_used_is_recorded(self, alice):
        token, raw_key = api_token_create(user=alice, name="script")
        assert token.last_used_at is None
        token_client(raw_key).get(TOKENS_URL)
        token.refresh_from_db()
        assert token.last_used_at is not None


class TestTokenApi:
    def test_anonymous_is_refused(self):
        assert APIClient().get(TOKENS_URL).status_code == 403
        assert APIClient().post(TOKENS_URL, {"name": "x"}).status_code == 403

    def test_create_with_session_and_csrf_then_use_the_key(self, alice):
        client = session_client(alice)
        response = client.post(TOKENS_URL, {"name": "notebook"}, format="json", HTTP_X_CSRFTOKEN=csrf_token_for(client))
        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) == {"id", "name", "prefix", "created_at", "last_used_at", "key"}
        assert body["key"].startswith(body["prefix"])
        listing = token_client(body["key"]).get(TOKENS_URL).json()
        assert [row["id"] for row in listing["results"]] == [body["id"]]
        assert "key" not in listing["results"][0]
        assert body["key"] not in str(listing)

    def test_create_without_csrf_is_refused(self, alice):
        response = session_client(alice).post(TOKENS_URL, {"name": "notebook"}, format="json")
        assert response.status_code == 403
        assert "CSRF" in response.json()["detail"]
        assert ApiToken.objects.count() == 0

    def test_a_token_cannot_create_or_revoke_tokens(self, alice):
        token, raw_key = api_token_create(user=alice, name="script")
        client = token_client(raw_key)
        response = client.post(TOKENS_URL, {"name": "child"}, format="json")
        assert response.status_code == 403
        assert response.json()["detail"] == SESSION_REQUIRED
        assert client.delete(f"{TOKENS_URL}{token.pk}/").status_code == 403
        assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1

    def test_invalid_name_gives_field_errors(self, alice):
        client = session_client(alice, csrf=False)
        response = client.post(TOKENS_URL, {"name": ""}, format="json")
        assert response.status_code == 400
        assert response.json()["detail"] == "Invalid input."
        assert "name" in response.json()["errors"]
        response = client.post(TOKENS_URL, {"name": "   "}, format="json")
        assert response.status_code == 400
        assert "name" in response.json()["errors"]

    def test_revoke_own_and_not_others(self, alice, bob):
        mine, raw_key = api_token_create(user=alice, name="mine")
        theirs, _ = api_token_create(user=bob, name="theirs")
        client = session_client(alice, csrf=False)
        response = client.delete(f"{TOKENS_URL}{theirs.pk}/")
        assert response.status_code == 404
        assert response.json()["detail"] == TOKEN_NOT_FOUND
        assert client.delete(f"{TOKENS_URL}{mine.pk}/").status_code == 204
        assert token_client(raw_key).get(TOKENS_URL).status_code == 403
        assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None


class TestTokenPage:
    def test_login_required(self):
        response = Client().get("/account/tokens/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_create_shows_key_once_then_revoke(self, alice):
        client = Client(enforce_csrf_checks=True)
        client.force_login(alice)
        csrf = csrf_token_for(client)
        response = client.post("/account/tokens/", {"name": "laptop", "csrfmiddlewaretoken": csrf})
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        html = response.content.decode()
        raw_key = re.search(r'id="new-token-key"[^>]*value="(fs_[^"]+)"', html).group(1)
        token = ApiToken.objects.get(user=alice)
        assert token.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
        assert 'id="copy-token"' in html

        page = client.get("/account/tokens/").content.decode()
        assert raw_key not in page
        assert token.prefix in page and "laptop" in page and "never" in page

        revoke_url = reverse("ui:token-revoke", args=[token.pk])
        assert revoke_url in page
        response = client.post(revoke_url, {"csrfmiddlewaretoken": csrf}, follow=True)
        assert "revoked" in response.content.decode()
        assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
        assert token_client(raw_key).get(TOKENS_URL).status_code == 403

    def test_csrf_is_enforced(self, alice):
        client = Client(enforce_csrf_checks=True)
        client.force_login(alice)
        assert client.post("/account/tokens/", {"name": "laptop"}).status_code == 403
        assert ApiToken.objects.count() == 0

    def test_blank_name_shows_the_error(self, alice):
        client = Client()
        client.force_login(alice)
        response = client.post("/account/tokens/", {"name": " "})
        assert response.status_code == 400
        assert TOKEN_NAME_REQUIRED in response.content.decode()

    def test_cannot_revoke_someone_elses_token_from_the_page(self, alice, bob):
        theirs, _ = api_token_create(user=bob, name="theirs")
        client = Client()
        client.force_login(alice)
        response = client.post(reverse("ui:token-revoke", args=[theirs.pk]), follow=True)
        assert TOKEN_NOT_FOUND in response.content.decode()
        assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None
        assert client.get(reverse("ui:token-revoke", args=[theirs.pk])).status_code == 405
