"""Property-based API test: schemathesis generates requests from our OpenAPI schema and sends them to the live
test server as an anonymous user, an annotator and an admin (token auth). Every response must be free of 5xx
errors and match the schema documented for its status code.

Each operation gets a bounded number of examples (SCHEMATHESIS_MAX_EXAMPLES, default 5), some with path
parameters pointing at real seeded rows so that 2xx bodies are checked too, the rest fully generated.
Responses are requested as JSON (CSV and JSON Lines are covered by test_renderers.py).
"""

from __future__ import annotations

import hashlib
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance

from annotator.api.services import api_token_create
from annotator.corpus.models import Article, Outlet
from annotator.projects.models import Label, Membership, Project, ProjectArticle, Role

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5"))
# Anonymous requests all stop at authentication: a couple per operation prove it.
EXAMPLES_BY_ROLE = {"anonymous": min(2, MAX_EXAMPLES), "annotator": MAX_EXAMPLES, "admin": MAX_EXAMPLES}
CHECKS = [not_a_server_error, response_schema_conformance]
TEXT = "Officials called the protesters rioters while the crowd chanted for reform. Ünïcödé 👍🏽 too."


@pytest.fixture
def seeded(django_user_model) -> dict:
    outlet = Outlet.objects.create(name="Daily Planet", slug="daily-planet", country="US", language="en")
    articles = [
        Article.objects.create(
            outlet=outlet,
            title=f"Story {i}",
            text=f"{TEXT} ({i})",
            external_id=f"dp-{i}",
            content_hash=hashlib.sha256(f"{TEXT}{i}".encode()).hexdigest(),
        )
        for i in range(3)
    ]
    project = Project.objects.create(name="Framing study", slug="study")
    for article in articles:
        ProjectArticle.objects.create(project=project, article=article)
    label = Label.objects.create(project=project, name="Loaded language", hotkey="1")
    annotator = django_user_model.objects.create_user("annie", password="x-annie-123")
    admin = django_user_model.objects.create_superuser("root", password="x-root-123")
    Membership.objects.create(project=project, user=annotator, role=Role.ANNOTATOR)
    Membership.objects.create(project=project, user=admin, role=Role.OWNER)
    _, annotator_key = api_token_create(user=annotator, name="schemathesis")
    _, admin_key = api_token_create(user=admin, name="schemathesis")
    known = {"slug": project.slug, "article_id": articles[0].pk, "label_id": label.pk}
    return {"keys": {"anonymous": None, "annotator": annotator_key, "admin": admin_key}, "known": known}


def fuzz_operation(
    operation, *, base_url: str, headers: dict, known: dict, statuses: list[int], max_examples: int
) -> list[str]:
    """Run the examples for one operation; return failure descriptions instead of stopping at the first."""
    names = {parameter.name for parameter in operation.path_parameters}
    fixed = {name: value for name, value in known.items() if name in names}
    # JSON only: CSV and JSON Lines are text, checked in test_renderers (and an empty one has no Content-Type).
    query = {"format": "json"} if any(p.name == "format" for p in operation.query) else None
    strategy = operation.as_strategy(query=query)
    if fixed:
        strategy = st.one_of(operation.as_strategy(path_parameters=fixed, query=query), strategy)
    failures: list[str] = []

    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case) -> None:
        if failures:
            return  # one failure per operation is enough to report
        try:
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            statuses.append(response.status_code)
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - schemathesis raises a FailureGroup
            failures.append(f"{operation.label}: {type(exc).__name__}: {exc}")

    run()
    return failures


@pytest.mark.parametrize("who", ["anonymous", "annotator", "admin"])
def test_api_matches_its_schema_without_server_errors(live_server, seeded, who):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    key = seeded["keys"][who]
    headers = {"Authorization": f"Token {key}"} if key else {}
    failures: list[str] = []
    statuses: list[int] = []
    n_operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        n_operations += 1
        failures += fuzz_operation(
            operation,
            base_url=live_server.url,
            headers=headers,
            known=seeded["known"],
            statuses=statuses,
            max_examples=EXAMPLES_BY_ROLE[who],
        )
    assert n_operations >= 3, "the schema lists almost no operations; is /api/schema/ broken?"
    assert not failures, f"{len(failures)} failing example(s) as {who}:\n" + "\n".join(failures[:20])
    successes = [code for code in statuses if 200 <= code < 300]
    if who == "anonymous":
        assert not successes, "an anonymous request succeeded; every /api/v1/ endpoint needs a login"
    else:
        assert successes, f"no request succeeded as {who}, so no success body was checked: {sorted(set(statuses))}"
