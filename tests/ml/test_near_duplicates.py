"""Exact and near-duplicate clustering (ml.near_duplicates)."""

from datetime import datetime

import numpy as np
import pytest
from datasketch import MinHash

from ml.near_duplicates import (
    Document,
    MinHasher,
    NearDuplicateIndex,
    SignatureMatcher,
    connected_components,
    find_near_duplicates,
    shingle_hashes,
    signatures_from_bytes,
    text_signatures,
)

RNG = np.random.default_rng(0)
WORDS = [f"w{i}" for i in range(3000)]


def _text(n: int = 300) -> str:
    return " ".join(RNG.choice(WORDS, size=n))


def _edit(text: str, rate: float, seed: int) -> str:
    rng = np.random.default_rng(seed)
    words = text.split()
    for k in np.flatnonzero(rng.random(len(words)) < rate):
        words[k] = f"new{rng.integers(1_000_000)}"
    return " ".join(words)


def _jaccard(a: str, b: str, k: int = 3) -> float:
    sa, sb = set(shingle_hashes(a, shingle_size=k).tolist()), set(shingle_hashes(b, shingle_size=k).tolist())
    return len(sa & sb) / len(sa | sb)


def test_shingles_follow_the_tokeniser_and_ignore_case():
    assert len(shingle_hashes("One two, THREE four-five!", shingle_size=3)) == 2  # words: one two three four-five
    assert np.array_equal(shingle_hashes("a B c d", shingle_size=2), shingle_hashes("A b, C; d", shingle_size=2))
    assert len(shingle_hashes("short", shingle_size=5)) == 1
    assert len(shingle_hashes("  ,,, ", shingle_size=5)) == 0


def test_minhash_estimates_jaccard_like_datasketch():
    base = _text()
    hasher = MinHasher(num_perm=256, seed=3)
    for rate in (0.02, 0.08, 0.2):
        other = _edit(base, rate, seed=int(rate * 100))
        truth = _jaccard(base, other)
        sig = hasher.signatures([shingle_hashes(base), shingle_hashes(other)])
        ours = float(np.mean(sig[0] == sig[1]))
        ds = [MinHash(num_perm=256, seed=3) for _ in range(2)]
        for m, t in zip(ds, (base, other), strict=True):
            m.update_batch([str(x).encode() for x in shingle_hashes(t).tolist()])
        # standard error sqrt(J(1-J)/256) <= 0.031: allow about three of them
        assert ours == pytest.approx(truth, abs=0.1)
        assert ds[0].jaccard(ds[1]) == pytest.approx(truth, abs=0.1)


def test_copies_cluster_and_unrelated_texts_do_not():
    original = _text()
    docs = [
        ("orig", original, datetime(2024, 5, 1, 8), "wire", True),
        ("light", _edit(original, 0.03, 1), datetime(2024, 5, 1, 9), "daily", False),
        ("heavier", _edit(original, 0.07, 2), datetime(2024, 5, 1, 7), "weekly", False),
        ("exact", original, None, "blog", False),
        ("other", _text(), None, "daily", False),
        ("other2", _text(), None, "weekly", False),
    ]
    clusters = find_near_duplicates(docs)
    assert len(clusters) == 1
    c = clusters[0]
    assert sorted(c.members) == ["exact", "heavier", "light", "orig"]
    assert c.representative == "orig" and c.source_outlet == "wire"  # the agency copy, though not the earliest
    assert c.cluster_id == "orig" and c.size == 4


def test_threshold_decides_borderline_pairs():
    base = _text()
    edited = _edit(base, 0.12, 5)
    j = _jaccard(base, edited)
    assert 0.4 < j < 0.65
    docs = [("a", base, None, None, False), ("b", edited, None, None, False)]
    assert find_near_duplicates(docs, threshold=j - 0.15) != []
    assert find_near_duplicates(docs, threshold=min(0.95, j + 0.2)) == []


def test_representative_is_earliest_without_an_agency_and_undated_last():
    text = _text()
    docs = [
        Document("late", text + " tail one", datetime(2024, 1, 3), "b"),
        Document("undated", text + " tail two", None, "c"),
        Document("early", text + " tail three", datetime(2024, 1, 1), "a"),
    ]
    (c,) = find_near_duplicates(docs)
    assert (c.representative, c.source_outlet) == ("early", "a")


def test_incremental_batches_report_the_cluster_they_join_and_merges():
    base_a, base_b = _text(), _text()
    index = NearDuplicateIndex()
    first = index.add([("a1", base_a, None, "x", False), ("b1", base_b, None, "y", False)])
    assert [(x.cluster_id, x.joined_existing) for x in first] == [("a1", False), ("b1", False)]
    second = index.add(
        [
            ("a2", _edit(base_a, 0.03, 9), None, "z", False),
            ("n1", _text(), None, "z", False),
            ("b2", base_b, None, "z", False),
        ]
    )
    assert [(x.doc_id, x.cluster_id, x.joined_existing, x.exact) for x in second] == [
        ("a2", "a1", True, False),
        ("n1", "n1", False, False),
        ("b2", "b1", True, True),
    ]
    # A text stitched from both stories links the two clusters: they merge under the older id.
    bridge = " ".join(base_a.split()[:200] + base_b.split()[:200])
    index = NearDuplicateIndex(threshold=0.3)
    index.add(
        [
            ("a", " ".join(base_a.split()[:220]), None, None, False),
            ("b", " ".join(base_b.split()[:220]), None, None, False),
        ]
    )
    (joined,) = index.add([("ab", bridge, None, None, False)])
    assert (joined.cluster_id, joined.merged_clusters) == ("a", ["b"])
    assert index.clusters()[0].members == ["a", "b", "ab"]


def test_many_documents_in_many_batches_match_one_batch():
    texts = [_text(120) for _ in range(40)]
    docs = [(f"d{i}", t, None, None, False) for i, t in enumerate(texts)]
    docs += [(f"c{i}", _edit(texts[i], 0.04, i), None, None, False) for i in range(0, 40, 4)]
    one = find_near_duplicates(docs)
    index = NearDuplicateIndex()
    for start in range(0, len(docs), 7):
        index.add(docs[start : start + 7])
    assert sorted(sorted(c.members) for c in index.clusters()) == sorted(sorted(c.members) for c in one)
    assert len(one) == 10


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="threshold must be"):
        NearDuplicateIndex(threshold=1.5)
    with pytest.raises(ValueError, match="num_perm must be"):
        NearDuplicateIndex(num_perm=2)
    with pytest.raises(ValueError, match="shingle_size must be"):
        NearDuplicateIndex(shingle_size=0)
    index = NearDuplicateIndex()
    with pytest.raises(ValueError, match="expected a Document or a"):
        index.add([("only", "two")])
    with pytest.raises(ValueError, match="must be a string"):
        index.add([("x", None, None, None, False)])
    with pytest.raises(ValueError, match="must be a datetime"):
        index.add([("x", "text", "2024-01-01", None, False)])
    index.add([("x", "some text", None, None, False)])
    with pytest.raises(ValueError, match="already added"):
        index.add([("x", "again", None, None, False)])
    with pytest.raises(ValueError, match="unknown document id"):
        index.similarity("x", "nope")


def test_empty_texts_only_group_as_exact_duplicates():
    clusters = find_near_duplicates(
        [("e1", "", None, None, False), ("e2", "", None, None, False), ("t", "text", None, None, False)]
    )
    assert [c.members for c in clusters] == [["e1", "e2"]]


def _corpus_with_copies(n_originals: int = 60, seed: int = 5) -> list[tuple[str, str]]:
    rng = np.random.default_rng(seed)
    docs = []
    for o in range(n_originals):
        base = " ".join(rng.choice(WORDS, size=200))
        docs.append((f"o{o}", base))
        for c in range(int(rng.integers(0, 3))):
            docs.append((f"o{o}c{c}", _edit(base, rng.uniform(0.02, 0.2), seed=o * 10 + c)))
    docs += [("empty1", ""), ("empty2", ""), ("punct", " ,,; "), ("twin1", docs[0][1]), ("twin2", docs[0][1])]
    order = rng.permutation(len(docs))
    return [docs[i] for i in order]


def _groups(clusters) -> set[frozenset]:
    return {frozenset(c) for c in clusters}


@pytest.mark.parametrize("threshold", [0.3, 0.5])
def test_stored_signatures_matched_in_chunks_give_the_index_clusters(threshold):
    docs = _corpus_with_copies()
    ids = [d for d, _ in docs]
    expected = _groups(
        c.members for c in find_near_duplicates([(d, t, None, None, False) for d, t in docs], threshold=threshold)
    )
    assert any(len(g) > 2 for g in expected) and any({"o0", "twin1"} <= g for g in expected)
    blobs = text_signatures([t for _, t in docs])
    assert blobs[ids.index("empty1")] == b"" and blobs[ids.index("punct")] == b""
    signatures, rows = signatures_from_bytes(blobs)
    signed = [ids[i] for i in rows.tolist()]
    # Incremental, as after imports: the first 2/3 are stored; the rest is new and compared with stored chunks.
    new = len(signed) * 2 // 3
    matcher = SignatureMatcher(signed[new:], signatures[new:], threshold=threshold)
    edges = [
        e
        for start in range(0, len(signed), 17)
        for e in matcher.matches(signed[start : start + 17], signatures[start : start + 17])
    ]
    assert all(a in signed[new:] for a, _ in edges)
    # The stored part's own clusters are known (from an earlier run); exact twins without words by their text.
    earlier = find_near_duplicates(
        [(d, t, None, None, False) for d, t in docs if d in set(signed[:new])], threshold=threshold
    )
    edges += [(c.members[0], m) for c in earlier for m in c.members[1:]]
    edges += [("empty1", "empty2")]
    assert _groups(connected_components(edges)) == expected


def test_signatures_are_the_index_signatures_and_bad_blobs_are_refused():
    texts = [_text(50), _text(80)]
    index = NearDuplicateIndex()
    index.add([(i, t, None, None, False) for i, t in enumerate(texts)])
    signatures, rows = signatures_from_bytes(text_signatures(texts))
    assert rows.tolist() == [0, 1] and np.array_equal(signatures, index._signatures)
    with pytest.raises(ValueError, match="expected 512"):
        signatures_from_bytes([b"\x00" * 10])
    with pytest.raises(ValueError, match="got 1 ids for 2 signatures"):
        SignatureMatcher(["a"], signatures, threshold=0.3)


def test_connected_components_join_chains_and_sort_groups():
    assert connected_components([(5, 3), (3, 9), (1, 2), (2, 2)]) == [[1, 2], [3, 5, 9]]
    assert connected_components([]) == []
