"""Forgiving in-memory search: exact names, aliases, prefixes, words, typos.

Look-ups use dictionaries, sorted lists (bisect) and an inverted word index, so
autocomplete never scans the whole collection; rapidfuzz ranks candidates and
corrects misspelt words against the (much smaller) vocabulary.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast, overload

import opencc
import Stemmer
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

T = TypeVar("T")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_HAN = re.compile(r"[\u2e80-\u2fdf\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
_SIMPLIFIED = opencc.OpenCC("t2s")
_STEMMER = Stemmer.Stemmer("english")
_LAST_CHARACTER = chr(0x10FFFF)  # a prefix followed by it sorts after every name that starts with the prefix
SCORED = 500  # name matches ranked by likeness; more than 50 pages of them go on in name order
FUZZY_ALL = 10_000  # names "did you mean" compares one by one; a larger index first picks look-alikes cheaply
TYPO_LENGTH = 4  # words this long or longer are corrected when the directory does not know them
CORRECTIONS_MEMORY = 4096  # misspelt words remembered with their corrections until the vocabulary changes
RECENT = 8  # word matches and rankings remembered until the index changes: one look-up asks for them repeatedly


def normalise(text: str) -> str:
    """Casefold, strip accents and punctuation, fold Traditional and variant Han characters to one form.

    'Codeando México!' -> 'codeando mexico'; '臺灣' and '台灣' -> '台湾'.
    """
    stripped = text
    if not text.isascii():  # ASCII has no accents to strip
        stripped = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    words = _NON_WORD.sub(" ", stripped.casefold()).strip()
    return _SIMPLIFIED.convert(words) if _HAN.search(words) else words


def stem(word: str) -> str:
    """The word's stem, so 'elections' and 'election' meet: a normalised word in, its Snowball stem out."""
    return _STEMMER.stemWord(word)


def compact(text: str) -> str:
    """The normalised text without spaces: 'code4.ro' and 'Code 4 RO' both give 'code4ro'."""
    return normalise(text).replace(" ", "")


@dataclass(frozen=True, slots=True)
class Entry:
    """One searchable item: its key, display name, alternative names, free text, and words that find it by name.

    `keywords` (a chapter's country in every language, say) count as words of its name, but are not names.
    """

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    text: str = ""
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


class RankedKeys(Sequence[str]):
    """Ranked keys, then the rest of `found` in name order, found only as far as read: by walking the name
    order when `found` is a large share of it, else by sorting the rest of `found`."""

    def __init__(self, ranked: list[str], found: set[str], name_order: list[tuple[str, str]], names: dict[str, str]):
        self._ranked = ranked
        self._found = found
        self._seen = set(ranked)  # every ranked key is one of `found`
        self._name_order = name_order
        self._names = names  # key: normalised name
        self._walked = 0
        self._length = len(found)

    def __len__(self) -> int:
        return self._length

    def _reach(self, count: int) -> None:
        order, found, seen, ranked = self._name_order, self._found, self._seen, self._ranked
        missing = min(count, self._length) - len(ranked)
        if missing <= 0:
            return
        if missing * len(order) > len(found) ** 2:  # walking to the next `missing` would take longer than a sort
            names = self._names
            ranked += sorted(found - seen, key=lambda key: (names[key], key))
            self._walked = len(order)
            return
        while len(ranked) < min(count, self._length) and self._walked < len(order):
            key = order[self._walked][1]
            self._walked += 1
            if key in found and key not in seen:
                ranked.append(key)
                seen.add(key)

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

    def keys(self, words: Iterable[str]) -> set[str]:
        """Keys filed under any of the words."""
        return set().union(*(self.words.get(word, ()) for word in words))

    def discard(self, word: str, key: str) -> None:
        keys = self.words.get(word)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.words[word]


class SearchIndex:
    """Ranked look-ups over entries: exact name > alias > prefix > name words > description and tag words.

    Every table is kept up to date entry by entry (bisect into sorted lists), so a change costs about as much
    at 100,000 entries as at 100, and no look-up ever rebuilds anything.
    """

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._entries: dict[str, Entry] = {}
        self._normal_names: dict[str, str] = {}
        self._exact_name: dict[str, set[str]] = {}
        self._exact_alias: dict[str, set[str]] = {}
        # Names and aliases (normalised) with their keys, in order; the three lists beside it hold the same
        # names, keys and names without spaces, position for position, for rapidfuzz to match against.
        self._sorted_names: list[tuple[str, str]] = []
        self._choice_names: list[str] = []
        self._choice_keys: list[str] = []
        self._compact_choices: list[str] = []
        self._name_words = _Postings()
        self._text_words = _Postings()
        self._keyword_words = _Postings()
        self._vocabulary: list[str] = []  # every word of the three postings, sorted
        self._stems: dict[str, list[str]] = {}  # stem: its words, sorted
        self._stems_by_length: dict[int, list[str]] = {}  # length: stems of that length, sorted
        self._corrected: dict[str, list[str]] = {}
        self._recent: dict[tuple[Any, ...], Any] = {}
        self._ordered: list[tuple[str, str]] = []  # (normalised name, key) of every entry, sorted
        for entry in entries:
            self._add(entry, bulk=True)
        self._sorted_names.sort()
        self._choice_names = [name for name, _ in self._sorted_names]
        self._choice_keys = [key for _, key in self._sorted_names]
        self._compact_choices = [name.replace(" ", "") for name in self._choice_names]
        self._ordered = sorted((name, key) for key, name in self._normal_names.items())
        self._vocabulary = sorted(
            self._name_words.words.keys() | self._text_words.words.keys() | self._keyword_words.words.keys()
        )
        for word in self._vocabulary:
            self._stems.setdefault(stem(word), []).append(word)
        for root in sorted(self._stems):
            self._stems_by_length.setdefault(len(root), []).append(root)

    def __len__(self) -> int:
        return len(self._entries)

    def normal_name(self, key: str) -> str:
        """An entry's name, normalised."""
        return self._normal_names[key]

    def put(self, entry: Entry) -> None:
        """Add or replace an entry."""
        self._recent.clear()
        if entry.key in self._entries:
            self.remove(entry.key)
        self._add(entry, bulk=False)

    def remove(self, key: str) -> None:
        """Forget an entry."""
        self._recent.clear()
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        _remove_sorted(self._ordered, (self._normal_names.pop(key), key))
        for form in _forms(entry.name):
            _discard(self._exact_name, form, key)
        for alias in entry.aliases:
            for form in _forms(alias):
                _discard(self._exact_alias, form, key)
        for name in _sortable_names(entry):
            position = _remove_sorted(self._sorted_names, (name, key))
            if position is not None:
                del self._choice_names[position], self._choice_keys[position], self._compact_choices[position]
        for postings, words in self._postings_of(entry):
            for word in words:
                postings.discard(word, key)
                if not self._knows(word):
                    self._forget_word(word)

    def _add(self, entry: Entry, *, bulk: bool) -> None:
        """File an entry; `bulk` appends to the sorted tables, which the constructor then sorts once."""
        key = entry.key
        self._entries[key] = entry
        self._normal_names[key] = normal = normalise(entry.name)
        for form in _forms(entry.name):
            self._exact_name.setdefault(form, set()).add(key)
        for alias in entry.aliases:
            for form in _forms(alias):
                self._exact_alias.setdefault(form, set()).add(key)
        if bulk:
            self._sorted_names.extend((name, key) for name in _sortable_names(entry))
        else:
            bisect.insort(self._ordered, (normal, key))
            for name in _sortable_names(entry):
                position = bisect.bisect_left(self._sorted_names, (name, key))
                self._sorted_names.insert(position, (name, key))
                self._choice_names.insert(position, name)
                self._choice_keys.insert(position, key)
                self._compact_choices.insert(position, name.replace(" ", ""))
        for postings, words in self._postings_of(entry):
            for word in words:
                if not bulk and not self._knows(word):
                    self._learn_word(word)
                postings.add(word, key)

    def _postings_of(self, entry: Entry) -> tuple[tuple[_Postings, set[str]], ...]:
        """Each word table with the words of the entry it files."""
        return (
            (self._name_words, _name_words(entry)),
            (self._text_words, _text_words(entry)),
            (self._keyword_words, _words(entry.keywords)),
        )

    def _knows(self, word: str) -> bool:
        """Whether some entry has the word, in any table."""
        return any(word in table.words for table in (self._name_words, self._text_words, self._keyword_words))

    def _learn_word(self, word: str) -> None:
        """A word new to the vocabulary: file it and its stem."""
        bisect.insort(self._vocabulary, word)
        root = stem(word)
        if root not in self._stems:
            bisect.insort(self._stems_by_length.setdefault(len(root), []), root)
        bisect.insort(self._stems.setdefault(root, []), word)
        self._corrected.clear()

    def _forget_word(self, word: str) -> None:
        """A word no entry has any more."""
        _remove_sorted(self._vocabulary, word)
        root = stem(word)
        words = self._stems.get(root, [])
        _remove_sorted(words, word)
        if not words:
            self._stems.pop(root, None)
            same_length = self._stems_by_length.get(len(root), [])
            _remove_sorted(same_length, root)
            if not same_length:
                self._stems_by_length.pop(len(root), None)
        self._corrected.clear()

    # -- look-ups ---------------------------------------------------------------------------------

    def exact(self, query: str) -> str | None:
        """The key whose name (else alias or key) equals the query, ignoring case, accents and spacing."""
        for form in _forms(query):
            for table in (self._exact_name, self._exact_alias):
                keys = table.get(form)
                if keys:
                    return min(keys, key=lambda k: _likeness_to_typed(self._entries[k].name, query))
        return None

    def prefixed(self, query: str, limit: int) -> list[str]:
        """Keys whose name or alias starts with the query, in name order."""
        return self._starting_with(normalise(query), limit)

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
        keywords: bool = True,
    ) -> Sequence[str]:
        """Keys matching every word of the query (any order, stems and typos forgiven), best first.

        Name matches come first, ranked by likeness; then keyword (and, unless `names_only`, description
        and tag) matches in name order.
        """
        words = normalise(query).split()
        if not words:
            if within is None:
                return [key for _, key in self._ordered[:limit]]
            return sorted(within & self._entries.keys(), key=self._name_order)[:limit]
        # While typing (names only) the last word is a prefix; a search takes a known word as it is.
        last = words[-1]
        prefix_last = names_only or not self._knows(last)
        wider: tuple[_Postings, ...] = (self._keyword_words,) if keywords else ()
        if not names_only:
            wider += (self._text_words,)
        in_names, in_any = self._match_all(words, wider, prefix_last=prefix_last)
        if within is not None:
            in_names, in_any = in_names & within, in_any & within
        exact = self.exact(query)
        head = [exact] if exact in in_any else []
        if within is None:
            best = self._remembered(
                ("ranked", tuple(words), prefix_last, exact), lambda: self._rank(words, in_names, exact)
            )
        else:
            best = self._rank(words, in_names, exact)
        ranked = head + best
        found = RankedKeys(ranked, in_any, self._ordered, self._normal_names)
        return found if limit is None else found[:limit]

    def _rank(self, words: list[str], in_names: set[str], exact: str | None) -> list[str]:
        """Up to SCORED name matches (but `exact`), the names most like the query first."""
        typed = " ".join(words)
        pool: Iterable[str] = in_names
        if len(in_names) > SCORED:  # a word most names have: rank those that start with it
            pool = self._starting_with(typed, SCORED, among=in_names)
        named = [key for key in pool if key != exact]
        names = [self._normal_names[key] for key in named]
        # A partial sort in C; a name that starts with the query comes before one where it is a later part.
        scores = process.extract(typed, names, scorer=fuzz.token_set_ratio, limit=SCORED)
        best = sorted(
            (not names[position].startswith(typed), -score, names[position], named[position])
            for _, score, position in scores
        )
        return [key for *_, key in best]

    def best_named(self, query: str, margin: float = 10.0, named: Sequence[str] | None = None) -> str | None:
        """The key whose name is clearly the likest of those the query's words name (None when unclear);
        `named` is what `search(query, limit=SCORED, names_only=True, keywords=False)` gave, when known."""
        target = " ".join(normalise(query).split())
        if named is None:
            named = self.search(query, limit=SCORED, names_only=True, keywords=False)
        if not named:
            return None
        scores = [fuzz.token_sort_ratio(target, self._normal_names[key]) for key in named]
        top = max(scores)
        if sum(score > top - margin for score in scores) == 1:
            return named[scores.index(top)]
        return None

    def suggest(self, query: str, limit: int = 3, cutoff: float = 60.0) -> list[str]:
        """Keys whose names look most like the query, for 'did you mean'."""
        target = normalise(query)
        if not target:
            return []
        names, keys_of = self._choice_names, self._choice_keys
        if len(names) > FUZZY_ALL:  # the likest without spaces first (fuzz.ratio is a few times cheaper)
            alike = process.extract(compact(query), self._compact_choices, scorer=fuzz.ratio, limit=limit * 20)
            names = [names[position] for _, _, position in alike]
            keys_of = [keys_of[position] for _, _, position in alike]
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

    def _starting_with(self, prefix: str, limit: int, among: set[str] | None = None) -> list[str]:
        """Up to `limit` keys (of `among`, if given) with a name or alias that starts with `prefix`, in name
        order: the names from the prefix's place in the sorted names to the first that does not start with it."""
        names, keys = self._sorted_names, self._choice_keys
        start = bisect.bisect_left(names, (prefix, ""))
        end = bisect.bisect_left(names, (prefix + _LAST_CHARACTER, ""), lo=start)
        found: dict[str, None] = {}
        for key in map(keys.__getitem__, range(start, end)):
            if among is None or key in among:
                found[key] = None
                if len(found) >= limit:
                    break
        return list(found)

    def _name_order(self, key: str) -> tuple[str, str]:
        """Sorts keys in name order."""
        return self._normal_names[key], key

    def _unique_sorted(self, limit: int) -> list[tuple[str, str]]:
        seen: dict[str, tuple[str, str]] = {}
        for name, key in self._sorted_names:
            if self._normal_names[key] == name:
                seen.setdefault(key, (name, key))
                if len(seen) >= limit:
                    break
        return list(seen.values())

    def _match_all(
        self, words: list[str], wider: tuple[_Postings, ...], *, prefix_last: bool
    ) -> tuple[set[str], set[str]]:
        """Keys with every word in a name; and keys with every word in a name or in one of the `wider` tables
        (a superset of the first)."""
        in_names: set[str] | None = None
        in_any: set[str] | None = None
        for position, word in enumerate(words):
            prefix = prefix_last and position == len(words) - 1
            named = self._word_keys(word, self._name_words, prefix=prefix)
            anywhere = (
                named.union(*(self._word_keys(word, table, prefix=prefix) for table in wider)) if wider else named
            )
            in_names = named if in_names is None else in_names & named
            in_any = anywhere if in_any is None else in_any & anywhere
            if not in_any:
                return set(), set()
        return in_names or set(), in_any or set()

    def _word_keys(self, word: str, table: _Postings, *, prefix: bool) -> set[str]:
        """Keys of the table with one of the word's forms (remembered: never change what is returned)."""
        return self._remembered(
            ("keys", word, id(table), prefix), lambda: table.keys(self._word_forms(word, prefix=prefix))
        )

    def _remembered(self, memo: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """What `compute` gives, remembered among the RECENT answers until the index changes."""
        if memo not in self._recent:
            if len(self._recent) >= RECENT:
                self._recent.clear()
            self._recent[memo] = compute()
        return cast(T, self._recent[memo])

    def _word_forms(self, word: str, *, prefix: bool) -> list[str]:
        """The word, words of the same stem, (last word) words it begins, or else the close typos it may be."""
        vocabulary = self._vocabulary
        known = self._stems.get(stem(word), [])
        forms = known or [word]
        if prefix:
            start = bisect.bisect_left(vocabulary, word)
            forms = forms + list(itertools.takewhile(lambda w: w.startswith(word), vocabulary[start : start + 200]))
        if len(forms) == 1 and not known and len(word) >= TYPO_LENGTH:
            # A word the directory does not know at all (as typed, by stem, or begun): a typo.
            forms = self._corrections(word)
        return forms

    def _corrections(self, word: str) -> list[str]:
        """Known words a misspelt word may mean: one like it, or one whose stem it begins with one slip."""
        if word in self._corrected:
            return self._corrected[word]
        vocabulary = self._vocabulary
        found = [w for w, _, _ in process.extract(word, vocabulary, scorer=fuzz.ratio, limit=3, score_cutoff=80)]
        for length in range(TYPO_LENGTH, len(word) + 1):
            stems = self._stems_by_length.get(length, [])
            for root, _, _ in process.extract(word[:length], stems, scorer=Levenshtein.distance, score_cutoff=1):
                found += self._stems[root]
        if len(self._corrected) >= CORRECTIONS_MEMORY:
            self._corrected.clear()
        self._corrected[word] = found
        return found


def _likeness_to_typed(name: str, typed: str) -> tuple[bool, bool, str]:
    """Sorts the name spelt exactly as typed first, then one differing only in case, then by name."""
    return name != typed, name.casefold() != typed.casefold(), name


def _forms(text: str) -> set[str]:
    """The forms a name is known by exactly: as typed (normalised), without spaces, and its words in any order."""
    normal = normalise(text)
    forms = {normal, normal.replace(" ", ""), " ".join(sorted(normal.split()))}
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


def _remove_sorted(items: list[Any], item: Any) -> int | None:
    """Remove `item` from the sorted list; its former position, or None when it was not there."""
    position = bisect.bisect_left(items, item)
    if position < len(items) and items[position] == item:
        del items[position]
        return position
    return None
