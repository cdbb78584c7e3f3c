"""The network directory: chapters, projects and summits, searched from memory, stored in the database."""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.directory import formats as directory_io
from bot.directory.formats import (
    ChapterRecord,
    ImportBatch,
    ImportIssue,
    Person,
    ProjectRecord,
    SummitRecord,
)
from bot.directory.index import Entry, SearchIndex, normalise
from bot.errors import NotFound, UserError
from bot.i18n import N_
from bot.lazy import LazyMap
from db.models import ChangeRecord, Chapter, ImportRun, Project, Summit, utcnow
from db.repositories import bump_revision, read_revisions

log = logging.getLogger(__name__)

TIERS = ("governing", "affiliate", "member", "alumni")
STATUSES = ("active", "completed", "archived", "idea")


@dataclass(frozen=True, slots=True)
class ChapterInfo:
    """A chapter as shown to members."""

    key: str
    name: str
    short_name: str | None
    aliases: tuple[str, ...]
    names: Mapping[str, str]
    country: str | None
    city: str | None
    region: str | None
    tier: str
    founded: int | None
    joined: int | None
    website: str | None
    feed_url: str | None
    events_url: str | None
    social: Mapping[str, str]
    description: str | None
    descriptions: Mapping[str, str]
    facts: tuple[str, ...]
    people: tuple[Mapping[str, str], ...]
    tags: tuple[str, ...]
    latitude: float | None
    longitude: float | None
    active: bool

    def localised_name(self, locale: str) -> str | None:
        """The chapter's name in `locale` (or its language) when the data has one."""
        return _localised(self.names, locale)

    def localised_description(self, locale: str) -> str | None:
        """The description in `locale` when the data has one, else the default one."""
        return _localised(self.descriptions, locale) or self.description


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    """A project as shown to members."""

    key: str
    name: str
    names: Mapping[str, str]
    chapter_key: str | None
    description: str | None
    descriptions: Mapping[str, str]
    topics: tuple[str, ...]
    status: str
    links: Mapping[str, str]
    code_url: str | None

    def localised_name(self, locale: str) -> str:
        """The project's name in `locale` when the data has one, else its name."""
        return _localised(self.names, locale) or self.name

    def localised_description(self, locale: str) -> str | None:
        """The description in `locale` when the data has one, else the default one."""
        return _localised(self.descriptions, locale) or self.description


@dataclass(frozen=True, slots=True)
class SummitInfo:
    """A summit or meeting of the network."""

    key: str
    name: str
    city: str | None
    country: str | None
    starts_at: datetime | None
    timezone: str | None
    year: int | None
    description: str | None
    facts: tuple[str, ...]
    url: str | None


@dataclass(frozen=True, slots=True)
class Overview:
    """Counts for the network overview."""

    chapters: int
    projects: int
    summits: int
    by_region: Mapping[str, int]
    by_region_tier: Mapping[str, Mapping[str, int]]
    by_tier: Mapping[str, int]
    by_status: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ChangeInfo:
    """One recorded change."""

    at: datetime
    actor_name: str
    action: str
    changes: Mapping[str, Any]


@dataclass(slots=True)
class ImportReport:
    """What an import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    issues: list[ImportIssue] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people."""
        problems = f", {len(self.issues)} skipped" if self.issues else ""
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged{problems}"


Progress = Callable[[int, int], Awaitable[None]]
IMPORT_CHUNK = 250  # records per transaction: a form save waits for one chunk at most
REBUILD_AT = 2_000  # changed projects beyond which the project index is rebuilt in a thread, not patched
YIELD_EVERY = 100  # index updates between turns given back to the event loop


class DirectoryService:
    """Keeps the directory in memory indexes, refreshed by revision, and writes every change with its history."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self.chapters: dict[str, ChapterInfo] = {}
        self.projects: dict[str, ProjectInfo] = {}
        self.summits: dict[str, SummitInfo] = {}
        self.revision = -1  # the directory revision memory reflects; -1 before the first load
        self._chapter_index = SearchIndex()
        self._project_index = SearchIndex()
        self._projects_by_chapter: dict[str, list[str]] = {}
        self._projects_by_topic: dict[str, set[str]] = {}
        self._projects_by_status: dict[str, set[str]] = {}
        self._refreshing = asyncio.Lock()
        # Writers of this process take turns in arrival order, so a form save never starves behind an import.
        self._writing = asyncio.Lock()

    # -- loading ------------------------------------------------------------------------------------

    async def load(self, seed_file: Path | None = None) -> None:
        """Read everything into memory; seed an empty database from `seed_file` first, saying so in the log."""
        await self.refresh()
        if seed_file is not None and seed_file.exists() and not self.chapters:
            batch = await asyncio.to_thread(directory_io.load_file, seed_file)
            report = await self.import_batch(batch, actor_name="seed", source=seed_file.name)
            log.warning(
                "the directory was empty, so it was seeded from %s (%s); "
                "if this database held data before, that data is gone: restore it from a backup",
                seed_file,
                report.summary(),
            )

    async def refresh(self) -> bool:
        """Bring memory up to the database's revision, reading only the rows written since; True if it changed."""
        async with self._refreshing:
            async with self._sessions() as session:
                current = (await read_revisions(session)).get("directory", 0)
                if current == self.revision:
                    return False
                # Rows are read after the revision, so they are at least that new; applying one twice is harmless.
                since = self.revision
                chapters = (await session.scalars(select(Chapter).where(Chapter.revision > since))).all()
                summits = (await session.scalars(select(Summit).where(Summit.revision > since))).all()
                rows = await session.stream(
                    select(Project, Chapter.key)
                    .outerjoin(Chapter, Project.chapter_id == Chapter.id)
                    .where(Project.revision > since)
                    .execution_options(yield_per=YIELD_EVERY * 5)
                )
                projects: list[ProjectInfo] = []
                async for partition in rows.partitions():
                    projects.extend(_project_info(project, chapter_key) for project, chapter_key in partition)
                self._apply_chapters([_chapter_info(c) for c in chapters])
                self.summits.update((s.key, _summit_info(s)) for s in summits)
                await self._apply_projects(projects)
                await self._forget_removed(session)
            self.revision = current
            return True

    async def _forget_removed(self, session: AsyncSession) -> None:
        """Drop from memory what a write removed: counts tell cheaply, keys only when they differ."""
        for model, held in ((Chapter, self.chapters), (Project, self.projects), (Summit, self.summits)):
            if await session.scalar(select(func.count()).select_from(model)) == len(held):
                continue
            gone = set(held) - set(await session.scalars(select(model.key)))
            for key in gone:
                if model is Project:
                    self._unfile_project(self.projects[key])
                    self._project_index.remove(key)
                held.pop(key)
            if model is Chapter and gone:
                self._chapter_index = SearchIndex(_chapter_entry(c) for c in self.chapters.values())

    def _apply_chapters(self, changed: list[ChapterInfo]) -> None:
        if not changed:
            return
        merged = {**self.chapters, **{c.key: c for c in changed}}
        # Kept in name order, so listings never sort per request; chapters are few, so re-sorting is cheap.
        self.chapters = dict(sorted(merged.items(), key=lambda item: (normalise(item[1].name), item[0])))
        self._chapter_index = SearchIndex(_chapter_entry(c) for c in self.chapters.values())

    async def _apply_projects(self, changed: list[ProjectInfo]) -> None:
        if len(changed) > REBUILD_AT:
            merged = {**self.projects, **{p.key: p for p in changed}}
            self._project_index, filed = await asyncio.to_thread(_index_projects, list(merged.values()))
            self.projects = merged
            self._projects_by_chapter, self._projects_by_topic, self._projects_by_status = filed
            return
        for done, project in enumerate(changed, start=1):
            old = self.projects.get(project.key)
            if old is not None:
                self._unfile_project(old)
            self.projects[project.key] = project
            self._file_project(project)
            self._project_index.put(_project_entry(project))
            if done % YIELD_EVERY == 0:
                await asyncio.sleep(0)

    def _file_project(self, project: ProjectInfo) -> None:
        if project.chapter_key:
            keys = self._projects_by_chapter.setdefault(project.chapter_key, [])
            bisect.insort(keys, project.key, key=self._project_order)
        for topic in project.topics:
            self._projects_by_topic.setdefault(normalise(topic), set()).add(project.key)
        self._projects_by_status.setdefault(project.status, set()).add(project.key)

    def _unfile_project(self, project: ProjectInfo) -> None:
        if project.chapter_key:
            keys = self._projects_by_chapter.get(project.chapter_key, [])
            position = bisect.bisect_left(keys, _project_order(project), key=self._project_order)
            if position < len(keys) and keys[position] == project.key:
                del keys[position]
        for topic in project.topics:
            _discard(self._projects_by_topic, normalise(topic), project.key)
        _discard(self._projects_by_status, project.status, project.key)

    def _project_order(self, key: str) -> tuple[str, str]:
        return _project_order(self.projects[key])

    # -- chapters -----------------------------------------------------------------------------------

    def find_chapter(self, query: str) -> ChapterInfo:
        """The chapter a member means: exact name, alias, a clear prefix or a clear typo; else NotFound."""
        key = self._resolve(self._chapter_index, query)
        if key is None:
            suggestions = [self.chapters[k].name for k in self._chapter_index.suggest(query)]
            raise NotFound(N_("chapter"), query, suggestions)
        return self.chapters[key]

    def complete_chapters(self, query: str, limit: int = 25) -> list[ChapterInfo]:
        """Autocomplete choices for chapters."""
        return [self.chapters[key] for key in self._chapter_index.complete(query, limit)]

    def list_chapters(
        self, *, region: str | None = None, country: str | None = None, tier: str | None = None
    ) -> list[ChapterInfo]:
        """Chapters filtered by region, country and tier, in name order."""
        wanted_region = normalise(region) if region else None
        wanted_country = country.upper() if country else None
        return [
            c
            for c in self.chapters.values()
            if (wanted_region is None or normalise(c.region or "") == wanted_region)
            and (wanted_country is None or c.country == wanted_country)
            and (tier is None or c.tier == tier)
        ]

    def chapter_projects(self, chapter_key: str) -> Sequence[ProjectInfo]:
        """A chapter's projects, by name (looked up as they are read)."""
        return LazyMap(self._projects_by_chapter.get(chapter_key, []), self.projects.__getitem__)

    # -- projects -----------------------------------------------------------------------------------

    def find_project(self, query: str) -> ProjectInfo:
        """The project a member means, else NotFound with suggestions."""
        key = self._resolve(self._project_index, query)
        if key is None:
            suggestions = [self.projects[k].name for k in self._project_index.suggest(query)]
            raise NotFound(N_("project"), query, suggestions)
        return self.projects[key]

    def complete_projects(self, query: str, limit: int = 25) -> list[ProjectInfo]:
        """Autocomplete choices for projects."""
        return [self.projects[key] for key in self._project_index.complete(query, limit)]

    def complete_topics(self, query: str, limit: int = 25) -> list[str]:
        """Known topics starting with (or containing) the query."""
        wanted = normalise(query)
        topics = sorted(self._projects_by_topic)
        starts = [t for t in topics if t.startswith(wanted)]
        contains = [t for t in topics if wanted in t and not t.startswith(wanted)]
        return (starts + contains)[:limit]

    def search_projects(
        self,
        words: str = "",
        *,
        chapter: str | None = None,
        topic: str | None = None,
        status: str | None = None,
    ) -> Sequence[ProjectInfo]:
        """Projects matching the words (any order, typos forgiven), filtered, best first."""
        within: set[str] | None = None
        if chapter:
            within = set(self._projects_by_chapter.get(self.find_chapter(chapter).key, []))
        if topic:
            by_topic = self._projects_by_topic.get(normalise(topic), set())
            within = set(by_topic) if within is None else within & by_topic
        if status:
            if status not in STATUSES:
                raise UserError(N_("Status must be one of: {statuses}."), statuses=", ".join(STATUSES))
            by_status = self._projects_by_status.get(status, set())
            within = set(by_status) if within is None else within & by_status
        return LazyMap(self._project_index.search(words, within=within), self.projects.__getitem__)

    # -- summits and overview -----------------------------------------------------------------------

    def list_summits(self) -> list[SummitInfo]:
        """Summits, oldest first."""
        return sorted(self.summits.values(), key=lambda s: (s.year or 0, s.starts_at or datetime.min, s.name))

    def overview(self) -> Overview:
        """Counts by region, tier and project status."""
        return Overview(
            chapters=len(self.chapters),
            projects=len(self.projects),
            summits=len(self.summits),
            by_region=dict(Counter(c.region or "Unknown" for c in self.chapters.values()).most_common()),
            by_region_tier={
                region: dict(Counter(c.tier for c in self.chapters.values() if (c.region or "Unknown") == region))
                for region in {c.region or "Unknown" for c in self.chapters.values()}
            },
            by_tier={t: n for t in TIERS if (n := sum(c.tier == t for c in self.chapters.values()))},
            by_status={s: len(self._projects_by_status[s]) for s in STATUSES if s in self._projects_by_status},
        )

    # -- history ------------------------------------------------------------------------------------

    async def history(self, entity: str, key: str, limit: int = 50) -> list[ChangeInfo]:
        """Recorded changes of one chapter or project, newest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ChangeRecord)
                .where(ChangeRecord.entity == entity, ChangeRecord.entity_key == key)
                .order_by(ChangeRecord.at.desc(), ChangeRecord.id.desc())
                .limit(limit)
            )
            return [ChangeInfo(r.at, r.actor_name, r.action, r.changes) for r in rows]

    async def export_yaml(self) -> str:
        """The whole directory as our YAML, built in a thread so the event loop stays free."""
        snapshot = (list(self.chapters.values()), list(self.projects.values()), self.list_summits())
        return await asyncio.to_thread(lambda: directory_io.dump_yaml(_export_batch(*snapshot)))

    # -- writes -------------------------------------------------------------------------------------

    async def import_file(
        self, path: Path, *, actor_id: int | None = None, actor_name: str, progress: Progress | None = None
    ) -> ImportReport:
        """Parse (in a thread) and import a file in any supported format."""
        batch = await asyncio.to_thread(directory_io.load_file, path)
        return await self.import_batch(
            batch, actor_id=actor_id, actor_name=actor_name, progress=progress, source=path.name
        )

    async def import_batch(
        self,
        batch: ImportBatch,
        *,
        actor_id: int | None = None,
        actor_name: str,
        progress: Progress | None = None,
        source: str = "upload",
    ) -> ImportReport:
        """Upsert a parsed batch under an import run, committing chunk by chunk, and record every change.

        Each chunk is all or nothing. A failure halfway keeps the chunks already committed, marks the run
        failed at the record where it stopped, and raises; importing the same file again resumes it, since an
        import upserts by key (what was committed counts as unchanged). Progress is reported between chunks,
        outside any transaction, and a failing progress callback is the caller's display problem only.
        """
        report = ImportReport(issues=list(batch.issues))
        steps = await asyncio.to_thread(_import_steps, batch)
        async with self._sessions.begin() as session:
            run = ImportRun(source=source[:200], actor_id=actor_id, actor_name=actor_name[:100], total=len(steps))
            session.add(run)
        done = 0
        renamed: dict[str, str] = {}  # an imported chapter key merged into an existing chapter, for later chunks
        try:
            for start in range(0, len(steps), IMPORT_CHUNK):
                chunk = steps[start : start + IMPORT_CHUNK]
                async with self._write(actor_id, actor_name, report) as writer:
                    writer.renamed = renamed
                    await writer.prepare(
                        chapters=True,
                        projects=[v["key"] for kind, _, v in chunk if kind == "project"],
                        summits=any(kind == "summit" for kind, _, _ in chunk),
                    )
                    for kind, index, values in chunk:
                        writer.upsert(kind, index, dict(values))
                    done = start + len(chunk)
                    await writer.session.execute(
                        update(ImportRun).where(ImportRun.id == run.id).values(done=done, **_counts(report))
                    )
                if progress:
                    await _report_progress(progress, done, len(steps))
        except BaseException as error:
            async with self._sessions.begin() as session:
                await session.execute(
                    update(ImportRun)
                    .where(ImportRun.id == run.id)
                    .values(status="failed", error=repr(error)[:1000], finished_at=utcnow())
                )
            raise
        async with self._sessions.begin() as session:
            await session.execute(
                update(ImportRun)
                .where(ImportRun.id == run.id)
                .values(status="done", done=done, finished_at=utcnow(), **_counts(report))
            )
        return report

    async def edit_chapter(
        self, key: str | None, values: Mapping[str, Any], *, actor_id: int | None, actor_name: str
    ) -> ChapterInfo:
        """Create (key None) or change one chapter; values are validated like an import."""
        await self.refresh()
        record = directory_io.validate_chapter({**self._current_chapter_values(key), **values})
        async with self._write(actor_id, actor_name, ImportReport()) as writer:
            await writer.prepare(chapters=True)
            if key is None and record["key"] in writer.chapters:
                raise UserError(N_("A chapter with the key “{key}” already exists."), key=record["key"])
            writer.upsert_chapter(record, match_by_name=False)
        return self.chapters[record["key"]]

    async def edit_project(
        self, key: str | None, values: Mapping[str, Any], *, actor_id: int | None, actor_name: str
    ) -> ProjectInfo:
        """Create (key None) or change one project."""
        await self.refresh()
        current = self._current_project_values(key)
        record = directory_io.validate_project({**current, **values})
        report = ImportReport()
        async with self._write(actor_id, actor_name, report) as writer:
            await writer.prepare(chapters=True, projects=[record["key"]])
            if key is None and record["key"] in writer.projects:
                raise UserError(N_("A project with the key “{key}” already exists."), key=record["key"])
            writer.upsert_project(0, record)
            if report.issues:
                raise UserError(report.issues[0].reason)
        return self.projects[record["key"]]

    @asynccontextmanager
    async def _write(self, actor_id: int | None, actor_name: str, report: ImportReport) -> AsyncIterator[_Writer]:
        """One write transaction that bumps the directory revision first; memory catches up after the commit."""
        async with self._writing:
            async with self._sessions.begin() as session:
                revision = await bump_revision(session, "directory")
                yield _Writer(session, self._chapter_index, actor_id, actor_name, report, revision)
            await self.refresh()

    def _current_chapter_values(self, key: str | None) -> dict[str, Any]:
        if key is None:
            return {}
        chapter = self.chapters.get(key)
        if chapter is None:
            raise NotFound(N_("chapter"), key)
        return _plain({name: getattr(chapter, name) for name in ChapterInfo.__slots__})

    def _current_project_values(self, key: str | None) -> dict[str, Any]:
        if key is None:
            return {}
        project = self.projects.get(key)
        if project is None:
            raise NotFound(N_("project"), key)
        values = _plain({name: getattr(project, name) for name in ProjectInfo.__slots__})
        values["chapter"] = values.pop("chapter_key")
        return values

    def _resolve(self, index: SearchIndex, query: str) -> str | None:
        if not normalise(query):
            return None
        key = index.exact(query)
        for candidates in (index.prefixed(query, 2), index.search(query, limit=2, names_only=True)):
            if key is None and len(candidates) == 1:
                key = candidates[0]
        return key or index.best_guess(query)


class _Writer:
    """Upserts inside one session, matching records to existing rows by key, then by name or alias."""

    def __init__(
        self,
        session: AsyncSession,
        chapter_index: SearchIndex,
        actor_id: int | None,
        actor_name: str,
        report: ImportReport,
        revision: int,
    ) -> None:
        self.session = session
        self.revision = revision
        self.chapter_index = chapter_index
        self.actor_id = actor_id
        self.actor_name = actor_name
        self.report = report
        self.chapters: dict[str, Chapter] = {}
        self.projects: dict[str, Project] = {}
        self.summits: dict[str, Summit] = {}
        self.renamed: dict[str, str] = {}

    async def prepare(self, *, chapters: bool = False, projects: Sequence[str] = (), summits: bool = False) -> None:
        """Load the rows this write may touch: every chapter (they are few), the named projects, the summits."""
        if chapters:
            self.chapters = {c.key: c for c in await self.session.scalars(select(Chapter))}
        if projects:
            found = await self.session.scalars(
                select(Project).where(Project.key.in_(set(projects))).options(selectinload(Project.chapter))
            )
            self.projects.update((p.key, p) for p in found)
        if summits:
            self.summits = {s.key: s for s in await self.session.scalars(select(Summit))}

    def upsert(self, kind: str, index: int, values: dict[str, Any]) -> None:
        """Create or update one record of an import."""
        if kind == "chapter":
            self.upsert_chapter(values)
        elif kind == "project":
            self.upsert_project(index, values)
        else:
            self.upsert_summit(values)

    def upsert_chapter(self, values: dict[str, Any], *, match_by_name: bool = True) -> None:
        """Create or update a chapter, merging into an existing one of the same name or alias."""
        key = values["key"]
        row = self.chapters.get(key)
        if row is None and match_by_name:
            existing = self._match_existing_chapter(values)
            if existing is not None:
                self.renamed[key] = existing.key
                row = existing
                values = {**values, "key": existing.key}
                values["aliases"] = sorted({*existing.aliases, *values.get("aliases", [])})
        if row is None:
            row = Chapter(key=values["key"], name=values["name"])
            self.session.add(row)
            self.chapters[row.key] = row
        self._apply("chapter", row, values)

    def upsert_project(self, index: int, values: dict[str, Any]) -> None:
        """Create or update a project, linking it to its chapter."""
        chapter_key = values.pop("chapter", None)
        chapter = self._chapter_for(chapter_key) if chapter_key else None
        if chapter_key and chapter is None:
            reason = f"unknown chapter “{chapter_key}”"
            self.report.issues.append(ImportIssue(index, values.get("key"), reason, "projects"))
            return
        row = self.projects.get(values["key"])
        if row is None:
            row = Project(key=values["key"], name=values["name"])
            self.session.add(row)
            self.projects[row.key] = row
        values["chapter"] = chapter
        self._apply("project", row, values)

    def upsert_summit(self, values: dict[str, Any]) -> None:
        """Create or update a summit."""
        row = self.summits.get(values["key"])
        if row is None:
            row = Summit(key=values["key"], name=values["name"])
            self.session.add(row)
            self.summits[row.key] = row
        self._apply("summit", row, values)

    def _chapter_for(self, key: str) -> Chapter | None:
        key = self.renamed.get(key, key)
        if key in self.chapters:
            return self.chapters[key]
        match = self.chapter_index.exact(key)
        return self.chapters.get(match) if match else None

    def _match_existing_chapter(self, values: Mapping[str, Any]) -> Chapter | None:
        for name in (values["name"], values["key"], *values.get("aliases", [])):
            match = self.chapter_index.exact(name)
            if match and match in self.chapters:
                return self.chapters[match]
        return None

    def _apply(self, entity: str, row: Any, values: Mapping[str, Any]) -> None:
        is_new = row.id is None
        changes: dict[str, Any] = {}
        for name, new in values.items():
            if name == "key":
                continue
            old = getattr(row, name, None)
            if is_new or old != new:
                changes[name] = [_jsonable(old) if not is_new else None, _jsonable(new)]
                setattr(row, name, new)
        if is_new:
            self.report.created += 1
        elif changes:
            self.report.updated += 1
        else:
            self.report.unchanged += 1
            return
        row.revision = self.revision
        self.session.add(
            ChangeRecord(
                entity=entity,
                entity_key=row.key,
                action="create" if is_new else "update",
                actor_id=self.actor_id,
                actor_name=self.actor_name,
                changes=changes,
            )
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Chapter):
        return value.key
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, tuple):
            out[name] = [dict(v) if isinstance(v, Mapping) else v for v in value]
        elif isinstance(value, Mapping):
            out[name] = dict(value)
        else:
            out[name] = value
    return out


RecordT = TypeVar("RecordT", ChapterRecord, ProjectRecord, SummitRecord)


def _record(kind: type[RecordT], info: ChapterInfo | ProjectInfo | SummitInfo) -> RecordT:
    """The import record for what is shown: same field names, mappings as sorted pairs."""
    values: dict[str, Any] = {}
    for spec in fields(kind):
        name = "chapter_key" if spec.name == "chapter" else spec.name
        if not hasattr(info, name):
            continue  # a record field the directory keeps elsewhere (a chapter's links are in `social`)
        value: Any = getattr(info, name)
        if isinstance(value, Mapping):
            value = tuple(sorted(value.items()))
        elif name == "people":
            value = tuple(Person(str(p.get("name")), p.get("role")) for p in value)
        values[spec.name] = value
    return kind(**values)


def _localised(values: Mapping[str, str], locale: str) -> str | None:
    if not values:
        return None
    return values.get(locale) or values.get(locale.split("-")[0])


def _chapter_info(row: Chapter) -> ChapterInfo:
    return ChapterInfo(
        key=row.key,
        name=row.name,
        short_name=row.short_name,
        aliases=tuple(row.aliases or ()),
        names=dict(row.names or {}),
        country=row.country,
        city=row.city,
        region=row.region,
        tier=row.tier,
        founded=row.founded,
        joined=row.joined,
        website=row.website,
        feed_url=row.feed_url,
        events_url=row.events_url,
        social=dict(row.social or {}),
        description=row.description,
        descriptions=dict(row.descriptions or {}),
        facts=tuple(row.facts or ()),
        people=tuple(row.people or ()),
        tags=tuple(row.tags or ()),
        latitude=row.latitude,
        longitude=row.longitude,
        active=row.active,
    )


def _project_info(row: Project, chapter_key: str | None) -> ProjectInfo:
    return ProjectInfo(
        key=row.key,
        name=row.name,
        names=dict(row.names or {}),
        chapter_key=chapter_key,
        description=row.description,
        descriptions=dict(row.descriptions or {}),
        topics=tuple(row.topics or ()),
        status=row.status,
        links=dict(row.links or {}),
        code_url=row.code_url,
    )


def _summit_info(row: Summit) -> SummitInfo:
    return SummitInfo(
        key=row.key,
        name=row.name,
        city=row.city,
        country=row.country,
        starts_at=row.starts_at,
        timezone=row.timezone,
        year=row.year,
        description=row.description,
        facts=tuple(row.facts or ()),
        url=row.url,
    )


def _chapter_entry(chapter: ChapterInfo) -> Entry:
    aliases: Iterable[str] = (
        chapter.key,
        chapter.short_name or "",
        *chapter.aliases,
        *chapter.names.values(),
    )
    return Entry(chapter.key, chapter.name, tuple(a for a in aliases if a), chapter.description or "")


def _project_entry(project: ProjectInfo) -> Entry:
    return Entry(project.key, project.name, tuple(project.names.values()), project.description or "", project.topics)


def _discard(table: dict[str, set[str]], name: str, key: str) -> None:
    keys = table.get(name)
    if keys is not None:
        keys.discard(key)
        if not keys:
            del table[name]


def _project_order(project: ProjectInfo) -> tuple[str, str]:
    return normalise(project.name), project.key


Filed = tuple[dict[str, list[str]], dict[str, set[str]], dict[str, set[str]]]


def _index_projects(projects: list[ProjectInfo]) -> tuple[SearchIndex, Filed]:
    """A fresh project index and filing (run in a thread for a large change)."""
    by_chapter: dict[str, list[str]] = {}
    by_topic: dict[str, set[str]] = {}
    by_status: dict[str, set[str]] = {}
    for project in sorted(projects, key=_project_order):
        if project.chapter_key:
            by_chapter.setdefault(project.chapter_key, []).append(project.key)
        for topic in project.topics:
            by_topic.setdefault(normalise(topic), set()).add(project.key)
        by_status.setdefault(project.status, set()).add(project.key)
    return SearchIndex(_project_entry(p) for p in projects), (by_chapter, by_topic, by_status)


ImportStep = tuple[str, int, dict[str, Any]]


def _import_steps(batch: ImportBatch) -> list[ImportStep]:
    """Every record of a batch as column values, chapters first (run in a thread)."""
    return [
        *(("chapter", index, directory_io.chapter_values(c)) for index, c in enumerate(batch.chapters)),
        *(("project", index, directory_io.project_values(p)) for index, p in enumerate(batch.projects)),
        *(("summit", index, directory_io.summit_values(s)) for index, s in enumerate(batch.summits)),
    ]


def _counts(report: ImportReport) -> dict[str, int]:
    return {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "skipped": len(report.issues),
    }


async def _report_progress(progress: Progress, done: int, total: int) -> None:
    """Show progress; failing to show it is a display problem, never a reason to stop the import."""
    try:
        await progress(done, total)
    except Exception:
        log.warning("could not show import progress (%d of %d); the import goes on", done, total, exc_info=True)


def _export_batch(chapters: list[ChapterInfo], projects: list[ProjectInfo], summits: list[SummitInfo]) -> ImportBatch:
    """The directory as records, ready for `formats.dump_yaml`."""
    return ImportBatch(
        chapters=tuple(_record(ChapterRecord, c) for c in sorted(chapters, key=lambda c: c.key)),
        projects=tuple(_record(ProjectRecord, p) for p in sorted(projects, key=lambda p: p.key)),
        summits=tuple(_record(SummitRecord, s) for s in summits),
    )
