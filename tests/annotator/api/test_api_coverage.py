"""The REST API covers the product: every area (outlets, articles, projects, codebook, annotations per layer,
assignments, agreement, model versions and lexicons, framing scores and comparisons, import batches) has a route in
the OpenAPI schema, the writes the web UI makes have routes too, and every list endpoint answers both JSON and tidy
CSV (`?format=csv`) for an admin who is a project member.

When this fails, the message names the missing area or the endpoint that did not answer.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from annotator.annotations.models import Adjudication, Layer, Span
from annotator.api.services import api_token_create
from annotator.corpus.models import ImportBatch
from annotator.projects.models import Assignment, Label, Role
from annotator.projects.services import membership_add
from annotator.scoring.services import human_scores_refresh_stale
from annotator.training.models import LexiconTerm, ModelVersion, TermRule
from tests.annotator.projects.factories import make_article, make_outlet, make_project, make_suggestions, make_user

pytestmark = pytest.mark.django_db

P = r"/api/v1/projects/\{slug\}"
# Area -> (method, path pattern) pairs that must all be in the schema.
PRODUCT_ROUTES: dict[str, list[tuple[str, str]]] = {
    "outlets": [("get", r"/api/v1/outlets/"), ("get", r"/api/v1/outlets/\{slug\}/")],
    "articles": [("get", r"/api/v1/articles/"), ("get", r"/api/v1/articles/\{article_id\}/")],
    "projects": [("get", r"/api/v1/projects/"), ("get", P + "/")],
    "codebook labels": [("get", P + "/labels/")],
    "codebook questions and attributes": [("get", P + "/questions/"), ("get", P + r"/questions/\{question_id\}/")],
    "answers and their curation": [
        ("get", P + r"/articles/\{article_id\}/answers/"),
        ("get", P + r"/curate/articles/\{article_id\}/answers/"),
    ],
    "codebook as a shareable document": [("get", P + "/codebook/")],
    "codebook versions with changelog": [
        ("get", P + "/codebook/versions/"),
        ("get", P + r"/codebook/versions/\{number\}/"),
    ],
    "annotations per layer": [("get", P + "/annotations/"), ("get", P + "/annotations/export/")],
    "assignments and progress": [("get", P + "/queue/"), ("get", P + "/assignments/")],
    "agreement": [("get", P + "/agreement/"), ("get", P + "/agreement/table/")],
    "model versions with metrics": [("get", P + "/models/"), ("get", P + r"/models/\{number\}/")],
    "lexicons": [("get", P + r"/models/\{number\}/terms/")],
    "framing scores": [("get", P + "/framing-scores/")],
    "comparisons": [("get", P + "/framing-scores/compare/")],
    "import batches with error reports": [
        ("get", r"/api/v1/import-batches/"),
        ("get", r"/api/v1/import-batches/\{batch_id\}/"),
        ("get", r"/api/v1/import-batches/\{batch_id\}/errors/"),
    ],
}
# The writes the web pages make (annotate, mark done, curate, train, activate, pin/ban, score, upload a corpus).
UI_WRITES: dict[str, tuple[str, str]] = {
    "start a project": ("post", r"/api/v1/projects/"),
    "draw a span": ("post", P + r"/articles/\{article_id\}/spans/create/"),
    "answer a codebook question": ("post", P + r"/articles/\{article_id\}/answers/set/"),
    "set a gold answer": ("post", P + r"/curate/articles/\{article_id\}/answers/gold/"),
    "accept the agreed answers": ("post", P + "/curate/answers/bulk-accept/"),
    "edit a span": ("patch|put|post", P + r"/spans/\{span_id\}/update/"),
    "delete a span": ("delete|post", P + r"/spans/\{span_id\}/delete/"),
    "mark an article done/skipped": ("post", P + r"/articles/\{article_id\}/status/"),
    "generate assignments": ("post", P + "/assignments/generate/"),
    "accept a span into gold": ("post", P + r"/curate/spans/\{span_id\}/accept/"),
    "reject a span": ("post", P + r"/curate/spans/\{span_id\}/reject/"),
    "draw a gold span": ("post", P + r"/curate/articles/\{article_id\}/gold/"),
    "adjudicate an article": ("post", P + r"/curate/articles/\{article_id\}/adjudication/"),
    "recompute agreement": ("post", P + "/agreement/"),
    "train a model": ("post", P + "/models/train/"),
    "activate a model version": ("post", P + r"/models/\{number\}/activate/"),
    "pin or ban a term": ("post", P + "/term-rules/create/"),
    "start scoring": ("post", P + "/score/"),
    "add a concept": ("post", P + "/concepts/create/"),
    "upload a corpus": ("post", r"/api/v1/import-batches/create/"),
    "preview a corpus file": ("post", r"/api/v1/import-batches/preview/"),
}
ARTICLE_FILTERS = {"outlet", "project", "published_after", "published_before", "q", "cluster", "is_wire_copy"}


@pytest.fixture
def schema() -> dict:
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def has_route(schema: dict, methods: str, pattern: str) -> bool:
    regex = re.compile(f"^{pattern}$")
    return any(
        regex.match(path) and any(method in item for method in methods.split("|"))
        for path, item in schema["paths"].items()
    )


def test_every_product_area_has_a_route(schema):
    missing = [
        f"{area}: {method.upper()} {pattern}"
        for area, routes in PRODUCT_ROUTES.items()
        for method, pattern in routes
        if not has_route(schema, method, pattern)
    ]
    assert not missing, "areas without a route in the schema:\n" + "\n".join(missing)


def test_the_ui_writes_have_routes(schema):
    missing = [f"{what}: {m.upper()} {p}" for what, (m, p) in UI_WRITES.items() if not has_route(schema, m, p)]
    assert not missing, "UI writes without an API route:\n" + "\n".join(missing)


def test_articles_document_their_filters_and_annotations_their_layers(schema):
    params = {p["name"]: p for p in schema["paths"]["/api/v1/articles/"]["get"]["parameters"]}
    assert ARTICLE_FILTERS <= set(params), f"missing article filters: {ARTICLE_FILTERS - set(params)}"
    assert {"cursor", "page_size", "fields"} <= set(params)
    layer = next(p for p in schema["paths"]["/api/v1/projects/{slug}/annotations/"]["get"]["parameters"]
                 if p["name"] == "layer")  # fmt: skip
    assert {"annotator", "gold", "suggestion"} <= set(layer["schema"]["enum"])


@pytest.fixture
def admin_world() -> dict:
    admin = get_user_model().objects.create_superuser("coverage-admin", password="x-admin-123")
    annotator = make_user()
    outlets = [make_outlet("Alpha"), make_outlet("Beta")]
    articles = [
        make_article(
            text=f"The regime and the rebels met again, story {i}.",
            title=f"Story {i}",
            outlet=outlets[i % 2],
            published_at=datetime(2024, 1 + i, 3, tzinfo=UTC),
        )  # fmt: skip
        for i in range(4)
    ]
    project = make_project(owner=admin, articles=articles, annotators=[annotator])
    label = Label.objects.get(project=project, name="loaded term")
    for article in articles:
        start = article.text.index("regime")
        Span.objects.create(project=project, article=article, layer=Layer.GOLD, label=label,
                            start_char=start, end_char=start + 6, text="regime")  # fmt: skip
        Adjudication.objects.create(project=project, article=article, status=Adjudication.Status.DONE, curator=admin)
        Assignment.objects.create(project=project, article=article, annotator=annotator, position=article.pk)
    version = ModelVersion.objects.create(
        project=project, number=1, status="succeeded", metrics={"exact": {}}, is_active=True
    )
    start = articles[0].text.index("rebels")
    Span.objects.create(project=project, article=articles[0], layer=Layer.ANNOTATOR, label=label, annotator=annotator,
                        start_char=start, end_char=start + 6, text="rebels")  # fmt: skip
    make_suggestions(version=version, article=articles[0], spans=[(start, start + 6, label, 0.8)])
    LexiconTerm.objects.create(model_version=version, term="regime", label=label, weight=2.5, support=4, n_seen=4)
    TermRule.objects.create(project=project, term="rebels", label=label, action=TermRule.Action.BAN)
    batch = ImportBatch.objects.create(
        source_name="c.jsonl", format="jsonl", user=admin, errors=[{"source": "c.jsonl", "line": 3, "message": "bad"}]
    )
    membership_add(project=project, user=make_user(), role=Role.VIEWER, by=admin)
    api_token_create(user=admin, name="coverage")
    human_scores_refresh_stale(project=project)  # what the worker runs after the spans above
    client = Client()
    client.force_login(admin)
    return {"client": client, "project": project, "batch": batch, "outlets": outlets}


def list_urls(w: dict) -> dict[str, str]:
    s = w["project"].slug
    p = f"/api/v1/projects/{s}"
    a, b = w["outlets"][0].slug, w["outlets"][1].slug
    return {
        "outlets": "/api/v1/outlets/",
        "articles": "/api/v1/articles/?fields=id,title,outlet",
        "projects": "/api/v1/projects/",
        "labels": f"{p}/labels/",
        "codebook versions": f"{p}/codebook/versions/",
        "annotations (gold)": f"{p}/annotations/?layer=gold",
        "annotations (annotator)": f"{p}/annotations/?layer=annotator",
        "annotations (suggestion)": f"{p}/annotations/?layer=suggestion",
        "assignment progress": f"{p}/assignments/",
        "curation articles": f"{p}/curate/articles/",
        "model versions": f"{p}/models/",
        "lexicon terms": f"{p}/models/1/terms/",
        "term rules": f"{p}/term-rules/",
        "framing scores": f"{p}/framing-scores/?label=loaded%20term&source=gold",
        "comparison": f"{p}/framing-scores/compare/?label=loaded%20term&source=gold&a={a}&b={b}",
        "comparison table": f"{p}/framing-scores/compare/?label=loaded%20term&source=gold",
        "import batches": "/api/v1/import-batches/",
        "import errors": f"/api/v1/import-batches/{w['batch'].pk}/errors/",
        "tokens": "/api/v1/tokens/",
    }


def test_every_list_endpoint_answers_json_and_csv(admin_world):
    client = admin_world["client"]
    problems = []
    for name, url in list_urls(admin_world).items():
        joiner = "&" if "?" in url else "?"
        as_json = client.get(url)
        if as_json.status_code != 200 or not as_json["Content-Type"].startswith("application/json"):
            problems.append(f"{name} {url} JSON: {as_json.status_code} {as_json.content[:200]!r}")
            continue
        body = as_json.json()
        rows = body["results"] if isinstance(body, dict) and "results" in body else body
        if not isinstance(rows, list) or not rows:
            problems.append(f"{name} {url} JSON: expected a non-empty list, got {str(body)[:200]}")
        as_csv = client.get(f"{url}{joiner}format=csv")
        text = as_csv.content.decode() if as_csv.status_code == 200 else ""
        table = list(csv.reader(io.StringIO(text)))
        if not as_csv["Content-Type"].startswith("text/csv") or len(table) < 2 or len(table) - 1 != len(rows or []):
            problems.append(f"{name} {url} CSV: {as_csv.status_code} {as_csv['Content-Type']} {text[:200]!r}")
    assert not problems, "list endpoints that do not answer JSON and CSV:\n" + "\n".join(problems)


def test_agreement_answers_for_the_admin(admin_world):
    response = admin_world["client"].get(f"/api/v1/projects/{admin_world['project'].slug}/agreement/")
    assert response.status_code in (200, 202) and "job_id" in response.json()
