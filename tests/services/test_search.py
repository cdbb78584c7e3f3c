"""The forgiving search index."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.directory.index import Entry, SearchIndex, compact, normalise

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
