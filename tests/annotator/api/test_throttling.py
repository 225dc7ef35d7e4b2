"""Rate limits: the per-user `expensive` API scope (429 past the rate) and the HTML login lockout."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import path
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from annotator.api.throttling import ExpensiveThrottleMixin, parse_rate
from annotator.common.login import login_failures

pytestmark = pytest.mark.django_db


class ExpensiveProbeApi(ExpensiveThrottleMixin, APIView):
    def get(self, request):
        return Response({"ok": True})


urlpatterns = [path("expensive/", ExpensiveProbeApi.as_view())]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def tiny_expensive_rate(settings):
    """Three requests a minute. DRF's SimpleRateThrottle freezes THROTTLE_RATES on the class at import time;
    our throttle reads the live settings, which is what makes this override work."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "expensive": "3/min"},
    }


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.urls(__name__)
def test_expensive_scope_answers_429_past_the_rate(tiny_expensive_rate, django_user_model):
    alice = django_user_model.objects.create_user("alice")
    client = client_for(alice)
    assert [client.get("/expensive/").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/expensive/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["detail"].startswith("Request was throttled.")
    assert response.json()["errors"] == {}
    # Per user: someone else still has their full allowance.
    bob = django_user_model.objects.create_user("bob")
    assert client_for(bob).get("/expensive/").status_code == 200


@pytest.mark.urls(__name__)
def test_a_changed_rate_applies_without_restart(settings, django_user_model):
    client = client_for(django_user_model.objects.create_user("alice"))
    for rate, allowed in [("1/min", 1), ("2/min", 2)]:
        cache.clear()
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "expensive": rate},
        }
        codes = [client.get("/expensive/").status_code for _ in range(allowed + 1)]
        assert codes == [200] * allowed + [429], rate


@pytest.mark.urls(__name__)
def test_missing_scope_rate_is_a_configuration_error(settings, django_user_model):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    with pytest.raises(ImproperlyConfigured, match="No throttle rate for scope 'expensive'"):
        client_for(django_user_model.objects.create_user("alice")).get("/expensive/")


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("120/min", (120, 60)), ("10/15min", (10, 900)), ("5/s", (5, 1)), ("2/2h", (2, 7200)), (None, (None, None))],
)
def test_parse_rate(rate, expected):
    assert parse_rate(rate) == expected


@pytest.mark.parametrize("rate", ["ten/min", "10/fortnight", "10", "10/-5m"])
def test_parse_rate_rejects_nonsense(rate):
    with pytest.raises(ImproperlyConfigured, match="Invalid rate"):
        parse_rate(rate)


# --- login lockout ---------------------------------------------------------------------------------

LOGIN_URL = "/accounts/login/"


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", password="right-password-1")


def attempt(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_login_locks_after_ten_failures_even_for_the_right_password(carol):
    client = Client()
    for _ in range(10):
        response = attempt(client, "carol", "wrong")
        assert response.status_code == 200
        assert "didn't match" in response.content.decode()
    response = attempt(client, "carol", "right-password-1")
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed login attempts" in html and "Try again in 15 minutes" in html
    assert "didn't match" not in html
    assert "_auth_user_id" not in client.session
    # Another address, or another username from the same address, is not locked out.
    assert attempt(Client(), "carol", "right-password-1", ip="10.0.0.2").status_code == 302
    assert attempt(client, "dave", "wrong").status_code == 200


def test_lock_is_per_username_case_insensitively(carol):
    client = Client()
    for i in range(10):
        attempt(client, "Carol" if i % 2 else "carol", "wrong")
    assert attempt(client, "CAROL", "right-password-1").status_code == 429


def test_lock_ends_with_the_window(carol, settings):
    settings.LOGIN_FAILURE_RATE = "2/4s"
    client = Client()
    attempt(client, "carol", "wrong")
    attempt(client, "carol", "wrong")
    assert attempt(client, "carol", "right-password-1").status_code == 429
    import time

    time.sleep(login_failures(username="carol", ip="10.0.0.1")[1] + 0.2)
    assert attempt(client, "carol", "right-password-1").status_code == 302


def test_success_clears_the_count(carol):
    client = Client()
    for _ in range(9):
        attempt(client, "carol", "wrong")
    assert login_failures(username="carol", ip="10.0.0.1")[0] == 9
    assert attempt(client, "carol", "right-password-1").status_code == 302
    assert login_failures(username="carol", ip="10.0.0.1")[0] == 0
