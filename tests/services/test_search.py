"""The forgiving search index."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.directory.index import Entry, RankedKeys, SearchIndex, compact, normalise

ENTRIES = [
    Entry(
        "code4romania",
        "Code for Romania",
        ("Code4Romania", "code4.ro"),
        "election monitoring and asylum tools",
    ),
    Entry(
        "g0v",
        "g0v (Code for Taiwan)",
        ("g0v", "g0v.tw", "零時政府", "Code for Taiwan"),
        "hackathons, transparency",
    ),
    Entry("codeando-mexico", "Codeando México", (), "Retos Públicos, public procurement challenges"),
    Entry("code-for-america", "Code for America", ("CfA",), "brigades across the United States"),
]


def index() -> SearchIndex:
    return SearchIndex(ENTRIES)


def test_normalise_folds_case_accents_and_punctuation() -> None:
    assert normalise("  Codeando MÉXICO! ") == "codeando mexico"
    assert compact("code4.ro") == compact("Code 4 RO") == "code4ro"
    assert normalise("零時政府") == normalise("零时政府") == "零时政府"


def test_exact_names_and_aliases_in_any_script() -> None:
    idx = index()
    assert idx.exact("codeando mexico") == "codeando-mexico"
    assert idx.exact("零時政府") == "g0v"
    assert idx.exact("CODE4.RO") == "code4romania"
    assert idx.exact("nothing") is None


def test_exact_beats_prefix_beats_words() -> None:
    idx = index()
    assert idx.complete("code for america")[0] == "code-for-america"
    assert (
        idx.complete("code")[:3] == ["code-for-america", "code4romania", "code4romania"][:1] + idx.complete("code")[1:3]
    )
    assert set(idx.complete("code")) >= {"code-for-america", "code4romania", "g0v"}
    assert idx.complete("taiwan") == ["g0v"]


def test_typos_are_forgiven() -> None:
    idx = index()
    assert idx.best_guess("code4romaina") == "code4romania"
    assert list(idx.search("monitorng")) == ["code4romania"]
    assert "code4romania" in idx.suggest("code for ramania")


def test_words_in_any_order_and_description_ranked_after_name() -> None:
    idx = index()
    assert list(idx.search("romania code")) == ["code4romania"]
    assert list(idx.search("transparency")) == ["g0v"]


def test_put_and_remove_keep_indexes_consistent() -> None:
    idx = index()
    idx.put(Entry("code4romania", "Code for Romania NGO", (), "civic tech"))
    assert idx.exact("code4.ro") is None
    assert list(idx.search("election")) == []
    idx.remove("g0v")
    assert idx.exact("零時政府") is None
    assert "g0v" not in idx.complete("g")
    assert len(idx) == 3


@given(st.text(max_size=40))
def test_lookups_never_fail_and_respect_the_limit(query: str) -> None:
    idx = index()
    assert len(idx.complete(query, limit=2)) <= 2
    idx.search(query)
    idx.suggest(query)
    idx.best_guess(query)


def test_ranked_results_walk_the_name_order_lazily() -> None:
    entries = [Entry(f"k{i:03}", f"Project {i:03}", (), "shared words" if i % 2 else "other") for i in range(200)]
    entries.append(Entry("named", "Shared Words Atlas", (), ""))
    idx = SearchIndex(entries)
    found = idx.search("shared")
    assert len(found) == 101
    assert found[:3] == ["named", "k001", "k003"]
    assert len(found) == 101  # reading does not change the length
    assert found[0] == "named"  # a name match ranks before description matches
    assert list(found[1:4]) == ["k001", "k003", "k005"]  # then name order
    assert found[-1] == "k199"
    assert list(found) == ["named", *(f"k{i:03}" for i in range(1, 200, 2))]


@given(st.integers(1, 400), st.integers(0, 5), st.lists(st.integers(1, 50), min_size=1, max_size=5))
def test_the_rest_comes_in_name_order_whether_walked_or_sorted(every: int, ranked_count: int, reads: list[int]) -> None:
    """A dense match is read by walking the name order, a sparse one by sorting: both give the same list."""
    names = {f"k{i}": f"name {i * 7919 % 1000:03}" for i in range(1000)}
    order = sorted((name, key) for key, name in names.items())
    found = {key for position, (_, key) in enumerate(order) if position % every == 0}
    ranked = sorted(found)[:ranked_count]
    expected = ranked + [key for _, key in order if key in found and key not in ranked]
    keys = RankedKeys(list(ranked), found, order, names)
    read = 0
    for step in reads:  # read in pieces, as pages are
        read += step
        assert keys[:read] == expected[:read]
    assert len(keys) == len(expected) and list(keys) == expected


PROJECTS = [
    Entry("a/big-data", "Big data", (), "numbers"),
    Entry("a/data-quests", "Data quests", (), "learning with open data"),
    Entry("a/open-data", "Open data portal", (), "datasets"),
    Entry("a/vote", "Vote", (), "elections"),
    Entry("a/vote-monitor", "Vote monitor", (), "watching the elections"),
    Entry("a/gotovote", "GoToVote", (), "confirm you are registered to vote", ("elections",)),
    Entry("a/parliament", "Parliament watch", (), "how voters' representatives voted"),
]


def test_a_name_that_starts_with_the_query_ranks_above_one_where_it_is_a_later_part() -> None:
    assert list(SearchIndex(PROJECTS).search("data")) == ["a/data-quests", "a/big-data", "a/open-data"]


def test_the_project_named_exactly_as_typed_comes_first() -> None:
    assert list(SearchIndex(PROJECTS).search("vote"))[:2] == ["a/vote", "a/vote-monitor"]
    assert SearchIndex(PROJECTS).search("Data Quests")[0] == "a/data-quests"
    twins = SearchIndex([Entry("x/election-web", "election-web"), Entry("y/election-web", "Election Web")])
    assert twins.search("election-web")[0] == twins.exact("election-web") == "x/election-web"
    assert twins.search("Election Web")[0] == "y/election-web"


def test_word_order_does_not_matter_for_exact_names() -> None:
    assert index().exact("germany code for") is None
    assert index().exact("romania code for") == "code4romania"
    assert index().exact("Taiwan for code g0v") == "g0v"


def test_plurals_and_stems_meet_in_words_and_tags() -> None:
    search = SearchIndex(PROJECTS)
    election = set(search.search("election"))
    assert election == set(search.search("elections")) == {"a/vote", "a/vote-monitor", "a/gotovote"}
    assert set(search.search("voted")) >= {"a/gotovote", "a/parliament"}


def test_a_misspelt_word_finds_the_words_of_its_stem() -> None:
    assert "a/gotovote" in SearchIndex(PROJECTS).search("votng")
    assert "code4romania" in index().search("electoin")


def test_accented_and_traditional_or_variant_han_forms_meet() -> None:
    taiwan = SearchIndex([Entry("tw", "Code for Taiwan", keywords=("Taiwan", "台灣", "台湾"))])
    for query in ("台灣", "臺灣", "台湾", "taiwan"):
        assert list(taiwan.search(query, names_only=True)) == ["tw"], query
    assert normalise("România") == normalise("Romania")
    assert index().exact("零时政府") == "g0v"


def test_keywords_find_by_name_but_never_as_a_name() -> None:
    taiwan = SearchIndex([Entry("tw", "g0v", keywords=("台灣",)), Entry("k", "Code for Kaohsiung", keywords=("台灣",))])
    assert taiwan.exact("台灣") is None
    assert list(taiwan.search("台灣", names_only=True, keywords=False)) == []
    assert set(taiwan.search("台灣", names_only=True)) == {"tw", "k"}


def test_the_clearly_likest_name_is_the_best_named() -> None:
    romania = SearchIndex(
        [
            Entry("ro", "Code for Romania"),
            Entry("cluj", "Code for Romania: Cluj Chapter"),
            Entry("iasi", "Code for Romania: Iasi Chapter"),
        ]
    )
    assert romania.best_named("România") == "ro"
    assert romania.best_named("cluj") == "cluj"
    two = SearchIndex([Entry("dc", "Code for DC"), Entry("nl", "Code for NL")])
    assert two.best_named("code for") is None


WORDS = st.sampled_from(["civic", "vote", "map", "budget", "open", "data", "city", "votes", "mapa", "ciudad"])
ENTRY = st.builds(
    Entry,
    st.sampled_from([f"k{i}" for i in range(8)]),
    st.lists(WORDS, min_size=1, max_size=3).map(" ".join),
    st.lists(st.lists(WORDS, min_size=1, max_size=2).map(" ".join), max_size=2).map(tuple),
    st.lists(WORDS, max_size=4).map(" ".join),
    tags=st.lists(WORDS, max_size=2).map(tuple),
    keywords=st.lists(WORDS, max_size=2).map(tuple),
)


def _tables(index: SearchIndex) -> dict[str, object]:
    names = (
        "_entries _normal_names _exact_name _exact_alias _sorted_names _choice_names _choice_keys _compact_choices "
        "_vocabulary _stems _stems_by_length _ordered"
    )
    tables = {name: getattr(index, name) for name in names.split()}
    tables["postings"] = [p.words for p in (index._name_words, index._text_words, index._keyword_words)]
    return tables


@given(st.lists(st.tuples(st.booleans(), ENTRY), max_size=25), st.lists(WORDS, min_size=1, max_size=2))
def test_an_index_kept_up_by_put_and_remove_answers_like_one_built_afresh(
    changes: list[tuple[bool, Entry]], query: list[str]
) -> None:
    kept = SearchIndex(ENTRIES)
    entries = {e.key: e for e in ENTRIES}
    for is_put, entry in changes:
        if is_put:
            kept.put(entry)
            entries[entry.key] = entry
        else:
            kept.remove(entry.key)
            entries.pop(entry.key, None)
    fresh = SearchIndex(entries.values())
    words = " ".join(query)
    assert kept.complete(words) == fresh.complete(words)
    assert list(kept.search(words)) == list(fresh.search(words))
    assert kept.suggest(words) == fresh.suggest(words)
    assert kept.best_guess(words) == fresh.best_guess(words)
    assert list(kept.search("")) == list(fresh.search(""))
    assert _tables(kept) == _tables(fresh)  # every table, kept entry by entry, as a fresh build makes it


def test_a_change_to_a_large_index_is_found_at_once_and_forgotten_at_once() -> None:
    small = SearchIndex(Entry(f"p{n}", f"project {n}", text="civic tool") for n in range(100))
    large = SearchIndex(Entry(f"p{n}", f"project {n}", text="civic tool") for n in range(100_000))
    for index in (small, large):
        index.put(Entry("new", "Brand new budget tracker", text="budgets"))
        assert index.complete("brand new")[0] == "new"
        assert index.search("budget")[0] == "new"
        index.remove("new")
        assert not index.search("budget") and index.complete("brand new") != ["new"]
