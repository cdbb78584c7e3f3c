"""Untrusted files at a bounded cost: no aliases, capped depth and size, repeated fields reported, parsing in a
limited child process."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bot.directory.formats import load_file, parse_bytes, parse_yaml
from bot.directory.formats.isolated import parse_isolated
from bot.directory.formats.reading import MAX_BYTES, MAX_DEPTH
from bot.directory.records import DirectoryDataError

SEED = Path(__file__).resolve().parents[2] / "data" / "directory.yaml"

# The classic "billion laughs": 9**9 strings from 350 bytes.
BOMB = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
chapters: [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _refusal(data: bytes, name: str = "x.yaml") -> str:
    with pytest.raises(DirectoryDataError) as refused:
        parse_bytes(data, name)
    return refused.value.translated(None)


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    assert len(BOMB) < 500
    assert _refusal(BOMB, "bomb.yaml") == (
        "Bomb.yaml, line 1: YAML anchors and aliases (& and *) are not allowed in a directory file."
    )


def test_anchors_alone_and_merge_keys_are_refused() -> None:
    assert "anchors" in _refusal(b"chapters:\n  - &x {key: a, name: A}\n")
    assert "anchors" in _refusal(b"base: &b {tier: member}\nchapters:\n  - {<<: *b, key: a, name: A}\n")


def test_deep_nesting_is_refused() -> None:
    deep = b"chapters: " + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
    assert "nested too deeply" in _refusal(deep)
    assert "nested too deeply" in _refusal(b"[" * 100_000 + b"]" * 100_000, "x.json")


def test_a_yaml_syntax_error_is_a_whole_sentence_with_line_and_column() -> None:
    assert _refusal(b"chapters:\n  - key: a\n    name: b: c\n") == (
        "X.yaml is not valid YAML: line 3, column 12: mapping values are not allowed here."
    )
    assert _refusal(b"chapters:\n\t- a\n") == (
        "X.yaml is not valid YAML: line 2, column 1: found character '\\t' that cannot start any token."
    )
    # The reader's errors carry an offset, not a line: the line and column are counted from it.
    assert _refusal(b"chapters:\n  - ab\x07\n") == (
        "X.yaml is not valid YAML: line 2, column 7: unacceptable character #x0007: special characters are not allowed."
    )


def test_a_long_parser_message_is_cut_at_a_word_with_an_ellipsis() -> None:
    refusal = _refusal(b"chapters: !!" + b"x" * 500 + b" y\n")
    assert refusal == "X.yaml is not valid YAML: line 1, column 11: could not determine a constructor for the tag…"


def test_a_json_syntax_error_gives_line_and_column() -> None:
    assert _refusal(b'[\n  {"name": "a",\n  }]', "x.json") == (
        "X.json is not valid JSON: line 3, column 3: expecting property name enclosed in double quotes."
    )
    assert _refusal(b'["abc', "x.json") == "X.json is not valid JSON: line 1, column 2: unterminated string."


def test_messages_name_the_file_as_the_caller_shows_it() -> None:
    with pytest.raises(DirectoryDataError) as refused:
        parse_bytes(b"a: [", "**x**.yaml", name="\\*\\*x\\*\\*.yaml")
    assert refused.value.translated(None).startswith("\\*\\*x\\*\\*.yaml is not valid YAML: line 1, column 5:")


def test_a_file_over_the_size_cap_is_refused_before_parsing() -> None:
    assert "too large" in _refusal(b"#" * (MAX_BYTES + 1))


def test_a_field_given_twice_is_reported_in_yaml_and_json() -> None:
    batch = parse_yaml("chapters:\n  - {key: a, name: A, name: B}\n  - {key: c, name: C}\n")
    assert [c.key for c in batch.chapters] == ["c"]
    assert [i.reason() for i in batch.issues] == ["field 'name' is given more than once"]
    organizations = b'[{"name": "Code for X", "website": "https://x.org", "website": "https://y.org", "tags": []}]'
    parsed = parse_bytes(organizations, "organizations.json")
    assert [c.website for c in parsed.chapters] == ["https://y.org"]
    assert [(i.reason(), i.skipped) for i in parsed.issues] == [("field 'website' is given more than once", False)]


def test_values_yaml_cannot_build_are_problems_of_their_record() -> None:
    text = (
        "summits:\n"
        "  - {key: far, name: Far, starts_at: 9999-12-31 23:59:59-05:00}\n"
        "  - {key: early, name: Early, starts_at: 0001-01-01 00:30:00+01:00}\n"
        "  - {key: zero, name: Zero, starts_at: 0000-01-01 00:00:00}\n"
        f"  - {{key: huge, name: Huge, year: {'9' * 5000}}}\n"
        "  - {key: fine, name: Fine, starts_at: 2018-11-08 09:00:00+02:00}\n"
    )
    batch = parse_yaml(text)
    assert [s.key for s in batch.summits] == ["fine"]
    assert [i.key for i in batch.issues] == ["far", "early", "zero", "huge"]


def test_a_1500_character_name_is_reported_and_the_rest_imports() -> None:
    text = "chapters:\n  - {key: a, name: A}\n  - {key: long, name: " + "n" * 1500 + "}\n  - {key: b, name: B}\n"
    batch = parse_yaml(text)
    assert [c.key for c in batch.chapters] == ["a", "b"]
    assert [i.reason() for i in batch.issues] == ["name is too long (limit: 200, given: 1500)"]


async def test_an_upload_parses_in_a_child_process_like_in_this_one() -> None:
    assert await parse_isolated(SEED.read_bytes(), "directory.yaml") == load_file(SEED)
    with pytest.raises(DirectoryDataError, match="anchors"):
        await parse_isolated(BOMB, "bomb.yaml")


async def test_an_upload_that_takes_too_long_is_ended() -> None:
    with pytest.raises(DirectoryDataError) as refused:
        await parse_isolated(SEED.read_bytes(), "directory.yaml", time_limit=0.05)
    assert refused.value.translated(None) == "Directory.yaml took too long to read (limit: 0.05 s)."


async def test_an_upload_that_needs_too_much_memory_is_ended() -> None:
    big = ("chapters:\n  - key: a\n    name: b\n    facts:\n" + "      - x\n" * 50_000).encode()
    with pytest.raises(DirectoryDataError) as refused:
        await parse_isolated(big, "big.yaml", memory_limit=64 << 20)
    assert refused.value.translated(None) == "Big.yaml needs too much memory to read (limit: 64 MiB)."


def test_json_objects_nested_within_the_cap_still_read() -> None:
    data = json.dumps([{"name": "Code for X", "website": "https://x.org", "social_profiles": {"a": {"b": [1]}}}])
    assert [c.key for c in parse_bytes(data.encode(), "o.json").chapters] == ["code-for-x"]


def test_a_gzip_file_is_read_as_the_file_it_holds() -> None:
    packed = gzip.compress(SEED.read_bytes())
    assert parse_bytes(packed, "directory.yaml.gz") == parse_bytes(SEED.read_bytes(), "directory.yaml")


def test_a_gzip_bomb_is_refused_before_it_fills_memory() -> None:
    bomb = gzip.compress(b"#" * (64 * MAX_BYTES))
    assert len(bomb) < MAX_BYTES // 16
    assert _refusal(bomb, "big.yaml.gz") == "Big.yaml.gz is too large to import (limit: 5 MiB)."


@pytest.mark.parametrize("data", [b"plain text", gzip.compress(b"chapters: []")[:-12]])
def test_a_broken_gzip_file_is_explained(data: bytes) -> None:
    assert _refusal(data, "broken.yaml.gz") == "Broken.yaml.gz is not a valid gzip file."


def test_a_gzip_file_must_hold_a_directory_format() -> None:
    assert "is not a directory file" in _refusal(gzip.compress(b"hello"), "notes.txt.gz")


def test_the_operators_own_file_may_be_larger_than_an_upload(tmp_path: Path) -> None:
    chapter = "  - {key: c%d, name: Chapter %d, description: %s}\n"
    text = "version: 1\nchapters:\n" + "".join(chapter % (i, i, "x" * 900) for i in range(6000))
    assert len(text) > MAX_BYTES
    assert "too large" in _refusal(text.encode(), "big.yaml")
    path = tmp_path / "big.yaml.gz"
    path.write_bytes(gzip.compress(text.encode()))
    assert len(load_file(path).chapters) == 6000


def test_a_file_name_with_leading_spaces_still_makes_a_sentence() -> None:
    assert _refusal(b"[]", "\xa0 ģr.yaml") == "Ģr.yaml must be a mapping with chapters, projects and summits."
