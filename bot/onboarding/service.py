"""Onboarding a partner: plan, survey what exists, apply once, and record it in the directory's history."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.delivery.outbox import Payload, enqueue
from bot.directory.records import ChapterRecord, columns, derive_key, validate
from bot.directory.service import DirectoryService
from bot.errors import UserError
from bot.feeds.fetch import check_url
from bot.feeds.service import FeedService
from bot.guilds.resources import GuildResources
from bot.i18n import N_, t
from bot.onboarding import extras
from bot.onboarding.apply import ROLE, GuildPort, Outcome, Survey, apply_plan, owner_of, survey
from bot.onboarding.extras import (
    CALENDAR,
    DONE,
    FEED,
    PLANNED,
    PROMPT,
    SKIPPED,
    WELCOME,
    PromptPort,
    Step,
    StepResult,
)
from bot.onboarding.plan import PartnerPlan
from bot.summits.calendars import CalendarService
from bot.text import truncate
from db.models import ChangeRecord, Delivery

log = logging.getLogger(__name__)

WELCOME_KIND = "partner-welcome"
ANNOUNCEMENTS = "channel:announcements"  # the partner's own channel the blog feed is posted in
CANNOT_READ = N_("I cannot read this server's Onboarding ({reason})")


@dataclass(frozen=True, slots=True)
class PartnerExtras:
    """What the steps around the space need: where the network's announcements go, the chapter's feed and
    calendar, the language of the bot's posts, and how the welcome introduces the partner."""

    welcome_channel_id: int | None
    feed_url: str | None
    events_url: str | None
    locale: str | None
    website: str | None = None
    introduction: str | None = None


@dataclass(frozen=True, slots=True)
class NewChapter:
    """A chapter not yet in the directory, checked as the directory would save it."""

    key: str
    name: str
    short_name: str | None
    values: Mapping[str, Any]


class OnboardingService:
    """The partner spaces of every guild, created once each."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        directory: DirectoryService,
        feeds: FeedService,
        calendars: CalendarService,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._directory = directory
        self._feeds = feeds
        self._calendars = calendars
        self.resources = GuildResources(sessions)

    async def survey(self, plan: PartnerPlan, port: GuildPort, guild_id: int) -> Survey:
        """What of the plan already exists in the guild."""
        return await survey(plan, port, self.resources, guild_id)

    async def draft_chapter(self, values: Mapping[str, Any]) -> NewChapter:
        """A new chapter's record as the directory would add it; its UserError when it would refuse it."""
        key = derive_key(str(values.get("name") or ""))
        if not key:
            raise UserError(
                N_("“{name}” makes no directory key: give a name with Latin letters or digits."),
                name=values.get("name") or "",
            )
        values = {**values, "key": key}
        await self._directory.check_edit("chapter", None, values, version=None, shown={})
        record = columns(validate(ChapterRecord, dict(values)))
        return NewChapter(record["key"], record["name"], record.get("short_name"), values)

    async def add_chapter(self, chapter: NewChapter, *, actor_id: int, actor_name: str) -> str:
        """Add the new chapter to the directory (validated and recorded like any edit); its key."""
        saved = await self._directory.edit_chapter(None, chapter.values, actor_id=actor_id, actor_name=actor_name)
        return saved.key

    async def survey_extras(
        self, plan: PartnerPlan, wanted: PartnerExtras, prompts: PromptPort, guild_id: int
    ) -> list[Step]:
        """Which of the steps around the space are still to do, done already, or skipped and why."""
        stored = await self.resources.of(guild_id, owner_of(plan))
        steps = [await self._welcome_step(plan, wanted, guild_id)]
        steps.append(await self._feed_step(wanted, guild_id, stored.get(ANNOUNCEMENTS)))
        steps.append(await self._calendar_step(wanted, guild_id))
        steps.append(await self._prompt_step(wanted, prompts, guild_id, stored.get(ROLE)))
        return steps

    async def apply(
        self,
        plan: PartnerPlan,
        port: GuildPort,
        guild_id: int,
        *,
        actor_id: int,
        actor_name: str,
        wanted: PartnerExtras | None = None,
        prompts: PromptPort | None = None,
    ) -> Outcome:
        """Carry the plan out, then the steps around it (each reported on its own, none undoing the space),
        and record what was done in the chapter's history."""
        outcome = await apply_plan(plan, port, self.resources, guild_id)
        if outcome.ok and wanted is not None and prompts is not None:
            outcome.extras = await self._apply_extras(plan, wanted, prompts, guild_id, actor_id)
        done = {result.name: result.detail or "" for result in outcome.extras if result.state == DONE}
        if outcome.created or outcome.members or done:
            async with self._sessions.begin() as session:
                session.add(
                    ChangeRecord(
                        entity="chapter",
                        entity_key=plan.chapter_key,
                        action="onboard",
                        actor_id=actor_id,
                        actor_name=actor_name[:100],
                        changes={
                            "guild": [None, str(guild_id)],
                            **{name: [None, "created"] for name in outcome.created},
                            **{name: [None, truncate(detail, 300)] for name, detail in done.items()},
                        },
                    )
                )
        return outcome

    # --- the steps around the space ------------------------------------------------------------------------------

    async def _welcome_step(self, plan: PartnerPlan, wanted: PartnerExtras, guild_id: int) -> Step:
        if wanted.welcome_channel_id is None:
            return Step(WELCOME, SKIPPED, extras.NO_ANNOUNCEMENTS_CHANNEL)
        detail = str(wanted.welcome_channel_id)
        async with self._sessions() as session:
            posted = await self._welcomed(session, plan, guild_id)
        return Step(WELCOME, DONE if posted else PLANNED, detail=detail)

    async def _feed_step(self, wanted: PartnerExtras, guild_id: int, channel: tuple[str, int] | None) -> Step:
        if not wanted.feed_url:
            return Step(FEED, SKIPPED, extras.NO_FEED)
        try:
            url = check_url(wanted.feed_url)
        except UserError as error:
            return Step(FEED, SKIPPED, error.message, error.params)
        followed = channel is not None and any(
            sub.channel_id == channel[1] and sub.url == url for sub in await self._feeds.subscriptions(guild_id)
        )
        return Step(FEED, DONE if followed else PLANNED, detail=url)

    async def _calendar_step(self, wanted: PartnerExtras, guild_id: int) -> Step:
        if not wanted.events_url:
            return Step(CALENDAR, SKIPPED, extras.NO_CALENDAR)
        try:
            url = check_url(wanted.events_url)
        except UserError as error:
            return Step(CALENDAR, SKIPPED, error.message, error.params)
        followed = any(row.url == url for row in await self._calendars.followed(guild_id))
        return Step(CALENDAR, DONE if followed else PLANNED, detail=url)

    async def _prompt_step(
        self, wanted: PartnerExtras, prompts: PromptPort, guild_id: int, role: tuple[str, int] | None
    ) -> Step:
        try:
            board = await prompts.read_onboarding()
        except Exception as error:
            log.info("could not read the onboarding of guild %s: %r", guild_id, error)
            return Step(PROMPT, SKIPPED, CANNOT_READ, {"reason": truncate(str(error), 200)})
        if not extras.enabled_prompts(board):
            return Step(PROMPT, SKIPPED, extras.ONBOARDING_OFF)
        title = t(wanted.locale, extras.PROMPT_TITLE)
        ours = extras.find_prompt(board, await self._prompt_id(guild_id), title)
        shown = str(ours["title"]) if ours is not None else title
        offered = role is not None and extras.has_option_for(ours, role[1])
        return Step(PROMPT, DONE if offered else PLANNED, detail=shown)

    async def _apply_extras(
        self, plan: PartnerPlan, wanted: PartnerExtras, prompts: PromptPort, guild_id: int, actor_id: int
    ) -> list[StepResult]:
        stored = await self.resources.of(guild_id, owner_of(plan))
        steps = {
            WELCOME: lambda: self._post_welcome(plan, wanted, guild_id),
            FEED: lambda: self._follow_feed(wanted, guild_id, stored[ANNOUNCEMENTS][1], actor_id),
            CALENDAR: lambda: self._follow_calendar(plan, wanted, guild_id, actor_id),
            PROMPT: lambda: self._offer_in_prompt(plan, wanted, prompts, guild_id, stored[ROLE][1]),
        }
        results: list[StepResult] = []
        for step in await self.survey_extras(plan, wanted, prompts, guild_id):
            if step.state != PLANNED:
                results.append(StepResult(step.name, "kept" if step.state == DONE else SKIPPED, step.detail))
                continue
            try:
                detail = await steps[step.name]()
            except Exception as error:
                if not isinstance(error, UserError):
                    log.warning(
                        "onboarding step %s for %s in guild %s failed: %r", step.name, plan.chapter_key, guild_id, error
                    )
                results.append(StepResult(step.name, "failed", step.detail, error))
            else:
                results.append(StepResult(step.name, DONE, detail))
        return results

    async def _welcomed(self, session: AsyncSession, plan: PartnerPlan, guild_id: int) -> bool:
        found = await session.scalar(
            select(Delivery.id).where(
                Delivery.kind == WELCOME_KIND, Delivery.key == plan.chapter_key, Delivery.guild_id == guild_id
            )
        )
        return found is not None

    async def _post_welcome(self, plan: PartnerPlan, wanted: PartnerExtras, guild_id: int) -> str:
        assert wanted.welcome_channel_id is not None
        locale = wanted.locale
        embed: dict[str, Any] = {
            "title": truncate(t(locale, "Welcome, {name}!", name=plan.role_name), 256),
            "description": truncate(
                "\n\n".join(
                    part
                    for part in (
                        t(locale, "{name} joins the Code for All network. Say hello!", name=plan.role_name),
                        wanted.introduction or "",
                    )
                    if part
                ),
                4096,
            ),
            "color": plan.role_colour,
        }
        if wanted.website:
            embed["url"] = wanted.website
        async with self._sessions.begin() as session:
            if not await self._welcomed(session, plan, guild_id):  # once per partner, whichever channel
                await enqueue(
                    session,
                    kind=WELCOME_KIND,
                    key=plan.chapter_key,
                    guild_id=guild_id,
                    channel_id=wanted.welcome_channel_id,
                    payload=Payload(embeds=[embed]),
                    due_at=self._clock.now(),
                )
        return str(wanted.welcome_channel_id)

    async def _follow_feed(self, wanted: PartnerExtras, guild_id: int, channel_id: int, actor_id: int) -> str:
        assert wanted.feed_url is not None
        subscription, _ = await self._feeds.subscribe(
            guild_id=guild_id, channel_id=channel_id, url=wanted.feed_url, actor_id=actor_id
        )
        return subscription.url

    async def _follow_calendar(self, plan: PartnerPlan, wanted: PartnerExtras, guild_id: int, actor_id: int) -> str:
        assert wanted.events_url is not None
        followed, _ = await self._calendars.subscribe(guild_id, wanted.events_url, plan.chapter_key, actor_id)
        return followed.url

    async def _offer_in_prompt(
        self, plan: PartnerPlan, wanted: PartnerExtras, prompts: PromptPort, guild_id: int, role_id: int
    ) -> str:
        board = await prompts.read_onboarding()
        title = t(wanted.locale, extras.PROMPT_TITLE)
        stored_id = await self._prompt_id(guild_id)
        changed = extras.prompts_with_option(board, stored_id, title, role_id, plan.role_name, None)
        if changed is not None:
            board = await prompts.write_prompts(changed)
        ours = extras.prompt_offering(board, role_id)
        if ours is None:
            raise UserError(N_("Discord did not keep the new Onboarding option."))
        if stored_id != int(ours["id"]):
            await self.resources.remember(
                guild_id, extras.PROMPT_OWNER, extras.PROMPT_NAME, extras.PROMPT_KIND, int(ours["id"])
            )
        return str(ours["title"])

    async def _prompt_id(self, guild_id: int) -> int | None:
        found = (await self.resources.of(guild_id, extras.PROMPT_OWNER)).get(extras.PROMPT_NAME)
        return found[1] if found else None
