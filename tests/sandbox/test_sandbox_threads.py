"""Forum channels, threads and announcement channels, driven through the real discord.py client."""

from __future__ import annotations

import io

import discord
import pytest

from bot.sandbox.permissions import (
    CREATE_PRIVATE_THREADS,
    CREATE_PUBLIC_THREADS,
    MANAGE_MESSAGES,
    MANAGE_THREADS,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
)
from bot.sandbox.state import FLAG_CROSSPOSTED, FLAG_HAS_THREAD
from tests.sandbox.support import Harness, tiny_png
from tests.sandbox.test_sandbox_rest import raw

pytestmark = pytest.mark.asyncio


def guild_of(harness: Harness) -> discord.Guild:
    guild = harness.bot.get_guild(harness.guild.id)
    assert guild is not None
    return guild


async def forum_channel(harness: Harness, channel_id: int) -> discord.ForumChannel:
    await harness.sandbox.settle()
    channel = harness.bot.get_channel(channel_id)
    assert isinstance(channel, discord.ForumChannel)
    return channel


async def text_channel(harness: Harness, channel_id: int) -> discord.TextChannel:
    await harness.sandbox.settle()
    channel = harness.bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_a_forum_post_is_a_thread_with_its_first_message_and_tags(harness: Harness) -> None:
    sb = harness.sandbox
    forum = await forum_channel(harness, sb.create_forum(harness.guild.id, "Blog posts", ["news", "events"]).id)
    assert [tag.name for tag in forum.available_tags] == ["news", "events"]
    news = forum.get_tag(sb.tag_ids(forum.id)["news"])
    assert news is not None
    embed = discord.Embed(title="A new post", url="https://example.org/post")
    post = await forum.create_thread(name="A new post", content="Read it", embed=embed, applied_tags=[news])
    assert post.thread.id == post.message.id and post.message.channel.id == post.thread.id
    assert post.thread.type is discord.ChannelType.public_thread and post.thread.parent_id == forum.id
    assert post.thread.applied_tags == [news] and post.thread.owner_id == harness.bot.user.id  # type: ignore[union-attr]
    assert [t.id for t in sb.threads(forum.id)] == [post.thread.id]
    assert [m.content for m in sb.messages(post.thread.id)] == ["Read it"]
    events = [name for name, _ in sb.dispatches]
    assert events.index("THREAD_CREATE") < len(events) - 1 - events[::-1].index("MESSAGE_CREATE")
    await sb.settle()
    assert guild_of(harness).get_thread(post.thread.id) is not None
    reply = await post.thread.send("And a follow-up")
    assert reply.channel.id == post.thread.id
    assert [m.content for m in sb.messages(post.thread.id)] == ["Read it", "And a follow-up"]
    fetched = await guild_of(harness).fetch_channel(post.thread.id)
    assert isinstance(fetched, discord.Thread) and fetched.message_count == 1
    await sb.drop_gateway(resume=False)
    await sb.settle()
    known = guild_of(harness).get_thread(post.thread.id)
    assert known is not None and known.parent_id == forum.id and known.applied_tags == [news]
    chart = discord.File(io.BytesIO(tiny_png()), "chart.png")
    with_file = await forum.create_thread(name="With a chart", content="See the chart", file=chart)
    assert [a.filename for a in with_file.message.attachments] == ["chart.png"]
    sb.set_overwrite(forum.id, sb.bot_role(harness.guild.id).id, deny=MANAGE_THREADS)
    with pytest.raises(discord.Forbidden):
        await with_file.thread.delete()
    sb.set_overwrite(forum.id, sb.bot_role(harness.guild.id).id)
    await with_file.thread.delete()
    await sb.settle()
    assert [t.id for t in sb.threads(forum.id)] == [post.thread.id]
    assert guild_of(harness).get_thread(with_file.thread.id) is None


async def test_forum_refusals(harness: Harness) -> None:
    sb = harness.sandbox
    strict = await forum_channel(harness, sb.create_forum(harness.guild.id, "Strict", ["news"], require_tag=True).id)
    with pytest.raises(discord.HTTPException) as untagged:
        await strict.create_thread(name="No tag", content="x")
    assert (untagged.value.status, untagged.value.code) == (400, 40067)
    status, body, _ = await raw(
        sb,
        "POST",
        f"/channels/{strict.id}/threads",
        {"name": "Bad tag", "message": {"content": "x"}, "applied_tags": ["1"]},
    )
    assert (status, body["code"]) == (400, 50035) and "applied_tags" in body["errors"]
    status, body, _ = await raw(sb, "POST", f"/channels/{strict.id}/threads", {"name": "No message"})
    assert (status, body["code"]) == (400, 50035) and "message" in body["errors"]
    status, body, _ = await raw(sb, "POST", f"/channels/{strict.id}/messages", {"content": "straight in"})
    assert (status, body["code"]) == (400, 40058)
    assert sb.threads(strict.id) == []


async def test_discord_py_creates_and_edits_forums(harness: Harness) -> None:
    guild = guild_of(harness)
    forum = await guild.create_forum("Chapters blog", available_tags=[discord.ForumTag(name="taiwan")])
    await harness.sandbox.settle()
    assert [t.name for t in forum.available_tags] == ["taiwan"]
    tags = [*forum.available_tags, discord.ForumTag(name="romania")]
    edited = await forum.edit(available_tags=tags, require_tag=True)
    assert [t.name for t in edited.available_tags] == ["taiwan", "romania"]
    assert edited.available_tags[0].id == forum.available_tags[0].id and edited.flags.require_tag
    with pytest.raises(discord.HTTPException) as too_many:
        await forum.edit(available_tags=[discord.ForumTag(name=f"tag {i}") for i in range(21)])
    assert too_many.value.code == 50035
    with pytest.raises(discord.HTTPException) as too_long:
        await guild.create_forum("Long tags", available_tags=[discord.ForumTag(name="x" * 21)])
    assert too_long.value.code == 50035


async def test_text_channel_threads_from_a_message_and_without_one(harness: Harness) -> None:
    sb = harness.sandbox
    channel = await text_channel(harness, harness.channel_id)
    message = await channel.send("Summit in May")
    thread = await message.create_thread(name="Summit chat")
    assert thread.id == message.id and thread.type is discord.ChannelType.public_thread
    assert sb.state.messages[message.id].flags & FLAG_HAS_THREAD
    updated = [d.data for d in sb.dispatches if d.event == "MESSAGE_UPDATE" and d.data["id"] == str(message.id)]
    assert updated and updated[-1]["thread"]["id"] == str(thread.id)
    with pytest.raises(discord.HTTPException) as again:
        await message.create_thread(name="Twice")
    assert again.value.code == 160004
    with pytest.raises(discord.Forbidden) as no_private:
        await channel.create_thread(name="Organisers")
    assert no_private.value.code == 50013
    sb.set_overwrite(channel.id, sb.bot_role(harness.guild.id).id, allow=CREATE_PRIVATE_THREADS)
    private = await channel.create_thread(name="Organisers")
    public = await channel.create_thread(name="Everyone", type=discord.ChannelType.public_thread)
    assert private.type is discord.ChannelType.private_thread and public.type is discord.ChannelType.public_thread
    await public.send("hello thread")
    assert [m.content for m in sb.messages(public.id)] == ["hello thread"]
    assert [t.id for t in sb.threads(channel.id)] == [thread.id, private.id, public.id]
    news = await text_channel(harness, sb.create_announcement_channel(harness.guild.id, "News").id)
    posted = await news.send("Published")
    announcement_thread = await posted.create_thread(name="Comments")
    assert announcement_thread.type is discord.ChannelType.news_thread
    with pytest.raises(discord.HTTPException) as wrong_type:
        await news.create_thread(name="x", type=discord.ChannelType.public_thread)
    assert wrong_type.value.code == 50035


async def test_thread_permissions(harness: Harness) -> None:
    sb = harness.sandbox
    bot_role = sb.bot_role(harness.guild.id).id
    channel = await text_channel(harness, harness.channel_id)
    thread = await (await channel.send("start")).create_thread(name="Talk")
    sb.set_overwrite(channel.id, bot_role, allow=SEND_MESSAGES, deny=SEND_MESSAGES_IN_THREADS | CREATE_PUBLIC_THREADS)
    with pytest.raises(discord.Forbidden) as in_thread:
        await thread.send("not allowed")
    assert in_thread.value.code == 50013
    message = await channel.send("still allowed in the channel")
    with pytest.raises(discord.Forbidden) as create:
        await message.create_thread(name="no")
    assert create.value.code == 50013
    forum = await forum_channel(harness, sb.create_forum(harness.guild.id, "Quiet").id)
    sb.set_overwrite(forum.id, bot_role, deny=SEND_MESSAGES)
    with pytest.raises(discord.Forbidden) as post:
        await forum.create_thread(name="no", content="no")
    assert post.value.code == 50013
    sb.set_overwrite(forum.id, bot_role, deny=VIEW_CHANNEL)
    with pytest.raises(discord.Forbidden) as hidden:
        await forum.create_thread(name="no", content="no")
    assert hidden.value.code == 50001
    member_thread = sb.start_thread(harness.channel_id, harness.alice.id, "Alice's thread")
    sb.send_message(member_thread.id, harness.alice.id, "hi from alice")
    assert [m.content for m in sb.messages(member_thread.id)] == ["hi from alice"]


async def test_announcement_channels_need_a_community_guild(harness: Harness) -> None:
    sb = harness.sandbox
    guild = guild_of(harness)
    news = await guild.create_text_channel("Press", news=True)
    assert news.is_news()
    sb.state.guilds[guild.id].features.remove("NEWS")
    with pytest.raises(discord.HTTPException) as refused:
        await guild.create_text_channel("More press", news=True)
    assert refused.value.code == 50035
    with pytest.raises(discord.HTTPException):
        await (await text_channel(harness, harness.channel_id)).edit(type=discord.ChannelType.news)


async def test_crossposting(harness: Harness) -> None:
    sb = harness.sandbox
    news = await text_channel(harness, sb.create_announcement_channel(harness.guild.id, "Announcements").id)
    mine = await news.send("Registrations open")
    await mine.publish()
    assert sb.state.messages[mine.id].flags & FLAG_CROSSPOSTED
    updates = [d.data for d in sb.dispatches if d.event == "MESSAGE_UPDATE" and d.data["id"] == str(mine.id)]
    assert updates[-1]["flags"] & FLAG_CROSSPOSTED
    assert (await news.fetch_message(mine.id)).flags.crossposted
    with pytest.raises(discord.HTTPException) as twice:
        await mine.publish()
    assert twice.value.code == 40033
    plain = await (await text_channel(harness, harness.channel_id)).send("not news")
    with pytest.raises(discord.HTTPException) as wrong_channel:
        await plain.publish()
    assert wrong_channel.value.code == 50024
    theirs = sb.send_message(news.id, harness.alice.id, "member post")
    sb.set_overwrite(news.id, sb.bot_role(harness.guild.id).id, deny=MANAGE_MESSAGES)
    foreign = await news.fetch_message(theirs.id)
    with pytest.raises(discord.Forbidden) as refused:
        await foreign.publish()
    assert refused.value.code == 50013
    sb.set_overwrite(news.id, sb.bot_role(harness.guild.id).id)
    await foreign.publish()
    assert sb.state.messages[theirs.id].flags & FLAG_CROSSPOSTED


async def test_editing_archiving_and_locking_threads(harness: Harness) -> None:
    sb = harness.sandbox
    bot_role = sb.bot_role(harness.guild.id).id
    channel = await text_channel(harness, harness.channel_id)
    thread = await (await channel.send("Minutes")).create_thread(name="Minutes")
    renamed = await thread.edit(name="Minutes of May", archived=True)
    assert renamed.name == "Minutes of May" and renamed.archived
    assert any(name == "THREAD_UPDATE" for name, _ in sb.dispatches)
    with pytest.raises(discord.HTTPException) as archived:
        await renamed.edit(name="Again")
    assert archived.value.code == 50083
    await renamed.send("Reopening")
    assert not sb.state.channels[thread.id].thread.archived  # type: ignore[union-attr]
    locked = await renamed.edit(archived=True, locked=True)
    sb.set_overwrite(channel.id, bot_role, deny=MANAGE_THREADS)
    with pytest.raises(discord.HTTPException) as closed:
        await locked.send("Nope")
    assert closed.value.code == 50083
    with pytest.raises(discord.Forbidden):
        await locked.edit(archived=False, locked=False)
    sb.set_overwrite(channel.id, bot_role)
    await locked.send("Moderators may")
    forum = await forum_channel(harness, sb.create_forum(harness.guild.id, "Posts", ["news", "events"]).id)
    post = await forum.create_thread(name="Post", content="x")
    events = forum.get_tag(sb.tag_ids(forum.id)["events"])
    assert events is not None
    retagged = await post.thread.edit(applied_tags=[events])
    assert retagged.applied_tags == [events]
