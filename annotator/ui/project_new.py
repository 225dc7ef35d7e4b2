"""The New project page: start a study (name, slug, description, guidelines, codebook source) in one form.

Staff and accounts with the ``projects.add_project`` permission (annotator/projects/permissions.py); others 403.
The form checks types; ``codebook_choose`` and ``project_start`` check the rules and write the project and its first
codebook version together or not at all. On an error the form comes back with what was typed and every problem.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from annotator.common.errors import ApplicationError
from annotator.projects.codebook import CODEBOOK_TEMPLATES, DEFAULT_TEMPLATE, codebook_choose
from annotator.projects.permissions import project_create_allowed
from annotator.projects.selectors import project_list_for_user
from annotator.projects.services import PROJECT_CREATE_NOT_ALLOWED, project_start

COPY, FILE = "copy", "file"
MAX_CODEBOOK_BYTES = 2 * 1024 * 1024


class ProjectNewForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=100, required=False, help_text="The project's address (/projects/<slug>/); empty: from the name."
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    guidelines = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}), help_text="Markdown; annotators see them."
    )
    codebook_source = forms.ChoiceField(widget=forms.RadioSelect, initial=DEFAULT_TEMPLATE, label="Codebook")
    copy_from = forms.ChoiceField(required=False, label="Project to copy the codebook from")
    codebook_file = forms.FileField(required=False, label="Codebook file (JSON, docs/codebook.md)")

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        templates = [(key, f"{t.title}: {t.summary}") for key, t in CODEBOOK_TEMPLATES.items()]
        self.fields["codebook_source"].choices = templates + [
            (COPY, "A copy of another project's codebook"),
            (FILE, "A codebook file exported from Framescope"),
        ]
        self.fields["copy_from"].choices = [("", "(choose a project)")] + list(
            project_list_for_user(user=user).values_list("slug", "name")
        )

    @property
    def study_fields(self) -> list:
        return [self[name] for name in ("name", "slug", "description", "guidelines")]

    def clean(self) -> dict:
        data = super().clean()
        source = data.get("codebook_source")
        if source == COPY and not data.get("copy_from"):
            self.add_error("copy_from", "Choose the project whose codebook to copy.")
        if source == FILE:
            upload = data.get("codebook_file")
            if upload is None:
                self.add_error("codebook_file", "Choose a codebook file.")
            elif upload.size > MAX_CODEBOOK_BYTES:
                self.add_error("codebook_file", f"A codebook file is at most {MAX_CODEBOOK_BYTES // 1024**2} MB.")
        return data

    def codebook_source_kwargs(self) -> dict:
        """The arguments of ``codebook_choose`` for the chosen source."""
        data = self.cleaned_data
        source = data["codebook_source"]
        if source == COPY:
            return {"copy_from": data["copy_from"]}
        if source == FILE:
            upload = data["codebook_file"]
            return {"document": upload.read(), "file_name": upload.name}
        return {"template": source}


FIELD_OF_ERROR = {"name": "name", "slug": "slug", "copy_from": "copy_from", "codebook": "codebook_file"}


def _errors_into_form(form: ProjectNewForm, err: ApplicationError) -> None:
    """The service's message on top; its field errors under the field they belong to. Other keys are paths in the
    codebook file (``labels[2].colour``) and go under the file, path first."""
    form.add_error(None, err.message)
    for key, problems in (err.extra or {}).items():
        if key == "project":  # the permission: the message says it
            continue
        field = FIELD_OF_ERROR.get(key)
        for problem in problems:
            form.add_error(field or "codebook_file", str(problem) if field else f"{key}: {problem}")


@login_required
def project_new_page(request: HttpRequest) -> HttpResponse:
    if not project_create_allowed(request.user):
        raise PermissionDenied(PROJECT_CREATE_NOT_ALLOWED)
    form = ProjectNewForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            codebook, origin = codebook_choose(by=request.user, **form.codebook_source_kwargs())
            data = form.cleaned_data
            project = project_start(
                name=data["name"], slug=data["slug"], description=data["description"], guidelines=data["guidelines"],
                owner=request.user, by=request.user, codebook=codebook, codebook_origin=origin,
            )  # fmt: skip
        except ApplicationError as err:
            _errors_into_form(form, err)
        else:
            messages.success(
                request,
                f"Project '{project.name}' started with {len(codebook.labels)} label(s) from {origin}. "
                "Next: add members and articles below.",
            )
            return redirect("ui:project-settings", slug=project.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "ui/project_new.html", {"form": form}, status=status)
