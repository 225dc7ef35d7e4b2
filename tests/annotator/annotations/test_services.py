"""span_create / span_update / span_delete: the span rules."""

import uuid

import pytest

from annotator.annotations.models import Span
from annotator.annotations.services import span_create, span_delete, span_update
from annotator.common.errors import ApplicationError
from annotator.projects.models import CodebookVersion, Label, Role
from annotator.projects.services import label_create, membership_add
from tests.annotator.projects.factories import make_article, make_project, make_user

pytestmark = pytest.mark.django_db

TEXT = "👍🏽 Troops e\u0301 \r\n liberate مرحبا the regime's town."


@pytest.fixture
def setup():
    owner, annotator = make_user(), make_user()
    article = make_article(text=TEXT)
    project = make_project(owner=owner, articles=[article], annotators=[annotator])
    labels = {label.name: label for label in Label.objects.filter(project=project)}
    return project, article, owner, annotator, labels


def create(project, article, user, label, start, end, text=None, **kw):
    return span_create(
        project=project,
        article=article,
        user=user,
        label_id=label.pk,
        start_char=start,
        end_char=end,
        text=TEXT[start:end] if text is None else text,
        **kw,
    )


class TestSpanCreate:
    def test_code_point_offsets_after_emoji_and_crlf(self, setup):
        project, article, _, annotator, labels = setup
        start = TEXT.index("liberate")
        span, created = create(project, article, annotator, labels["loaded term"], start, start + 8)
        assert created and span.text == "liberate"
        assert start == 16  # code points: the emoji with its skin-tone modifier is 2, not 4 UTF-16 units
        assert span.annotator == annotator
        assert span.codebook_version == CodebookVersion.objects.get(project=project)

    @pytest.mark.parametrize(
        ("start", "end", "field"),
        [(-1, 3, "start_char"), (5, len(TEXT) + 1, "end_char"), (5, 5, "end_char"), (6, 4, "end_char")],
    )
    def test_offsets_outside_text_are_rejected_with_field_errors(self, setup, start, end, field):
        project, article, _, annotator, labels = setup
        with pytest.raises(ApplicationError) as err:
            create(project, article, annotator, labels["loaded term"], start, end, text="x")
        assert field in err.value.extra
        assert Span.objects.count() == 0

    def test_text_must_match_article_at_offsets(self, setup):
        project, article, _, annotator, labels = setup
        start = TEXT.index("liberate")
        # UTF-16 offsets (what a browser would count) point elsewhere in code points.
        with pytest.raises(ApplicationError) as err:
            create(project, article, annotator, labels["loaded term"], start + 2, start + 10, text="liberate")
        assert "text" in err.value.extra
        assert "does not match" in err.value.message
        assert Span.objects.count() == 0

    def test_label_must_belong_to_project(self, setup):
        project, article, owner, annotator, _ = setup
        other = make_project(owner=owner)
        foreign = Label.objects.filter(project=other).first()
        with pytest.raises(ApplicationError) as err:
            create(project, article, annotator, foreign, 0, 2)
        assert "label" in err.value.extra
        assert Span.objects.count() == 0

    def test_article_must_be_in_project(self, setup):
        project, _, _, annotator, labels = setup
        outside = make_article(text=TEXT, title="elsewhere")
        with pytest.raises(ApplicationError) as err:
            create(project, outside, annotator, labels["euphemism"], 0, 2)
        assert "article" in err.value.extra

    @pytest.mark.parametrize("role", [None, Role.VIEWER])
    def test_non_annotators_are_refused(self, setup, role):
        project, article, owner, _, labels = setup
        user = make_user()
        if role:
            membership_add(project=project, user=user, role=role, by=owner)
        with pytest.raises(ApplicationError) as err:
            create(project, article, user, labels["euphemism"], 0, 2)
        assert err.value.status_code == 403
        assert Span.objects.count() == 0

    def test_overlapping_and_nested_spans_are_allowed(self, setup):
        project, article, _, annotator, labels = setup
        a = TEXT.index("the regime's")
        create(project, article, annotator, labels["actor label"], a, a + len("the regime's town"))
        create(project, article, annotator, labels["loaded term"], a + 4, a + 10)
        create(project, article, annotator, labels["euphemism"], a + 4, a + 10)
        create(project, article, annotator, labels["scare quotes"], a - 4, a + 6)
        assert Span.objects.count() == 4

    def test_same_client_id_returns_the_existing_span(self, setup):
        project, article, _, annotator, labels = setup
        key = uuid.uuid4()
        first, created = create(project, article, annotator, labels["euphemism"], 0, 2, client_id=key)
        again, created_again = create(project, article, annotator, labels["euphemism"], 0, 2, client_id=key)
        assert created and not created_again
        assert again.pk == first.pk
        assert Span.objects.count() == 1

    def test_client_id_of_another_user_is_refused(self, setup):
        project, article, owner, annotator, labels = setup
        key = uuid.uuid4()
        create(project, article, annotator, labels["euphemism"], 0, 2, client_id=key)
        with pytest.raises(ApplicationError) as err:
            create(project, article, owner, labels["euphemism"], 0, 2, client_id=key)
        assert "client_id" in err.value.extra

    def test_records_latest_codebook_version(self, setup):
        project, article, owner, annotator, labels = setup
        label_create(project=project, name="new", by=owner)
        span, _ = create(project, article, annotator, labels["euphemism"], 0, 2)
        assert span.codebook_version.number == 2


class TestSpanUpdateDelete:
    def test_relabel_note_and_delete_own_span(self, setup):
        project, article, owner, annotator, labels = setup
        span, _ = create(project, article, annotator, labels["loaded term"], 0, 2)
        label_create(project=project, name="new", by=owner)
        span = span_update(span=span, user=annotator, label_id=labels["euphemism"].pk, note="<b>not html</b>")
        span.refresh_from_db()
        assert (span.label_id, span.note, span.codebook_version.number) == (
            labels["euphemism"].pk,
            "<b>not html</b>",
            2,
        )
        span_delete(span=span, user=annotator)
        assert Span.objects.count() == 0

    def test_other_users_spans_cannot_be_changed(self, setup):
        project, article, owner, annotator, labels = setup
        span, _ = create(project, article, annotator, labels["loaded term"], 0, 2)
        with pytest.raises(ApplicationError) as err:
            span_update(span=span, user=owner, note="mine now")
        assert err.value.status_code == 403
        with pytest.raises(ApplicationError):
            span_delete(span=span, user=owner)
        span.refresh_from_db()
        assert span.note == ""

    def test_relabel_to_foreign_label_is_refused(self, setup):
        project, article, owner, annotator, labels = setup
        span, _ = create(project, article, annotator, labels["loaded term"], 0, 2)
        foreign = Label.objects.filter(project=make_project(owner=owner)).first()
        with pytest.raises(ApplicationError) as err:
            span_update(span=span, user=annotator, label_id=foreign.pk)
        assert "label" in err.value.extra
        span.refresh_from_db()
        assert span.label_id == labels["loaded term"].pk
