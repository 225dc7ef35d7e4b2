"""The throughput floors' yardsticks: a bare pyahocorasick pass with the model's own lexicon (issues 5 and 6), and a bare
ahocorasick_rs pass (issue 20)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import ahocorasick


def bare_automaton(keys: Iterable[str], keep: Callable[[str], bool] = lambda key: True) -> ahocorasick.Automaton:
    """A pyahocorasick automaton over the matcher keys that ``keep`` accepts (``model.automaton_.keys``)."""
    automaton = ahocorasick.Automaton()
    for value, key in enumerate(keys):
        if keep(key):
            automaton.add_word(key, value)
    automaton.make_automaton()
    return automaton


def bare_matcher_rs(keys: Iterable[str]) -> Callable[[str], list]:
    """The scoring floor's yardstick (issue 20): a bare ``ahocorasick_rs`` pass over the model's matcher keys, the
    same library and automaton kind the model's matcher uses (``ml.matching``), every overlapping match of the
    lower-cased text as (key, start, end)."""
    import ahocorasick_rs

    automaton = ahocorasick_rs.AhoCorasick(list(keys), implementation=ahocorasick_rs.Implementation.DFA)
    return lambda text: automaton.find_matches_as_indexes(text.lower(), overlapping=True)
