"""Small shared queries."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import BotState


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
