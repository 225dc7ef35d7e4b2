"""Hostile input: markup in texts and notes stays inert, oversized bodies and zip bombs fail cleanly, SQL-ish filter
values never crash or leak, CSRF guards every state-changing URL, other projects' ids are 404.

Cases already covered elsewhere (and not repeated here) are listed in docs/deploy.md, "Security checks".
"""

from __future__ import annotations

import gzip
import json
import os
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from annotator.annotations.models import Span
from annotator.annotations.services import span_create
from annotator.common.models import JobStatus
from annotator.corpus import tasks as corpus_tasks
from annotator.corpus.models import Article, ImportBatch
from annotator.projects.models import Label
from annotator.training.models import LexiconTerm, ModelVersion
from tests.annotator.projects.factories import PASSWORD, make_article, make_outlet, make_project, make_user
from tests.conftest import browser_login, client_login

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Each piece would run script if it reached the DOM as markup.
HOSTILE = (
    'The regime said <script>window.__xss = "script"</script> and '
    '<img src=x onerror="window.__xss = \'img\'"> then </textarea><svg onload="window.__xss=1"> fled.'
)
RAW_MARKERS = ("<script>window.__xss", "<img src=x", "<svg onload")
SECRET_TITLE = "Other project secret title 7f3a"


def assert_inert(html: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in html, f"{where}: unescaped {marker!r}"


@pytest.fixture
def hostile_world(db):
    owner, annotator = make_user(), make_user()
    outlet = make_outlet('Evil <b onmouseover="x()">Outlet</b>')
    article = make_article(text=HOSTILE, title='<script>window.__xss="title"</script>', outlet=outlet)
    project = make_project(owner=owner, articles=[article], annotators=[annotator])
    label = Label.objects.get(project=project, name="loaded term")
    start = HOSTILE.index("regime")
    span_create(
        project=project, article=article.pk, user=annotator, label_id=label.pk, start_char=start,
        end_char=start + len("regime"), text="regime", note='<img src=x onerror="window.__xss=\'note\'">',
    )  # fmt: skip
    version = ModelVersion.objects.create(project=project, number=1, status=JobStatus.SUCCEEDED, is_active=True)
    LexiconTerm.objects.create(model_version=version, term="regime", label=label, weight=2.0, support=1, n_seen=1)
    LexiconTerm.objects.create(
        model_version=version, term='<svg onload="window.__xss=1">', label=label, weight=1.0, support=1, n_seen=1
    )
    other = make_project(articles=[make_article(text="Nothing to see.", title=SECRET_TITLE)])
    return {"owner": owner, "annotator": annotator, "project": project, "article": article, "other": other}


# --- markup stays text -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_page_showing_texts_notes_or_terms_escapes_them(hostile_world):
    project, article = hostile_world["project"], hostile_world["article"]
    owner, annotator = client_login(hostile_world["owner"]), client_login(hostile_world["annotator"])
    pages = {
        "project": (owner, reverse("ui:project", args=[project.slug])),
        "annotate (annotator)": (annotator, reverse("ui:annotate", args=[project.slug, article.pk])),
        "annotate (owner)": (owner, reverse("ui:annotate", args=[project.slug, article.pk])),
        "curate list": (owner, reverse("ui:curate-list", args=[project.slug])),
        "curate": (owner, reverse("ui:curate", args=[project.slug, article.pk])),
        "lexicon": (owner, reverse("ui:lexicon", args=[project.slug])),
        "scores": (owner, reverse("ui:scores", args=[project.slug])),
        "assignments": (owner, reverse("ui:assignments", args=[project.slug])),
    }
    for name, (client, url) in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        assert_inert(response.content.decode(), name)
    # The hostile text did reach the pages that show it, escaped: the test would see raw markup if it leaked.
    curate = owner.get(reverse("ui:curate", args=[project.slug, article.pk])).content.decode()
    assert "&lt;script&gt;window.__xss" in curate or "&lt;img src=x" in curate
    lexicon = owner.get(reverse("ui:lexicon", args=[project.slug])).content.decode()
    assert "&lt;svg onload=" in lexicon


@pytest.mark.django_db
def test_kwic_and_article_api_return_the_text_as_json_data(hostile_world):
    """The JSON carries the exact text (the browser escapes it when drawing); its content type is not HTML."""
    project = hostile_world["project"]
    owner = client_login(hostile_world["owner"])
    response = owner.get(f"/api/v1/projects/{project.slug}/examples/", {"term": "regime", "width": 200})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    rows = response.json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert rows and "<script>" in rows[0]["left"] + rows[0]["right"]


@pytest.mark.browser
def test_lexicon_kwic_and_annotator_page_do_not_run_injected_markup(page, live_server, transactional_db):
    owner, annotator = make_user(), make_user()
    article = make_article(text=HOSTILE, title="<img src=x onerror=\"window.__xss='title'\">")
    project = make_project(owner=owner, articles=[article], annotators=[annotator])
    label = Label.objects.get(project=project, name="loaded term")
    version = ModelVersion.objects.create(project=project, number=1, status=JobStatus.SUCCEEDED, is_active=True)
    LexiconTerm.objects.create(model_version=version, term="regime", label=label, weight=2.0, support=1, n_seen=1)
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)

    browser_login(page, live_server, owner.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.slug}/lexicon/")
    row = page.locator(".lexicon-label[data-label='loaded term'] tbody tr[data-term='regime']")
    row.locator("button.kwic").click()
    page.wait_for_selector("[data-testid=example-list] li")
    examples = page.locator("[data-testid=example-list]")
    assert "<script>" in examples.text_content() and "<img src=x" in examples.text_content()
    assert examples.locator("img, script, svg").count() == 0
    assert page.evaluate("window.__xss") is None

    page.goto(f"{live_server.url}/projects/{project.slug}/articles/{article.pk}/")
    page.wait_for_selector("text=fled.")
    assert page.locator("main img[src=x], main svg[onload]").count() == 0
    assert page.evaluate("window.__xss") is None
    assert not violations, violations  # the page itself needs nothing the policy forbids


# --- oversized and compressed input ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_json_body_over_the_10_mib_limit_is_refused_with_the_api_error_body(hostile_world, settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 10 * 1024 * 1024  # the shipped limit, not a test-sized one
    project, article = hostile_world["project"], hostile_world["article"]
    label = Label.objects.get(project=project, name="loaded term")
    before = Span.objects.count()
    note = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)
    body = {"label": label.pk, "start_char": 4, "end_char": 10, "text": "regime", "note": note}
    url = reverse("api:span-create", args=[project.slug, article.pk])
    client = client_login(hostile_world["annotator"])
    client.raise_request_exception = False  # as in production: Django refuses the body (RequestDataTooBig)
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 413, response.status_code
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The request body is larger than the limit of 10,485,760 bytes; send less per request.",
        "errors": {"limit": 10_485_760, "setting": "DATA_UPLOAD_MAX_MEMORY_SIZE"},
    }
    assert Span.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [100_000, 200])
def test_deeply_nested_json_is_a_400_that_says_so(hostile_world, depth):
    """Issue 17, point 7: 100,000 levels of nesting was a RecursionError and a 500."""
    project, article = hostile_world["project"], hostile_world["article"]
    client = client_login(hostile_world["annotator"])
    client.raise_request_exception = False
    before = Span.objects.count()
    urls = [
        reverse("api:span-create", args=[project.slug, article.pk]),
        reverse("api:label-list", args=[project.slug]),
        reverse("api:assignment-status-update", args=[project.slug, article.pk]),
    ]
    for body in ("[" * depth + "]" * depth, '{"provenance": ' + '{"a": ' * depth + "1" + "}" * (depth + 1)):
        for url in urls:
            response = client.post(url, body, content_type="application/json")
            assert response.status_code == 400, (url, response.status_code, response.content[:200])
            assert "nested too deeply" in response.json()["detail"], response.json()
    assert Span.objects.count() == before


@pytest.mark.django_db
def test_gz_bomb_uploaded_through_the_admin_fails_with_a_message_and_writes_nothing(
    settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_MAX_DECOMPRESSED_BYTES = 64 * 1024
    row = json.dumps({"outlet": "Bomb Gazette", "title": "t", "text": "a" * 500}) + "\n"
    bomb = gzip.compress((row * 2000).encode(), compresslevel=9)  # ~1 MB inflated, a few KB on the wire
    assert len(bomb) < settings.IMPORT_MAX_DECOMPRESSED_BYTES
    staff = make_user()
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client = client_login(staff)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("admin:corpus_importbatch_upload"), {"file": SimpleUploadedFile("bomb.jsonl.gz", bomb)}
        )
    assert response.status_code == 302 and len(callbacks) == 1
    batch = ImportBatch.objects.get()
    corpus_tasks.import_batch_task.apply(args=[batch.pk])  # the task body, as the worker runs it
    batch.refresh_from_db()
    assert batch.status == JobStatus.FAILED
    assert "decompress" in batch.error_message.lower(), batch.error_message
    assert not Article.objects.filter(outlet__name="Bomb Gazette").exists()


# --- filters, ids and CSRF -------------------------------------------------------------------------------------

SQLISH = ["' OR 1=1 --", "';DROP TABLE corpus_article;--", "1 UNION SELECT password FROM auth_user", "%", "\\x00"]
FILTER_NAMES = ["outlet", "q", "label", "source", "search", "status", "term", "layer", "ordering", "cursor", "fields"]


def api_get_urls(project_slug: str, ids: dict[str, int]) -> list[str]:
    """Every GET-able /api/v1/ route of the URL conf, filled with ids of the hostile world."""
    urls = []
    for pattern in get_resolver("annotator.api.urls").url_patterns:
        route = str(pattern.pattern)
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if any(name not in ids and name != "slug" for name in names):
            continue
        kwargs = {name: (project_slug if name == "slug" else ids[name]) for name in names}
        urls.append(reverse(f"api:{pattern.name}", kwargs=kwargs))
    return urls


@pytest.mark.django_db
def test_sql_ish_filter_values_never_crash_or_leak(hostile_world):
    project, article = hostile_world["project"], hostile_world["article"]
    client = client_login(hostile_world["annotator"])
    ids = {"article_id": article.pk, "number": 1, "span_id": Span.objects.filter(project=project).first().pk}
    urls = api_get_urls(project.slug, ids) + ["/api/v1/articles/", "/api/v1/outlets/", "/api/v1/projects/"]
    assert len(urls) >= 15
    for url in urls:
        for value in SQLISH:
            response = client.get(url, {name: value for name in FILTER_NAMES})
            assert response.status_code in (200, 400, 403, 404, 405), (url, value, response.status_code)
            assert SECRET_TITLE not in response.content.decode(errors="replace"), (url, value)
    assert Article.objects.filter(title=SECRET_TITLE).exists()  # nothing dropped


@pytest.mark.django_db
def test_an_annotator_gets_404_for_other_projects_ids_on_pages_too(hostile_world):
    project, other = hostile_world["project"], hostile_world["other"]
    foreign_article = other.articles.first()
    client = client_login(hostile_world["annotator"])
    assert client.get(reverse("ui:project", args=[other.slug])).status_code == 404
    assert client.get(reverse("ui:annotate", args=[other.slug, foreign_article.pk])).status_code == 404
    # A foreign article through one's own project is not found either.
    assert client.get(reverse("ui:annotate", args=[project.slug, foreign_article.pk])).status_code == 404
    response = client.get(f"/api/v1/projects/{project.slug}/articles/{foreign_article.pk}/")
    assert response.status_code == 404 and SECRET_TITLE not in response.content.decode()


def all_url_patterns(resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""):
    """(namespaced name, regex named groups) of every named route in the URL conf."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from all_url_patterns(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", list(pattern.pattern.regex.groupindex)


# DRF views rendered by a template: the 403 page shows no detail text (they have no write method anyway).
GET_ONLY_HTML = {"swagger-ui"}
SAMPLE_KWARGS = {"slug": "x", "app_label": "corpus", "model": "article", "content_type_id": "1", "object_id": "1"}


@pytest.mark.django_db
def test_every_state_changing_url_refuses_a_post_without_csrf_token(hostile_world):
    """Walk the whole URL conf: a logged-in session without the CSRF token is refused (403) everywhere."""
    staff = hostile_world["owner"]
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client = client_login(staff, enforce_csrf_checks=True)
    checked, skipped = [], []
    for name, groups in all_url_patterns():
        kwargs = {group: SAMPLE_KWARGS.get(group, 1) for group in groups}
        try:
            url = reverse(name, kwargs=kwargs)
        except Exception:  # noqa: BLE001 - a route whose sample kwargs do not fit its regex
            skipped.append(name)
            continue
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(url, data="{}", content_type="application/json")
            assert response.status_code == 403, (name, method, url, response.status_code)
            if name not in GET_ONLY_HTML:
                assert b"CSRF" in response.content, (name, method, url, response.content[:200])
        checked.append(name)
    assert "login" in checked and "logout" in checked and "ui:token-revoke" in checked
    assert {"api:span-create", "api:span-update", "api:span-delete", "api:model-version-train"} <= set(checked)
    assert len(checked) >= 60 and len(skipped) < len(checked) / 4, (len(checked), skipped)

    # The same requests with the token are not refused for CSRF (the check above is about CSRF, not roles).
    client.get(reverse("ui:tokens"))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("ui:token-revoke", args=[10**9]), {"csrfmiddlewaretoken": token})
    assert b"CSRF" not in response.content
