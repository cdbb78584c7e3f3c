"""The one scheduler of the bot: in-memory jobs defined in code, state kept in the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.errors import log_incident

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


def create_scheduler() -> AsyncIOScheduler:
    """An asyncio scheduler in UTC with safe job defaults."""
    return AsyncIOScheduler(timezone="UTC", job_defaults=JOB_DEFAULTS)


def guarded(name: str, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """A job body that logs its own errors with an incident id, so one failure never stops its schedule."""

    @wraps(job)
    async def run() -> None:
        try:
            await job()
        except Exception as error:
            log_incident(f"job {name}", error)

    return run
