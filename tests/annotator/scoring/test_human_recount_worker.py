"""Human score sources are recounted by the worker after the writes that change them, never by a read."""

import pytest

from annotator.annotations.services import span_create, span_delete
from annotator.projects.models import Label
from annotator.scoring.models import ArticleScore
from annotator.scoring.selectors import ScoreQuery, framing_scores
from tests.annotator.projects.factories import make_article, make_outlet, make_project, make_user
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def test_a_span_save_and_delete_are_counted_by_the_worker(celery_worker):
    annotator = make_user()
    outlet = make_outlet("Recount Times")
    article = make_article(text="The regime said the rebels were terrorists.", outlet=outlet)
    project = make_project(articles=[article], annotators=[annotator])
    label = Label.objects.get(project=project, name="loaded term")
    source = f"annotator:{annotator.pk}"  # as stored; asked for by name
    query = ScoreQuery(label="loaded term", source=f"annotator:{annotator.username}")

    def n_spans() -> int | None:
        rows = framing_scores(project=project, query=query)
        return rows[0]["n_spans"] if rows else None

    start = article.text.index("regime")
    span, created = span_create(
        project=project, article=article, user=annotator, label_id=label.pk, start_char=start,
        end_char=start + 6, text="regime",
    )  # fmt: skip
    assert created
    wait_for(lambda: n_spans() == 1, timeout=60, what="the worker to count the new span")
    assert ArticleScore.objects.filter(project=project, source=source, label=label).get().n_spans == 1
    span_delete(span=span, user=annotator)
    wait_for(lambda: n_spans() in (0, None), timeout=60, what="the worker to count the deletion")
