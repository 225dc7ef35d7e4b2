"""Who sees what: the one home of the visibility rule (docs/security.md, "Who sees what").

Every selector that returns annotation data, articles, outlets, scores, examples or exports to a person takes a
:class:`Viewer` (the person asking, in one project) and asks it; views, pages and serializers never decide.

    viewer = viewer_for(project=project, user=request.user)      # role read once per request (cached)
    spans = Span.objects.filter(project=project).filter(viewer.rows_q())
    shown = viewer.masker(article)                               # .title, .text, .span_text(start, end)
    source = viewer.score_source("annotator:ana")                # 403 / 400 here, never a username probe

The rule, by role (project settings `blind` and `outlet_blind`):

* **Layers and annotators.** Owners and curators read every layer (every annotator's layer, gold, suggestions).
  Everyone who may annotate reads their own annotator layer. In a project that is not blind, annotators and viewers
  also read the other annotators' layers and the gold layer. In a blind project annotators read only their own layer
  (plus the model's suggestions), and viewers read the results (gold layer, suggestions) but no individual
  annotator's layer or name.
* **Outlets.** An annotator of an outlet-blind project does not learn outlets: no outlet, byline, URL, external id,
  metadata or story cluster; titles and texts come masked (:mod:`annotator.projects.blinding`); no scores (they name
  outlets); model metrics without their per-outlet parts. Everyone else learns the outlets of the project's articles.
* **Score sources.** ``model`` for anyone who may see scores; ``gold`` and ``annotator:<name>`` for whoever reads
  that layer; names are resolved among the project's members only.
* **Adding articles.** Staff curate the corpus and may add any article; owners and curators add only what staff
  granted to the project (:class:`annotator.projects.models.CorpusGrant`: outlets or import batches).

New kinds of annotation data (a span's attribute values, answers to codebook questions) are rows with a ``layer``
and an ``annotator`` like spans: filter them with :meth:`Viewer.rows_q` (``prefix="span__"`` for data that hangs
off a span) and they follow the same rule with no new code here.

This module sits in `projects`, below annotations, training and scoring: layers and sources are plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from annotator.common.errors import ApplicationError
from annotator.corpus.models import Article, Outlet
from annotator.projects.blinding import OutletBlinder
from annotator.projects.models import CorpusGrant, Membership, Project, ProjectArticle, Role

# The span layers (annotator.annotations.models.Layer has the same values; a test keeps them equal).
ANNOTATOR, GOLD, SUGGESTION = "annotator", "gold", "suggestion"
LAYERS = (ANNOTATOR, GOLD, SUGGESTION)

# Article fields that tell the outlet; an outlet-blind annotator gets None for each.
OUTLET_FIELDS = ("outlet", "outlet_name", "url", "byline", "external_id", "metadata", "cluster_id")

# Job kinds any member may follow (a scoring run's progress); the others carry names or data for curators.
JOBS_FOR_MEMBERS = frozenset({"scoring"})

BLIND_LAYER = "This project is blind: you see only your own annotations (and the model's suggestions)."
BLIND_VIEWER = "This project is blind: individual annotators' work is shown to curators and owners only."
OUTLET_BLIND_SCORES = (
    "This project is outlet-blind: annotators may not see scores, which name outlets. Ask a curator or owner."
)
NO_SUCH_MEMBER = "No member called {name!r} in this project."
SOURCE_HELP = "model (the active model version), gold (the curated layer) or annotator:<username>."
NOT_GRANTED = "Only what staff granted to this project can be added (outlets or import batches; docs/security.md)."


class Hidden(ApplicationError):
    """A request for data the viewer may not see: 403 with the reason."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message, {field: [message]}, status_code=403)


@dataclass(frozen=True)
class ScoreSource:
    """A score source the viewer may read: ``model``, ``gold`` or one member's annotator layer."""

    name: str  # as asked: model, gold, annotator:<username>
    key: str  # as stored in ArticleScore.source for human layers: gold, annotator:<user id>; "" for model
    layer: str
    annotator_id: int | None = None


class _Unmasked:
    """What a viewer who may learn the outlet is shown: the article as it is."""

    def __init__(self, article: Article) -> None:
        self.title, self.text = article.title, article.text

    def span_text(self, start_char: int, end_char: int) -> str:
        return self.text[start_char:end_char]


class Viewer:
    """One person looking at one project: the answers of the visibility rule for them (see the module docstring).

    ``role`` is the membership role (None for a non-member, who is refused before any selector runs).
    """

    def __init__(self, *, project: Project, user: Any, role: str | None) -> None:
        self.project, self.user, self.role = project, user, role

    def __repr__(self) -> str:
        return f"Viewer({getattr(self.user, 'username', None)!r}, {self.project.slug!r}, {self.role!r})"

    # --- layers and annotators -----------------------------------------------------------------------------

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)

    @property
    def is_curator(self) -> bool:
        return self.role in (Role.OWNER, Role.CURATOR)

    @property
    def has_own_layer(self) -> bool:
        """Members who annotate have an annotator layer of their own (viewers do not)."""
        return self.role in (Role.OWNER, Role.CURATOR, Role.ANNOTATOR)

    @property
    def sees_others(self) -> bool:
        """May read other annotators' layers (spans, answers, attributes) and learn who they are."""
        if self.is_curator:
            return True
        return self.role in (Role.ANNOTATOR, Role.VIEWER) and not self.project.blind

    def sees_layer(self, layer: str) -> bool:
        """May read at least part of the layer (their own annotator layer counts)."""
        if layer == SUGGESTION:
            return self.role is not None
        if layer == GOLD:
            return self.is_curator or (self.role is not None and (not self.project.blind or self.role == Role.VIEWER))
        if layer == ANNOTATOR:
            return self.has_own_layer or self.sees_others
        raise ValueError(f"unknown layer {layer!r}; known: {', '.join(LAYERS)}")

    def layers(self) -> tuple[str, ...]:
        return tuple(layer for layer in LAYERS if self.sees_layer(layer))

    def rows_q(self, *, prefix: str = "") -> Q:
        """The annotation rows (spans, answers; ``prefix`` for rows that hang off a span) this viewer may read."""
        layer, annotator = f"{prefix}layer", f"{prefix}annotator_id"
        allowed = Q(pk__in=[])
        for name in self.layers():
            if name == ANNOTATOR and not self.sees_others:
                allowed |= Q(**{layer: ANNOTATOR, annotator: self.user_id})
            else:
                allowed |= Q(**{layer: name})
        return allowed

    def scope(
        self, *, layers: tuple[str, ...], annotator: str = "", explicit: bool = True
    ) -> tuple[tuple[str, ...], int | None]:
        """Narrow a request for ``layers`` (and optionally one member's data) to what the viewer may read.

        Returns (layers, annotator id or None). A default request (``explicit=False``) shrinks to the layers the
        viewer reads, and to their own data when that is all they may read of the annotator layer. Asking by name
        for a layer or an annotator the viewer may not read is a 403 (:class:`Hidden`), whether or not the name
        exists; an unknown member name is a 404 for those who may see names.
        """
        if not explicit:
            layers = tuple(layer for layer in layers if self.sees_layer(layer))
        if not layers or not all(self.sees_layer(layer) for layer in layers):
            raise Hidden(self._refusal(), "layer")
        if annotator:
            return layers, self.member_id(annotator, field="annotator", status_code=404)
        if ANNOTATOR in layers and not self.sees_others:
            return layers, self.user_id
        return layers, None

    def member_id(self, name: str, *, field: str, status_code: int = 400) -> int:
        """The id of the project member called ``name``, for a viewer who may ask about them.

        A viewer who may not see other annotators gets the same 403 for any name but their own, so the answer tells
        nothing about who exists; names are resolved among the project's members only.
        """
        if not self.sees_others:
            if self.has_own_layer and name == self.user.get_username():
                return self.user_id  # type: ignore[return-value]
            raise Hidden(self._refusal(), field)
        found = (
            Membership.objects.filter(project=self.project, user__username=name)
            .values_list("user_id", flat=True)
            .first()
        )
        if found is None:
            message = NO_SUCH_MEMBER.format(name=name)
            raise ApplicationError(message, {field: [message]}, status_code=status_code)
        return found

    @property
    def sees_member_emails(self) -> bool:
        """Members' e-mail addresses (Label Studio exports match users by them): owners and curators."""
        return self.is_curator

    def member_names(self) -> list[str]:
        """Usernames of the members whose annotator layers this viewer may read (sorted)."""
        if not self.sees_others:
            return [self.user.get_username()] if self.has_own_layer else []
        members = Membership.objects.filter(project=self.project, role__in=[Role.OWNER, Role.CURATOR, Role.ANNOTATOR])
        return list(members.order_by("user__username").values_list("user__username", flat=True))

    def _refusal(self) -> str:
        return BLIND_VIEWER if self.role == Role.VIEWER else BLIND_LAYER

    # --- outlets and article fields ------------------------------------------------------------------------

    @property
    def sees_outlets(self) -> bool:
        """May learn which outlet published an article (everyone but an outlet-blind project's annotators)."""
        return self.role is not None and not (self.project.outlet_blind and self.role == Role.ANNOTATOR)

    def masker(self, article: Article):
        """The article as this viewer sees it: ``.title``, ``.text`` and ``.span_text(start, end)`` (same offsets)."""
        return _Unmasked(article) if self.sees_outlets else OutletBlinder(article)

    def masker_from_values(self, *, title: str, text: str, url: str, outlet: Outlet):
        """:meth:`masker` for an article read as plain values (exports, snapshot-sized reads)."""
        return self.masker(Article(title=title, text=text or "", url=url or "", outlet=outlet))

    def outlet_fields(self, values: dict) -> dict:
        """``values`` with the outlet fields set to None when the viewer may not learn the outlet."""
        if self.sees_outlets:
            return values
        return {key: (None if key in OUTLET_FIELDS else value) for key, value in values.items()}

    def require_outlets(self, message: str = OUTLET_BLIND_SCORES) -> None:
        """Refuse (403) what cannot be shown without naming outlets: scores, comparisons, examples by outlet."""
        if not self.sees_outlets:
            raise Hidden(message, "project")

    def metrics(self, metrics: dict | None) -> dict | None:
        """A model version's metrics without their per-outlet parts for a viewer who may not learn outlets."""
        if self.sees_outlets or not metrics:
            return metrics
        kfold = {k: v for k, v in (metrics.get("grouped_kfold") or {}).items() if k != "per_outlet_spans"}
        shown = {**{k: v for k, v in metrics.items() if k != "leave_one_outlet_out"}, "grouped_kfold": kfold}
        if "codes" in metrics:  # the question classifiers' held-out outlets and per-outlet confusion counts
            per_outlet = ("leave_one_outlet_out", "per_outlet_confusion")
            shown["codes"] = {
                name: {k: v for k, v in entry.items() if k not in per_outlet}
                for name, entry in metrics["codes"].items()
            }
        return shown

    # --- score sources -------------------------------------------------------------------------------------

    def may_read_source(self, kind: str) -> bool:
        """May read scores from a source of this kind: model, gold, own (their own layer), other (a colleague's)."""
        if not self.sees_outlets:
            return False
        allowed = {"model": True, "gold": self.sees_layer(GOLD), "own": self.has_own_layer, "other": self.sees_others}
        return allowed[kind]

    def score_source(self, name: str) -> ScoreSource:
        """Check and resolve a score source: 400 for a malformed one, 403 for one the viewer may not read."""
        self.require_outlets()
        if name == "model":
            return ScoreSource(name, "", SUGGESTION)
        if name == "gold":
            if not self.may_read_source("gold"):
                raise Hidden(self._refusal(), "source")
            return ScoreSource(name, "gold", GOLD)
        kind, _, username = name.partition(":")
        if kind != "annotator" or not username:
            raise ApplicationError("Unknown score source.", {"source": [f"{name!r}: use {SOURCE_HELP}"]})
        user_id = self.member_id(username, field="source")
        return ScoreSource(name, f"annotator:{user_id}", ANNOTATOR, user_id)

    def score_source_choices(self, *, has_model: bool) -> list[str]:
        """The sources a dashboard may offer this viewer (names as :meth:`score_source` takes them)."""
        if not self.sees_outlets:
            return []
        names = ["model"] if has_model else []
        if self.sees_layer(GOLD):
            names.append("gold")
        return names + [f"annotator:{name}" for name in self.member_names()]

    # --- jobs --------------------------------------------------------------------------------------------------

    @property
    def sees_curation(self) -> bool:
        """Agreement, curation, assignment progress, snapshots and term suggestions show every annotator's work."""
        return self.is_curator

    def sees_job(self, kind: str) -> bool:
        """Agreement, snapshot and export jobs carry annotators' names or data: curators and owners only."""
        return self.sees_curation or (self.role is not None and kind in JOBS_FOR_MEMBERS)

    # --- articles that may join the project -------------------------------------------------------------------

    def addable_articles(self) -> QuerySet[Article]:
        """Articles this viewer may add to the project: staff any; owners and curators what staff granted."""
        if getattr(self.user, "is_staff", False):
            return Article.objects.all()
        if not self.is_curator:
            return Article.objects.none()
        return Article.objects.filter(granted_q(project=self.project))

    def addable_outlets(self) -> QuerySet[Outlet]:
        """Outlets this viewer may pick articles from (settings page, followed outlets)."""
        if getattr(self.user, "is_staff", False):
            return Outlet.objects.all()
        if not self.is_curator:
            return Outlet.objects.none()
        return Outlet.objects.filter(pk__in=CorpusGrant.objects.filter(project=self.project).values("outlet_id"))


def granted_q(*, project: Project, prefix: str = "") -> Q:
    """Articles staff granted to the project: by outlet or by import batch."""
    grants = CorpusGrant.objects.filter(project=project)
    return Q(**{f"{prefix}outlet_id__in": grants.exclude(outlet=None).values("outlet_id")}) | Q(
        **{f"{prefix}batch_id__in": grants.exclude(batch=None).values("batch_id")}
    )


def system_viewer(*, project: Project) -> Viewer:
    """The system (Celery jobs, the command line, snapshots): reads everything of the project, as an owner."""
    return Viewer(project=project, user=None, role=Role.OWNER)


def viewer_for(*, project: Project, user: Any, role: str | None = None) -> Viewer:
    """The viewer for ``user`` in ``project``; the role is read (from the request's cache) when not given."""
    if role is None:
        from annotator.projects.selectors import membership_role

        role = membership_role(project=project, user=user)
    return Viewer(project=project, user=user, role=role)


# --- the corpus, across projects (the REST API's /articles/ and /outlets/) -------------------------------------
#
# Staff see every article and outlet. Other users see the articles of the projects they are members of; an
# article's outlet is theirs to learn when at least one of those projects lets them see outlets. Otherwise the
# article comes masked, as in the outlet-blind project it was seen through.


def _member_projects(user: Any) -> QuerySet:
    return Membership.objects.filter(user=user).values("project_id")


def _outlet_projects(user: Any) -> QuerySet:
    blind = Q(role=Role.ANNOTATOR, project__outlet_blind=True)
    return Membership.objects.filter(user=user).exclude(blind).values("project_id")


def corpus_articles_for(*, user: Any) -> QuerySet[Article]:
    """Articles the user may see, with their outlet, annotated with ``outlet_visible``."""
    from django.db.models import BooleanField, Value

    articles = Article.objects.select_related("outlet")
    if not user.is_authenticated:
        return articles.none()
    if user.is_staff:
        return articles.annotate(outlet_visible=Value(True, output_field=BooleanField()))
    links = ProjectArticle.objects.filter(article_id=OuterRef("pk"))
    return articles.annotate(outlet_visible=Exists(links.filter(project_id__in=_outlet_projects(user)))).filter(
        Exists(links.filter(project_id__in=_member_projects(user)))
    )


def corpus_article_get_for(*, user: Any, article_id: int) -> Article:
    """One article the user may see; Http404 otherwise (an article of someone else's project looks missing)."""
    from django.http import Http404

    article = corpus_articles_for(user=user).filter(pk=article_id).first()
    if article is None:
        raise Http404("No such article.")
    return article


def corpus_outlets_for(*, user: Any) -> QuerySet[Outlet]:
    """Outlets the user may learn: all for staff; otherwise those of articles whose outlet they may see."""
    if not user.is_authenticated:
        return Outlet.objects.none()
    if user.is_staff:
        return Outlet.objects.all()
    visible = ProjectArticle.objects.filter(article__outlet_id=OuterRef("pk"), project_id__in=_outlet_projects(user))
    return Outlet.objects.filter(Exists(visible))


def corpus_outlet_get_for(*, user: Any, slug: str) -> Outlet:
    from django.http import Http404

    outlet = corpus_outlets_for(user=user).filter(slug=slug).first()
    if outlet is None:
        raise Http404("No such outlet.")
    return outlet


def corpus_article_shown(article: Article, values: dict) -> dict:
    """An article of :func:`corpus_articles_for` as its reader may see it: outlet fields None and title and text
    masked when the reader learns the article only through outlet-blind projects."""
    if getattr(article, "outlet_visible", True):
        return values
    masked = OutletBlinder(article)
    shown = {key: (None if key in OUTLET_FIELDS else value) for key, value in values.items()}
    if "title" in shown:
        shown["title"] = masked.title
    if "text" in shown:
        shown["text"] = masked.text
    return shown


# --- the rule as a table (docs/security.md shows it; tests/test_docs_security.py keeps the two equal) -------------

#: (column head, role, project blind, project outlet-blind, staff)
TABLE_CASES: tuple[tuple[str, str | None, bool, bool, bool], ...] = (
    ("owner", Role.OWNER, True, False, False),
    ("owner, staff", Role.OWNER, True, False, True),
    ("curator", Role.CURATOR, True, False, False),
    ("annotator, open project", Role.ANNOTATOR, False, False, False),
    ("annotator, blind project", Role.ANNOTATOR, True, False, False),
    ("annotator, outlet-blind project", Role.ANNOTATOR, True, True, False),
    ("viewer, open project", Role.VIEWER, False, False, False),
    ("viewer, blind project", Role.VIEWER, True, False, False),
    ("not a member", None, True, False, False),
)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _articles_cell(viewer: Viewer) -> str:
    if viewer.role is None:
        return "no"
    return "yes" if viewer.sees_outlets else "masked"


def _add_cell(viewer: Viewer) -> str:
    if viewer.role not in (Role.OWNER, Role.CURATOR):
        return "no"
    return "any" if viewer.user.is_staff else "granted"


#: (row head, the cell for a viewer), in the order docs/security.md lists them.
TABLE_ROWS = (
    ("their own annotator layer (spans; answers and attributes alike)", lambda v: _yes(v.has_own_layer)),
    ("other annotators' layers and names", lambda v: _yes(v.sees_others)),
    ("gold layer", lambda v: _yes(v.sees_layer(GOLD))),
    ("model suggestions", lambda v: _yes(v.sees_layer(SUGGESTION))),
    ("article title and text", _articles_cell),
    ("outlet, byline, URL, external id, metadata, story cluster", lambda v: _yes(v.sees_outlets)),
    ("scores, comparisons, examples from the model", lambda v: _yes(v.may_read_source("model"))),
    ("… from the gold layer", lambda v: _yes(v.may_read_source("gold"))),
    ("… from their own layer", lambda v: _yes(v.may_read_source("own"))),
    ("… from another member's layer", lambda v: _yes(v.may_read_source("other"))),
    ("agreement, curation, assignment progress, snapshots, term suggestions", lambda v: _yes(v.sees_curation)),
    ("add articles to the project", _add_cell),
)


def who_sees_what() -> list[list[str]]:
    """The rule as a table: a header row (the cases), then one row per kind of data; cells from the methods above."""
    from types import SimpleNamespace

    rows = [["", *(case[0] for case in TABLE_CASES)]]
    viewers = []
    for _head, role, blind, outlet_blind, staff in TABLE_CASES:
        user = SimpleNamespace(pk=None, is_staff=staff, get_username=lambda: "someone")
        viewers.append(Viewer(project=Project(blind=blind, outlet_blind=outlet_blind), user=user, role=role))
    for head, cell in TABLE_ROWS:
        rows.append([head, *(cell(viewer) for viewer in viewers)])
    return rows


def who_sees_what_markdown() -> str:
    rows = who_sees_what()
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)
