"""Curation services: accept (provenance), reject (recorded, withdraws), edit, bulk accept of exact agreements,
adjudication, and who may curate."""

from __future__ import annotations

import pytest

from annotator.annotations import curation
from annotator.annotations.models import Adjudication, Layer, Span
from annotator.annotations.selectors import gold_article_ids
from annotator.common.errors import ApplicationError
from annotator.projects.services import membership_add, project_add_articles
from tests.annotator.annotations.helpers import FAST_HASHERS, annotate_standard, finish, make_world, mark
from tests.annotator.projects.factories import make_article, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashers(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def world():
    w = make_world()
    w.spans = annotate_standard(w)
    return w


def gold(world):
    return list(Span.objects.filter(project=world.project, layer=Layer.GOLD).order_by("start_char"))


def test_accept_copies_to_gold_with_provenance_and_is_idempotent(world):
    s1, s2 = world.spans["liberate1"], world.spans["liberate2"]
    g = curation.gold_span_accept(project=world.project, span=s1, by=world.curator)
    assert (g.layer, g.annotator_id, g.start_char, g.end_char, g.text, g.label_id) == (
        Layer.GOLD, None, s1.start_char, s1.end_char, "liberate", s1.label_id,
    )  # fmt: skip
    assert g.provenance["from_spans"] == [s1.pk] and g.provenance["annotators"] == [world.ann1.pk]
    assert g.provenance["action"] == "accept" and g.provenance["by"] == world.curator.pk
    # the second annotator's identical span joins the same gold span
    g2 = curation.gold_span_accept(project=world.project, span=s2, by=world.curator)
    assert g2.pk == g.pk and len(gold(world)) == 1
    assert g2.provenance["from_spans"] == sorted([s1.pk, s2.pk])
    assert g2.provenance["annotators"] == sorted([world.ann1.pk, world.ann2.pk])
    s1.refresh_from_db()
    assert s1.provenance["curation"]["status"] == "accepted" and s1.provenance["curation"]["gold_span"] == g.pk
    # accepting under another label makes a separate gold span
    other = curation.gold_span_accept(
        project=world.project, span=world.spans["takfiri1"], by=world.curator, label_id=world.labels["loaded term"].pk
    )
    assert other.label == world.labels["loaded term"] and len(gold(world)) == 2


def test_reject_is_recorded_and_withdraws_from_gold(world):
    s1, s2 = world.spans["liberate1"], world.spans["liberate2"]
    g = curation.gold_span_accept(project=world.project, span=s1, by=world.curator)
    curation.gold_span_accept(project=world.project, span=s2, by=world.curator)
    curation.annotator_span_reject(project=world.project, span=s1, by=world.curator)
    g.refresh_from_db()
    assert g.provenance["from_spans"] == [s2.pk] and g.provenance["annotators"] == [world.ann2.pk]
    s1.refresh_from_db()
    assert s1.provenance["curation"]["status"] == "rejected" and s1.layer == Layer.ANNOTATOR
    curation.annotator_span_reject(project=world.project, span=s2, by=world.curator)
    assert gold(world) == []  # no source left: the accepted gold span goes


def test_curator_drawn_and_edited_gold_spans_survive_and_validate(world):
    a = world.articles[0]
    start = a.text.index("Monday")
    g = curation.gold_span_create(
        project=world.project, article=a, by=world.curator, label_id=world.labels["loaded term"].pk,
        start_char=start, end_char=start + 6, text="Monday",
    )  # fmt: skip
    assert g.provenance["action"] == "create"
    with pytest.raises(ApplicationError, match="does not match"):
        curation.gold_span_create(
            project=world.project, article=a, by=world.curator, label_id=world.labels["loaded term"].pk,
            start_char=start, end_char=start + 6, text="Tuesday",
        )  # fmt: skip
    edited = curation.gold_span_update(project=world.project, span=g, by=world.curator, start_char=start - 3)
    assert edited.text == "on Monday" and edited.provenance["edited_by"] == world.curator.pk
    with pytest.raises(ApplicationError, match="outside the article"):
        curation.gold_span_update(project=world.project, span=g, by=world.curator, end_char=10_000)
    edited.refresh_from_db()
    assert edited.text == "on Monday"


def test_two_gold_spans_never_share_offsets_and_label(world):
    a = world.articles[0]
    lt, actor = world.labels["loaded term"].pk, world.labels["actor label"].pk
    start = a.text.index("regime")
    first = curation.gold_span_create(
        project=world.project, article=a, by=world.curator, label_id=lt, start_char=start, end_char=start + 6,
        text="regime",
    )  # fmt: skip
    with pytest.raises(ApplicationError, match="already a gold span") as refused:
        curation.gold_span_create(
            project=world.project, article=a, by=world.curator, label_id=lt, start_char=start, end_char=start + 6,
            text="regime",
        )  # fmt: skip
    assert refused.value.extra == {"end_char": [f"Gold span #{first.pk} is loaded term at {start}-{start + 6}."]}
    # the same offsets under another label are a different gold span; relabelling it onto the first is refused
    second = curation.gold_span_create(
        project=world.project, article=a, by=world.curator, label_id=actor, start_char=start, end_char=start + 6,
        text="regime",
    )  # fmt: skip
    with pytest.raises(ApplicationError, match="already a gold span"):
        curation.gold_span_update(project=world.project, span=second, by=world.curator, label_id=lt)
    second.refresh_from_db()
    assert second.label_id == actor and len(gold(world)) == 2


def test_gold_edit_on_emoji_text_relabels_moves_and_notes_in_code_points(world):
    text = "👍🏽 Fans cheered.\r\nThe re\u0301gime's so-called reforms."
    article = make_article(text=text, title="Emoji", outlet=world.articles[0].outlet)
    project_add_articles(project=world.project, by=world.owner, article_ids=[article.pk])
    start = text.index("so-called")
    g = curation.gold_span_create(
        project=world.project, article=article, by=world.curator, label_id=world.labels["loaded term"].pk,
        start_char=start, end_char=start + 9, text="so-called",
    )  # fmt: skip
    new_start = text.index("re\u0301gime")
    edited = curation.gold_span_update(
        project=world.project, span=g, by=world.curator, label_id=world.labels["scare quotes"].pk,
        start_char=new_start, note="<b>check</b>",
    )  # fmt: skip
    edited.refresh_from_db()
    assert (edited.start_char, edited.end_char) == (22, start + 9)
    assert edited.text == "re\u0301gime's so-called" == text[22 : start + 9]
    assert (edited.label.name, edited.note) == ("scare quotes", "<b>check</b>")
    assert edited.provenance["action"] == "edit" and edited.provenance["from_spans"] == []


def test_deleting_an_accepted_gold_span_puts_its_sources_back_to_undecided(world):
    s1, s2 = world.spans["liberate1"], world.spans["liberate2"]
    g = curation.gold_span_accept(project=world.project, span=s1, by=world.curator)
    curation.gold_span_accept(project=world.project, span=s2, by=world.curator)
    curation.gold_span_delete(project=world.project, span=g, by=world.curator)
    assert gold(world) == []
    for source in (s1, s2):
        source.refresh_from_db()
        assert "curation" not in source.provenance


def test_a_deleted_gold_span_restored_with_its_sources_is_accepted_from_them_again(world):
    s1, s2 = world.spans["liberate1"], world.spans["liberate2"]
    g = curation.gold_span_accept(project=world.project, span=s1, by=world.curator)
    curation.gold_span_accept(project=world.project, span=s2, by=world.curator)
    curation.gold_span_delete(project=world.project, span=g, by=world.curator)
    restored = curation.gold_span_create(
        project=world.project, article=s1.article, by=world.curator, label_id=g.label_id,
        start_char=g.start_char, end_char=g.end_char, text=g.text, note="kept", from_spans=[s2.pk, s1.pk],
    )  # fmt: skip
    assert restored.pk != g.pk and gold(world) == [restored]
    assert restored.provenance["from_spans"] == sorted([s1.pk, s2.pk])
    assert restored.provenance["annotators"] == sorted([world.ann1.pk, world.ann2.pk])
    assert restored.provenance["action"] == "accept" and restored.provenance["restored_by"] == world.curator.pk
    assert restored.note == "kept"
    for source in (s1, s2):
        source.refresh_from_db()
        assert source.provenance["curation"]["status"] == "accepted"
        assert source.provenance["curation"]["gold_span"] == restored.pk
    # it behaves as the accepted span it was: rejecting every source withdraws it
    curation.annotator_span_reject(project=world.project, span=s1, by=world.curator)
    curation.annotator_span_reject(project=world.project, span=s2, by=world.curator)
    assert gold(world) == []


def test_a_restore_naming_a_span_of_another_article_or_layer_changes_nothing(world):
    s1 = world.spans["liberate1"]
    article = s1.article
    other = next(a for a in world.articles if a.pk != article.pk)
    drawn = curation.gold_span_create(
        project=world.project, article=article, by=world.curator, label_id=world.labels["loaded term"].pk,
        start_char=0, end_char=3, text=article.text[0:3],
    )  # fmt: skip
    foreign = Span.objects.create(
        project=world.project, article=other, layer=Layer.ANNOTATOR, annotator=world.ann1,
        label=world.labels["loaded term"], start_char=0, end_char=3, text=other.text[0:3],
    )  # fmt: skip
    for ids in ([foreign.pk], [drawn.pk], [s1.pk, 999_999]):
        with pytest.raises(ApplicationError) as excinfo:
            curation.gold_span_create(
                project=world.project, article=article, by=world.curator, label_id=s1.label_id,
                start_char=s1.start_char, end_char=s1.end_char, text=s1.text, from_spans=ids,
            )  # fmt: skip
        assert "Unknown or deleted span id(s)" in str(excinfo.value.extra)
    assert gold(world) == [drawn]
    s1.refresh_from_db()
    assert "curation" not in s1.provenance


def test_bulk_accept_takes_exact_agreement_of_all_finishers_only(world):
    result = curation.gold_bulk_accept(project=world.project, by=world.curator, article=world.articles[0])
    assert result == {"articles": 1, "gold_created": 2, "already_gold": 0}
    assert [(g.text, g.label.name) for g in gold(world)] == [("liberate", "loaded term"), ("terrorists", "loaded term")]
    for g in gold(world):
        assert g.provenance["action"] == "bulk_accept"
        assert g.provenance["annotators"] == sorted([world.ann1.pk, world.ann2.pk])
        assert len(g.provenance["from_spans"]) == 2
    # again: nothing new
    again = curation.gold_bulk_accept(project=world.project, by=world.curator, article=world.articles[0])
    assert again == {"articles": 1, "gold_created": 0, "already_gold": 2}


def test_bulk_accept_project_wide_skips_single_finisher_unfinished_rejected_and_adjudicated(world):
    a, b = world.articles
    # an unfinished third annotator's matching span does not count, and does not block agreement
    curation.annotator_span_reject(project=world.project, span=world.spans["terrorists2"], by=world.curator)
    result = curation.gold_bulk_accept(project=world.project, by=world.curator)
    # article B had one finisher: nothing agreed; 'terrorists' group has a rejected span
    assert result["gold_created"] == 1 and [g.text for g in gold(world)] == ["liberate"]
    curation.adjudication_set(project=world.project, article=a, curator=world.curator, status="done")
    mark(world, world.ann1, a, "Monday", "loaded term")
    mark(world, world.ann2, a, "Monday", "loaded term")
    assert curation.gold_bulk_accept(project=world.project, by=world.curator)["gold_created"] == 0  # a is done


def test_bulk_accept_with_min_annotators(world):
    a = world.articles[0]
    third = make_user("ann3")
    membership_add(project=world.project, user=third, role="annotator", by=world.owner)
    mark(world, third, a, "liberate", "loaded term")
    finish(world, third, a)
    # all three agree only on 'liberate'; two of three also on 'terrorists'
    assert curation.gold_bulk_accept(project=world.project, by=world.curator, article=a)["gold_created"] == 1
    assert (
        curation.gold_bulk_accept(project=world.project, by=world.curator, article=a, min_annotators=2)["gold_created"]
        == 1
    )
    assert sorted(g.text for g in gold(world)) == ["liberate", "terrorists"]
    with pytest.raises(ApplicationError, match="at least 2"):
        curation.gold_bulk_accept(project=world.project, by=world.curator, min_annotators=1)


def test_adjudication_marks_gold_done_even_without_spans(world):
    b = world.articles[1]
    adj = curation.adjudication_set(project=world.project, article=b, curator=world.curator, status="done")
    assert adj.status == Adjudication.Status.DONE and b.pk in gold_article_ids(project=world.project)
    curation.adjudication_set(project=world.project, article=b, curator=world.curator, status="in_progress")
    assert b.pk not in gold_article_ids(project=world.project)
    with pytest.raises(ApplicationError, match="Unknown status"):
        curation.adjudication_set(project=world.project, article=b, curator=world.curator, status="finished")


@pytest.mark.parametrize("who", ["ann1", "viewer"])
def test_only_curators_and_owners_curate_and_nothing_changes(world, who):
    user = getattr(world, who)
    with pytest.raises(ApplicationError) as err:
        curation.gold_span_accept(project=world.project, span=world.spans["liberate1"], by=user)
    assert err.value.status_code == 403
    with pytest.raises(ApplicationError):
        curation.gold_bulk_accept(project=world.project, by=user)
    with pytest.raises(ApplicationError):
        curation.adjudication_set(project=world.project, article=world.articles[0], curator=user, status="done")
    assert gold(world) == [] and not Adjudication.objects.exists()
    curation.gold_span_accept(project=world.project, span=world.spans["liberate1"], by=world.owner)
    assert len(gold(world)) == 1


def test_curation_view_lists_everyone_agreed_flags_and_disagreements(world):
    view = curation.curation_article_view(project=world.project, article=world.articles[0])
    rows = {r["username"]: r for r in view["annotators"]}
    assert set(rows) == {"ann1", "ann2"} and all(r["status"] == "done" for r in rows.values())
    agreed = {s["text"] for s in rows["ann1"]["spans"] if s["agreed"]}
    assert agreed == {"liberate", "terrorists"} and view["agreed_groups"] == 2
    (pair,) = view["disagreements"]
    assert len(pair["label"]) == 1 and pair["label"][0]["a"]["text"] == "Takfiri"
    assert [s["text"] for s in pair["only_a"]] == ["regime"] and [s["text"] for s in pair["only_b"]] == ["claimed"]
    assert pair["n_disagreements"] == 3
