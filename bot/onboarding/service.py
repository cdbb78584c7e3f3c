"""Onboarding a partner: plan, survey what exists, apply once, and record it in the directory's history."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.guilds.resources import GuildResources
from bot.onboarding.apply import GuildPort, Outcome, Survey, apply_plan, survey
from bot.onboarding.plan import PartnerPlan
from db.models import ChangeRecord


class OnboardingService:
    """The partner spaces of every guild, created once each."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self.resources = GuildResources(sessions)

    async def survey(self, plan: PartnerPlan, port: GuildPort, guild_id: int) -> Survey:
        """What of the plan already exists in the guild."""
        return await survey(plan, port, self.resources, guild_id)

    async def apply(
        self, plan: PartnerPlan, port: GuildPort, guild_id: int, *, actor_id: int, actor_name: str
    ) -> Outcome:
        """Carry the plan out and record what it created in the chapter's history."""
        outcome = await apply_plan(plan, port, self.resources, guild_id)
        if outcome.created or outcome.members:
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
                        },
                    )
                )
        return outcome
