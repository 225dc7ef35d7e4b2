"""Pages for a project's lexicon models: the versions (train, activate, live progress), one version's
cross-validated metrics, and the lexicon with examples in context and pin/ban rules.

The pages render the first state on the server; live progress and the buttons go through the JSON API
(`/api/v1/projects/<slug>/models/…`), so the rules (roles, what may be activated) have one home.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from annotator.common.models import JobStatus
from annotator.projects.models import Role
from annotator.projects.roles import role_at_least
from annotator.projects.selectors import label_list, project_get_for_user
from annotator.projects.visibility import viewer_for
from annotator.training import selectors

MEASURES = ("exact", "partial", "word")
MEASURE_HELP = {
    "exact": "a predicted span counts only when its start, end and label match a gold span exactly",
    "partial": "a predicted span counts when it overlaps a gold span of the same label",
    "word": "each word inside a gold span is a positive; scored word by word",
}


def _capabilities(role: str) -> dict:
    return {
        "can_train": role_at_least(role, Role.CURATOR),
        "can_activate": role_at_least(role, Role.OWNER),
        "can_edit_rules": role_at_least(role, Role.CURATOR),
    }


def _micro(metrics: dict, block: str = "grouped_kfold", measure: str = "word") -> dict | None:
    return ((metrics or {}).get(block) or {}).get(measure, {}).get("micro")


def metric_tables(metrics: dict | None) -> list[dict]:
    """Per measure, one row per label (micro last): precision, recall, F1 and the counts behind them."""
    kfold = (metrics or {}).get("grouped_kfold") or {}
    tables = []
    for measure in MEASURES:
        per_label = kfold.get(measure) or {}
        rows = [{"label": name, **values} for name, values in sorted(per_label.items()) if name != "micro"]
        if "micro" in per_label:
            rows.append({"label": "all labels (micro)", **per_label["micro"], "is_micro": True})
        tables.append({"measure": measure, "help": MEASURE_HELP[measure], "rows": rows})
    return tables


def outlet_table(metrics: dict | None) -> list[dict]:
    """Leave-one-outlet-out: micro P/R/F1 per held-out outlet for each measure (empty when not computed)."""
    held_out = (metrics or {}).get("leave_one_outlet_out") or {}
    rows = []
    for outlet, result in sorted(held_out.items()):
        row = {"outlet": outlet, "n_texts": result.get("n_texts")}
        for measure in MEASURES:
            row[measure] = (result.get(measure) or {}).get("micro") or {}
        rows.append(row)
    return rows


def _answer_table(evaluation: dict) -> dict:
    """Per-answer precision, recall and F1 and the confusion matrix (true in rows) of one pooled evaluation."""
    answers = evaluation["answers"]
    return {
        "rows": evaluation["per_answer"],
        "macro_f1": evaluation["macro_f1"],
        "accuracy": evaluation["accuracy"],
        "n_units": evaluation["n_units"],
        "confusion": [{"answer": a, "counts": row} for a, row in zip(answers, evaluation["confusion"], strict=True)],
        "answers": answers,
    }


def question_tables(metrics: dict | None) -> list[dict]:
    """Per codebook question of a version: what it was trained on, its cross-validated per-answer P/R/F1 and
    confusion matrix (multiple choice: per option, as yes/no), and leave-one-outlet-out macro-F1 per outlet."""
    out = []
    for name, m in ((metrics or {}).get("codes") or {}).items():
        entry = {key: m.get(key) for key in ("kind", "scope", "n_units", "n_articles", "dropped", "skipped")}
        entry["name"] = name
        if "skipped" not in m:
            pooled = m["grouped_kfold"]["pooled"]
            if m["kind"] == "multiple":
                entry["options"] = [{"option": option, **_answer_table(e)} for option, e in pooled.items()]
            else:
                entry["table"] = _answer_table(pooled)
            entry["n_folds"] = m["grouped_kfold"]["n_folds"]
            held = m.get("leave_one_outlet_out") or {}  # absent for whoever may not learn outlets
            if "error" in held:
                entry["outlets_error"] = held["error"]
            else:
                entry["outlets"] = [
                    {"outlet": outlet, "n_units": e["n_units"], **_held_out_scores(m["kind"], e)}
                    for outlet, e in sorted(held.items())
                ]
        out.append(entry)
    return out


def _held_out_scores(kind: str, evaluation: dict) -> dict:
    if kind == "multiple":  # the mean over options of each option's yes/no macro-F1
        per_option = [e for key, e in evaluation.items() if key != "n_units"]
        return {
            "macro_f1": sum(e["macro_f1"] for e in per_option) / len(per_option),
            "accuracy": sum(e["accuracy"] for e in per_option) / len(per_option),
        }
    return {"macro_f1": evaluation["macro_f1"], "accuracy": evaluation["accuracy"]}


@login_required
@ensure_csrf_cookie
def models_page(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = project_get_for_user(slug=slug, user=request.user)
    viewer = viewer_for(project=project, user=request.user, role=role)
    versions = selectors.model_versions_shown(
        viewer=viewer, versions=selectors.model_version_list(project=project).select_related("created_by")
    )
    for version in versions:
        version.word_micro = _micro(version.metrics)
    context = {
        "project": project,
        "role": role,
        "versions": versions,
        "active": next((v for v in versions if v.is_active), None),
        "config": {"project": project.slug, "api": f"/api/v1/projects/{project.slug}", **_capabilities(role)},
        **_capabilities(role),
    }
    return render(request, "ui/models.html", context)


@login_required
@ensure_csrf_cookie
def model_detail_page(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    project, role = project_get_for_user(slug=slug, user=request.user)
    viewer = viewer_for(project=project, user=request.user, role=role)
    [version] = selectors.model_versions_shown(
        viewer=viewer, versions=[selectors.model_version_get(project=project, number=number)]
    )
    context = {
        "project": project,
        "role": role,
        "version": version,
        "tables": metric_tables(version.metrics),
        "outlets": outlet_table(version.metrics),
        "questions": question_tables(version.metrics),
        "config": {"project": project.slug, "api": f"/api/v1/projects/{project.slug}", **_capabilities(role)},
        **_capabilities(role),
    }
    return render(request, "ui/model_detail.html", context)


@login_required
@ensure_csrf_cookie
def lexicon_page(request: HttpRequest, slug: str, number: int | None = None) -> HttpResponse:
    """The lexicon of a version (default: the active one, else the newest that succeeded), grouped by label."""
    project, role = project_get_for_user(slug=slug, user=request.user)
    viewer = viewer_for(project=project, user=request.user, role=role)
    if number is not None:
        version = selectors.model_version_get(project=project, number=number)
    else:
        version = selectors.model_version_active(project=project) or (
            selectors.model_version_list(project=project).filter(status=JobStatus.SUCCEEDED).first()
        )
    labels = list(label_list(project=project))
    by_label: dict[str, list] = {label.name: [] for label in labels}
    if version is not None:
        for term in selectors.lexicon_term_list(version=version):
            by_label.setdefault(term.label.name, []).append(term)
    rules = selectors.term_rule_list(project=project)
    rule_index = {(r.term, r.label.name): r for r in rules}
    groups = []
    for label in labels:
        terms = by_label.get(label.name, [])
        for term in terms:
            rule = rule_index.get((term.term, label.name))
            term.rule_action = rule.action if rule else ""
        groups.append({"label": label, "terms": terms})
    context = {
        "project": project,
        "role": role,
        "version": version,
        "groups": groups,
        "rules": rules,
        "config": {
            "project": project.slug,
            "api": f"/api/v1/projects/{project.slug}",
            "version": version.number if version else None,
            "examplesAllowed": viewer.sees_outlets,
            **_capabilities(role),
        },
        **_capabilities(role),
    }
    return render(request, "ui/lexicon.html", context)
