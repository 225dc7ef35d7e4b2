"""Rate limits: the per-user `expensive` API scope (429 past the rate) and the HTML login lockout."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import path
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from annotator.api.throttling import ExpensiveThrottleMixin

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


EXPENSIVE_ENDPOINTS = [
    ("get", "framing-scores/compare/?label=loaded%20term&source=gold"),
    ("get", "examples/?term=regime"),
    ("get", "distinctive-terms/?outlet=x"),
    ("get", "term-choice/?concept=x"),
    ("post", "models/train/"),
    ("post", "score/"),
    ("get", "annotations/export/"),
]


def test_the_expensive_endpoints_share_one_budget(tiny_expensive_rate, settings, django_user_model):
    """Issue 17, point 8: only the export was throttled; comparison, examples, distinctive terms, term choice,
    training start and scoring start now draw on the same per-user `expensive` budget."""
    from tests.annotator.projects.factories import make_project

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "expensive": "7/min"},
    }
    owner = django_user_model.objects.create_user("owner-x")
    project = make_project(owner=owner)
    client = client_for(owner)
    base = f"/api/v1/projects/{project.slug}/"
    for method, endpoint in EXPENSIVE_ENDPOINTS:
        response = getattr(client, method)(base + endpoint)
        assert response.status_code != 429, (endpoint, response.status_code)
    for method, endpoint in EXPENSIVE_ENDPOINTS:
        response = getattr(client, method)(base + endpoint)
        assert response.status_code == 429, (endpoint, response.status_code)
    # cheap reads are not in the budget
    assert client.get(base + "labels/").status_code == 200


# --- login lockout (django-axes; annotator/common/login.py) -----------------------------------------------------

LOGIN_URL = "/accounts/login/"
ADMIN_LOGIN_URL = "/admin/login/"


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", password="right-password-1", is_staff=True)


def attempt(client: Client, username: str, password: str, ip: str = "10.0.0.1", url: str = LOGIN_URL, **meta):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip, **meta)


def logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.wsgi_request.session


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
    assert logged_in(attempt(Client(), "carol", "right-password-1", ip="10.0.0.2"))
    assert attempt(client, "dave", "wrong").status_code == 200


def test_the_admin_login_is_locked_too(carol):
    """Issue 17, point 3: /admin/login/ was Django's own view without the lockout (15 failures, then in)."""
    client = Client()
    for _ in range(15):
        assert attempt(client, "carol", "wrong", url=ADMIN_LOGIN_URL).status_code in (200, 429)
    response = attempt(client, "carol", "right-password-1", url=ADMIN_LOGIN_URL)
    assert response.status_code == 429 and "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # failures on one path count on the other: the counters are the client's, not the page's
    assert attempt(Client(), "carol", "right-password-1").status_code == 429


def test_lock_is_per_username_case_insensitively(carol):
    client = Client()
    for i in range(10):
        attempt(client, "Carol" if i % 2 else "carol", "wrong")
    assert attempt(client, "CAROL", "right-password-1").status_code == 429


def test_one_address_trying_many_usernames_is_limited(carol, settings):
    """Issue 17, point 4: one password tried across many usernames was never limited."""
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    client = Client()
    for i in range(12):
        assert attempt(client, f"user{i}", "Winter2024!").status_code in (200, 429)
    assert attempt(client, "carol", "right-password-1").status_code == 429
    assert logged_in(attempt(Client(), "carol", "right-password-1", ip="10.0.0.7"))


def test_behind_a_proxy_the_forwarded_client_address_is_counted(carol, settings):
    """Issue 17, point 4: behind the TLS proxy every client had the proxy's address, so anyone could lock anyone
    out. With BEHIND_PROXY the address the proxy appended to X-Forwarded-For is counted; what a client wrote
    further left is ignored."""
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = 0  # PROXY_HOPS=1
    proxy = "10.9.9.9"
    attacker = Client()
    for i in range(10):
        # the attacker rotates a forged left-hand entry; the proxy appends their real address
        attempt(attacker, "carol", "wrong", ip=proxy, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}, 203.0.113.66")
    assert (
        attempt(attacker, "carol", "right-password-1", ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.66").status_code == 429
    )
    # carol herself, through the same proxy from her own address, is not locked out
    assert logged_in(attempt(Client(), "carol", "right-password-1", ip=proxy, HTTP_X_FORWARDED_FOR="192.0.2.10"))


def test_lock_ends_with_the_cooloff(carol, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(seconds=2)
    client = Client()
    attempt(client, "carol", "wrong")
    attempt(client, "carol", "wrong")
    assert attempt(client, "carol", "right-password-1").status_code == 429
    time.sleep(2.5)
    assert logged_in(attempt(client, "carol", "right-password-1"))


def test_success_clears_the_username_count_not_the_address_count(carol, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 14
    client = Client()
    for _ in range(9):
        attempt(client, "carol", "wrong")
    assert logged_in(attempt(client, "carol", "right-password-1"))
    for _ in range(5):  # carol's own counter was cleared: these are 1-5 of her 10...
        assert attempt(Client(), "carol", "wrong").status_code == 200
    # ...but the address has 14 failures now, its limit: a login succeeding would have reset an attacker's count
    assert attempt(Client(), "carol", "right-password-1").status_code == 429


@pytest.mark.parametrize("password", ["password123", "12345678901", "qwertyuiop"])
def test_common_and_numeric_passwords_are_refused(password, django_user_model):
    """Issue 17, point 9: Django's CommonPasswordValidator and NumericPasswordValidator are on."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password(password, user=django_user_model(username="erin"))
    validate_password("a fine long passphrase 7", user=django_user_model(username="erin"))
