"""Field validators and record building: every problem, as message ids, within the columns and Discord's limits."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.directory import validators as v
from bot.directory.records import (
    CHAPTER_KEY,
    NAME,
    PROJECT_KEY,
    ChapterRecord,
    DirectoryDataError,
    ProjectRecord,
    SummitRecord,
    build,
    derive_key,
    field_names,
    project_key,
    validate,
)
from bot.i18n import t
from db.models import Chapter, Project, Summit

CONTROL = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0x85)]


def _problems(kind: type[Any], raw: dict[str, Any]) -> list[str]:
    record, problems = build(kind, raw)
    assert record is None
    return [str(p) for p in problems]


@settings(deadline=None)
@given(
    st.recursive(
        st.text() | st.integers() | st.binary(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)
    )
)
def test_a_shown_value_is_short_whatever_it_is(value: object) -> None:
    assert len(v.shown(value)) <= v.SHOWN


def test_a_huge_or_deep_value_is_shown_without_formatting_it_whole() -> None:
    deep: list[Any] = []
    for _ in range(50_000):
        deep = [deep, deep]  # 2**50000 leaves if printed in full
    assert len(v.shown(deep)) <= v.SHOWN
    assert len(v.shown("x" * 10_000_000)) <= v.SHOWN


@pytest.mark.parametrize("char", CONTROL)
def test_control_characters_are_refused(char: str) -> None:
    with pytest.raises(v.Invalid) as refused:
        v.text(100)(f"Code{char}for All", "name")
    assert refused.value.problems[0].message == "{field} contains a control character ({code}): remove it"


def test_new_lines_only_where_text_may_have_several_lines() -> None:
    assert v.text(100, multiline=True)("one\ntwo\tthree", "description") == "one\ntwo\tthree"
    with pytest.raises(v.Invalid):
        v.text(100)("one\ntwo", "name")
    with pytest.raises(v.Invalid):
        v.text(100, multiline=True)("lone \ud800 surrogate", "description")


@settings(deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=300))
def test_text_within_its_limit_is_kept_stripped(value: str) -> None:
    read = v.text(200)
    stripped = value.strip()
    if not stripped:
        assert read(value, "name") is None
    elif len(stripped) <= 200:
        assert read(value, "name") == stripped
    else:
        with pytest.raises(v.Invalid):
            read(value, "name")


@pytest.mark.parametrize("code", ["ZZ", "XX", "AA", "QO", "EU", "UK", "R0", "ROU", "Ro"])
def test_country_codes_must_be_assigned_iso_3166(code: str) -> None:
    if code == "Ro":
        assert v.country(code, "country") == "RO"
        return
    with pytest.raises(v.Invalid, match="ISO 3166"):
        v.country(code, "country")


@pytest.mark.parametrize(
    "value",
    ["9999-12-31T23:59:59-05:00", "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59", "1989-12-31T23:00:00+00:00"],
)
def test_summit_dates_far_away_are_a_problem_not_an_overflow(value: str) -> None:
    summit, problems = build(
        SummitRecord, {"key": "s", "name": "S", "starts_at": value, "timezone": "Pacific/Kiritimati"}
    )
    assert summit is None
    assert [p.message for p in problems] == ["{field} {value} is not a plausible year ({first}–{last})"]


def test_every_problem_of_a_record_is_reported() -> None:
    problems = _problems(
        ChapterRecord,
        {
            "key": "Bad Key",
            "name": "n" * 1500,
            "country": "ZZ",
            "tier": "overlord",
            "website": "ftp://x",
            "founded": 1850,
            "colour": "red",
        },
    )
    assert len(problems) == 7, problems
    assert "name is too long (limit: 200, given: 1500)" in problems


def test_a_bad_list_item_and_a_bad_mapping_value_are_both_named() -> None:
    problems = _problems(
        ChapterRecord, {"key": "k", "name": "K", "aliases": ["ok", 3], "social": {"twitter": "@x", "mastodon": 5}}
    )
    assert problems == ["aliases must be text, not 3", "social.mastodon must be text, not 5"]


def test_too_many_items_are_refused() -> None:
    assert _problems(ProjectRecord, {"key": "a/b", "chapter": "a", "name": "B", "topics": ["t"] * 101}) == [
        "topics has too many items (limit: 100)"
    ]


@pytest.mark.parametrize(
    ("kind", "model"), [(ChapterRecord, Chapter), (ProjectRecord, Project), (SummitRecord, Summit)]
)
def test_no_text_field_can_exceed_its_column(kind: type[Any], model: type[Any]) -> None:
    table = model.__table__
    for name in field_names(kind):
        column = table.columns.get("chapter_id" if name == "chapter" else name)
        length = getattr(column.type, "length", None) if column is not None else None
        if not length:
            continue
        too_long = "a" * (length + 1)
        value: object = (
            too_long
            if name not in ("website", "feed_url", "events_url", "code_url", "url")
            else "https://x.org/" + too_long
        )
        raw = {"key": "k", "chapter": "c", "name": "N", name: value}
        record, problems = build(kind, {k: raw[k] for k in raw if k in field_names(kind)})
        assert record is None, name
        assert [dict(p.params).get("field") for p in problems] == [name], name


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.ascii_letters + " -éł零", min_size=101, max_size=200))
def test_a_long_name_still_gets_a_key_within_discords_limit(name: str) -> None:
    key = derive_key(name)
    assert 0 < len(key) <= CHAPTER_KEY
    record, problems = build(ChapterRecord, {"key": key, "name": name[:NAME]})
    assert record is not None, problems
    assert len(project_key(key, name)) <= PROJECT_KEY


def test_a_form_error_lists_every_problem_in_the_readers_language() -> None:
    with pytest.raises(DirectoryDataError) as refused:
        validate(ChapterRecord, {"key": "k", "name": "K", "website": "nope", "country": "ZZ"})
    english = refused.value.translated("en-US").splitlines()
    assert english == [
        "Country 'ZZ' is not a two-letter ISO 3166 country code such as RO.",
        "Website 'nope' is not an http(s) address with a host.",
    ]
    german = refused.value.translated("de").splitlines()
    assert len(german) == 2 and german != english
    assert all("'nope'" in line or "'ZZ'" in line for line in german)


def test_problems_carry_message_ids_never_user_text() -> None:
    record, problems = build(ChapterRecord, {"key": "k", "name": "{name} \x00", "city": "{0}"})
    assert record is None
    assert all("\x00" not in p.message and "{0}" not in p.message for p in problems)
    assert t("ro", problems[0].message, **dict(problems[0].params)) != problems[0].message
