"""Reads for projects: a user's projects, roles, labels, codebook versions and annotation queues."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import connections, router
from django.db.models import Q, QuerySet
from django.http import Http404

from annotator.common.errors import ApplicationError
from annotator.corpus.models import Article
from annotator.projects.models import (
    Assignment,
    CodebookVersion,
    CorpusGrant,
    Label,
    Membership,
    Project,
    ProjectArticle,
    Question,
    Role,
)


def project_list_for_user(*, user) -> QuerySet[Project]:
    """The projects the user is a member of, by name."""
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.filter(memberships__user=user).distinct().order_by("name")


# `project_get_for_user` remembers the role it read on the Project instance it returns (one instance per
# request), so the services called next in the same request check the permission without a second query.
_ROLE_CACHE_ATTR = "_member_roles"


def membership_role(*, project: Project, user) -> str | None:
    """The user's role in the project, or None for non-members."""
    if not user.is_authenticated:
        return None
    cached = getattr(project, _ROLE_CACHE_ATTR, None)
    if cached is not None and user.pk in cached:
        return cached[user.pk]
    return Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()


def membership_role_forget(*, project: Project) -> None:
    """Drop the roles remembered on this Project instance (called by the membership services)."""
    if hasattr(project, _ROLE_CACHE_ATTR):
        delattr(project, _ROLE_CACHE_ATTR)


_ROLE_COLUMN = "member_role_"  # the membership's role beside the project's columns (taken off the instance)


@functools.cache
def _project_of_member_sql() -> str:
    project, membership = Project._meta, Membership._meta
    quote = connections[router.db_for_read(Project)].ops.quote_name
    columns = ", ".join(f"p.{quote(f.column)}" for f in project.concrete_fields)
    return (
        f"SELECT {columns}, m.{quote(membership.get_field('role').column)} AS {_ROLE_COLUMN}"
        f" FROM {project.db_table} p INNER JOIN {membership.db_table} m ON m.project_id = p.id"
        " WHERE p.slug = %s AND m.user_id = %s"
    )


def project_get_for_user(*, slug: str, user) -> tuple[Project, str]:
    """(project, role) for a member; Http404 for anyone else, so non-members cannot probe slugs.

    Every project API request starts here, so it is one raw query (the project's row with the user's membership
    role): the equivalent ORM query (select_related + only) took 1.6 ms of CPU to build and read, this one 0.24 ms."""
    if not user.is_authenticated:
        raise Http404("No such project.")
    project = next(iter(Project.objects.raw(_project_of_member_sql(), [slug, user.pk])), None)
    if project is None:
        raise Http404("No such project.")
    role = project.__dict__.pop(_ROLE_COLUMN)
    setattr(project, _ROLE_CACHE_ATTR, {user.pk: role})
    return project, role


def article_get_for_project(*, project: Project, article_id: int) -> Article:
    """An article that belongs to the project (with its outlet); Http404 otherwise."""
    article = Article.objects.select_related("outlet").filter(pk=article_id, project_links__project=project).first()
    if article is None:
        raise Http404("No such article in this project.")
    return article


def label_list(*, project: Project) -> QuerySet[Label]:
    return Label.objects.filter(project=project).select_related("parent").order_by("order", "name")


def label_get_for_project(
    *, project: Project, label_id: int | None, field: str = "label", status_code: int = 400
) -> Label | None:
    """The label ``label_id`` of ``project``'s codebook (None for None); an ApplicationError naming ``field``
    otherwise (404 when the label is the resource asked for, 400 when a request names it)."""
    if label_id is None:
        return None
    label = Label.objects.filter(project=project, pk=label_id).first()
    if label is None:
        raise ApplicationError(
            "Unknown label.", {field: [f"Label {label_id} is not in this project's codebook."]}, status_code=status_code
        )
    return label


def question_list(*, project: Project) -> QuerySet[Question]:
    """The codebook's questions in order, with their options and the attribute's label."""
    return (
        Question.objects.filter(project=project)
        .select_related("label")
        .prefetch_related("options")
        .order_by("order", "name")
    )


def question_usage(*, project: Project) -> dict[int, dict]:
    """Answers (every layer) per question, in all and per option value: what the codebook editor shows beside the
    rules that answers bring (projects.questions: fixed scope, kind and label; options in use stay)."""
    from django.db.models import Count

    questions = Question.objects.filter(project=project)
    usage = {pk: {"answers": 0, "options": {}} for pk in questions.values_list("pk", flat=True)}
    for pk, n in questions.annotate(n=Count("answers")).values_list("pk", "n"):
        usage[pk]["answers"] = n
    choices = questions.exclude(kind=Question.Kind.TEXT).filter(answers__isnull=False)
    for pk, value, n in choices.values_list("pk", "answers__value").annotate(n=Count("answers")).order_by():
        options = usage[pk]["options"]
        for option in value if isinstance(value, list) else [value]:
            options[option] = options.get(option, 0) + n
    return usage


def question_get_for_project(
    *, project: Project, question_id: int, field: str = "question", status_code: int = 400
) -> Question:
    """The question ``question_id`` of ``project``'s codebook; an ApplicationError naming ``field`` otherwise (404
    when the question is the resource asked for, 400 when a request names it)."""
    question = question_list(project=project).filter(pk=question_id).first()
    if question is None:
        raise ApplicationError(
            "Unknown question.",
            {field: [f"Question {question_id} is not in this project's codebook."]},
            status_code=status_code,
        )
    return question


def label_get_by_name(*, project: Project, name: str) -> Label:
    """The label called ``name`` in the project's codebook; a 400 naming the field otherwise."""
    label = Label.objects.filter(project=project, name=name).first()
    if label is None:
        raise ApplicationError("Unknown label.", {"label": [f"no label {name!r} in this project"]})
    return label


def codebook_version_latest(*, project: Project) -> CodebookVersion | None:
    return CodebookVersion.objects.filter(project=project).order_by("-number").first()


def codebook_version_list(*, project: Project) -> QuerySet[CodebookVersion]:
    return CodebookVersion.objects.filter(project=project).order_by("number")


@dataclass(frozen=True)
class QueueItem:
    article_id: int
    title: str
    status: str
    position: int


@dataclass(frozen=True)
class Queue:
    items: list[QueueItem]
    from_assignments: bool
    hidden_until_calibrated: int = 0  # articles held back until the user's calibration articles are done

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def n_done(self) -> int:
        return sum(1 for item in self.items if item.status == Assignment.Status.DONE)

    @property
    def n_skipped(self) -> int:
        return sum(1 for item in self.items if item.status == Assignment.Status.SKIPPED)

    def index_of(self, article_id: int) -> int | None:
        for index, item in enumerate(self.items):
            if item.article_id == article_id:
                return index
        return None

    def neighbours(self, article_id: int) -> tuple[int | None, int | None]:
        """(previous, next) article ids around `article_id` in queue order."""
        index = self.index_of(article_id)
        if index is None:
            return None, (self.items[0].article_id if self.items else None)
        prev_id = self.items[index - 1].article_id if index > 0 else None
        next_id = self.items[index + 1].article_id if index + 1 < len(self.items) else None
        return prev_id, next_id

    def next_open(self, after_article_id: int | None = None) -> int | None:
        """The next article still to do after `after_article_id` (wrapping round), or None when all are finished."""
        open_statuses = {Assignment.Status.TODO, Assignment.Status.IN_PROGRESS}
        start = self.index_of(after_article_id) if after_article_id is not None else None
        order = self.items if start is None else self.items[start + 1 :] + self.items[: start + 1]
        return next((item.article_id for item in order if item.status in open_statuses), None)


def assignment_queue(*, project: Project, user) -> Queue:
    """The user's queue in a project: the ONE place that decides what an annotator works on.

    Assignment rows for the user, ordered by position, when there are any. Otherwise, for a member who
    may annotate, every article of the project in id order, all "todo" (the fallback until balanced
    assignment is run). Viewers and non-members get an empty queue.
    """
    from annotator.projects.permissions import role_can

    rows = list(
        Assignment.objects.filter(project=project, annotator=user)
        .order_by("position", "id")
        .values_list("article_id", "article__title", "status", "position", "is_calibration")
    )
    if rows:
        # Calibration gate (annotator/projects/assignment.py): until every calibration article is done, only
        # the calibration articles are in the queue.
        if any(cal and s != Assignment.Status.DONE for *_, s, _p, cal in rows):
            hidden = sum(1 for *_, cal in rows if not cal)
            rows = [row for row in rows if row[-1]]
            return Queue([QueueItem(a, t, s, p) for a, t, s, p, _ in rows], True, hidden_until_calibrated=hidden)
        return Queue([QueueItem(a, t, s, p) for a, t, s, p, _ in rows], from_assignments=True)
    if not role_can(membership_role(project=project, user=user), "annotate"):
        return Queue([], from_assignments=False)
    articles = (
        ProjectArticle.objects.filter(project=project)
        .order_by("article_id")
        .values_list("article_id", "article__title")
    )
    items = [QueueItem(a, t, Assignment.Status.TODO, i) for i, (a, t) in enumerate(articles)]
    return Queue(items, from_assignments=False)


def users_by_identifier(*, identifiers: list[str]) -> tuple[dict, dict[str, str]]:
    """({identifier: user}, {identifier: why not}) for usernames and e-mails (an identifier with "@" that is not a
    username is an e-mail, matched case-insensitively; one that two accounts share is ambiguous)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    wanted = list(dict.fromkeys(identifiers))
    by_username = {u.username: u for u in User.objects.filter(username__in=wanted, is_active=True)}
    emails = [name for name in wanted if name not in by_username and "@" in name]
    by_email: dict[str, list] = {}
    if emails:
        any_email = Q(pk__in=[])
        for email in emails:
            any_email |= Q(email__iexact=email)
        for user in User.objects.filter(any_email, is_active=True):
            by_email.setdefault(user.email.lower(), []).append(user)
    found, problems = {}, {}
    for name in wanted:
        matches = [by_username[name]] if name in by_username else by_email.get(name.lower(), [])
        if len(matches) == 1:
            found[name] = matches[0]
        elif matches:
            problems[name] = f"{len(matches)} accounts have this e-mail; give the username instead."
        else:
            problems[name] = "no account with this " + ("username or e-mail." if "@" in name else "username.")
    return found, problems


def queue_for(*, viewer) -> Queue:
    """The viewer's queue (:func:`assignment_queue`) with titles as they may see them (outlet masked)."""
    from dataclasses import replace

    from annotator.projects.blinding import blind_titles

    queue = assignment_queue(project=viewer.project, user=viewer.user)
    if viewer.sees_outlets:
        return queue
    titles = blind_titles(article_ids=[item.article_id for item in queue.items])
    return replace(queue, items=[replace(item, title=titles.get(item.article_id, "")) for item in queue.items])


def article_shown(*, viewer, article: Article) -> dict:
    """One article of the project as the viewer may see it: title and text (masked for an outlet-blind
    annotator, same offsets), and the outlet's name, byline and URL (None when the outlet is hidden)."""
    masker = viewer.masker(article)
    return {
        "id": article.pk,
        "title": masker.title,
        "text": masker.text,
        "outlet": article.outlet.name if viewer.sees_outlets else None,
        "byline": article.byline if viewer.sees_outlets else None,
        "url": article.url if viewer.sees_outlets else None,
        "published_at": article.published_at,
    }


def job_get_for_viewer(*, viewer, job_id: int):
    """A job of the viewer's project that they may follow (``Viewer.sees_job``); Http404 otherwise, so a job they
    may not read looks like a missing one."""
    from annotator.common.models import Job

    job = Job.objects.filter(project=viewer.project, pk=job_id).first()
    if job is None or not viewer.sees_job(job.kind):
        raise Http404("No such job in this project.")
    return job


def outlet_list_for_project(*, viewer) -> list[dict]:
    """The outlets of the project's articles ({slug, name}, by slug) for a viewer who may learn them (else [])."""
    from annotator.corpus.models import Outlet

    if not viewer.sees_outlets:
        return []
    outlets = Outlet.objects.filter(articles__project_links__project=viewer.project).distinct().order_by("slug")
    return list(outlets.values("slug", "name"))


def annotating_members(*, project: Project) -> list:
    """The users who may annotate in the project (owners, curators, annotators), by username."""
    members = membership_list(project=project).filter(role__in=[Role.OWNER, Role.CURATOR, Role.ANNOTATOR])
    return [m.user for m in members]


def members_by_username(*, project: Project, names: list[str]) -> tuple[dict, list[str]]:
    """({username: user} for the names that are project members, [names that are not]): names are resolved among
    the project's members only, so the answer says nothing about other accounts."""
    found = {m.user.username: m.user for m in membership_list(project=project).filter(user__username__in=names)}
    return found, [name for name in names if name not in found]


def membership_get(*, project: Project, membership_id: int) -> Membership:
    """A membership of the project by id; an ApplicationError naming the field otherwise."""
    membership = Membership.objects.select_related("project", "user").filter(project=project, pk=membership_id).first()
    if membership is None:
        raise ApplicationError("That person is not a member of this project.", {"member": ["Unknown member."]})
    return membership


def user_get_by_username(*, username: str):
    """The account called ``username`` (owners add members by name); an ApplicationError naming the field otherwise."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ApplicationError(f"No user called '{username}'.", {"username": ["Unknown user."]})
    return user


def project_article_count(*, project: Project) -> int:
    return ProjectArticle.objects.filter(project=project).count()


def corpus_grant_list(*, project: Project) -> QuerySet[CorpusGrant]:
    """What staff granted to the project (outlets and import batches), oldest first."""
    return CorpusGrant.objects.filter(project=project).select_related("outlet").order_by("id")


def membership_list(*, project: Project) -> QuerySet[Membership]:
    return Membership.objects.filter(project=project).select_related("user").order_by("user__username")


ROLE_ORDER = [Role.OWNER, Role.CURATOR, Role.ANNOTATOR, Role.VIEWER]
