"""End-to-end fixtures: the real bot connected to the sandbox; every REST exchange checked against Discord's spec."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.offline import SandboxSession, start_session
from tests.openapi_validator import OpenApiValidator, format_report


@pytest.fixture
async def session(database_url: str, tmp_path: Path) -> AsyncIterator[SandboxSession]:
    """A sandbox guild with the bot ready in it."""
    settings = load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path)
    running = await start_session(settings)
    try:
        yield running
    finally:
        await running.stop()
    validator = OpenApiValidator.load()
    violations = [
        violation
        for exchange in running.sandbox.exchanges
        for violation in validator.validate(
            exchange.method,
            exchange.path,
            exchange.query,
            exchange.request_json,
            exchange.status,
            exchange.response_json,
        )
    ]
    if os.environ.get("SANDBOX_SKIP_OPENAPI") != "1":
        assert not violations, format_report(violations)
