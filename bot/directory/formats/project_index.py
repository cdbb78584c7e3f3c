"""The civic tech project index: a JSON list of projects, each naming its organisation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.directory.formats.common import not_a_record, ordered, unique
from bot.directory.records import (
    ImportBatch,
    ImportIssue,
    ProjectRecord,
    build,
    derive_key,
    issue,
    project_key,
    slugify,
)
from bot.directory.validators import SHOWN, problem, repeated, with_scheme
from bot.i18n import N_

SECTION = "projects"
_PUSHED_ACTIVE = frozenset({"week", "month", "year"})


def _code_url(record: Mapping[str, Any]) -> object:
    code = record.get("code_url")
    if code:
        return with_scheme(code)
    git = record.get("git_url")
    if isinstance(git, str) and git.startswith("git://"):
        return "https://" + git.removeprefix("git://").removesuffix(".git")
    return None


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_project_index(data: list[Any], known: Mapping[str, str] | None = None) -> ImportBatch:
    """Parse a civic tech project index list; a project's key is ``<chapter key>/<name slug>``.

    The chapter is the slug of the organisation's name, or its key in ``known`` (see `alias_index`). Projects
    pushed to within a year are marked ``active``. A bad optional field is left out and reported.
    """
    known = known or {}
    issues: list[ImportIssue] = []
    projects: list[tuple[int, ProjectRecord]] = []
    for index, raw in enumerate(data):
        if not isinstance(raw, Mapping):
            issues.append(not_a_record(SECTION, index, raw))
            continue
        name = _text(raw.get("name"))
        organization = _text(raw.get("organization_name") or raw.get("organization"))
        if name is None or organization is None:
            missing = [field for field, value in (("name", name), ("organization_name", organization)) if not value]
            issues.append(issue(index, None, SECTION, *(problem(N_("{field} is required"), field=f) for f in missing)))
            continue
        chapter = known.get(slugify(organization)) or derive_key(organization)
        key = project_key(chapter, name)
        status = raw.get("status")
        if status is None and raw.get("last_pushed_within") in _PUSHED_ACTIVE:
            status = "active"
        link = with_scheme(raw.get("link_url"))
        fields = {
            "key": key,
            "chapter": chapter,
            "name": name,
            "description": raw.get("description"),
            "topics": raw.get("topics"),
            "status": status,
            "links": {"website": link} if link else None,
            "code_url": _code_url(raw),
        }
        project, problems = build(ProjectRecord, fields, lenient=True)
        problems += tuple(repeated(raw))
        if problems:
            issues.append(issue(index, key[:SHOWN], SECTION, *problems, skipped=project is None))
        if project is not None:
            projects.append((index, project))
    return ImportBatch(projects=tuple(unique(SECTION, projects, issues)), issues=ordered(issues))


def looks_like(items: list[Any]) -> bool:
    """Whether a JSON list is a project index (name, and organization_name or organization)."""
    return all(
        isinstance(i, Mapping) and "name" in i and ("organization_name" in i or "organization" in i) for i in items
    )
