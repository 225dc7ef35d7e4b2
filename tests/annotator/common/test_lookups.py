"""``__any_of``: membership in a list sent as one parameter, on both backends the suite runs against."""

from __future__ import annotations

import pytest

from annotator.corpus.models import Article, Outlet
from tests.annotator.projects.factories import make_article, make_outlet

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles() -> list[Article]:
    planet, globe = make_outlet("Daily Planet"), make_outlet("Globe")
    return [make_article(text=f"Story number {i}.", outlet=planet if i % 2 else globe) for i in range(6)]


def test_matches_what_in_matches(articles):
    wanted = [articles[4].pk, articles[1].pk, articles[2].pk]
    got = Article.objects.filter(pk__any_of=wanted).order_by("pk").values_list("pk", flat=True)
    assert list(got) == sorted(wanted)
    assert list(got) == list(Article.objects.filter(pk__in=wanted).order_by("pk").values_list("pk", flat=True))


def test_works_on_foreign_keys_text_fields_and_in_updates(articles):
    globe = Outlet.objects.get(name="Globe")
    assert Article.objects.filter(outlet_id__any_of=[globe.pk]).count() == 3
    assert Article.objects.filter(outlet__any_of=[globe.pk]).count() == 3
    assert Outlet.objects.filter(name__any_of=["Globe", "Nowhere"]).get() == globe
    updated = Article.objects.filter(pk__any_of=[articles[0].pk, articles[5].pk]).update(title="Changed")
    assert updated == 2
    assert set(Article.objects.filter(title="Changed").values_list("pk", flat=True)) == {articles[0].pk, articles[5].pk}


def test_takes_sets_dict_keys_and_generators(articles):
    ids = {a.pk for a in articles[:2]}
    assert Article.objects.filter(pk__any_of=ids).count() == 2
    assert Article.objects.filter(pk__any_of=dict.fromkeys(ids)).count() == 2
    assert Article.objects.filter(pk__any_of=(pk for pk in ids)).count() == 2


def test_empty_list_matches_nothing_and_excluding_it_matches_everything(articles):
    assert Article.objects.filter(pk__any_of=[]).count() == 0
    assert Article.objects.exclude(pk__any_of=[]).count() == len(articles)


def test_one_parameter_however_long_the_list(articles):
    """The point of the lookup: 100,000 ids (more than PostgreSQL's 65,535 parameters) are one parameter."""
    ids = [a.pk for a in articles] + list(range(10**9, 10**9 + 100_000))
    queryset = Article.objects.filter(pk__any_of=ids)
    _sql, params = queryset.query.sql_with_params()
    assert len(params) == 1
    assert queryset.count() == len(articles)


@pytest.mark.parametrize("bad", [Article.objects.values("pk"), "123", 5])
def test_refuses_what_is_not_a_list_of_values(bad):
    with pytest.raises(TypeError, match="any_of takes a list of values"):
        Article.objects.filter(pk__any_of=bad)
