"""End-to-end fixtures: the real bot connected to the sandbox; every REST exchange checked against Discord's spec."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import Clock, SystemClock
from bot.config import load_settings
from bot.offline import SandboxSession, start_session
from tests.openapi_validator import exchange_violations, format_report


@pytest.fixture
def clock() -> Clock:
    """The bot's clock: the real one, unless a test module offers a FakeClock instead."""
    return SystemClock()


@pytest.fixture
async def session(database_url: str, tmp_path: Path, clock: Clock) -> AsyncIterator[SandboxSession]:
    """A sandbox guild with the bot ready in it."""
    settings = load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path)
    running = await start_session(settings, clock=clock)
    try:
        yield running
    finally:
        await running.stop()
    violations = exchange_violations(running.sandbox.exchanges)
    assert not violations, format_report(violations)
