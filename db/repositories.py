"""Small shared queries."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import BotState, Revision


async def get_state(session: AsyncSession, key: str) -> str | None:
    """A value from the bot's own key/value state."""
    row = await session.get(BotState, key)
    return row.value if row else None


async def set_state(session: AsyncSession, key: str, value: str) -> None:
    """Store a value in the bot's own key/value state."""
    row = await session.get(BotState, key)
    if row is None:
        session.add(BotState(key=key, value=value))
    else:
        row.value = value


async def bump_revision(session: AsyncSession, name: str) -> int:
    """Take the next revision of `name` in the caller's transaction.

    Call it first in a write: its row lock makes concurrent writers take turns, so revisions follow commit order.
    """
    statement = (
        update(Revision)
        .where(Revision.name == name)
        .values(value=Revision.value + 1)
        .returning(Revision.value)
        .execution_options(synchronize_session=False)
    )
    return int((await session.execute(statement)).scalar_one())


async def read_revisions(session: AsyncSession) -> dict[str, int]:
    """The current revision of everything processes cache."""
    return {row.name: row.value for row in await session.scalars(select(Revision))}
