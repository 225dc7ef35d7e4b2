"""docs/api.md's worked example, run as printed against a live server.

The Python blocks between `<!-- example:start -->` and `<!-- example:end -->` are extracted from the document and
executed in one namespace, with FRAMESCOPE_URL and FRAMESCOPE_TOKEN set in the environment (as the docs tell the
reader to) and the working directory set to a temporary folder. The test fails when the docs' code breaks, and
checks that what it computed matches the data the test put in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from annotator.annotations.models import Adjudication, Layer, Span
from annotator.api.services import api_token_create
from annotator.projects.models import Label
from annotator.projects.services import codebook_create_default, project_add_articles, project_create
from annotator.scoring.services import human_scores_refresh_stale
from ml.tokenise import count_tokens
from tests.annotator.projects.factories import grant_outlets, make_article, make_outlet

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"
EXAMPLE = re.compile(r"<!-- example:start -->(.*?)<!-- example:end -->", re.S)
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)

# Outlet -> articles, each with the words a curator marked "loaded term" in the gold layer.
CORPUS = {
    "Alpha": [("The regime jailed the thugs after the riot downtown.", ["regime", "thugs", "riot"]),
              ("Officials said the regime would talk again next week.", ["regime"])],
    "Beta": [("The government and the protesters met for talks on Monday.", []),
             ("Demonstrators gathered peacefully near the old harbour.", ["peacefully"])],
    "Gamma": [("Militants stormed the village, the regime said, calling them terrorists.",
               ["Militants", "regime", "terrorists"])],
}  # fmt: skip


def example_code() -> str:
    text = DOC.read_text(encoding="utf-8")
    sections = EXAMPLE.findall(text)
    assert len(sections) == 1, f"{DOC} needs exactly one <!-- example:start --> … <!-- example:end --> section"
    blocks = PYTHON_BLOCK.findall(sections[0])
    assert len(blocks) >= 3, f"expected the example's python blocks in {DOC}, found {len(blocks)}"
    return "\n".join(blocks)


@pytest.fixture
def study():
    user = get_user_model().objects.create_user("researcher", password="x-researcher-1")
    project = project_create(name="Framing study", slug="framing-study", created_by=user, bootstrap_resamples=200)
    codebook_create_default(project=project, by=user)
    label = Label.objects.get(project=project, name="loaded term")
    outlets, articles, n_gold = {}, [], 0
    for name, docs in CORPUS.items():
        outlets[name] = make_outlet(name)
        for i, (text, words) in enumerate(docs):
            article = make_article(text=text, title=f"{name} {i}", outlet=outlets[name],
                                   published_at=datetime(2024, 3, 1 + i, tzinfo=UTC))  # fmt: skip
            articles.append(article)
            # Adjudicated: the gold layer is complete, so an article without spans counts as a zero.
            Adjudication.objects.create(project=project, article=article, curator=user, status="done")
            for word in words:
                start = text.index(word)
                Span.objects.create(project=project, article=article, layer=Layer.GOLD, label=label,
                                    start_char=start, end_char=start + len(word), text=word)  # fmt: skip
                n_gold += 1
    grant_outlets(project, articles)
    project_add_articles(project=project, by=user, article_ids=[a.pk for a in articles])
    human_scores_refresh_stale(project=project)  # the recount the worker runs after the gold spans above
    _, key = api_token_create(user=user, name="notebook")
    return {"key": key, "outlets": outlets, "n_gold": n_gold}


def test_the_docs_pandas_example_runs_against_a_live_server(live_server, study, tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMESCOPE_URL", live_server.url)
    monkeypatch.setenv("FRAMESCOPE_TOKEN", study["key"])
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "docs_api_example"}
    exec(compile(example_code(), str(DOC), "exec"), namespace)  # noqa: S102 - the docs' own code, on purpose

    scores = namespace["scores"].set_index("outlet")
    slugs = {name: outlet.slug for name, outlet in study["outlets"].items()}
    assert set(scores.index) == set(slugs.values())
    for name, docs in CORPUS.items():
        row = scores.loc[slugs[name]]
        n_spans = sum(len(words) for _, words in docs)
        n_tokens = sum(count_tokens(text) for text, _ in docs)
        assert (row["n_articles"], row["n_spans"], row["n_tokens"]) == (len(docs), n_spans, n_tokens)
        assert row["rate_per_1k"] == pytest.approx(1000 * n_spans / n_tokens)
        assert row["rate_ci_low"] <= row["rate_per_1k"] <= row["rate_ci_high"]

    gold = namespace["gold"]
    assert len(gold) == study["n_gold"] and set(gold["layer"]) == {"gold"}
    assert gold.groupby("outlet").size().to_dict() == {
        slugs[name]: sum(len(words) for _, words in docs) for name, docs in CORPUS.items() if any(w for _, w in docs)
    }
    spans = namespace["spans"]
    assert len(spans) == study["n_gold"] and set(spans["article.outlet"]) == set(gold["outlet"])

    png = tmp_path / "framing-scores.png"
    assert png.exists(), "the example should save framing-scores.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
