"""In-memory Discord data model and the JSON payloads Discord builds from it."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

from . import permissions as perm

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1420070400000
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

CHANNEL_TEXT = 0
CHANNEL_DM = 1
CHANNEL_VOICE = 2
CHANNEL_CATEGORY = 4
CHANNEL_ANNOUNCEMENT = 5
CHANNEL_ANNOUNCEMENT_THREAD = 10
CHANNEL_PUBLIC_THREAD = 11
CHANNEL_PRIVATE_THREAD = 12
CHANNEL_STAGE = 13
CHANNEL_FORUM = 15
CHANNEL_TYPES = (CHANNEL_TEXT, CHANNEL_VOICE, CHANNEL_CATEGORY, CHANNEL_ANNOUNCEMENT, CHANNEL_FORUM)
THREAD_TYPES = (CHANNEL_ANNOUNCEMENT_THREAD, CHANNEL_PUBLIC_THREAD, CHANNEL_PRIVATE_THREAD)
ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
CHANNEL_FLAG_REQUIRE_TAG = 1 << 4

FLAG_CROSSPOSTED = 1 << 0
FLAG_HAS_THREAD = 1 << 5
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_COMPONENTS_V2 = 1 << 15

EVENT_SCHEDULED, EVENT_ACTIVE, EVENT_COMPLETED, EVENT_CANCELED = 1, 2, 3, 4
EVENT_STAGE, EVENT_VOICE, EVENT_EXTERNAL = 1, 2, 3

_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


SPREAD_SLOTS = 64
"""Guild ids take turns modulo this in their timestamp bits, so every shard count dividing it gets its share."""


class Snowflakes:
    """Generates real, strictly increasing snowflakes from the current time."""

    def __init__(self, worker_id: int = 1, process_id: int = 0) -> None:
        self._prefix = (worker_id & 0x1F) << 17 | (process_id & 0x1F) << 12
        self._increment = 0
        self._last = 0

    def __call__(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = ms << 22 | self._prefix | (self._increment & 0xFFF)
        self._increment += 1
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value

    def spread(self, slot: int) -> int:
        """A snowflake like `()` whose timestamp part is `slot` modulo SPREAD_SLOTS (at most that many ms ahead).

        Discord routes a guild to shard `(id >> 22) % shard_count`; guilds made in the same millisecond would all
        land on one shard, so guild ids step through the slots and guild n is on shard n % count for such counts.
        """
        ms = max(int(time.time() * 1000) - DISCORD_EPOCH_MS, self._last >> 22)
        ms += (slot - ms) % SPREAD_SLOTS
        value = ms << 22 | self._prefix | (self._increment & 0xFFF)
        if value <= self._last:
            value += SPREAD_SLOTS << 22
        self._increment += 1
        self._last = value
        return value


def snowflake_time(snowflake: int) -> dt.datetime:
    """The creation time encoded in a snowflake."""
    return dt.datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, dt.UTC)


def iso(moment: dt.datetime) -> str:
    """Discord's ISO 8601 timestamp format."""
    return moment.astimezone(dt.UTC).isoformat()


def now_iso() -> str:
    """The current time as a Discord timestamp."""
    return iso(dt.datetime.now(dt.UTC))


@dataclass
class User:
    """A Discord user (human or bot)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    locale: str = "en-US"
    dms_open: bool = True


@dataclass
class DMChannel:
    """A direct message channel between the bot and one user."""

    id: int
    recipient_id: int
    last_message_id: int | None = None


@dataclass
class Role:
    """A guild role."""

    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None


@dataclass
class Overwrite:
    """A channel permission overwrite (type 0 role, 1 member)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0


@dataclass
class ThreadInfo:
    """What makes a channel a thread: its owner, members and metadata."""

    owner_id: int
    members: set[int] = field(default_factory=set)
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    created: str = field(default_factory=now_iso)
    archive_timestamp: str = field(default_factory=now_iso)
    applied_tags: list[int] = field(default_factory=list)
    message_count: int = 0
    total_message_sent: int = 0


@dataclass
class Channel:
    """A guild channel, or a thread when `thread` is set."""

    id: int
    guild_id: int
    name: str
    type: int = CHANNEL_TEXT
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    rate_limit_per_user: int = 0
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    last_message_id: int | None = None
    flags: int = 0
    default_auto_archive_duration: int = 1440
    available_tags: list[JSON] = field(default_factory=list)
    thread: ThreadInfo | None = None

    @property
    def is_thread(self) -> bool:
        """Whether this channel is a thread."""
        return self.thread is not None


@dataclass
class Member:
    """A user's membership in a guild."""

    user_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=now_iso)
    communication_disabled_until: str | None = None


@dataclass
class Attachment:
    """A stored file attached to a message or passed as a command option."""

    id: int
    channel_id: int
    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None
    ephemeral: bool = False

    @property
    def size(self) -> int:
        """The size in bytes."""
        return len(self.data)


@dataclass
class Message:
    """A message; `data` keeps the content fields as received."""

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    flags: int = 0
    attachments: list[Attachment] = field(default_factory=list)
    nonce: str | int | None = None
    tts: bool = False
    allowed_mentions: JSON | None = None
    type: int = 0
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None
    message_reference: JSON | None = None
    edited_timestamp: str | None = None
    pinned: bool = False

    @property
    def ephemeral(self) -> bool:
        """Whether only the invoking user sees this message."""
        return bool(self.flags & FLAG_EPHEMERAL)


@dataclass
class Guild:
    """A guild with its roles, channels, members and scheduled events."""

    id: int
    name: str
    owner_id: int
    locale: str = "en-US"
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    scheduled_events: dict[int, JSON] = field(default_factory=dict)
    threads: dict[int, Channel] = field(default_factory=dict)
    system_channel_id: int | None = None
    features: list[str] = field(default_factory=lambda: ["COMMUNITY", "NEWS"])
    onboarding: JSON = field(
        default_factory=lambda: {"enabled": False, "mode": 0, "default_channel_ids": [], "prompts": []}
    )


@dataclass
class InteractionRecord:
    """An interaction sent to the bot and everything it answered."""

    id: int
    token: str
    type: int
    guild_id: int | None  # None in a direct message
    channel_id: int
    user_id: int
    data: JSON
    payload: JSON = field(default_factory=dict)
    created: float = field(default_factory=time.monotonic)
    source_message_id: int | None = None
    trigger_id: int | None = None
    response_type: int | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: JSON | None = None
    choices: list[JSON] | None = None
    errors: list[JSON] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    answered: float | None = None
    """When the initial response arrived (`time.monotonic()`, like `created`); None until it did."""

    @property
    def command_name(self) -> str | None:
        """The invoked command name for application command interactions."""
        name = self.data.get("name")
        return name if isinstance(name, str) else None


class SandboxState:
    """All entities of the sandboxed Discord, plus their Discord JSON payloads."""

    def __init__(self, bot_name: str = "CivicBot") -> None:
        self.next_id = Snowflakes()
        self.guilds_made = 0
        self.base_url = "http://127.0.0.1"
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.dm_channels: dict[int, DMChannel] = {}
        self.messages: dict[int, Message] = {}
        self.channel_messages: dict[int, list[int]] = {}
        self.attachments: dict[int, Attachment] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self.nonces: dict[tuple[int, int, str], tuple[int, float]] = {}
        self.message_listeners: list[Callable[[Message], None]] = []
        self.update_listeners: list[Callable[[Message], None]] = []
        bot = User(self.next_id(), bot_name, None, bot=True)
        self.users[bot.id] = bot
        self.bot_id = bot.id
        self.application_id = bot.id
        self.application_flags = 1 << 15 | 1 << 19 | 1 << 23

    # --- lookups -------------------------------------------------------

    @property
    def bot(self) -> User:
        """The bot user (its id is also the application id)."""
        return self.users[self.bot_id]

    def guild_of(self, channel_id: int) -> Guild:
        """The guild owning a channel."""
        return self.guilds[self.channels[channel_id].guild_id]

    def everyone(self, guild: Guild) -> Role:
        """The guild's @everyone role."""
        return guild.roles[guild.id]

    def bot_role(self, guild_id: int) -> Role | None:
        """The managed role created for the bot in a guild."""
        for role in self.guilds[guild_id].roles.values():
            if role.bot_id == self.bot_id:
                return role
        return None

    def dm_with(self, user_id: int) -> DMChannel | None:
        """The bot's DM channel with a user, if it was opened."""
        return next((dm for dm in self.dm_channels.values() if dm.recipient_id == user_id), None)

    def channel_messages_of(self, channel_id: int, *, include_ephemeral: bool = False) -> list[Message]:
        """Messages of a channel, oldest first."""
        result = []
        for message_id in self.channel_messages.get(channel_id, []):
            message = self.messages.get(message_id)
            if message is not None and (include_ephemeral or not message.ephemeral):
                result.append(message)
        return result

    def blank_event(self, guild: Guild, creator_id: int) -> JSON:
        """A new scheduled event with Discord's defaults, before its fields are set (events are stored as payloads)."""
        return {
            "id": str(self.next_id()),
            "guild_id": str(guild.id),
            "channel_id": None,
            "creator_id": str(creator_id),
            "name": None,
            "description": None,
            "scheduled_start_time": None,
            "scheduled_end_time": None,
            "privacy_level": 2,
            "status": EVENT_SCHEDULED,
            "entity_type": None,
            "entity_id": None,
            "entity_metadata": None,
            "image": None,
            "recurrence_rule": None,
            "guild_scheduled_event_exceptions": [],
        }

    def commands_for(self, guild_id: int | None) -> list[JSON]:
        """Registered commands of a guild (or the global ones for None)."""
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.setdefault(guild_id, [])

    def find_command(self, guild_id: int, name: str, command_type: int = 1) -> JSON | None:
        """A command as Discord resolves it for a guild: guild commands first, then global."""
        for pool in (self.guild_commands.get(guild_id, []), self.global_commands):
            for command in pool:
                if command["name"] == name and command.get("type", 1) == command_type:
                    return command
        return None

    def forget_interactions(self, interaction_ids: Iterable[int]) -> None:
        """Drop the records of finished interactions and of the messages they answered with, from memory only
        (nothing is deleted or dispatched): a long-running driver keeps what it has read from piling up."""
        forgotten: set[int] = set()
        for interaction_id in list(interaction_ids):
            record = self.interactions.pop(interaction_id, None)
            if record is not None:
                forgotten.update(m for m in (record.original_message_id, *record.followup_ids) if m is not None)
        channels = {self.messages.pop(m).channel_id for m in forgotten if m in self.messages}
        for channel_id in channels:
            self.channel_messages[channel_id] = [m for m in self.channel_messages[channel_id] if m not in forgotten]

    def add_message(self, message: Message) -> None:
        """Store a message and notify listeners."""
        self.messages[message.id] = message
        self.channel_messages.setdefault(message.channel_id, []).append(message.id)
        channel = self.channels.get(message.channel_id)
        dm = self.dm_channels.get(message.channel_id)
        if dm is not None:
            dm.last_message_id = message.id
        if not message.ephemeral and channel is not None:
            channel.last_message_id = message.id
            if channel.thread is not None and message.id != channel.id:
                channel.thread.message_count += 1
                channel.thread.total_message_sent += 1
        for attachment in message.attachments:
            self.attachments[attachment.id] = attachment
        for listener in list(self.message_listeners):
            listener(message)

    # --- payloads ------------------------------------------------------

    def user_payload(self, user: User) -> JSON:
        """A user object."""
        return {
            "id": str(user.id),
            "username": user.username,
            "discriminator": "0",
            "global_name": user.global_name,
            "avatar": None,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
            "bot": user.bot,
            "public_flags": 0,
            "flags": 0,
        }

    def me_payload(self) -> JSON:
        """The bot's own user object (`GET /users/@me`)."""
        payload = self.user_payload(self.bot)
        payload.update(verified=True, mfa_enabled=False, locale="en-US", email=None)
        return payload

    def role_payload(self, role: Role) -> JSON:
        """A role object."""
        payload: JSON = {
            "id": str(role.id),
            "name": role.name,
            "color": role.color,
            "colors": {"primary_color": role.color, "secondary_color": None, "tertiary_color": None},
            "hoist": role.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": role.position,
            "permissions": str(role.permissions),
            "managed": role.managed,
            "mentionable": role.mentionable,
            "flags": 0,
        }
        if role.bot_id is not None:
            payload["tags"] = {"bot_id": str(role.bot_id)}
        return payload

    def channel_payload(self, channel: Channel) -> JSON:
        """A guild channel object (or a thread object)."""
        if channel.thread is not None:
            return self.thread_payload(channel)
        payload: JSON = {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(channel.guild_id),
            "name": channel.name,
            "position": channel.position,
            "parent_id": str(channel.parent_id) if channel.parent_id else None,
            "nsfw": channel.nsfw,
            "flags": channel.flags,
            "permission_overwrites": [
                {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
                for o in channel.overwrites.values()
            ],
        }
        if channel.type in (CHANNEL_TEXT, CHANNEL_ANNOUNCEMENT):
            payload.update(
                topic=channel.topic,
                rate_limit_per_user=channel.rate_limit_per_user,
                last_message_id=str(channel.last_message_id) if channel.last_message_id else None,
                default_auto_archive_duration=channel.default_auto_archive_duration,
            )
        elif channel.type == CHANNEL_FORUM:
            payload.update(
                topic=channel.topic,
                rate_limit_per_user=channel.rate_limit_per_user,
                last_message_id=str(channel.last_message_id) if channel.last_message_id else None,
                default_auto_archive_duration=channel.default_auto_archive_duration,
                default_thread_rate_limit_per_user=0,
                available_tags=[dict(tag) for tag in channel.available_tags],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
            )
        elif channel.type == CHANNEL_VOICE:
            payload.update(bitrate=64000, user_limit=0, rtc_region=None, rate_limit_per_user=0)
        return payload

    def dm_channel_payload(self, dm: DMChannel) -> JSON:
        """A DM channel object, with the one recipient."""
        return {
            "id": str(dm.id),
            "type": CHANNEL_DM,
            "last_message_id": str(dm.last_message_id) if dm.last_message_id else None,
            "flags": 0,
            "recipients": [self.user_payload(self.users[dm.recipient_id])],
        }

    def thread_payload(self, channel: Channel) -> JSON:
        """A thread channel object."""
        thread = channel.thread
        assert thread is not None
        payload: JSON = {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(channel.guild_id),
            "parent_id": str(channel.parent_id),
            "owner_id": str(thread.owner_id),
            "name": channel.name,
            "last_message_id": str(channel.last_message_id) if channel.last_message_id else None,
            "rate_limit_per_user": channel.rate_limit_per_user,
            "flags": channel.flags,
            "message_count": thread.message_count,
            "member_count": min(len(thread.members), 50),
            "total_message_sent": thread.total_message_sent,
            "thread_metadata": {
                "archived": thread.archived,
                "archive_timestamp": thread.archive_timestamp,
                "auto_archive_duration": thread.auto_archive_duration,
                "locked": thread.locked,
                "create_timestamp": thread.created,
            },
        }
        if channel.type == CHANNEL_PRIVATE_THREAD:
            payload["thread_metadata"]["invitable"] = thread.invitable
        if self.channels.get(channel.parent_id or 0, channel).type == CHANNEL_FORUM:
            payload["applied_tags"] = [str(t) for t in thread.applied_tags]
        return payload

    def thread_member_payload(self, channel: Channel, user_id: int) -> JSON:
        """A thread member object (for the bot's own membership in thread responses)."""
        thread = channel.thread
        assert thread is not None
        return {"id": str(channel.id), "user_id": str(user_id), "join_timestamp": thread.created, "flags": 0}

    def member_payload(self, guild: Guild, member: Member, *, with_user: bool = True) -> JSON:
        """A guild member object."""
        payload: JSON = {
            "roles": [str(r) for r in member.roles],
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "joined_at": member.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": member.communication_disabled_until,
        }
        if with_user:
            payload["user"] = self.user_payload(self.users[member.user_id])
        return payload

    def guild_payload(self, guild: Guild, *, full: bool = False, members: bool = True) -> JSON:
        """A guild object; `full` adds the GUILD_CREATE extras (channels, members, events...)."""
        payload: JSON = {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [self.role_payload(r) for r in sorted(guild.roles.values(), key=perm.role_key)],
            "emojis": [],
            "stickers": [],
            "features": list(guild.features),
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(guild.system_channel_id) if guild.system_channel_id else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": guild.locale,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "max_members": 500000,
            "max_presences": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "home_header": None,
            "region": "deprecated",
            "widget_enabled": False,
            "widget_channel_id": None,
            "nsfw": False,
            "incidents_data": None,
        }
        if full:
            shown = guild.members.values() if members else [guild.members[self.bot_id]]
            payload.update(
                joined_at=guild.members[self.bot_id].joined_at,
                large=len(guild.members) >= 250,
                unavailable=False,
                member_count=len(guild.members),
                members=[self.member_payload(guild, m) for m in shown],
                channels=[self.channel_payload(c) for c in guild.channels.values()],
                threads=[
                    self.thread_payload(t)
                    for t in guild.threads.values()
                    if t.thread is not None
                    and not t.thread.archived
                    and perm.channel_permissions(guild, t, self.bot_id) & perm.VIEW_CHANNEL
                ],
                presences=[],
                voice_states=[],
                stage_instances=[],
                guild_scheduled_events=[self.event_payload(e) for e in guild.scheduled_events.values()],
                soundboard_sounds=[],
            )
        return payload

    def attachment_payload(self, attachment: Attachment) -> JSON:
        """An attachment object whose url is served by the sandbox."""
        url = f"{self.base_url}/attachments/{attachment.channel_id}/{attachment.id}/{quoted_filename(attachment)}"
        payload: JSON = {
            "id": str(attachment.id),
            "filename": attachment.filename,
            "size": attachment.size,
            "url": url,
            "proxy_url": url,
        }
        if attachment.content_type is not None:
            payload["content_type"] = attachment.content_type
        if attachment.description is not None:
            payload["description"] = attachment.description
        if attachment.ephemeral:
            payload["ephemeral"] = True
        size = _png_size(attachment.data)
        if size is not None:
            payload["width"], payload["height"] = size
        return payload

    def message_payload(self, message: Message, *, gateway: bool = False) -> JSON:
        """A message object; gateway payloads add guild_id and the author's member."""
        mentions = [self.user_payload(self.users[uid]) for uid in self._mentioned_users(message)]
        payload: JSON = {
            "id": str(message.id),
            "type": message.type,
            "channel_id": str(message.channel_id),
            "author": self.user_payload(self.users[message.author_id]),
            "content": message.content,
            "timestamp": iso(snowflake_time(message.id)),
            "edited_timestamp": message.edited_timestamp,
            "tts": message.tts,
            "mention_everyone": False,
            "mentions": mentions,
            "mention_roles": [str(r) for r in self._mentioned_roles(message)],
            "attachments": [self.attachment_payload(a) for a in message.attachments],
            "embeds": [self._resolve_embed(e, message) for e in message.embeds],
            "components": message.components,
            "pinned": message.pinned,
            "flags": message.flags,
        }
        if message.nonce is not None:
            payload["nonce"] = message.nonce
        if message.webhook_id is not None:
            payload["webhook_id"] = str(message.webhook_id)
        if message.application_id is not None:
            payload["application_id"] = str(message.application_id)
        if message.message_reference is not None:
            payload["message_reference"] = message.message_reference
        started = self.channels.get(message.id)
        if started is not None and started.thread is not None and started.parent_id == message.channel_id:
            payload["thread"] = self.thread_payload(started)
        record = self.interactions.get(message.interaction_id) if message.interaction_id else None
        if record is not None:
            payload["interaction_metadata"] = self._interaction_metadata(record)
            if record.command_name is not None:
                payload["interaction"] = {
                    "id": str(record.id),
                    "type": record.type,
                    "name": record.command_name,
                    "user": self.user_payload(self.users[record.user_id]),
                }
        if gateway and message.guild_id is not None:
            payload["guild_id"] = str(message.guild_id)
            guild = self.guilds.get(message.guild_id)
            member = guild.members.get(message.author_id) if guild else None
            if guild is not None and member is not None and message.webhook_id is None:
                payload["member"] = self.member_payload(guild, member, with_user=False)
        return payload

    def onboarding_payload(self, guild: Guild) -> JSON:
        """GET /guilds/{id}/onboarding: prompts with their options, the default channels, enabled and mode."""
        board = guild.onboarding
        return {
            "guild_id": str(guild.id),
            "prompts": [
                {
                    "id": str(prompt["id"]),
                    "title": prompt["title"],
                    "options": [
                        {
                            "id": str(option["id"]),
                            "title": option["title"],
                            "description": option["description"] or "",
                            "emoji": {
                                "id": str(option["emoji_id"]) if option["emoji_id"] else None,
                                "name": option["emoji_name"],
                                "animated": option["emoji_animated"],
                            },
                            "role_ids": [str(r) for r in option["role_ids"]],
                            "channel_ids": [str(c) for c in option["channel_ids"]],
                        }
                        for option in prompt["options"]
                    ],
                    "single_select": prompt["single_select"],
                    "required": prompt["required"],
                    "in_onboarding": prompt["in_onboarding"],
                    "type": prompt["type"],
                }
                for prompt in board["prompts"]
            ],
            "default_channel_ids": [str(c) for c in board["default_channel_ids"]],
            "enabled": board["enabled"],
            "mode": board["mode"],
        }

    def event_payload(self, event: JSON, *, user_count: bool = False) -> JSON:
        """A guild scheduled event object (events are stored as payloads); `user_count` as `with_user_count` asks."""
        payload = dict(event)
        if user_count:
            payload["user_count"] = 0
        creator = self.users.get(int(event["creator_id"])) if event.get("creator_id") else None
        if creator is not None:
            payload["creator"] = self.user_payload(creator)
        return payload

    def _interaction_metadata(self, record: InteractionRecord, *, nested: bool = True) -> JSON:
        metadata: JSON = {
            "id": str(record.id),
            "type": record.type,
            "user": self.user_payload(self.users[record.user_id]),
            "authorizing_integration_owners": {"0": str(record.guild_id or 0)},
        }
        if record.command_name is not None:
            metadata["name"] = record.command_name
            metadata["command_type"] = record.data.get("type", 1)
        if record.source_message_id is not None:
            metadata["interacted_message_id"] = str(record.source_message_id)
        if record.original_message_id is not None and record.type == 2:
            metadata["original_response_message_id"] = str(record.original_message_id)
        trigger = self.interactions.get(record.trigger_id) if record.trigger_id else None
        if nested and trigger is not None:
            metadata["triggering_interaction_metadata"] = self._interaction_metadata(trigger, nested=False)
        return metadata

    def _mentioned_users(self, message: Message) -> list[int]:
        allowed = message.allowed_mentions
        found: list[int] = []
        for raw in _MENTION.findall(message.content):
            uid = int(raw)
            if uid not in self.users or uid in found:
                continue
            if allowed is not None:
                parse = allowed.get("parse") or []
                listed = {int(u) for u in allowed.get("users") or []}
                if "users" not in parse and uid not in listed:
                    continue
            found.append(uid)
        return found

    def _mentioned_roles(self, message: Message) -> list[int]:
        guild = self.guilds.get(message.guild_id) if message.guild_id else None
        if guild is None:
            return []
        allowed = message.allowed_mentions
        found: list[int] = []
        for raw in _ROLE_MENTION.findall(message.content):
            rid = int(raw)
            if rid not in guild.roles or rid in found:
                continue
            if allowed is not None:
                parse = allowed.get("parse") or []
                listed = {int(r) for r in allowed.get("roles") or []}
                if "roles" not in parse and rid not in listed:
                    continue
            found.append(rid)
        return found

    def _resolve_embed(self, embed: JSON, message: Message) -> JSON:
        resolved = dict(embed)
        resolved.setdefault("type", "rich")
        names = {a.filename: a for a in message.attachments}
        for key in ("image", "thumbnail"):
            media = resolved.get(key)
            if isinstance(media, dict) and str(media.get("url", "")).startswith("attachment://"):
                attachment = names.get(str(media["url"])[len("attachment://") :])
                if attachment is not None:
                    url = self.attachment_payload(attachment)["url"]
                    resolved[key] = {**media, "url": url, "proxy_url": url}
        return resolved


def quoted_filename(attachment: Attachment) -> str:
    """The attachment's filename as the last segment of its url (percent-encoded, so `#` or `?` stay in the name)."""
    return quote(attachment.filename, safe="", errors="surrogatepass")


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) >= 24 and data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None


class Clock(Protocol):
    """The shape of the bot's clock (`bot.clock`), which the sandbox may share without importing it."""

    def now(self) -> dt.datetime:
        """The current instant, timezone-aware."""
        ...


@dataclass
class SandboxConfig:
    """Timing rules: interaction deadline, interaction token lifetime, nonce window (seconds), and the clock.

    The clock times the nonce window, the rate limits and the scheduled events (no start in the past,
    external events starting and ending on time), so tests move it instead of sleeping; without one
    the sandbox reads the real time.
    """

    interaction_deadline: float = 3.0
    token_lifetime: float = 15 * 60.0
    nonce_window: float = 5 * 60.0
    clock: Clock | None = None

    def seconds(self) -> float:
        """The clock's time in Unix seconds."""
        return self.clock.now().timestamp() if self.clock is not None else time.time()

    def now(self) -> dt.datetime:
        """The clock's current instant (timezone-aware)."""
        return self.clock.now() if self.clock is not None else dt.datetime.now(dt.UTC)
