"""Codebooks as documents (annotator/projects/codebook.py): export, import with errors named by path, templates,
round trips between projects; starting a study (project_start) and the create_project / export_codebook commands."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command

from annotator.common.errors import ApplicationError
from annotator.projects.codebook import (
    CODEBOOK_TEMPLATES,
    FORMAT,
    VERSION,
    codebook_choose,
    codebook_document,
    codebook_parse,
    codebook_read,
)
from annotator.projects.models import CodebookVersion, Label, Membership, Project, Role
from annotator.projects.services import codebook_load, label_create, label_update, project_create, project_start
from tests.annotator.projects.factories import make_project, make_user

pytestmark = pytest.mark.django_db


def _doc(*labels: dict, **top) -> dict:
    return {"format": FORMAT, "version": VERSION, "labels": list(labels), **top}


def _rich_project():
    """A codebook with every field used: a sub-label, examples, unicode, an empty hotkey."""
    owner = make_user()
    project = project_create(name="Rich codebook", created_by=owner)
    actor = label_create(project=project, name="actor label", by=owner, colour="#8338ec", hotkey="a")
    label_create(
        project=project, name="dehumanising › animal", by=owner, parent=actor, description="Naming people as «vermin» 🐀",
        positive_examples=["vermin", "cockroaches"], negative_examples=["fox (the animal)"], colour="#123abc",
    )  # fmt: skip
    label_create(project=project, name="hedge", by=owner, hotkey="")
    return project, owner


class TestDocument:
    def test_export_has_format_version_and_no_ids(self):
        project, _ = _rich_project()
        document = codebook_document(project=project)
        assert document["format"] == FORMAT and document["version"] == VERSION
        assert [label["name"] for label in document["labels"]] == ["actor label", "dehumanising › animal", "hedge"]
        assert "id" not in json.dumps(document["labels"][0])
        assert document["labels"][1]["parent"] == "actor label"
        assert "parent" not in document["labels"][0]

    def test_round_trip_through_json_into_another_project_is_identical(self):
        project, _ = _rich_project()
        text = json.dumps(codebook_document(project=project), ensure_ascii=False)
        other_owner = make_user()
        other = project_create(name="Second study", created_by=other_owner)
        codebook_load(project=other, codebook=codebook_read(text.encode()), changelog="imported", by=other_owner)

        def strip(document: dict) -> list[dict]:
            return document["labels"]

        assert strip(codebook_document(project=other)) == strip(codebook_document(project=project))
        child = Label.objects.get(project=other, name="dehumanising › animal")
        assert child.parent.project_id == other.pk and child.parent.name == "actor label"
        assert child.positive_examples == ["vermin", "cockroaches"]

    def test_parents_are_written_before_children_whatever_the_order(self):
        project, owner = _rich_project()
        child = Label.objects.get(project=project, name="dehumanising › animal")
        label_update(label=child, by=owner, order=0)  # the child now sorts first
        document = codebook_document(project=project)
        names = [label["name"] for label in document["labels"]]
        assert names.index("actor label") < names.index("dehumanising › animal")
        codebook_parse(document)  # and it imports

    def test_version_snapshot_uses_the_same_label_shape(self):
        project, _ = _rich_project()
        snapshot = CodebookVersion.objects.filter(project=project).order_by("-number").first().labels_snapshot
        child = next(entry for entry in snapshot if entry["name"] == "dehumanising › animal")
        assert child["parent"] == "actor label" and child["positive_examples"] == ["vermin", "cockroaches"]
        assert "id" in child


def _project_with_questions():
    from annotator.projects.questions import question_create

    project, owner = _rich_project()
    actor = Label.objects.get(project=project, name="actor label")
    question_create(project=project, by=owner, name="primary_frame", prompt="Main frame?", kind="single", required=True,
                    hotkey="f", options=[{"value": "security", "text": "Security"}, {"value": "humanitarian"}])  # fmt: skip
    question_create(project=project, by=owner, name="tone", prompt="Tone of the sentence", scope="sentence",
                    kind="scale", options=[{"value": "neg", "numeric": -1}, {"value": "neu", "numeric": 0},
                                           {"value": "pos", "numeric": 1}])  # fmt: skip
    question_create(project=project, by=owner, name="named_by", prompt="Who names them so?", scope="span",
                    kind="text", label=actor)  # fmt: skip
    return project, owner


class TestQuestions:
    def test_questions_and_attributes_round_trip(self):
        project, _ = _project_with_questions()
        document = codebook_document(project=project)
        assert [q["name"] for q in document["questions"]] == ["primary_frame", "tone", "named_by"]
        assert document["questions"][2]["label"] == "actor label" and "id" not in document["questions"][0]
        other_owner = make_user()
        other = project_create(name="With questions", created_by=other_owner)
        codebook_load(project=other, codebook=codebook_read(json.dumps(document)), changelog="x", by=other_owner)
        copied = codebook_document(project=other)
        assert copied["questions"] == document["questions"] and copied["labels"] == document["labels"]
        version = CodebookVersion.objects.get(project=other)  # one version for the whole codebook
        assert [q["name"] for q in version.questions_snapshot] == ["primary_frame", "tone", "named_by"]

    @pytest.mark.parametrize(
        ("question", "path", "words"),
        [
            ({"name": "q", "prompt": "?", "label": "nope", "scope": "span"}, "questions[0].label", "No label 'nope'"),
            ({"name": "q", "prompt": "?", "hotkey": "1"}, "questions[0].hotkey", "used by a label"),
            ({"name": "q", "prompt": "?", "kind": "essay"}, "questions[0].kind", "is not one of"),
            ({"name": "q", "prompt": "?", "kind": "scale", "options": [{"value": "a"}, {"value": "b"}]},
             "questions[0].options", "needs its number"),
        ],
    )  # fmt: skip
    def test_a_bad_question_is_named_by_its_path_and_nothing_is_written(self, question, path, words):
        owner = make_user()
        owner.is_staff = True
        owner.save()
        document = _doc({"name": "x", "hotkey": "1"}, questions=[question])
        with pytest.raises(ApplicationError) as err:
            codebook, origin = codebook_choose(by=owner, document=document)
            project_start(name="Q study", owner=owner, by=owner, codebook=codebook, codebook_origin=origin)
        assert path in err.value.extra and words in " ".join(err.value.extra[path]), err.value.extra
        assert not Project.objects.filter(name="Q study").exists()


class TestParseErrors:
    @pytest.mark.parametrize(
        ("document", "path", "words"),
        [
            ({"version": 1, "labels": []}, "(document)", "'format' is a required property"),
            (_doc(), None, None),
            ({"format": "doccano", "version": 1, "labels": []}, "format", "not a Framescope codebook"),
            ({"format": FORMAT, "version": 2, "labels": []}, "version", "reads version 1"),
            (_doc({"name": "x", "colour": "red"}), "labels[0].colour", "does not match"),
            (_doc({"name": "x", "hotkey": "ab"}), "labels[0].hotkey", "is too long"),
            (_doc({"name": "x", "colour_hex": "#000000"}), "labels[0]", "known keys"),
            (_doc({"name": "x"}, {"name": "x"}), "labels[1].name", "listed twice"),
            (_doc({"name": "x", "hotkey": "1"}, {"name": "y", "hotkey": "1"}), "labels[1].hotkey", "labels[0]"),
            (_doc({"name": "child", "parent": "later"}, {"name": "later"}), "labels[0].parent", "listed before"),
            (_doc({"name": "x", "parent": "x"}), "labels[0].parent", "own parent"),
            (_doc({"name": "   "}), "labels[0].name", "needs a name"),
            (_doc({"name": "x"}, frames=[]), "(document)", "known keys"),
        ],
    )
    def test_each_problem_is_named_by_its_path(self, document, path, words):
        if path is None:
            assert codebook_parse(document).labels == ()
            return
        with pytest.raises(ApplicationError) as err:
            codebook_parse(document, source="study.json")
        assert path in err.value.extra, err.value.extra
        assert words in " ".join(err.value.extra[path]) + err.value.message
        assert err.value.message.startswith("study.json is not a valid codebook")

    def test_null_parent_means_none(self):
        assert codebook_parse(_doc({"name": "x", "parent": None})).labels[0].parent is None

    def test_file_that_is_not_json_or_utf8_says_so(self):
        with pytest.raises(ApplicationError, match=r"not JSON: .* line 1"):
            codebook_read(b"{nope", source="c.json")
        with pytest.raises(ApplicationError, match="not UTF-8"):
            codebook_read("{}".encode("utf-16"), source="c.json")
        assert codebook_read(b"\xef\xbb\xbf" + json.dumps(_doc({"name": "x"})).encode()).labels[0].name == "x"


class TestTemplates:
    @pytest.mark.parametrize("key", sorted(CODEBOOK_TEMPLATES))
    def test_every_template_loads(self, key):
        owner = make_user()
        project = project_create(name=f"From {key}", created_by=owner)
        codebook, origin = codebook_choose(by=owner, template=key)
        labels = codebook_load(project=project, codebook=codebook, changelog=f"Started from {origin}.", by=owner)
        assert len(labels) == len(CODEBOOK_TEMPLATES[key].labels)
        assert CodebookVersion.objects.get(project=project).changelog == f"Started from the codebook template '{key}'."

    def test_default_is_framing_and_babe_has_babes_label(self):
        assert [label.name for label in codebook_choose(by=None)[0].labels][0] == "loaded term"
        babe = codebook_choose(by=None, template="babe")[0]
        assert [label.name for label in babe.labels] == ["loaded term"]
        assert [q["name"] for q in babe.questions] == ["bias", "opinion"]
        with pytest.raises(ApplicationError, match="Unknown codebook template"):
            codebook_choose(by=None, template="nope")

    def test_copy_only_from_a_project_the_user_is_a_member_of(self):
        source = make_project()
        member, outsider = make_user(), make_user()
        Membership.objects.create(project=source, user=member, role=Role.VIEWER)
        codebook, origin = codebook_choose(by=member, copy_from=source.slug)
        assert len(codebook.labels) == 5 and source.slug in origin
        with pytest.raises(ApplicationError) as err:
            codebook_choose(by=outsider, copy_from=source.slug)
        assert "copy_from" in err.value.extra

    def test_one_source_only(self):
        with pytest.raises(ApplicationError, match="Choose one codebook source"):
            codebook_choose(by=None, template="empty", document=_doc())

    def test_loading_into_a_project_with_labels_is_refused(self):
        project = make_project()
        with pytest.raises(ApplicationError, match="already has labels"):
            codebook_load(project=project, codebook=codebook_parse(_doc({"name": "x"})), changelog="x")


class TestProjectStart:
    def test_staff_and_permitted_users_start_a_project_others_get_403(self):
        staff, permitted, plain = make_user(), make_user(), make_user()
        staff.is_staff = True
        staff.save()
        permitted.user_permissions.add(
            Permission.objects.get(codename="add_project", content_type__app_label="projects")
        )
        codebook, origin = codebook_choose(by=staff)
        project = project_start(name="Staff study", owner=staff, by=staff, codebook=codebook, codebook_origin=origin)
        assert Membership.objects.get(project=project, user=staff).role == Role.OWNER
        assert project.labels.count() == 5
        permitted = type(permitted).objects.get(pk=permitted.pk)  # permissions are cached per instance
        project_start(name="Permitted", owner=permitted, by=permitted, codebook=codebook, codebook_origin=origin)
        with pytest.raises(ApplicationError) as err:
            project_start(name="Plain", owner=plain, by=plain, codebook=codebook, codebook_origin=origin)
        assert err.value.status_code == 403
        assert not Project.objects.filter(name="Plain").exists()

    def test_a_bad_codebook_or_slug_leaves_nothing_behind(self):
        staff = make_user()
        staff.is_staff = True
        staff.save()
        codebook = codebook_parse(_doc({"name": "x", "hotkey": "1"}))
        with pytest.raises(ApplicationError) as err:
            project_start(name="Bad slug", slug="not a slug!", owner=staff, by=staff, codebook=codebook,
                          codebook_origin="test")  # fmt: skip
        assert "slug" in err.value.extra and "not valid" in err.value.message
        assert not Project.objects.filter(name="Bad slug").exists()


class TestCommands:
    def test_create_project_from_a_file_exported_by_export_codebook(self, tmp_path):
        project, _ = _rich_project()
        owner = make_user("new-owner")
        out = tmp_path / "codebook.json"
        call_command("export_codebook", project.slug, "--out", str(out))
        guidelines = tmp_path / "g.md"
        guidelines.write_text("# Mark loaded words\n", encoding="utf-8")
        call_command(
            "create_project", "Shared study", "--owner", "new-owner", "--slug", "shared", "--description", "d",
            "--guidelines", str(guidelines), "--codebook-file", str(out),
        )  # fmt: skip
        shared = Project.objects.get(slug="shared")
        assert shared.guidelines == "# Mark loaded words\n" and shared.description == "d"
        assert Membership.objects.get(project=shared, user=owner).role == Role.OWNER
        assert codebook_document(project=shared)["labels"] == codebook_document(project=project)["labels"]
        assert "codebook file 'codebook.json'" in CodebookVersion.objects.get(project=shared).changelog

    def test_create_project_errors_name_the_problem(self, tmp_path):
        make_user("someone")
        with pytest.raises(CommandError, match="no user 'ghost'"):
            call_command("create_project", "X", "--owner", "ghost")
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(_doc({"name": "x", "colour": "red"})), encoding="utf-8")
        with pytest.raises(CommandError, match=r"labels\[0\]\.colour"):
            call_command("create_project", "X", "--owner", "someone", "--codebook-file", str(bad))
        assert not Project.objects.filter(name="X").exists()
        call_command("create_project", "Template study", "--owner", "someone", "--codebook", "babe")
        assert list(Project.objects.get(slug="template-study").labels.values_list("name", flat=True)) == ["loaded term"]


def test_check_codebook_applies_every_loading_rule_and_writes_nothing(tmp_path, capsys):
    """check_codebook: a file export_codebook wrote (with questions and an attribute) is valid; the schema's problems
    and the question rules a project applies on loading (a scale point without a number, an option hotkey used
    twice, an attribute of an unknown label) are each named by path; nothing is written."""
    from annotator.projects.models import Question

    owner = make_user("checker")
    project = project_create(name="Checked", created_by=owner)
    codebook_load(project=project, codebook=codebook_choose(by=None, template="babe")[0], changelog="BABE", by=owner)
    good = tmp_path / "good.json"
    call_command("export_codebook", project.slug, "--out", str(good))
    n_projects, n_questions = Project.objects.count(), Question.objects.count()
    call_command("check_codebook", str(good))
    out = capsys.readouterr().out
    assert "good.json: a valid codebook" in out and "1 labels, 2 questions, 0 attributes" in out

    document = json.loads(good.read_text(encoding="utf-8"))
    scale = {"name": "tone", "prompt": "Tone?", "kind": "scale", "options": [{"value": "neg", "text": "Negative"},
                                                                            {"value": "pos", "text": "Positive",
                                                                             "numeric": 1}]}  # fmt: skip
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**document, "questions": [*document["questions"], scale]}), encoding="utf-8")
    attribute = tmp_path / "attribute.json"
    attribute.write_text(json.dumps({**document, "questions": [{"name": "target", "prompt": "Who?", "scope": "span",
                                                                "label": "ghost", "options": [{"value": "x"}]}]}),
                         encoding="utf-8")  # fmt: skip
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(_doc({"name": "x", "colour": "red"})), encoding="utf-8")
    with pytest.raises(CommandError, match=r"3 of 4 file\(s\) are not valid codebooks"):
        call_command("check_codebook", str(good), str(bad), str(attribute), str(schema))
    err = capsys.readouterr().err
    assert "bad.json: bad.json is not a valid codebook: questions[2] (tone)" in err and "number" in err
    assert "questions[0].label: No label 'ghost'" in err
    assert "labels[0].colour" in err
    assert (Project.objects.count(), Question.objects.count()) == (n_projects, n_questions)
