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
    archive = channels["Archive"]
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


async def test_deleting_removes_the_channels_category_and_role(session: SandboxSession) -> None:
    before, roles_before = set(_channels(session)), _roles(session)
    await _onboard(session)
    refused = await _offboard(session, mode="delete", keep_role=True)
    assert refused.message.content == "Deleting a space deletes its role too: archive it to keep the role."
    preview = await _offboard(session, mode="delete")
    assert preview.message.embeds[0]["title"] == f"Delete the space of {ROLE}"
    outcome = await _press(session, preview, "Confirm", session.organiser_id)
    assert outcome.startswith(f"Offboarded {ROLE}. Done:")
    await session.sandbox.settle()
    assert set(_channels(session)) == before and _roles(session) == roles_before
    stored = await session.bot.app.onboarding.resources.of(session.guild_id, "partner:g0v")
    assert stored == {}
    again = await _offboard(session, mode="delete")
    assert again.message.content == f"The space of {ROLE} here was deleted already: nothing to do."


async def test_an_archive_can_be_deleted_later(session: SandboxSession) -> None:
    await _onboard(session)
    preview = await _offboard(session, keep_role=False)
    assert f"• Delete the role {ROLE}" in preview.message.embeds[0]["description"]
    await _press(session, preview, "Confirm", session.organiser_id)
    await session.sandbox.settle()
    assert ROLE not in _roles(session) and "tw-general" in _channels(session)
    preview = await _offboard(session, mode="delete")
    steps = [line for line in preview.message.embeds[0]["description"].splitlines() if line.startswith("• ")]
    assert steps == [f"• Delete the channel #{name} and its messages" for name in CHANNELS]
    await _press(session, preview, "Confirm", session.organiser_id)
    await session.sandbox.settle()
    assert not set(CHANNELS) & set(_channels(session))
    assert "Archive" in _channels(session)  # the archive category serves every partner


async def test_cancel_changes_nothing(session: SandboxSession) -> None:
    await _onboard(session)
    before, records = _channels(session), len(await session.bot.directory.history("chapter", "g0v"))
    preview = await _offboard(session)
    assert await _press(session, preview, "Cancel", session.organiser_id) == "Nothing was changed."
    assert {n: c.parent_id for n, c in _channels(session).items()} == {n: c.parent_id for n, c in before.items()}
    assert session.bot.app.directory.chapters["g0v"].tier == "governing"
    assert len(await session.bot.directory.history("chapter", "g0v")) == records


async def test_a_plain_member_cannot_offboard_nor_confirm(session: SandboxSession) -> None:
    await _onboard(session)
    refused = await _offboard(session, session.member_id)
    assert refused.message.ephemeral and refused.message.content.startswith("Only organisers can do this")
    preview = await _offboard(session)
    outcome = await _press(session, preview, "Confirm", session.member_id)
    assert outcome == "This was opened for someone else: run the command yourself."
    assert ROLE in _channels(session)


async def test_a_chapter_without_a_space_here_is_refused(session: SandboxSession) -> None:
    refused = await _offboard(session)
    assert refused.message.content == f"This server has no space for {ROLE}, so there is nothing to offboard."


async def test_the_chapter_option_offers_the_spaces_of_this_server(session: SandboxSession) -> None:
    await _onboard(session)
    sandbox = session.sandbox
    ask = sandbox.autocomplete
    choices = await ask(
        session.guild_id, session.channel_id, session.organiser_id, "offboard partner", focused="chapter"
    )
    assert [c["value"] for c in choices] == ["g0v"]
    typed = {"chapter": "romania"}
    args = (session.guild_id, session.channel_id, session.organiser_id, "offboard partner", typed)
    assert await ask(*args, focused="chapter") == []


async def test_a_bot_without_manage_channels_is_refused_before_anything(session: SandboxSession) -> None:
    sandbox = session.sandbox
    await _onboard(session)
    bot_role = sandbox.bot_role(session.guild_id)
    guild = sandbox.state.guilds[session.guild_id]
    sandbox.world.update_role(guild, bot_role, {"permissions": str(bot_role.permissions & ~perm.MANAGE_CHANNELS)})
    await sandbox.settle()
    refused = await _offboard(session)
    assert refused.message.content == "I need the Manage Channels permission to offboard a partner."
    assert ROLE in _channels(session)


async def test_a_partner_role_above_the_bots_is_refused(session: SandboxSession) -> None:
    sandbox = session.sandbox
    await _onboard(session)
    guild = sandbox.state.guilds[session.guild_id]
    partner = sandbox.find_role(session.guild_id, ROLE)
    sandbox.world.move_roles(guild, {partner.id: sandbox.bot_role(session.guild_id).position + 1})
    await sandbox.settle()
    refused = await _offboard(session)
    assert refused.message.content == (
        "The partner's role is above my highest role: move my role above it, then try again."
    )


async def test_a_failure_halfway_says_what_was_done_and_a_rerun_finishes(session: SandboxSession) -> None:
    await _onboard(session)
    preview = await _offboard(session)
    # Each channel moves in one PATCH: the second channel's move is refused.
    session.sandbox.inject("PATCH", r"^/channels/\d+$", 403, after=1)
    outcome = await _press(session, preview, "Confirm", session.organiser_id)
    done, not_done = outcome.split("\nNot done:\n")
    assert done.startswith(f"Offboarding {ROLE} stopped: a step failed (403 Forbidden")
    assert done.endswith(f"• Move #tw-announcements into Archive, read-only for @everyone and {ROLE}")
    assert not_done.splitlines()[0] == f"• Move #tw-general into Archive, read-only for @everyone and {ROLE}"
    assert f"• Mark {ROLE} as alumni in the directory (tier Governing partner → Alumni)" in not_done
    assert not_done.endswith("Run /offboard partner again to finish: it does only what is left.")
    await session.sandbox.settle()
    channels = _channels(session)
    assert channels["tw-announcements"].parent_id == channels["Archive"].id
    assert channels["tw-general"].parent_id == channels[ROLE].id
    assert session.bot.app.directory.chapters["g0v"].tier == "governing"
    history = await session.bot.directory.history("chapter", "g0v")
    assert history[0].action == "offboard" and "stopped" in history[0].changes

    retry = await _offboard(session)
    steps = [line for line in retry.message.embeds[0]["description"].splitlines() if line.startswith("• ")]
    assert steps[0] == f"• Move #tw-general into Archive, read-only for @everyone and {ROLE}"
    assert not any("Create the category" in step or "tw-announcements" in step for step in steps)
    assert (await _press(session, retry, "Confirm", session.organiser_id)).startswith(f"Offboarded {ROLE}. Done:")
    await session.sandbox.settle()
    channels = _channels(session)
    assert all(channels[name].parent_id == channels["Archive"].id for name in CHANNELS) and ROLE not in channels
    assert session.bot.app.directory.chapters["g0v"].tier == "alumni"
    again = await _offboard(session)
    assert again.message.content == f"The space of {ROLE} here was archived already: nothing to do."


async def test_offboarding_takes_the_partner_out_of_the_onboarding_question(session: SandboxSession) -> None:
    sandbox = session.sandbox
    bot_role = sandbox.bot_role(session.guild_id)
    guild = sandbox.state.guilds[session.guild_id]
    sandbox.world.update_role(guild, bot_role, {"permissions": str(bot_role.permissions | perm.MANAGE_GUILD)})
    rules = sandbox.create_role(session.guild_id, "Read the rules")
    sandbox.enable_onboarding(
        session.guild_id,
        [{"id": 0, "title": "What brings you here?", "options": [{"title": "Rules", "role_ids": [str(rules.id)]}]}],
    )
    await _onboard(session)

    def offered() -> dict[str, list[str]]:
        prompts = sandbox.onboarding(session.guild_id)["prompts"]
        return {p["title"]: [o["title"] for o in p["options"]] for p in prompts}

    assert offered() == {"What brings you here?": ["Rules"], "Which chapter are you with?": [ROLE]}
    before = {p["title"]: p["id"] for p in sandbox.onboarding(session.guild_id)["prompts"]}

    preview = await _offboard(session)
    steps = preview.message.embeds[0]["description"]
    assert f"• Take {ROLE} out of the Onboarding question “Which chapter are you with?”" in steps
    assert (await _press(session, preview, "Confirm", session.organiser_id)).startswith(f"Offboarded {ROLE}")
    # The question left with no option goes; the others keep their ids (members' answers are kept).
    assert offered() == {"What brings you here?": ["Rules"]}
    assert {p["title"]: p["id"] for p in sandbox.onboarding(session.guild_id)["prompts"]} == {
        "What brings you here?": before["What brings you here?"]
    }
    again = await _offboard(session)
    assert "Take" not in str(again.message.payload)
