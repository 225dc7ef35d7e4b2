"""Annotation exchange: formats, round trips, BIO tags, CSV escaping, streaming, bad input, idempotence, CLI."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotator.annotations.exchange.export import export_articles, export_scope, export_text
from annotator.annotations.exchange.formats import FORMATS, bio_tags, conll_tokens, spans_from_bio
from annotator.annotations.exchange.importing import annotations_import
from annotator.annotations.exchange.records import SpanRecord
from annotator.annotations.models import Adjudication, Layer, Span
from annotator.corpus.models import Article
from annotator.projects.models import Label, Project, Role
from annotator.projects.services import membership_add
from tests.annotator.projects.factories import make_article, make_project

pytestmark = pytest.mark.django_db

TEXTS = [
    "Syrian troops liberate areas from Takfiri Daesh terrorists. 👍🏽 great!\r\nNext line.",
    "Le re\u0301gime a «\u00a0libe\u0301re\u0301\u00a0» la ville.",
    "قوات النظام حررت المدينة من الإرهابيين",
    "=cmd|' /C calc'!A0 said the so-called \"experts\".",
    "A quiet day with nothing loaded in it.",
]


def make_user(username: str | None = None):
    """A user without a password hash (hashing is slow and these tests log in with force_login)."""
    from django.contrib.auth import get_user_model

    global _users
    _users += 1
    return get_user_model().objects.create(username=username or f"exchange-user{_users}")


_users = 0


@dataclass
class World:
    project: Project
    articles: list[Article]
    owner: object
    a1: object
    a2: object


def add_span(world: World, i: int, word: str, label: str, *, user=None, layer=Layer.ANNOTATOR, note: str = "", nth=0):
    text = world.articles[i].text
    start = -1
    for _ in range(nth + 1):
        start = text.index(word, start + 1)
    return Span.objects.create(
        project=world.project,
        article=world.articles[i],
        layer=layer,
        annotator=user,
        label=Label.objects.get(project=world.project, name=label),
        start_char=start,
        end_char=start + len(word),
        text=word,
        note=note,
    )


def build_world() -> World:
    owner, a1, a2 = make_user(), make_user(), make_user()
    articles = [make_article(text=text, title=f"Story {i}") for i, text in enumerate(TEXTS)]
    project = make_project(owner=owner, articles=articles, annotators=[a1, a2])
    w = World(project, articles, owner, a1, a2)
    add_span(w, 0, "liberate", "loaded term", user=a1)
    add_span(w, 0, "terrorists", "actor label", user=a1, note="labels, not describes")
    add_span(w, 1, "re\u0301gime", "loaded term", user=a1)
    add_span(w, 2, "الإرهابيين", "actor label", user=a1)
    add_span(w, 3, "=cmd", "loaded term", user=a1, note="+SUM(A1)")
    add_span(w, 3, '"experts"', "scare quotes", user=a1)
    add_span(w, 0, "Takfiri Daesh terrorists", "actor label", user=a2)
    add_span(w, 0, "👍🏽", "euphemism", user=a2)
    add_span(w, 0, "liberate", "loaded term", layer=Layer.GOLD, note="agreed")
    add_span(w, 2, "الإرهابيين", "actor label", layer=Layer.GOLD)
    for i in (0, 2, 4):
        Adjudication.objects.create(project=project, article=articles[i], status=Adjudication.Status.DONE)
    return w


@pytest.fixture
def world() -> World:
    return build_world()


def span_set(project: Project, *, notes: bool = True) -> set[tuple]:
    rows = Span.objects.filter(project=project).values_list(
        "article_id", "layer", "annotator__username", "label__name", "start_char", "end_char", "text", "note"
    )
    return {row if notes else row[:-1] for row in rows}


def export(project: Project, fmt: str, **scope) -> str:
    return "".join(export_text(project=project, fmt=fmt, scope=export_scope(project=project, **scope)))


def fresh_project(world: World, *, with_articles: bool = True) -> Project:
    return make_project(
        owner=world.owner, articles=world.articles if with_articles else (), annotators=[world.a1, world.a2]
    )


def do_import(project: Project, data: str, fmt: str, **options):
    return annotations_import(project=project, stream=io.StringIO(data, newline=""), fmt=fmt, source="in", **options)


# --- round trips -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [name for name, cls in FORMATS.items() if cls.carries_spans])
def test_round_trip_into_a_fresh_project_gives_identical_spans(world, fmt):
    data = export(world.project, fmt)
    target = fresh_project(world)
    report = do_import(target, data, fmt)
    assert report.errors == [] and report.written
    assert report.spans_created == Span.objects.filter(project=world.project).count() == 10
    # CoNLL has no place for notes; every other format keeps them.
    keeps_notes = fmt != "conll"
    assert span_set(target, notes=keeps_notes) == span_set(world.project, notes=keeps_notes)
    again = do_import(target, data, fmt)
    assert (again.spans_created, again.spans_duplicate) == (0, 10)
    assert Span.objects.filter(project=target).count() == 10


def test_native_is_lossless_and_links_corpus_articles(world):
    data = export(world.project, "native")
    target = fresh_project(world, with_articles=False)
    refused = do_import(target, data, "native")
    assert not refused.written and refused.n_errors == len(TEXTS)
    assert "pass --create-articles" in refused.errors[0]["message"]
    assert Span.objects.filter(project=target).count() == 0

    report = do_import(target, data, "native", create_articles=True)
    assert report.written and (report.articles_linked, report.articles_created) == (len(TEXTS), 0)
    assert report.adjudications_created == 3
    assert export(target, "native") == data  # byte for byte: texts, offsets, spans, notes, adjudication


def test_native_round_trip_keeps_emoji_combining_crlf_and_rtl_exactly(world):
    data = export(world.project, "native")
    lines = [json.loads(line) for line in data.splitlines()]
    assert [line["text"] for line in lines] == TEXTS
    emoji = next(s for s in lines[0]["spans"] if s["label"] == "euphemism")
    assert (emoji["end"] - emoji["start"], emoji["text"]) == (2, "👍🏽")  # two code points, not 4 UTF-16 units
    assert lines[0]["offset_unit"] == "codepoint" and "\r\n" in lines[0]["text"]


def test_create_articles_puts_unknown_texts_in_the_imported_outlet(world):
    row = {"text": "A brand new text about regime change.", "label": [[23, 29, "loaded term"]]}
    report = do_import(world.project, json.dumps(row) + "\n", "doccano", annotator=world.a1.username)
    assert not report.written and "pass --create-articles" in report.errors[0]["message"]
    report = do_import(
        world.project, json.dumps(row) + "\n", "doccano", annotator=world.a1.username, create_articles=True
    )
    assert report.written and report.articles_created == 1
    span = Span.objects.get(project=world.project, text="regime")
    assert span.article.outlet.slug == "imported" and span.annotator == world.a1
    assert world.project.articles.filter(pk=span.article_id).exists()


def test_overrides_put_every_span_in_one_layer_and_annotator(world):
    data = export(world.project, "doccano", layer="annotator", annotator=world.a2.username)
    target = fresh_project(world)
    report = do_import(target, data, "doccano", layer="gold", annotator=world.a1.username)
    assert report.spans_created == 2
    assert set(Span.objects.filter(project=target).values_list("layer", "annotator")) == {("gold", world.a1.pk)}


# --- export contents -------------------------------------------------------------------------------------------


def test_export_scopes_gold_and_one_annotator(world):
    gold = [json.loads(line) for line in export(world.project, "native", layer="gold").splitlines()]
    assert {s["layer"] for line in gold for s in line["spans"]} == {"gold"}
    assert [line.get("adjudication") for line in gold] == ["done", None, "done", None, "done"]
    mine = [json.loads(line) for line in export(world.project, "native", annotator=world.a2.username).splitlines()]
    assert [line["article"]["id"] for line in mine] == [world.articles[0].pk]  # only articles a2 worked on
    assert {(s["annotator"], s["text"]) for s in mine[0]["spans"]} == {
        (world.a2.username, "Takfiri Daesh terrorists"),
        (world.a2.username, "👍🏽"),
    }


def test_every_format_names_annotator_label_text_and_offset_unit(world):
    for fmt in (name for name, cls in FORMATS.items() if cls.carries_spans):
        data = export(world.project, fmt)
        # CoNLL names the span text token by token.
        span_text = "Takfiri\tB-actor label\nDaesh\tI-actor label" if fmt == "conll" else "Takfiri Daesh terrorists"
        unit = "utf16" if fmt == "doccano" else "codepoint"  # doccano counts as doccano does
        for needle in (world.a2.username, "actor label", span_text, unit):
            assert needle in data, (fmt, needle)


def test_label_studio_shape(world):
    tasks = json.loads(export(world.project, "labelstudio"))
    task = tasks[0]
    assert task["data"]["text"] == TEXTS[0]
    by_user = {a.get("framescope_annotator"): a for a in task["annotations"]}
    assert by_user[None]["ground_truth"] is True and "completed_by" not in by_user[None]
    result = by_user[world.a2.username]["result"][0]
    assert result["type"] == "labels" and (result["from_name"], result["to_name"]) == ("label", "text")
    assert result["value"]["labels"] == ["actor label"] and result["value"]["text"] == "Takfiri Daesh terrorists"


def test_unknown_format_and_layer_are_rejected(world):
    from annotator.common.errors import ApplicationError

    with pytest.raises(ApplicationError, match="unknown format 'xml'"):
        export_text(project=world.project, fmt="xml", scope=export_scope(project=world.project))
    with pytest.raises(ApplicationError, match="Unknown layer"):
        export_scope(project=world.project, layer="everything")
    with pytest.raises(ApplicationError, match="No member called 'nobody'"):
        export_scope(project=world.project, annotator="nobody")


# --- BIO -------------------------------------------------------------------------------------------------------


def test_bio_tags_on_hand_made_cases():
    text = 'The so-called "experts" said: regime forces liberate it.'
    tokens = conll_tokens(text)
    assert [t for _, _, t in tokens] == [
        "The", "so-called", '"', "experts", '"', "said", ":", "regime", "forces", "liberate", "it", ".",
    ]  # fmt: skip

    def span(word, label, shift=0, cut=0):
        start = text.index(word) + shift
        return SpanRecord(start=start, end=start + len(word) - shift - cut, label=label)

    tags, notes = bio_tags(
        tokens,
        [
            span('"experts"', "scare quotes"),
            span("regime forces", "actor label"),
            span("liberate", "loaded term"),
            span("forces liberate", "loaded term"),  # overlaps: left out, and said so
            span("so-called", "hedge", shift=3),  # "called" only: widened to the token
        ],
    )
    assert tags == [
        "O", "B-hedge", "B-scare quotes", "I-scare quotes", "I-scare quotes", "O", "O",
        "B-actor label", "I-actor label", "B-loaded term", "O", "O",
    ]  # fmt: skip
    assert any("overlaps another span" in n for n in notes)
    assert any("widened" in n for n in notes)


def test_spans_from_bio_reads_chunks_and_checks_tokens():
    text = "regime forces liberate it"
    rows = [("regime", "B-a", 1), ("forces", "I-a", 2), ("liberate", "I-b", 3), ("it", "O", 4)]
    spans, problems = spans_from_bio(text, rows)
    assert problems == []
    assert [(s.start, s.end, s.label, s.text) for s in spans] == [
        (0, 13, "a", "regime forces"),
        (14, 22, "b", "liberate"),  # an I- after another label starts a chunk (conlleval)
    ]
    _, problems = spans_from_bio(text, [("regime", "O", 1), ("farces", "O", 2), ("liberate", "O", 3), ("it", "O", 4)])
    assert problems == [(2, "token 'farces' does not match the article's text ('forces' there)")]
    _, problems = spans_from_bio(
        text, [("regime", "X-a", 7), ("forces", "O", 8), ("liberate", "O", 9), ("it", "O", 10)]
    )
    assert problems[0][0] == 7 and "is not O, B-<label> or I-<label>" in problems[0][1]


def test_conll_export_has_comments_and_blank_line_between_blocks(world):
    data = export(world.project, "conll", layer="annotator", annotator=world.a1.username)
    blocks = data.strip("\n").split("\n\n")
    assert len(blocks) == 4  # the four articles a1 marked
    first = blocks[0].splitlines()
    assert first[0] == f"# article_id = {world.articles[0].pk}"
    assert f"# annotator = {world.a1.username}" in first and "# offset_unit = codepoint" in first
    assert "liberate\tB-loaded term" in first and "terrorists\tB-actor label" in first


# --- CSV -------------------------------------------------------------------------------------------------------


def test_csv_escapes_formula_cells_and_reads_them_back(world):
    data = export(world.project, "csv")
    rows = list(csv.DictReader(io.StringIO(data)))
    cmd = next(r for r in rows if r["label"] == "loaded term" and r["start"] == "0")
    assert cmd["text"] == "'=cmd" and cmd["note"] == "'+SUM(A1)"
    assert all(not r[c].startswith(("=", "+", "-", "@")) for r in rows for c in r)
    target = fresh_project(world)
    do_import(target, data, "csv")
    span = Span.objects.get(project=target, start_char=0, article=world.articles[3])
    assert (span.text, span.note) == ("=cmd", "+SUM(A1)")


# --- streaming -------------------------------------------------------------------------------------------------


def test_export_streams_chunk_by_chunk(world):
    scope = export_scope(project=world.project)
    with CaptureQueriesContext(connection) as queries:
        records = export_articles(project=world.project, scope=scope, chunk_size=2)
        first = next(records)
        after_first = len(queries)
        rest = list(records)
    span_queries = [q for q in queries.captured_queries if 'FROM "annotations_span"' in q["sql"]]
    assert first.article_id == world.articles[0].pk and len(rest) == len(TEXTS) - 1
    assert len(span_queries) == 3  # one spans query per chunk of 2 articles: 5 articles -> 3 chunks
    assert after_first < len(queries)  # the first record came before the later chunks were read


def test_export_text_yields_before_the_end_for_big_exports(world, monkeypatch):
    import annotator.annotations.exchange.export as export_module

    monkeypatch.setattr(export_module, "STREAM_CHUNK_CHARS", 10)
    pieces = export_text(project=world.project, fmt="native", scope=export_scope(project=world.project), chunk_size=1)
    with CaptureQueriesContext(connection) as queries:
        first = next(pieces)
        before = len(queries)
        rest = "".join(pieces)
    assert json.loads(first)["article"]["id"] == world.articles[0].pk
    assert len(queries) > before
    assert first + rest == export(world.project, "native")


# --- bad input -------------------------------------------------------------------------------------------------


def test_per_record_errors_with_line_numbers_and_nothing_written(world):
    lines = export(world.project, "native").splitlines()
    good = json.loads(lines[0])
    out_of_text = json.loads(lines[1])
    out_of_text["spans"][0]["end"] = 10_000
    unknown_label = json.loads(lines[2])
    unknown_label["spans"][0]["label"] = "propaganda"
    wrong_text = json.loads(lines[3])
    wrong_text["spans"][0]["text"] = "=cmc"
    rows = [json.dumps(good), "{not json", json.dumps(out_of_text), json.dumps(unknown_label), json.dumps(wrong_text)]
    target = fresh_project(world)
    report = do_import(target, "\n".join(rows) + "\n", "native")
    assert not report.written and report.n_errors == 4
    assert [e["line"] for e in report.errors] == [2, 3, 4, 5]
    assert all(e["source"] == "in" for e in report.errors)
    assert "not valid JSON" in report.errors[0]["message"]
    assert "fall outside the article text" in report.errors[1]["message"]
    assert "unknown label 'propaganda'" in report.errors[2]["message"]
    assert "does not match the article" in report.errors[3]["message"] and "'=cmc'" in report.errors[3]["message"]
    assert Span.objects.filter(project=target).count() == 0  # the good first line was not written either
    # ... though it counted what it would have written: 5 spans of line 1, the other span of lines 4 and 5.
    assert report.spans_created == 5 + 1 + 1


FOREIGN_UNIT = {
    "native": '{"text": "abc", "offset_unit": "utf16", "spans": []}\n',
    "doccano": '{"text": "abc", "label": [], "meta": {"offset_unit": "bytes"}}\n',
    "labelstudio": '[{"data": {"text": "abc", "offset_unit": "utf16"}}]',
    "csv": "article_id,start,end,label,offset_unit\r\n1,0,1,x,utf16\r\n",
}
BAD_OFFSET = {  # a span whose start is no integer, and the name the message must give it
    "doccano": ('{"text": "abc", "label": [["one", 2, "x"]], "meta": {"article_id": 7}}\n', "start"),
    "labelstudio": (
        '[{"data": {"text": "abc"}, "annotations": [{"result": [{"type": "labels", "value": '
        '{"start": "one", "end": 2, "labels": ["x"]}}]}]}]',
        "value.start",
    ),
}


@pytest.mark.parametrize("fmt", sorted(FOREIGN_UNIT))
def test_every_reader_refuses_another_offset_unit(fmt):
    (error,) = FORMATS[fmt]().read(io.StringIO(FOREIGN_UNIT[fmt]), source="in")
    if fmt == "doccano":
        assert error["message"].endswith("offset_unit 'bytes' is not supported (only 'utf16', 'grapheme', 'codepoint')")
    else:
        assert error["message"].endswith("offset_unit 'utf16' is not supported (only 'codepoint')"), error


@pytest.mark.parametrize("fmt", sorted(BAD_OFFSET))
def test_doccano_and_label_studio_readers_name_the_bad_span_field(fmt):
    data, field = BAD_OFFSET[fmt]
    (error,) = FORMATS[fmt]().read(io.StringIO(data), source="in")
    assert f"{field} must be an integer (a code-point offset), got 'one'" in error["message"], error


@pytest.mark.parametrize("fmt", ["doccano", "labelstudio"])
def test_doccano_and_label_studio_readers_give_the_same_span_and_article_fields(fmt):
    rows = {
        "doccano": '{"text": "the regime said", "label": [[4, 10, "loaded term"]], "meta": {"article_id": 7, '
        '"outlet": "herald", "label_details": [{"annotator": "ann", "text": "regime", "note": "n"}]}}\n',
        "labelstudio": '[{"data": {"text": "the regime said", "article_id": 7, "outlet": "herald"}, "annotations": '
        '[{"completed_by": {"username": "ann"}, "result": [{"type": "labels", "meta": {"text": ["n"]}, '
        '"value": {"start": 4, "end": 10, "text": "regime", "labels": ["loaded term"]}}]}]}]',
    }
    (record,) = FORMATS[fmt]().read(io.StringIO(rows[fmt]), source="in")
    assert (record.text, record.article_id, record.outlet, record.external_id, record.line) == (
        "the regime said",
        7,
        "herald",
        "",
        1,
    )
    (span,) = record.spans
    assert (span.start, span.end, span.label, span.text, span.annotator, span.note, span.layer, span.line) == (
        4, 10, "loaded term", "regime", "ann", "n", None, 1
    )  # fmt: skip


def test_csv_errors_name_the_physical_line(world):
    data = export(world.project, "csv")
    rows = data.split("\r\n")
    rows[3] = rows[3].replace("actor label", "no such label")
    report = do_import(fresh_project(world), "\r\n".join(rows), "csv")
    assert [e["line"] for e in report.errors] == [4]


def test_annotator_must_be_a_member_and_annotator_layer_needs_one(world):
    data = export(world.project, "native", layer="annotator")
    target = make_project(owner=world.owner, articles=world.articles, annotators=[world.a1])
    report = do_import(target, data, "native")
    assert not report.written
    assert {e["message"].split(": ", 1)[1] for e in report.errors} == {
        f"annotator {world.a2.username!r} is not a member of project '{target.slug}'"
    }
    bare = json.dumps({"text": TEXTS[4], "label": [[2, 7, "loaded term"]]}) + "\n"
    report = do_import(target, bare, "doccano")
    assert "needs an annotator (pass --annotator USER)" in report.errors[0]["message"]


def test_dry_run_counts_but_writes_nothing(world):
    data = export(world.project, "labelstudio")
    target = fresh_project(world)
    report = do_import(target, data, "labelstudio", dry_run=True)
    assert report.dry_run and not report.written and report.errors == []
    assert report.spans_created == 10 and Span.objects.filter(project=target).count() == 0


def test_only_owners_and_curators_may_import(world):
    from annotator.common.errors import ApplicationError

    with pytest.raises(ApplicationError, match="owners and curators"):
        do_import(world.project, "", "native", by=world.a1)
    viewer = make_user()
    membership_add(project=world.project, user=viewer, role=Role.CURATOR, by=world.owner)
    assert do_import(world.project, "", "native", by=viewer).written


# --- command line ----------------------------------------------------------------------------------------------


def test_commands_export_and_import(world, tmp_path, capsys):
    path = tmp_path / "gold.jsonl"
    call_command("export_annotations", project=world.project.slug, format="native", layer="gold", output=str(path))
    target = fresh_project(world)
    call_command("import_annotations", str(path), project=target.slug, format="native", dry_run=True)
    assert "Dry run: 5 records" in capsys.readouterr().out
    assert Span.objects.filter(project=target).count() == 0
    call_command("import_annotations", str(path), project=target.slug, format="native")
    assert "2 spans created" in capsys.readouterr().out
    assert Span.objects.filter(project=target, layer="gold").count() == 2

    call_command("export_annotations", project=world.project.slug, format="csv", annotator=world.a2.username)
    assert "Takfiri Daesh terrorists" in capsys.readouterr().out

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "spans": [{"start": 0, "end": 1, "label": "nope", "text": "x"}]}\n')
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_annotations", str(bad), project=target.slug, format="native", create_articles=True)
    assert "bad.jsonl:1:" in capsys.readouterr().err
    with pytest.raises(CommandError, match="no project"):
        call_command("export_annotations", project="nope", format="csv")
