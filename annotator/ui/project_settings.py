"""The owner's project settings page: settings, codebook editor, members, adding articles.

Owners only (other members 403, non-members 404). Every form posts back here with an `action`; the forms check
types and ranges, the services (annotator/projects/services.py) check the rules and make codebook versions; every
outcome is a message on the page (post/redirect/get). The outlets offered and the articles that can be added are
what staff granted to the project (the visibility rule; staff: the whole corpus).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from annotator.common.errors import ApplicationError
from annotator.common.timezones import time_zone_names
from annotator.projects import services
from annotator.projects.assignment import STRATA
from annotator.projects.models import Project, Role
from annotator.projects.permissions import role_can
from annotator.projects.selectors import (
    codebook_version_list,
    corpus_grant_list,
    label_get_for_project,
    label_list,
    membership_get,
    membership_list,
    project_article_count,
    project_get_for_user,
)
from annotator.projects.visibility import viewer_for

MAX_EXAMPLES = 50


class SettingsForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    guidelines = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}), help_text="Markdown.")
    annotators_per_article = forms.IntegerField(
        min_value=1, max_value=services.MAX_ANNOTATORS_PER_ARTICLE, label="Annotators per article (k)"
    )
    overlap_fraction = forms.FloatField(
        min_value=0, max_value=1, label="Overlap", help_text="Share of articles coded by k annotators (0-1)."
    )
    blind = forms.BooleanField(required=False, help_text="Annotators never see each other's spans.")
    outlet_blind = forms.BooleanField(required=False, help_text="Annotators do not see outlet, byline or URL.")
    snap_to_words = forms.BooleanField(required=False, label="Snap selections to words")
    one_per_cluster = forms.BooleanField(required=False, label="One article per story cluster")
    stratify_by = forms.MultipleChoiceField(
        required=False, choices=[(s, s) for s in STRATA], widget=forms.CheckboxSelectMultiple
    )
    calibration_size = forms.IntegerField(min_value=0, max_value=10_000, label="Calibration articles")
    training_source = forms.ChoiceField(choices=Project.TrainingSource.choices)
    score_new_articles = forms.BooleanField(required=False)
    follow_outlets = forms.MultipleChoiceField(
        required=False,
        label="Take new imports from",
        help_text="Newly imported articles of these outlets join the project (and are scored).",
        widget=forms.CheckboxSelectMultiple,
    )
    syndication_rule = forms.ChoiceField(choices=Project.SyndicationRule.choices)
    bootstrap_resamples = forms.IntegerField(
        min_value=services.BOOTSTRAP_RANGE[0], max_value=services.BOOTSTRAP_RANGE[1]
    )
    time_zone = forms.ChoiceField(
        choices=[(name, name) for name in time_zone_names()],
        label="Time zone of periods",
        help_text="Publication dates fall into days, weeks and months in this zone (an outlet's own zone, where "
        "set, wins).",
    )

    def __init__(self, *args, outlets=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["follow_outlets"].choices = [(services.FOLLOW_EVERY_OUTLET, "Every outlet"), *outlets]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class LabelForm(forms.Form):
    label_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Definition")
    colour = forms.RegexField(regex=r"^#[0-9a-fA-F]{6}$", widget=forms.TextInput(attrs={"type": "color"}))
    hotkey = forms.CharField(required=False, max_length=1)
    parent = forms.IntegerField(required=False)
    positive_examples = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    negative_examples = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    changelog = forms.CharField(required=False, max_length=500)

    def clean(self) -> dict:
        data = super().clean()
        for name in ("positive_examples", "negative_examples"):
            if name in data:
                data[name] = _lines(data[name])
                if len(data[name]) > MAX_EXAMPLES:
                    self.add_error(name, f"At most {MAX_EXAMPLES} examples (one per line).")
        return data


class LabelDeleteForm(forms.Form):
    label_id = forms.IntegerField()
    merge_into = forms.IntegerField(required=False)


class MemberAddForm(forms.Form):
    people = forms.CharField(max_length=50_000, label="Usernames or e-mails")
    role = forms.ChoiceField(choices=Role.choices)


class MemberForm(forms.Form):
    membership_id = forms.IntegerField()
    role = forms.ChoiceField(choices=Role.choices, required=False)


class ArticlesAddForm(forms.Form):
    outlet = forms.CharField(required=False, help_text="Outlet slug.")
    published_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    published_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    search = forms.CharField(required=False, max_length=200)
    article_ids = forms.CharField(required=False, help_text="Comma- or space-separated ids.")

    def clean_outlet(self) -> str | None:
        # Whether the outlet exists and was granted is the service's question: it adds nothing outside the grants.
        return self.cleaned_data["outlet"].strip() or None

    def clean_article_ids(self) -> list[int] | None:
        raw = self.cleaned_data["article_ids"].replace(",", " ").split()
        try:
            ids = [int(x) for x in raw]
        except ValueError:
            raise forms.ValidationError("Article ids are whole numbers, separated by commas or spaces.") from None
        return ids or None

    def clean(self) -> dict:
        data = super().clean()
        if data.get("published_from") and data.get("published_to") and data["published_from"] > data["published_to"]:
            self.add_error("published_to", "The end date is before the start date.")
        return data


def _form_errors(form: forms.Form) -> str:
    parts = []
    for field, errs in form.errors.items():
        label = (form.fields[field].label or field.replace("_", " ").capitalize()) if field in form.fields else ""
        parts.append(f"{label}: {' '.join(errs)}" if label else " ".join(errs))
    return " ".join(parts)


def _app_error(err: ApplicationError) -> str:
    details = " ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in (err.extra or {}).items())
    return f"{err.message} {details}".strip()


def _do_settings(request, project, form):
    services.project_update(project=project, by=request.user, **form.cleaned_data)
    return "Settings saved."


def _do_label_save(request, project, form):
    data = dict(form.cleaned_data)
    label = label_get_for_project(project=project, label_id=data.pop("label_id"))
    parent_id = data.pop("parent")
    parent = label_get_for_project(project=project, label_id=parent_id) if parent_id else None
    changelog = data.pop("changelog")
    if label is None:
        label = services.label_create(project=project, by=request.user, parent=parent, changelog=changelog, **data)
        return f"Label '{label.name}' added (new codebook version)."
    services.label_update(label=label, by=request.user, parent=parent, changelog=changelog, **data)
    return f"Label '{label.name}' saved."


def _do_label_delete(request, project, form):
    label = label_get_for_project(project=project, label_id=form.cleaned_data["label_id"])
    merge_into = label_get_for_project(project=project, label_id=form.cleaned_data["merge_into"])
    name = label.name
    moved = services.label_delete(label=label, by=request.user, merge_into=merge_into)
    return f"Label '{name}' deleted" + (f"; {moved} span(s) moved to '{merge_into.name}'." if merge_into else ".")


def _do_member_add(request, project, form):
    role = form.cleaned_data["role"]
    outcome = services.membership_add_many(
        project=project, people=form.cleaned_data["people"], role=role, by=request.user
    )
    parts = [
        f"{what} {len(names)}: {', '.join(names)}."
        for what, names in (
            ("Added as " + role, outcome["added"]),
            ("Now " + role, outcome["changed"]),
            ("Already " + role, outcome["unchanged"]),
        )  # fmt: skip
        if names
    ]
    return " ".join(parts)


def _do_member_role(request, project, form):
    membership = membership_get(project=project, membership_id=form.cleaned_data["membership_id"])
    if not form.cleaned_data["role"]:
        raise ApplicationError("Choose a role.", {"role": ["Required."]})
    services.membership_update(membership=membership, role=form.cleaned_data["role"], by=request.user)
    return f"{membership.user.username} is now {membership.role}."


def _do_member_remove(request, project, form):
    membership = membership_get(project=project, membership_id=form.cleaned_data["membership_id"])
    services.membership_remove(membership=membership, by=request.user)
    return f"{membership.user.username} was removed from the project."


def _do_articles_add(request, project, form):
    data = form.cleaned_data
    n = services.project_add_articles(
        project=project,
        by=request.user,
        outlet=data["outlet"],
        published_from=data["published_from"],
        published_to=data["published_to"],
        search=data["search"].strip(),
        article_ids=data["article_ids"],
    )
    return f"{n} new article(s) added." if n else "No new articles matched (already in the project, or none found)."


ACTIONS = {
    "settings": (SettingsForm, _do_settings),
    "label_save": (LabelForm, _do_label_save),
    "label_delete": (LabelDeleteForm, _do_label_delete),
    "member_add": (MemberAddForm, _do_member_add),
    "member_role": (MemberForm, _do_member_role),
    "member_remove": (MemberForm, _do_member_remove),
    "articles_add": (ArticlesAddForm, _do_articles_add),
}


@login_required
def project_settings_page(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = project_get_for_user(slug=slug, user=request.user)
    if not role_can(role, "manage_project"):
        raise PermissionDenied("Only the project's owners can change its settings.")
    viewer = viewer_for(project=project, user=request.user, role=role)
    outlets = list(viewer.addable_outlets().order_by("name").values_list("slug", "name"))
    # Outlets the project follows already stay choices (set by staff, or before grants existed).
    follow_choices = outlets + [
        (slug, slug) for slug in project.follow_outlets or [] if slug != services.FOLLOW_EVERY_OUTLET
        and slug not in {s for s, _ in outlets}
    ]  # fmt: skip
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ACTIONS:
            messages.error(request, f"Unknown action '{action}'.")
            return redirect("ui:project-settings", slug=slug)
        form_class, handler = ACTIONS[action]
        form = (
            form_class(request.POST, outlets=follow_choices) if form_class is SettingsForm else form_class(request.POST)
        )
        if not form.is_valid():
            messages.error(request, f"Not saved. {_form_errors(form)}")
        else:
            try:
                messages.success(request, handler(request, project, form))
            except ApplicationError as err:
                messages.error(request, f"Not saved. {_app_error(err)}")
        return redirect("ui:project-settings", slug=project.slug)
    initial = {name: getattr(project, name) for name in services.PROJECT_SETTING_FIELDS}
    labels = list(label_list(project=project))
    context = {
        "project": project,
        "role": role,
        "settings_form": SettingsForm(initial=initial, outlets=follow_choices),
        "labels": labels,
        "new_label_form": LabelForm(initial={"colour": "#f4c542"}),
        "members": membership_list(project=project),
        "roles": Role.choices,
        "articles_form": ArticlesAddForm(),
        "n_articles": project_article_count(project=project),
        "outlets": outlets,
        "grants": corpus_grant_list(project=project),
        "corpus_all": request.user.is_staff,
        "versions": list(codebook_version_list(project=project).order_by("-number")[:10]),
    }
    return render(request, "ui/project_settings.html", context)
