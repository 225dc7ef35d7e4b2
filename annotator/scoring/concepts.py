"""Writes for concepts (a concept and its competing variants, for term-choice scores).

Kept apart from scoring/services.py while that module is being reworked; fold it in there later.
"""

from __future__ import annotations

from django.db import transaction

from annotator.common.errors import ApplicationError
from annotator.projects.models import Project
from annotator.scoring.models import Concept

CONCEPT_SLUG_TAKEN = "A concept with this slug already exists in the project."
CONCEPT_TOO_FEW_VARIANTS = "A concept needs at least two variants with different names."


@transaction.atomic
def concept_create(*, project: Project, name: str, slug: str, variants: list[dict]) -> Concept:
    """Define a concept with at least two competing variants (each {"name", "terms"}; terms default to the name)."""
    if Concept.objects.filter(project=project, slug=slug).exists():
        raise ApplicationError(CONCEPT_SLUG_TAKEN, {"slug": [f"a concept {slug!r} already exists"]})
    cleaned = [
        {"name": v["name"], "terms": [t for t in (v.get("terms") or [v["name"]]) if t.strip()] or [v["name"]]}
        for v in variants
    ]
    if len(cleaned) < 2 or len({v["name"] for v in cleaned}) != len(cleaned):
        raise ApplicationError(CONCEPT_TOO_FEW_VARIANTS, {"variants": ["give at least two, with different names"]})
    concept = Concept(project=project, name=name, slug=slug, variants=cleaned)
    concept.full_clean()
    concept.save()
    return concept
