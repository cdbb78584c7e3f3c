"""Slash commands, components, modals, autocomplete and callback rules against a real bot."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from bot.sandbox import DriverError
from tests.sandbox.support import Harness

pytestmark = pytest.mark.asyncio


async def test_slash_reply_with_embed_and_components(harness: Harness) -> None:
    sb = harness.sandbox
    result = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "chapter", {"name": "Taiwan"})
    assert result.response_type == 4
    message = result.message
    assert message.content == "Chapter Taiwan"
    assert not message.ephemeral
    assert message.embeds[0]["title"] == "Code for Taiwan"
    assert message.embeds[0]["fields"] == [{"name": "Members", "value": "42", "inline": True}]
    assert [b["label"] for b in message.buttons] == ["Join"]
    assert sb.messages(harness.channel_id)[-1].id == message.id
    channel = harness.bot.get_channel(harness.channel_id)
    assert isinstance(channel, discord.TextChannel)
    fetched = await channel.fetch_message(message.id)
    assert fetched.interaction_metadata is not None
    assert fetched.interaction_metadata.user.id == harness.alice.id


async def test_button_click_edits_the_message(harness: Harness) -> None:
    sb = harness.sandbox
    result = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "chapter", {"name": "Kenya"})
    clicked = await sb.click(result.message, "join", harness.alice.id)
    assert clicked.response_type == 7
    assert clicked.message.id == result.message.id
    assert result.message.content == "alice joined Kenya"
    assert result.message.buttons[0]["disabled"] is True
    with pytest.raises(DriverError, match="disabled"):
        await sb.click(result.message, "join", harness.alice.id)


async def test_select_menu(harness: Harness) -> None:
    sb = harness.sandbox
    result = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "chapter", {"name": "Japan"})
    picked = await sb.select(result.message, "region", ["Europe"], harness.alice.id)
    assert picked.message.content == "Region: eu"
    assert picked.message.ephemeral
    assert picked.message not in sb.messages(harness.channel_id)
    confirmed = await sb.click(picked.message, "confirm", harness.alice.id)
    assert confirmed.message.id == picked.message.id
    assert (confirmed.message.content, confirmed.message.components) == ("Confirmed", [])
    with pytest.raises(DriverError):
        await sb.select(result.message, "region", ["Mars"], harness.alice.id)


async def test_modal_submit(harness: Harness) -> None:
    sb = harness.sandbox
    opened = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "feedback")
    assert opened.response_type == 9
    assert opened.modal is not None and opened.modal["title"] == "Feedback"
    with pytest.raises(DriverError, match="required"):
        await sb.submit_modal(opened, {"details": "no topic"})
    answer = await sb.submit_modal(opened, {"topic": "Open data"}, harness.alice.id)
    assert answer.message.content == "Thanks for your feedback on Open data"
    assert answer.message.ephemeral


async def test_autocomplete_choices(harness: Harness) -> None:
    sb = harness.sandbox
    choices = await sb.autocomplete(
        harness.guild.id, harness.channel_id, harness.alice.id, "chapter", {"name": "tai"}, focused="name"
    )
    assert [c["name"] for c in choices] == ["Taiwan", "Tainan"]


async def test_deferred_then_followups_with_attachment(harness: Harness) -> None:
    sb = harness.sandbox
    result = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "report", {"year": "2024"})
    assert result.response_type == 5 and result.deferred
    first = result.message
    assert first.attachments[0].filename == "chart.png"
    assert first.attachments[0].content_type == "image/png"
    assert first.embeds[0]["image"]["url"].endswith("/chart.png")
    messages = await result.wait_for_messages(2)
    assert messages[1].content == "Details follow" and messages[1].ephemeral
    multipart = [e for e in sb.exchanges if e.route_template == "/webhooks/{webhook_id}/{webhook_token}"]
    assert multipart[0].request_json["attachments"] == [{"id": 0, "filename": "chart.png"}]
    async with aiohttp.ClientSession() as session, session.get(first.attachments[0].url) as response:
        assert response.status == 200
        assert await response.read() == first.attachments[0].data


async def test_subcommand_group_and_typed_options(harness: Harness) -> None:
    sb = harness.sandbox
    result = await sb.slash(
        harness.guild.id,
        harness.channel_id,
        harness.alice.id,
        "project add",
        {"title": "Decidim", "stars": "5", "channel": "#general"},
    )
    assert result.message.content == f"added Decidim (5) <#{harness.channel_id}>"
    with pytest.raises(DriverError, match="missing required"):
        await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "project add", {})
    with pytest.raises(DriverError, match="subcommand"):
        await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "project", {})


async def test_late_callback_is_unknown_interaction(harness: Harness) -> None:
    sb = harness.sandbox
    sb.config.interaction_deadline = 0.0
    result = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "slow")
    assert result.response_type is None
    assert result.errors[0]["code"] == 10062
    assert result.record.answered is None
    error = harness.bot.errors[-1]
    assert isinstance(error, discord.NotFound) and error.code == 10062


async def test_the_record_stamps_when_the_initial_response_arrived(harness: Harness) -> None:
    sb = harness.sandbox
    result = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "report", {"year": "2024"})
    deferred_at = result.record.answered
    assert deferred_at is not None and deferred_at >= result.record.created
    await result.wait_for_messages(2)
    assert result.record.answered == deferred_at  # follow-ups do not move it


async def test_second_callback_is_already_acknowledged(harness: Harness) -> None:
    sb = harness.sandbox
    result = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "chapter", {"name": "Mexico"})
    url = f"{sb.api_base}/interactions/{result.id}/{result.token}/callback"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"type": 4, "data": {"content": "again"}}) as response:
            assert response.status == 400
            assert response.headers["Content-Type"] == "application/json"
            body = await response.json()
        async with session.post(url.replace(result.token, "wrong"), json={"type": 4}) as response:
            assert response.status == 404
            assert (await response.json())["code"] == 10062
    assert body == {"message": "Interaction has already been acknowledged.", "code": 40060}


async def test_attachment_option_is_served_by_the_sandbox(harness: Harness) -> None:
    sb = harness.sandbox
    upload = ("members.csv", b"name,city\ng0v,Taipei\n")
    result = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "upload", {"file": upload})
    assert result.message.content == "members.csv text/csv 21 b'name,'"
    resolved = sb.state.interactions[result.id].data["resolved"]["attachments"]
    assert next(iter(resolved.values()))["url"].startswith(sb.url + "/attachments/")


async def test_an_attachment_named_with_url_characters_is_still_served(harness: Harness) -> None:
    sb = harness.sandbox
    for name in ("plan #2?.txt", "100% <@&1>.txt", "\udb3bodd.txt"):
        result = await sb.slash(
            harness.guild.id, harness.channel_id, harness.alice.id, "upload", {"file": (name, b"hi")}
        )
        assert result.message.content == f"{name} text/plain 2 b'hi'"
