"""The throughput floors' yardstick: a bare pyahocorasick pass with the model's own lexicon (issues 5 and 6)."""

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
