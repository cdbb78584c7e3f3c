"""Helpers shared by the route handlers: entity lookups, permission checks, message bodies."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from . import permissions as perm
from .errors import ApiError, Code, in_dm, invalid_form, missing_access, missing_permissions, not_found
from .rest import Call, Upload
from .state import (
    ATTACHMENT_SIZE_LIMIT,
    FLAG_COMPONENTS_V2,
    FLAG_EPHEMERAL,
    JSON,
    Channel,
    DMChannel,
    Guild,
    Message,
    Role,
    SandboxConfig,
    SandboxState,
    now_iso,
)
from .validation import SELECTS
from .world import World

SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
CREATE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2


class RouteSet:
    """Base for route groups: access to state, world and config plus common checks."""

    def __init__(self, state: SandboxState, world: World, config: SandboxConfig) -> None:
        self.state = state
        self.world = world
        self.config = config

    # --- lookups -------------------------------------------------------------

    def guild(self, call: Call) -> Guild:
        """The `{guild_id}` guild, which the bot must be in."""
        guild = self.state.guilds.get(call.snowflake("guild_id"))
        if guild is None or self.state.bot_id not in guild.members:
            raise not_found(Code.UNKNOWN_GUILD, "Unknown Guild")
        return guild

    def channel(self, call: Call) -> tuple[Guild, Channel]:
        """The `{channel_id}` guild channel and its guild (50003 for a DM channel)."""
        channel = self.state.channels.get(call.snowflake("channel_id"))
        if channel is None and call.snowflake("channel_id") in self.state.dm_channels:
            raise in_dm()
        if channel is None:
            raise not_found(Code.UNKNOWN_CHANNEL, "Unknown Channel")
        return self.state.guilds[channel.guild_id], channel

    def dm_channel(self, call: Call) -> DMChannel | None:
        """The `{channel_id}` channel when it is a DM channel."""
        return self.state.dm_channels.get(call.snowflake("channel_id"))

    def role(self, guild: Guild, role_id: int) -> Role:
        """A role of the guild."""
        role = guild.roles.get(role_id)
        if role is None:
            raise not_found(Code.UNKNOWN_ROLE, "Unknown Role")
        return role

    # --- permissions ---------------------------------------------------------

    def bot_permissions(self, guild: Guild, channel: Channel | None = None) -> int:
        """The bot's permissions in the guild or in a channel."""
        if channel is None:
            return perm.base_permissions(guild, self.state.bot_id)
        return perm.channel_permissions(guild, channel, self.state.bot_id)

    def require(self, guild: Guild, bits: int, channel: Channel | None = None) -> None:
        """Raise 50001 if the bot cannot see the channel, 50013 if it lacks `bits`."""
        have = self.bot_permissions(guild, channel)
        if channel is not None and not have & perm.VIEW_CHANNEL:
            raise missing_access()
        if have & bits != bits:
            raise missing_permissions()

    def require_grantable(self, guild: Guild, bits: int) -> None:
        """Bots can only grant permissions they hold themselves (unless administrator)."""
        have = self.bot_permissions(guild)
        if not have & perm.ADMINISTRATOR and bits & ~have:
            raise missing_permissions()

    def require_below_bot(self, guild: Guild, role: Role) -> None:
        """Bots can only manage roles strictly below their highest role."""
        if not perm.can_manage_role(guild, self.state.bot_id, role):
            raise missing_permissions()

    # --- message bodies ------------------------------------------------------

    def apply_message_body(self, message: Message, body: JSON, files: list[Upload], *, creating: bool) -> None:
        """Copy content fields (and attachments) from a create/edit body onto a message."""
        if "content" in body:
            message.content = body["content"] or ""
        if "embeds" in body:
            message.embeds = list(body["embeds"] or [])
        if "components" in body:
            message.components = normalize_components(body["components"] or [])
        if "allowed_mentions" in body:
            message.allowed_mentions = body["allowed_mentions"]
        if body.get("flags") is not None:
            flags = int(body["flags"])
            if creating:
                message.flags |= flags & CREATE_FLAGS
            else:
                message.flags = (message.flags & ~SUPPRESS_EMBEDS) | (flags & SUPPRESS_EMBEDS)
        if creating:
            message.tts = bool(body.get("tts", False))
            message.nonce = body.get("nonce")
            message.message_reference = body.get("message_reference")
        self._apply_attachments(message, body, files)

    def _apply_attachments(self, message: Message, body: JSON, files: list[Upload]) -> None:
        for upload in files:
            if len(upload.data) > ATTACHMENT_SIZE_LIMIT:
                raise ApiError(413, Code.REQUEST_ENTITY_TOO_LARGE, "Request entity too large")
        uploads = {u.index: u for u in files}
        existing = {a.id: a for a in message.attachments}
        described: dict[int, JSON] = {}
        kept = []
        listed = body.get("attachments")
        if isinstance(listed, list):
            for item in listed:
                raw_id = int(item.get("id", -1))
                if raw_id in existing:
                    kept.append(existing[raw_id])
                elif raw_id in uploads:
                    described[raw_id] = item
        else:
            kept = list(message.attachments)
        ephemeral = bool(message.flags & FLAG_EPHEMERAL)
        for index in sorted(uploads):
            upload = uploads[index]
            meta = described.get(index, {})
            filename = str(meta.get("filename") or upload.filename)
            attachment = self.world.new_attachment(
                message.channel_id, filename, upload.data, description=meta.get("description"), ephemeral=ephemeral
            )
            kept.append(attachment)
            self.state.attachments[attachment.id] = attachment
        if isinstance(listed, list) or files:
            message.attachments = kept

    def mark_edited(self, message: Message) -> None:
        """Set the edited timestamp."""
        message.edited_timestamp = now_iso()


def normalize_components(components: list[JSON]) -> list[JSON]:
    """Discord's stored form of components: numeric ids everywhere, select bounds filled in."""
    copied: list[JSON] = copy.deepcopy(components)
    nodes = list(_walk(copied))
    used = {c["id"] for c in nodes if isinstance(c.get("id"), int)}
    next_id = 1
    for component in nodes:
        if not isinstance(component.get("id"), int):
            while next_id in used:
                next_id += 1
            component["id"] = next_id
            used.add(next_id)
        if component.get("type") in SELECTS:
            component.setdefault("min_values", 1)
            component.setdefault("max_values", 1)
    return copied


def _walk(components: list[JSON]) -> Iterator[JSON]:
    for component in components:
        if not isinstance(component, dict):
            continue
        yield component
        yield from _walk(component.get("components") or [])
        for key in ("accessory", "component"):
            child = component.get(key)
            if isinstance(child, dict):
                yield from _walk([child])


def limit_param(call: Call, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within Discord's bounds (50035 otherwise)."""
    raw = call.query(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not low <= value <= high:
        message = f"int value should be between {low} and {high}."
        raise invalid_form({name: {"_errors": [{"code": "NUMBER_TYPE_MAX", "message": message}]}})
    return value


def snowflake_or_none(value: Any) -> int | None:
    """Parse an optional snowflake field."""
    if value is None or value == "":
        return None
    return int(value)
