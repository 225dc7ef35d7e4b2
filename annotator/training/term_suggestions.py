"""Term suggestions: new lexicon terms from spans that annotators agree on, with evidence, and verification queues.

1. **Agreement.** Per article and label, every pair of annotators' spans is matched one-to-one with
   :func:`ml.agreement.match_spans` (``overlap``: they share a character; ``exact``: same start and end). The
   words both spans of a matched pair cover (their intersection, normalised like lexicon keys: tokens,
   lower-cased) become a candidate term, supported by both annotators.
2. **New terms** are candidates marked by at least ``min_annotators`` distinct annotators that are not already in
   the active model's lexicon for that label and not banned for it.
3. **Evidence.** *Gold precision*: of the term's whole-word occurrences in gold articles (adjudicated, or with
   gold spans), the share inside a gold span of the same label (``None`` without occurrences). *Frequency*:
   occurrences per 1,000 tokens in each outlet's articles of the project.
4. **Verification** (``term_verification_send``): the articles where the term occurs go to the chosen annotators'
   queues, most uncertain first: articles where the active model has a suggestion on an occurrence, by
   ``|score - 0.5|`` ascending; then the others, fewest annotator spans first.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, Sum

from annotator.annotations.models import Layer, Span, Suggestions
from annotator.annotations.selectors import gold_article_ids
from annotator.annotations.suggestions import unpack
from annotator.common.errors import ApplicationError
from annotator.corpus.models import Article
from annotator.projects.models import Label, Project, Role
from annotator.projects.roles import role_at_least
from annotator.projects.selectors import membership_role
from annotator.training.models import LexiconTerm, ModelVersion, TermRule
from ml.agreement import match_spans
from ml.features import TextBatch, normalise_term
from ml.matching import build_automaton, contained, scan

MATCH_RULES = ("overlap", "exact")
TEXT_CHUNK = 1000
NOT_CURATOR = "Only curators and owners can send terms to annotators for verification."


@dataclass
class TermSuggestion:
    term: str
    label: str
    n_annotators: int
    n_agreements: int
    n_articles: int
    examples: list[str]
    gold_occurrences: int = 0
    gold_covered: int = 0
    gold_precision: float | None = None
    frequency: dict[str, float] = field(default_factory=dict)
    occurrences: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _agreed_candidates(
    *, project: Project, match: str, min_annotators: int
) -> dict[tuple[str, str], dict[str, object]]:
    """(term, label name) -> {annotators, agreements, articles, examples} from matched annotator span pairs."""
    spans = (
        Span.objects.filter(project=project, layer=Layer.ANNOTATOR, annotator__isnull=False)
        .order_by("article_id", "label_id", "annotator_id", "start_char", "end_char")
        .values_list("article_id", "label__name", "annotator_id", "start_char", "end_char")
    )
    groups: dict[tuple[int, str], dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for article_id, label, annotator_id, start, end in spans.iterator(chunk_size=5000):
        groups[(article_id, label)][annotator_id].append((start, end))
    texts = dict(Article.objects.filter(pk__in={a for a, _ in groups}).values_list("pk", "text"))
    found: dict[tuple[str, str], dict] = {}
    for (article_id, label), by_annotator in groups.items():
        annotators = sorted(by_annotator)
        text = texts[article_id]
        for i, a in enumerate(annotators):
            for b in annotators[i + 1 :]:
                ranges_a, ranges_b = by_annotator[a], by_annotator[b]
                for ia, ib in match_spans(ranges_a, ranges_b, match=match):
                    start = max(ranges_a[ia][0], ranges_b[ib][0])
                    end = min(ranges_a[ia][1], ranges_b[ib][1])
                    term = normalise_term(text[start:end])
                    if not term:
                        continue
                    entry = found.setdefault(
                        (term, label), {"annotators": set(), "agreements": 0, "articles": set(), "examples": []}
                    )
                    entry["annotators"].update((a, b))
                    entry["agreements"] += 1
                    entry["articles"].add(article_id)
                    if len(entry["examples"]) < 3:
                        entry["examples"].append(text[max(0, start - 40) : min(len(text), end + 40)].replace("\n", " "))
    return {key: v for key, v in found.items() if len(v["annotators"]) >= min_annotators}


def _known_terms(project: Project) -> set[tuple[str, str]]:
    known: set[tuple[str, str]] = set()
    version = ModelVersion.objects.filter(project=project, is_active=True).first()
    if version is not None:
        for term, label in LexiconTerm.objects.filter(model_version=version).values_list("term", "label__name"):
            known.add((normalise_term(term), label))
    for term, label in TermRule.objects.filter(project=project, action=TermRule.Action.BAN).values_list(
        "term", "label__name"
    ):
        known.add((normalise_term(term), label))
    return known


def _article_chunks(article_ids: Iterable[int] | None, project: Project) -> Iterator[list[tuple[int, str, str, int]]]:
    articles = Article.objects.filter(project_links__project=project)
    if article_ids is not None:
        articles = articles.filter(pk__any_of=article_ids)
    rows = articles.order_by("pk").values_list("pk", "outlet__slug", "text", "n_tokens")
    chunk = []
    for row in rows.iterator(chunk_size=TEXT_CHUNK):
        chunk.append(row)
        if len(chunk) >= TEXT_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def term_occurrences(
    *, project: Project, terms: list[str], article_ids: Iterable[int] | None = None
) -> Iterator[tuple[int, str, int, int, int, int]]:
    """Whole-word occurrences ``(article id, outlet slug, n_tokens, start, end, term index)`` in the project."""
    automaton = build_automaton(terms)
    if not len(automaton):
        return
    key_len = np.array([len(t) for t in terms], dtype=np.int64)
    for chunk in _article_chunks(article_ids, project):
        batch = TextBatch([text for _, _, text, _ in chunk])
        starts, keys = scan(automaton, batch, key_len)
        ends = starts + key_len[keys]
        ok = batch.starts_ok(starts) & batch.ends_ok(ends)
        starts, ends, keys = starts[ok], ends[ok], keys[ok]
        docs = batch.doc_of(starts)
        local_starts, local_ends = starts - batch.offsets[docs], ends - batch.offsets[docs]
        columns = (docs.tolist(), local_starts.tolist(), local_ends.tolist(), keys.tolist())
        for d, s, e, k in zip(*columns, strict=True):
            pk, outlet, _, n_tokens = chunk[d]
            yield pk, outlet, n_tokens, s, e, k


def _outlet_tokens(project: Project) -> dict[str, int]:
    rows = (
        Article.objects.filter(project_links__project=project)
        .values("outlet__slug")
        .annotate(n=Sum("n_tokens"))
        .values_list("outlet__slug", "n")
    )
    return {slug: int(n or 0) for slug, n in rows}


def term_suggestions(
    *, project: Project, match: str = "overlap", min_annotators: int = 2, limit: int = 200
) -> list[dict]:
    """New lexicon terms from agreed annotator spans, with gold precision and per-outlet frequency."""
    if match not in MATCH_RULES:
        raise ApplicationError("Unknown match rule.", {"match": [f"{match!r}: use one of {', '.join(MATCH_RULES)}"]})
    if isinstance(min_annotators, bool) or not isinstance(min_annotators, int) or min_annotators < 2:
        raise ApplicationError(
            "min_annotators must be an integer of at least 2.", {"min_annotators": [str(min_annotators)]}
        )
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 5000:
        raise ApplicationError("limit must be between 1 and 5000.", {"limit": [str(limit)]})
    known = _known_terms(project)
    candidates = {k: v for k, v in _agreed_candidates(project=project, match=match, min_annotators=min_annotators).items()
                  if k not in known}  # fmt: skip
    ranked = sorted(candidates.items(), key=lambda kv: (-len(kv[1]["annotators"]), -kv[1]["agreements"], kv[0]))[:limit]
    suggestions = [
        TermSuggestion(
            term=term,
            label=label,
            n_annotators=len(v["annotators"]),
            n_agreements=v["agreements"],
            n_articles=len(v["articles"]),
            examples=v["examples"],
        )  # fmt: skip
        for (term, label), v in ranked
    ]
    if not suggestions:
        return []
    terms = sorted({s.term for s in suggestions})
    index = {t: i for i, t in enumerate(terms)}
    gold_ids = gold_article_ids(project=project)
    gold_spans: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}
    rows = Span.objects.filter(project=project, layer=Layer.GOLD).values_list(
        "article_id", "label__name", "start_char", "end_char"
    )
    collect: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    for article_id, label, s, e in rows.iterator(chunk_size=5000):
        collect[(article_id, label)].append((s, e))
    for key, ranges in collect.items():
        arr = np.array(ranges, dtype=np.int64)
        gold_spans[key] = (arr[:, 0], arr[:, 1])
    labels_of = defaultdict(list)
    for s in suggestions:
        labels_of[index[s.term]].append(s)
    per_outlet: dict[int, Counter] = defaultdict(Counter)
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    for article_id, outlet, _, start, end, k in term_occurrences(project=project, terms=terms):
        per_outlet[k][outlet] += 1
        for s in labels_of[k]:
            s.occurrences += 1
            if article_id in gold_ids:
                s.gold_occurrences += 1
                g_starts, g_ends = gold_spans.get((article_id, s.label), empty)
                s.gold_covered += int(contained(np.array([start]), np.array([end]), g_starts, g_ends)[0])
    tokens = _outlet_tokens(project)
    for s in suggestions:
        s.gold_precision = s.gold_covered / s.gold_occurrences if s.gold_occurrences else None
        counts = per_outlet[index[s.term]]
        s.frequency = {o: round(1000 * counts[o] / n, 4) if n else 0.0 for o, n in sorted(tokens.items())}
    return [s.as_dict() for s in suggestions]


def verification_order(*, project: Project, term: str) -> list[dict]:
    """Articles containing ``term``, most uncertain first (see the module docstring), with the reason."""
    key = normalise_term(term)
    if not key:
        raise ApplicationError("The term contains no word.", {"term": [repr(term)]})
    occurrences: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for article_id, _, _, start, end, _ in term_occurrences(project=project, terms=[key]):
        occurrences[article_id].append((start, end))
    if not occurrences:
        return []
    version = ModelVersion.objects.filter(project=project, is_active=True).first()
    uncertainty: dict[int, float] = {}
    if version is not None:
        rows = Suggestions.objects.filter(model_version=version, article_id__any_of=occurrences)
        for row_id, article_id, data in rows.values_list("pk", "article_id", "spans").iterator(chunk_size=2000):
            for sug in unpack(row_id, article_id, data):
                s, e = sug.start_char, sug.end_char
                if not any(s < oe and os < e for os, oe in occurrences[article_id]):
                    continue
                value = abs(float(sug.score) - 0.5)
                uncertainty[article_id] = min(value, uncertainty.get(article_id, value))
    annotations = dict(
        Span.objects.filter(project=project, layer=Layer.ANNOTATOR, article_id__any_of=occurrences)
        .values("article_id")
        .annotate(n=Count("pk"))
        .values_list("article_id", "n")
    )
    rows = [
        {
            "article_id": a,
            "occurrences": len(occ),
            "uncertainty": uncertainty.get(a),
            "n_annotations": annotations.get(a, 0),
        }
        for a, occ in occurrences.items()
    ]
    rows.sort(
        key=lambda r: (
            r["uncertainty"] is None,
            r["uncertainty"] if r["uncertainty"] is not None else 0.0,
            r["n_annotations"],
            r["article_id"],
        )
    )
    return rows


def term_verification_send(
    *, project: Project, by, term: str, label: str, annotators: list, limit: int | None = None
) -> dict:
    """Queue the articles where ``term`` occurs for ``annotators`` (most uncertain first); returns counts."""
    from annotator.projects.services import assignment_create_for_annotator

    role = membership_role(project=project, user=by)
    if not role_at_least(role, Role.CURATOR):
        raise ApplicationError(NOT_CURATOR, {"role": [f"You are {role or 'not a member'}."]}, status_code=403)
    if not Label.objects.filter(project=project, name=label).exists():
        raise ApplicationError("Unknown label.", {"label": [f"no label {label!r} in this project"]})
    if not annotators:
        raise ApplicationError("Choose at least one annotator.", {"annotators": ["empty"]})
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ApplicationError("limit must be a positive integer.", {"limit": [str(limit)]})
    order = verification_order(project=project, term=term)
    if not order:
        raise ApplicationError(
            f"The term {term!r} does not occur in this project's articles.", {"term": ["no occurrences"]}
        )
    article_ids = [r["article_id"] for r in order[:limit]]
    queued = {}
    for annotator in annotators:
        created = assignment_create_for_annotator(project=project, annotator=annotator, article_ids=article_ids)
        queued[annotator.username] = len(created)
    return {"term": normalise_term(term), "label": label, "articles": article_ids, "queued": queued}
