"""Forgiving in-memory search: exact names, aliases, prefixes, words, typos.

Look-ups use dictionaries, sorted lists (bisect) and an inverted word index, so
autocomplete never scans the whole collection; rapidfuzz ranks candidates and
corrects misspelt words against the (much smaller) vocabulary.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import overload

from rapidfuzz import fuzz, process

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
SCORED = 500  # name matches ranked by likeness; more than 50 pages of them go on in name order


def normalise(text: str) -> str:
    """Casefold, strip accents and punctuation, collapse spaces: 'Codeando México!' -> 'codeando mexico'."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", stripped.casefold()).strip()


def compact(text: str) -> str:
    """The normalised text without spaces: 'code4.ro' and 'Code 4 RO' both give 'code4ro'."""
    return normalise(text).replace(" ", "")


@dataclass(frozen=True, slots=True)
class Entry:
    """One searchable item: its key, display name, alternative names and free text."""

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    text: str = ""
    tags: tuple[str, ...] = ()


class RankedKeys(Sequence[str]):
    """Ranked keys, then the rest in name order, found by walking the name order only as far as read."""

    def __init__(self, ranked: list[str], rest: set[str], name_order: list[str]) -> None:
        self._ranked = ranked
        self._rest = rest
        self._name_order = name_order
        self._walked = 0
        self._length = len(ranked) + len(rest)

    def __len__(self) -> int:
        return self._length

    def _reach(self, count: int) -> None:
        if not self._rest:
            return
        order, rest, ranked = self._name_order, self._rest, self._ranked
        while len(ranked) < count and self._walked < len(order):
            key = order[self._walked]
            self._walked += 1
            if key in rest:
                ranked.append(key)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        stop = (
            len(self) if isinstance(index, int) and index < 0 else index.stop if isinstance(index, slice) else index + 1
        )
        self._reach(len(self) if stop is None or stop < 0 else stop)
        return self._ranked[index]


@dataclass(slots=True)
class _Postings:
    words: dict[str, set[str]] = field(default_factory=dict)

    def add(self, word: str, key: str) -> None:
        self.words.setdefault(word, set()).add(key)

    def discard(self, word: str, key: str) -> None:
        keys = self.words.get(word)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.words[word]


class SearchIndex:
    """Ranked look-ups over entries: exact name > alias > prefix > name words > description and tag words."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._entries: dict[str, Entry] = {}
        self._normal_names: dict[str, str] = {}
        self._exact_name: dict[str, set[str]] = {}
        self._exact_alias: dict[str, set[str]] = {}
        self._name_words = _Postings()
        self._text_words = _Postings()
        for entry in entries:
            self._add(entry)
        # The sorted tables are built once here, then kept in order by `put` and `remove` (no re-sorting).
        self._sorted_names: list[tuple[str, str]] = sorted(
            (name, entry.key) for entry in self._entries.values() for name in _sortable_names(entry)
        )
        self._choice_names = [name for name, _ in self._sorted_names]
        self._choice_keys = [key for _, key in self._sorted_names]
        self._compact_choices = [name.replace(" ", "") for name in self._choice_names]
        self._vocabulary = sorted(self._name_words.words.keys() | self._text_words.words.keys())
        self._ordered_keys = sorted(self._normal_names, key=self._sort_key)

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, entry: Entry) -> None:
        """Add or replace an entry, keeping every table in order (a few list insertions, no re-sorting)."""
        self.remove(entry.key)
        self._add(entry)
        bisect.insort(self._ordered_keys, entry.key, key=self._sort_key)
        for name in _sortable_names(entry):
            position = bisect.bisect_left(self._sorted_names, (name, entry.key))
            self._sorted_names.insert(position, (name, entry.key))
            self._choice_names.insert(position, name)
            self._choice_keys.insert(position, entry.key)
            self._compact_choices.insert(position, name.replace(" ", ""))
        for word in _name_words(entry) | _text_words(entry):
            position = bisect.bisect_left(self._vocabulary, word)
            if position == len(self._vocabulary) or self._vocabulary[position] != word:
                self._vocabulary.insert(position, word)

    def remove(self, key: str) -> None:
        """Forget an entry."""
        entry = self._entries.get(key)
        if entry is None:
            return
        position = bisect.bisect_left(self._ordered_keys, self._sort_key(key), key=self._sort_key)
        if position < len(self._ordered_keys) and self._ordered_keys[position] == key:
            del self._ordered_keys[position]
        del self._entries[key]
        del self._normal_names[key]
        for form in _forms(entry.name):
            _discard(self._exact_name, form, key)
        for alias in entry.aliases:
            for form in _forms(alias):
                _discard(self._exact_alias, form, key)
        for name in _sortable_names(entry):
            position = bisect.bisect_left(self._sorted_names, (name, key))
            if position < len(self._sorted_names) and self._sorted_names[position] == (name, key):
                for table in (self._sorted_names, self._choice_names, self._choice_keys, self._compact_choices):
                    del table[position]
        for word in _name_words(entry):
            self._name_words.discard(word, key)
        for word in _text_words(entry):
            self._text_words.discard(word, key)
        for word in _name_words(entry) | _text_words(entry):
            if word not in self._name_words.words and word not in self._text_words.words:
                position = bisect.bisect_left(self._vocabulary, word)
                if position < len(self._vocabulary) and self._vocabulary[position] == word:
                    del self._vocabulary[position]

    def _add(self, entry: Entry) -> None:
        key = entry.key
        self._entries[key] = entry
        self._normal_names[key] = normalise(entry.name)
        for form in _forms(entry.name):
            self._exact_name.setdefault(form, set()).add(key)
        for alias in entry.aliases:
            for form in _forms(alias):
                self._exact_alias.setdefault(form, set()).add(key)
        for word in _name_words(entry):
            self._name_words.add(word, key)
        for word in _text_words(entry):
            self._text_words.add(word, key)

    def _sort_key(self, key: str) -> tuple[str, str]:
        """Name order, ties broken by key, so an entry's place is found by bisection."""
        return self._normal_names[key], key

    # -- look-ups ---------------------------------------------------------------------------------

    def exact(self, query: str) -> str | None:
        """The key whose name (else alias or key) equals the query, ignoring case, accents and spacing."""
        for form in _forms(query):
            for table in (self._exact_name, self._exact_alias):
                keys = table.get(form)
                if keys:
                    return min(keys, key=lambda k: self._entries[k].name)
        return None

    def prefixed(self, query: str, limit: int) -> list[str]:
        """Keys whose name or alias starts with the query, in name order."""
        prefix = normalise(query)
        found: dict[str, None] = {}
        names = self._sorted_names
        position = bisect.bisect_left(names, (prefix, ""))
        while position < len(names) and len(found) < limit and names[position][0].startswith(prefix):
            found[names[position][1]] = None
            position += 1
        return list(found)

    def complete(self, query: str, limit: int = 25) -> list[str]:
        """Autocomplete: exact, then prefix, then word matches, then typo-tolerant matches."""
        if not normalise(query):
            return [key for _, key in self._unique_sorted(limit)]
        ranked: dict[str, None] = {}
        exact = self.exact(query)
        if exact:
            ranked[exact] = None
        for key in self.prefixed(query, limit):
            ranked.setdefault(key, None)
        if len(ranked) < limit:
            for key in self.search(query, limit=limit, names_only=True):
                ranked.setdefault(key, None)
        return list(ranked)[:limit]

    def search(
        self,
        query: str,
        *,
        limit: int | None = None,
        within: set[str] | None = None,
        names_only: bool = False,
    ) -> Sequence[str]:
        """Keys matching every word of the query (typos corrected), best first."""
        words = normalise(query).split()
        if not words:
            if within is None:
                return self._ordered_keys[:limit]
            return sorted(within & self._entries.keys(), key=self._sort_key)[:limit]
        # While typing (names only) the last word is a prefix; a search takes a known word as it is.
        last = words[-1]
        prefix_last = names_only or (last not in self._name_words.words and last not in self._text_words.words)
        in_names = self._match_all(words, self._name_words, prefix_last=prefix_last)
        in_text = (
            set()
            if names_only
            else self._match_all(words, self._text_words, also=self._name_words, prefix_last=prefix_last)
        )
        if within is not None:
            in_names &= within
            in_text &= within
        exact = self.exact(query)
        head = [exact] if exact in in_names or exact in in_text else []
        named = [key for key in in_names if key != exact]
        names = [self._normal_names[key] for key in named]
        # The names most like the query first (a partial sort in C), then every other match in name order.
        scores = process.extract(" ".join(words), names, scorer=fuzz.token_set_ratio, limit=SCORED)
        best = sorted((-score, names[position], named[position]) for _, score, position in scores)
        ranked = head + [key for _, _, key in best]
        found = RankedKeys(ranked, (in_names | in_text).difference(ranked), self._ordered_keys)
        return found if limit is None else found[:limit]

    def suggest(self, query: str, limit: int = 3, cutoff: float = 60.0) -> list[str]:
        """Keys whose names look most like the query, for 'did you mean'."""
        target = normalise(query)
        if not target:
            return []
        names, keys_of = self._choice_names, self._choice_keys
        matches = process.extract(target, names, scorer=fuzz.WRatio, limit=limit * 3, score_cutoff=cutoff)
        keys: dict[str, None] = {}
        for _, _, position in matches:
            keys.setdefault(keys_of[position], None)
        return list(keys)[:limit]

    def best_guess(self, query: str, threshold: float = 85.0) -> str | None:
        """The key a misspelt query clearly means (one high-scoring match), or None."""
        target = compact(query)
        if len(target) < 4:
            return None
        keys_of = self._choice_keys
        matches = process.extract(target, self._compact_choices, scorer=fuzz.ratio, limit=5, score_cutoff=threshold)
        keys = {keys_of[position] for _, _, position in matches}
        return keys.pop() if len(keys) == 1 else None

    # -- internals --------------------------------------------------------------------------------

    def _unique_sorted(self, limit: int) -> list[tuple[str, str]]:
        seen: dict[str, tuple[str, str]] = {}
        for name, key in self._sorted_names:
            if self._normal_names[key] == name:
                seen.setdefault(key, (name, key))
                if len(seen) >= limit:
                    break
        return list(seen.values())

    def _match_all(
        self, words: list[str], postings: _Postings, also: _Postings | None = None, *, prefix_last: bool = True
    ) -> set[str]:
        result: set[str] | None = None
        for position, word in enumerate(words):
            last = prefix_last and position == len(words) - 1
            keys = self._word_keys(word, postings, prefix=last)
            if also is not None:
                keys |= self._word_keys(word, also, prefix=last)
            result = keys if result is None else result & keys
            if not result:
                return set()
        return result or set()

    def _word_keys(self, word: str, postings: _Postings, *, prefix: bool) -> set[str]:
        keys = set(postings.words.get(word, ()))
        vocabulary = self._vocabulary
        if prefix:
            start = bisect.bisect_left(vocabulary, word)
            for candidate in vocabulary[start : start + 200]:
                if not candidate.startswith(word):
                    break
                keys |= postings.words.get(candidate, set())
        if not keys and len(word) >= 4:
            for candidate, _, _ in process.extract(word, vocabulary, scorer=fuzz.ratio, limit=3, score_cutoff=80):
                keys |= postings.words.get(candidate, set())
        return keys


def _forms(text: str) -> set[str]:
    forms = {normalise(text), compact(text)}
    forms.discard("")
    return forms


def _sortable_names(entry: Entry) -> set[str]:
    names = {normalise(entry.name), *(normalise(alias) for alias in entry.aliases)}
    names.discard("")
    return names


def _words(texts: Iterable[str]) -> set[str]:
    words: set[str] = set()
    for text in texts:
        words.update(normalise(text).split())
    return words


def _name_words(entry: Entry) -> set[str]:
    return _words((entry.name, *entry.aliases))


def _text_words(entry: Entry) -> set[str]:
    return _words((entry.text, *entry.tags))


def _discard(table: dict[str, set[str]], form: str, key: str) -> None:
    keys = table.get(form)
    if keys is not None:
        keys.discard(key)
        if not keys:
            del table[form]
