"""Code for Romania's app catalogue (code4.ro): one entry per app and language (en, ro)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.directory.formats.common import not_a_record, ordered, record_key
from bot.directory.records import ImportBatch, ImportIssue, ProjectRecord, build, issue, project_key
from bot.directory.validators import SHOWN, problem, repeated
from bot.i18n import N_

SECTION = "apps"
CHAPTER = "code4romania"
_STATUS = {"development": "active", "done": "completed", "covid": "active"}


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_apps(items: list[Any]) -> ImportBatch:
    """Parse the catalogue: the English entry of each app gives its name and description, the others their
    translations. A bad optional field is left out and reported."""
    issues: list[ImportIssue] = []
    by_slug: dict[str, dict[str, tuple[int, Mapping[str, Any]]]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            issues.append(not_a_record(SECTION, index, item))
            continue
        slug, lang, title = _text(item.get("slug")), _text(item.get("lang")), _text(item.get("title"))
        if slug is None or lang is None or title is None:
            missing = [f for f, value in (("slug", slug), ("lang", lang), ("title", title)) if value is None]
            required = [problem(N_("{field} is required"), field=f) for f in missing]
            issues.append(issue(index, record_key(item, "slug"), SECTION, *required))
            continue
        by_slug.setdefault(slug, {})[lang] = (index, item)
    projects: list[ProjectRecord] = []
    for slug, texts in by_slug.items():
        index, main = texts.get("en") or next(iter(texts.values()))
        others = {lang: text for lang, (_, text) in texts.items() if text is not main}
        title = str(main["title"]).strip()
        link = main.get("link")
        fields = {
            "key": project_key(CHAPTER, slug),
            "chapter": CHAPTER,
            "name": title,
            "names": {lang: text["title"] for lang, text in others.items() if str(text["title"]).strip() != title},
            "description": main.get("summary"),
            "descriptions": {lang: text["summary"] for lang, text in others.items() if text.get("summary")},
            "topics": ["covid-19"] if main.get("status") == "covid" else None,
            "status": _STATUS.get(str(main.get("status"))),
            "links": {"website": link} if isinstance(link, str) and link.startswith("http") else None,
        }
        project, problems = build(ProjectRecord, fields, lenient=True)
        problems += tuple(p for _, text in texts.values() for p in repeated(text))
        if problems:
            issues.append(issue(index, slug[:SHOWN], SECTION, *problems, skipped=project is None))
        if project is not None:
            projects.append(project)
    return ImportBatch(projects=tuple(projects), issues=ordered(issues))


def looks_like(items: list[Any]) -> bool:
    """Whether a JSON list is the code4.ro app catalogue (slug, lang, title)."""
    return all(isinstance(i, Mapping) and {"slug", "lang", "title"} <= i.keys() for i in items)
