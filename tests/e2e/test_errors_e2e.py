"""Unexpected errors reach the user as an incident id, whether or not the interaction was answered."""

from __future__ import annotations

import logging
import re

import pytest

import bot.ui.directory
from bot.offline import SandboxSession

INCIDENT = re.compile(r"incident `([0-9a-f]{8})`")


def _boom(*_: object, **__: object) -> None:
    raise RuntimeError("database on fire")


async def test_unexpected_error_gives_an_incident_id_that_is_logged(
    session: SandboxSession, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(session.bot.directory, "find_chapter", _boom)
    with caplog.at_level(logging.ERROR, logger="bot.errors.reporting"):
        result = await session.sandbox.slash(
            session.guild_id, session.channel_id, session.member_id, "chapter", {"name": "g0v"}
        )
    assert result.message.ephemeral
    match = INCIDENT.search(result.message.content)
    assert match, result.message.content
    assert "database on fire" not in result.message.content
    logged = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None


async def test_error_after_deferring_arrives_as_a_follow_up(
    session: SandboxSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.ui.directory, "stacked_bar_chart", _boom)
    result = await session.sandbox.slash(session.guild_id, session.channel_id, session.member_id, "network")
    assert result.deferred
    messages = await result.wait_until_answered()
    assert len(messages) == 1 and INCIDENT.search(messages[0].content), [m.content for m in messages]


async def test_a_command_the_bot_no_longer_has_is_explained(session: SandboxSession) -> None:
    session.bot.tree.remove_command("network")
    result = await session.sandbox.slash(session.guild_id, session.channel_id, session.member_id, "network")
    assert result.message.ephemeral
    assert "changed" in result.message.content
