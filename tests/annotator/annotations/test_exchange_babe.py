"""The BABE importer on a generated file in BABE's format (counts, zeros, unmatched words, rerun), and on the real
SG2 training file (a data test)."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from annotator.annotations.exchange.babe import BABE_LABEL, babe_import
from annotator.annotations.models import Adjudication, Layer, Span
from annotator.common.errors import ApplicationError
from annotator.corpus.models import Article, Outlet
from annotator.projects.models import Label
from annotator.projects.services import project_create
from ml.babe import read_babe
from tests.babe_sample import ROWS, write_babe_sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    owner = get_user_model().objects.create(username="babe-owner")
    return project_create(name="BABE study", created_by=owner)  # no codebook: the label must be created


def import_and_check(project, path) -> None:
    """Import ``path`` twice and check every count against what the reader finds in the file."""
    dataset = read_babe(path)
    report = babe_import(project=project, path=path)

    assert report.messages == [f"The project had no label '{BABE_LABEL}'; it was created."]
    label = Label.objects.get(project=project, name=BABE_LABEL)
    assert report.sentences == len(dataset.rows)
    assert report.articles_created == project.articles.count() == len(dataset.rows)
    gold = Span.objects.filter(project=project, layer=Layer.GOLD, label=label, annotator=None)
    assert report.spans_created == gold.count() == dataset.n_spans
    assert Adjudication.objects.filter(project=project, status=Adjudication.Status.DONE).count() == len(dataset.rows)
    zeros = project.articles.exclude(pk__in=gold.values("article_id")).count()
    assert zeros == sum(1 for row in dataset.rows if not row.spans) > 0  # sentences without marked words count
    assert report.unmatched_count == len(dataset.unmatched) > 0
    assert report.unmatched_examples[0] == dict(dataset.unmatched[0])
    assert "not found in text" in report.unmatched_examples[0]["message"]

    # Outlets slugified; the metadata and a spot check of one span against the reader.
    assert report.outlets_created == len({row.outlet for row in dataset.rows})
    row = next(r for r in dataset.rows if r.spans)
    article = Article.objects.get(text=row.text, url=row.news_link)
    assert article.metadata["label_bias"] == row.label_bias and article.metadata["topic"] == row.topic
    assert article.published_at is None and article.external_id.startswith("babe-")
    assert sorted(gold.filter(article=article).values_list("start_char", "end_char")) == [
        (s.start, s.end) for s in row.spans
    ]
    assert all(s.text == row.text[s.start_char : s.end_char] for s in gold.filter(article=article))

    again = babe_import(project=project, path=path)
    assert (again.articles_created, again.spans_created, again.adjudications_created) == (0, 0, 0)
    assert (again.articles_existing, again.spans_existing) == (len(dataset.rows), dataset.n_spans)
    assert again.messages == []
    assert Span.objects.filter(project=project).count() == dataset.n_spans


def test_babe_import_counts_zeros_unmatched_and_rerun(project, tmp_path):
    path = write_babe_sample(tmp_path / "sample.csv", bom=True)
    import_and_check(project, path)
    assert project.articles.count() == len(ROWS)
    assert Outlet.objects.filter(slug="the-evening-post").exists()
    for row in ROWS:
        spans = Span.objects.filter(project=project, article__text=row.text).order_by("start_char")
        assert [span.text for span in spans] == list(row.found)
    assert Article.objects.get(text=ROWS[3].text).metadata["label_bias"] == "No agreement"


def test_babe_import_of_the_real_file(project, babe_file):
    started = time.monotonic()
    import_and_check(project, babe_file)
    assert Outlet.objects.filter(slug="fox-news").exists()
    if babe_file.name == "final_labels_SG2.train.csv":
        assert project.articles.count() == 2887
    assert time.monotonic() - started < 60


def test_babe_dry_run_and_bad_file(project, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,outlet\nhello,x\n")
    with pytest.raises(ApplicationError, match="not a BABE file"):
        babe_import(project=project, path=bad)
    good = tmp_path / "small.csv"
    good.write_text(
        "text;news_link;outlet;topic;type;label_bias;label_opinion;biased_words\n"
        "The regime's thugs attacked.;https://x.example/1;Fox News;t;right;Biased;Expresses writer's opinion;"
        "\"['thugs', 'brutal']\"\n"
        "Officials met.;https://x.example/2;Reuters;t;center;Non-biased;Entirely factual;[]\n"
    )
    call_command("import_annotations", str(good), project=project.slug, format="babe", dry_run=True)
    out = capsys.readouterr().out
    assert "2 articles to create" in out and "1 'loaded term' gold spans to create" in out
    assert "1 marked word(s) not found" in out and "'brutal'" in out
    assert Article.objects.count() == 0 and not Label.objects.filter(project=project).exists()
