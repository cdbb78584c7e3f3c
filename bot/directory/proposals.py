"""Directory changes proposed from other servers, stored until the home server's organisers decide."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.directory.service import ChapterInfo, DirectoryService, ProjectInfo
from bot.errors import UserError
from bot.i18n import N_
from db.models import Proposal

ENTITIES = ("chapter", "project")


@dataclass(frozen=True, slots=True)
class ProposalInfo:
    """A proposal as organisers see it."""

    id: int
    entity: str
    entity_key: str | None
    base_version: int | None
    shown: Mapping[str, Any]
    values: Mapping[str, Any]
    guild_name: str
    proposer_id: int
    proposer_name: str
    status: str
    created_at: datetime

    def changed(self) -> dict[str, Any]:
        """The fields the proposer typed differently from what their form showed."""
        return {k: v for k, v in self.values.items() if k not in self.shown or self.shown[k] != v}


class ProposalService:
    """Stores proposals and applies an approved one through the directory's versioned edit."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], directory: DirectoryService, clock: Clock) -> None:
        self._sessions = sessions
        self._directory = directory
        self._clock = clock

    async def propose(
        self,
        entity: str,
        key: str | None,
        values: Mapping[str, Any],
        *,
        version: int | None,
        shown: Mapping[str, Any],
        guild_id: int,
        guild_name: str,
        proposer_id: int,
        proposer_name: str,
    ) -> ProposalInfo:
        """Store what an organiser of another server typed, with what their form showed."""
        if entity not in ENTITIES:
            raise ValueError(f"unknown entity {entity!r}")
        if all(k in shown and shown[k] == v for k, v in values.items()):
            raise UserError(N_("You changed nothing, so there is nothing to propose."))
        await self._directory.check_edit(entity, key, values, version=version, shown=shown)
        async with self._sessions.begin() as session:
            row = Proposal(
                entity=entity,
                entity_key=key,
                base_version=version,
                shown=dict(shown),
                values=dict(values),
                guild_id=guild_id,
                guild_name=guild_name[:100],
                proposer_id=proposer_id,
                proposer_name=proposer_name[:100],
                status="pending",
                created_at=self._clock.now(),
                updated_at=self._clock.now(),
            )
            session.add(row)
        return _info(row)

    async def pending(self, limit: int = 25) -> list[ProposalInfo]:
        """Undecided proposals, oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Proposal).where(Proposal.status == "pending").order_by(Proposal.id).limit(limit)
            )
            return [_info(row) for row in rows]

    async def get(self, proposal_id: int) -> ProposalInfo:
        """One proposal, or a sentence saying there is none with that number."""
        async with self._sessions() as session:
            row = await session.get(Proposal, proposal_id)
        if row is None:
            raise UserError(N_("There is no proposal #{number}."), number=proposal_id)
        return _info(row)

    async def approve(self, proposal_id: int, *, actor_id: int, actor_name: str) -> ChapterInfo | ProjectInfo:
        """Apply a pending proposal as its proposer's edit (approved by the actor), then mark it approved."""
        proposal = await self._claim(proposal_id)
        author = f"{proposal.proposer_name} ({proposal.guild_name}), approved by {actor_name}"[:100]
        edit = self._directory.edit_chapter if proposal.entity == "chapter" else self._directory.edit_project
        try:
            saved: ChapterInfo | ProjectInfo = await edit(
                proposal.entity_key,
                proposal.values,
                version=proposal.base_version,
                shown=proposal.shown,
                actor_id=proposal.proposer_id,
                actor_name=author,
            )
        except BaseException:
            await self._set_status(proposal_id, "pending", None, None)
            raise
        await self._set_status(proposal_id, "approved", actor_id, actor_name)
        return saved

    async def reject(self, proposal_id: int, *, actor_id: int, actor_name: str) -> ProposalInfo:
        """Mark a pending proposal rejected; nothing in the directory changes."""
        await self._claim(proposal_id)
        await self._set_status(proposal_id, "rejected", actor_id, actor_name)
        return await self.get(proposal_id)

    async def _claim(self, proposal_id: int) -> ProposalInfo:
        """Take a pending proposal for a decision, so two organisers cannot decide it twice."""
        async with self._sessions.begin() as session:
            claimed = await session.execute(
                update(Proposal)
                .where(Proposal.id == proposal_id, Proposal.status == "pending")
                .values(status="deciding")
            )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            proposal = await self.get(proposal_id)
            raise UserError(N_("Proposal #{number} is already {status}."), number=proposal_id, status=proposal.status)
        return await self.get(proposal_id)

    async def _set_status(self, proposal_id: int, status: str, actor_id: int | None, actor_name: str | None) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(Proposal, proposal_id)
            assert row is not None
            row.status = status
            row.decided_by_id = actor_id
            row.decided_by_name = actor_name[:100] if actor_name else None
            row.decided_at = self._clock.now() if actor_id else None


def _info(row: Proposal) -> ProposalInfo:
    return ProposalInfo(
        id=row.id,
        entity=row.entity,
        entity_key=row.entity_key,
        base_version=row.base_version,
        shown=dict(row.shown or {}),
        values=dict(row.values or {}),
        guild_name=row.guild_name,
        proposer_id=row.proposer_id,
        proposer_name=row.proposer_name,
        status=row.status,
        created_at=row.created_at,
    )
