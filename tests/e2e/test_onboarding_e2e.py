"""Onboarding a partner through the sandbox: exactly the planned space, private, once; refused or rolled back
cleanly when Discord or the bot's rights say no."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.offline import SandboxSession
from bot.sandbox import DriverError, InteractionResult
from bot.sandbox import permissions as perm
from bot.sandbox.permissions import channel_permissions
from tests.feeds_server import Entry, FeedServer, Route, rss

CHANNELS = ["tw-general", "tw-projects", "tw-announcements", "tw-voice"]
ROLE = "g0v (Code for Taiwan)"


async def _onboard(session: SandboxSession, user: int, **options: object) -> InteractionResult:
    options = {k: v for k, v in {"chapter": "g0v", "short_name": "tw", **options}.items() if v is not None}
    return await session.sandbox.slash(session.guild_id, session.channel_id, user, "onboard partner", options)


async def _press(session: SandboxSession, preview: InteractionResult, label: str, user: int) -> str:
    button = next(b for b in preview.message.buttons if b["label"] == label)
    edited = asyncio.ensure_future(session.sandbox.wait_for_edit(preview.message))
    clicked = await session.sandbox.click(preview.message, button["custom_id"], user)
    if not clicked.deferred:
        edited.cancel()
        return clicked.message.content
    return (await edited).content


def _names(session: SandboxSession) -> list[str]:
    return sorted(c.name for c in session.sandbox.state.guilds[session.guild_id].channels.values())


async def test_onboarding_creates_the_private_space_once(session: SandboxSession) -> None:
    sandbox = session.sandbox
    mei = sandbox.create_user("mei").id
    sandbox.add_member(session.guild_id, mei)
    await sandbox.settle()
    before = _names(session)

    preview = await _onboard(session, session.organiser_id, representative=str(mei))
    assert preview.message.ephemeral
    embed = preview.message.embeds[0]
    assert embed["title"] == f"Onboard {ROLE}"
    assert [f["name"] for f in embed["fields"]][2:6] == [
        "#tw-general (create)",
        "#tw-projects (create)",
        "#tw-announcements (create)",
        "🔊tw-voice (create)",
    ]
    assert _names(session) == before  # nothing until Confirm

    outcome = await _press(session, preview, "Confirm", session.organiser_id)
    assert outcome.startswith(f"Onboarded {ROLE}: created role, category, channel:general")
    await sandbox.settle()
    guild = sandbox.state.guilds[session.guild_id]
    role = sandbox.find_role(session.guild_id, ROLE)
    assert role.permissions == 0 and not role.mentionable
    category = next(c for c in guild.channels.values() if c.name == ROLE and c.type == 4)
    made = {c.name: c for c in guild.channels.values() if c.parent_id == category.id}
    assert sorted(made) == sorted(CHANNELS)
    for channel in made.values():
        assert not channel_permissions(guild, channel, session.member_id) & perm.VIEW_CHANNEL
        assert channel_permissions(guild, channel, mei) & perm.VIEW_CHANNEL
    assert not channel_permissions(guild, made["tw-announcements"], mei) & perm.SEND_MESSAGES
    assert channel_permissions(guild, made["tw-general"], mei) & perm.SEND_MESSAGES
    assert role.id in guild.members[mei].roles

    again = await _onboard(session, session.organiser_id)
    assert all(f["name"].endswith("(keep)") for f in again.message.embeds[0]["fields"][:6])
    outcome = await _press(session, again, "Confirm", session.organiser_id)
    assert outcome == f"{ROLE} was already onboarded: nothing new was created."
    assert len(_names(session)) == len(before) + 5
    history = await session.bot.directory.history("chapter", "g0v")
    assert history[0].action == "onboard" and history[0].actor_name == "you"


async def test_a_plain_member_cannot_onboard_nor_confirm(session: SandboxSession) -> None:
    refused = await _onboard(session, session.member_id)
    assert refused.message.ephemeral and refused.message.content.startswith("Only organisers can do this")
    preview = await _onboard(session, session.organiser_id)
    outcome = await _press(session, preview, "Confirm", session.member_id)
    assert outcome == "This was opened for someone else: run the command yourself."
    assert "tw-general" not in _names(session)


async def test_cancel_changes_nothing(session: SandboxSession) -> None:
    before = _names(session)
    preview = await _onboard(session, session.organiser_id)
    assert await _press(session, preview, "Cancel", session.organiser_id) == "Nothing was changed."
    assert _names(session) == before


async def test_a_403_on_the_third_channel_leaves_nothing_half_made(session: SandboxSession) -> None:
    before = _names(session)
    roles_before = len(session.sandbox.state.guilds[session.guild_id].roles)
    preview = await _onboard(session, session.organiser_id)
    # POST /guilds/{id}/channels makes the category, then the channels: the fourth call is the third channel.
    session.sandbox.inject("POST", r"^/guilds/\d+/channels$", 403, after=3)
    outcome = await _press(session, preview, "Confirm", session.organiser_id)
    assert outcome.startswith(f"Onboarding {ROLE} stopped: Discord refused a step")
    assert "I removed what this run had created (channel:projects, channel:general, category, role)" in outcome
    await session.sandbox.settle()
    assert _names(session) == before
    assert len(session.sandbox.state.guilds[session.guild_id].roles) == roles_before

    retry = await _onboard(session, session.organiser_id)
    assert (await _press(session, retry, "Confirm", session.organiser_id)).startswith(f"Onboarded {ROLE}")
    await session.sandbox.settle()
    assert len(_names(session)) == len(before) + 5


async def test_a_bot_without_manage_roles_is_refused_before_anything(session: SandboxSession) -> None:
    sandbox = session.sandbox
    bot_role = sandbox.bot_role(session.guild_id)
    guild = sandbox.state.guilds[session.guild_id]
    sandbox.world.update_role(guild, bot_role, {"permissions": str(bot_role.permissions & ~perm.MANAGE_ROLES)})
    await sandbox.settle()
    before = _names(session)
    refused = await _onboard(session, session.organiser_id)
    assert refused.message.content == "I need the Manage Roles permission to onboard a partner."
    assert _names(session) == before


async def test_a_partner_role_above_the_bots_is_refused(session: SandboxSession) -> None:
    sandbox = session.sandbox
    preview = await _onboard(session, session.organiser_id)
    await _press(session, preview, "Confirm", session.organiser_id)
    await sandbox.settle()
    guild = sandbox.state.guilds[session.guild_id]
    partner = sandbox.find_role(session.guild_id, ROLE)
    sandbox.world.move_roles(guild, {partner.id: sandbox.bot_role(session.guild_id).position + 1})
    await sandbox.settle()
    refused = await _onboard(session, session.organiser_id)
    assert refused.message.content == (
        "The partner's role is above my highest role: move my role above it, then try again."
    )


def _ics() -> str:
    day = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y%m%d")
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//g0v//Calendar//EN\r\nBEGIN:VEVENT\r\nUID:hack@g0v.tw\r\n"
        f"DTSTAMP:20270101T000000Z\r\nDTSTART:{day}T100000Z\r\nDTEND:{day}T120000Z\r\n"
        "SUMMARY:g0v hackath0n\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


async def _taiwan_with_feed_and_calendar(session: SandboxSession, feeds_server: FeedServer) -> None:
    feeds_server.feed("/g0v.xml", rss([Entry("g0v-1", "Hackath0n 60", "https://g0v.tw/60")], title="g0v blog"))
    feeds_server.route("/g0v.ics", Route(body=_ics().encode(), content_type="text/calendar"))
    values = {"feed_url": feeds_server.url("/g0v.xml"), "events_url": feeds_server.url("/g0v.ics")}
    await session.bot.directory.edit_chapter("g0v", values, actor_id=None, actor_name="test")


def _onboarding_on(session: SandboxSession) -> None:
    sandbox = session.sandbox
    bot_role = sandbox.bot_role(session.guild_id)
    guild = sandbox.state.guilds[session.guild_id]
    sandbox.world.update_role(guild, bot_role, {"permissions": str(bot_role.permissions | perm.MANAGE_GUILD)})
    rules = sandbox.create_role(session.guild_id, "Read the rules")
    sandbox.enable_onboarding(
        session.guild_id,
        [{"id": 0, "title": "What brings you here?", "options": [{"title": "Rules", "role_ids": [str(rules.id)]}]}],
    )


async def test_the_partner_is_welcomed_and_follows_its_feed_calendar_and_onboarding_once(
    session: SandboxSession, feeds_server: FeedServer
) -> None:
    sandbox = session.sandbox
    await _taiwan_with_feed_and_calendar(session, feeds_server)
    _onboarding_on(session)
    network = sandbox.create_announcement_channel(session.guild_id, "network-news")
    await sandbox.settle()
    organiser = (session.guild_id, session.channel_id, session.organiser_id)
    saved = await sandbox.slash(*organiser, "settings announcements-channel", {"channel": str(network.id)})
    assert f"Announcements channel (new partners are introduced there): <#{network.id}>" in saved.message.content

    preview = await _onboard(session, session.organiser_id)
    also = preview.message.embeds[0]["fields"][-1]
    assert also["name"] == "Also"
    assert also["value"].splitlines() == [
        f"• Post a welcome introducing {ROLE} in <#{network.id}>.",
        f"• Follow the chapter's blog feed <{feeds_server.url('/g0v.xml')}> in #tw-announcements.",
        f"• Follow the chapter's calendar <{feeds_server.url('/g0v.ics')}> in this server's events.",
        f"• Add {ROLE} as an option of the Onboarding prompt “Which chapter are you with?”.",
    ]
    outcome = await _press(session, preview, "Confirm", session.organiser_id)
    assert outcome.splitlines()[1:] == [
        f"Posting a welcome introducing {ROLE} in <#{network.id}>.",
        f"Following the blog feed <{feeds_server.url('/g0v.xml')}> in #tw-announcements.",
        f"Following the calendar <{feeds_server.url('/g0v.ics')}> in this server's events.",
        f"Added {ROLE} to the Onboarding prompt “Which chapter are you with?”.",
    ]
    await session.bot.dispatcher.idle()
    await session.bot.dispatcher.run()
    [welcome] = [m for m in sandbox.messages(network.id) if m.author_id == sandbox.state.bot_id]
    assert welcome.embeds[0]["title"] == f"Welcome, {ROLE}!" and welcome.embeds[0]["url"] == "https://g0v.tw"
    announcements = sandbox.find_channel(session.guild_id, "tw-announcements")
    [subscription] = await session.bot.app.feeds.subscriptions(session.guild_id)
    assert subscription.channel_id == announcements.id
    assert [c.url for c in await session.bot.app.calendars.followed(session.guild_id)] == [feeds_server.url("/g0v.ics")]
    assert [e.name for e in session.bot.app.events.upcoming(session.guild_id)] == ["g0v hackath0n"]
    role = sandbox.find_role(session.guild_id, ROLE)
    board = sandbox.onboarding(session.guild_id)
    assert [p["title"] for p in board["prompts"]] == ["What brings you here?", "Which chapter are you with?"]
    assert board["prompts"][1]["options"][0]["role_ids"] == [str(role.id)] and board["enabled"]
    first_ids = [(p["id"], [o["id"] for o in p["options"]]) for p in board["prompts"]]

    again = await _onboard(session, session.organiser_id)
    assert all(line.startswith("✓ ") for line in again.message.embeds[0]["fields"][-1]["value"].splitlines())
    outcome = await _press(session, again, "Confirm", session.organiser_id)
    assert outcome.splitlines()[0] == f"{ROLE} was already onboarded: nothing new was created."
    assert f"#tw-announcements follows the blog feed <{feeds_server.url('/g0v.xml')}> already." in outcome
    assert len(await session.bot.app.feeds.subscriptions(session.guild_id)) == 1
    assert len(await session.bot.app.calendars.followed(session.guild_id)) == 1
    assert [(p["id"], [o["id"] for o in p["options"]]) for p in sandbox.onboarding(session.guild_id)["prompts"]] == (
        first_ids
    )
    await session.bot.dispatcher.idle()
    await session.bot.dispatcher.run()
    assert len([m for m in sandbox.messages(network.id) if m.author_id == sandbox.state.bot_id]) == 1
    history = await session.bot.directory.history("chapter", "g0v")
    assert history[0].action == "onboard"  # the first run's record; the second did nothing to record
    assert {"welcome", "feed", "calendar", "prompt"} <= set(history[0].changes)


async def test_a_second_partner_joins_the_same_prompt_and_a_refused_step_keeps_the_space(
    session: SandboxSession, feeds_server: FeedServer
) -> None:
    _onboarding_on(session)
    await _press(session, await _onboard(session, session.organiser_id), "Confirm", session.organiser_id)
    sandbox = session.sandbox
    preview = await sandbox.slash(
        session.guild_id, session.channel_id, session.organiser_id, "onboard partner", {"chapter": "Code for Romania"}
    )
    assert "“Which chapter are you with?”" in preview.message.embeds[0]["fields"][-1]["value"]
    sandbox.inject("PUT", r"^/guilds/\d+/onboarding$", 403)
    outcome = await _press(session, preview, "Confirm", session.organiser_id)
    assert outcome.startswith("Onboarded Code for Romania: created role")
    assert "⚠ The Onboarding option failed: 403 Forbidden" in outcome
    await sandbox.settle()
    assert "code4romania-general" in _names(session)
    retry = await _onboard(session, session.organiser_id, chapter="Code for Romania", short_name=None)
    assert "Added Code for Romania to the Onboarding prompt" in await _press(
        session, retry, "Confirm", session.organiser_id
    )
    [prompt] = [p for p in sandbox.onboarding(session.guild_id)["prompts"] if p["title"].startswith("Which")]
    assert [o["title"] for o in prompt["options"]] == [ROLE, "Code for Romania"]


async def test_cancel_with_extras_changes_nothing(session: SandboxSession, feeds_server: FeedServer) -> None:
    await _taiwan_with_feed_and_calendar(session, feeds_server)
    _onboarding_on(session)
    before = (_names(session), session.sandbox.onboarding(session.guild_id))
    preview = await _onboard(session, session.organiser_id)
    assert await _press(session, preview, "Cancel", session.organiser_id) == "Nothing was changed."
    assert (_names(session), session.sandbox.onboarding(session.guild_id)) == before
    assert await session.bot.app.feeds.subscriptions(session.guild_id) == []
    assert await session.bot.app.calendars.followed(session.guild_id) == []


async def test_a_new_chapter_is_added_to_the_directory_on_confirm(
    session: SandboxSession, feeds_server: FeedServer
) -> None:
    feeds_server.feed("/nepal.xml", rss([Entry("np-1", "Hello", "https://codefornepal.org/1")]))
    new = {
        "new_name": "Code for Nepal",
        "short_name": "np",
        "country": "np",
        "tier": "affiliate",
        "website": "https://codefornepal.org",
        "feed": feeds_server.url("/nepal.xml"),
    }
    preview = await _onboard(session, session.organiser_id, chapter=None, **new)
    assert preview.message.embeds, preview.message.content
    assert preview.message.embeds[0]["title"] == "Onboard Code for Nepal"
    assert "Code for Nepal" not in {c.name for c in session.bot.directory.list_chapters()}  # not before Confirm
    outcome = await _press(session, preview, "Confirm", session.organiser_id)
    assert outcome.startswith("Onboarded Code for Nepal: created role")
    assert "Following the blog feed" in outcome
    nepal = session.bot.directory.find_chapter("Code for Nepal")
    assert (nepal.country, nepal.tier, nepal.short_name) == ("NP", "affiliate", "np")
    history = await session.bot.directory.history("chapter", nepal.key)
    assert [h.action for h in history] == ["onboard", "create"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"new_name": "Code for Nepal", "short_name": "!!!"}, "“!!!” makes no channel name"),
        ({"new_name": "g0v (Code for Taiwan)", "short_name": "tw2"}, "already names the chapter g0v (Code for Taiwan)"),
        ({"chapter": "g0v", "new_name": "Code for Nepal"}, "Give either a chapter from the directory"),
        ({"short_name": "tw"}, "Give either a chapter from the directory"),
        ({"chapter": "g0v", "country": "TW"}, "Country, tier, website, feed and calendar describe a new chapter"),
        ({"new_name": "Code for Nepal", "website": "not a url"}, "Website 'not a url' is not an http(s) address"),
    ],
)
async def test_bad_input_gets_a_sentence_and_changes_nothing(
    session: SandboxSession, options: dict[str, object], expected: str
) -> None:
    before = _names(session)
    refused = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.organiser_id, "onboard partner", options
    )
    assert refused.message.ephemeral and expected in refused.message.content, refused.message.content
    assert _names(session) == before
    assert "Code for Nepal" not in {c.name for c in session.bot.directory.list_chapters()}


async def test_a_name_over_discords_limit_is_refused_by_the_option(session: SandboxSession) -> None:
    with pytest.raises(DriverError):
        await _onboard(session, session.organiser_id, chapter=None, new_name="x" * 101)


async def test_a_short_name_another_partners_channels_use_is_refused(session: SandboxSession) -> None:
    await _press(session, await _onboard(session, session.organiser_id), "Confirm", session.organiser_id)
    await session.sandbox.settle()
    before = _names(session)
    refused = await _onboard(session, session.organiser_id, chapter="Code for Romania")
    assert refused.message.content == "#tw-general already exists in this server: choose another short name."
    assert _names(session) == before


async def test_a_representative_who_is_a_bot_or_not_a_member_is_refused(session: SandboxSession) -> None:
    sandbox = session.sandbox
    stranger = sandbox.create_user("stranger").id
    refused = await _onboard(session, session.organiser_id, representative=str(stranger))
    assert refused.message.ephemeral and "member" in refused.message.content, refused.message.content
    bot = await _onboard(session, session.organiser_id, representative=str(sandbox.state.bot_id))
    assert bot.message.content == "Representatives must be people, not bots."
