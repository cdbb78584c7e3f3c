"""Our own directory YAML (``data/directory.yaml``): the network's curated data, read and written back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.directory.formats.common import ordered, parse_section, unique
from bot.directory.formats.reading import MAX_BYTES, load_yaml
from bot.directory.records import (
    FILE_INDEX,
    ChapterRecord,
    DirectoryDataError,
    ImportBatch,
    ImportIssue,
    ProjectRecord,
    Record,
    SummitRecord,
    issue,
    plain_values,
    stated,
)
from bot.directory.validators import problem, shown
from bot.i18n import N_

FORMAT_VERSION = 1
_TOP_LEVEL = ("version", "network", "chapters", "projects", "summits")


def parse_yaml(text: str, name: str = "directory.yaml", limit: int = MAX_BYTES) -> ImportBatch:
    """Parse our directory YAML; a bad record becomes an issue with every problem it has, the rest imports.

    Raises `DirectoryDataError` only when the text is not YAML (or uses anchors, aliases or deep nesting), its
    top level is not a mapping, or its version is not 1.
    """
    data = load_yaml(text, name, limit)
    if data is None:
        return ImportBatch(curated=True)
    if not isinstance(data, Mapping):
        raise DirectoryDataError(
            problem(N_("{name} must be a mapping with chapters, projects and summits."), name=name)
        )
    version = data.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise DirectoryDataError(
            problem(
                N_("{name} has version {version}; only version 1 is understood."), name=name, version=shown(version)
            )
        )
    issues: list[ImportIssue] = [
        issue(FILE_INDEX, None, "file", problem(N_("unknown top-level field {name}"), name=shown(field)))
        for field in data
        if field not in _TOP_LEVEL
    ]
    network = _network(data.get("network"), issues)
    chapters = unique("chapters", parse_section("chapters", data.get("chapters"), ChapterRecord, issues), issues)
    projects = unique("projects", parse_section("projects", data.get("projects"), ProjectRecord, issues), issues)
    summits = unique("summits", parse_section("summits", data.get("summits"), SummitRecord, issues), issues)
    # A project's chapter may be in this file or already in the directory: the import checks it.
    return ImportBatch(
        chapters=tuple(chapters),
        projects=tuple(projects),
        summits=tuple(summits),
        issues=ordered(issues),
        network=network,
        curated=True,
    )


def _network(value: object, issues: list[ImportIssue]) -> dict[str, Any] | None:
    """The network's own block as plain JSON data (dates become text)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        issues.append(issue(FILE_INDEX, "network", "file", problem(N_("network must be a mapping"))))
        return None
    plain: dict[str, Any] = json.loads(json.dumps(value, default=str, ensure_ascii=False))
    return plain


def _local_iso(summit: SummitRecord) -> str | None:
    if summit.starts_at is None:
        return None
    moment = summit.starts_at
    if summit.timezone:
        moment = moment.astimezone(ZoneInfo(summit.timezone)).replace(tzinfo=None)
    spec = "minutes" if moment.second == 0 and moment.microsecond == 0 else "auto"
    return moment.isoformat(timespec=spec)


def _record_dict(record: Record) -> dict[str, Any]:
    """One record as plain YAML data, leaving out empty fields."""
    values = plain_values(record)
    if isinstance(record, SummitRecord):
        values["starts_at"] = _local_iso(record)
    return stated(values)


class _Dumper(yaml.SafeDumper):
    """Writes repeated values out in full, since `parse_yaml` refuses aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        """Never write an alias."""
        return True


def dump_yaml(batch: ImportBatch) -> str:
    """Write a batch in our YAML format, with its network block and without its issues.

    `parse_yaml` reads it back unchanged when every project's chapter is in the batch.
    """
    document: dict[str, Any] = {"version": FORMAT_VERSION}
    if batch.network is not None:
        document["network"] = dict(batch.network)
    document["chapters"] = [_record_dict(c) for c in batch.chapters]
    document["projects"] = [_record_dict(p) for p in batch.projects]
    document["summits"] = [_record_dict(s) for s in batch.summits]
    return yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
