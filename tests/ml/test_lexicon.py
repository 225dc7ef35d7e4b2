"""LexiconClassifier: the scikit-learn contract, determinism, matching on token boundaries, pin/ban rules."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from ml.lexicon import CountedLexiconBaseline, LexiconClassifier
from ml.spans import Span

LOADED = ["radical", "slammed", "bizarre", "regime", "far-left"]
NEUTRAL = ["plan", "said", "council", "budget", "meeting", "report", "city", "on", "the", "a", "new", "vote"]


def make_corpus(n: int, seed: int) -> tuple[list[str], list[list[Span]]]:
    """Sentences of neutral words with planted loaded words; 'radical' is marked after 'the', not after 'a'."""
    rng = np.random.RandomState(seed)
    texts, spans = [], []
    for _ in range(n):
        words = [str(w) for w in rng.choice(NEUTRAL, size=10)]
        for _ in range(rng.randint(0, 3)):
            pos = rng.randint(2, 10)
            loaded = LOADED[rng.randint(len(LOADED))]
            words[pos] = loaded
            if loaded == "radical":
                words[pos - 1] = "the" if rng.rand() < 0.5 else "a"
        text, marked = "", []
        for i, w in enumerate(words):
            text += " " if i else ""
            start = len(text)
            text += w.capitalize() if i == 0 else w
            if w in LOADED and (w != "radical" or words[i - 1] == "the"):
                marked.append(Span(start, start + len(w), "loaded"))
        texts.append(text + ".")
        spans.append(marked)
    return texts, spans


@pytest.fixture(scope="module")
def corpus():
    return make_corpus(240, seed=1)


@pytest.fixture(scope="module")
def fitted(corpus):
    texts, spans = corpus
    return LexiconClassifier(external_lexicon=None, n_splits=3, random_state=0).fit(texts, spans)


def test_get_set_params_and_clone_keep_hyperparameters_unchanged():
    model = LexiconClassifier(C=2.0, pinned=[("Radical Left", "loaded")], random_state=3)
    params = model.get_params()
    assert params["C"] == 2.0 and params["pinned"] == [("Radical Left", "loaded")] and params["random_state"] == 3
    copy = clone(model)
    assert copy.get_params() == params and copy is not model
    copy.set_params(C=0.1, max_ngram=2)
    assert copy.C == 0.1 and copy.max_ngram == 2 and model.C == 2.0


def test_predict_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        LexiconClassifier().predict(["text"])


def test_fit_returns_self_and_learns_a_readable_lexicon(corpus, fitted):
    texts, spans = corpus
    assert fitted.labels_ == ["loaded"]
    table = {e.term: e for e in fitted.lexicon_}
    assert set(table) == set(LOADED)
    slammed = table["slammed"]
    assert slammed.support == slammed.n_seen > 0 and slammed.precision == 1.0
    radical = table["radical"]
    assert 0 < radical.support < radical.n_seen  # marked only after "the"
    assert radical.weight < slammed.weight
    assert all(name.endswith("_") for name in ("labels_", "lexicon_", "thresholds_", "context_models_"))


def test_context_model_learns_where_an_ambiguous_term_is_loaded(fitted):
    pred = fitted.predict(["Vote on the radical plan.", "Vote on a radical plan.", "The regime said no."])
    got = [[(s.start, s.end, s.label) for s in doc] for doc in pred]
    assert got[0] == [(12, 19, "loaded")]
    assert got[1] == []
    assert got[2] == [(4, 10, "loaded")]
    assert all(0.0 <= s.score <= 1.0 for doc in pred for s in doc)


def test_matches_fall_on_token_boundaries_and_stems_generalise(fitted):
    text = "Radicalism, nonslammed, the radical-ish, far-left and slamming, Bizarre."
    spans = fitted.predict([text])[0]
    found = [text[s.start : s.end] for s in spans]
    assert "far-left" in found and "Bizarre" in found
    assert all(not text[s.start - 1].isalnum() for s in spans if s.start)  # never inside a word
    assert "nonslammed"[3:] not in found and "radical" not in found  # "radical-ish" is one token
    cands, proba = fitted.score_candidates([text])
    by_key = dict(zip(cands.keys, cands.term.tolist(), strict=True))
    assert by_key.get("slamming") == -1  # unseen inflection of "slammed": a candidate through its stem only
    assert proba.shape == (len(cands), 1)


def test_two_fits_with_the_same_seed_are_identical(corpus):
    texts, spans = corpus
    a = LexiconClassifier(external_lexicon=None, n_splits=3, random_state=7).fit(texts, spans)
    b = LexiconClassifier(external_lexicon=None, n_splits=3, random_state=7).fit(texts, spans)
    assert a.lexicon_ == b.lexicon_
    np.testing.assert_array_equal(a.thresholds_, b.thresholds_)
    np.testing.assert_array_equal(a.context_models_[0].coef_, b.context_models_[0].coef_)
    assert a.predict(texts[:50]) == b.predict(texts[:50])


def test_pinned_terms_are_always_and_banned_terms_never_predicted(corpus):
    texts, spans = corpus
    model = LexiconClassifier(
        external_lexicon=None, n_splits=3, random_state=0, pinned=["city council"], banned=[("slammed", "loaded")]
    ).fit(texts, spans)
    text = "The city council slammed the bizarre plan."
    got = {text[s.start : s.end]: s.score for s in model.predict([text])[0]}
    assert got.get("city council") == 1.0
    assert "slammed" not in got and "bizarre" in got
    assert any(e.term == "city council" and e.pinned for e in model.lexicon_)


def test_internal_threshold_is_chosen_on_training_folds_and_can_be_fixed(corpus):
    texts, spans = corpus
    auto = LexiconClassifier(external_lexicon=None, n_splits=3, random_state=0).fit(texts, spans)
    assert 0.0 < auto.thresholds_[0] < 1.0
    assert auto.cv_scores_["loaded"]["f1"] > 0.8
    fixed = LexiconClassifier(external_lexicon=None, n_splits=3, threshold=0.99, random_state=0).fit(texts, spans)
    assert fixed.thresholds_[0] == 0.99
    assert sum(map(len, fixed.predict(texts))) < sum(map(len, auto.predict(texts)))


def test_groups_keep_internal_folds_apart_and_bad_input_is_rejected(corpus):
    texts, spans = corpus
    groups = [i // 4 for i in range(len(texts))]
    assert LexiconClassifier(external_lexicon=None, n_splits=3, random_state=0).fit(texts, spans, groups=groups)
    with pytest.raises(ValueError, match="X has 2 texts but y has 1"):
        LexiconClassifier().fit(["a", "b"], [[]])
    with pytest.raises(ValueError, match="past the end"):
        LexiconClassifier().fit(["abc"], [[(0, 9, "x")]])
    with pytest.raises(ValueError, match="list of texts"):
        LexiconClassifier().fit("not a list", [[]])
    with pytest.raises(ValueError, match="nothing to learn"):
        LexiconClassifier(n_splits=2).fit(["a", "b"], [[], []])


def test_counted_baseline_keeps_precise_marked_terms(corpus):
    texts, spans = corpus
    base = CountedLexiconBaseline(min_precision=0.9).fit(texts, spans)
    terms = {e.term for e in base.lexicon_}
    assert "slammed" in terms and "radical" not in terms
    text = "They slammed it."
    assert [(s.start, s.end) for s in base.predict([text])[0]] == [(5, 12)]


def test_hashes_of_text_ranges_equal_hashes_of_strings():
    from ml.features import TextBatch, hash_strings

    batch = TextBatch(["Radical far-left plan", "a radical-ish PLAN"])
    starts, ends = batch.tokens()
    words = [batch.norm[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    assert words == ["radical", "far-left", "plan", "a", "radical-ish", "plan"]
    np.testing.assert_array_equal(batch.hash(starts, ends), hash_strings(words))
    assert len(set(hash_strings(words).tolist())) == 5  # equal words hash alike, different ones differ
    long_word = "x" * 60
    assert hash_strings([long_word])[0] != hash_strings([long_word + "y"])[0]  # length is part of the hash


def test_scan_reports_only_whole_terms_and_token_prefixes():
    from ml.features import TextBatch
    from ml.lexicon import build_automaton, key_offsets, scan

    batch = TextBatch(["The award-winning war (war) warden.", "War!"])
    terms, prefixes = ["war", "award"], ["ward"]
    starts, keys = scan(build_automaton(terms, prefixes), batch, key_offsets(terms, prefixes))
    found = sorted((int(s), int(k)) for s, k in zip(starts, keys, strict=True))
    norm = batch.norm
    assert [norm[s : s + len((terms + prefixes)[k])] for s, k in found] == ["war", "war", "ward", "war"]
    assert found[-1][0] == batch.offsets[1]  # "War" at the start of the second text, matched case-insensitively


def test_a_text_gets_the_same_spans_alone_or_in_any_batch(corpus, fitted):
    """Scoring is chunked: a resumed run must equal an uninterrupted one, so predict may not depend on the batch."""
    texts = corpus[0][:40]
    together = fitted.predict(texts)
    alone = [fitted.predict([t])[0] for t in texts]
    reversed_batch = fitted.predict(texts[::-1])[::-1]
    assert together == alone == reversed_batch
    assert any(together)


def test_ascii_bmp_and_wider_batches_give_the_same_spans(corpus, fitted):
    """A batch's code points are uint8 (ASCII), uint16 (BMP) or uint32 (any text beyond the BMP in it): the
    narrow arrays are a speed-up only, so a text's spans may not depend on what else shares its batch."""
    from ml.features import TextBatch

    texts = corpus[0][:40]
    bmp, wide = "Ça “radical” plan — bizarre", "The 𝔘 regime slammed a radical plan"
    assert [TextBatch(b).cp.dtype for b in (texts, [*texts, bmp], [*texts, wide])] == [np.uint8, np.uint16, np.uint32]
    ascii_only = fitted.predict(texts)
    assert fitted.predict([*texts, bmp])[:-1] == ascii_only == fitted.predict([*texts, wide])[:-1]
    assert fitted.predict([bmp, wide]) == [fitted.predict([bmp])[0], fitted.predict([wide])[0]]
    assert fitted.predict([wide])[0]  # the text beyond the BMP still gets its loaded words
    for extra in ("x", "é", "“", "𝔘"):  # the scan text is the same whatever the dtype
        assert (
            TextBatch([texts[0], extra]).scan_text
            == " " + texts[0].lower().rstrip(".") + "  " + (extra if extra.isalnum() else " ") + " "
        )


def test_ascii_batches_find_the_same_tokens_as_the_code_point_path():
    """An ASCII batch is built from byte translations (a speed-up): tokens, ``inword`` and the scan text must equal
    what the code-point path gives for the same text, connectors at every edge included."""
    from ml.features import TextBatch

    texts = [
        "-a far-left, 'quoted' plan-- isn't it? o'neil's x-ray-",
        "'",
        "-",
        "a-",
        "-a",
        "a'-b",
        "A--B don't",
        "",
        "_under_score_ 42-year-old",
        "Trailing hyphen-",
    ]
    fast = TextBatch(texts)
    slow = TextBatch([*texts, "é"])  # one non-ASCII text sends the whole batch down the code-point path
    assert fast.cp.dtype == np.uint8 and slow.cp.dtype == np.uint16
    n = len(fast.norm)
    assert fast.norm == slow.norm[:n]
    np.testing.assert_array_equal(fast.inword[:n], slow.inword[:n])
    assert not fast.inword[n]
    k = len(fast.tokens()[0])
    np.testing.assert_array_equal(fast.tokens()[0], slow.tokens()[0][:k])
    np.testing.assert_array_equal(fast.tokens()[1], slow.tokens()[1][:k])
    assert fast.scan_text[: n + 1] == slow.scan_text[: n + 1]
    words = [fast.norm[a:b] for a, b in zip(*(x.tolist() for x in fast.tokens()), strict=True)]
    assert "far-left" in words and "isn't" in words and "o'neil's" in words and "x-ray" in words
    assert "42-year-old" in words and "_under_score_" in words and "a'-b" not in words


def test_text_model_raises_the_prior_of_texts_that_look_like_marked_ones():
    """Texts about the 'senate' carry marked words, texts about the 'weather' never do: the text model learns it
    (from the words it sees: the candidates and their neighbours)."""
    rng = np.random.RandomState(4)
    texts, spans = [], []
    for i in range(120):
        topic = "senate" if i % 2 else "weather"
        word = LOADED[rng.randint(len(LOADED))]
        text = f"The report said the {word} {topic} plan was new."
        start = text.index(f" {word} ") + 1
        texts.append(text)
        spans.append([Span(start, start + len(word), "loaded")] if topic == "senate" else [])
    model = LexiconClassifier(external_lexicon=None, n_splits=3, random_state=0).fit(texts, spans)
    assert model.text_models_[0] is not None and model.text_C_[0] > 0
    probe = ["The report said the radical senate plan was new.", "The report said the radical weather plan was new."]
    cands, _ = model.score_candidates(probe)
    prior = model._text_prior(cands)[:, 0]
    assert prior[cands.doc == 0].min() > prior[cands.doc == 1].max()
    assert [len(doc) for doc in model.predict(probe)] == [1, 0]


def test_hash_index_finds_every_key_also_when_keys_share_a_slot():
    from ml.features import HashIndex

    rng = np.random.RandomState(0)
    keys = rng.randint(0, 2**62, size=300, dtype=np.int64).astype(np.uint64)
    keys[:50] = (keys[:50] & np.uint64(0xFFFF)) | np.uint64(7 << 50)  # 50 keys with the same top bits
    index = HashIndex(keys)
    np.testing.assert_array_equal(index.get(keys), np.arange(300))
    absent = keys + np.uint64(1)
    assert (index.get(absent) == -1).all()
    assert (HashIndex(np.zeros(0, dtype=np.uint64)).get(keys) == -1).all()


def test_overlapping_candidates_keep_the_best_scoring_one_like_a_greedy_pass():
    from ml.lexicon import _non_overlapping
    from ml.spans import overlaps

    rng = np.random.RandomState(1)
    starts = np.sort(rng.randint(0, 400, size=200))
    ends = starts + rng.randint(1, 12, size=200)
    score = rng.rand(200)
    kept = set(_non_overlapping(np.arange(200), starts, ends, score).tolist())
    greedy: list[int] = []
    for j in sorted(range(200), key=lambda j: (-score[j], starts[j] - ends[j])):
        if not any(overlaps(starts[j], ends[j], starts[k], ends[k]) for k in greedy):
            greedy.append(j)
    assert kept == set(greedy)


def test_predict_arrays_holds_the_same_spans_as_predict(corpus, fitted):
    """Scoring stores spans from the columns without Span objects: they must be predict's spans, row for row."""
    texts = corpus[0][:60] + ["", "No loaded word here."]
    spans = fitted.predict(texts)
    found = fitted.predict_arrays(texts)
    as_rows = [
        (d, s, e, fitted.labels_[li], round(sc, 6))
        for d, s, e, li, sc in zip(
            found.doc.tolist(),
            found.start.tolist(),
            found.end.tolist(),
            found.label.tolist(),
            found.score.tolist(),
            strict=True,
        )
    ]
    assert as_rows == [(d, s.start, s.end, s.label, s.score) for d, doc in enumerate(spans) for s in doc]
    assert len(found) > 10
    assert len(fitted.predict_arrays([])) == 0


def test_single_threaded_blas_limits_every_loaded_pool_and_restores_it_on_exit():
    from threadpoolctl import threadpool_info

    from ml.lexicon import single_threaded_blas

    before = {info["filepath"]: info["num_threads"] for info in threadpool_info()}
    with single_threaded_blas():
        assert {info["num_threads"] for info in threadpool_info()} == {1}
    with single_threaded_blas():  # the cached controller serves every call
        assert {info["num_threads"] for info in threadpool_info()} == {1}
    assert {info["filepath"]: info["num_threads"] for info in threadpool_info()} == before
