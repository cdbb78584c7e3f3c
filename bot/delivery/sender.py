"""The one module that posts to channels: a delivery's message with its nonce, then its crosspost or thread.

Every message goes out with `allowed_mentions` that parse nothing (no @everyone, no user or role pings from
text), except the one role and the one member a payload names. discord.py sends `enforce_nonce` with every nonce,
so a resend of the same delivery inside Discord's nonce window returns the message the first attempt created. A
forum post takes no nonce, so a later attempt first looks for the post an earlier one made.
"""

from __future__ import annotations

from collections.abc import Awaitable

import aiohttp
import discord

from bot.delivery.dispatcher import Outgoing
from bot.delivery.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from bot.delivery.outbox import MAX_THREAD_NAME, Payload
from bot.text import truncate

ALREADY_CROSSPOSTED = 40033
THREAD_ALREADY_CREATED = 160004
ARCHIVED_LOOKBACK = 50
"""How many of a forum's most recently archived posts a redelivery looks through for the post it made."""


def allowed_mentions(payload: Payload) -> discord.AllowedMentions:
    """Nothing may ping, except the role and the member the payload names."""
    roles: list[discord.Object] | bool = [discord.Object(payload.mention_role_id)] if payload.mention_role_id else False
    users: list[discord.Object] | bool = [discord.Object(payload.mention_user_id)] if payload.mention_user_id else False
    return discord.AllowedMentions(everyone=False, users=users, roles=roles, replied_user=False)


def buttons_view(payload: Payload) -> discord.ui.View | None:
    """The payload's buttons laid out in a view discord.py does not listen to: their persistent items answer."""
    if not payload.buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in payload.buttons:
        view.add_item(
            discord.ui.Button(
                style=discord.ButtonStyle(button.get("style", discord.ButtonStyle.secondary.value)),
                label=button.get("label"),
                custom_id=button["custom_id"],
            )
        )
    view.stop()  # a stopped view is sent but not stored: the DynamicItem registered for the ids handles presses
    return view


def classify(error: Exception) -> DeliveryError:
    """Retry rate limits, server errors and network trouble; give up on everything else Discord refuses."""
    if isinstance(error, discord.RateLimited):
        return TransientDeliveryError("rate limited", retry_after=error.retry_after)
    if isinstance(error, discord.HTTPException):
        if error.status == 429 or error.status >= 500:
            return TransientDeliveryError(f"Discord answered {error.status}")
        return PermanentDeliveryError(error.text or f"Discord answered {error.status}", code=error.code)
    return TransientDeliveryError(f"network error: {error}")


class DiscordSender:
    """Posts deliveries with a discord.py client."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def post(self, item: Outgoing) -> int:
        """Post the message (a new forum post in a forum channel) and return its id."""
        payload = item.payload
        embeds = [discord.Embed.from_dict(embed) for embed in payload.embeds]
        try:
            channel = await self._channel(item)
            if isinstance(channel, discord.ForumChannel):
                name = truncate(
                    payload.thread_name or (embeds[0].title if embeds and embeds[0].title else payload.content),
                    MAX_THREAD_NAME,
                )
                # A forum post takes no nonce: after an attempt that may have made it, look for it first.
                earlier = await self._forum_post(channel, name, payload) if item.attempt > 1 else None
                if earlier is not None:
                    return earlier
                made = await channel.create_thread(
                    name=name,
                    content=payload.content or None,
                    embeds=embeds,
                    allowed_mentions=allowed_mentions(payload),
                )
                return made.message.id
            if not isinstance(channel, discord.abc.Messageable):
                raise PermanentDeliveryError("not a channel messages can be posted in", code=50024)
            message = await channel.send(
                payload.content or None,
                embeds=embeds,
                allowed_mentions=allowed_mentions(payload),
                nonce=item.nonce,
                view=buttons_view(payload) or discord.utils.MISSING,
            )
            return message.id
        except (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError) as error:
            raise classify(error) from error

    async def post_direct(self, user: discord.User | discord.Member, content: str) -> int:
        """Send a member a direct message now, in answer to something they just asked; returns the DM channel's id.

        Raises PermanentDeliveryError with Discord's code (50007 when the member does not accept direct messages).
        """
        try:
            channel = user.dm_channel or await user.create_dm()
            await channel.send(content, allowed_mentions=discord.AllowedMentions.none())
            return channel.id
        except (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError) as error:
            raise classify(error) from error

    async def follow_up(self, item: Outgoing, message_id: int) -> None:
        """Crosspost to followers and open the thread, as asked; a step already done counts as done."""
        payload = item.payload
        try:
            channel = await self._channel(item)
            if isinstance(channel, discord.ForumChannel) or not isinstance(channel, discord.TextChannel):
                return
            message = channel.get_partial_message(message_id)
            if payload.crosspost and channel.is_news():
                await _unless(message.publish(), ALREADY_CROSSPOSTED)
            if payload.thread_name:
                await _unless(message.create_thread(name=payload.thread_name), THREAD_ALREADY_CREATED)
        except (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError) as error:
            raise classify(error) from error

    async def _forum_post(self, forum: discord.ForumChannel, name: str, payload: Payload) -> int | None:
        """The id of the bot's post in `forum` with this name and starter message, active or archived, if any."""
        me = self._client.user
        assert me is not None
        active = [t for t in await forum.guild.active_threads() if t.parent_id == forum.id]
        archived = [t async for t in forum.archived_threads(limit=ARCHIVED_LOOKBACK)]
        for thread in active + archived:
            if thread.owner_id != me.id or thread.name != name:
                continue
            try:
                starter = await thread.fetch_message(thread.id)
            except discord.NotFound:
                continue
            if _same_post(starter, payload):
                return starter.id
        return None

    async def _channel(self, item: Outgoing) -> discord.abc.GuildChannel | discord.Thread | discord.abc.PrivateChannel:
        channel = self._client.get_channel(item.channel_id)
        if channel is None:
            channel = await self._client.fetch_channel(item.channel_id)
        return channel


def _same_post(message: discord.Message, payload: Payload) -> bool:
    """Whether a message is the one this payload posts: the same text, and embeds with the same titles and links."""
    wanted = [(embed.get("title"), embed.get("url")) for embed in payload.embeds]
    return message.content == payload.content and [(e.title, e.url) for e in message.embeds] == wanted


async def _unless(step: Awaitable[object], done_code: int) -> None:
    """Await `step`, taking Discord's 'already done' answer as success."""
    try:
        await step
    except discord.HTTPException as error:
        if error.code != done_code:
            raise
