"""What the import formats share: reading a list of records one by one, keeping the first of each key."""

from __future__ import annotations

from collections.abc import Mapping

from bot.directory.records import FILE_INDEX, ImportIssue, R, build, issue
from bot.directory.validators import SHOWN, problem, shown
from bot.i18n import N_

SECTIONS = ("file", "chapters", "projects", "summits", "organizations", "apps")
"""The order in which a report lists issues."""


def record_key(record: object, field: str = "key") -> str | None:
    """A record's key as the file gives it, shortened for a report; None when it has none."""
    if isinstance(record, Mapping):
        value = record.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()[:SHOWN]
    return None


def not_a_record(section: str, index: int, record: object) -> ImportIssue:
    """The issue of an item that is not a mapping of fields."""
    return issue(index, None, section, problem(N_("expected a record with fields, not {value}"), value=shown(record)))


def parse_section(section: str, records: object, kind: type[R], issues: list[ImportIssue]) -> list[tuple[int, R]]:
    """Read each record of a section with every problem it has, keeping its index; bad ones become issues."""
    if records is None:
        return []
    if not isinstance(records, list):
        issues.append(
            issue(FILE_INDEX, section, "file", problem(N_("{section} must be a list of records"), section=section))
        )
        return []
    parsed: list[tuple[int, R]] = []
    for index, raw in enumerate(records):
        if not isinstance(raw, Mapping):
            issues.append(not_a_record(section, index, raw))
            continue
        record, problems = build(kind, raw)
        if record is None:
            issues.append(issue(index, record_key(raw), section, *problems))
        else:
            parsed.append((index, record))
    return parsed


def unique(section: str, records: list[tuple[int, R]], issues: list[ImportIssue]) -> list[R]:
    """The first record of each key; later ones become duplicate-key issues."""
    seen: dict[str, int] = {}
    kept: list[R] = []
    for index, record in records:
        if record.key in seen:
            first = problem(
                N_("duplicate key {key} (first used by record {number})"), key=record.key, number=seen[record.key] + 1
            )
            issues.append(issue(index, record.key, section, first))
            continue
        seen[record.key] = index
        kept.append(record)
    return kept


def ordered(issues: list[ImportIssue]) -> tuple[ImportIssue, ...]:
    """Issues by section, then by record."""

    def order(item: ImportIssue) -> tuple[int, int]:
        rank = SECTIONS.index(item.section) if item.section in SECTIONS else len(SECTIONS)
        return rank, item.index

    return tuple(sorted(issues, key=order))
