"""Files written by the real doccano 1.8.4 and Label Studio 1.23.2 (tests/fixtures/interchange/, README.md there
says how they were made): every span lands on the characters it was drawn on, users map to members, what is not a
span is counted by kind, the exports Label Studio cannot import are refused with the way out; and Framescope's own
exports, imported into the real tools and exported by them again, come back unchanged.

With FRAMESCOPE_WRITE_INTERCHANGE=DIR, the round-trip test also writes Framescope's exports of the fixture
project into DIR (the input of ``make_fixtures.py round-trip DIR``).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from annotator.annotations.exchange.export import export_scope, export_text
from annotator.annotations.exchange.formats import select_format
from annotator.annotations.exchange.importing import annotations_import, read_user_map
from annotator.annotations.exchange.offsets import OffsetUnit, TextOffsets
from annotator.annotations.models import Layer, Span
from annotator.projects.models import Project
from tests.annotator.projects.factories import make_article, make_project

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "interchange"
_spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
make_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_fixtures)
TEXTS, SPANS = make_fixtures.TEXTS, make_fixtures.SPANS
DOCCANO, LABEL_STUDIO, ROUND_TRIP = FIXTURES / "doccano", FIXTURES / "labelstudio", FIXTURES / "roundtrip"


@pytest.fixture
def study() -> Project:
    """The fixture texts in a project whose members are the tools' two users (same names and e-mails)."""
    users = [get_user_model().objects.create(username=name, email=f"{name}@example.org") for name in ("admin", "bea")]
    articles = [make_article(text=text, title=f"Fixture {i}") for i, text in enumerate(TEXTS)]
    return make_project(owner=users[0], articles=articles, annotators=users[1:])


def expected(*, users=("admin", "bea")) -> set[tuple]:
    """What the script drew: (text index, user, covered characters, label)."""
    return {(i, user, covered, label) for i, user, covered, label, _ in SPANS if user in users}


def stored(project: Project, layer: str = Layer.ANNOTATOR) -> set[tuple]:
    """The spans as stored, by the characters they cover in the article text."""
    index = {text: i for i, text in enumerate(TEXTS)}
    rows = Span.objects.filter(project=project, layer=layer).values_list(
        "article__text", "annotator__username", "start_char", "end_char", "label__name", "text"
    )
    result = set()
    for text, user, start, end, label, span_text in rows:
        assert span_text == text[start:end]
        result.add((index[text], user, text[start:end], label))
    return result


def do_import(project: Project, path: Path, fmt: str, **options):
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return annotations_import(project=project, stream=stream, fmt=fmt, source=path.name, **options)


def ls_user_map() -> dict[str, str]:
    """Label Studio's user ids → e-mails, as an administrator writes the --user-map CSV from its user list."""
    users = json.loads((LABEL_STUDIO / "users.json").read_text())
    return read_user_map(io.StringIO("".join(f"{u['id']},{u['email']}\n" for u in users)))


# --- doccano -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "unit"), [("utf16", ""), ("utf16", "utf16"), ("grapheme", "grapheme"), ("utf16-relation", "")]
)
def test_doccano_exports_land_on_the_characters_drawn(study, prefix, unit):
    for user in ("admin", "bea"):
        report = do_import(study, DOCCANO / f"{prefix}-{user}.jsonl", "doccano", annotator=user, offset_unit=unit)
        assert report.errors == [] and report.written, report.errors
        assert report.offset_unit == (unit or "utf16")
        if prefix == "utf16-relation":
            assert report.skipped == ({"relation": 1} if user == "admin" else {})
    assert stored(study) == expected()


def test_doccanos_export_zip_imports_as_it_is_with_each_file_for_its_user(study, tmp_path, capsys):
    """A project that is not collaborative exports a zip with one file per user: each file's spans are its user's."""
    with (DOCCANO / "utf16.zip").open("rb") as archive:
        report = annotations_import(project=study, archive=archive, fmt="doccano", source="utf16.zip")
    assert report.errors == [] and report.written, report.errors
    assert stored(study) == expected()
    span = Span.objects.filter(project=study, annotator__username="bea").first()
    assert span.provenance["import"]["source"] == "utf16.zip/bea.jsonl"
    # the command takes the zip as it is; an unknown user is named with its file
    other = make_project(owner=get_user_model().objects.get(username="admin"), articles=list(study.articles.all()))
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=r"4 problem\(s\) in 3 record\(s\).* the 7 good record\(s\) were not"):
        call_command("import_annotations", str(DOCCANO / "utf16.zip"), project=other.slug, format="doccano")
    assert "doccano user 'bea' (bea.jsonl) is not a member" in capsys.readouterr().err
    mapping = tmp_path / "users.csv"
    mapping.write_text("source,username\nbea,admin\n")
    call_command(
        "import_annotations", str(DOCCANO / "utf16.zip"), project=other.slug, format="doccano", user_map=str(mapping)
    )
    assert {user for _, user, _, _ in stored(other)} == {"admin"}


def test_doccano_intent_export_counts_its_category(study):
    report = do_import(study, DOCCANO / "intent-admin.jsonl", "doccano", annotator="admin")
    assert report.written and report.skipped == {"category": 1}
    assert stored(study) == {(0, "admin", "liberated", "loaded term")}


def test_a_grapheme_file_read_as_utf16_lands_on_other_characters():
    """Why the unit is asked for: doccano's files carry no span text, so the same numbers read in another unit name
    other characters without any error (here: after the combining accent of "re\u0301gime")."""
    path = DOCCANO / "grapheme-admin.jsonl"
    covered = {}
    for unit in ("grapheme", "utf16"):
        with path.open(encoding="utf-8") as stream:
            records = list(select_format("doccano", unit=unit).read(stream, source=path.name))
        read = [r for r in records if not isinstance(r, dict)]  # (as UTF-16, one offset falls inside an emoji)
        covered[unit] = {(TEXTS.index(r.text), r.text[s.start : s.end], s.label) for r in read for s in r.spans}
    assert covered["grapheme"] == {(i, c, label) for i, _, c, label in expected(users=("admin",))}
    assert (1, "re\u0301gim", "actor label") in covered["utf16"]


def test_a_span_past_the_end_says_why_and_which_line_and_that_good_lines_were_held_back(study):
    lines = (DOCCANO / "utf16-admin.jsonl").read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[1])
    length = TextOffsets(row["text"], OffsetUnit.UTF16).length
    row["label"].append([length - 2, length + 3, "loaded term"])
    lines[1] = json.dumps(row, ensure_ascii=False)
    report = annotations_import(
        project=study, stream=io.StringIO("\n".join(lines) + "\n"), fmt="doccano", source="shifted.jsonl",
        annotator="admin",
    )  # fmt: skip
    assert not report.written and report.n_errors == 1
    (error,) = report.errors
    assert error["line"] == 2
    assert (
        f"span {length - 2}-{length + 3} 'loaded term': offset {length + 3} is past the end of the text "
        in error["message"]
    )
    assert (
        f"({length} UTF-16 code units)" in error["message"]
        and "--offset-unit grapheme or codepoint" in error["message"]
    )
    assert (report.records, report.records_with_errors, report.records_held_back) == (4, 1, 4)
    assert Span.objects.filter(project=study).count() == 0


def test_an_offset_inside_a_surrogate_pair_is_named(study):
    text = TEXTS[0]
    inside = TextOffsets(text, OffsetUnit.UTF16).starts[text.index("👍")] + 1
    line = json.dumps({"text": text, "label": [[inside, inside + 3, "loaded term"]]}) + "\n"
    report = annotations_import(project=study, stream=io.StringIO(line), fmt="doccano", annotator="admin")
    assert f"offset {inside} falls between the two UTF-16 units of '👍'" in report.errors[0]["message"]


# --- Label Studio --------------------------------------------------------------------------------------------------


def test_label_studio_export_lands_on_the_characters_and_counts_what_is_not_a_span(study):
    refused = do_import(study, LABEL_STUDIO / "export.json", "labelstudio")
    assert not refused.written
    assert "Label Studio user 1 is not a member" in refused.errors[0]["message"]
    assert "--user-map FILE" in refused.errors[0]["message"]
    report = do_import(study, LABEL_STUDIO / "export.json", "labelstudio", user_map=ls_user_map())
    assert report.errors == [] and report.written, report.errors
    # identical spans of the two users ("liberated") stay two spans; the region across the CRLF (value.text with
    # "\n") is stored with the text's own "\r\n"
    assert stored(study) == expected()
    assert report.skipped == {"relation": 1, "choices": 1, "cancelled annotation": 1, "prediction": 1, "draft": 1}
    again = do_import(study, LABEL_STUDIO / "export.json", "labelstudio", user_map=ls_user_map())
    assert (again.spans_created, again.spans_duplicate) == (0, len(expected()))


@pytest.mark.parametrize(
    ("name", "what"),
    [("export-min.json", "JSON_MIN export"), ("export.csv", "CSV export"), ("export.conll", "CONLL2003 export")],
)
def test_label_studio_exports_that_cannot_be_imported_are_refused_with_the_way_out(study, name, what):
    report = do_import(study, LABEL_STUDIO / name, "labelstudio")
    (error,) = report.errors
    assert f"this is Label Studio's {what}" in error["message"] and "export plain JSON instead" in error["message"]


# --- round trips through the real tools ----------------------------------------------------------------------------


def fixture_project(study: Project) -> Project:
    """The study with the tools' spans: doccano's UTF-16 files for both users, and a gold span."""
    for user in ("admin", "bea"):
        do_import(study, DOCCANO / f"utf16-{user}.jsonl", "doccano", annotator=user)
    do_import(study, DOCCANO / "utf16-admin.jsonl", "doccano", annotator="admin", layer="gold")
    return study


def export(project: Project, fmt: str, **options) -> str:
    return "".join(export_text(project=project, fmt=fmt, scope=export_scope(project=project), **options))


def test_framescope_exports_are_written_for_the_round_trip(study, tmp_path):
    project = fixture_project(study)
    target = Path(os.environ.get("FRAMESCOPE_WRITE_INTERCHANGE") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    (target / "framescope-doccano-utf16.jsonl").write_text(export(project, "doccano"), encoding="utf-8")
    (target / "framescope-labelstudio.json").write_text(export(project, "labelstudio"), encoding="utf-8")
    tasks = json.loads((target / "framescope-labelstudio.json").read_text(encoding="utf-8"))
    # what Label Studio 1.23.2's import takes: completed_by as {"email"} of a user it has
    users = {a.get("completed_by", {}).get("email") for t in tasks for a in t["annotations"]}
    assert users == {"admin@example.org", "bea@example.org"}


def round_trip_target(source: Project) -> Project:
    users = get_user_model().objects.filter(username__in=("admin", "bea")).order_by("username")
    return make_project(owner=users[0], articles=list(source.articles.all()), annotators=users[1:])


def test_doccano_round_trip_puts_every_span_back_on_its_characters(study):
    """Framescope (UTF-16 offsets) → doccano's own import → doccano's export → Framescope: doccano keeps the
    offsets and the meta (label_details: annotator, layer, text), so users and layers come back too."""
    source = fixture_project(study)
    target = round_trip_target(source)
    report = do_import(target, ROUND_TRIP / "doccano-all.jsonl", "doccano")
    assert report.errors == [] and report.written, report.errors
    assert stored(target) == stored(source) == expected()
    assert stored(target, Layer.GOLD) == stored(source, Layer.GOLD) == expected(users=("admin",))


def test_label_studio_round_trip_keeps_users_layers_and_characters(study):
    """Framescope → Label Studio's import (users by e-mail) → Label Studio's JSON export → Framescope (Label
    Studio's user ids mapped to the members' e-mails)."""
    source = fixture_project(study)
    target = round_trip_target(source)
    report = do_import(target, ROUND_TRIP / "labelstudio.json", "labelstudio", user_map=ls_user_map())
    assert report.errors == [] and report.written, report.errors
    assert stored(target) == stored(source) == expected()
    assert stored(target, Layer.GOLD) == stored(source, Layer.GOLD) == expected(users=("admin",))


# --- answers: doccano's categories, Label Studio's choices, ratings, taxonomies, texts, per-region answers ---------

SCALE = ["very_negative", "negative", "neutral", "positive", "very_positive"]


def answers_study(study: Project) -> Project:
    """The questions the tools' answer projects ask (README: answer-exports), named as the tools' tags are."""
    from annotator.projects.models import Label
    from annotator.projects.questions import question_create

    owner = get_user_model().objects.get(username="admin")
    actor = Label.objects.get(project=study, name="actor label")
    ask = lambda name, **kw: question_create(project=study, name=name, prompt=name, by=owner, **kw)  # noqa: E731
    ask("stance", options=[{"value": v} for v in ("critical", "neutral", "supportive")])
    ask("frame", kind="multiple", options=[{"value": v.lower(), "text": v} for v in make_fixtures.DOCCANO_CATEGORIES])
    ask("tone", kind="scale", options=[{"value": v, "numeric": n - 2} for n, v in enumerate(SCALE)])
    ask("topic", options=[{"value": "armed_clashes", "text": "Armed clashes"}, {"value": "displacement",
        "text": "Displacement"}, {"value": "politics", "text": "Politics"}])  # fmt: skip
    ask("why", kind="text")
    ask("target", scope="span", label=actor, options=[{"value": "government"}, {"value": "armed_opposition", "text":
        "armed opposition"}, {"value": "civilians"}])  # fmt: skip
    ask("bias", scope="sentence", options=[{"value": "biased"}, {"value": "non_biased", "text": "non-biased"}])
    return study


def answers_stored(project: Project) -> set[tuple]:
    """(text index, layer, user, question, unit, value): the unit as the characters it covers."""
    from annotator.annotations.models import Answer

    index = {text: i for i, text in enumerate(TEXTS)}
    rows = Answer.objects.filter(project=project).values_list(
        "article__text", "layer", "annotator__username", "question__name", "start_char", "end_char", "span__start_char",
        "span__end_char", "value",
    )  # fmt: skip
    result = set()
    for text, layer, user, question, start, end, span_start, span_end, value in rows:
        unit = text[start:end] if start is not None else (text[span_start:span_end] if span_start is not None else "")
        result.add((index[text], layer, user, question, unit, json.dumps(value, ensure_ascii=False)))
    return result


SENTENCE = TEXTS[0][: TEXTS[0].index("\r\n")]
LS_ANSWERS = {
    (0, "annotator", "admin", "stance", "", '"critical"'),
    (0, "annotator", "admin", "frame", "", '["security", "morality"]'),
    (0, "annotator", "admin", "tone", "", '"negative"'),  # rating 2 of 5: the second point
    (0, "annotator", "admin", "topic", "", '"armed_clashes"'),  # the taxonomy's leaf, by its text
    (0, "annotator", "admin", "why", "", '"“liberated” is the regime\'s word"'),
    (0, "annotator", "admin", "target", "the regime", '"government"'),
    (0, "annotator", "admin", "bias", SENTENCE, '"biased"'),
    (0, "annotator", "bea", "stance", "", '"neutral"'),
    (0, "annotator", "bea", "frame", "", '["security"]'),
    (0, "annotator", "bea", "tone", "", '"neutral"'),
    (0, "annotator", "bea", "topic", "", '"politics"'),
    (0, "annotator", "bea", "why", "", '"a quote"'),
    (0, "annotator", "bea", "target", "the regime", '"government"'),
    (0, "annotator", "bea", "bias", SENTENCE, '"non_biased"'),
    (1, "annotator", "admin", "stance", "", '"neutral"'),
}


def test_label_studios_choice_in_the_span_export_is_an_answer_when_the_codebook_asks_it(study):
    answers_study(study)
    report = do_import(study, LABEL_STUDIO / "export.json", "labelstudio", user_map=ls_user_map())
    assert report.errors == [] and report.written, report.errors
    assert report.skipped == {"relation": 1, "cancelled annotation": 1, "prediction": 1, "draft": 1}
    assert answers_stored(study) == {(0, "annotator", "admin", "stance", "", '"critical"')}
    assert stored(study) == expected()


def test_label_studio_answers_written_by_the_tool_land_on_their_units(study):
    """choices (single, multiple), rating, taxonomy, textarea, per-region choices on an actor label (an attribute) and
    on a framescope_sentence region (a sentence answer), from Label Studio 1.23.2's JSON export."""
    answers_study(study)
    report = do_import(study, LABEL_STUDIO / "answers-export.json", "labelstudio", user_map=ls_user_map())
    assert report.errors == [] and report.written and report.skipped == {}, report.errors
    assert report.answers_created == len(LS_ANSWERS)
    assert answers_stored(study) == LS_ANSWERS
    assert stored(study) == {(0, "admin", "the regime", "actor label"), (0, "bea", "the regime", "actor label")}
    again = do_import(study, LABEL_STUDIO / "answers-export.json", "labelstudio", user_map=ls_user_map())
    assert (again.answers_created, again.answers_duplicate) == (0, len(LS_ANSWERS))


DOCCANO_ANSWERS = {
    (i, "annotator", user, "frame", "", json.dumps([c.lower() for c in cats]))
    for (user, i), cats in make_fixtures.DOCCANO_CLASSES.items()
}


def test_doccanos_text_classification_zip_gives_each_user_their_answers(study):
    """doccano 1.8.4's text-classification export (one file per user): categories name the options by text; an
    example without a category is no answer."""
    answers_study(study)
    with (DOCCANO / "classification.zip").open("rb") as archive:
        report = annotations_import(
            project=study, archive=archive, fmt="doccano-classification", source="c.zip", question="frame"
        )
    assert report.errors == [] and report.written, report.errors
    assert answers_stored(study) == DOCCANO_ANSWERS
    # into a single-choice question, admin's two categories on text 1 are refused by name
    single = do_import(study, DOCCANO / "classification-admin.jsonl", "doccano-classification", question="stance",
                       annotator="admin")  # fmt: skip
    assert (
        "label has 2 categories ('Economic', 'Morality') but 'stance' takes one answer" in single.errors[0]["message"]
    )


def test_doccanos_intent_category_answers_the_question_named(study):
    answers_study(study)
    report = do_import(study, DOCCANO / "intent-admin.jsonl", "doccano", annotator="admin", question="stance")
    assert report.written and report.skipped == {}, report.errors
    assert answers_stored(study) == {(0, "annotator", "admin", "stance", "", '"critical"')}


def answers_fixture_project(study: Project) -> Project:
    """The answer fixtures imported: Label Studio's answers, doccano's categories, and gold answers from admin's."""
    answers_study(study)
    do_import(study, LABEL_STUDIO / "answers-export.json", "labelstudio", user_map=ls_user_map())
    report = do_import(study, DOCCANO / "classification-admin.jsonl", "doccano-classification", question="frame",
                       layer="gold")  # fmt: skip
    assert report.errors == [] and report.answers_created == 2, report.errors
    return study


def test_framescope_answer_exports_are_written_for_the_round_trip(study, tmp_path):
    project = answers_fixture_project(study)
    target = Path(os.environ.get("FRAMESCOPE_WRITE_INTERCHANGE") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    (target / "framescope-labelstudio-answers.json").write_text(export(project, "labelstudio"), encoding="utf-8")
    classification = export(project, "doccano-classification", question="frame")
    (target / "framescope-doccano-classification.jsonl").write_text(classification, encoding="utf-8")
    assert json.loads(classification.splitlines()[1])["label"] == ["economic", "morality"]


def test_label_studio_answer_round_trip_gives_every_answer_back(study):
    """Framescope's Label Studio export (choices, rating, textarea, per-region answers on span and framescope_sentence
    regions) → Label Studio 1.23.2's import → its JSON export → Framescope: the same answers, users and layers."""
    source = answers_fixture_project(study)
    target = answers_study(round_trip_target(source))
    report = do_import(target, ROUND_TRIP / "labelstudio-answers.json", "labelstudio", user_map=ls_user_map())
    assert report.errors == [] and report.written and report.skipped == {}, report.errors
    assert answers_stored(target) == answers_stored(source)
    assert {row[1] for row in answers_stored(target)} == {"annotator", "gold"}


def test_doccano_classification_round_trip_keeps_each_annotators_answer(study):
    """Framescope's doccano-classification export → doccano 1.8.4's import (a collaborative project) → its export
    (all.jsonl) → Framescope: meta.answer_details gives each annotator's and the gold answer back."""
    source = answers_fixture_project(study)
    target = answers_study(round_trip_target(source))
    report = do_import(target, ROUND_TRIP / "doccano-classification-all.jsonl", "doccano-classification",
                       question="frame")  # fmt: skip
    assert report.errors == [] and report.written, report.errors
    frames = lambda p: {row for row in answers_stored(p) if row[3] == "frame"}  # noqa: E731
    assert frames(target) == frames(source) and len(frames(source)) == 4


# --- the page and the API ------------------------------------------------------------------------------------------


def test_the_page_asks_for_the_unit_and_the_user_map(study):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import client_login

    client = client_login(get_user_model().objects.get(username="admin"))
    address = f"/projects/{study.slug}/exchange/"
    html = client.get(address).content.decode()
    assert 'name="offset_unit"' in html and 'name="user_map"' in html and "offset_unit=grapheme" in html
    export_json = (LABEL_STUDIO / "export.json").read_bytes()
    users = json.loads((LABEL_STUDIO / "users.json").read_text())
    user_map = "source,username\n" + "".join(f"{u['id']},{u['email']}\n" for u in users)
    response = client.post(
        address,
        {
            "format": "labelstudio",
            "file": SimpleUploadedFile("export.json", export_json),
            "user_map": SimpleUploadedFile("users.csv", user_map.encode()),
        },
    )
    html = response.content.decode()
    assert response.status_code == 200, html
    assert "Not spans, skipped: 1 cancelled annotation, 1 choices, 1 draft, 1 prediction, 1 relation." in html
    assert stored(study) == expected()
    grapheme = client.post(
        address,
        {
            "format": "doccano",
            "offset_unit": "grapheme",
            "layer": "gold",
            "annotator": "admin",
            "file": SimpleUploadedFile("g.jsonl", (DOCCANO / "grapheme-admin.jsonl").read_bytes()),
        },
    )
    assert grapheme.status_code == 200 and "offsets read as grapheme" in grapheme.content.decode()
    assert stored(study, Layer.GOLD) == expected(users=("admin",))
    response = client.get(f"/api/v1/projects/{study.slug}/annotations/export/?format=doccano&offset_unit=grapheme")
    assert response["Content-Disposition"].endswith('-all-doccano-grapheme.jsonl"')
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert lines[1]["meta"]["offset_unit"] == "grapheme"
    assert [3, 9, "actor label"] in lines[1]["label"]  # "re\u0301gime": 6 grapheme clusters from the 4th
