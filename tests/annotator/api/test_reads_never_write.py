"""Reads never write: every GET of the API (from the OpenAPI schema) and every page (from the URL configuration), for
every role, on the hostile matrix's populated projects (spans of every layer, gold, adjudications, an active model
with counts, questions and answers, jobs, a snapshot), inserts, updates and deletes no row and locks none.

Score caches and human-score counts are written by the services and jobs that change their inputs (scoring, span
saves and curation queue a recount), never by the reader who happens to come first.

The only statements let through are Django's own session rows (``django_session``): the session middleware saves a
session a view modified, and a logged-in request may refresh it; that is the login's state, not the project's. The
logins themselves (``last_login``, the session row) happen before the requests are counted. django-axes keeps its
counters in the cache, so it writes no row at all.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from urllib.parse import urlencode

import pytest
from django.db import connection

from tests.annotator.api.test_hostile_matrix import (
    OPERATIONS,
    PAGES,
    ROLE_PROJECT,
    ROLES,
    client_for,
    fill,
    filled_body,
    world,  # noqa: F401  (the module's populated world, built once)
)

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY)\b|\bFOR (NO KEY )?UPDATE\b", re.IGNORECASE)
DJANGOS_OWN = re.compile(r'^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+"?django_session"?', re.IGNORECASE)


@contextmanager
def writes_recorded(found: list[str]):
    def record(execute, sql, params, many, context):
        if WRITE.search(sql) and not DJANGOS_OWN.search(sql):
            found.append(sql[:160])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield


def gets(w, role: str) -> list[str]:
    """Every GET of the two tables (with its query variants), filled in for the role's project."""
    urls = []
    for (method, template), op in {**OPERATIONS, **PAGES}.items():
        if method != "get":
            continue
        path = fill(template, w, role)
        urls.append(path + (("?" + urlencode(filled_body(op.query, w, role))) if op.query else ""))
        for variant in op.variants:
            if variant.get("job") == "scoring":
                urls.append(fill(template.replace("{job_id}", str(w.ids[ROLE_PROJECT[role]]["scoring_job"])), w, role))
                continue
            params = {k: v for k, v in filled_body({**(op.query or {}), **variant}, w, role).items() if v != ""}
            urls.append(path + "?" + urlencode(params))
    return urls


def test_the_recorder_sees_a_write(world):  # noqa: F811
    found: list[str] = []
    with writes_recorded(found):
        world.users["mx-owner"].save(update_fields=["first_name"])
    assert found and found[0].upper().startswith("UPDATE")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_no_get_writes_a_row(world, role):  # noqa: F811
    client = client_for(world, role)
    client.get("/")  # the session's first save, if any, happens outside the count
    problems, n_ok = [], 0
    for url in gets(world, role):
        found: list[str] = []
        with writes_recorded(found):
            response = client.get(url)
            if response.streaming:
                b"".join(response.streaming_content)  # a streamed export runs its queries while it streams
        n_ok += response.status_code == 200
        problems += [f"GET {url} ({response.status_code}): {sql}" for sql in found]
    assert not problems, f"{len(problems)} write(s) from reads:\n" + "\n".join(problems)
    if role in ("owner", "curator"):
        assert n_ok > 60  # the reads got past their checks and did their work
