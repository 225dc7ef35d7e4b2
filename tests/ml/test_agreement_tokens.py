"""Token-level kappa and alpha on annotated texts, checked against sklearn and the krippendorff package."""

import json
import random
from dataclasses import asdict
from itertools import combinations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from ml.agreement import (
    AgreementInputError,
    AnnotatedSpan,
    AnnotationSet,
    agreement_report,
    build_token_table,
    token_cohen_kappa,
    token_fleiss_kappa,
    token_krippendorff_alpha,
    unitizing_alpha,
)
from ml.spans import Span
from ml.tokenise import token_spans

krippendorff = pytest.importorskip("krippendorff")

TEXT = "The senator slammed the radical plan, critics said."
#       0   4       12      20  24      32   37      45


def _spans(text: str, word: str, label: str, annotator: str, item=1, occurrence: int = 0) -> AnnotatedSpan:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(word, start + 1)
    return AnnotatedSpan(item_id=item, annotator=annotator, start=start, end=start + len(word), label=label)


def _reference_codes(data: AnnotationSet, annotators) -> tuple[np.ndarray, list]:
    """An independent, slow re-implementation: for every token, the labels whose spans share a character."""
    rows = []
    for item in data.items:
        for t_start, t_end in token_spans(data.texts[item]):
            row = []
            for annotator in annotators:
                if annotator not in data.coverage[item]:
                    row.append(None)
                    continue
                labels = sorted(
                    {
                        s.label
                        for s in data.spans_of(item_id=item, annotator=annotator)
                        if s.start < t_end and t_start < s.end
                    }
                )
                row.append("+".join(labels) or "O")
            rows.append(row)
    categories = sorted({c for row in rows for c in row if c is not None})
    index = {c: i for i, c in enumerate(categories)}
    return np.array([[-1 if c is None else index[c] for c in row] for row in rows]), categories


def _random_project(seed: int, n_items: int = 12, annotators=("ann1", "ann2", "ann3", "ann4"), k: int | None = None):
    rng = random.Random(seed)
    words = "the senator slammed radical plan while critics praised a bold move amid the crisis".split()
    texts, spans, coverage = {}, [], {}
    for item in range(n_items):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(5, 40))) + "."
        texts[item] = text
        chosen = rng.sample(list(annotators), k or rng.randint(1, len(annotators)))
        coverage[item] = chosen
        toks = token_spans(text)
        seeds = [(rng.randrange(len(toks)), rng.randint(0, 3), rng.choice(["loaded", "framing"])) for _ in range(3)]
        for annotator in chosen:
            for first, extra, label in seeds:
                if rng.random() < 0.6:
                    first = min(len(toks) - 1, max(0, first + rng.choice([-1, 0, 0, 1])))
                    last = min(len(toks) - 1, first + extra)
                    start = toks[first][0] + rng.choice([0, 0, 1])  # sometimes mid-word
                    spans.append((item, annotator, start, max(start + 1, toks[last][1]), label))
    return AnnotationSet.build(spans=spans, texts=texts, coverage=coverage, labels=["loaded", "framing", "hedge"])


def test_token_table_marks_tokens_sharing_a_character_with_a_span():
    data = AnnotationSet.build(
        spans=[
            _spans(TEXT, "slammed", "loaded", "a"),
            AnnotatedSpan(item_id=1, annotator="b", start=14, end=26, label="loaded"),  # "ammed the ra"
            AnnotatedSpan(item_id=1, annotator="b", start=36, end=37, label="loaded"),  # "," only
        ],
        texts={1: TEXT},
        coverage={1: ["a", "b"]},
    )
    table = build_token_table(data)
    words = [TEXT[s:e] for s, e in table.token_bounds]
    assert words == ["The", "senator", "slammed", "the", "radical", "plan", "critics", "said"]
    assert table.marks[:, 0, 0].tolist() == [False, False, True, False, False, False, False, False]
    assert table.marks[:, 1, 0].tolist() == [False, False, True, True, True, False, False, False]
    assert table.n_spans_without_tokens == 1
    codes, categories = table.multiclass_codes()
    assert categories == ["O", "loaded"]
    assert codes[:, 1].tolist() == [0, 0, 1, 1, 1, 0, 0, 0]


def test_overlapping_labels_become_a_combined_category_and_per_label_binary_figures():
    spans = [
        _spans(TEXT, "slammed the radical", "framing", "a"),
        _spans(TEXT, "radical", "loaded", "a"),
        _spans(TEXT, "slammed the radical", "framing", "b"),
    ]
    data = AnnotationSet.build(spans=spans, texts={1: TEXT}, coverage={1: ["a", "b"]})
    kappa = token_cohen_kappa(data)
    assert kappa.categories == ["O", "framing", "framing+loaded"]
    assert any("two or more labels" in note for note in kappa.notes)
    # framing alone: identical on both sides.
    assert kappa.per_label["framing"].value == 1.0
    # loaded: a marks one token, b none, over 8 tokens.
    a = [0, 0, 0, 0, 1, 0, 0, 0]
    assert kappa.per_label["loaded"].value == pytest.approx(cohen_kappa_score(a, [0] * 8))
    multi_a = [0, 0, 1, 1, 2, 0, 0, 0]
    multi_b = [0, 0, 1, 1, 1, 0, 0, 0]
    assert kappa.value == pytest.approx(cohen_kappa_score(multi_a, multi_b))


@pytest.mark.parametrize("seed", range(6))
def test_pairwise_cohen_kappa_matches_sklearn_on_the_same_tokens(seed):
    data = _random_project(seed)
    codes, _ = _reference_codes(data, data.annotators)
    result = token_cohen_kappa(data)
    assert result.per_pair, "the random project should have co-annotated items"
    for i, j in combinations(range(len(data.annotators)), 2):
        key = f"{data.annotators[i]}|{data.annotators[j]}"
        both = (codes[:, i] >= 0) & (codes[:, j] >= 0)
        ours = result.per_pair[key]
        assert ours.n_units == int(both.sum())
        if ours.value is None:
            assert both.sum() == 0 or len(set(codes[both, i]) | set(codes[both, j])) == 1
        else:
            assert ours.value == pytest.approx(cohen_kappa_score(codes[both, i], codes[both, j]), abs=1e-12)
    defined = [r.value for r in result.per_pair.values() if r.value is not None]
    assert result.value == pytest.approx(sum(defined) / len(defined))


@pytest.mark.parametrize("seed", range(6))
def test_krippendorff_alpha_matches_the_krippendorff_package_on_the_same_tokens(seed):
    data = _random_project(seed)
    codes, _ = _reference_codes(data, data.annotators)
    reliability = np.where(codes >= 0, codes, np.nan).T.astype(float)  # the package wants raters x units
    ours = token_krippendorff_alpha(data)
    assert ours.value == pytest.approx(krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal"))
    assert ours.n_units == int(((codes >= 0).sum(axis=1) >= 2).sum())
    for li, label in enumerate(data.labels):
        if label == "hedge":
            assert ours.per_label[label].value is None  # nobody used it: no variation, not 1.0
            continue
        binary = np.full(codes.shape, np.nan)
        table = build_token_table(data)
        binary[table.present] = table.marks[:, :, li][table.present]
        expected = krippendorff.alpha(reliability_data=binary.T, level_of_measurement="nominal")
        assert ours.per_label[label].value == pytest.approx(expected)


def test_fleiss_kappa_uses_units_with_the_most_common_number_of_ratings():
    data = _random_project(3, n_items=20, annotators=("a", "b", "c"))
    table = build_token_table(data)
    per_unit = table.present.sum(axis=1)
    codes, _ = _reference_codes(data, data.annotators)
    for n in (2, 3):
        chosen = codes[per_unit == n]
        counts = np.stack([(chosen == c).sum(axis=1) for c in range(codes.max() + 1)], axis=1)
        n_items = len({table.item_of_unit[u] for u in np.flatnonzero(per_unit == n)})
        result = token_fleiss_kappa(data, n_ratings=n)
        assert result.n_units == len(chosen) and result.n_items == n_items
        p_i = ((counts**2).sum(axis=1) - n) / (n * (n - 1))
        p_j = counts.sum(axis=0) / counts.sum()
        expected = (p_i.mean() - (p_j**2).sum()) / (1 - (p_j**2).sum())
        assert result.value == pytest.approx(expected)
    default = token_fleiss_kappa(data)
    mode = int(np.bincount(per_unit[per_unit >= 2]).argmax())
    assert default.n_units == int((per_unit == mode).sum())
    with pytest.raises(AgreementInputError, match="at least 2"):
        token_fleiss_kappa(data, n_ratings=1)


def test_identical_annotations_give_one_everywhere():
    spans = []
    for annotator in ("a", "b", "c"):
        spans += [_spans(TEXT, "slammed", "loaded", annotator), _spans(TEXT, "radical plan", "framing", annotator)]
    data = AnnotationSet.build(spans=spans, texts={1: TEXT}, coverage={1: ["a", "b", "c"]})
    report = agreement_report(data)
    assert report.cohen_kappa.value == 1.0
    assert report.fleiss_kappa.value == 1.0
    assert report.krippendorff_alpha.value == 1.0
    assert report.unitizing_alpha.value == 1.0
    assert all(f1.value == 1.0 for f1 in report.span_f1.values())


def test_annotators_who_never_overlap_do_not_agree():
    data = AnnotationSet.build(
        spans=[_spans(TEXT, "slammed", "loaded", "a"), _spans(TEXT, "radical", "loaded", "b")],
        texts={1: TEXT},
        coverage={1: ["a", "b"]},
    )
    assert token_krippendorff_alpha(data).value < 0
    assert token_cohen_kappa(data).value < 0
    assert unitizing_alpha(data).value < 0


def test_annotators_of_different_documents_get_no_figure_rather_than_one():
    data = AnnotationSet.build(
        spans=[_spans(TEXT, "slammed", "loaded", "a", item=1), _spans(TEXT, "slammed", "loaded", "b", item=2)],
        texts={1: TEXT, 2: TEXT},
        coverage={1: ["a"], 2: ["b"]},
    )
    for result in (token_krippendorff_alpha(data), token_cohen_kappa(data), token_fleiss_kappa(data)):
        assert result.value is None and result.reason
        assert result.n_units == 0
    assert unitizing_alpha(data).value is None


def test_no_variation_is_undefined_not_one():
    data = AnnotationSet.build(spans=[], texts={1: TEXT}, coverage={1: ["a", "b"]}, labels=["loaded"])
    for result in (token_krippendorff_alpha(data), token_cohen_kappa(data), token_fleiss_kappa(data)):
        assert result.value is None
        assert "no variation" in result.reason
    assert unitizing_alpha(data).value is None


def test_an_item_left_empty_counts_as_all_outside_when_coverage_is_given():
    spans = [_spans(TEXT, "slammed", "loaded", "a", item=1), _spans(TEXT, "slammed", "loaded", "b", item=1)]
    texts = {1: TEXT, 2: TEXT}
    explicit = AnnotationSet.build(spans=spans + [_spans(TEXT, "plan", "loaded", "a", item=2)], texts=texts,
                                   coverage={1: ["a", "b"], 2: ["a", "b"]})  # fmt: skip
    inferred = AnnotationSet.build(spans=spans + [_spans(TEXT, "plan", "loaded", "a", item=2)], texts=texts)
    assert token_cohen_kappa(explicit).n_units == 16 and token_cohen_kappa(explicit).value < 1
    assert token_cohen_kappa(inferred).n_units == 8 and token_cohen_kappa(inferred).value == 1.0
    assert any("coverage inferred" in note for note in token_cohen_kappa(inferred).notes)


def test_results_serialise_to_strict_json():
    data = _random_project(1)
    report = agreement_report(data)
    text = json.dumps(report.to_dict(), allow_nan=False)
    again = json.loads(text)
    assert again["krippendorff_alpha"]["value"] == report.krippendorff_alpha.value
    assert set(again["span_f1"]) == {"exact", "overlap", "tolerant"}
    assert json.dumps(asdict(token_fleiss_kappa(data)), allow_nan=False)


def test_inputs_are_validated_with_clear_messages():
    with pytest.raises(AgreementInputError, match="0 <= start < end"):
        AnnotatedSpan(item_id=1, annotator="a", start=5, end=5, label="x")
    with pytest.raises(AgreementInputError, match="ends after the end"):
        AnnotationSet.build(spans=[(1, "a", 0, 999, "x")], texts={1: TEXT})
    with pytest.raises(AgreementInputError, match="has no text"):
        AnnotationSet.build(spans=[(7, "a", 0, 3, "x")], texts={1: TEXT})
    with pytest.raises(AgreementInputError, match="not listed as having completed"):
        AnnotationSet.build(spans=[(1, "a", 0, 3, "x")], texts={1: TEXT}, coverage={1: ["b"]})
    with pytest.raises(AgreementInputError, match="expected AnnotatedSpan"):
        AnnotationSet.build(spans=[(1, "a", 0, 3)], texts={1: TEXT})
    with pytest.raises(AgreementInputError, match="collection of annotators"):
        AnnotationSet.build(spans=[], texts={1: TEXT}, coverage={1: "ab"})
    data = AnnotationSet.build(spans=[(1, "a", 0, 3, "x")], texts={1: TEXT})
    with pytest.raises(AgreementInputError, match="unknown annotator"):
        build_token_table(data, annotators=["zed"])


def test_duplicates_are_removed_and_spans_from_ml_spans_are_accepted():
    span = Span(4, 11, "loaded")
    data = AnnotationSet.build(
        spans=[AnnotatedSpan.from_span(item_id=1, annotator="a", span=span)] * 2, texts={1: TEXT}
    )
    assert len(data.spans) == 1 and data.n_duplicates_removed == 1
    assert TEXT[data.spans[0].start : data.spans[0].end] == "senator"
