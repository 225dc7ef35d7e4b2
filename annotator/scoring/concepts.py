"""Writes for concepts (a concept and its competing variants, for term-choice scores).

Kept apart from scoring/services.py while that module is being reworked; fold it in there later.
"""

from __future__ import annotations

from django.db import transaction

from annotator.common.errors import ApplicationError
from annotator.projects.models import Project
from annotator.scoring.models import Concept
from annotator.scoring.selectors import concept_term_key

CONCEPT_SLUG_TAKEN = "A concept with this slug already exists in the project."
CONCEPT_TOO_FEW_VARIANTS = "A concept needs at least two variants with different names."
CONCEPT_TERM_IN_TWO_VARIANTS = "A term can belong to only one variant of a concept."


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
    owner: dict[str, str] = {}
    for v in cleaned:
        for term in v["terms"]:
            first = owner.setdefault(concept_term_key(term), v["name"])
            if first != v["name"]:  # its occurrences would count for both variants
                raise ApplicationError(
                    CONCEPT_TERM_IN_TWO_VARIANTS,
                    {"variants": [f"{term!r} is a term of both {first!r} and {v['name']!r}; keep it in one"]},
                )
    concept = Concept(project=project, name=name, slug=slug, variants=cleaned)
    concept.full_clean()
    concept.save()
    return concept
