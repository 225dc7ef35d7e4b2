"""The hostile matrix: every API operation (from the OpenAPI schema) and every page (from the URL configuration) ×
every role × query variants that ask for other layers, annotators, sources and formats.

Each request must answer with the expected status (allowed roles succeed, the others get 401/403/404, pages send
anonymous visitors to the login page) and no response body may carry what that role must not see: another
annotator's name, note, answers or span ids, the gold layer's, other projects' data, or the outlet (name, slug, homepage,
byline, external id) for an annotator of an outlet-blind project. The visibility rule itself lives in
annotator/projects/visibility.py; this test knows nothing of it and checks only what comes out.

A new endpoint or page without an entry in OPERATIONS fails `test_every_operation_and_page_has_an_entry`.
The data is built once for the module; every write runs in a savepoint that is rolled back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, quote_plus, urlencode, urlsplit

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from annotator.annotations.models import Adjudication, Answer, Layer, Span
from annotator.api.services import api_token_create
from annotator.common.models import Job, JobStatus
from annotator.corpus.models import ImportBatch
from annotator.projects.models import Label, Question, QuestionOption, Role
from annotator.projects.services import membership_add, project_update
from annotator.scoring.models import AnswerCount, Concept, PredictedAnswers
from annotator.snapshots.models import Snapshot
from annotator.training.models import LexiconTerm, ModelVersion, TermRule
from ml.codes.evaluation import evaluate_answers
from tests.annotator.api.test_authorization_matrix import span_ids
from tests.annotator.projects.factories import make_article, make_outlet, make_project, make_suggestions, make_user

ROLES = (
    "anonymous", "non-member", "staff", "viewer", "annotator-open", "annotator-blind", "annotator-outlet-blind",
    "curator", "owner",
)  # fmt: skip
MEMBERS = frozenset({"viewer", "annotator-open", "annotator-blind", "annotator-outlet-blind", "curator", "owner"})
ANNOTATING = MEMBERS - {"viewer"}
CURATORS = frozenset({"curator", "owner"})
OWNER = frozenset({"owner"})
SCORE_READERS = MEMBERS - {"annotator-outlet-blind"}
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
EVERYONE = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()
# Who may read another annotator's span (the colleague's) one by one, or list others' spans: an annotator of an open
# project, curators and owners.
SEE_OTHERS = frozenset({"annotator-open", "curator", "owner"})
# Members of a project holding the secret outlet's article, who may learn outlets, and staff.
SEE_SECRET_OUTLET = frozenset({"staff", "viewer", "annotator-open", "annotator-blind", "curator", "owner"})
SEE_SECRET_ARTICLE = SEE_SECRET_OUTLET | {"annotator-outlet-blind"}

OK = {200, 201, 202, 204}
WRITE_OK = OK | {400, 409}  # a write the role may make, refused on the merits of the test's body
PAGE_OK = {200, 302}
REFUSED = {401, 403, 404}
PAGE_REFUSED = {403, 404}

SECRET_OUTLET = "Secret Outlet Times"
SECRET_TERMS = (SECRET_OUTLET, "secret-outlet-times", "Byline Person Q", "sot-ext-1")
COLLEAGUE = "zed-colleague"


# --- the operations --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    allow: frozenset[str]
    query: dict = field(default_factory=dict)
    body: dict | None = None
    variants: tuple[dict, ...] = ()
    page: bool = False
    ok: frozenset[int] | None = None  # what an allowed role gets, where the default does not fit
    refused: frozenset[int] | None = None  # what the other signed-in roles get, where the default does not fit


SCORE = {"label": "loaded term", "source": "model"}
CODES = {"question": "stance", "source": "model"}
SOURCE_VARIANTS = (
    {"source": "gold"},
    {"source": f"annotator:{COLLEAGUE}"},
    {"source": "annotator:{me}"},
    {"source": "annotator:nobody-at-all"},
    {"format": "csv"},
)
LAYER_VARIANTS = (
    {"layer": "annotator"},
    {"layer": "gold"},
    {"layer": "all"},
    {"layer": "suggestion"},
    {"annotator": COLLEAGUE},
    {"annotator": "{me}"},
    {"format": "csv"},
)
EXPORT_VARIANTS = LAYER_VARIANTS + tuple({"format": f} for f in ("native", "doccano", "labelstudio", "conll", "csv"))
P = "/api/v1/projects/{slug}"
SPAN_BODY = {"label": "{label}", "start_char": 0, "end_char": 5, "text": "{first5}"}

OPERATIONS: dict[tuple[str, str], Op] = {
    # corpus
    ("get", "/api/v1/outlets/"): Op(SIGNED_IN, variants=({"format": "csv"},)),
    ("get", "/api/v1/outlets/{outlet}/"): Op(SEE_SECRET_OUTLET),
    ("get", "/api/v1/articles/"): Op(
        SIGNED_IN,
        {"fields": "id,title,text,outlet,outlet_name,url,byline,external_id"},
        variants=({"format": "csv"}, {"format": "jsonl"}, {"q": "Secret"}, {"outlet": "{outlet}"}),
    ),  # fmt: skip
    ("get", "/api/v1/articles/{article_id}/"): Op(SEE_SECRET_ARTICLE),
    ("get", "/api/v1/import-batches/"): Op(SIGNED_IN),
    ("get", "/api/v1/import-batches/{batch_id}/"): Op(frozenset({"staff"})),
    ("get", "/api/v1/import-batches/{batch_id}/errors/"): Op(frozenset({"staff"})),
    # a JSON body to a multipart upload: staff get past the permission, the parser refuses the body
    ("post", "/api/v1/import-batches/create/"): Op(frozenset({"staff"}), body={}, ok=frozenset({415})),
    ("post", "/api/v1/import-batches/preview/"): Op(frozenset({"staff"}), body={}, ok=frozenset({415})),
    ("get", "/api/v1/tokens/"): Op(SIGNED_IN),
    ("post", "/api/v1/tokens/"): Op(SIGNED_IN, body={"name": "matrix"}),
    ("delete", "/api/v1/tokens/{token_id}/"): Op(OWNER),
    # projects, codebook
    ("get", "/api/v1/projects/"): Op(SIGNED_IN),
    ("post", "/api/v1/projects/"): Op(frozenset({"staff"}), body={"name": "matrix study"}),
    ("get", P + "/"): Op(MEMBERS),
    ("patch", P + "/"): Op(OWNER, body={"time_zone": "Europe/Berlin"}),
    ("get", P + "/labels/"): Op(MEMBERS),
    ("post", P + "/labels/"): Op(CURATORS, body={"name": "matrix label"}),
    ("get", P + "/labels/{label_id}/"): Op(MEMBERS),
    ("patch", P + "/labels/{label_id}/"): Op(CURATORS, body={"description": "x"}),
    ("delete", P + "/labels/{label_id}/"): Op(CURATORS),
    ("get", P + "/codebook/versions/"): Op(MEMBERS),
    ("get", P + "/codebook/versions/{version}/"): Op(MEMBERS),
    ("get", P + "/codebook/"): Op(MEMBERS),
    ("get", P + "/questions/"): Op(MEMBERS),
    ("post", P + "/questions/"): Op(CURATORS, body={"name": "frame", "prompt": "Primary frame?", "kind": "single"}),
    ("post", P + "/questions/reorder/"): Op(CURATORS, body={"order": ["{question_id}"]}),
    ("get", P + "/questions/{question_id}/"): Op(MEMBERS),
    ("patch", P + "/questions/{question_id}/"): Op(CURATORS, body={"prompt": "Which frame?"}),
    ("delete", P + "/questions/{question_id}/"): Op(CURATORS),
    ("get", P + "/queue/"): Op(MEMBERS),
    # annotation
    ("get", P + "/articles/{article_id}/"): Op(MEMBERS),
    ("post", P + "/articles/{article_id}/status/"): Op(ANNOTATING, body={"status": "done"}),
    ("get", P + "/articles/{article_id}/spans/"): Op(MEMBERS),
    ("post", P + "/articles/{article_id}/spans/create/"): Op(ANNOTATING, body=SPAN_BODY),
    ("get", P + "/articles/{article_id}/suggestions/"): Op(MEMBERS),
    ("get", P + "/articles/{article_id}/answers/"): Op(MEMBERS),
    ("get", P + "/articles/{article_id}/answers/predicted/"): Op(MEMBERS),
    ("post", P + "/articles/{article_id}/answers/set/"): Op(
        ANNOTATING, body={"question": "{question_id}", "value": "x"}
    ),
    ("get", P + "/articles/{article_id}/sentences/"): Op(MEMBERS),
    ("get", P + "/articles/{article_id}/others/"): Op(SEE_OTHERS),
    ("get", P + "/spans/{span_id}/"): Op(SEE_OTHERS),
    ("patch", P + "/spans/{span_id}/update/"): Op(NOBODY, body={"note": "mine now"}),
    ("delete", P + "/spans/{span_id}/delete/"): Op(NOBODY),
    ("get", P + "/annotations/"): Op(MEMBERS, variants=LAYER_VARIANTS),
    ("get", P + "/annotations/export/"): Op(MEMBERS, variants=EXPORT_VARIANTS),
    # curation, assignments, agreement
    ("get", P + "/assignments/"): Op(CURATORS),
    ("post", P + "/assignments/generate/"): Op(OWNER, body={}),
    ("get", P + "/assignments/preview/"): Op(CURATORS),
    ("get", P + "/curate/articles/"): Op(CURATORS),
    ("get", P + "/curate/articles/{article_id}/"): Op(CURATORS),
    ("get", P + "/curate/articles/{article_id}/gold/"): Op(CURATORS),
    ("post", P + "/curate/articles/{article_id}/gold/"): Op(CURATORS, body=SPAN_BODY),
    ("post", P + "/curate/articles/{article_id}/adjudication/"): Op(CURATORS, body={"status": "done"}),
    ("post", P + "/curate/spans/{span_id}/accept/"): Op(CURATORS, body={}),
    ("post", P + "/curate/spans/{span_id}/reject/"): Op(CURATORS, body={}),
    ("patch", P + "/curate/gold/{gold_id}/"): Op(CURATORS, body={"note": "x"}),
    ("delete", P + "/curate/gold/{gold_id}/"): Op(CURATORS),
    ("post", P + "/curate/bulk-accept/"): Op(CURATORS, body={}),
    ("get", P + "/curate/articles/{article_id}/answers/"): Op(CURATORS),
    ("post", P + "/curate/articles/{article_id}/answers/gold/"): Op(
        CURATORS, body={"question": "{question_id}", "value": "x"}
    ),  # fmt: skip
    ("post", P + "/curate/answers/bulk-accept/"): Op(CURATORS, body={}),
    ("get", P + "/agreement/"): Op(CURATORS),
    ("post", P + "/agreement/"): Op(CURATORS, body={}),
    ("get", P + "/agreement/table/"): Op(CURATORS, variants=({"format": "csv"},)),
    ("get", P + "/agreement/disagreements/"): Op(CURATORS),
    # training
    ("get", P + "/models/"): Op(MEMBERS),
    ("post", P + "/models/train/"): Op(CURATORS, body={}),
    ("get", P + "/models/{version}/"): Op(MEMBERS),
    ("post", P + "/models/{version}/activate/"): Op(OWNER, body={}),
    ("get", P + "/models/{version}/terms/"): Op(MEMBERS, variants=({"format": "csv"},)),
    ("get", P + "/term-rules/"): Op(MEMBERS),
    ("post", P + "/term-rules/create/"): Op(CURATORS, body={"term": "x", "label": "{label}", "action": "ban"}),
    ("delete", P + "/term-rules/{rule_id}/delete/"): Op(CURATORS),
    # scoring
    ("post", P + "/score/"): Op(CURATORS, body={}),
    ("get", P + "/jobs/{job_id}/"): Op(CURATORS, variants=({"job": "scoring"},)),
    ("get", P + "/framing-scores/"): Op(SCORE_READERS, SCORE, variants=SOURCE_VARIANTS + ({"period": "month"},)),
    ("get", P + "/framing-scores/compare/"): Op(SCORE_READERS, SCORE, variants=SOURCE_VARIANTS),
    ("get", P + "/code-scores/"): Op(SCORE_READERS, CODES, variants=SOURCE_VARIANTS + ({"period": "month"},)),
    ("get", P + "/code-scores/compare/"): Op(SCORE_READERS, CODES, variants=SOURCE_VARIANTS),
    ("get", P + "/attribute-rates/"): Op(
        SCORE_READERS - {"annotator-blind"},
        {"attribute": "target", "source": "gold"},
        variants=SOURCE_VARIANTS + ({"period": "month"},),
    ),
    ("get", P + "/term-choice/"): Op(SCORE_READERS, {"concept": "armed-opposition"}),
    ("get", P + "/distinctive-terms/"): Op(SCORE_READERS, {"outlet": "{north}"}, variants=({"outlet": "{outlet}"},)),
    ("get", P + "/examples/"): Op(
        SCORE_READERS,
        {"term": "regime"},
        variants=tuple({"term": "", "label": "loaded term", **v} for v in SOURCE_VARIANTS),
    ),
    ("get", P + "/concepts/"): Op(MEMBERS),
    ("post", P + "/concepts/create/"): Op(CURATORS, body={"name": "c", "slug": "c", "variants": [{"name": "a"}]}),
    # rigour
    ("get", P + "/snapshots/"): Op(CURATORS),
    ("post", P + "/snapshots/create/"): Op(CURATORS, body={"name": "matrix"}),
    # the matrix's snapshot has no archive: curators get past the permission, the verification answers 404
    ("get", P + "/snapshots/{snapshot_id}/download/"): Op(CURATORS, ok=frozenset({404})),
    ("get", P + "/term-suggestions/"): Op(CURATORS),
    ("post", P + "/term-suggestions/verify/"): Op(
        CURATORS, body={"term": "x", "label": "loaded term", "annotators": [COLLEAGUE]}
    ),  # fmt: skip
}
PG = "/projects/{slug}"
PAGES: dict[tuple[str, str], Op] = {
    ("get", "/"): Op(SIGNED_IN, page=True),
    ("get", "/projects/new/"): Op(frozenset({"staff"}), page=True),
    ("get", PG + "/"): Op(MEMBERS, page=True),
    ("get", PG + "/next/"): Op(MEMBERS, page=True),
    ("get", PG + "/settings/"): Op(OWNER, page=True),
    ("get", PG + "/codebook/"): Op(CURATORS, page=True),
    ("get", PG + "/articles/{article_id}/"): Op(MEMBERS, page=True),
    ("get", PG + "/curate/"): Op(CURATORS, page=True),
    ("get", PG + "/curate/{article_id}/"): Op(CURATORS, page=True),
    ("post", PG + "/curate/{article_id}/action/"): Op(CURATORS, body={"action": "bulk_accept"}, page=True),
    ("get", PG + "/agreement/"): Op(CURATORS, page=True, variants=({"drill": "1"},)),
    ("get", PG + "/assignments/"): Op(CURATORS, page=True),
    ("get", PG + "/models/"): Op(MEMBERS, page=True),
    ("get", PG + "/models/{version}/"): Op(MEMBERS, page=True),
    ("get", PG + "/models/{version}/lexicon/"): Op(MEMBERS, page=True),
    ("get", PG + "/lexicon/"): Op(MEMBERS, page=True),
    ("get", PG + "/scores/"): Op(SCORE_READERS, page=True),
    ("get", PG + "/exchange/"): Op(MEMBERS, page=True),
    ("get", PG + "/snapshots/"): Op(CURATORS, page=True),
    ("get", PG + "/term-suggestions/"): Op(CURATORS, page=True),
    ("get", "/account/tokens/"): Op(SIGNED_IN, page=True),
    # someone else's token: the page says "no such token" and sends the user back to their list
    ("post", "/account/tokens/{token_id}/revoke/"): Op(OWNER, body={}, page=True, refused=frozenset({302})),
    ("get", "/accounts/login/"): Op(EVERYONE, page=True),
    ("post", "/accounts/logout/"): Op(EVERYONE, body={}, page=True),
    ("get", "/healthz"): Op(EVERYONE, page=True),
    ("get", "/readyz"): Op(EVERYONE, page=True),
    ("get", "/api/schema/"): Op(EVERYONE, page=True),
    ("get", "/api/docs/"): Op(EVERYONE, page=True),
    ("get", "/admin/"): Op(frozenset({"staff"}), page=True, refused=frozenset({302})),  # to the admin's login
}


# --- completeness: the schema and the URL configuration against the table ----------------------------------------

SCHEMA_PARAMS = {
    "{article_id}": "{article_id}", "{span_id}": "{span_id}", "{label_id}": "{label_id}", "{number}": "{version}",
    "{job_id}": "{job_id}", "{snapshot_id}": "{snapshot_id}", "{batch_id}": "{batch_id}", "{rule_id}": "{rule_id}",
    "{token_id}": "{token_id}", "{question_id}": "{question_id}",
}  # fmt: skip


def schema_operations(schema: dict) -> set[tuple[str, str]]:
    ops = set()
    for path, item in schema["paths"].items():
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                key = path.replace("/api/v1/outlets/{slug}/", "/api/v1/outlets/{outlet}/")
                for old, new in SCHEMA_PARAMS.items():
                    key = key.replace(old, new)
                if "/curate/gold/" in key:
                    key = key.replace("{span_id}", "{gold_id}")
                ops.add((method, key))
    return ops


def page_routes() -> set[str]:
    """Every route of the URL configuration outside the REST API and the admin's own pages, as a template."""
    routes = set()

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                if route.startswith(("api/v1/", "admin/")):
                    continue
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern):
                routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))

    walk(get_resolver().url_patterns, "")
    return routes


def page_template(path: str) -> str:
    return path.replace("{number}", "{version}")


@pytest.mark.django_db
def test_every_operation_and_page_has_an_entry():
    schema = Client().get("/api/schema/?format=json")
    if schema.status_code != 200:  # the schema view may need a login
        client = Client()
        client.force_login(make_user("schema-reader"))
        schema = client.get("/api/schema/?format=json")
    missing_api = schema_operations(schema.json()) - set(OPERATIONS)
    assert not missing_api, f"API operations without an entry in OPERATIONS: {sorted(missing_api)}"
    stale = set(OPERATIONS) - schema_operations(schema.json())
    assert not stale, f"entries for operations the schema does not have: {sorted(stale)}"
    pages = {page_template(route) for route in page_routes()}
    listed = {path for _method, path in PAGES}
    assert not pages - listed, f"pages without an entry in PAGES: {sorted(pages - listed)}"
    assert not listed - pages - {"/admin/"}, f"entries for pages the URL conf lacks: {sorted(listed - pages)}"


# --- the world ----------------------------------------------------------------------------------------------------


@dataclass
class World:
    users: dict
    projects: dict  # blind, open, outlet-blind
    articles: list
    secret_outlet: object
    north: object
    ids: dict  # per project: span ids by owner of the span, gold, label, version, job ids …
    token_id: int
    batch_id: int
    forbidden_text: dict = field(default_factory=dict)  # role -> strings no body may carry
    forbidden_spans: dict = field(default_factory=dict)  # role -> span ids no JSON body may carry


ROLE_PROJECT = {
    "anonymous": "blind", "non-member": "blind", "staff": "blind", "viewer": "blind", "annotator-open": "open",
    "annotator-blind": "blind", "annotator-outlet-blind": "outlet-blind", "curator": "blind", "owner": "blind",
}  # fmt: skip
ROLE_USER = {
    "non-member": "mx-outsider", "staff": "mx-staff", "viewer": "mx-viewer", "annotator-open": "mx-ann-open",
    "annotator-blind": "mx-ann-blind", "annotator-outlet-blind": "mx-ann-ob", "curator": "mx-curator",
    "owner": "mx-owner",
}  # fmt: skip
PROJECT_ANNOTATOR = {"blind": "mx-ann-blind", "open": "mx-ann-open", "outlet-blind": "mx-ann-ob"}


def _span(project, article, layer, label, word, note, user=None, **extra) -> Span:
    start = article.text.index(word)
    return Span.objects.create(
        project=project, article=article, layer=layer, label=label, annotator=user, start_char=start,
        end_char=start + len(word), text=word, note=note, **extra,
    )  # fmt: skip


def build_world() -> World:
    users = {name: make_user(name) for name in {*ROLE_USER.values(), COLLEAGUE}}
    users["mx-staff"].is_staff = users["mx-staff"].is_superuser = True
    users["mx-staff"].save()
    north = make_outlet("North Star")
    secret = make_outlet(SECRET_OUTLET)
    secret.homepage = "https://secret-outlet-times.example"
    secret.slug = "secret-outlet-times"
    secret.save()
    articles = [
        make_article(text="Troops liberate the town, the regime claimed; rebels held the bridge.",
                     title="Liberation story", outlet=north),
        make_article(text=f"{SECRET_OUTLET} — The regime said rebels were terrorists.\nMore at secret-outlet-times.example",
                     title=f"{SECRET_OUTLET}: regime and rebels", outlet=secret, byline="Byline Person Q",
                     external_id="sot-ext-1", url="https://secret-outlet-times.example/a/1"),
    ]  # fmt: skip
    owner, curator, viewer = users["mx-owner"], users["mx-curator"], users["mx-viewer"]
    projects, ids = {}, {}
    for kind in ("blind", "open", "outlet-blind"):
        annotator = users[PROJECT_ANNOTATOR[kind]]
        project = make_project(owner=owner, articles=articles, annotators=[annotator, users[COLLEAGUE]],
                               name=f"Matrix {kind}")  # fmt: skip
        project_update(project=project, by=owner, blind=kind != "open", outlet_blind=kind == "outlet-blind")
        membership_add(project=project, user=curator, role=Role.CURATOR, by=owner)
        if kind == "blind":
            membership_add(project=project, user=viewer, role=Role.VIEWER, by=owner)
        label = Label.objects.get(project=project, name="loaded term")
        version = ModelVersion.objects.create(
            project=project, number=1, status=JobStatus.SUCCEEDED, is_active=True,
            metrics={"grouped_kfold": {"per_outlet_spans": {"loaded term": {"secret-outlet-times": {}}}},
                     "leave_one_outlet_out": {"secret-outlet-times": {"n_texts": 1}}},
        )  # fmt: skip
        a, b = articles
        mine = _span(project, b, Layer.ANNOTATOR, label, "terrorists", f"note-own-{kind}", user=annotator)
        theirs = _span(project, a, Layer.ANNOTATOR, label, "regime", f"zednote-{kind}", user=users[COLLEAGUE])
        gold = _span(project, a, Layer.GOLD, label, "liberate", f"goldnote-{kind}", provenance={"action": "create"})
        start = a.text.index("rebels")
        (suggestion,) = make_suggestions(version=version, article=a, spans=[(start, start + 6, label, 0.7)])
        Adjudication.objects.create(project=project, article=a, status=Adjudication.Status.DONE, curator=curator)
        question = Question.objects.create(project=project, name="note", prompt="A word?", kind=Question.Kind.TEXT)
        for layer, user, value in ((Layer.ANNOTATOR, annotator, f"note-own-{kind}-answer"),
                                   (Layer.ANNOTATOR, users[COLLEAGUE], f"zednote-{kind}-answer"),
                                   (Layer.GOLD, None, f"goldnote-{kind}-answer")):  # fmt: skip
            Answer.objects.create(project=project, article=a, question=question, layer=layer, annotator=user,
                                  unit_key="article", value=value)  # fmt: skip
        # a choice question the active version predicts (code scores): everyone's answers and the version's counts
        stance = Question.objects.create(project=project, name="stance", prompt="Stance?", kind=Question.Kind.SINGLE)
        for value in ("pro", "anti"):
            QuestionOption.objects.create(question=stance, value=value, text=value)
        for article, layer, user, value in ((a, Layer.ANNOTATOR, annotator, "pro"), (b, Layer.ANNOTATOR, annotator, "anti"),
                                            (a, Layer.ANNOTATOR, users[COLLEAGUE], "anti"), (a, Layer.GOLD, None, "pro"),
                                            (b, Layer.GOLD, None, "anti")):  # fmt: skip
            Answer.objects.create(project=project, article=article, question=stance, layer=layer, annotator=user,
                                  unit_key="article", value=value)  # fmt: skip
        pooled = evaluate_answers(
            ["anti"] * 4 + ["pro"] * 5, ["anti"] * 3 + ["pro"] * 6, answers=["anti", "pro"]
        ).to_dict()
        target = Question.objects.create(project=project, name="target", prompt="Aimed at?", scope=Question.Scope.SPAN,
                                         label=label, kind=Question.Kind.SINGLE)  # fmt: skip
        for value in ("government", "opposition"):
            QuestionOption.objects.create(question=target, value=value, text=value)
        for span, value in ((mine, "government"), (theirs, "opposition"), (gold, "opposition")):
            Answer.objects.create(project=project, article=span.article, question=target, layer=span.layer,
                                  annotator=span.annotator, span=span, unit_key=f"span:{span.pk}", value=value)  # fmt: skip
        version.metrics["codes"] = {"stance": {
            "kind": "single", "scope": "article", "answers": ["anti", "pro"], "n_units": 9, "n_articles": 9,
            "grouped_kfold": {"n_folds": 1, "pooled": pooled},
            "leave_one_outlet_out": {"secret-outlet-times": {"n_units": 4, **pooled}},
            "per_outlet_confusion": {"0": {"secret-outlet-times": [[3, 1], [1, 3]], north.slug: [[2, 0], [1, 2]]}},
        }}  # fmt: skip
        version.save()
        for article, answer in ((a, "pro"), (b, "anti")):
            AnswerCount.objects.create(model_version=version, article=article, question=stance, answer=answer,
                                       n_units=1, n_with_answer=1)  # fmt: skip
        # what the annotator page pre-fills (stored by scoring, read by answers/predicted/)
        PredictedAnswers.objects.create(model_version=version, article=a, answers=[[stance.pk, None, None, "pro", 0.8]])
        LexiconTerm.objects.create(model_version=version, term="regime", label=label, weight=2.0, support=2, n_seen=3)
        rule = TermRule.objects.create(project=project, term="rebels", label=label, action=TermRule.Action.BAN)
        Concept.objects.create(project=project, name="Armed opposition", slug="armed-opposition",
                               variants=[{"name": "rebels", "terms": ["rebels"]}, {"name": "terrorists"}])  # fmt: skip
        agreement = Job.objects.create(
            project=project, kind=Job.Kind.AGREEMENT, status=JobStatus.SUCCEEDED,
            result={"annotator_names": {str(users[COLLEAGUE].pk): COLLEAGUE}, "table": []},
        )  # fmt: skip
        scoring = Job.objects.create(project=project, kind=Job.Kind.SCORING, status=JobStatus.SUCCEEDED)
        snapshot = Snapshot.objects.create(project=project, name="frozen", content_hash="0" * 64,
                                           manifest={"counts": {}, "annotators": [COLLEAGUE]})  # fmt: skip
        projects[kind] = project
        ids[kind] = {
            "own": mine.pk, "colleague": theirs.pk, "gold": gold.pk, "suggestion": suggestion.pk, "label": label.pk,
            "version": version.number, "rule": rule.pk, "agreement_job": agreement.pk, "scoring_job": scoring.pk,
            "snapshot": snapshot.pk, "question": question.pk,
        }  # fmt: skip
    token, _ = api_token_create(user=owner, name="owner's")
    batch = ImportBatch.objects.create(
        source_name="staff.jsonl", format="jsonl", user=users["mx-staff"],
        errors=[{"source": "staff.jsonl", "line": 1, "message": "bad"}],
    )  # fmt: skip
    world = World(users, projects, articles, secret, north, ids, token.pk, batch.pk)
    _forbidden(world)
    return world


def _forbidden(w: World) -> None:
    """What each role must never receive (strings anywhere in a body; span ids in JSON)."""
    notes = {kind: {f"note-own-{kind}", f"zednote-{kind}", f"goldnote-{kind}"} for kind in w.projects}
    every_note = set().union(*notes.values())
    annotators = {COLLEAGUE, *PROJECT_ANNOTATOR.values()}
    every_span = {i for kind in w.ids for key, i in w.ids[kind].items() if key in ("own", "colleague", "gold")}
    outsiders = every_note | annotators | {"mx-viewer"}
    w.forbidden_text = {
        "anonymous": outsiders | {"mx-owner", "mx-curator", "Liberation story"},
        "non-member": outsiders | {"Liberation story"},
        "staff": outsiders,
        "viewer": every_note - {"goldnote-blind"} | annotators,
        "annotator-open": every_note - notes["open"] | annotators - {COLLEAGUE, "mx-ann-open"},
        "annotator-blind": every_note - {"note-own-blind"} | annotators - {"mx-ann-blind"},
        "annotator-outlet-blind": every_note - {"note-own-outlet-blind"} | annotators - {"mx-ann-ob"} | set(SECRET_TERMS),
        "curator": {"mx-outsider"},
        "owner": {"mx-outsider"},
    }  # fmt: skip
    own = {kind: w.ids[kind]["own"] for kind in w.ids}
    w.forbidden_spans = {
        "anonymous": every_span,
        "non-member": every_span,
        "staff": every_span,
        "viewer": every_span - {w.ids["blind"]["gold"]},
        "annotator-open": every_span - {own["open"], w.ids["open"]["colleague"], w.ids["open"]["gold"]},
        "annotator-blind": every_span - {own["blind"]},
        "annotator-outlet-blind": every_span - {own["outlet-blind"]},
        "curator": set(),
        "owner": set(),
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        built = build_world()
        yield built
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _no_throttling(settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "expensive": "100000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


# --- the requests -------------------------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def fill(text: str, w: World, role: str) -> str:
    kind = ROLE_PROJECT[role]
    project, ids = w.projects[kind], w.ids[kind]
    values = {
        "slug": project.slug, "article_id": w.articles[1].pk, "span_id": ids["colleague"], "gold_id": ids["gold"],
        "label_id": ids["label"], "version": ids["version"], "job_id": ids["agreement_job"],
        "snapshot_id": ids["snapshot"], "batch_id": w.batch_id, "rule_id": ids["rule"], "token_id": w.token_id,
        "outlet": w.secret_outlet.slug, "north": w.north.slug, "label": ids["label"], "me": ROLE_USER.get(role, "x"),
        "first5": w.articles[1].text[:5], "question_id": ids["question"],
    }  # fmt: skip
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), text)


def filled_body(body, w: World, role: str):
    if isinstance(body, dict):
        return {k: filled_body(v, w, role) for k, v in body.items()}
    if isinstance(body, list):
        return [filled_body(v, w, role) for v in body]
    if isinstance(body, str):
        text = fill(body, w, role)
        return int(text) if text.isdigit() and body.startswith("{") else text
    return body


def request(client: Client, method: str, url: str, body, *, page: bool):
    if method == "get":
        return client.get(url)
    try:
        with transaction.atomic():
            if page:
                response = getattr(client, method)(url, body or {})
            else:
                response = getattr(client, method)(url, body or {}, content_type="application/json")
            if response.streaming:
                response._body = b"".join(response.streaming_content)
            raise _Rollback
    except _Rollback:
        return response


def body_text(response) -> str:
    raw = getattr(response, "_body", None)
    if raw is None:
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        response._body = raw
    return raw.decode("utf-8", "replace")


def client_for(w: World, role: str) -> Client:
    client = Client(raise_request_exception=True)
    if role != "anonymous":
        client.force_login(w.users[ROLE_USER[role]])
    return client


def check(w: World, role: str, response, url: str, problems: list[str]) -> None:
    if response.status_code >= 500:
        problems.append(f"{role} {url}: {response.status_code}")
        return
    text = body_text(response)
    for value in parse_qs(urlsplit(url.split(" ", 1)[1]).query).values():  # what the client sent, echoed back
        for item in value:  # (a pagination link, "not one of the available choices") tells them nothing new
            text = text.replace(item, "").replace(quote(item), "").replace(quote_plus(item), "")
    for secret in w.forbidden_text[role]:
        if secret.lower() in text.lower():
            problems.append(f"{role} {url}: body carries {secret!r}")
    if response.get("Content-Type", "").startswith("application/json") and text.strip():
        import json

        try:
            leaked = span_ids(json.loads(text)) & w.forbidden_spans[role]
        except ValueError:
            leaked = set()
        if leaked:
            problems.append(f"{role} {url}: span ids {sorted(leaked)} in the body")


def expected(op: Op, role: str, method: str) -> set[int]:
    if role in op.allow and op.ok is not None:
        return set(op.ok)
    if role not in op.allow and op.refused is not None:
        return set(op.refused)
    if role in op.allow:
        if op.page:
            return PAGE_OK if method == "get" else PAGE_OK | {400}
        return OK if method == "get" else WRITE_OK
    if op.page:
        return {302} if role == "anonymous" else PAGE_REFUSED
    return REFUSED


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_operation_for_every_role(world, role):
    client = client_for(world, role)
    problems: list[str] = []
    for (method, template), op in {**OPERATIONS, **PAGES}.items():
        path = fill(template, world, role)
        body = filled_body(op.body, world, role)
        url = path + (("?" + urlencode(filled_body(op.query, world, role))) if op.query else "")
        if template.endswith("/delete/") or method == "delete":
            body = None
        response = request(client, method, url, body, page=op.page)
        want = expected(op, role, method)
        if op.page and response.status_code == 302 and role == "anonymous" and op.refused is None:
            if "/accounts/login/" not in response.get("Location", "") and role not in op.allow:
                problems.append(f"{role} {method.upper()} {url}: redirects to {response['Location']}, not the login")
        if response.status_code not in want:
            problems.append(f"{role} {method.upper()} {url}: {response.status_code}, expected one of {sorted(want)}")
        check(world, role, response, f"{method.upper()} {url}", problems)
        for variant in op.variants:
            params = {**(op.query or {}), **variant}
            if variant.get("job") == "scoring":
                vurl = fill(
                    template.replace("{job_id}", str(world.ids[ROLE_PROJECT[role]]["scoring_job"])), world, role
                )
            else:
                vurl = path + "?" + urlencode({k: v for k, v in filled_body(params, world, role).items() if v != ""})
            vresponse = request(client, method, vurl, body, page=op.page)
            check(world, role, vresponse, f"{method.upper()} {vurl}", problems)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
