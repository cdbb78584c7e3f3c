"""Organiser announcements through the sandbox: form, preview, schedule, restart, and every refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import load_settings
from bot.offline import SandboxSession, start_session
from bot.sandbox import InteractionResult, Sandbox
from bot.sandbox import permissions as perm
from bot.sandbox.state import CHANNEL_ANNOUNCEMENT, FLAG_CROSSPOSTED

# 2027-03-27 12:00 UTC: the day before Europe/Bucharest moves its clocks forward (03:00 → 04:00 on the 28th).
START = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


async def _announce(
    session: SandboxSession, options: dict[str, object], *, user_id: int | None = None
) -> InteractionResult:
    return await session.sandbox.slash(
        session.guild_id, session.channel_id, user_id or session.organiser_id, "announce new", options
    )


async def _preview(session: SandboxSession, options: dict[str, object], title: str, body: str) -> InteractionResult:
    form = await _announce(session, options)
    assert form.modal is not None, form.message.content
    return await session.sandbox.submit_modal(form, {"title": title, "body": body}, session.organiser_id)


def _button(result: InteractionResult, custom_id: str) -> str:
    return next(b["custom_id"] for b in result.message.buttons if b["custom_id"] == custom_id)


def _bot_posts(session: SandboxSession, channel_id: int) -> list[object]:
    bot_id = session.sandbox.state.bot_id
    return [m for m in session.sandbox.messages(channel_id) if m.author_id == bot_id and not m.ephemeral]


async def _tick(session: SandboxSession) -> None:
    await session.bot.dispatcher.idle()  # a run the bell started may be sending still
    await session.bot.dispatcher.run()


async def test_a_scheduled_announcement_survives_a_restart_and_posts_once_at_the_instant(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    settings = load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path)
    first = await start_session(settings, clock=clock)
    news = first.sandbox.create_channel(first.guild_id, "news", CHANNEL_ANNOUNCEMENT)
    # 2027-03-28 09:00 in Bucharest is 06:00 UTC: after the clocks moved forward (EEST, UTC+3).
    options = {"channel": news.id, "when": "2027-03-28 09:00", "timezone": "Europe/Bucharest"}
    preview = await _preview(first, options, "Summit @everyone", "See you there")
    assert preview.message.ephemeral and "Europe/Bucharest" in preview.message.content
    assert preview.message.embeds[0]["title"] == "Summit @everyone"
    confirmed = await first.sandbox.click(preview.message, _button(preview, "announce:confirm"), first.organiser_id)
    assert "is scheduled" in confirmed.message.content
    await _tick(first)
    assert _bot_posts(first, news.id) == []
    await first.stop()

    due = datetime(2027, 3, 28, 6, 0, tzinfo=UTC)
    clock.set(due - timedelta(seconds=1))
    second = await start_session(settings, sandbox=Sandbox(first.sandbox.state), clock=clock)
    organiser = (first.guild_id, first.channel_id, first.organiser_id)
    try:
        listed = await second.sandbox.slash(*organiser, "announce list")
        assert "Summit" in listed.message.content and f"<t:{int(due.timestamp())}:F>" in listed.message.content
        await _tick(second)
        assert _bot_posts(second, news.id) == []
        clock.set(due)
        await _tick(second)
        await _tick(second)
        [post] = _bot_posts(second, news.id)
        assert post.embeds[0]["title"] == "Summit @everyone" and post.flags & FLAG_CROSSPOSTED
        posts = [
            e for e in second.sandbox.exchanges if e.method == "POST" and e.path == f"/channels/{news.id}/messages"
        ]
        assert [e.request_json["allowed_mentions"] for e in posts] == [{"parse": []}]
        listed = await second.sandbox.slash(*organiser, "announce list")
        assert "No announcement is scheduled" in listed.message.content
    finally:
        await second.stop()


async def test_an_announcement_now_to_several_channels_mentions_only_its_role(session: SandboxSession) -> None:
    sandbox = session.sandbox
    other = sandbox.create_channel(session.guild_id, "other")
    volunteers = sandbox.create_role(session.guild_id, "volunteers")
    sandbox.state.guilds[session.guild_id].roles[volunteers.id].mentionable = True
    options = {"channel": session.channel_id, "also_in": other.id, "role": volunteers.id}
    preview = await _preview(session, options, "Call for help", "@here we need you")
    assert f"<@&{volunteers.id}>" in preview.message.content
    await sandbox.click(preview.message, _button(preview, "announce:confirm"), session.organiser_id)
    await _tick(session)
    for channel_id in (session.channel_id, other.id):
        [post] = _bot_posts(session, channel_id)
        assert post.payload["mention_roles"] == [str(volunteers.id)] and post.content == f"<@&{volunteers.id}>"


async def test_edit_changes_the_preview_and_cancel_posts_nothing(session: SandboxSession) -> None:
    sandbox = session.sandbox
    preview = await _preview(session, {"channel": session.channel_id}, "Draft", "first words")
    form = await sandbox.click(preview.message, _button(preview, "announce:edit"), session.organiser_id)
    assert form.modal is not None
    edited = await sandbox.submit_modal(form, {"title": "Better", "body": "second words"}, session.organiser_id)
    assert edited.message.embeds[0]["title"] == "Better"
    cancelled = await sandbox.click(edited.message, _button(edited, "announce:cancel"), session.organiser_id)
    assert "nothing was posted" in cancelled.message.content
    await _tick(session)
    assert _bot_posts(session, session.channel_id) == []


async def test_only_its_organiser_can_use_a_preview(session: SandboxSession) -> None:
    sandbox = session.sandbox
    preview = await _preview(session, {"channel": session.channel_id}, "Mine", "")
    other = await sandbox.click(preview.message, _button(preview, "announce:confirm"), session.member_id)
    assert other.message.ephemeral and "Only organisers" in other.message.content
    await _tick(session)
    assert _bot_posts(session, session.channel_id) == []


async def test_a_scheduled_announcement_can_be_cancelled(session: SandboxSession, clock: FakeClock) -> None:
    sandbox = session.sandbox
    preview = await _preview(session, {"channel": session.channel_id, "when": "2027-04-01 10:00"}, "Later", "")
    await sandbox.click(preview.message, _button(preview, "announce:confirm"), session.organiser_id)
    listed = await sandbox.slash(session.guild_id, session.channel_id, session.organiser_id, "announce list")
    number = int(listed.message.content.split("**")[1])
    choices = await sandbox.autocomplete(
        session.guild_id, session.channel_id, session.organiser_id, "announce cancel", focused="number"
    )
    assert [c["value"] for c in choices] == [number]
    stopped = await sandbox.slash(
        session.guild_id, session.channel_id, session.organiser_id, "announce cancel", {"number": number}
    )
    assert "Cancelled announcement" in stopped.message.content
    again = await sandbox.slash(
        session.guild_id, session.channel_id, session.organiser_id, "announce cancel", {"number": number}
    )
    assert "no scheduled announcement" in again.message.content
    clock.set(datetime(2027, 4, 2, tzinfo=UTC))
    await _tick(session)
    assert _bot_posts(session, session.channel_id) == []


async def test_the_server_time_zone_is_the_default(session: SandboxSession) -> None:
    sandbox = session.sandbox
    saved = await sandbox.slash(
        session.guild_id, session.channel_id, session.organiser_id, "settings timezone", {"timezone": "Asia/Taipei"}
    )
    assert "Asia/Taipei" in saved.message.content
    zones = await sandbox.autocomplete(
        session.guild_id,
        session.channel_id,
        session.organiser_id,
        "settings timezone",
        {"timezone": "taip"},
        focused="timezone",
    )
    assert [c["value"] for c in zones] == ["Asia/Taipei"]
    preview = await _preview(session, {"channel": session.channel_id, "when": "2027-03-28 09:00"}, "Taipei", "")
    assert "Asia/Taipei" in preview.message.content
    assert f"<t:{int(datetime(2027, 3, 28, 1, 0, tzinfo=UTC).timestamp())}:F>" in preview.message.content


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"when": "2027-03-27 11:00", "timezone": "UTC"}, "already past"),
        ({"when": "2027-04-01 10:00", "timezone": "Europe/Atlantis"}, "not a time zone I know"),
        ({"when": "2027-02-30 10:00"}, "not a date and time that exists"),
        ({"when": "2027-03-28 03:30", "timezone": "Europe/Bucharest"}, "the clocks skip that hour"),
        ({"when": "next tuesday"}, "YYYY-MM-DD HH:MM"),
        ({"when": "2029-01-01 10:00"}, "at most a year ahead"),
    ],
)
async def test_bad_times_are_refused_before_the_form(
    session: SandboxSession, options: dict[str, object], expected: str
) -> None:
    result = await _announce(session, {"channel": session.channel_id, **options})
    assert result.modal is None and result.message.ephemeral
    assert expected in result.message.content


async def test_a_channel_the_bot_cannot_post_in_is_refused(session: SandboxSession) -> None:
    sandbox = session.sandbox
    locked = sandbox.create_channel(session.guild_id, "locked")
    sandbox.set_overwrite(locked.id, sandbox.bot_role(session.guild_id).id, deny=perm.SEND_MESSAGES)
    result = await _announce(session, {"channel": locked.id})
    assert result.modal is None and "I cannot post in" in result.message.content
    refused = await sandbox.slash(
        session.guild_id,
        session.channel_id,
        session.organiser_id,
        "settings organisers-channel",
        {"channel": locked.id},
    )
    assert "I cannot post in" in refused.message.content
    assert (await session.bot.guild_settings.get(session.guild_id)).organisers_channel_id is None


async def test_a_plain_member_cannot_announce(session: SandboxSession) -> None:
    result = await _announce(session, {"channel": session.channel_id}, user_id=session.member_id)
    assert result.modal is None and "Only organisers" in result.message.content
    listed = await session.sandbox.slash(session.guild_id, session.channel_id, session.member_id, "announce list")
    assert "Only organisers" in listed.message.content


async def test_everyone_is_not_a_role_to_mention(session: SandboxSession) -> None:
    result = await _announce(session, {"channel": session.channel_id, "role": session.guild_id})
    assert result.modal is None and "never ping @everyone" in result.message.content


async def test_an_over_long_title_is_refused_and_nothing_is_saved(session: SandboxSession) -> None:
    form = await _announce(session, {"channel": session.channel_id})
    result = await session.sandbox.submit_modal(form, {"title": "   ", "body": "x"}, session.organiser_id)
    assert "needs a title" in result.message.content
    assert await session.bot.app.announcements.scheduled(session.guild_id) == []
