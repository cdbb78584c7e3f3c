"""Unexpected errors in events and jobs are logged with an incident id and never stop the bot."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import App
from bot.client import CodeForAllBot
from bot.config import load_settings
from bot.errors import log_incident
from bot.scheduling import guarded


def test_an_incident_is_logged_with_its_id_and_traceback(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        incident = log_incident("job x", error)
    record = caplog.records[-1]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == f"incident {incident} in job x: RuntimeError: boom"
    assert record.exc_info is not None and record.exc_info[1] is not None
    assert len(incident) == 8 and int(incident, 16) >= 0


async def test_a_guarded_job_logs_its_error_and_returns(caplog: pytest.LogCaptureFixture) -> None:
    runs = []

    async def job() -> None:
        runs.append(1)
        raise ValueError("feed exploded")

    run = guarded("poll feeds", job)
    await run()
    await run()
    assert runs == [1, 1]
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(messages) == 2 and all(m.endswith("in job poll feeds: ValueError: feed exploded") for m in messages)


async def test_a_failing_event_handler_is_an_incident(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}", data_dir=tmp_path)
    bot = CodeForAllBot(App.create(settings))
    try:
        try:
            raise KeyError("member")
        except KeyError:
            await bot.on_error("on_member_join")
    finally:
        await bot.close()
    assert any(
        r.getMessage().endswith("in event on_member_join: KeyError: 'member'") and r.exc_info for r in caplog.records
    )
