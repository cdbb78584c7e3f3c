"""Direct messages through discord.py: opening the DM channel, sending, nonces, closed DMs and the console."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest

from bot.clock import FakeClock
from bot.sandbox.console import run_console
from tests.sandbox.support import Harness

pytestmark = pytest.mark.asyncio


def member(harness: Harness, user_id: int) -> discord.Member:
    guild = harness.bot.get_guild(harness.guild.id)
    assert guild is not None
    found = guild.get_member(user_id)
    assert found is not None
    return found


async def test_member_send_opens_the_dm_and_stores_the_message(harness: Harness) -> None:
    sb = harness.sandbox
    sent = await member(harness, harness.alice.id).send("Welcome to Code for All!")
    assert isinstance(sent.channel, discord.DMChannel)
    assert sent.channel.recipient is not None and sent.channel.recipient.id == harness.alice.id
    assert sent.guild is None and sent.author.id == sb.state.bot_id
    opened = [e for e in sb.exchanges if e.route_template == "/users/@me/channels"]
    assert [(e.status, e.request_json) for e in opened] == [(200, {"recipient_id": harness.alice.id})]
    assert opened[0].response_json["type"] == 1
    assert [u["id"] for u in opened[0].response_json["recipients"]] == [str(harness.alice.id)]
    dm = sb.dm_channel(harness.alice.id)
    assert dm is not None and dm.id == sent.channel.id
    user = await harness.bot.fetch_user(harness.alice.id)
    again = await user.send("See you at the summit")
    assert again.channel.id == dm.id
    assert [m.content for m in sb.dm_messages(harness.alice.id)] == [
        "Welcome to Code for All!",
        "See you at the summit",
    ]
    reopened = await harness.bot.http.start_private_message(harness.alice.id)
    assert reopened["id"] == str(dm.id) and reopened["last_message_id"] == str(again.id)
    await sb.settle()
    created = [d.data for d in sb.dispatches if d.event == "MESSAGE_CREATE" and d.data["channel_id"] == str(dm.id)]
    assert len(created) == 2 and all("guild_id" not in d and "member" not in d for d in created)
    assert {m.id for m in harness.bot.cached_messages} >= {sent.id, again.id}


async def test_the_bot_reads_edits_and_deletes_its_own_dms(harness: Harness) -> None:
    sb = harness.sandbox
    sent = await member(harness, harness.alice.id).send("Draft")
    channel = sent.channel
    assert isinstance(channel, discord.DMChannel)
    edited = await sent.edit(content="Final")
    assert edited.content == "Final" and edited.edited_at is not None
    assert (await channel.fetch_message(sent.id)).content == "Final"
    assert [m.content async for m in channel.history(limit=10)] == ["Final"]
    fetched = await harness.bot.fetch_channel(channel.id)
    assert isinstance(fetched, discord.DMChannel) and fetched.recipient is not None
    with pytest.raises(discord.Forbidden) as refused:
        await sent.publish()
    assert refused.value.code == 50003
    await sent.delete()
    assert sb.dm_messages(harness.alice.id) == []


@pytest.mark.sandbox(clock=FakeClock())
async def test_a_dm_nonce_is_enforced_like_in_guild_channels(harness: Harness) -> None:
    sb = harness.sandbox
    channel = await member(harness, harness.alice.id).create_dm()
    first = await channel.send("Your summit starts tomorrow", nonce="reminder-3")
    again = await channel.send("Your summit starts tomorrow", nonce="reminder-3")
    assert again.id == first.id
    assert sb.exchanges[-1].request_json["enforce_nonce"] is True
    assert len(sb.dm_messages(harness.alice.id)) == 1


async def test_closed_dms_answer_50007_though_the_channel_opens(harness: Harness) -> None:
    sb = harness.sandbox
    sb.close_dms(harness.alice.id)
    with pytest.raises(discord.Forbidden) as refused:
        await member(harness, harness.alice.id).send("Hello?")
    assert (refused.value.status, refused.value.code) == (403, 50007)
    assert sb.exchanges[-1].response_json == {"message": "Cannot send messages to this user", "code": 50007}
    opened = [e.status for e in sb.exchanges if e.route_template == "/users/@me/channels"]
    assert opened == [200] and sb.dm_channel(harness.alice.id) is not None
    assert sb.dm_messages(harness.alice.id) == []
    sb.open_dms(harness.alice.id)
    await member(harness, harness.alice.id).send("Hello again")
    assert [m.content for m in sb.dm_messages(harness.alice.id)] == ["Hello again"]


async def test_unknown_users_strangers_and_bots_cannot_be_messaged(harness: Harness) -> None:
    sb = harness.sandbox
    with pytest.raises(discord.NotFound) as unknown:
        await harness.bot.http.start_private_message(4242)
    assert unknown.value.code == 10013
    stranger = sb.create_user("stranger")
    helper = sb.world.create_user("helper bot", bot=True)
    sb.add_member(harness.guild.id, helper.id)
    for user_id in (stranger.id, helper.id):
        channel = await (await harness.bot.fetch_user(user_id)).create_dm()
        with pytest.raises(discord.Forbidden) as refused:
            await channel.send("Hi")
        assert refused.value.code == 50007


async def test_a_command_dms_the_member_who_ran_it(harness: Harness) -> None:
    sb = harness.sandbox
    waiting = asyncio.create_task(sb.wait_for_dm(harness.alice.id))
    result = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "remind", {"text": "Submit talks"})
    assert result.message.content == "sent"
    assert (await waiting).content == "Submit talks"
    first = sb.dm_messages(harness.alice.id)[0]
    await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "remind", {"text": "Book travel"})
    assert (await sb.wait_for_dm(harness.alice.id, after=first.id)).content == "Book travel"
    sb.close_dms(harness.alice.id)
    refused = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "remind", {"text": "x"})
    assert refused.message.content == "forbidden 50007"


async def test_the_console_prints_the_bots_dms_to_whoever_types(harness: Harness) -> None:
    sb = harness.sandbox
    bob = sb.create_user("bob")
    sb.add_member(harness.guild.id, bob.id)
    await sb.settle()
    await member(harness, bob.id).send("For bob only")
    out = io.StringIO()
    lines = ["/remind text: Summit registration closes Friday", "quit"]
    await run_console(sb, harness.guild.id, harness.channel_id, harness.alice.id, lines=lines, out=out)
    text = out.getvalue()
    assert "[DM]\nSummit registration closes Friday" in text
    assert "For bob only" not in text


async def test_a_button_pressed_in_a_dm_arrives_with_a_user_and_no_guild(harness: Harness) -> None:
    sb = harness.sandbox
    seen: list[discord.Interaction] = []

    class Ask(discord.ui.View):
        @discord.ui.button(label="Ask", custom_id="ask")
        async def ask(self, interaction: discord.Interaction, button: discord.ui.Button[Ask]) -> None:
            seen.append(interaction)
            await interaction.response.send_message("Asked", ephemeral=True)

    await member(harness, harness.alice.id).send("Questions?", view=Ask())
    [sent] = sb.dm_messages(harness.alice.id)
    answer = await sb.click(sent, "ask", harness.alice.id)
    assert answer.message.content == "Asked" and answer.message.ephemeral
    [interaction] = seen
    assert interaction.guild is None and isinstance(interaction.channel, discord.DMChannel)
    assert isinstance(interaction.user, discord.User) and interaction.user.id == harness.alice.id
    stranger = sb.create_user("bob")
    with pytest.raises(Exception, match="not the recipient"):
        await sb.click(sent, "ask", stranger.id)
