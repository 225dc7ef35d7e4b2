import pickle
import random

import ahocorasick
import numpy as np
import pytest

from ml import matching
from ml.matching import KeyMatcher


def pyahocorasick_matches(keys: list[str], text: str) -> list[tuple[int, int, int]]:
    """(key, start, end) of every match, by pyahocorasick: the reference the matcher replaced."""
    automaton = ahocorasick.Automaton()
    for i, key in enumerate(keys):
        automaton.add_word(key, i)
    automaton.make_automaton()
    return sorted((i, end + 1 - len(keys[i]), end + 1) for end, i in automaton.iter(text))


def found(matcher: KeyMatcher, text: str) -> list[tuple[int, int, int]]:
    return sorted(map(tuple, matcher.find(text).tolist()))


TEXT = " the award-winning war  warden said: war, élite 😀 war-weary wards "
KEYS = [" war ", " ward", "ing ", "-", " war", "ar", " élite ", " 😀 "]


@pytest.mark.parametrize("max_dfa_keys", [100_000, 0], ids=["dfa", "nfa"])
def test_every_overlapping_match_at_code_point_offsets(monkeypatch, max_dfa_keys):
    monkeypatch.setattr(matching, "DFA_MAX_KEYS", max_dfa_keys)
    matcher = KeyMatcher(KEYS)
    got = found(matcher, TEXT)
    assert got == pyahocorasick_matches(KEYS, TEXT)
    assert all(TEXT[start:end] == KEYS[key] for key, start, end in got)  # offsets count code points, not bytes
    assert (0, TEXT.index(" war "), TEXT.index(" war ") + 5) in got
    assert sum(1 for key, _, _ in got if key == 5) == TEXT.count("ar")  # overlapping matches are all reported


def test_agrees_with_pyahocorasick_on_random_keys_and_texts():
    rng = random.Random(7)
    alphabet = "ab -é"
    for _ in range(50):
        keys = list(
            {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 12))}
        )
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        assert found(KeyMatcher(keys), text) == pyahocorasick_matches(keys, text), (keys, text)


def test_a_repeated_key_is_reported_under_each_index():
    assert found(KeyMatcher(["ab", "b", "ab"]), "xab") == [(0, 1, 3), (1, 2, 3), (2, 1, 3)]


def test_no_keys_or_no_text_finds_nothing_and_an_empty_key_is_refused():
    assert len(KeyMatcher([])) == 0
    assert KeyMatcher([]).find("anything").dtype == matching.MATCH
    assert len(KeyMatcher([]).find("anything")) == 0
    assert len(KeyMatcher(["a"]).find("")) == 0
    with pytest.raises(ValueError, match="empty string"):
        KeyMatcher(["a", ""])


def test_survives_pickling():
    matcher = pickle.loads(pickle.dumps(KeyMatcher(KEYS)))
    assert matcher.keys == KEYS
    np.testing.assert_array_equal(matcher.find(TEXT), KeyMatcher(KEYS).find(TEXT))
