"""State changes that Discord announces on the gateway, applied and dispatched together."""

from __future__ import annotations

import datetime as dt
import mimetypes
from dataclasses import replace
from typing import Any

from . import permissions as perm
from .gateway import Gateway
from .state import (
    CHANNEL_ANNOUNCEMENT,
    CHANNEL_CATEGORY,
    CHANNEL_FORUM,
    CHANNEL_TEXT,
    EVENT_ACTIVE,
    EVENT_COMPLETED,
    EVENT_EXTERNAL,
    EVENT_SCHEDULED,
    FLAG_HAS_THREAD,
    JSON,
    Attachment,
    Channel,
    DMChannel,
    Guild,
    Member,
    Message,
    Overwrite,
    Role,
    SandboxState,
    ThreadInfo,
    User,
    now_iso,
)


def normalize_channel_name(name: str, channel_type: int) -> str:
    """Discord lowercases text channel names and turns spaces into dashes."""
    if channel_type in (CHANNEL_TEXT, CHANNEL_ANNOUNCEMENT):
        return "-".join(name.lower().split())
    return name


def guess_content_type(filename: str) -> str | None:
    """The content type Discord infers from a file name."""
    guessed, _ = mimetypes.guess_type(filename)
    return guessed


class World:
    """Applies changes to the state and dispatches the matching gateway events."""

    def __init__(self, state: SandboxState, gateway: Gateway) -> None:
        self.state = state
        self.gateway = gateway

    def _dispatch(self, event: str, data: JSON, guild_id: int | None) -> None:
        self.gateway.dispatch(event, data, guild_id=guild_id)

    # --- users, guilds, members ------------------------------------------

    def create_user(self, name: str, *, locale: str = "en-US", bot: bool = False) -> User:
        """Create a user."""
        user = User(self.state.next_id(), name, name, bot=bot, locale=locale)
        self.state.users[user.id] = user
        return user

    def open_dm(self, user: User) -> DMChannel:
        """The bot's DM channel with a user, opened on first use (Discord dispatches nothing for it)."""
        dm = self.state.dm_with(user.id)
        if dm is None:
            dm = DMChannel(self.state.next_id(), user.id)
            self.state.dm_channels[dm.id] = dm
        return dm

    def create_guild(self, name: str, *, owner_id: int, bot_permissions: int, locale: str) -> Guild:
        """Create a guild with @everyone, #general, its owner and the bot (with its managed role)."""
        state = self.state
        guild = Guild(state.next_id.spread(state.guilds_made), name, owner_id, locale=locale)
        state.guilds_made += 1
        guild.roles[guild.id] = Role(guild.id, guild.id, "@everyone", perm.DEFAULT_EVERYONE, 0)
        bot_role = Role(state.next_id(), guild.id, state.bot.username, bot_permissions, 1, managed=True)
        bot_role.bot_id = state.bot_id
        guild.roles[bot_role.id] = bot_role
        general = Channel(state.next_id(), guild.id, "general")
        guild.channels[general.id] = general
        state.channels[general.id] = general
        guild.system_channel_id = general.id
        guild.members[owner_id] = Member(owner_id)
        guild.members[state.bot_id] = Member(state.bot_id, [bot_role.id])
        state.guilds[guild.id] = guild
        self._dispatch("GUILD_CREATE", {}, guild.id)
        return guild

    def add_member(self, guild: Guild, user_id: int, roles: list[int], nick: str | None = None) -> Member:
        """Add a member and dispatch GUILD_MEMBER_ADD."""
        member = Member(user_id, list(roles), nick)
        guild.members[user_id] = member
        payload = self.state.member_payload(guild, member)
        payload["guild_id"] = str(guild.id)
        self._dispatch("GUILD_MEMBER_ADD", payload, guild.id)
        return member

    def remove_member(self, guild: Guild, user_id: int) -> None:
        """Remove a member and dispatch GUILD_MEMBER_REMOVE."""
        guild.members.pop(user_id, None)
        user = self.state.user_payload(self.state.users[user_id])
        self._dispatch("GUILD_MEMBER_REMOVE", {"guild_id": str(guild.id), "user": user}, guild.id)

    def member_updated(self, guild: Guild, member: Member) -> None:
        """Dispatch GUILD_MEMBER_UPDATE for a changed member."""
        payload = self.state.member_payload(guild, member)
        payload["guild_id"] = str(guild.id)
        self._dispatch("GUILD_MEMBER_UPDATE", payload, guild.id)

    # --- roles -----------------------------------------------------------

    def create_role(self, guild: Guild, fields: JSON, position: int | None = None) -> Role:
        """Create a role at `position` (default 1, just above @everyone), shifting the others up."""
        role = Role(self.state.next_id(), guild.id, str(fields.get("name") or "new role"))
        self._apply_role_fields(role, fields)
        others = [r for r in guild.roles.values() if r.id != guild.id]
        top = max((r.position for r in others), default=0) + 1
        role.position = max(1, min(position if position is not None else 1, top))
        guild.roles[role.id] = role
        self._dispatch(
            "GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": self.state.role_payload(role)}, guild.id
        )
        for other in sorted(others, key=perm.role_key):
            if other.position >= role.position:
                other.position += 1
                self.role_updated(guild, other)
        return role

    def update_role(self, guild: Guild, role: Role, fields: JSON) -> Role:
        """Edit a role's fields and dispatch GUILD_ROLE_UPDATE."""
        self._apply_role_fields(role, fields)
        self.role_updated(guild, role)
        return role

    def role_updated(self, guild: Guild, role: Role) -> None:
        """Dispatch GUILD_ROLE_UPDATE."""
        payload = {"guild_id": str(guild.id), "role": self.state.role_payload(role)}
        self._dispatch("GUILD_ROLE_UPDATE", payload, guild.id)

    def move_roles(self, guild: Guild, moves: dict[int, int]) -> None:
        """Apply role positions like Discord: move the given roles, renumber the rest contiguously."""
        ordered = sorted((r for r in guild.roles.values() if r.id != guild.id), key=perm.role_key)
        moving = [guild.roles[rid] for rid in moves]
        rest = [r for r in ordered if r.id not in moves]
        for role in sorted(moving, key=lambda r: moves[r.id]):
            rest.insert(max(0, min(moves[role.id] - 1, len(rest))), role)
        for index, role in enumerate(rest, start=1):
            if role.position != index:
                role.position = index
                self.role_updated(guild, role)

    def delete_role(self, guild: Guild, role: Role) -> None:
        """Delete a role, strip it from members and overwrites, dispatch GUILD_ROLE_DELETE."""
        del guild.roles[role.id]
        for member in guild.members.values():
            if role.id in member.roles:
                member.roles.remove(role.id)
        for channel in guild.channels.values():
            channel.overwrites.pop(role.id, None)
        _forget_in_onboarding(guild, "role_ids", role.id)
        for other in guild.roles.values():
            if other.id != guild.id and other.position > role.position:
                other.position -= 1
        payload = {"guild_id": str(guild.id), "role_id": str(role.id)}
        self._dispatch("GUILD_ROLE_DELETE", payload, guild.id)

    @staticmethod
    def _apply_role_fields(role: Role, fields: JSON) -> None:
        if fields.get("name") is not None:
            role.name = str(fields["name"])
        if fields.get("permissions") is not None:
            role.permissions = int(fields["permissions"])
        colors = fields.get("colors")
        if isinstance(colors, dict) and colors.get("primary_color") is not None:
            role.color = int(colors["primary_color"])
        elif fields.get("color") is not None:
            role.color = int(fields["color"])
        if fields.get("hoist") is not None:
            role.hoist = bool(fields["hoist"])
        if fields.get("mentionable") is not None:
            role.mentionable = bool(fields["mentionable"])

    # --- channels ----------------------------------------------------------

    def create_channel(self, guild: Guild, fields: JSON) -> Channel:
        """Create a channel (category overwrites are copied when none are given)."""
        channel_type = int(fields.get("type") or CHANNEL_TEXT)
        parent_id = int(fields["parent_id"]) if fields.get("parent_id") else None
        siblings = [c for c in guild.channels.values() if c.type == channel_type]
        channel = Channel(
            self.state.next_id(),
            guild.id,
            normalize_channel_name(str(fields["name"]), channel_type),
            channel_type,
            position=int(fields["position"]) if fields.get("position") is not None else len(siblings),
            parent_id=parent_id,
            topic=fields.get("topic"),
            nsfw=bool(fields.get("nsfw", False)),
            rate_limit_per_user=int(fields.get("rate_limit_per_user") or 0),
            flags=int(fields.get("flags") or 0),
            default_auto_archive_duration=int(fields.get("default_auto_archive_duration") or 1440),
        )
        if channel_type == CHANNEL_FORUM:
            channel.available_tags = self._tags(channel, fields.get("available_tags") or [])
        if fields.get("permission_overwrites") is not None:
            channel.overwrites = parse_overwrites(fields["permission_overwrites"])
        elif parent_id is not None and parent_id in guild.channels:
            parent = guild.channels[parent_id]
            channel.overwrites = {k: replace(v) for k, v in parent.overwrites.items()}
        guild.channels[channel.id] = channel
        self.state.channels[channel.id] = channel
        self._dispatch("CHANNEL_CREATE", self.state.channel_payload(channel), guild.id)
        return channel

    def update_channel(self, guild: Guild, channel: Channel, fields: JSON) -> Channel:
        """Edit a channel and dispatch CHANNEL_UPDATE."""
        if "type" in fields and fields["type"] is not None:
            channel.type = int(fields["type"])
        if fields.get("name") is not None:
            channel.name = normalize_channel_name(str(fields["name"]), channel.type)
        if "topic" in fields:
            channel.topic = fields["topic"]
        if fields.get("position") is not None:
            channel.position = int(fields["position"])
        if "parent_id" in fields:
            channel.parent_id = int(fields["parent_id"]) if fields["parent_id"] else None
            if fields.get("lock_permissions") and channel.parent_id in guild.channels:
                parent = guild.channels[channel.parent_id]
                channel.overwrites = {k: replace(v) for k, v in parent.overwrites.items()}
        if fields.get("nsfw") is not None:
            channel.nsfw = bool(fields["nsfw"])
        if fields.get("rate_limit_per_user") is not None:
            channel.rate_limit_per_user = int(fields["rate_limit_per_user"])
        if fields.get("permission_overwrites") is not None:
            channel.overwrites = parse_overwrites(fields["permission_overwrites"])
        if fields.get("flags") is not None:
            channel.flags = int(fields["flags"])
        if fields.get("default_auto_archive_duration") is not None:
            channel.default_auto_archive_duration = int(fields["default_auto_archive_duration"])
        if channel.type == CHANNEL_FORUM and fields.get("available_tags") is not None:
            channel.available_tags = self._tags(channel, fields["available_tags"])
        self.channel_updated(channel)
        return channel

    def _tags(self, channel: Channel, raw: list[JSON]) -> list[JSON]:
        """Forum tags as Discord stores them: known ids kept, new tags given ids."""
        known = {str(tag["id"]) for tag in channel.available_tags}
        tags = []
        for item in raw:
            given = str(item.get("id") or "")
            tags.append(
                {
                    "id": given if given in known else str(self.state.next_id()),
                    "name": str(item["name"]),
                    "moderated": bool(item.get("moderated") or False),
                    "emoji_id": str(item["emoji_id"]) if item.get("emoji_id") else None,
                    "emoji_name": item.get("emoji_name"),
                }
            )
        return tags

    def channel_updated(self, channel: Channel) -> None:
        """Dispatch CHANNEL_UPDATE."""
        self._dispatch("CHANNEL_UPDATE", self.state.channel_payload(channel), channel.guild_id)

    def create_thread(self, guild: Guild, parent: Channel, fields: JSON, owner_id: int, thread_id: int) -> Channel:
        """Create a thread of `parent` owned (and joined) by `owner_id`; dispatch THREAD_CREATE."""
        thread = Channel(
            thread_id,
            guild.id,
            str(fields["name"]),
            int(fields["type"]),
            parent_id=parent.id,
            rate_limit_per_user=int(fields.get("rate_limit_per_user") or 0),
            thread=ThreadInfo(
                owner_id,
                {owner_id},
                invitable=bool(fields.get("invitable", True)),
                auto_archive_duration=int(fields.get("auto_archive_duration") or parent.default_auto_archive_duration),
                applied_tags=[int(t) for t in fields.get("applied_tags") or []],
            ),
        )
        guild.threads[thread.id] = thread
        self.state.channels[thread.id] = thread
        if parent.type == CHANNEL_FORUM:
            parent.last_message_id = thread.id
        payload = self.state.thread_payload(thread)
        payload["newly_created"] = True
        self._dispatch("THREAD_CREATE", payload, guild.id)
        source = self.state.messages.get(thread.id)
        if source is not None and source.channel_id == parent.id:
            source.flags |= FLAG_HAS_THREAD
            self.message_updated(source)
        return thread

    def update_thread(self, guild: Guild, thread: Channel, fields: JSON) -> Channel:
        """Edit a thread (name, tags, archiving, slowmode) and dispatch THREAD_UPDATE."""
        info = thread.thread
        assert info is not None
        if fields.get("name") is not None:
            thread.name = str(fields["name"])
        if fields.get("applied_tags") is not None:
            info.applied_tags = [int(t) for t in fields["applied_tags"]]
        if fields.get("auto_archive_duration") is not None:
            info.auto_archive_duration = int(fields["auto_archive_duration"])
        if fields.get("rate_limit_per_user") is not None:
            thread.rate_limit_per_user = int(fields["rate_limit_per_user"])
        if fields.get("locked") is not None:
            info.locked = bool(fields["locked"])
        if fields.get("archived") is not None and bool(fields["archived"]) != info.archived:
            info.archived = bool(fields["archived"])
            info.archive_timestamp = now_iso()
        self._dispatch("THREAD_UPDATE", self.state.thread_payload(thread), guild.id)
        return thread

    def delete_channel(self, guild: Guild, channel: Channel) -> None:
        """Delete a channel with its threads; children of a deleted category lose their parent."""
        if channel.thread is not None:
            del guild.threads[channel.id]
            del self.state.channels[channel.id]
            payload = {
                "id": str(channel.id),
                "guild_id": str(guild.id),
                "parent_id": str(channel.parent_id),
                "type": channel.type,
            }
            self._dispatch("THREAD_DELETE", payload, guild.id)
            return
        for thread in [t for t in guild.threads.values() if t.parent_id == channel.id]:
            self.delete_channel(guild, thread)
        del guild.channels[channel.id]
        del self.state.channels[channel.id]
        if guild.system_channel_id == channel.id:
            guild.system_channel_id = None
        _forget_in_onboarding(guild, "channel_ids", channel.id)
        self._dispatch("CHANNEL_DELETE", self.state.channel_payload(channel), guild.id)
        if channel.type == CHANNEL_CATEGORY:
            for child in guild.channels.values():
                if child.parent_id == channel.id:
                    child.parent_id = None
                    self.channel_updated(child)

    # --- messages ----------------------------------------------------------

    def create_message(self, message: Message) -> Message:
        """Store a message (its author joins the thread it is in); non-ephemeral ones are dispatched as MESSAGE_CREATE."""
        self.state.add_message(message)
        channel = self.state.channels.get(message.channel_id)
        if channel is not None and channel.thread is not None and not message.ephemeral:
            channel.thread.members.add(message.author_id)
        if not message.ephemeral:
            payload = self.state.message_payload(message, gateway=True)
            self._dispatch("MESSAGE_CREATE", payload, message.guild_id)
        return message

    def message_updated(self, message: Message) -> None:
        """Tell listeners, and dispatch MESSAGE_UPDATE (not for ephemeral messages)."""
        for listener in list(self.state.update_listeners):
            listener(message)
        if not message.ephemeral:
            payload = self.state.message_payload(message, gateway=True)
            self._dispatch("MESSAGE_UPDATE", payload, message.guild_id)

    def delete_message(self, message: Message) -> None:
        """Delete a message and dispatch MESSAGE_DELETE."""
        self.state.messages.pop(message.id, None)
        ids = self.state.channel_messages.get(message.channel_id, [])
        if message.id in ids:
            ids.remove(message.id)
        thread = self.state.channels[message.channel_id].thread if message.channel_id in self.state.channels else None
        if thread is not None and message.id != message.channel_id and not message.ephemeral:
            thread.message_count -= 1
        if not message.ephemeral:
            payload: JSON = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if message.guild_id is not None:
                payload["guild_id"] = str(message.guild_id)
            self._dispatch("MESSAGE_DELETE", payload, message.guild_id)

    def new_attachment(self, channel_id: int, filename: str, data: bytes, **extra: Any) -> Attachment:
        """Build an attachment with the content type Discord would infer."""
        content_type = extra.pop("content_type", None) or guess_content_type(filename)
        return Attachment(self.state.next_id(), channel_id, filename, data, content_type, **extra)

    # --- onboarding ----------------------------------------------------------

    def set_onboarding(self, guild: Guild, body: JSON) -> JSON:
        """Replace what a PUT /guilds/{id}/onboarding body gives (already validated).

        A prompt or option keeps its id when the body names one the guild has; any other gets a new id, as
        Discord assigns ids to new prompts and options.
        """
        board = guild.onboarding
        if body.get("prompts") is not None:
            known_prompts = {p["id"] for p in board["prompts"]}
            known_options = {o["id"] for p in board["prompts"] for o in p["options"]}
            prompts = []
            for raw in body["prompts"]:
                prompt_id = _id_or_zero(raw.get("id"))
                options = []
                for option in raw["options"]:
                    option_id = _id_or_zero(option.get("id"))
                    options.append(
                        {
                            "id": option_id if option_id in known_options else self.state.next_id(),
                            "title": option["title"],
                            "description": option.get("description"),
                            "emoji_id": _id_or_zero(option.get("emoji_id")) or None,
                            "emoji_name": option.get("emoji_name"),
                            "emoji_animated": bool(option.get("emoji_animated")),
                            "role_ids": [int(r) for r in option.get("role_ids") or []],
                            "channel_ids": [int(c) for c in option.get("channel_ids") or []],
                        }
                    )
                    known_options.discard(options[-1]["id"])
                prompts.append(
                    {
                        "id": prompt_id if prompt_id in known_prompts else self.state.next_id(),
                        "title": raw["title"],
                        "options": options,
                        "single_select": bool(raw.get("single_select", False)),
                        "required": bool(raw.get("required", False)),
                        "in_onboarding": bool(raw.get("in_onboarding", True)),
                        "type": int(raw.get("type") or 0),
                    }
                )
                known_prompts.discard(prompts[-1]["id"])
            board["prompts"] = prompts
        if body.get("default_channel_ids") is not None:
            board["default_channel_ids"] = [int(c) for c in body["default_channel_ids"]]
        if body.get("enabled") is not None:
            board["enabled"] = bool(body["enabled"])
        if body.get("mode") is not None:
            board["mode"] = int(body["mode"])
        return board

    # --- scheduled events --------------------------------------------------

    def create_event(self, guild: Guild, event: JSON) -> JSON:
        """Store a scheduled event and dispatch GUILD_SCHEDULED_EVENT_CREATE."""
        guild.scheduled_events[int(event["id"])] = event
        self._dispatch("GUILD_SCHEDULED_EVENT_CREATE", self.state.event_payload(event), guild.id)
        return event

    def update_event(self, guild: Guild, event: JSON) -> JSON:
        """Dispatch GUILD_SCHEDULED_EVENT_UPDATE for an edited event."""
        self._dispatch("GUILD_SCHEDULED_EVENT_UPDATE", self.state.event_payload(event), guild.id)
        return event

    def delete_event(self, guild: Guild, event: JSON) -> None:
        """Delete a scheduled event and dispatch GUILD_SCHEDULED_EVENT_DELETE."""
        guild.scheduled_events.pop(int(event["id"]), None)
        self._dispatch("GUILD_SCHEDULED_EVENT_DELETE", self.state.event_payload(event), guild.id)

    def run_event_automation(self, guild: Guild, now: dt.datetime) -> None:
        """Discord's status automation up to `now`: an external event becomes ACTIVE at its start, COMPLETED at its end.

        Each change is dispatched as GUILD_SCHEDULED_EVENT_UPDATE.
        """
        for event in list(guild.scheduled_events.values()):
            if event["entity_type"] != EVENT_EXTERNAL:
                continue
            start = dt.datetime.fromisoformat(event["scheduled_start_time"])
            end = dt.datetime.fromisoformat(event["scheduled_end_time"]) if event["scheduled_end_time"] else None
            if event["status"] == EVENT_SCHEDULED and now >= start:
                event["status"] = EVENT_ACTIVE
                self.update_event(guild, event)
            if event["status"] == EVENT_ACTIVE and end is not None and now >= end:
                event["status"] = EVENT_COMPLETED
                self.update_event(guild, event)


def _id_or_zero(raw: Any) -> int:
    text = str(raw) if raw is not None else ""
    return int(text) if text.isdigit() else 0


def _forget_in_onboarding(guild: Guild, field: str, discord_id: int) -> None:
    """A deleted role or channel leaves the onboarding options and default channels, as on Discord."""
    board = guild.onboarding
    for prompt in board["prompts"]:
        for option in prompt["options"]:
            if discord_id in option[field]:
                option[field].remove(discord_id)
    if field == "channel_ids" and discord_id in board["default_channel_ids"]:
        board["default_channel_ids"].remove(discord_id)


def parse_overwrites(raw: Any) -> dict[int, Overwrite]:
    """Parse Discord's `permission_overwrites` array."""
    result: dict[int, Overwrite] = {}
    for item in raw or []:
        overwrite = Overwrite(
            int(item["id"]), int(item.get("type", 0)), int(item.get("allow") or 0), int(item.get("deny") or 0)
        )
        result[overwrite.id] = overwrite
    return result
