"""Exact and near-duplicate detection (wire copy, syndication) with MinHash signatures and datasketch LSH.

Each text becomes the set of its word ``shingle_size``-grams (lower-cased words as :mod:`ml.tokenise`
counts them).  A MinHash signature of ``num_perm`` values estimates the Jaccard similarity of two
such sets; :class:`datasketch.MinHashLSH` (banding tuned to ``threshold``) proposes candidate pairs,
and a pair is kept when the signature estimate of the Jaccard similarity reaches ``threshold``.
Texts with the same SHA-256 are exact duplicates and are grouped without any estimate.  Clusters
are the connected components of kept pairs.  The signatures are computed with numpy for a whole
batch at once (see ``docs/statistics.md``, "Near-duplicates").

Two ways in: :class:`NearDuplicateIndex` holds a whole corpus (texts in, clusters out), and for a
corpus whose signatures are stored elsewhere (a database) :func:`text_signatures` computes them once
per text, :class:`SignatureMatcher` finds the kept pairs between a few new signatures and a stream
of stored ones, and :func:`connected_components` groups the pairs.  Both give the same clusters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import combinations

import numpy as np
from datasketch import MinHashLSH

from ml.tokenise import WORD_RE

DEFAULT_THRESHOLD = 0.3
DEFAULT_NUM_PERM = 128
DEFAULT_SHINGLE_SIZE = 3
_BATCH_SHINGLES = 150_000
_CHUNK_VALUES = 300_000  # hash values per numpy pass: small enough to stay in cache
_WORD_CACHE_LIMIT = 2_000_000
_word_cache: dict[str, int] = {}
_PAIR_CHUNK = 50_000  # candidate pairs compared per numpy pass
SIGNATURE_DTYPE = np.dtype("<u4")  # stored signatures: little-endian uint32, whatever the machine


@dataclass(frozen=True)
class Document:
    doc_id: Hashable
    text: str
    published_at: datetime | None = None
    outlet: Hashable | None = None
    is_agency: bool = False


@dataclass(frozen=True)
class Cluster:
    """A group of copies; ``representative`` is the likely source (agency copy first, then earliest)."""

    cluster_id: Hashable
    members: list[Hashable]
    representative: Hashable
    source_outlet: Hashable | None
    size: int


@dataclass(frozen=True)
class Assignment:
    """Where an added document went: its cluster, and whether that cluster already held earlier documents."""

    doc_id: Hashable
    cluster_id: Hashable
    joined_existing: bool
    exact: bool
    merged_clusters: list[Hashable] = field(default_factory=list)


def _word_hash(word: str) -> int:
    value = _word_cache.get(word)
    if value is None:
        if len(_word_cache) > _WORD_CACHE_LIMIT:
            _word_cache.clear()
        value = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        _word_cache[word] = value
    return value


def shingle_hashes(text: str, *, shingle_size: int = DEFAULT_SHINGLE_SIZE) -> np.ndarray:
    """64-bit hashes of the word ``shingle_size``-grams of ``text`` (one shingle if it is shorter; none if empty)."""
    words = WORD_RE.findall(text.lower())
    if not words:
        return np.empty(0, dtype=np.uint64)
    cached = list(map(_word_cache.get, words))
    if None in cached:
        cached = [_word_hash(w) if c is None else c for w, c in zip(words, cached, strict=True)]
    h = np.array(cached, dtype=np.uint64)
    k = min(shingle_size, len(h))
    n = len(h) - k + 1
    out = h[:n].copy()
    with np.errstate(over="ignore"):
        for j in range(1, k):
            out = out * np.uint64(0x9E3779B97F4A7C15) + h[j : j + n]
    return out


class MinHasher:
    """Vectorised MinHash: ``num_perm`` multiply-shift hash functions ``(a x + b) >> 32`` over 64-bit shingle hashes."""

    def __init__(self, *, num_perm: int = DEFAULT_NUM_PERM, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        self.num_perm = num_perm
        self.seed = seed
        self.a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self.b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)

    def signatures(self, shingle_sets: Sequence[np.ndarray]) -> np.ndarray:
        """(len(shingle_sets), num_perm) uint64 signatures; an empty set gets the all-max signature."""
        out = np.full((len(shingle_sets), self.num_perm), np.iinfo(np.uint64).max, dtype=np.uint64)
        start = 0
        while start < len(shingle_sets):
            stop, total = start, 0
            while stop < len(shingle_sets) and (total == 0 or total + len(shingle_sets[stop]) <= _BATCH_SHINGLES):
                total += len(shingle_sets[stop])
                stop += 1
            self._batch(shingle_sets[start:stop], out[start:stop])
            start = stop
        return out

    def _batch(self, sets: Sequence[np.ndarray], out: np.ndarray) -> None:
        lengths = np.array([len(s) for s in sets])
        rows = np.flatnonzero(lengths)
        if rows.size == 0:
            return
        values = np.concatenate([sets[i] for i in rows])
        offsets = np.concatenate([[0], np.cumsum(lengths[rows])[:-1]])
        step = max(1, _CHUNK_VALUES // len(values))
        buffer = np.empty((min(step, self.num_perm), len(values)), dtype=np.uint64)
        minima = np.empty((len(rows), self.num_perm), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for p in range(0, self.num_perm, step):
                q = min(p + step, self.num_perm)
                chunk = buffer[: q - p]
                np.multiply(self.a[p:q, None], values[None, :], out=chunk)
                np.add(chunk, self.b[p:q, None], out=chunk)
                minima[:, p:q] = np.minimum.reduceat(chunk, offsets, axis=1).T
        # The top 32 bits are monotone in the 64-bit value, so the shift can follow the minimum.
        out[rows] = minima >> np.uint64(32)


def _check_params(threshold: float, num_perm: int, shingle_size: int) -> None:
    if not isinstance(threshold, int | float) or not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be a Jaccard similarity strictly between 0 and 1, got {threshold!r}")
    if isinstance(num_perm, bool) or not isinstance(num_perm, int) or num_perm < 8:
        raise ValueError(f"num_perm must be an integer >= 8, got {num_perm!r}")
    if isinstance(shingle_size, bool) or not isinstance(shingle_size, int) or shingle_size < 1:
        raise ValueError(f"shingle_size must be a positive integer, got {shingle_size!r}")


def _as_document(item: Document | tuple) -> Document:
    if isinstance(item, Document):
        doc = item
    elif isinstance(item, tuple) and len(item) == 5:
        doc = Document(*item)
    else:
        raise ValueError(
            f"expected a Document or a (doc_id, text, published_at, outlet, is_agency) tuple, got {item!r}"
        )
    if not isinstance(doc.text, str):
        raise ValueError(f"text of document {doc.doc_id!r} must be a string, got {type(doc.text).__name__}")
    if doc.published_at is not None and not isinstance(doc.published_at, datetime):
        raise ValueError(f"published_at of document {doc.doc_id!r} must be a datetime or None")
    return doc


class _BandIndex:
    """LSH banding over numpy arrays: each band of ``rows`` signature values becomes one 64-bit key.

    Keys are kept as sorted segments (one per batch) and searched with ``np.searchsorted``; this is
    the same banding scheme as :class:`datasketch.MinHashLSH` without its per-band Python overhead.
    """

    def __init__(self, *, bands: int, rows: int, seed: int) -> None:
        rng = np.random.default_rng([seed, 7])
        self.bands, self.rows = bands, rows
        self.mult = rng.integers(1, 2**63, size=rows, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self.salt = rng.integers(0, 2**63, size=bands, dtype=np.uint64)
        self.segments: list[tuple[np.ndarray, np.ndarray]] = []

    def keys(self, signatures: np.ndarray) -> np.ndarray:
        banded = signatures[:, : self.bands * self.rows].reshape(len(signatures), self.bands, self.rows)
        with np.errstate(over="ignore"):
            keys = (banded.astype(np.uint64) * self.mult).sum(axis=2, dtype=np.uint64)
            return keys ^ self.salt

    def candidates(self, keys: np.ndarray, doc_index: np.ndarray) -> np.ndarray:
        """Pairs (new, other) sharing a band key: with earlier segments, then within the batch; then store."""
        flat_keys, flat_docs = keys.ravel(), np.repeat(doc_index, self.bands)
        found = [self._within(flat_keys, flat_docs)]
        for seg_keys, seg_docs in self.segments:
            lo = np.searchsorted(seg_keys, flat_keys, side="left")
            hi = np.searchsorted(seg_keys, flat_keys, side="right")
            hit = np.flatnonzero(hi > lo)
            if hit.size:
                counts = hi[hit] - lo[hit]
                firsts = np.repeat(lo[hit] - np.cumsum(np.r_[0, counts[:-1]]), counts) + np.arange(counts.sum())
                found.append(np.column_stack([np.repeat(flat_docs[hit], counts), seg_docs[firsts]]))
        order = np.argsort(flat_keys, kind="stable")
        self.segments.append((flat_keys[order], flat_docs[order]))
        pairs = np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)
        return np.unique(pairs, axis=0) if len(pairs) else pairs

    @staticmethod
    def _within(keys: np.ndarray, docs: np.ndarray) -> np.ndarray:
        order = np.argsort(keys, kind="stable")
        k, d = keys[order], docs[order]
        same = np.flatnonzero(k[1:] == k[:-1])
        if same.size == 0:
            return np.empty((0, 2), dtype=np.int64)
        starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
        ends = np.r_[starts[1:], len(k)]
        pairs = [
            (d[a], d[b])
            for s, e in zip(starts, ends, strict=True)
            if e - s > 1
            for a, b in combinations(range(s, e), 2)
            if d[a] != d[b]
        ]
        return np.array(pairs, dtype=np.int64).reshape(-1, 2)


class NearDuplicateIndex:
    """An incremental index: :meth:`add` a batch, learn which cluster each new document joins.

    Parameters
    ----------
    threshold : Jaccard similarity of word shingles above which two texts are copies.
    num_perm : MinHash signature length (more: better estimates, slower).
    shingle_size : words per shingle.
    seed : seed of the MinHash functions (signatures are comparable only under the same seed).

    Examples
    --------
    >>> index = NearDuplicateIndex()
    >>> text = "The minister said on Monday that the new border rules would take effect next spring."
    >>> index.add([("a", text, None, "wire", True)])[0].joined_existing
    False
    >>> index.add([("b", text.replace("spring", "summer"), None, "daily", False)])[0]
    Assignment(doc_id='b', cluster_id='a', joined_existing=True, exact=False, merged_clusters=[])
    >>> index.clusters()[0].representative
    'a'
    """

    def __init__(
        self,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        num_perm: int = DEFAULT_NUM_PERM,
        shingle_size: int = DEFAULT_SHINGLE_SIZE,
        seed: int = 1,
    ) -> None:
        _check_params(threshold, num_perm, shingle_size)
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self.seed = seed
        self._hasher = MinHasher(num_perm=num_perm, seed=seed)
        # datasketch picks the banding (bands x rows) that minimises false positives + negatives at the threshold.
        tuned = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.bands, self.rows = tuned.b, tuned.r
        self._bands = _BandIndex(bands=self.bands, rows=self.rows, seed=seed)
        self._docs: list[Document] = []
        self._position: dict[Hashable, int] = {}
        self._parent: list[int] = []
        self._exact: dict[bytes, int] = {}
        self._signatures = np.empty((0, num_perm), dtype=np.uint32)

    def __len__(self) -> int:
        return len(self._docs)

    def _find(self, i: int) -> int:
        root = i
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[i] != root:
            self._parent[i], i = root, self._parent[i]
        return root

    def _union(self, i: int, j: int) -> int:
        ri, rj = self._find(i), self._find(j)
        if ri != rj:
            ri, rj = min(ri, rj), max(ri, rj)
            self._parent[rj] = ri
        return ri

    def add(self, documents: Iterable[Document | tuple]) -> list[Assignment]:
        """Index a batch; returns one :class:`Assignment` per document, in order."""
        docs = [_as_document(d) for d in documents]
        seen = set()
        for d in docs:
            if d.doc_id in self._position or d.doc_id in seen:
                raise ValueError(f"document id {d.doc_id!r} was already added")
            seen.add(d.doc_id)
        first_new = len(self._docs)
        roots_before = {self._find(i) for i in range(first_new)} if first_new else set()
        exact_flags, to_sign = self._register(docs)
        sets = [shingle_hashes(docs[i - first_new].text, shingle_size=self.shingle_size) for i in to_sign]
        signatures = self._hasher.signatures(sets).astype(np.uint32)
        grown = np.zeros((len(self._docs), self.num_perm), dtype=np.uint32)
        grown[:first_new] = self._signatures
        grown[to_sign] = signatures
        self._signatures = grown
        with_shingles = np.array([i for i, s in zip(to_sign, sets, strict=True) if len(s)], dtype=np.int64)
        if with_shingles.size:
            self._link(with_shingles)
        return [
            self._assignment(i, exact_flags[i - first_new], first_new, roots_before)
            for i in range(first_new, len(self._docs))
        ]

    def _register(self, docs: list[Document]) -> tuple[list[bool], list[int]]:
        exact_flags, to_sign = [], []
        for d in docs:
            i = len(self._docs)
            self._docs.append(d)
            self._position[d.doc_id] = i
            self._parent.append(i)
            digest = hashlib.sha256(d.text.encode()).digest()
            twin = self._exact.get(digest)
            if twin is None:
                self._exact[digest] = i
                to_sign.append(i)
            else:
                self._union(twin, i)
            exact_flags.append(twin is not None)
        return exact_flags, to_sign

    def _link(self, new: np.ndarray) -> None:
        pairs = self._bands.candidates(self._bands.keys(self._signatures[new]), new)
        for i, j in _kept(pairs, self._signatures, self._signatures, threshold=self.threshold).tolist():
            self._union(i, j)

    def _assignment(self, i: int, exact: bool, first_new: int, roots_before: set[int]) -> Assignment:
        root = self._find(i)
        members_before = root < first_new
        merged = []
        if members_before:
            merged = sorted(
                {self._docs[r].doc_id for r in roots_before if r != root and self._find(r) == root},
                key=lambda doc_id: self._position[doc_id],
            )
        return Assignment(
            doc_id=self._docs[i].doc_id,
            cluster_id=self._docs[root].doc_id,
            joined_existing=members_before,
            exact=exact,
            merged_clusters=merged,
        )

    def similarity(self, doc_a: Hashable, doc_b: Hashable) -> float:
        """Signature estimate of the Jaccard similarity of two indexed documents (1.0 for identical texts)."""
        for d in (doc_a, doc_b):
            if d not in self._position:
                raise ValueError(f"unknown document id {d!r}")
        ia, ib = (self._exact_twin(self._position[d]) for d in (doc_a, doc_b))
        return float(np.mean(self._signatures[ia] == self._signatures[ib]))

    def _exact_twin(self, i: int) -> int:
        return self._exact[hashlib.sha256(self._docs[i].text.encode()).digest()]

    def clusters(self, *, include_singletons: bool = False) -> list[Cluster]:
        """Every cluster (of two or more documents unless ``include_singletons``), by first insertion."""
        groups: dict[int, list[int]] = {}
        for i in range(len(self._docs)):
            groups.setdefault(self._find(i), []).append(i)
        out = []
        for root, members in sorted(groups.items()):
            if len(members) < 2 and not include_singletons:
                continue
            rep = self._docs[min(members, key=self._source_key)]
            out.append(
                Cluster(
                    cluster_id=self._docs[root].doc_id,
                    members=[self._docs[m].doc_id for m in members],
                    representative=rep.doc_id,
                    source_outlet=rep.outlet,
                    size=len(members),
                )
            )
        return out

    def _source_key(self, i: int) -> tuple:
        d = self._docs[i]
        return source_order(is_agency=d.is_agency, published_at=d.published_at, position=i)


def find_near_duplicates(
    documents: Iterable[Document | tuple],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    num_perm: int = DEFAULT_NUM_PERM,
    shingle_size: int = DEFAULT_SHINGLE_SIZE,
    seed: int = 1,
) -> list[Cluster]:
    """Clusters of exact and near-duplicate documents (two or more members each)."""
    index = NearDuplicateIndex(threshold=threshold, num_perm=num_perm, shingle_size=shingle_size, seed=seed)
    index.add(documents)
    return index.clusters()


def source_order(*, is_agency: bool, published_at: datetime | None, position: int) -> tuple:
    """Sort key of a cluster's likely source: agency copies first, then the earliest (undated last), then position."""
    published = published_at.timestamp() if published_at is not None else float("inf")
    return (not is_agency, published, position)


def _kept(pairs: np.ndarray, left: np.ndarray, right: np.ndarray, *, threshold: float) -> np.ndarray:
    """The candidate pairs (row in ``left``, row in ``right``) whose signatures agree on ``threshold`` of values."""
    needed = threshold * left.shape[1]
    kept = []
    for start in range(0, len(pairs), _PAIR_CHUNK):
        chunk = pairs[start : start + _PAIR_CHUNK]
        agree = np.count_nonzero(left[chunk[:, 0]] == right[chunk[:, 1]], axis=1)
        kept.append(chunk[agree >= needed])
    return np.concatenate(kept) if kept else np.empty((0, 2), dtype=np.int64)


def signature_scheme(
    *, num_perm: int = DEFAULT_NUM_PERM, shingle_size: int = DEFAULT_SHINGLE_SIZE, seed: int = 1
) -> str:
    """Name of the signature parameters: stored signatures are comparable only under the same scheme."""
    return f"minhash-w{shingle_size}-p{num_perm}-s{seed}"


@lru_cache(maxsize=4)
def _hasher(num_perm: int, seed: int) -> MinHasher:
    return MinHasher(num_perm=num_perm, seed=seed)


def text_signatures(
    texts: Sequence[str], *, num_perm: int = DEFAULT_NUM_PERM, shingle_size: int = DEFAULT_SHINGLE_SIZE, seed: int = 1
) -> list[bytes]:
    """MinHash signature of each text as ``num_perm`` little-endian uint32 values; ``b""`` for a text without words.

    The values are those :class:`NearDuplicateIndex` computes, so stored signatures can stand in for the texts.
    """
    _check_params(0.5, num_perm, shingle_size)
    sets = [shingle_hashes(t, shingle_size=shingle_size) for t in texts]
    signatures = _hasher(num_perm, seed).signatures(sets).astype(SIGNATURE_DTYPE)
    return [sig.tobytes() if len(s) else b"" for sig, s in zip(signatures, sets, strict=True)]


def signatures_from_bytes(blobs: Sequence[bytes], *, num_perm: int = DEFAULT_NUM_PERM) -> tuple[np.ndarray, np.ndarray]:
    """Decode stored signatures: a (k, num_perm) uint32 array of the non-empty ones and their positions in ``blobs``."""
    size = num_perm * SIGNATURE_DTYPE.itemsize
    rows = np.array([i for i, b in enumerate(blobs) if len(b)], dtype=np.int64)
    for i in rows.tolist():
        if len(blobs[i]) != size:
            raise ValueError(f"signature {i} has {len(blobs[i])} bytes, expected {size} ({num_perm} uint32 values)")
    data = b"".join(bytes(blobs[i]) for i in rows.tolist())
    return np.frombuffer(data, dtype=SIGNATURE_DTYPE).reshape(len(rows), num_perm).astype(np.uint32), rows


class SignatureMatcher:
    """Kept pairs between a fixed set of probe signatures and any other signatures, fed in chunks.

    The probe's LSH band keys are built once and sorted; each chunk is banded the same way as in
    :class:`NearDuplicateIndex`, looked up with ``np.searchsorted``, and a candidate pair is kept when the
    signatures agree on at least ``threshold`` of their values.  Memory: the probe only (no texts).

    Parameters
    ----------
    ids : one id per probe signature.
    signatures : (len(ids), num_perm) uint32 array (see :func:`signatures_from_bytes`).
    threshold : Jaccard similarity above which two texts are copies.
    seed : the seed the signatures were made with.

    Examples
    --------
    >>> text = "The minister said on Monday that the new border rules would take effect next spring."
    >>> sigs, _ = signatures_from_bytes(text_signatures([text, text.replace("spring", "summer")]))
    >>> SignatureMatcher(["a"], sigs[:1], threshold=0.3).matches(["b"], sigs[1:])
    [('a', 'b')]
    """

    def __init__(self, ids: Sequence[Hashable], signatures: np.ndarray, *, threshold: float, seed: int = 1) -> None:
        num_perm = signatures.shape[1] if signatures.ndim == 2 else DEFAULT_NUM_PERM
        _check_params(threshold, num_perm, DEFAULT_SHINGLE_SIZE)
        if len(ids) != len(signatures):
            raise ValueError(f"got {len(ids)} ids for {len(signatures)} signatures")
        tuned = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.threshold = threshold
        self._band = _BandIndex(bands=tuned.b, rows=tuned.r, seed=seed)
        self._ids = list(ids)
        self._signatures = signatures
        keys = self._band.keys(signatures).ravel()
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._owner = (order // tuned.b).astype(np.int64)

    def matches(self, ids: Sequence[Hashable], signatures: np.ndarray) -> list[tuple[Hashable, Hashable]]:
        """(probe id, other id) for each kept pair; a signature is never paired with its own id."""
        if len(ids) != len(signatures):
            raise ValueError(f"got {len(ids)} ids for {len(signatures)} signatures")
        if not len(ids) or not len(self._ids):
            return []
        keys = self._band.keys(signatures).ravel()
        others = np.repeat(np.arange(len(signatures)), self._band.bands)
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys, side="right")
        hit = np.flatnonzero(hi > lo)
        if hit.size == 0:
            return []
        counts = hi[hit] - lo[hit]
        firsts = np.repeat(lo[hit] - np.cumsum(np.r_[0, counts[:-1]]), counts) + np.arange(counts.sum())
        pairs = np.unique(np.column_stack([self._owner[firsts], np.repeat(others[hit], counts)]), axis=0)
        kept = _kept(pairs, self._signatures, signatures, threshold=self.threshold)
        return [(self._ids[i], ids[j]) for i, j in kept.tolist() if self._ids[i] != ids[j]]


def connected_components(edges: Iterable[tuple[Hashable, Hashable]]) -> list[list[Hashable]]:
    """Groups of ids joined by ``edges`` (union-find), each sorted, in order of their smallest member."""
    parent: dict[Hashable, Hashable] = {}

    def find(x: Hashable) -> Hashable:
        root = parent.setdefault(x, x)
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[Hashable, list[Hashable]] = {}
    for x in parent:
        groups.setdefault(find(x), []).append(x)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])
