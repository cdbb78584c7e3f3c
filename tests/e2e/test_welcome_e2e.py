"""Newcomers through the sandbox, on a clock the test moves: welcomed once, a chapter picked by menu or by name
and its role given, moved, kept across restarts; tips on their days that stop when the member leaves; /privacy."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.config import load_settings
from bot.directory.records import ChapterRecord, ImportBatch
from bot.offline import SandboxSession, start_session
from bot.sandbox import InteractionResult, Sandbox, SentMessage
from bot.sandbox import permissions as perm
from bot.sandbox.state import Message
from bot.summits.events import EventDraft
from bot.welcome.service import WelcomeService

START = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
G0V = "g0v (Code for Taiwan)"
ROMANIA = "Code for Romania"
STALE = "This button is no longer valid: run the command again."


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


async def _tick(session: SandboxSession) -> None:
    await session.bot.dispatcher.idle()
    await session.bot.dispatcher.run()


async def _at(session: SandboxSession, clock: FakeClock, when: datetime) -> None:
    clock.set(when)
    await _tick(session)


def _bot_posts(session: SandboxSession, channel_id: int) -> list[SentMessage]:
    bot_id = session.sandbox.state.bot_id
    return [m for m in session.sandbox.messages(channel_id) if m.author_id == bot_id and not m.ephemeral]


def _welcomes(session: SandboxSession, user: int, channel_id: int | None = None) -> list[SentMessage]:
    return [m for m in _bot_posts(session, channel_id or session.channel_id) if f"<@{user}>" in m.content]


async def _join(session: SandboxSession, name: str = "mei", *, locale: str = "en-US") -> int:
    """A user joins; returns once the bot posted its welcome in the system channel."""
    user = session.sandbox.create_user(name, locale=locale).id
    session.sandbox.add_member(session.guild_id, user)
    await session.sandbox.wait_for_message(session.channel_id, author_id=session.sandbox.state.bot_id)
    await _tick(session)
    return user


def _button(message: SentMessage, label: str) -> str:
    return next(b["custom_id"] for b in message.buttons if b.get("label") == label)


async def _press(session: SandboxSession, message: SentMessage, label: str, user: int) -> InteractionResult:
    return await session.sandbox.click(message, _button(message, label), user)


async def _answer(result: InteractionResult) -> SentMessage:
    [answer] = await result.wait_until_answered()
    assert answer.ephemeral
    return answer


async def _pick(session: SandboxSession, welcome: SentMessage, user: int, region: str, chapter: str) -> SentMessage:
    menu = await _press(session, welcome, "Pick your chapter", user)
    assert menu.message.ephemeral, menu.message.content
    [regions] = menu.message.selects
    chapters = await session.sandbox.select(menu.message, regions["custom_id"], [region], user)
    [listed] = chapters.message.selects
    return await _answer(await session.sandbox.select(chapters.message, listed["custom_id"], [chapter], user))


async def _type(session: SandboxSession, welcome: SentMessage, user: int, name: str) -> SentMessage:
    menu = await _press(session, welcome, "Pick your chapter", user)
    opened = await _press(session, menu.message, "Type a name", user)
    assert opened.modal is not None, opened.message.content
    return await _answer(await session.sandbox.submit_modal(opened, {"name": name}, user))


def _roles(session: SandboxSession, user: int) -> set[str]:
    guild = session.sandbox.state.guilds[session.guild_id]
    return {guild.roles[role].name for role in guild.members[user].roles}


def _named(session: SandboxSession, name: str) -> int:
    return sum(role.name == name for role in session.sandbox.state.guilds[session.guild_id].roles.values())


def _watch(service: WelcomeService, method: str, monkeypatch: pytest.MonkeyPatch) -> asyncio.Queue[Any]:
    """What each call of the service's `method` (made by the bot's event handlers) returns, in order."""
    seen: asyncio.Queue[Any] = asyncio.Queue()
    original = getattr(service, method)

    async def watched(*args: Any) -> Any:
        done = await original(*args)
        seen.put_nowait(done)
        return done

    monkeypatch.setattr(service, method, watched)
    return seen


async def test_a_newcomer_is_welcomed_and_picks_a_region_then_a_chapter(session: SandboxSession) -> None:
    mei = await _join(session)
    [welcome] = _welcomes(session, mei)
    assert welcome.content.startswith(f"Welcome to **Code for All**, <@{mei}>!")
    assert [b["label"] for b in welcome.buttons] == ["Pick your chapter", "Rules", "Browse projects", "Ask a question"]
    sent = [e.request_json for e in session.sandbox.exchanges if e.method == "POST" and e.path.endswith("/messages")]
    assert [body["allowed_mentions"] for body in sent] == [{"parse": [], "users": [mei]}]

    answer = await _pick(session, welcome, mei, "Europe", ROMANIA)
    role = session.sandbox.find_role(session.guild_id, ROMANIA)
    assert answer.content == f"Welcome to {ROMANIA}! You have its role <@&{role.id}> now."
    card, doing = answer.embeds
    assert card["title"].startswith(ROMANIA) and doing["title"] == f"What {ROMANIA} is up to"
    assert "**Coming up**\nNo event of this chapter is coming up." in doing["description"]
    assert "**Projects**\n• Asylum seeker integration tools · Active" in doing["description"]
    assert ROMANIA in _roles(session, mei)
    assert role.permissions == 0 and not role.mentionable
    assert role.position < session.sandbox.bot_role(session.guild_id).position
    assert await session.bot.app.welcome.picked(session.guild_id, mei) == "code4romania"


async def test_a_typed_name_forgives_a_typo_and_a_second_pick_moves_the_role(session: SandboxSession) -> None:
    mei = await _join(session)
    [welcome] = _welcomes(session, mei)
    await _pick(session, welcome, mei, "Asia", G0V)
    moved = await _type(session, welcome, mei, "code4romaina")
    romania = session.sandbox.find_role(session.guild_id, ROMANIA)
    assert moved.content == (
        f"You moved to {ROMANIA}: you have its role <@&{romania.id}> now, and no longer the role of {G0V}."
    )
    assert ROMANIA in _roles(session, mei) and G0V not in _roles(session, mei)
    again = await _type(session, welcome, mei, "Code for Romania")
    assert again.content == f"You are in {ROMANIA} already, with its role <@&{romania.id}>."
    menu = await _press(session, welcome, "Pick your chapter", mei)
    assert menu.message.content.startswith(f"You are in {ROMANIA} now: picking another chapter moves you.")
    unknown = await _type(session, welcome, mei, "Atlantis Civic Lab")
    assert unknown.content.startswith("No chapter matches “Atlantis Civic Lab”.")
    assert _named(session, ROMANIA) == 1 and _named(session, G0V) == 1


async def test_a_chapter_role_is_made_once_and_again_when_deleted_by_hand(session: SandboxSession) -> None:
    mei, tom = await _join(session, "mei"), await _join(session, "tom")
    await _pick(session, _welcomes(session, mei)[0], mei, "Asia", G0V)
    await _pick(session, _welcomes(session, tom)[0], tom, "Asia", G0V)
    assert _named(session, G0V) == 1
    guild = session.sandbox.state.guilds[session.guild_id]
    session.sandbox.world.delete_role(guild, session.sandbox.find_role(session.guild_id, G0V))
    await session.sandbox.settle()
    await _type(session, _welcomes(session, tom)[0], tom, "g0v")
    assert _named(session, G0V) == 1 and G0V in _roles(session, tom)


async def test_a_region_of_more_than_25_chapters_turns_pages(session: SandboxSession) -> None:
    towns = [f"Civic Lab {i:02}" for i in range(30)]
    chapters = tuple(ChapterRecord(key=f"lab-{i:02}", name=name, region="Oceania") for i, name in enumerate(towns))
    await session.bot.directory.import_batch(ImportBatch(chapters=chapters), actor_name="test")
    mei = await _join(session)
    menu = await _press(session, _welcomes(session, mei)[0], "Pick your chapter", mei)
    oceania = next(o for o in menu.message.selects[0]["options"] if o["label"] == "Oceania")
    assert oceania["description"] == "31 chapters"
    first = await session.sandbox.select(menu.message, menu.message.selects[0]["custom_id"], ["Oceania"], mei)
    assert first.message.content == "Chapters in Oceania: pick yours. Page 1 of 2."
    assert len(first.message.selects[0]["options"]) == 25
    second = await _press(session, first.message, "Next ▶", mei)
    assert second.message.content.endswith("Page 2 of 2.")
    options = [o["label"] for o in second.message.selects[0]["options"]]
    assert options == [*towns[25:], "Code for Australia"]
    answer = await _answer(
        await session.sandbox.select(second.message, second.message.selects[0]["custom_id"], ["Civic Lab 29"], mei)
    )
    assert answer.content.startswith("Welcome to Civic Lab 29!") and "Civic Lab 29" in _roles(session, mei)


async def test_tips_arrive_on_their_days_and_stop_when_the_member_leaves(
    session: SandboxSession, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    left = _watch(session.bot.app.welcome, "leave", monkeypatch)
    mei, tom = await _join(session, "mei"), await _join(session, "tom")
    assert session.sandbox.dm_messages(mei) == []
    await _at(session, clock, START + timedelta(days=1) - timedelta(seconds=1))
    assert session.sandbox.dm_messages(mei) == []
    await _at(session, clock, START + timedelta(days=1))
    [tip] = session.sandbox.dm_messages(mei)
    assert tip.content.startswith("A tip from Code for All: `/chapter` shows any chapter")
    assert tip.content.endswith("You get these tips because you joined Code for All. `/privacy forget` stops them.")
    session.sandbox.remove_member(session.guild_id, mei)
    assert await asyncio.wait_for(left.get(), 5) == 2  # the tips of days 3 and 7
    for day in (3, 7):
        await _at(session, clock, START + timedelta(days=day))
    assert len(session.sandbox.dm_messages(mei)) == 1
    assert [m.content.split(":")[1].split("`")[1] for m in session.sandbox.dm_messages(tom)] == [
        "/chapter",
        "/projects",
        "/summits list",
    ]


async def test_a_member_who_takes_no_direct_messages_troubles_no_organiser(
    session: SandboxSession, clock: FakeClock
) -> None:
    organisers = session.sandbox.create_channel(session.guild_id, "organisers")
    organiser = (session.guild_id, session.channel_id, session.organiser_id)
    await session.sandbox.slash(*organiser, "settings organisers-channel", {"channel": organisers.id})
    mei = session.sandbox.create_user("mei").id
    session.sandbox.close_dms(mei)
    session.sandbox.add_member(session.guild_id, mei)
    await session.sandbox.wait_for_message(session.channel_id, author_id=session.sandbox.state.bot_id)
    await _at(session, clock, START + timedelta(days=8))
    refused = [e.status for e in session.sandbox.exchanges if e.method == "POST" and e.path.endswith("/messages")]
    assert refused.count(403) == 3  # the three tips were tried
    assert session.sandbox.dm_messages(mei) == [] and _bot_posts(session, organisers.id) == []


async def test_the_welcome_goes_by_direct_message_or_nowhere(session: SandboxSession) -> None:
    organiser = (session.guild_id, session.channel_id, session.organiser_id)
    saved = await session.sandbox.slash(*organiser, "settings welcome", {"where": "By direct message"})
    assert "Welcome: by direct message" in saved.message.content
    mei = session.sandbox.create_user("mei").id
    session.sandbox.add_member(session.guild_id, mei)
    welcome = await session.sandbox.wait_for_dm(mei)
    assert welcome.content.startswith("Welcome to **Code for All**") and len(welcome.buttons) == 4
    assert _button(welcome, "Pick your chapter") == f"wl:pick:{session.guild_id}"

    await session.sandbox.slash(*organiser, "settings welcome", {"where": "Nowhere", "tips": False})
    tom = session.sandbox.create_user("tom").id
    session.sandbox.add_member(session.guild_id, tom)
    await session.sandbox.slash(*organiser, "settings welcome", {"reset": True})
    await _join(session, "ann")
    assert _welcomes(session, tom) == [] and session.sandbox.dm_messages(tom) == []
    shown = await session.sandbox.slash(*organiser, "settings welcome")
    assert "Welcome: in the system channel" in shown.message.content
    assert "Welcome tips by direct message: on, days 1, 3, 7" in shown.message.content


async def test_rules_projects_and_questions_are_answered_privately(session: SandboxSession) -> None:
    mei = await _join(session)
    [welcome] = _welcomes(session, mei)
    rules = await _press(session, welcome, "Rules", mei)
    assert rules.message.ephemeral and "has not given me its rules" in rules.message.content
    organiser = (session.guild_id, session.channel_id, session.organiser_id)
    await session.sandbox.slash(*organiser, "settings welcome", {"rules": "Be kind. No @everyone."})
    assert (await _press(session, welcome, "Rules", mei)).message.content == "Be kind. No @everyone."
    projects = await _press(session, welcome, "Browse projects", mei)
    assert projects.message.ephemeral and projects.message.embeds[0]["title"] == "Projects"
    pages = await session.sandbox.click(projects.message, projects.message.buttons[1]["custom_id"], mei)
    assert pages.message.embeds[0]["footer"]["text"].startswith("Page 2/")
    asked = await _press(session, welcome, "Ask a question", mei)
    assert asked.message.ephemeral and "`/summits list`" in asked.message.content


async def test_the_welcome_is_sent_once_and_still_works_after_a_restart(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(START)
    settings = load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path)
    first = await start_session(settings, clock=clock)
    try:
        mei = await _join(first)
    finally:
        await first.stop()
    second = await start_session(settings, sandbox=Sandbox(first.sandbox.state), clock=clock)
    try:
        arrivals = _watch(second.bot.app.welcome, "arrive", monkeypatch)
        guild = second.sandbox.state.guilds[first.guild_id]
        # A restarted process has not cached her (members are not chunked at start-up): replay her join to it.
        cached = second.bot.get_guild(guild.id)
        assert cached is not None and cached.get_member(mei) is None
        replayed = {**second.sandbox.state.member_payload(guild, guild.members[mei]), "guild_id": str(guild.id)}
        second.sandbox.gateway.dispatch("GUILD_MEMBER_ADD", replayed, guild_id=guild.id)
        assert await asyncio.wait_for(arrivals.get(), 5) is False
        await _tick(second)
        [welcome] = _welcomes(second, mei, first.channel_id)
        answer = await _pick(second, welcome, mei, "Europe", ROMANIA)
        assert answer.content.startswith(f"Welcome to {ROMANIA}!")
        assert ROMANIA in {guild.roles[role].name for role in guild.members[mei].roles}
    finally:
        await second.stop()


def _old_message(session: SandboxSession, component: dict[str, Any]) -> Message:
    state = session.sandbox.state
    message = Message(
        state.next_id(),
        session.channel_id,
        session.guild_id,
        state.bot_id,
        components=[{"type": 1, "components": [component]}],
        application_id=state.application_id,
    )
    return session.sandbox.world.create_message(message)


@pytest.mark.parametrize(
    ("kind", "custom_id", "expected"),
    [
        ("button", "wl:pick:1234567", STALE),  # another guild's welcome
        ("button", "wl:nothing:{guild}", STALE),  # no such action
        ("button", "wl:page:{guild}:9:0", "This menu is no longer valid: press Pick your chapter again."),
        (
            "select",
            "wl:chapter:{guild}:1:0",
            "That chapter is no longer in the directory: press Pick your chapter again.",
        ),
        ("select", "wl:region:{guild}", "This menu is no longer valid: press Pick your chapter again."),
    ],
)
async def test_a_forged_component_gets_a_sentence(
    session: SandboxSession, kind: str, custom_id: str, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    custom_id = custom_id.format(guild=session.guild_id)
    if kind == "button":
        message = _old_message(session, {"type": 2, "style": 2, "label": "Pick", "custom_id": custom_id})
        result = await session.sandbox.click(message, custom_id, session.member_id)
    else:
        options = [{"label": "Forged", "value": "9"}]
        message = _old_message(session, {"type": 3, "custom_id": custom_id, "options": options})
        result = await session.sandbox.select(message, custom_id, ["Forged"], session.member_id)
    [answer] = await result.wait_until_answered()
    assert answer.ephemeral and answer.content == expected
    await session.sandbox.settle()
    assert len(result.messages) == 1 and not result.errors
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_organisers_map_a_chapter_to_an_existing_role_and_members_cannot(session: SandboxSession) -> None:
    sandbox, guild_id = session.sandbox, session.guild_id
    friends = sandbox.create_role(guild_id, "Taiwan friends")
    mods = sandbox.create_role(guild_id, "Helpers", permissions=perm.MANAGE_MESSAGES)
    await sandbox.settle()
    organiser, member = (
        (guild_id, session.channel_id, session.organiser_id),
        (guild_id, session.channel_id, session.member_id),
    )
    refused = await sandbox.slash(*member, "welcome map-role", {"chapter": "g0v", "role": friends.id})
    assert refused.message.content.startswith("Only organisers can do this")
    helpers = await sandbox.slash(*organiser, "welcome map-role", {"chapter": "g0v", "role": mods.id})
    assert helpers.message.content.startswith("Helpers grants permissions beyond those of @everyone")
    mapped = await sandbox.slash(*organiser, "welcome map-role", {"chapter": "g0v", "role": friends.id})
    assert mapped.message.content == f"Members who pick {G0V} get <@&{friends.id}>."
    mei = await _join(session)
    await _type(session, _welcomes(session, mei)[0], mei, "g0v")
    assert "Taiwan friends" in _roles(session, mei) and _named(session, G0V) == 0
    reset = await sandbox.slash(*organiser, "welcome map-role", {"chapter": "g0v", "reset": True})
    assert reset.message.content == f"Members who pick {G0V} get a role I make for it."


async def test_an_organiser_posts_the_panel_for_members_already_in(session: SandboxSession) -> None:
    organiser = (session.guild_id, session.channel_id, session.organiser_id)
    posted = await session.sandbox.slash(*organiser, "welcome panel")
    assert not posted.message.ephemeral and len(posted.message.buttons) == 4
    answer = await _type(session, posted.message, session.member_id, "code4.ro")
    assert answer.content.startswith(f"Welcome to {ROMANIA}!")


async def test_privacy_shows_and_forgets_what_is_stored(session: SandboxSession, clock: FakeClock) -> None:
    mei = await _join(session)
    await _pick(session, _welcomes(session, mei)[0], mei, "Asia", G0V)
    events = session.bot.app.events
    starts = START + timedelta(days=10)
    event = await events.add(
        EventDraft(
            session.guild_id, session.organiser_id, "UTC", starts, starts + timedelta(hours=2), name="Hack Night"
        )
    )
    dm = session.sandbox.dm_channel(mei)
    assert dm is not None
    await events.follow(session.guild_id, event.id, mei, dm.id, "en-US")

    me = (session.guild_id, session.channel_id, mei)
    shown = await session.sandbox.slash(*me, "privacy show")
    assert shown.message.ephemeral
    lines = shown.message.content.splitlines()
    assert lines[0] == "What I store about you:"
    assert lines[1].startswith(f"• your chapter in Code for All: {G0V}, picked on <t:")
    assert lines[2].startswith("• that you joined Code for All on <t:")
    assert lines[3].startswith("• a reminder of Hack Night (<t:")
    assert sum(line.startswith("• a tip from Code for All") for line in lines) == 3

    asked = await session.sandbox.slash(*me, "privacy forget")
    assert asked.message.content.startswith("This deletes everything I store about you")
    done = await session.sandbox.click(asked.message, _button(asked.message, "Confirm"), mei)
    assert done.message.content == (
        "Done. I deleted your chapter picks (1), the joins I welcomed (1) and your event reminders (1), "
        "and cancelled the tips still to come (3)."
    )
    assert (await session.sandbox.slash(*me, "privacy show")).message.content == "I store nothing about you."
    assert not await events.follows(event.id, mei)
    await _at(session, clock, starts)
    assert session.sandbox.dm_messages(mei) == []


async def test_privacy_is_for_everyone_and_forget_is_cancelled_by_cancel(session: SandboxSession) -> None:
    ana = (session.guild_id, session.channel_id, session.member_id)
    assert (await session.sandbox.slash(*ana, "privacy forget")).message.content == "I store nothing about you."
    mei = await _join(session)
    me = (session.guild_id, session.channel_id, mei)
    asked = await session.sandbox.slash(*me, "privacy forget")
    kept = await session.sandbox.click(asked.message, _button(asked.message, "Cancel"), mei)
    assert kept.message.content == "Nothing was changed."
    assert (await session.bot.app.welcome.kept(mei)).tips


async def test_answers_follow_the_members_language_and_the_welcome_the_servers(session: SandboxSession) -> None:
    organiser = (session.guild_id, session.channel_id, session.organiser_id)
    await session.sandbox.slash(*organiser, "settings language", {"language": "pl"})
    kasia = session.sandbox.create_user("kasia", locale="de").id
    session.sandbox.add_member(session.guild_id, kasia)
    welcome = await session.sandbox.wait_for_message(session.channel_id, author_id=session.sandbox.state.bot_id)
    await _tick(session)
    assert welcome.content.startswith("Witaj na **Code for All**")
    assert welcome.buttons[0]["label"] == "Wybierz swój oddział"
    menu = await session.sandbox.click(welcome, welcome.buttons[0]["custom_id"], kasia)
    assert menu.message.content == "Wo ist dein Kapitel? Wähle seine Region oder tippe seinen Namen."
    opened = await session.sandbox.click(menu.message, menu.message.buttons[0]["custom_id"], kasia)
    assert opened.modal is not None and opened.modal["title"] == "Dein Kapitel"
    answer = await _answer(await session.sandbox.submit_modal(opened, {"name": "code4romania"}, kasia))
    assert answer.content.startswith(f"Willkommen bei {ROMANIA}!")


async def test_the_welcome_buttons_work_in_a_direct_message(
    session: SandboxSession, caplog: pytest.LogCaptureFixture
) -> None:
    organiser = (session.guild_id, session.channel_id, session.organiser_id)
    await session.sandbox.slash(*organiser, "settings welcome", {"where": "By direct message"})
    mei = session.sandbox.create_user("mei").id
    session.sandbox.add_member(session.guild_id, mei)
    welcome = await session.sandbox.wait_for_dm(mei)
    rules = await _answer(await _press(session, welcome, "Rules", mei))
    assert "has not given me its rules" in rules.content
    projects = await _press(session, welcome, "Browse projects", mei)
    assert projects.message.embeds[0]["title"] == "Projects"
    assert "`/summits list`" in (await _answer(await _press(session, welcome, "Ask a question", mei))).content
    answer = await _pick(session, welcome, mei, "Europe", ROMANIA)
    assert answer.content.startswith(f"Welcome to {ROMANIA}!")
    guild = session.sandbox.state.guilds[session.guild_id]
    assert ROMANIA in {guild.roles[role].name for role in guild.members[mei].roles}
    typed = await _type(session, welcome, mei, "g0v")
    assert typed.content.startswith(f"You moved to {G0V}")
    session.sandbox.remove_member(session.guild_id, mei)
    await session.sandbox.settle()
    gone = await _answer(await _press(session, welcome, "Pick your chapter", mei))
    assert "not a member" in gone.content or "no longer" in gone.content, gone.content
    assert "incident" not in caplog.text.lower()
