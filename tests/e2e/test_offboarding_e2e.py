"""Offboarding a partner through the sandbox: its space archived read-only (or deleted) once, its feed stopped,
the chapter alumni in the directory; refused, cancelled or resumed cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.delivery.outbox import CANCELLED, PENDING, Payload, enqueue
from bot.offline import SandboxSession
from bot.sandbox import InteractionResult
from bot.sandbox import permissions as perm
from bot.sandbox.permissions import channel_permissions
from bot.sandbox.state import Channel
from db.models import Delivery
from tests.feeds.server import FeedServer, item

CHANNELS = ["tw-announcements", "tw-general", "tw-projects", "tw-voice"]
ROLE = "g0v (Code for Taiwan)"


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    yield server
    await server.stop()


async def _slash(session: SandboxSession, user: int, command: str, options: dict[str, object]) -> InteractionResult:
    return await session.sandbox.slash(session.guild_id, session.channel_id, user, command, options, timeout=15)


async def _press(session: SandboxSession, preview: InteractionResult, label: str, user: int) -> str:
    button = next(b for b in preview.message.buttons if b["label"] == label)
    edited = asyncio.ensure_future(session.sandbox.wait_for_edit(preview.message))
    clicked = await session.sandbox.click(preview.message, button["custom_id"], user)
    if not clicked.deferred:
        edited.cancel()
        return clicked.message.content
    return (await edited).content


async def _onboard(session: SandboxSession, representative: int | None = None) -> None:
    options: dict[str, object] = {"chapter": "g0v", "short_name": "tw"}
    if representative is not None:
        options["representative"] = str(representative)
    preview = await _slash(session, session.organiser_id, "onboard partner", options)
    assert (await _press(session, preview, "Confirm", session.organiser_id)).startswith(f"Onboarded {ROLE}")
    await session.sandbox.settle()


async def _offboard(session: SandboxSession, user: int | None = None, **options: object) -> InteractionResult:
    return await _slash(session, user or session.organiser_id, "offboard partner", {"chapter": "g0v", **options})


def _channels(session: SandboxSession) -> dict[str, Channel]:
    return {c.name: c for c in session.sandbox.state.guilds[session.guild_id].channels.values()}


def _roles(session: SandboxSession) -> list[str]:
    return sorted(r.name for r in session.sandbox.state.guilds[session.guild_id].roles.values())


async def _representative(session: SandboxSession) -> int:
    mei = session.sandbox.create_user("mei").id
    session.sandbox.add_member(session.guild_id, mei)
    await session.sandbox.settle()
    return mei


async def test_archiving_makes_the_space_read_only_once(session: SandboxSession, feed_server: FeedServer) -> None:
    sandbox, app = session.sandbox, session.bot.app
    mei = await _representative(session)
    await _onboard(session, mei)
    announcements = _channels(session)["tw-announcements"]
    _, url = feed_server.feed("g0v", [item(1)])
    added = await _slash(session, session.organiser_id, "feeds add", {"url": url, "channel": str(announcements.id)})
    assert added.message.ephemeral
    assert [s.channel_id for s in await app.feeds.subscriptions(session.guild_id)] == [announcements.id]
    async with app.sessions.begin() as db:
        due = app.clock.now() + timedelta(days=1)
        payload = Payload(content="Later")
        await enqueue(
            db,
            kind="test",
            key="later",
            guild_id=session.guild_id,
            channel_id=announcements.id,
            payload=payload,
            due_at=due,
        )
        await enqueue(
            db,
            kind="test",
            key="elsewhere",
            guild_id=session.guild_id,
            channel_id=session.channel_id,
            payload=payload,
            due_at=due,
        )
    before = set(_channels(session))

    preview = await _offboard(session)
    assert preview.message.ephemeral
    embed = preview.message.embeds[0]
    assert embed["title"] == f"Archive the space of {ROLE}"
    steps = [line for line in embed["description"].splitlines() if line.startswith("• ")]
    assert steps == [
        f"• Stop posting the feed {url} in #tw-announcements",
        "• Cancel 1 post waiting to be sent to these channels",
        "• Create the category Archive for archived channels",
        *(f"• Move #{name} into Archive, read-only for @everyone and {ROLE}" for name in CHANNELS),
        f"• Delete the category {ROLE}",
        f"• Keep the role {ROLE}: its members can still read the archived channels",
        f"• Mark {ROLE} as alumni in the directory (tier Governing partner → Alumni)",
    ]
    assert set(_channels(session)) == before  # nothing until Confirm

    outcome = await _press(session, preview, "Confirm", session.organiser_id)
    assert outcome.startswith(f"Offboarded {ROLE}. Done:")
    assert "1 waiting post was cancelled." in outcome
    await sandbox.settle()
    guild = sandbox.state.guilds[session.guild_id]
    channels = _channels(session)
    archive = channels["archive"] if "archive" in channels else channels["Archive"]
    assert archive.type == 4
    assert ROLE not in channels  # the empty partner category is gone
    for name in CHANNELS:
        channel = channels[name]
        assert channel.parent_id == archive.id
        assert not channel_permissions(guild, channel, session.member_id) & perm.VIEW_CHANNEL  # private stays private
        rights = channel_permissions(guild, channel, mei)
        assert rights & perm.VIEW_CHANNEL and rights & perm.READ_MESSAGE_HISTORY
        assert not rights & perm.SEND_MESSAGES
    assert ROLE in _roles(session)
    assert sandbox.find_role(session.guild_id, ROLE).id in guild.members[mei].roles
    assert app.directory.chapters["g0v"].tier == "alumni"
    assert app.directory.chapters["g0v"].active  # an alumnus still exists as an organisation
    assert await app.feeds.subscriptions(session.guild_id) == []
    async with app.sessions() as db:
        states = {row.key: row.state for row in await db.scalars(select(Delivery).where(Delivery.kind == "test"))}
    assert states == {"later": CANCELLED, "elsewhere": PENDING}
    history = await session.bot.directory.history("chapter", "g0v")
    offboarded, edited = history[:2]
    assert (offboarded.action, offboarded.actor_name, edited.action, edited.actor_name) == (
        "offboard",
        "you",
        "update",
        "you",
    )
    assert edited.changes["tier"] == ["governing", "alumni"]
    assert offboarded.changes["channel:general"] == ["in use", "archived"]
    assert offboarded.changes["role"] == ["in use", "kept"]
    shown = await _slash(session, session.organiser_id, "directory history", {"chapter": "g0v"})
    assert "channel:general" in shown.message.embeds[0]["description"]

    records = len(history)
    again = await _offboard(session)
    assert again.message.content == f"The space of {ROLE} here was archived already: nothing to do."
    assert not again.message.buttons
    assert len(await session.bot.directory.history("chapter", "g0v")) == records
    assert _channels(session).keys() == channels.keys()
