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
from annotator.projects.codebook import codebook_choose
from annotator.projects.models import Label
from annotator.projects.services import codebook_load, project_create
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

    assert report.messages[0] == f"The project had no label '{BABE_LABEL}'; it was created."
    # a project without BABE's questions: every judgement is counted as not imported, with the reason
    assert report.answers_created == 0 and report.answers_skipped == {
        f"{column}: the codebook has no article or sentence question '{name}' of single choice (no such question)":
        len({(r.outlet, r.text, r.news_link) for r in dataset.rows})
        for name, column in (("bias", "label_bias"), ("opinion", "label_opinion"))
    }  # fmt: skip
    assert report.messages[1:] == [f"Not imported as an answer: {n} sentence(s), {why}." for why, n in
                                   report.answers_skipped.items()]  # fmt: skip
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
    assert again.messages == report.messages[1:]
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


def babe_project(name: str = "BABE coded"):
    owner = get_user_model().objects.create(username=f"{name}-owner".replace(" ", "-"))
    project = project_create(name=name, created_by=owner)
    codebook_load(project=project, codebook=codebook_choose(by=None, template="babe")[0], changelog="BABE", by=owner)
    return project


def _answers(project, layer=Layer.GOLD):
    from annotator.annotations.models import Answer

    return dict(
        ((text, q), v)
        for text, q, v in Answer.objects.filter(project=project, layer=layer).values_list(
            "article__text", "question__name", "value"
        )
    )


def test_babe_judgements_fill_the_bias_and_opinion_answers(tmp_path):
    project = babe_project()
    path = write_babe_sample(tmp_path / "sample.csv")
    report = babe_import(project=project, path=path)
    assert report.answers_created == 2 * len(ROWS) and report.answers_skipped == {}
    answers = _answers(project)
    values = {"Biased": "biased", "Non-biased": "non-biased", "No agreement": "no-agreement"}
    assert answers == {
        **{(r.text, "bias"): values[r.label_bias] for r in ROWS},
        **{(r.text, "opinion"): codebook_option(project, "opinion", r.label_opinion) for r in ROWS},
    }
    again = babe_import(project=project, path=path)
    assert (again.answers_created, again.answers_existing) == (0, 2 * len(ROWS))


def codebook_option(project, question: str, text: str) -> str:
    from annotator.projects.models import QuestionOption

    return QuestionOption.objects.get(question__project=project, question__name=question, text=text).value


def test_babe_judgements_as_an_annotator_and_on_sentence_questions_with_no_agreement_counted(tmp_path):
    """As a named member's answers; a bias question of sentence scope without 'No agreement' gets the sentence's
    characters, and BABE's 'No agreement' rows are counted as skipped (never silently)."""
    from annotator.annotations.models import Answer
    from annotator.projects.models import Membership
    from annotator.projects.questions import question_create

    owner = get_user_model().objects.create(username="coder-owner")
    project = project_create(name="BABE sentences", created_by=owner)
    question_create(project=project, name="bias", prompt="Biased?", scope="sentence", by=owner,
                    options=[{"value": "b", "text": "Biased"}, {"value": "n", "text": "Non-biased"}])  # fmt: skip
    coder = get_user_model().objects.create(username="coder")
    Membership.objects.create(project=project, user=coder, role="annotator")
    path = write_babe_sample(tmp_path / "sample.csv")
    with pytest.raises(ApplicationError, match="'nobody' is not a member"):
        babe_import(project=project, path=path, annotator="nobody")
    report = babe_import(project=project, path=path, annotator="coder")
    no_agreement = sum(r.label_bias == "No agreement" for r in ROWS)
    assert report.answers_created == len(ROWS) - no_agreement > 0
    assert report.answers_skipped == {
        "label_bias: 'No agreement' is no option of 'bias'": no_agreement,
        "label_opinion: the codebook has no article or sentence question 'opinion' of single choice (no such "
        "question)": len(ROWS),
    }
    assert any("2 sentence(s), label_bias: 'No agreement'" in m for m in report.messages)
    rows = Answer.objects.filter(project=project, layer=Layer.ANNOTATOR, annotator=coder)
    assert not Answer.objects.filter(project=project, layer=Layer.GOLD).exists()
    for answer in rows.select_related("article"):
        text = answer.article.text
        assert (answer.start_char, answer.end_char) == (0, len(text.strip()))
        assert answer.provenance["source"] == "BABE"
    out = __import__("io").StringIO()
    call_command("import_annotations", str(path), project=project.slug, format="babe", annotator="coder", stdout=out)
    assert (
        f"0 answers to bias and opinion created ({len(ROWS) - no_agreement} already there; as coder)" in out.getvalue()
    )


def test_babe_import_of_the_real_file_fills_the_answers(babe_file):
    project = babe_project("BABE real")
    dataset = read_babe(babe_file)
    report = babe_import(project=project, path=babe_file)
    sentences = project.articles.count()
    assert report.answers_created == 2 * sentences and report.answers_skipped == {}
    answers = _answers(project)
    biased = sum(v == "biased" for (_, q), v in answers.items() if q == "bias")
    first = {}
    for row in dataset.rows:
        first.setdefault((row.outlet, row.text, row.news_link), row)
    assert biased == sum(r.label_bias == "Biased" for r in first.values())
