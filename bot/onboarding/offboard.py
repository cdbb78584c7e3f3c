"""Offboarding a partner: its space archived (read-only, in the guild's one archive category) or deleted, the
feeds and calendars of that space stopped, the chapter marked alumni in the directory.

The plan is computed from what is stored and still exists, so it lists exactly what will happen; a space
already offboarded yields no step. Each step is stored the moment it is done: a run that stops halfway says
what it did and did not do, and the next run completes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.outbox import cancel_pending, pending_to
from bot.directory.authority import Right
from bot.directory.proposals import ProposalService
from bot.directory.service import ChapterInfo, DirectoryService
from bot.errors import NotFound, UserError
from bot.feeds.service import FeedService
from bot.guilds.resources import GuildResources
from bot.i18n import N_
from bot.onboarding.apply import CATEGORY, ROLE, GuildPort
from bot.onboarding.extras import PromptPort, prompt_offering, prompts_without_option
from bot.onboarding.plan import EVERYONE, GuildFacts, Overwrite
from bot.summits.calendars import CalendarService
from db.models import ChangeRecord, Proposal

log = logging.getLogger(__name__)

ARCHIVE, DELETE = "archive", "delete"
MODES = (ARCHIVE, DELETE)
ALUMNI = "alumni"
PARTNER_PREFIX, ARCHIVED_PREFIX = "partner:", "archived:"
ARCHIVE_OWNER = "archive"
"""Owner of the guild's one archive category (stored as `category`), made by the first archiving."""
ARCHIVE_NAME = "Archive"
STATE = "state"
"""The row under `archived:<key>` remembering the space was offboarded; its kind is the mode, or
`offboarding` while a run has not finished."""
UNFINISHED = "offboarding"

READ_ONLY = frozenset(
    {
        "send_messages",
        "send_messages_in_threads",
        "create_public_threads",
        "create_private_threads",
        "add_reactions",
        "connect",
        "speak",
    }
)
"""Denied to @everyone and the partner's role in an archived channel (what they could see, they still see)."""

# What a step does.
STOP_FEED = "stop-feed"
STOP_CALENDAR = "stop-calendar"
CANCEL_POSTS = "cancel-posts"
CREATE_ARCHIVE = "create-archive"
ARCHIVE_CHANNEL = "archive-channel"
DELETE_CHANNEL = "delete-channel"
DELETE_CATEGORY = "delete-category"
KEEP_ROLE = "keep-role"
DELETE_ROLE = "delete-role"
FORGET = "forget"
MARK_ALUMNI = "mark-alumni"
PROPOSE_ALUMNI = "propose-alumni"
REMOVE_OPTION = "remove-onboarding-option"

# What happens to the chapter's directory entry when no step changes it.
DIRECTORY_ALREADY = "alumni"  # it is alumni already
DIRECTORY_PROPOSED = "proposed"  # a proposal to make it alumni is waiting
DIRECTORY_READ_ONLY = "read-only"  # no home server is set
DIRECTORY_DONE = "done"  # a finished offboarding left it as it is now
DIRECTORY_CHANGES = "changes"  # a step below changes it


class OffboardPort(GuildPort, PromptPort, Protocol):
    """What offboarding needs from Discord besides what onboarding does (`exists`, `create_category`, `delete`)."""

    async def archive_channel(
        self, channel_id: int, category_id: int, role_id: int | None, deny: frozenset[str]
    ) -> None:
        """Move a channel into the category keeping its overwrites, with `deny` added for @everyone and the role."""
        ...


def partner_owner(chapter_key: str) -> str:
    """The owner of a partner's space while it is in use (as onboarding stores it)."""
    return PARTNER_PREFIX + chapter_key


def archived_owner(chapter_key: str) -> str:
    """The owner of what is left of an offboarded partner's space."""
    return ARCHIVED_PREFIX + chapter_key


@dataclass(frozen=True, slots=True)
class Step:
    """One thing offboarding does: `name` is the stored name (`channel:general`, `role`, ...), a feed's or a
    calendar's URL, or a tier; `target` the Discord id, subscription or calendar id, or the chapter's version."""

    action: str
    name: str = ""
    target: int = 0
    owner: str = ""
    channel_id: int = 0
    count: int = 0

    @property
    def identity(self) -> tuple[str, str, int, str]:
        """What the step is, without counts that may grow between the preview and the press."""
        return (self.action, self.name, self.target, self.owner)


@dataclass(frozen=True, slots=True)
class OffboardPlan:
    """Exactly what offboarding one partner's space in one guild will do, in order."""

    guild_id: int
    chapter_key: str
    chapter_name: str
    mode: str
    keep_role: bool
    steps: tuple[Step, ...]
    deny: frozenset[str]
    cannot_deny: frozenset[str]
    role_id: int | None
    archive_id: int | None
    channel_ids: frozenset[int]
    state: str | None
    directory: str

    @property
    def nothing_to_do(self) -> bool:
        """Whether the space is offboarded already."""
        return not self.steps


@dataclass(slots=True)
class OffboardOutcome:
    """What a run did and did not do."""

    plan: OffboardPlan
    done: list[Step] = field(default_factory=list)
    not_done: list[Step] = field(default_factory=list)
    error: Exception | None = None
    cancelled: int = 0

    @property
    def ok(self) -> bool:
        """Whether every step was done."""
        return self.error is None


def archive_denies(facts: GuildFacts) -> frozenset[str]:
    """What an archived channel can deny: the bot cannot deny what it does not hold (unless administrator)."""
    return READ_ONLY if facts.administrator else READ_ONLY & facts.bot_permissions


def archive_overwrites(deny: frozenset[str]) -> tuple[Overwrite, ...]:
    """The archive category's own overwrites: nobody posts in it."""
    return (Overwrite(EVERYONE, deny=deny),)


def refusals(plan: OffboardPlan, facts: GuildFacts) -> list[UserError]:
    """Why the bot could not carry the plan out, checked before anything is touched (empty: it can)."""
    problems: list[UserError] = []
    if not facts.administrator:
        for needed, label in (("manage_roles", "Manage Roles"), ("manage_channels", "Manage Channels")):
            if needed not in facts.bot_permissions:
                problems.append(
                    UserError(N_("I need the {permission} permission to offboard a partner."), permission=label)
                )
    if any(step.action == ARCHIVE_CHANNEL for step in plan.steps) and "send_messages" not in plan.deny:
        problems.append(UserError(N_("I cannot make channels read-only: I need the Send Messages permission myself.")))
    if plan.role_id is not None:
        position = facts.role_positions.get(plan.role_id)
        if position is not None and position >= facts.bot_top_role_position:
            problems.append(
                UserError(N_("The partner's role is above my highest role: move my role above it, then try again."))
            )
    return problems


def _archived_name(name: str, discord_id: int, taken: Iterable[str]) -> str:
    """The name a channel is stored under once archived: its own, unless an earlier archive holds it."""
    return name if name not in set(taken) else f"{name}#{discord_id}"[:100]


class OffboardingService:
    """Offboards partner spaces, once each, recording every run in the chapter's history."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        directory: DirectoryService,
        proposals: ProposalService,
        feeds: FeedService,
        calendars: CalendarService,
    ) -> None:
        self._sessions = sessions
        self.resources = GuildResources(sessions)
        self._directory = directory
        self._proposals = proposals
        self._feeds = feeds
        self._calendars = calendars
        self._locks: defaultdict[tuple[int, str], asyncio.Lock] = defaultdict(asyncio.Lock)

    async def spaces(self, guild_id: int) -> list[str]:
        """Keys of the chapters with a space in the guild: in use, or archived with something left."""
        keys = {owner.removeprefix(PARTNER_PREFIX) for owner in await self.resources.owners(guild_id, PARTNER_PREFIX)}
        for owner in await self.resources.owners(guild_id, ARCHIVED_PREFIX):
            if set(await self.resources.of(guild_id, owner)) - {STATE}:
                keys.add(owner.removeprefix(ARCHIVED_PREFIX))
        return sorted(keys)

    async def plan(
        self,
        port: OffboardPort,
        guild_id: int,
        chapter: ChapterInfo,
        mode: str,
        *,
        keep_role: bool,
        facts: GuildFacts,
        right: Right | None,
    ) -> OffboardPlan:
        """What offboarding would do now; UserError when the guild never had a space for the chapter."""
        if mode not in MODES:
            raise UserError(N_("Choose archive or delete."))
        key = chapter.key
        partner = await self.resources.of(guild_id, partner_owner(key))
        archived = await self.resources.of(guild_id, archived_owner(key))
        state = archived.pop(STATE, None)
        if not partner and not archived and state is None:
            raise UserError(
                N_("This server has no space for {name}, so there is nothing to offboard."), name=chapter.name
            )
        owners = {partner_owner(key): partner, archived_owner(key): archived}
        present: dict[str, dict[str, tuple[str, int]]] = {}
        steps: list[Step] = []
        stale: list[Step] = []
        for owner, stored in owners.items():
            present[owner] = {}
            for name, (kind, discord_id) in sorted(stored.items()):
                if await port.exists(kind, discord_id):
                    present[owner][name] = (kind, discord_id)
                else:
                    stale.append(Step(FORGET, name, discord_id, owner))
        channel_ids = frozenset(i for stored in owners.values() for kind, i in stored.values() if kind == "channel")

        for sub in await self._feeds.subscriptions(guild_id):
            if sub.channel_id in channel_ids:
                steps.append(Step(STOP_FEED, sub.url, sub.id, channel_id=sub.channel_id))
        for calendar in await self._calendars.followed(guild_id):
            if calendar.chapter_key == key:
                steps.append(Step(STOP_CALENDAR, calendar.url, calendar.id))
        async with self._sessions() as session:
            waiting = await pending_to(session, channel_ids)
        if waiting:
            steps.append(Step(CANCEL_POSTS, count=waiting))

        in_use, left = present[partner_owner(key)], present[archived_owner(key)]
        channels = [(name, i) for name, (kind, i) in in_use.items() if kind == "channel"]
        archive_id = None
        if mode == ARCHIVE:
            stored_archive = (await self.resources.of(guild_id, ARCHIVE_OWNER)).get(CATEGORY)
            if stored_archive is not None and await port.exists(CATEGORY, stored_archive[1]):
                archive_id = stored_archive[1]
            elif channels:
                steps.append(Step(CREATE_ARCHIVE, CATEGORY, owner=ARCHIVE_OWNER))
            steps += [Step(ARCHIVE_CHANNEL, name, i, partner_owner(key)) for name, i in channels]
        else:
            steps += [Step(DELETE_CHANNEL, name, i, partner_owner(key)) for name, i in channels]
            steps += [
                Step(DELETE_CHANNEL, name, i, archived_owner(key))
                for name, (kind, i) in left.items()
                if kind == "channel"
            ]
        if CATEGORY in in_use:
            steps.append(Step(DELETE_CATEGORY, CATEGORY, in_use[CATEGORY][1], partner_owner(key)))
        partner_role = (in_use.get(ROLE) or left.get(ROLE) or (ROLE, 0))[1]
        if partner_role:
            offering = await self._prompt_offering(port, guild_id, partner_role)
            if offering is not None:
                steps.append(Step(REMOVE_OPTION, str(offering.get("title") or ""), partner_role))
        role_id = None
        if ROLE in in_use:
            role_id = in_use[ROLE][1]
            kept = mode == ARCHIVE and keep_role
            steps.append(Step(KEEP_ROLE if kept else DELETE_ROLE, ROLE, role_id, partner_owner(key)))
        if ROLE in left:
            role_id = role_id or left[ROLE][1]
            if not (mode == ARCHIVE and keep_role):
                steps.append(Step(DELETE_ROLE, ROLE, left[ROLE][1], archived_owner(key)))
        steps += stale

        finished = state is not None and state[0] != UNFINISHED
        directory = DIRECTORY_DONE if finished and not steps else await self._directory_step(chapter, right, steps)
        deny = archive_denies(facts)
        return OffboardPlan(
            guild_id=guild_id,
            chapter_key=key,
            chapter_name=chapter.name,
            mode=mode,
            keep_role=keep_role,
            steps=tuple(steps),
            deny=deny,
            cannot_deny=READ_ONLY - deny,
            role_id=role_id,
            archive_id=archive_id,
            channel_ids=channel_ids,
            state=state[0] if state else None,
            directory=directory,
        )

    async def _directory_step(self, chapter: ChapterInfo, right: Right | None, steps: list[Step]) -> str:
        """Add the step that makes the chapter alumni, or say why there is none."""
        current = self._directory.chapters.get(chapter.key, chapter)
        if current.tier == ALUMNI:
            return DIRECTORY_ALREADY
        if right is None:
            return DIRECTORY_READ_ONLY
        if right is Right.EDIT:
            steps.append(Step(MARK_ALUMNI, current.tier, current.version))
            return DIRECTORY_CHANGES
        async with self._sessions() as session:
            waiting = await session.scalars(
                select(Proposal).where(
                    Proposal.entity == "chapter", Proposal.entity_key == chapter.key, Proposal.status == "pending"
                )
            )
            if any(row.values.get("tier") == ALUMNI for row in waiting):
                return DIRECTORY_PROPOSED
        steps.append(Step(PROPOSE_ALUMNI, current.tier, current.version))
        return DIRECTORY_CHANGES

    async def _prompt_offering(self, port: OffboardPort, guild_id: int, role_id: int) -> Mapping[str, Any] | None:
        """The server's Onboarding prompt that offers the partner's role, if one does and the bot may read it."""
        try:
            return prompt_offering(await port.read_onboarding(), role_id)
        except Exception as error:  # no Manage Server, or Discord failing: the rest of offboarding goes on
            log.info("could not read the Onboarding of guild %s: %r", guild_id, error)
            return None

    async def apply(
        self,
        previewed: OffboardPlan,
        port: OffboardPort,
        chapter: ChapterInfo,
        *,
        facts: GuildFacts,
        right: Right | None,
        actor_id: int,
        actor_name: str,
        guild_name: str,
    ) -> OffboardOutcome:
        """Do the previewed steps in order, each stored at once; stop at the first failure and say where."""
        guild_id, key = previewed.guild_id, previewed.chapter_key
        async with self._locks[(guild_id, key)]:
            plan = await self.plan(
                port, guild_id, chapter, previewed.mode, keep_role=previewed.keep_role, facts=facts, right=right
            )
            if [s.identity for s in plan.steps] != [s.identity for s in previewed.steps]:
                raise UserError(N_("The space changed since the preview: run the command again to see what is left."))
            outcome = OffboardOutcome(plan)
            if plan.nothing_to_do:
                return outcome
            await self.resources.remember(guild_id, archived_owner(key), STATE, UNFINISHED, 0)
            archive_id = plan.archive_id
            for index, step in enumerate(plan.steps):
                try:
                    made = await self._do(step, plan, port, archive_id, actor_id, actor_name, guild_name, outcome)
                except Exception as error:
                    log.warning("offboarding %s in guild %s stopped at %s: %r", key, guild_id, step.action, error)
                    outcome.error = error
                    outcome.not_done = list(plan.steps[index:])
                    break
                archive_id = made or archive_id
                outcome.done.append(step)
            else:
                await self.resources.remember(guild_id, archived_owner(key), STATE, plan.mode, 0)
            if outcome.done:
                await self._record(outcome, actor_id, actor_name)
        return outcome

    async def _do(
        self,
        step: Step,
        plan: OffboardPlan,
        port: OffboardPort,
        archive_id: int | None,
        actor_id: int,
        actor_name: str,
        guild_name: str,
        outcome: OffboardOutcome,
    ) -> int | None:
        """Carry one step out and store its effect; returns the archive category when it made one."""
        guild_id, key = plan.guild_id, plan.chapter_key
        resources = self.resources
        if step.action == STOP_FEED:
            with contextlib.suppress(NotFound):  # removed meanwhile
                await self._feeds.remove(guild_id, step.target)
        elif step.action == STOP_CALENDAR:
            with contextlib.suppress(UserError):  # removed meanwhile
                await self._calendars.unsubscribe(guild_id, step.target)
        elif step.action == CANCEL_POSTS:
            async with self._sessions.begin() as session:
                outcome.cancelled = await cancel_pending(session, plan.channel_ids)
        elif step.action == CREATE_ARCHIVE:
            made = await port.create_category(ARCHIVE_NAME, archive_overwrites(plan.deny), 0)
            await resources.remember(guild_id, ARCHIVE_OWNER, CATEGORY, CATEGORY, made)
            return made
        elif step.action == ARCHIVE_CHANNEL:
            assert archive_id is not None
            await port.archive_channel(step.target, archive_id, plan.role_id, plan.deny)
            taken = await resources.of(guild_id, archived_owner(key))
            name = _archived_name(step.name, step.target, taken)
            await resources.remember(guild_id, archived_owner(key), name, "channel", step.target)
            await resources.forget(guild_id, step.owner, step.name)
        elif step.action in (DELETE_CHANNEL, DELETE_CATEGORY, DELETE_ROLE):
            kind = {DELETE_CHANNEL: "channel", DELETE_CATEGORY: CATEGORY, DELETE_ROLE: ROLE}[step.action]
            await port.delete(kind, step.target)
            await resources.forget(guild_id, step.owner, step.name)
        elif step.action == KEEP_ROLE:
            await resources.remember(guild_id, archived_owner(key), ROLE, ROLE, step.target)
            await resources.forget(guild_id, step.owner, ROLE)
        elif step.action == FORGET:
            await resources.forget(guild_id, step.owner, step.name)
        elif step.action == REMOVE_OPTION:
            prompts = prompts_without_option(await port.read_onboarding(), step.target)
            if prompts is not None:  # None: removed meanwhile
                await port.write_prompts(prompts)
        elif step.action == MARK_ALUMNI:
            await self._directory.edit_chapter(
                key,
                {"tier": ALUMNI},
                actor_id=actor_id,
                actor_name=actor_name,
                version=step.target,
                shown={"tier": step.name},
            )
        elif step.action == PROPOSE_ALUMNI:
            await self._proposals.propose(
                "chapter",
                key,
                {"tier": ALUMNI},
                version=step.target,
                shown={"tier": step.name},
                guild_id=guild_id,
                guild_name=guild_name,
                proposer_id=actor_id,
                proposer_name=actor_name,
            )
        else:
            raise ValueError(f"unknown offboarding step {step.action!r}")
        return None

    async def _record(self, outcome: OffboardOutcome, actor_id: int, actor_name: str) -> None:
        """One history entry for the run: who, and what each done step changed."""
        plan = outcome.plan
        changes: dict[str, list[object]] = {"guild": [None, str(plan.guild_id)], "offboard": [None, plan.mode]}
        for step in outcome.done:
            label, before, after = _change(step, outcome)
            changes[label] = [before, after]
        if outcome.error is not None:
            changes["stopped"] = [None, str(outcome.error)[:300]]
        async with self._sessions.begin() as session:
            session.add(
                ChangeRecord(
                    entity="chapter",
                    entity_key=plan.chapter_key,
                    action="offboard",
                    actor_id=actor_id,
                    actor_name=actor_name[:100],
                    changes=changes,
                )
            )


def _change(step: Step, outcome: OffboardOutcome) -> tuple[str, object, object]:
    """A done step as a history entry: what, before, after."""
    archived = step.owner.startswith(ARCHIVED_PREFIX)
    where = f"archived {step.name}" if archived else step.name
    return {
        STOP_FEED: (f"feed {step.name}", "followed", "stopped"),
        STOP_CALENDAR: (f"calendar {step.name}", "followed", "stopped"),
        CANCEL_POSTS: ("posts waiting", step.count, f"{outcome.cancelled} cancelled"),
        CREATE_ARCHIVE: ("archive category", None, "created"),
        ARCHIVE_CHANNEL: (step.name, "in use", "archived"),
        DELETE_CHANNEL: (where, "archived" if archived else "in use", "deleted"),
        DELETE_CATEGORY: (step.name, "in use", "deleted"),
        DELETE_ROLE: (where, "kept" if archived else "in use", "deleted"),
        KEEP_ROLE: (step.name, "in use", "kept"),
        FORGET: (where, "gone", "forgotten"),
        REMOVE_OPTION: (f"onboarding option in {step.name}", "offered", "removed"),
        MARK_ALUMNI: ("tier", step.name, ALUMNI),
        PROPOSE_ALUMNI: ("tier proposed", step.name, ALUMNI),
    }[step.action]
