"""Reads for the corpus app."""

from typing import Any

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet, Value
from django.http import Http404

from annotator.corpus.models import Article, ImportBatch, Outlet


def import_batch_article_ids(*, batch_id: int) -> QuerySet:
    """Ids of the articles an import batch created (the input of a post-import hook)."""
    return Article.objects.filter(batch_id=batch_id).order_by("id").values_list("id", flat=True)


def import_batch_progress(*, batch: ImportBatch) -> dict:
    """The live progress of a batch, as the admin's status endpoint returns it."""
    fraction = None
    if batch.bytes_total:
        fraction = min(1.0, batch.bytes_read / batch.bytes_total)
    return {
        "id": batch.pk,
        "status": batch.status,
        "dry_run": batch.dry_run,
        "rows_read": batch.rows_read,
        "bytes_read": batch.bytes_read,
        "bytes_total": batch.bytes_total,
        "fraction": fraction,
        "created": batch.created_count,
        "duplicates": batch.duplicate_count,
        "rejected": batch.rejected_count,
        "outlets_created": batch.outlets_created,
        "error_message": batch.error_message,
        "errors_shown": len(batch.errors or []),
        "started_at": batch.started_at.isoformat() if batch.started_at else None,
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
    }


# --- what a user may see (the REST API's corpus endpoints) ------------------------------------------------
#
# Staff see every article, outlet and import batch. Other users see the articles of the projects they are members
# of. An article's outlet details (outlet, byline, URL, external id, metadata, story cluster) are visible when at
# least one of those projects lets the user see outlets: every project except an outlet-blind one in which the
# user is an annotator. Outlets are listed only when the user may see at least one of their articles' outlet.

OUTLET_FIELDS_HIDDEN = ("outlet", "outlet_name", "url", "byline", "external_id", "metadata", "cluster_id")


def _member_project_ids(*, user: Any) -> QuerySet:
    from annotator.projects.models import Membership

    return Membership.objects.filter(user=user).values("project_id")


def _outlet_visible_project_ids(*, user: Any) -> QuerySet:
    from annotator.projects.models import Membership, Role

    blind = Q(role=Role.ANNOTATOR, project__outlet_blind=True)
    return Membership.objects.filter(user=user).exclude(blind).values("project_id")


def article_list_for_user(*, user: Any) -> QuerySet[Article]:
    """Articles the user may see, with their outlet, annotated with `outlet_visible` (see the rule above)."""
    from annotator.projects.models import ProjectArticle

    articles = Article.objects.select_related("outlet")
    if not user.is_authenticated:
        return articles.none()
    if user.is_staff:
        return articles.annotate(outlet_visible=Value(True, output_field=BooleanField()))
    links = ProjectArticle.objects.filter(article_id=OuterRef("pk"))
    return articles.annotate(
        outlet_visible=Exists(links.filter(project_id__in=_outlet_visible_project_ids(user=user)))
    ).filter(Exists(links.filter(project_id__in=_member_project_ids(user=user))))


def article_get_for_user(*, user: Any, article_id: int) -> Article:
    """One article the user may see; Http404 otherwise (an article of someone else's project looks missing)."""
    article = article_list_for_user(user=user).filter(pk=article_id).first()
    if article is None:
        raise Http404("No such article.")
    return article


def article_search(*, articles: QuerySet[Article], query: str) -> QuerySet[Article]:
    """Full-text search in title and text: PostgreSQL full text (websearch syntax); elsewhere every word, icontains."""
    query = query.strip()
    if not query:
        return articles
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        vector = SearchVector("title", "text", config="simple")
        return articles.annotate(search=vector).filter(
            search=SearchQuery(query, config="simple", search_type="websearch")
        )
    for word in query.split():
        articles = articles.filter(Q(title__icontains=word) | Q(text__icontains=word))
    return articles


def outlet_list_for_user(*, user: Any) -> QuerySet[Outlet]:
    """Outlets the user may see: all for staff; otherwise those of articles whose outlet the user may see."""
    if not user.is_authenticated:
        return Outlet.objects.none()
    if user.is_staff:
        return Outlet.objects.all()
    from annotator.projects.models import ProjectArticle

    visible = ProjectArticle.objects.filter(
        article__outlet_id=OuterRef("pk"), project_id__in=_outlet_visible_project_ids(user=user)
    )
    return Outlet.objects.filter(Exists(visible))


def outlet_get_for_user(*, user: Any, slug: str) -> Outlet:
    outlet = outlet_list_for_user(user=user).filter(slug=slug).first()
    if outlet is None:
        raise Http404("No such outlet.")
    return outlet


def import_batch_list_for_user(*, user: Any) -> QuerySet[ImportBatch]:
    """Import batches: all for staff, otherwise the ones the user started."""
    batches = ImportBatch.objects.select_related("user")
    if not user.is_authenticated:
        return batches.none()
    return batches if user.is_staff else batches.filter(user=user)


def import_batch_get_for_user(*, user: Any, batch_id: int) -> ImportBatch:
    batch = import_batch_list_for_user(user=user).filter(pk=batch_id).first()
    if batch is None:
        raise Http404("No such import batch.")
    return batch
