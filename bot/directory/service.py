"""The network directory: chapters, projects and summits, searched from memory, stored in the database."""

from __future__ import annotations

import asyncio
import bisect
import gzip
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.directory import formats
from bot.directory.countries import country_names
from bot.directory.formats.isolated import TooBig, TooLong, pickled_in_parts, run_isolated, unpickled_parts
from bot.directory.index import SCORED, Entry, SearchIndex, normalise, stem
from bot.directory.records import (
    STATUSES,
    TIERS,
    ChapterRecord,
    DirectoryDataError,
    ImportBatch,
    ImportIssue,
    Person,
    ProjectRecord,
    SummitRecord,
    columns,
    issue,
    stated_columns,
    validate,
)
from bot.directory.validators import problem
from bot.errors import NotFound, UserError
from bot.i18n import N_
from bot.lazy import LazyMap
from bot.memory import keep_long_lived
from bot.text import truncate
from db.models import BotState, ChangeRecord, Chapter, ImportRun, Project, Summit, utcnow
from db.repositories import bump_revision, read_revisions

log = logging.getLogger(__name__)

RowT = TypeVar("RowT", Chapter, Project)
NETWORK_STATE = "directory.network"
"""The `BotState` row holding the seed's ``network`` block (the network's own website, feed, ...) as JSON."""


@dataclass(frozen=True, slots=True)
class Export:
    """The directory as a file: YAML, or YAML compressed with gzip when the plain file would be too large."""

    data: bytes
    filename: str
    unpacked_size: int

    @property
    def compressed(self) -> bool:
        """Whether `data` is gzip."""
        return self.filename.endswith(formats.PACKED)


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
    version: int = 1

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
    version: int = 1

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
        skipped = sum(issue.skipped for issue in self.issues)
        problems = f", {skipped} skipped" if skipped else ""
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged{problems}"


Progress = Callable[[int, int], Awaitable[None]]
IMPORT_CHUNK = 250  # records per transaction: a form save waits for one chunk at most
REBUILD_AT = 2_000  # changed projects beyond which the project index is rebuilt in a thread, not patched
KEEP_AT = 200  # entries read in by one refresh (an import's chunk) from which memory is frozen as long-lived
YIELD_EVERY = 20  # index updates between turns given back to the event loop (each under 1 ms at 100k)
EXPORT_TIME_LIMIT = 600.0  # seconds an export may take in its child process (an interaction lasts 15 minutes)
EXPORT_MEMORY_LIMIT = 4 << 30  # bytes of address space for it (100,000 projects peak at about 0.7 GiB)


class DirectoryService:
    """Keeps the directory in memory indexes, refreshed by revision, and writes every change with its history."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self.revision = 0
        """Changes whenever what is held in memory changes: caches of what is shown are keyed by it."""
        self._resolved: dict[tuple[int, str], tuple[str | None, list[str]]] = {}
        self.chapters: dict[str, ChapterInfo] = {}
        self.projects: dict[str, ProjectInfo] = {}
        self.summits: dict[str, SummitInfo] = {}
        self.revision = -1  # the directory revision memory reflects; -1 before the first load
        self._chapter_index = SearchIndex()
        self._project_index = SearchIndex()
        self._projects_by_chapter: dict[str, list[str]] = {}
        self._projects_by_topic: dict[str, set[str]] = {}
        self._topic_names: dict[str, str] = {}
        self._projects_by_status: dict[str, set[str]] = {}
        self.network: Mapping[str, Any] | None = None
        self._refreshing = asyncio.Lock()
        # Writers of this process take turns in arrival order, so a form save never starves behind an import.
        self._writing = asyncio.Lock()

    # -- loading ------------------------------------------------------------------------------------

    async def load(self, seed_file: Path | None = None) -> None:
        """Read everything into memory; seed an empty database from `seed_file` first, saying so in the log."""
        await self.refresh()
        if seed_file is not None and seed_file.exists() and not self.chapters:
            batch = await asyncio.to_thread(formats.load_file, seed_file)
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
                network = await session.get(BotState, NETWORK_STATE)
            self.network = json.loads(network.value) if network else None
            self.revision = current
            self._resolved.clear()
        if len(projects) + len(chapters) >= KEEP_AT:
            keep_long_lived()
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
                self._unfile_project(old)  # while the index still has its old name
            self.projects[project.key] = project
            self._project_index.put(_project_entry(project))
            self._file_project(project)
            if done % YIELD_EVERY == 0:
                await asyncio.sleep(0)

    def _file_project(self, project: ProjectInfo) -> None:
        if project.chapter_key:
            keys = self._projects_by_chapter.setdefault(project.chapter_key, [])
            bisect.insort(keys, project.key, key=self._project_order)
        for topic in project.topics:
            key = topic_key(topic)
            self._projects_by_topic.setdefault(key, set()).add(project.key)
            self._topic_names.setdefault(key, normalise(topic))
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
        return self._project_index.normal_name(key), key

    # -- chapters -----------------------------------------------------------------------------------

    def find_chapter(self, query: str) -> ChapterInfo:
        """The chapter a member means: exact name, alias, a clear prefix or a clear typo; else NotFound."""
        key, suggestions = self._resolve(self._chapter_index, query)
        if key is None:
            raise NotFound(N_("chapter"), query, [self.chapters[k].name for k in suggestions], hint=CHAPTER_HINT)
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
        key, suggestions = self._resolve(self._project_index, query)
        if key is None:
            raise NotFound(N_("project"), query, [self.projects[k].name for k in suggestions], hint=PROJECT_HINT)
        return self.projects[key]

    def suggest_projects(self, words: str, limit: int = 3) -> list[ProjectInfo]:
        """Projects whose names look like the words, for 'did you mean' under an empty search."""
        return [self.projects[key] for key in self._project_index.suggest(words, limit)]

    def complete_projects(self, query: str, limit: int = 25) -> list[ProjectInfo]:
        """Autocomplete choices for projects."""
        return [self.projects[key] for key in self._project_index.complete(query, limit)]

    def complete_topics(self, query: str, limit: int = 25) -> list[str]:
        """Known topics starting with (or containing) the query."""
        wanted = normalise(query)
        topics = self.topic_names()
        starts = [t for t in topics if t.startswith(wanted)]
        contains = [t for t in topics if wanted in t and not t.startswith(wanted)]
        return (starts + contains)[:limit]

    def topic_names(self) -> list[str]:
        """Every topic, as autocomplete shows it, in name order."""
        return sorted(self._topic_names.values())

    def search_projects(
        self,
        words: str = "",
        *,
        chapter: str | None = None,
        topic: str | None = None,
        status: str | None = None,
    ) -> Sequence[ProjectInfo]:
        """Projects matching the words (any order, stems and typos forgiven), filtered, best first."""
        require_searchable(words)
        require_searchable(topic or "")
        within: set[str] | None = None
        if chapter:
            within = set(self._projects_by_chapter.get(self.find_chapter(chapter).key, []))
        if topic:
            by_topic = self._projects_by_topic.get(topic_key(topic), set())
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

    async def export_batch(self) -> ImportBatch:
        """The whole directory as records with the network block, ready for `formats.dump_yaml`."""
        return _export_batch(
            list(self.chapters.values()), list(self.projects.values()), self.list_summits(), self.network
        )

    async def export_yaml(self) -> str:
        """The whole directory as our YAML, built in a thread so the event loop stays free."""
        snapshot = (list(self.chapters.values()), list(self.projects.values()), self.list_summits(), self.network)
        return await asyncio.to_thread(lambda: formats.dump_yaml(_export_batch(*snapshot)))

    async def export_file(self, limit: int) -> Export:
        """The whole directory as a file of at most `limit` bytes if it can be: plain YAML, else gzip (which
        shrinks it about tenfold); the caller checks the size of what comes back.

        It is written in a child process, so members are answered at full speed meanwhile.
        """
        projects = await asyncio.to_thread(pickled_in_parts, list(self.projects.values()))
        snapshot = (list(self.chapters.values()), projects, self.list_summits(), self.network)
        try:
            return await run_isolated(
                _export_file, *snapshot, limit, time_limit=EXPORT_TIME_LIMIT, memory_limit=EXPORT_MEMORY_LIMIT
            )
        except (TooLong, TooBig):
            raise UserError(
                N_(
                    "The directory is too large to export here: "
                    "export it on the bot's machine with `python -m bot export directory.yaml`."
                )
            ) from None

    # -- writes -------------------------------------------------------------------------------------

    async def import_file(
        self, path: Path, *, actor_id: int | None = None, actor_name: str, progress: Progress | None = None
    ) -> ImportReport:
        """Parse (in a thread) and import a file in any supported format."""
        batch = await asyncio.to_thread(formats.load_file, path)
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
        # A curated batch (our YAML) writes every field it states and marks them curated; any other source
        # fills and refreshes only the fields that are not curated (see `_Writer`).
        curate: _Curate = "stated" if batch.curated else None
        steps = await asyncio.to_thread(_import_steps, batch)
        async with self._sessions.begin() as session:
            run = ImportRun(source=source[:200], actor_id=actor_id, actor_name=actor_name[:100], total=len(steps))
            session.add(run)
            if batch.network is not None:
                await session.merge(BotState(key=NETWORK_STATE, value=json.dumps(batch.network, ensure_ascii=False)))
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
                    for done_here, (kind, index, values) in enumerate(chunk, start=1):
                        writer.upsert(kind, index, dict(values), curate)
                        if done_here % YIELD_EVERY == 0:
                            await asyncio.sleep(0)  # a chunk's upserts take tens of ms: members come in between
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
        self,
        key: str | None,
        values: Mapping[str, Any],
        *,
        actor_id: int | None,
        actor_name: str,
        version: int | None = None,
        shown: Mapping[str, Any] | None = None,
    ) -> ChapterInfo:
        """Create (key None) or change one chapter; values are validated like an import.

        With `shown` (what the form showed when it was opened at row `version`), only the fields typed
        differently are applied, and one that someone else changed meanwhile raises `Conflict`.
        """
        saved = await self._edit_chapter(key, values, actor_id, actor_name, version, shown)
        assert saved is not None
        return self.chapters[saved]

    async def edit_project(
        self,
        key: str | None,
        values: Mapping[str, Any],
        *,
        actor_id: int | None,
        actor_name: str,
        version: int | None = None,
        shown: Mapping[str, Any] | None = None,
    ) -> ProjectInfo:
        """Create (key None) or change one project, versioned like `edit_chapter`."""
        saved = await self._edit_project(key, values, actor_id, actor_name, version, shown)
        assert saved is not None
        return self.projects[saved]

    async def check_edit(
        self, entity: str, key: str | None, values: Mapping[str, Any], *, version: int | None, shown: Mapping[str, Any]
    ) -> None:
        """Raise what `edit_chapter` or `edit_project` would raise for this edit, writing nothing."""
        edit = self._edit_chapter if entity == "chapter" else self._edit_project
        await edit(key, values, None, "", version, shown, dry_run=True)

    async def _edit_chapter(
        self,
        key: str | None,
        values: Mapping[str, Any],
        actor_id: int | None,
        actor_name: str,
        version: int | None,
        shown: Mapping[str, Any] | None,
        *,
        dry_run: bool = False,
    ) -> str | None:
        """Validate and write one chapter edit, returning its key; a dry run writes nothing and returns None."""
        await self.refresh()
        report = ImportReport()
        try:
            async with self._write(actor_id, actor_name, report) as writer:
                await writer.prepare(chapters=True)
                row = _existing(writer.chapters, key, N_("chapter"))
                current = _current_values(_chapter_info(row)) if row else {}
                changes = _changes(values, shown, current, version, row.version if row else None)
                record = columns(validate(ChapterRecord, {**current, **changes}))
                if key is None and record["key"] in writer.chapters:
                    raise UserError(N_("A chapter with the key “{key}” already exists."), key=record["key"])
                self._refuse_taken_chapter_names(key, record, current)
                writer.upsert_chapter(record, match_by_name=False, curate="changed")
                if dry_run:
                    raise _DryRun
        except _DryRun:
            return None
        key_saved: str = record["key"]
        return key_saved

    async def _edit_project(
        self,
        key: str | None,
        values: Mapping[str, Any],
        actor_id: int | None,
        actor_name: str,
        version: int | None,
        shown: Mapping[str, Any] | None,
        *,
        dry_run: bool = False,
    ) -> str | None:
        """Validate and write one project edit like `_edit_chapter`."""
        await self.refresh()
        report = ImportReport()
        try:
            async with self._write(actor_id, actor_name, report) as writer:
                await writer.prepare(chapters=True, projects=[key] if key else [])
                row = _existing(writer.projects, key, N_("project"))
                current: dict[str, Any] = {}
                if row is not None:
                    current = _current_values(_project_info(row, row.chapter.key if row.chapter else None))
                    current["chapter"] = current.pop("chapter_key")
                changes = _changes(values, shown, current, version, row.version if row else None)
                record = columns(validate(ProjectRecord, {**current, **changes}))
                if key is None:
                    await writer.prepare(projects=[record["key"]])
                if key is None and record["key"] in writer.projects:
                    raise UserError(N_("A project with the key “{key}” already exists."), key=record["key"])
                if key is None or "name" in changes:
                    self._refuse_taken_project_name(key, record)
                writer.upsert_project(0, record, curate="changed")
                if report.issues:
                    raise DirectoryDataError(*report.issues[0].problems)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            return None
        key_saved: str = record["key"]
        return key_saved

    async def remove_chapter(self, key: str, *, actor_id: int | None, actor_name: str) -> int:
        """Delete a chapter and its projects, keeping their last values in the history; the projects removed."""
        async with self._write(actor_id, actor_name, ImportReport()) as writer:
            session = writer.session
            row = await session.scalar(
                select(Chapter).where(Chapter.key == key).options(selectinload(Chapter.projects))
            )
            if row is None:
                raise NotFound(N_("chapter"), key)
            for project in row.projects:
                info = _current_values(_project_info(project, key))
                session.add(_removal("project", project.key, info, actor_id, actor_name))
                await session.delete(project)
            session.add(_removal("chapter", key, _current_values(_chapter_info(row)), actor_id, actor_name))
            removed = len(row.projects)
            await session.delete(row)
        return removed

    async def remove_project(self, key: str, *, actor_id: int | None, actor_name: str) -> None:
        """Delete a project, keeping its last values in the history."""
        async with self._write(actor_id, actor_name, ImportReport()) as writer:
            session = writer.session
            row = await session.scalar(select(Project).where(Project.key == key).options(selectinload(Project.chapter)))
            if row is None:
                raise NotFound(N_("project"), key)
            info = _current_values(_project_info(row, row.chapter.key if row.chapter else None))
            session.add(_removal("project", key, info, actor_id, actor_name))
            await session.delete(row)

    @asynccontextmanager
    async def _write(self, actor_id: int | None, actor_name: str, report: ImportReport) -> AsyncIterator[_Writer]:
        """One write transaction that bumps the directory revision first; memory catches up after the commit."""
        async with self._writing:
            async with self._sessions.begin() as session:
                revision = await bump_revision(session, "directory")
                yield _Writer(session, self._chapter_index, actor_id, actor_name, report, revision)
            await self.refresh()

    def _refuse_taken_chapter_names(
        self, key: str | None, record: Mapping[str, Any], current: Mapping[str, Any]
    ) -> None:
        """A new name or alias must not already name another chapter."""
        names = [record["name"]] if normalise(record["name"]) != normalise(current.get("name") or "") else []
        names += [a for a in record.get("aliases") or () if a not in (current.get("aliases") or ())]
        for name in names:
            other = self._chapter_index.exact(name)
            if other is not None and other != key and other in self.chapters:
                raise UserError(
                    N_("“{name}” already names the chapter {chapter}: edit that one instead."),
                    name=name,
                    chapter=self.chapters[other].name,
                )

    def _refuse_taken_project_name(self, key: str | None, record: Mapping[str, Any]) -> None:
        """A chapter has one project of a name."""
        wanted = normalise(record["name"])
        for other in self.chapter_projects(record.get("chapter") or ""):
            if other.key != key and normalise(other.name) == wanted:
                raise UserError(
                    N_("The chapter already has the project {project}: edit that one instead."), project=other.name
                )

    def _resolve(self, index: SearchIndex, query: str) -> tuple[str | None, list[str]]:
        """The key `_look_up` finds, else the keys to suggest; remembered until the directory changes (members
        ask the same names, and a short prefix of many names costs milliseconds at 100,000 projects)."""
        memo = (id(index), query)
        if memo not in self._resolved:
            if len(self._resolved) >= RESOLVED_MEMORY:
                self._resolved.clear()
            key = _look_up(index, query)
            self._resolved[memo] = key, [] if key else _suggestions(index, query)
        return self._resolved[memo]


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

    def upsert(self, kind: str, index: int, values: dict[str, Any], curate: _Curate) -> None:
        """Create or update one record of an import."""
        if kind == "chapter":
            self.upsert_chapter(values, curate=curate)
        elif kind == "project":
            self.upsert_project(index, values, curate=curate)
        else:
            self.upsert_summit(values)

    def upsert_chapter(self, values: dict[str, Any], *, curate: _Curate, match_by_name: bool = True) -> None:
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
        self._apply("chapter", row, values, curate)

    def upsert_project(self, index: int, values: dict[str, Any], *, curate: _Curate) -> None:
        """Create or update a project, linking it to its chapter."""
        chapter_key = values.pop("chapter", None)
        chapter = self._chapter_for(chapter_key) if chapter_key else None
        if chapter_key and chapter is None:
            unknown = problem(N_("unknown chapter “{chapter}”"), chapter=chapter_key)
            self.report.issues.append(issue(index, values.get("key"), "projects", unknown))
            return
        row = self.projects.get(values["key"])
        if row is None:
            row = Project(key=values["key"], name=values["name"])
            self.session.add(row)
            self.projects[row.key] = row
        values["chapter"] = chapter
        self._apply("project", row, values, curate)

    def upsert_summit(self, values: dict[str, Any]) -> None:
        """Create or update a summit."""
        row = self.summits.get(values["key"])
        if row is None:
            row = Summit(key=values["key"], name=values["name"])
            self.session.add(row)
            self.summits[row.key] = row
        self._apply("summit", row, values, "stated")

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

    def _apply(self, entity: str, row: Any, values: Mapping[str, Any], curate: _Curate) -> None:
        is_new = row.id is None
        if curate is None and not is_new:
            values = _uncurated(row, values)
        changes: dict[str, Any] = {}
        for name, new in values.items():
            if name == "key":
                continue
            old = getattr(row, name, None)
            if is_new or old != new:
                changes[name] = [_jsonable(old) if not is_new else None, _jsonable(new)]
                setattr(row, name, new)
        if curate is not None and hasattr(row, "curated"):
            marked = changes if curate == "changed" else values
            curated = sorted({*(row.curated or ()), *(name for name in marked if name != "key")})
            if curated != sorted(row.curated or ()):
                row.curated = curated
        if is_new:
            self.report.created += 1
        elif changes:
            self.report.updated += 1
            if isinstance(row, Chapter | Project):
                row.version = (row.version or 1) + 1
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


class _DryRun(Exception):
    """Rolls a dry-run edit back."""


class Conflict(UserError):
    """A field the organiser changed was changed by someone else since their form opened."""


def _existing(rows: Mapping[str, RowT], key: str | None, what: str) -> RowT | None:
    if key is None:
        return None
    row = rows.get(key)
    if row is None:
        raise NotFound(what, key)
    return row


def _current_values(info: ChapterInfo | ProjectInfo) -> dict[str, Any]:
    return _plain({name: getattr(info, name) for name in type(info).__slots__ if name != "version"})


def _comparable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_comparable(v) for v in value] or None
    if isinstance(value, Mapping):
        return {k: _comparable(v) for k, v in value.items()} or None
    return value if value != "" else None


def _changes(
    values: Mapping[str, Any],
    shown: Mapping[str, Any] | None,
    current: Mapping[str, Any],
    version: int | None,
    row_version: int | None,
) -> dict[str, Any]:
    """The fields typed differently from what the form showed; Conflict if one changed meanwhile."""
    if shown is None:
        return dict(values)
    changes = {
        name: value
        for name, value in values.items()
        if name not in shown or _comparable(shown[name]) != _comparable(value)
    }
    if version is None or row_version is None or version == row_version:
        return changes
    meanwhile = [
        name
        for name, value in changes.items()
        if name in shown
        and _comparable(current.get(name)) != _comparable(shown[name])
        and _comparable(current.get(name)) != _comparable(value)
    ]
    if meanwhile:
        now = "; ".join(f"{name}: “{truncate(_text(current.get(name)), 300)}”" for name in meanwhile)
        raise Conflict(
            N_(
                "Someone changed {name} meanwhile, so nothing was saved. It now reads: {current}. "
                "Open the form again to edit the current text."
            ),
            name=current.get("name") or "",
            current=truncate(now, 1500),
        )
    return changes


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return "" if value is None else str(value)


def _removal(entity: str, key: str, values: Mapping[str, Any], actor_id: int | None, actor_name: str) -> ChangeRecord:
    changes = {name: [value, None] for name, value in values.items() if _comparable(value) is not None}
    return ChangeRecord(
        entity=entity, entity_key=key, action="remove", actor_id=actor_id, actor_name=actor_name, changes=changes
    )


_Curate = Literal["stated", "changed"] | None
"""What a write marks as curated: every field it states (our YAML), the fields it changed (an organiser's
edit), or nothing (an external source, which may not overwrite curated fields)."""


def _uncurated(row: Chapter | Project, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values an external import may write on `row`: none of its curated fields.

    An imported name that differs from a curated one is kept as an alias instead, so lookups still find it.
    """
    curated = set(row.curated or ())
    allowed = {name: value for name, value in values.items() if name not in curated}
    name = values.get("name")
    if isinstance(row, Chapter) and "name" in curated and name and name != row.name:
        aliases = allowed.get("aliases", row.aliases) or []
        allowed["aliases"] = sorted({*aliases, *row.aliases, name})
    return allowed


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
        version=row.version,
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
        version=row.version,
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


CHAPTER_HINT = N_("List them with /chapters, or pick one from the list that opens as you type.")
PROJECT_HINT = N_("Search them with /projects, or pick one from the list that opens as you type.")
SEARCHABLE = N_("“{query}” has no letters or digits to search for: type a word of a name or description.")


RESOLVED_MEMORY = 4096


def _look_up(index: SearchIndex, query: str) -> str | None:
    """Exact name or alias, else the one name the query begins or whose words it has, else the clearly
    likest such name, else the one record a keyword (a country's name) finds, else a clear typo."""
    if not normalise(query):
        return None
    key = index.exact(query)
    begun = index.prefixed(query, 2)
    if key is None and len(begun) == 1:
        key = begun[0]
    if key is None:  # the one name with the query's words, else the clearly likest of them
        key = index.best_named(query, named=index.search(query, limit=SCORED, names_only=True, keywords=False))
    if key is None and len(found := index.search(query, limit=2, names_only=True)) == 1:
        key = found[0]
    if key is None and len(begun) < 2:  # a query that begins several names is being typed, not misspelt
        key = index.best_guess(query)
    return key


def require_searchable(text: str) -> None:
    """Refuse words that have nothing to search for ('%%%'), rather than take them for 'everything'."""
    if text.strip() and not normalise(text):
        raise UserError(SEARCHABLE, query=text)


def topic_key(topic: str) -> str:
    """What topics are grouped by: their words' stems, so 'Election' and 'elections' are one topic."""
    return " ".join(stem(word) for word in normalise(topic).split())


def _suggestions(index: SearchIndex, query: str, limit: int = 3) -> list[str]:
    """Keys for 'did you mean': what the query's words find by name (a country's chapters), else look-alikes."""
    found = list(index.search(query, limit=limit, names_only=True)) if normalise(query) else []
    return found or index.suggest(query, limit)


def _chapter_entry(chapter: ChapterInfo) -> Entry:
    aliases: Iterable[str] = (
        chapter.key,
        chapter.short_name or "",
        *chapter.aliases,
        *chapter.names.values(),
    )
    return Entry(
        chapter.key,
        chapter.name,
        tuple(a for a in aliases if a),
        chapter.description or "",
        keywords=country_names(chapter.country),
    )


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
        *(("chapter", index, stated_columns(c)) for index, c in enumerate(batch.chapters)),
        *(("project", index, stated_columns(p)) for index, p in enumerate(batch.projects)),
        *(("summit", index, stated_columns(s)) for index, s in enumerate(batch.summits)),
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


def _export_file(
    chapters: list[ChapterInfo],
    projects: list[bytes],
    summits: list[SummitInfo],
    network: Mapping[str, Any] | None,
    limit: int,
) -> Export:
    """`DirectoryService.export_file`'s work, run in a child process (the projects `pickled_in_parts`)."""
    data = formats.dump_yaml(_export_batch(chapters, unpickled_parts(projects), summits, network)).encode()
    if len(data) <= limit:
        return Export(data, "directory.yaml", len(data))
    return Export(gzip.compress(data, 6, mtime=0), "directory.yaml" + formats.PACKED, len(data))


def _export_batch(
    chapters: list[ChapterInfo],
    projects: list[ProjectInfo],
    summits: list[SummitInfo],
    network: Mapping[str, Any] | None,
) -> ImportBatch:
    """The directory as records with the network block, ready for `formats.dump_yaml`."""
    return ImportBatch(
        network=network,
        chapters=tuple(_record(ChapterRecord, c) for c in sorted(chapters, key=lambda c: c.key)),
        projects=tuple(_record(ProjectRecord, p) for p in sorted(projects, key=lambda p: p.key)),
        summits=tuple(_record(SummitRecord, s) for s in summits),
    )
