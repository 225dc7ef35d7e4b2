"""Writes for projects: creation, members, articles, the versioned codebook and assignments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils.text import slugify

from annotator.common.errors import ApplicationError
from annotator.common.timezones import is_time_zone
from annotator.corpus.models import Article, Outlet
from annotator.projects.codebook import Codebook, codebook_labels, codebook_questions, codebook_template
from annotator.projects.locks import project_lock
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
from annotator.projects.permissions import project_create_allowed, role_can
from annotator.projects.selectors import assignment_queue, membership_role, membership_role_forget

LABEL_FIELDS = (
    "name",
    "description",
    "colour",
    "hotkey",
    "parent_id",
    "positive_examples",
    "negative_examples",
    "order",
)


def _require(*, project: Project, user, capability: str) -> str:
    role = membership_role(project=project, user=user) if user is not None else Role.OWNER
    if not role_can(role, capability):
        raise ApplicationError(
            f"You are not allowed to {capability.replace('_', ' ')} in project '{project.slug}'.", status_code=403
        )
    return role


# --- projects and members ---------------------------------------------------------------------


def _last_owner_refuse(*, membership: Membership, field: str) -> None:
    """Refuse to take the owner role from ``membership`` when it is the project's last owner.

    Counted under the project lock: two owners removing or demoting each other at once would otherwise both see
    the other one still there (a ``select_for_update()`` on the count would not help: Django drops it)."""
    project_lock(project=membership.project_id)
    if Membership.objects.filter(project=membership.project_id, role=Role.OWNER).count() <= 1:
        raise ApplicationError("A project needs at least one owner.", {field: ["This is the last owner."]})


RESERVED_SLUGS = frozenset({"new"})  # /projects/new/ is the New project page


@transaction.atomic
def project_create(
    *, name: str, created_by, slug: str = "", description: str = "", guidelines: str = "", **settings
) -> Project:
    """Create a project; its creator becomes the owner."""
    slug = slug or slugify(name)[:100]
    if not slug:
        raise ApplicationError("A project needs a name.", {"name": ["This field may not be blank."]})
    if slug in RESERVED_SLUGS:
        raise ApplicationError(f"'{slug}' is reserved for a page; choose another slug.", {"slug": ["Reserved."]})
    if Project.objects.filter(slug=slug).exists():
        raise ApplicationError(f"A project with slug '{slug}' already exists.", {"slug": ["Already in use."]})
    project = Project(
        name=name, slug=slug, description=description, guidelines=guidelines, created_by=created_by, **settings
    )
    try:
        project.full_clean()
    except ValidationError as err:
        field, messages = next(iter(err.message_dict.items()))
        raise ApplicationError(f"The project is not valid: {field}: {messages[0]}", err.message_dict) from None
    try:
        with transaction.atomic():  # the same slug taken at the same moment by another request
            project.save()
    except IntegrityError:
        raise ApplicationError(f"A project with slug '{slug}' already exists.", {"slug": ["Already in use."]}) from None
    Membership.objects.create(project=project, user=created_by, role=Role.OWNER)
    return project


@transaction.atomic
def membership_add(*, project: Project, user, role: str = Role.ANNOTATOR, by=None) -> Membership:
    """Add a member (or change the role of an existing one)."""
    _require(project=project, user=by, capability="manage_members")
    if role not in Role.values:
        raise ApplicationError(f"Unknown role '{role}'.", {"role": [f"Choose one of {', '.join(Role.values)}."]})
    membership, created = Membership.objects.get_or_create(project=project, user=user, defaults={"role": role})
    if not created and membership.role != role:
        return membership_update(membership=membership, role=role, by=by)
    return membership


MAX_MEMBERS_AT_ONCE = 500


def _member_identifiers(text: str) -> list[tuple[int, str]]:
    """(line number, username or e-mail) for each name in ``text``: one a line, or several separated by commas,
    semicolons or spaces (as pasted from a spreadsheet or an e-mail header)."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        for name in line.replace(",", " ").replace(";", " ").split():
            out.append((number, name.strip("<>")))
    return out


@transaction.atomic
def membership_add_many(*, project: Project, people: str, role: str, by=None) -> dict[str, list[str]]:
    """Add everyone listed in ``people`` (usernames or e-mails) with ``role``, or no one: any unknown or ambiguous
    name refuses the whole list, with one error per line. Members already there get ``role`` (the last owner keeps
    theirs). Returns {"added": [...], "changed": [...], "unchanged": [...]} by username."""
    from annotator.projects.selectors import users_by_identifier

    _require(project=project, user=by, capability="manage_members")
    if role not in Role.values:
        raise ApplicationError(f"Unknown role '{role}'.", {"role": [f"Choose one of {', '.join(Role.values)}."]})
    names = _member_identifiers(people)
    if not names:
        raise ApplicationError("List at least one username or e-mail.", {"people": ["Empty."]})
    if len(names) > MAX_MEMBERS_AT_ONCE:
        raise ApplicationError(f"At most {MAX_MEMBERS_AT_ONCE} people at once.", {"people": [f"{len(names)} given."]})
    users, problems = users_by_identifier(identifiers=[name for _, name in names])
    errors: dict[str, list[str]] = {}
    for number, name in names:
        if name in problems:
            errors.setdefault(f"line {number}", []).append(f"{name}: {problems[name]}")
    if errors:
        raise ApplicationError(
            f"No one was added: {sum(len(v) for v in errors.values())} name(s) could not be matched to an account.",
            errors,
        )
    outcome: dict[str, list[str]] = {"added": [], "changed": [], "unchanged": []}
    current = dict(Membership.objects.filter(project=project).values_list("user_id", "role"))
    for user in dict.fromkeys(users[name] for _, name in names):
        before = current.get(user.pk)
        if before != role:
            membership_add(project=project, user=user, role=role, by=by)
        outcome["added" if before is None else "changed" if before != role else "unchanged"].append(user.username)
    return outcome


@transaction.atomic
def membership_update(*, membership: Membership, role: str, by=None) -> Membership:
    """Change a member's role; a project always keeps at least one owner."""
    _require(project=membership.project, user=by, capability="manage_members")
    if role not in Role.values:
        raise ApplicationError(f"Unknown role '{role}'.", {"role": [f"Choose one of {', '.join(Role.values)}."]})
    if membership.role == Role.OWNER and role != Role.OWNER:
        _last_owner_refuse(membership=membership, field="role")
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    membership_role_forget(project=membership.project)
    return membership


PROJECT_SETTING_FIELDS = (
    "name",
    "description",
    "guidelines",
    "annotators_per_article",
    "overlap_fraction",
    "blind",
    "outlet_blind",
    "snap_to_words",
    "one_per_cluster",
    "stratify_by",
    "calibration_size",
    "training_source",
    "score_new_articles",
    "follow_outlets",
    "syndication_rule",
    "bootstrap_resamples",
    "time_zone",
)
MAX_ANNOTATORS_PER_ARTICLE = 20
BOOTSTRAP_RANGE = (100, 100_000)


def _project_settings_errors(project: Project, fields: dict, by=None) -> dict[str, list[str]]:
    """Field errors for new project settings (normalises `stratify_by` in place)."""
    from annotator.projects.assignment import strata_validate

    errors: dict[str, list[str]] = {}
    if "name" in fields and not str(fields["name"]).strip():
        errors["name"] = ["A project needs a name."]
    k = fields.get("annotators_per_article", project.annotators_per_article)
    if not isinstance(k, int) or not 1 <= k <= MAX_ANNOTATORS_PER_ARTICLE:
        errors["annotators_per_article"] = [f"Between 1 and {MAX_ANNOTATORS_PER_ARTICLE}."]
    overlap = fields.get("overlap_fraction", project.overlap_fraction)
    if not isinstance(overlap, int | float) or not 0.0 <= overlap <= 1.0:
        errors["overlap_fraction"] = ["A share between 0 and 1 (e.g. 0.2 for 20%)."]
    if "stratify_by" in fields:
        try:
            fields["stratify_by"] = strata_validate(fields["stratify_by"])
        except ApplicationError as err:
            errors.update(err.extra or {"stratify_by": [err.message]})
    calibration = fields.get("calibration_size", project.calibration_size)
    if not isinstance(calibration, int) or calibration < 0:
        errors["calibration_size"] = ["0 or more articles."]
    resamples = fields.get("bootstrap_resamples", project.bootstrap_resamples)
    if not isinstance(resamples, int) or not BOOTSTRAP_RANGE[0] <= resamples <= BOOTSTRAP_RANGE[1]:
        errors["bootstrap_resamples"] = [f"Between {BOOTSTRAP_RANGE[0]:,} and {BOOTSTRAP_RANGE[1]:,}."]
    errors.update(_time_zone_errors(fields))
    if "follow_outlets" in fields:
        try:
            fields["follow_outlets"] = _followed_outlets_validate(fields["follow_outlets"], project=project, by=by)
        except ApplicationError as err:
            errors["follow_outlets"] = [err.message]
    for name, choices in (
        ("training_source", Project.TrainingSource.values),
        ("syndication_rule", Project.SyndicationRule.values),
    ):
        if name in fields and fields[name] not in choices:
            errors[name] = [f"Choose one of {', '.join(choices)}."]
    return errors


def _time_zone_errors(fields: dict) -> dict[str, list[str]]:
    if "time_zone" not in fields or is_time_zone(fields["time_zone"]):
        return {}
    return {
        "time_zone": [
            f"{fields['time_zone']!r} is not a time zone name: use an IANA name such as UTC, America/New_York or "
            "Europe/Berlin."
        ]
    }


FOLLOW_EVERY_OUTLET = "*"


def _followed_outlets_validate(value, *, project: Project, by) -> list[str]:
    """Outlet slugs (or "*") as a sorted list without repeats; unknown outlets are named. ``by`` (not staff) may
    follow only the outlets granted to the project, and not every outlet ("*"), beyond what it follows already."""
    from annotator.projects.visibility import NOT_GRANTED, viewer_for

    if not isinstance(value, list | tuple) or not all(isinstance(slug, str) for slug in value):
        raise ApplicationError('A list of outlet slugs, or ["*"] for every outlet.')
    slugs = sorted({slug.strip() for slug in value if slug.strip()})
    kept = set(project.follow_outlets or [])
    outlets = Outlet.objects.all()
    if by is not None:
        outlets = viewer_for(project=project, user=by).addable_outlets() | Outlet.objects.filter(slug__in=kept)
    if FOLLOW_EVERY_OUTLET in slugs:
        if by is not None and not by.is_staff and FOLLOW_EVERY_OUTLET not in kept:
            raise ApplicationError(f"Following every outlet needs a staff account. {NOT_GRANTED}")
        return [FOLLOW_EVERY_OUTLET]
    unknown = set(slugs) - set(outlets.filter(slug__in=slugs).values_list("slug", flat=True))
    if unknown:
        raise ApplicationError(f"No outlet with slug {', '.join(repr(s) for s in sorted(unknown))} to follow.")
    return slugs


@transaction.atomic
def project_update(*, project: Project, by=None, **fields) -> Project:
    """Change a project's settings (owner only); every value is checked and errors name the field."""
    _require(project=project, user=by, capability="manage_project")
    unknown = set(fields) - set(PROJECT_SETTING_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown project setting(s): {', '.join(sorted(unknown))}.")
    errors = _project_settings_errors(project, fields, by)
    if errors:
        raise ApplicationError("The settings are not valid.", errors)
    for name, value in fields.items():
        setattr(project, name, value.strip() if name == "name" else value)
    project.full_clean(exclude=["slug", "created_by"])
    project.save(update_fields=list(fields) or None)
    return project


@transaction.atomic
def membership_remove(*, membership: Membership, by=None) -> None:
    """Remove a member (their spans stay, attributed to them); the last owner cannot be removed."""
    _require(project=membership.project, user=by, capability="manage_members")
    if membership.role == Role.OWNER:
        _last_owner_refuse(membership=membership, field="member")
    membership.delete()
    membership_role_forget(project=membership.project)


#: Called as ``hook(project_id)`` in the transaction of every write that changes what a human layer counts: spans of
#: the annotator and gold layers, finished assignments, adjudications, labels. The scoring app adds its own (queue a
#: recount of the human score sources after commit) in ``AppConfig.ready``: reads never recount.
HUMAN_LAYERS_CHANGED_HOOKS: list[Callable[[int], None]] = []


def human_layers_changed(*, project: Project | int) -> None:
    project_id = project if isinstance(project, int) else project.pk
    for hook in HUMAN_LAYERS_CHANGED_HOOKS:
        hook(project_id)


#: Called as ``hook(project=..., article_ids=...)`` in the transaction that adds articles to a project; the scoring
#: app adds its own (score them with the active model when the project scores new articles) in ``AppConfig.ready``.
ARTICLES_ADDED_HOOKS: list[Callable[..., None]] = []


@transaction.atomic
def project_add_articles(
    *,
    project: Project,
    by=None,
    outlet: Outlet | str | None = None,
    published_from: dt.datetime | dt.date | None = None,
    published_to: dt.datetime | dt.date | None = None,
    search: str = "",
    article_ids: Iterable[int] | None = None,
) -> int:
    """Add articles matching every given filter (outlet, date range, text search, ids); returns how many were new.

    ``by`` (an owner or curator) adds only what they may add (``Viewer.addable_articles``: staff anything, others
    what staff granted to the project); ``by=None`` is the system (the command line, import hooks). Ids outside
    that set are refused whether or not they exist, so the answer tells nothing about the rest of the corpus.
    Articles already in the project are left alone, so this can be called again as the corpus grows.
    """
    from annotator.projects.visibility import NOT_GRANTED, viewer_for

    articles = Article.objects.all()
    if by is not None:
        _require(project=project, user=by, capability="manage_articles")
        articles = viewer_for(project=project, user=by).addable_articles()
    if outlet is None and published_from is None and published_to is None and not search and article_ids is None:
        raise ApplicationError("Give at least one filter (outlet, date range, search or article ids).")
    if outlet is not None:
        articles = articles.filter(outlet__slug=outlet) if isinstance(outlet, str) else articles.filter(outlet=outlet)
    if published_from is not None:
        articles = articles.filter(published_at__date__gte=_as_date(published_from))
    if published_to is not None:
        articles = articles.filter(published_at__date__lte=_as_date(published_to))
    if search:
        articles = articles.filter(Q(title__icontains=search) | Q(text__icontains=search))
    if article_ids is not None:
        ids = list(article_ids)
        articles = articles.filter(pk__any_of=ids)
        missing = set(ids) - set(articles.values_list("pk", flat=True))
        if missing:
            why = "are not in the corpus granted to this project" if by is not None else "do not exist"
            raise ApplicationError(
                f"{len(missing)} article id(s) {why}.",
                {"article_ids": [f"Not available: {sorted(missing)[:20]}." + (f" {NOT_GRANTED}" if by else "")]},
            )
    existing = ProjectArticle.objects.filter(project=project).values("article_id")
    new_ids = list(articles.exclude(pk__in=existing).order_by("pk").values_list("pk", flat=True))
    ProjectArticle.objects.bulk_create(
        [ProjectArticle(project=project, article_id=pk) for pk in new_ids], ignore_conflicts=True, batch_size=2000
    )
    if new_ids:
        for hook in ARTICLES_ADDED_HOOKS:
            hook(project=project, article_ids=new_ids)
    return len(new_ids)


GRANT_NEEDS_STAFF = "Only staff grant parts of the corpus to a project."


@transaction.atomic
def corpus_grant_add(*, project: Project, by, outlet: Outlet | None = None, batch=None) -> CorpusGrant:
    """Grant an outlet or an import batch to the project (staff; ``by=None`` is the command line); idempotent."""
    if by is not None and not by.is_staff:
        raise ApplicationError(GRANT_NEEDS_STAFF, {"grant": [GRANT_NEEDS_STAFF]}, status_code=403)
    if (outlet is None) == (batch is None):
        raise ApplicationError("Grant one outlet or one import batch.", {"grant": ["Give an outlet or a batch."]})
    grant, _ = CorpusGrant.objects.get_or_create(
        project=project, outlet=outlet, batch=batch, defaults={"granted_by": by}
    )
    return grant


@transaction.atomic
def corpus_grant_remove(*, grant: CorpusGrant, by) -> None:
    """Withdraw a grant (staff). Articles already in the project stay; an outlet it granted is no longer followed."""
    if by is not None and not by.is_staff:
        raise ApplicationError(GRANT_NEEDS_STAFF, {"grant": [GRANT_NEEDS_STAFF]}, status_code=403)
    project = grant.project
    if grant.outlet_id and grant.outlet.slug in (project.follow_outlets or []):
        project.follow_outlets = [slug for slug in project.follow_outlets if slug != grant.outlet.slug]
        project.save(update_fields=["follow_outlets"])
    grant.delete()


def project_articles_after_import(summary) -> None:
    """Post-import hook: projects that follow an outlet take its newly imported articles (and score them).

    Runs after the import has committed; project_add_articles skips what a project already has, so running it
    again for the same batch (a retried import) adds nothing twice.
    """
    imported = Article.objects.filter(batch_id=summary.batch_id)
    for project in Project.objects.only("pk", "slug", "follow_outlets", "score_new_articles"):
        followed = set(project.follow_outlets or [])
        if not followed:
            continue
        articles = imported if FOLLOW_EVERY_OUTLET in followed else imported.filter(outlet__slug__in=followed)
        ids = list(articles.values_list("pk", flat=True))
        if ids:
            project_add_articles(project=project, article_ids=ids)


def _as_date(value: dt.datetime | dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


# --- the codebook --------------------------------------------------------------------------------


def codebook_version_create(*, project: Project, changelog: str, by=None) -> CodebookVersion:
    """Record the codebook as it is now, as version latest+1 (called by every codebook change)."""
    project_lock(project=project)  # two codebook changes at once would both take number latest+1
    latest = CodebookVersion.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0
    human_layers_changed(project=project)  # labels added, merged or removed: the human counts per label change
    return CodebookVersion.objects.create(
        project=project,
        number=latest + 1,
        changelog=changelog,
        labels_snapshot=codebook_labels(project=project),
        questions_snapshot=codebook_questions(project=project),
        created_by=by,
    )


def _label_validate(label: Label) -> None:
    errors: dict[str, list[str]] = {}
    label.name = (label.name or "").strip()
    if not label.name:
        errors["name"] = ["A label needs a name."]
    elif Label.objects.filter(project_id=label.project_id, name=label.name).exclude(pk=label.pk).exists():
        errors["name"] = [f"The project already has a label called '{label.name}'."]
    if label.hotkey:
        if len(label.hotkey) != 1 or label.hotkey.isspace():
            errors["hotkey"] = ["A hotkey is one visible character."]
        elif Label.objects.filter(project_id=label.project_id, hotkey=label.hotkey).exclude(pk=label.pk).exists():
            errors["hotkey"] = [f"Hotkey '{label.hotkey}' is already used by another label."]
        elif Question.objects.filter(project_id=label.project_id, hotkey=label.hotkey).exists():
            errors["hotkey"] = [f"Hotkey '{label.hotkey}' is already used by a question."]
    colour = label.colour or ""
    if len(colour) != 7 or colour[0] != "#" or any(c not in "0123456789abcdefABCDEF" for c in colour[1:]):
        errors["colour"] = ["Use a colour like #1a2b3c."]
    if label.parent_id is not None:
        if label.parent_id == label.pk:
            errors["parent"] = ["A label cannot be its own parent."]
        elif not Label.objects.filter(pk=label.parent_id, project_id=label.project_id).exists():
            errors["parent"] = ["The parent label must belong to the same project."]
    if errors:
        raise ApplicationError("The label is not valid.", errors)


@transaction.atomic
def label_create(
    *,
    project: Project,
    name: str,
    by=None,
    description: str = "",
    colour: str = "#f4c542",
    hotkey: str = "",
    parent: Label | None = None,
    positive_examples: list | None = None,
    negative_examples: list | None = None,
    order: int | None = None,
    changelog: str = "",
) -> Label:
    """Add a label to the codebook; makes a new codebook version."""
    _require(project=project, user=by, capability="edit_codebook")
    if order is None:
        order = (Label.objects.filter(project=project).aggregate(n=Max("order"))["n"] or 0) + 1
    label = Label(
        project=project,
        name=name,
        description=description,
        colour=colour,
        hotkey=hotkey,
        parent=parent,
        positive_examples=positive_examples or [],
        negative_examples=negative_examples or [],
        order=order,
    )
    _label_validate(label)
    label.full_clean(validate_constraints=False)
    label.save()
    codebook_version_create(project=project, changelog=changelog or f"Added label '{label.name}'.", by=by)
    return label


@transaction.atomic
def label_update(*, label: Label, by=None, changelog: str = "", **fields) -> Label:
    """Change a label (rename, recolour, new hotkey, definition...); its spans stay; makes a new codebook version."""
    _require(project=label.project, user=by, capability="edit_codebook")
    unknown = set(fields) - set(LABEL_FIELDS) - {"parent"}
    if unknown:
        raise ApplicationError(f"Unknown label field(s): {', '.join(sorted(unknown))}.")
    if "parent" in fields:
        parent = fields.pop("parent")
        fields["parent_id"] = parent.pk if parent is not None else None
    old_name = label.name
    changed = [name for name, value in fields.items() if getattr(label, name) != value]
    if not changed:
        return label
    for name in changed:
        setattr(label, name, fields[name])
    _label_validate(label)
    label.full_clean(validate_constraints=False)
    label.save()
    if not changelog:
        what = ", ".join(name.removesuffix("_id") for name in changed)
        changelog = (
            f"Renamed label '{old_name}' to '{label.name}'."
            if changed == ["name"]
            else f"Changed {what} of '{label.name}'."
        )
    codebook_version_create(project=label.project, changelog=changelog, by=by)
    return label


@dataclass(frozen=True)
class LabelUse:
    """Rows of an app above projects that carry a label: how many use it, and how a merge gives them the label they
    are merged into, returning (moved, dropped as duplicates). The annotations app registers its spans in
    ``AppConfig.ready``: a lower app offering a hook that a higher app fills, so projects imports no app above it."""

    count: Callable[[Label], int]
    merge: Callable[..., tuple[int, int]]


LABEL_USES: list[LabelUse] = []


@transaction.atomic
def label_delete(*, label: Label, by=None, merge_into: Label | None = None, changelog: str = "") -> int:
    """Delete a label. If spans use it, a `merge_into` label is required: its spans move there first.

    Returns the number of spans moved. Makes a new codebook version.
    """
    project = label.project
    _require(project=project, user=by, capability="edit_codebook")
    if label.children.exists():
        names = ", ".join(label.children.values_list("name", flat=True))
        raise ApplicationError(
            f"Label '{label.name}' has sub-labels ({names}); delete or move them first.", {"label": ["Has sub-labels."]}
        )
    attributes = list(label.attributes.values_list("name", flat=True))
    if attributes:
        raise ApplicationError(
            f"Label '{label.name}' has attributes ({', '.join(attributes)}); delete them first "
            "(or give them to another label).",
            {"label": ["Has attributes."]},
        )
    n_spans = sum(use.count(label) for use in LABEL_USES)
    if merge_into is not None:
        if merge_into.project_id != project.pk:
            raise ApplicationError("Merge into a label of the same project.", {"merge_into": ["Other project."]})
        if merge_into.pk == label.pk:
            raise ApplicationError("A label cannot be merged into itself.", {"merge_into": ["Same label."]})
    elif n_spans:
        raise ApplicationError(
            f"Label '{label.name}' is used by {n_spans} span(s). Choose a label to merge them into, "
            "or the spans would be lost.",
            {"merge_into": [f"Required: {n_spans} span(s) use this label."]},
        )
    moved = dropped = 0
    for use in LABEL_USES if merge_into is not None else ():
        moved_here, dropped_here = use.merge(label=label, merge_into=merge_into, by=by)
        moved, dropped = moved + moved_here, dropped + dropped_here
    name = label.name
    label.delete()
    if not changelog:
        changelog = (
            f"Merged label '{name}' into '{merge_into.name}' ({moved} span(s) moved"
            + (
                f", {dropped} that an annotator had already marked with '{merge_into.name}' dropped)."
                if dropped
                else ")."
            )
            if merge_into is not None
            else f"Deleted label '{name}'."
        )
    codebook_version_create(project=project, changelog=changelog, by=by)
    return moved


@transaction.atomic
def codebook_load(*, project: Project, codebook: Codebook, changelog: str, by=None) -> list[Label]:
    """Load a checked codebook (annotator/projects/codebook.py) into a project without labels, as one codebook
    version; a project that has labels already is refused (its spans would lose their meaning)."""
    _require(project=project, user=by, capability="edit_codebook")
    if Label.objects.filter(project=project).exists() or Question.objects.filter(project=project).exists():
        raise ApplicationError(
            "The project already has labels; a codebook is loaded only into an empty one. Edit its labels on the "
            "settings page instead.",
            {"codebook": ["The project's codebook is not empty."]},
        )
    labels: dict[str, Label] = {}
    for order, spec in enumerate(codebook.labels, start=1):
        label = Label(
            project=project, name=spec.name, description=spec.description, colour=spec.colour, hotkey=spec.hotkey,
            parent=labels[spec.parent] if spec.parent else None, positive_examples=list(spec.positive_examples),
            negative_examples=list(spec.negative_examples), order=order,
        )  # fmt: skip
        _label_validate(label)
        label.full_clean(validate_constraints=False)
        label.save()
        labels[label.name] = label
    _codebook_questions_load(project=project, codebook=codebook, labels=labels, by=by)
    codebook_version_create(project=project, changelog=changelog, by=by)
    return list(labels.values())


def _codebook_questions_load(*, project: Project, codebook: Codebook, labels: dict[str, Label], by) -> None:
    """The codebook's questions and attributes, through projects.questions (which owns their rules); an error names
    the question's path in the document (``questions[2].options``)."""
    from annotator.projects.questions import question_create  # it imports this module

    for index, spec in enumerate(codebook.questions):
        fields = dict(spec)
        label = fields.pop("label", None)
        try:
            question_create(
                project=project, by=by, label=labels.get(label) if label else None, order=index + 1,
                record_version=False, **fields,
            )  # fmt: skip
        except ApplicationError as err:
            where = f"questions[{index}]"
            raise ApplicationError(
                f"{where} ({spec['name']}): {err.message}",
                {f"{where}.{field}": problems for field, problems in (err.extra or {}).items()}
                or {where: [err.message]},
            ) from None


class _CheckedRollback(Exception):
    pass


def codebook_check(*, raw: bytes | str, source: str = "the file") -> dict:
    """Check a codebook file with every rule a project applies when it loads one (the document's schema and label
    rules, then each question and attribute through projects.questions), writing nothing: the codebook is loaded
    into a scratch project in a transaction that is rolled back. Returns a summary; ApplicationError names every
    problem by its path in the document."""
    from annotator.projects.codebook import codebook_read

    codebook = codebook_read(raw, source=source)
    try:
        with transaction.atomic():
            scratch = Project.objects.create(name="codebook check", slug=f"codebook-check-{dt.datetime.now():%H%M%S%f}")
            try:
                codebook_load(project=scratch, codebook=codebook, changelog="check", by=None)
            except ApplicationError as err:
                raise ApplicationError(f"{source} is not a valid codebook: {err.message}", err.extra) from None
            raise _CheckedRollback
    except _CheckedRollback:
        pass
    attributes = [q for q in codebook.questions if q.get("scope") == Question.Scope.SPAN]
    return {
        "source": source,
        "name": codebook.name,
        "labels": len(codebook.labels),
        "questions": len(codebook.questions) - len(attributes),
        "attributes": len(attributes),
        "notes": list(codebook.notes),
    }


def codebook_create_default(*, project: Project, by=None) -> list[Label]:
    """Load the default framing codebook (five labels, hotkeys 1-5) as one codebook version."""
    return codebook_load(
        project=project, codebook=codebook_template("framing"), changelog="Loaded the default framing codebook.", by=by
    )


PROJECT_CREATE_NOT_ALLOWED = (
    "Your account may not create projects: ask staff to give it the permission 'projects | project | Can add "
    "project' (docs/getting-started.md)."
)


@transaction.atomic
def project_start(
    *,
    name: str,
    owner,
    by,
    codebook: Codebook,
    codebook_origin: str,
    slug: str = "",
    description: str = "",
    guidelines: str = "",
) -> Project:
    """Start a study: the project (``owner`` its first owner) and its first codebook version, or nothing at all.

    ``by`` (who asks) must be staff or hold the ``projects.add_project`` permission; ``by=None`` is the command line.
    ``codebook_origin`` says where the codebook came from (the first version's changelog)."""
    if by is not None and not project_create_allowed(by):
        raise ApplicationError(PROJECT_CREATE_NOT_ALLOWED, {"project": [PROJECT_CREATE_NOT_ALLOWED]}, status_code=403)
    name = (name or "").strip()
    if not name:
        raise ApplicationError("A project needs a name.", {"name": ["This field may not be blank."]})
    project = project_create(
        name=name, slug=(slug or "").strip(), created_by=owner, description=description, guidelines=guidelines
    )
    codebook_load(project=project, codebook=codebook, changelog=f"Started from {codebook_origin}.", by=owner)
    return project


# --- assignments ---------------------------------------------------------------------------------

# Checks run before an assignment is marked done: each takes (project, annotator, article_id) and raises an
# ApplicationError saying what is missing. Apps above projects register theirs in their AppConfig.ready (the
# annotations app: required questions unanswered), so every path that marks an article done applies them.
DoneCheck = Callable[..., None]
ASSIGNMENT_DONE_CHECKS: list[DoneCheck] = []


@transaction.atomic
def assignment_create_for_annotator(
    *, project: Project, annotator, article_ids: Iterable[int], is_calibration: bool = False
) -> list[Assignment]:
    """Append articles to an annotator's queue (articles already queued for them are skipped)."""
    role = membership_role(project=project, user=annotator)
    if not role_can(role, "annotate"):
        raise ApplicationError(
            f"{annotator} cannot annotate in '{project.slug}' (role: {role or 'not a member'}).",
            {"annotator": ["Not an annotator in this project."]},
        )
    ids = list(dict.fromkeys(article_ids))
    in_project = set(
        ProjectArticle.objects.filter(project=project, article_id__any_of=ids).values_list("article_id", flat=True)
    )
    outside = [pk for pk in ids if pk not in in_project]
    if outside:
        raise ApplicationError(
            f"{len(outside)} article(s) are not in the project.", {"article_ids": [f"Not in project: {outside[:20]}"]}
        )
    queued = set(
        Assignment.objects.filter(project=project, annotator=annotator, article_id__any_of=ids).values_list(
            "article_id", flat=True
        )
    )
    start = (Assignment.objects.filter(project=project, annotator=annotator).aggregate(n=Max("position"))["n"] or 0) + 1
    new = [
        Assignment(
            project=project, article_id=pk, annotator=annotator, position=start + i, is_calibration=is_calibration
        )
        for i, pk in enumerate(pk for pk in ids if pk not in queued)
    ]
    return Assignment.objects.bulk_create(new, batch_size=2000)


@transaction.atomic
def assignment_set_status(*, project: Project, annotator, article_id: int, status: str) -> Assignment:
    """Mark the user's work on an article done / skipped / in progress / todo.

    For a user working from the fallback queue (no Assignment rows yet), the queue is first written down
    as Assignment rows in the same order, so progress is kept and the queue does not change under them.
    """
    if status not in Assignment.Status.values:
        raise ApplicationError(
            f"Unknown status '{status}'.", {"status": [f"Choose one of {', '.join(Assignment.Status.values)}."]}
        )
    queue = assignment_queue(project=project, user=annotator)
    if queue.index_of(article_id) is None:
        raise ApplicationError(
            "This article is not in your queue.", {"article": ["Not in your queue."]}, status_code=404
        )
    if not queue.from_assignments:
        assignment_create_for_annotator(
            project=project, annotator=annotator, article_ids=[item.article_id for item in queue.items]
        )
    if status == Assignment.Status.DONE:
        for check in ASSIGNMENT_DONE_CHECKS:
            check(project=project, annotator=annotator, article_id=article_id)
    assignment = Assignment.objects.select_for_update().get(project=project, annotator=annotator, article_id=article_id)
    if assignment.status != status:
        assignment.status = status
        assignment.save(update_fields=["status", "updated_at"])
        human_layers_changed(project=project)
    return assignment
