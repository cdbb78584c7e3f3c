"""The one scheduler of the bot: in-memory jobs defined in code, state kept in the database."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


def create_scheduler() -> AsyncIOScheduler:
    """An asyncio scheduler in UTC with safe job defaults."""
    return AsyncIOScheduler(timezone="UTC", job_defaults=JOB_DEFAULTS)
