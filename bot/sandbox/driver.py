"""Acting as Discord users: slash commands, autocomplete, buttons, selects, modals, messages."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from . import permissions as perm
from .gateway import Gateway
from .results import DriverError, InteractionResult, InteractionTimeout, SentMessage, iter_components
from .state import (
    ATTACHMENT_SIZE_LIMIT,
    CHANNEL_ANNOUNCEMENT,
    CHANNEL_ANNOUNCEMENT_THREAD,
    CHANNEL_FLAG_REQUIRE_TAG,
    CHANNEL_FORUM,
    CHANNEL_PUBLIC_THREAD,
    EVENT_EXTERNAL,
    JSON,
    Channel,
    DMChannel,
    Guild,
    InteractionRecord,
    Member,
    Message,
    Overwrite,
    Role,
    SandboxConfig,
    SandboxState,
    User,
    iso,
)
from .world import World

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}
_KIND_NAMES = {USER: "user", ROLE: "role", CHANNEL: "channel", MENTIONABLE: "user or role"}
_ID = re.compile(r"^<(?:@!?|@&|#)?(\d+)>$|^(\d{15,25})$")


MessageRef = SentMessage | Message | int | JSON


class Driver:
    """Acts as guild members and drives the bot through real interactions."""

    state: SandboxState
    world: World
    gateway: Gateway
    config: SandboxConfig

    # --- world building ---------------------------------------------------------

    def create_user(self, name: str, *, locale: str = "en-US") -> User:
        """Create a human user."""
        return self.world.create_user(name, locale=locale)

    def create_guild(
        self,
        name: str,
        *,
        bot_permissions: int = perm.DEFAULT_BOT,
        locale: str = "en-US",
        owner_id: int | None = None,
    ) -> Guild:
        """Create a guild (with @everyone, #general, an owner and the bot's managed role on top)."""
        if owner_id is None:
            owner_id = self.create_user(f"{name} owner").id
        return self.world.create_guild(name, owner_id=owner_id, bot_permissions=bot_permissions, locale=locale)

    def add_member(self, guild_id: int, user_id: int, roles: Sequence[int] = (), *, nick: str | None = None) -> Member:
        """Add a user to a guild (dispatches GUILD_MEMBER_ADD)."""
        return self.world.add_member(self.state.guilds[guild_id], user_id, list(roles), nick)

    def remove_member(self, guild_id: int, user_id: int) -> None:
        """Remove a member (dispatches GUILD_MEMBER_REMOVE)."""
        self.world.remove_member(self.state.guilds[guild_id], user_id)

    def create_role(self, guild_id: int, name: str, permissions: int = 0, position: int | None = None) -> Role:
        """Create a role; `position=None` puts it just above @everyone."""
        guild = self.state.guilds[guild_id]
        return self.world.create_role(guild, {"name": name, "permissions": permissions}, position)

    def create_channel(
        self, guild_id: int, name: str, type: int = 0, parent_id: int | None = None, *, topic: str | None = None
    ) -> Channel:
        """Create a channel (dispatches CHANNEL_CREATE)."""
        fields: JSON = {"name": name, "type": type, "parent_id": parent_id, "topic": topic}
        return self.world.create_channel(self.state.guilds[guild_id], fields)

    def create_announcement_channel(self, guild_id: int, name: str, *, topic: str | None = None) -> Channel:
        """Create an announcement channel (type 5), whose messages can be crossposted to followers."""
        return self.create_channel(guild_id, name, CHANNEL_ANNOUNCEMENT, topic=topic)

    def create_forum(
        self, guild_id: int, name: str, tags: Sequence[str] = (), *, require_tag: bool = False, topic: str | None = None
    ) -> Channel:
        """Create a forum channel (type 15) with `tags` as its available tags (dispatches CHANNEL_CREATE)."""
        fields: JSON = {
            "name": name,
            "type": CHANNEL_FORUM,
            "topic": topic,
            "available_tags": [{"name": tag} for tag in tags],
            "flags": CHANNEL_FLAG_REQUIRE_TAG if require_tag else 0,
        }
        return self.world.create_channel(self.state.guilds[guild_id], fields)

    def tag_ids(self, forum_id: int) -> dict[str, int]:
        """A forum's available tags, name to id."""
        return {str(tag["name"]): int(tag["id"]) for tag in self.state.channels[forum_id].available_tags}

    def threads(self, channel_id: int) -> list[Channel]:
        """The threads of a text, announcement or forum channel, oldest first."""
        guild = self.state.guild_of(channel_id)
        return sorted((t for t in guild.threads.values() if t.parent_id == channel_id), key=lambda t: t.id)

    def start_thread(
        self, channel_id: int, user_id: int, name: str, *, message: MessageRef | None = None, content: str = ""
    ) -> Channel:
        """Start a thread as a member: from a message, a forum post with `content`, or a public thread."""
        parent = self.state.channels[channel_id]
        guild = self.state.guilds[parent.guild_id]
        have = perm.channel_permissions(guild, parent, user_id)
        needed = perm.SEND_MESSAGES if parent.type == CHANNEL_FORUM else perm.CREATE_PUBLIC_THREADS
        if user_id not in guild.members or have & needed != needed:
            raise DriverError("the user cannot start threads here")
        kind = CHANNEL_ANNOUNCEMENT_THREAD if parent.type == CHANNEL_ANNOUNCEMENT else CHANNEL_PUBLIC_THREAD
        thread_id = self._stored(message).id if message is not None else self.state.next_id()
        thread = self.world.create_thread(guild, parent, {"name": name, "type": kind}, user_id, thread_id)
        if parent.type == CHANNEL_FORUM:
            self.world.create_message(Message(thread_id, thread.id, guild.id, user_id, content=content))
        return thread

    def set_overwrite(self, channel_id: int, target_id: int, *, allow: int = 0, deny: int = 0) -> None:
        """Set a permission overwrite for a role or member (dispatches CHANNEL_UPDATE)."""
        channel = self.state.channels[channel_id]
        kind = 0 if target_id in self.state.guilds[channel.guild_id].roles else 1
        channel.overwrites[target_id] = Overwrite(target_id, kind, allow, deny)
        self.world.channel_updated(channel)

    def enable_onboarding(self, guild_id: int, prompts: Sequence[JSON] = (), *, enabled: bool = True) -> JSON:
        """Switch the guild's Discord Onboarding on (or off), with prompts as a PUT body gives them."""
        guild = self.state.guilds[guild_id]
        body: JSON = {"enabled": enabled, "prompts": list(prompts) if prompts else None}
        self.world.set_onboarding(guild, body)
        return self.state.onboarding_payload(guild)

    def onboarding(self, guild_id: int) -> JSON:
        """The guild's onboarding as GET /guilds/{id}/onboarding answers it."""
        return self.state.onboarding_payload(self.state.guilds[guild_id])

    def set_locale(self, user_id: int, locale: str) -> None:
        """Change the locale the user's client reports."""
        self.state.users[user_id].locale = locale

    def bot_role(self, guild_id: int) -> Role:
        """The bot's managed role."""
        role = self.state.bot_role(guild_id)
        if role is None:
            raise DriverError("the bot has no managed role in this guild")
        return role

    def find_channel(self, guild_id: int, name: str) -> Channel:
        """A guild channel by name."""
        for channel in self.state.guilds[guild_id].channels.values():
            if channel.name == name:
                return channel
        raise DriverError(f"no channel named {name!r}")

    def find_role(self, guild_id: int, name: str) -> Role:
        """A guild role by name."""
        for role in self.state.guilds[guild_id].roles.values():
            if role.name == name:
                return role
        raise DriverError(f"no role named {name!r}")

    def messages(self, channel_id: int, *, include_ephemeral: bool = False) -> list[SentMessage]:
        """Messages of a channel, oldest first."""
        found = self.state.channel_messages_of(channel_id, include_ephemeral=include_ephemeral)
        return [SentMessage(self.state, m) for m in found]

    def send_message(self, channel_id: int, user_id: int, content: str) -> SentMessage:
        """Post a plain message as a member (dispatches MESSAGE_CREATE)."""
        channel = self.state.channels[channel_id]
        guild = self.state.guilds[channel.guild_id]
        if user_id not in guild.members:
            raise DriverError("the user is not a member of this guild")
        send = perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else perm.SEND_MESSAGES
        if channel.type == CHANNEL_FORUM or not perm.channel_permissions(guild, channel, user_id) & send:
            raise DriverError("the user cannot send messages here")
        message = Message(self.state.next_id(), channel_id, guild.id, user_id, content=content)
        return SentMessage(self.state, self.world.create_message(message))

    async def wait_for_message(
        self,
        channel_id: int,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        author_id: int | None = None,
        after: int | None = None,
    ) -> SentMessage:
        """The next public message in a channel (or the first newer than message id `after`)."""

        def wanted(message: Message) -> bool:
            return (
                message.channel_id == channel_id
                and not message.ephemeral
                and (author_id is None or message.author_id == author_id)
            )

        earlier = self.state.channel_messages_of(channel_id) if after is not None else []
        return await self._next_message(wanted, [m for m in earlier if m.id > (after or 0)], timeout)

    # --- direct messages -----------------------------------------------------------

    def close_dms(self, user_id: int) -> None:
        """The user stops accepting direct messages: the bot's DMs to them answer 403 50007."""
        self.state.users[user_id].dms_open = False

    def open_dms(self, user_id: int) -> None:
        """The user accepts direct messages again."""
        self.state.users[user_id].dms_open = True

    def dm_channel(self, user_id: int) -> DMChannel | None:
        """The bot's DM channel with the user, once the bot opened it."""
        return self.state.dm_with(user_id)

    def dm_messages(self, user_id: int) -> list[SentMessage]:
        """What the bot sent the user in direct messages, oldest first."""
        dm = self.state.dm_with(user_id)
        found = self.state.channel_messages_of(dm.id) if dm is not None else []
        return [SentMessage(self.state, m) for m in found if m.author_id == self.state.bot_id]

    async def wait_for_dm(
        self,
        user_id: int,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        after: int | None = None,
    ) -> SentMessage:
        """The bot's next direct message to the user (or the first newer than message id `after`)."""

        def wanted(message: Message) -> bool:
            dm = self.state.dm_channels.get(message.channel_id)
            return dm is not None and dm.recipient_id == user_id and message.author_id == self.state.bot_id

        dm = self.state.dm_with(user_id)
        earlier = self.state.channel_messages_of(dm.id) if dm is not None and after is not None else []
        return await self._next_message(wanted, [m for m in earlier if m.id > (after or 0)], timeout)

    async def _next_message(
        self, wanted: Callable[[Message], bool], earlier: Iterable[Message], wait: float
    ) -> SentMessage:
        """The first of `earlier` that is wanted, else the next wanted message to arrive."""
        for message in earlier:
            if wanted(message):
                return SentMessage(self.state, message)
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

        def listener(message: Message) -> None:
            if wanted(message) and not future.done():
                future.set_result(message)

        self.state.message_listeners.append(listener)
        try:
            return SentMessage(self.state, await asyncio.wait_for(future, wait))
        finally:
            self.state.message_listeners.remove(listener)

    # --- scheduled events --------------------------------------------------------

    def scheduled_events(self, guild_id: int) -> list[JSON]:
        """A guild's scheduled events as Discord serves them, statuses brought up to the sandbox's clock."""
        guild = self.state.guilds[guild_id]
        self.world.run_event_automation(guild, self.config.now())
        return [self.state.event_payload(e) for e in guild.scheduled_events.values()]

    def create_scheduled_event(
        self,
        guild_id: int,
        creator_id: int,
        name: str,
        start: dt.datetime,
        end: dt.datetime,
        *,
        location: str,
        description: str | None = None,
    ) -> JSON:
        """Create an external event by hand, as a member in Discord's client would (GUILD_SCHEDULED_EVENT_CREATE)."""
        guild = self.state.guilds[guild_id]
        if creator_id not in guild.members:
            raise DriverError("the user is not a member of this guild")
        if not perm.base_permissions(guild, creator_id) & (perm.MANAGE_EVENTS | perm.CREATE_EVENTS):
            raise DriverError("the user cannot create events in this guild")
        if not (1 <= len(name) <= 100 and 1 <= len(location) <= 100 and len(description or "") <= 1000):
            raise DriverError("an event takes a name and a location of 1-100 characters, a description up to 1000")
        if start < self.config.now() or end <= start:
            raise DriverError("an event starts in the future and ends after it starts")
        event = self.state.blank_event(guild, creator_id)
        event.update(
            name=name,
            description=description,
            scheduled_start_time=iso(start),
            scheduled_end_time=iso(end),
            entity_type=EVENT_EXTERNAL,
            entity_metadata={"location": location},
        )
        return self.state.event_payload(self.world.create_event(guild, event))

    def delete_scheduled_event(self, guild_id: int, event_id: int) -> None:
        """Delete an event by hand, as an admin in Discord's client would (dispatches GUILD_SCHEDULED_EVENT_DELETE)."""
        guild = self.state.guilds[guild_id]
        event = guild.scheduled_events.get(event_id)
        if event is None:
            raise DriverError(f"guild {guild_id} has no scheduled event {event_id}")
        self.world.delete_event(guild, event)

    async def wait_for_edit(self, message: MessageRef, timeout: float = 5.0) -> SentMessage:  # noqa: ASYNC109
        """The message as it is after its next edit (ephemeral ones too)."""
        message_id = self._stored(message).id
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

        def listener(updated: Message) -> None:
            if updated.id == message_id and not future.done():
                future.set_result(updated)

        self.state.update_listeners.append(listener)
        try:
            return SentMessage(self.state, await asyncio.wait_for(future, timeout))
        finally:
            self.state.update_listeners.remove(listener)

    # --- interactions -----------------------------------------------------------------

    async def slash(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        locale: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> InteractionResult:
        """Invoke a registered slash command ("chapter" or "chapter history") and await the answer."""
        command, path, schema = self.resolve_command(guild_id, name)
        self._check_can_use(guild_id, channel_id, user_id, command)
        resolved: dict[str, dict[str, JSON]] = {}
        built = self._build_options(guild_id, channel_id, user_id, schema, dict(options or {}), resolved, None)
        data = self._command_data(command, path, built)
        if resolved:
            data["resolved"] = resolved
        record = self._interact(2, guild_id, channel_id, user_id, data, locale=locale)
        return await self._await(record, timeout)

    async def autocomplete(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        focused: str,
        locale: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[JSON]:
        """Send an autocomplete interaction for option `focused` and return the bot's choices."""
        command, path, schema = self.resolve_command(guild_id, name)
        if not any(o["name"] == focused and o.get("autocomplete") for o in schema):
            raise DriverError(f"option {focused!r} of /{name} has no autocomplete")
        resolved: dict[str, dict[str, JSON]] = {}
        values = dict(options or {})
        values.setdefault(focused, "")
        built = self._build_options(guild_id, channel_id, user_id, schema, values, resolved, focused)
        record = self._interact(
            4, guild_id, channel_id, user_id, self._command_data(command, path, built), locale=locale
        )
        result = await self._await(record, timeout)
        return list(result.choices or [])

    async def click(
        self,
        message: MessageRef,
        custom_id: str,
        user_id: int,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> InteractionResult:
        """Press a button of a stored message."""
        stored = self._stored(message)
        button = self._component(stored, custom_id, (2,))
        if button.get("disabled"):
            raise DriverError(f"button {custom_id!r} is disabled")
        data: JSON = {"custom_id": custom_id, "component_type": 2}
        return await self._component_interaction(stored, user_id, data, timeout)

    async def select(
        self,
        message: MessageRef,
        custom_id: str,
        values: Sequence[Any],
        user_id: int,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> InteractionResult:
        """Pick values in a select menu of a stored message (option values or labels)."""
        stored = self._stored(message)
        menu = self._component(stored, custom_id, (3, 5, 6, 7, 8))
        if menu.get("disabled"):
            raise DriverError(f"select {custom_id!r} is disabled")
        low, high = int(menu.get("min_values", 1)), int(menu.get("max_values", 1))
        if not low <= len(values) <= high:
            raise DriverError(f"select {custom_id!r} takes {low} to {high} values")
        kind = int(menu["type"])
        picked: list[str] = []
        resolved: dict[str, dict[str, JSON]] = {}
        guild_id = stored.guild_id or 0
        for value in values:
            if kind == 3:
                option = next(
                    (o for o in menu.get("options", []) if str(value) in (o.get("value"), o.get("label"))), None
                )
                if option is None:
                    raise DriverError(f"{value!r} is not an option of {custom_id!r}")
                picked.append(str(option["value"]))
            else:
                option_type = {5: USER, 6: ROLE, 7: MENTIONABLE, 8: CHANNEL}[kind]
                snowflake = self._resolve_entity(guild_id, stored.channel_id, option_type, value, resolved)
                picked.append(snowflake)
        data: JSON = {"custom_id": custom_id, "component_type": kind, "values": picked}
        if resolved:
            data["resolved"] = resolved
        return await self._component_interaction(stored, user_id, data, timeout)

    async def submit_modal(
        self,
        result: InteractionResult,
        values: Mapping[str, Any],
        user_id: int | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> InteractionResult:
        """Fill and submit the modal the bot opened in `result`."""
        modal = result.modal
        if modal is None:
            raise DriverError("the bot did not open a modal")
        origin = result.record
        remaining = dict(values)
        components = [self._echo_modal_row(row, remaining) for row in modal.get("components", [])]
        if remaining:
            raise DriverError(f"the modal has no field(s) {sorted(remaining)}")
        data: JSON = {"custom_id": modal["custom_id"], "components": [c for c in components if c]}
        source = self.state.messages.get(origin.source_message_id or 0)
        user = user_id or origin.user_id
        if origin.guild_id is None:
            record = self._interact_in_dm(5, origin.channel_id, user, data, message=source, trigger=origin)
        else:
            record = self._interact(5, origin.guild_id, origin.channel_id, user, data, message=source, trigger=origin)
        return await self._await(record, timeout)

    # --- helpers ----------------------------------------------------------------------

    def resolve_command(self, guild_id: int, name: str) -> tuple[JSON, list[JSON], list[JSON]]:
        """The registered command, the subcommand path and the leaf option schema for "name sub"."""
        parts = name.strip().lstrip("/").split()
        if not parts:
            raise DriverError("empty command name")
        command = self.state.find_command(guild_id, parts[0])
        if command is None:
            raise DriverError(f"the bot registered no command /{parts[0]}")
        schema: list[JSON] = command.get("options") or []
        path: list[JSON] = []
        for part in parts[1:]:
            sub = next((o for o in schema if o["name"] == part and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)), None)
            if sub is None:
                raise DriverError(f"/{parts[0]} has no subcommand {part!r}")
            path.append(sub)
            schema = sub.get("options") or []
        subs = [o["name"] for o in schema if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
        if subs:
            raise DriverError(f"/{' '.join(parts)} needs a subcommand: {', '.join(subs)}")
        return command, path, schema

    @staticmethod
    def _command_data(command: JSON, path: list[JSON], built: list[JSON]) -> JSON:
        for sub in reversed(path):
            built = [{"name": sub["name"], "type": sub["type"], "options": built}]
        data: JSON = {"id": command["id"], "name": command["name"], "type": command.get("type", 1)}
        if built:
            data["options"] = built
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return data

    def _check_can_use(self, guild_id: int, channel_id: int, user_id: int, command: JSON) -> None:
        guild = self.state.guilds[guild_id]
        channel = self.state.channels[channel_id]
        if user_id not in guild.members:
            raise DriverError("the user is not a member of this guild")
        have = perm.channel_permissions(guild, channel, user_id)
        if not have & perm.USE_APPLICATION_COMMANDS:
            raise DriverError("the user cannot use application commands in this channel")
        required = command.get("default_member_permissions")
        if required is not None and have & int(required) != int(required):
            raise DriverError(f"/{command['name']} is not available to this member")

    def _build_options(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        schema: list[JSON],
        values: dict[str, Any],
        resolved: dict[str, dict[str, JSON]],
        focused: str | None,
    ) -> list[JSON]:
        known = {o["name"] for o in schema}
        unknown = set(values) - known
        if unknown:
            raise DriverError(f"unknown option(s) {sorted(unknown)}; expected {sorted(known)}")
        built: list[JSON] = []
        for option in schema:
            name = option["name"]
            if name not in values or values[name] is None:
                if option.get("required") and focused is None:
                    raise DriverError(f"missing required option {name!r}")
                continue
            entry: JSON = {"name": name, "type": option["type"]}
            if name == focused:
                entry["value"] = str(values[name])
                entry["focused"] = True
            else:
                entry["value"] = self._convert(
                    guild_id, channel_id, option, values[name], resolved, focused is not None
                )
            built.append(entry)
        return built

    def _convert(
        self,
        guild_id: int,
        channel_id: int,
        option: JSON,
        value: Any,
        resolved: dict[str, dict[str, JSON]],
        partial: bool,
    ) -> Any:
        kind = option["type"]
        name = option["name"]
        if kind in (STRING, INTEGER, NUMBER):
            converted = self._scalar(kind, name, value)
            if not partial:
                converted = self._check_scalar(option, converted)
            return converted
        if kind == BOOLEAN:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in _TRUE | _FALSE:
                raise DriverError(f"option {name!r} expects true or false")
            return text in _TRUE
        if kind in (USER, CHANNEL, ROLE, MENTIONABLE):
            snowflake = self._resolve_entity(guild_id, channel_id, kind, value, resolved)
            types = option.get("channel_types")
            if kind == CHANNEL and types and self.state.channels[int(snowflake)].type not in types:
                raise DriverError(f"option {name!r} does not accept that channel type")
            return snowflake
        if kind == ATTACHMENT:
            return self._attachment_option(channel_id, name, value, resolved)
        raise DriverError(f"option {name!r} has unsupported type {kind}")

    @staticmethod
    def _scalar(kind: int, name: str, value: Any) -> Any:
        try:
            if kind == INTEGER:
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError(value)
                return int(value)
            if kind == NUMBER:
                return float(value)
        except (TypeError, ValueError):
            raise DriverError(f"option {name!r} expects a {'whole ' if kind == INTEGER else ''}number") from None
        return str(value)

    @staticmethod
    def _check_scalar(option: JSON, value: Any) -> Any:
        name = option["name"]
        choices = option.get("choices")
        if choices:
            for choice in choices:
                if choice["value"] == value:
                    return value
            for choice in choices:
                if str(choice["name"]).lower() == str(value).lower():
                    return choice["value"]
            allowed = ", ".join(str(c["name"]) for c in choices)
            raise DriverError(f"{value!r} is not a choice of {name!r} ({allowed})")
        if isinstance(value, str):
            low, high = option.get("min_length", 0), option.get("max_length", 6000)
            if not low <= len(value) <= high:
                raise DriverError(f"option {name!r} must be {low}-{high} characters long")
        else:
            low, high = option.get("min_value"), option.get("max_value")
            if (low is not None and value < low) or (high is not None and value > high):
                raise DriverError(f"option {name!r} must be between {low} and {high}")
        return value

    def _resolve_entity(
        self, guild_id: int, channel_id: int, kind: int, value: Any, resolved: dict[str, dict[str, JSON]]
    ) -> str:
        guild = self.state.guilds[guild_id]
        state = self.state
        snowflake = _entity_id(value)
        text = str(value).strip()
        if snowflake is None and kind in (USER, MENTIONABLE):
            bare = text.lstrip("@").lower()
            for member in guild.members.values():
                user = state.users[member.user_id]
                if bare in (user.username.lower(), (user.global_name or "").lower(), (member.nick or "").lower()):
                    snowflake = user.id
                    break
        if snowflake is None and kind in (ROLE, MENTIONABLE):
            bare = text.lstrip("@").lower()
            snowflake = next((r.id for r in guild.roles.values() if r.name.lower().lstrip("@") == bare), None)
        channels = {**guild.channels, **guild.threads}
        if snowflake is None and kind == CHANNEL:
            bare = text.lstrip("#").lower()
            snowflake = next((c.id for c in channels.values() if c.name.lower() == bare), None)
        if snowflake is None:
            raise DriverError(f"cannot find {value!r}")
        if kind in (USER, MENTIONABLE) and snowflake in state.users:
            user = state.users[snowflake]
            resolved.setdefault("users", {})[str(user.id)] = state.user_payload(user)
            found = guild.members.get(user.id)
            if found is not None:
                channel = state.channels[channel_id]
                payload = state.member_payload(guild, found, with_user=False)
                payload["permissions"] = str(perm.channel_permissions(guild, channel, user.id))
                resolved.setdefault("members", {})[str(user.id)] = payload
            return str(snowflake)
        if kind in (ROLE, MENTIONABLE) and snowflake in guild.roles:
            resolved.setdefault("roles", {})[str(snowflake)] = state.role_payload(guild.roles[snowflake])
            return str(snowflake)
        if kind == CHANNEL and snowflake in channels:
            channel = channels[snowflake]
            payload = state.channel_payload(channel)
            payload["permissions"] = str(perm.channel_permissions(guild, channel, state.bot_id))
            resolved.setdefault("channels", {})[str(snowflake)] = payload
            return str(snowflake)
        raise DriverError(f"{value!r} is not a valid {_KIND_NAMES[kind]}")

    def _attachment_option(self, channel_id: int, name: str, value: Any, resolved: dict[str, dict[str, JSON]]) -> str:
        if isinstance(value, tuple) and len(value) == 2:
            filename, data = str(value[0]), value[1]
        elif isinstance(value, dict):
            filename, data = str(value["filename"]), value.get("data", value.get("content", b""))
        else:
            raise DriverError(f"option {name!r} takes (filename, bytes)")
        if isinstance(data, str):
            data = data.encode()
        if len(data) > ATTACHMENT_SIZE_LIMIT:
            raise DriverError(f"the file for {name!r} is too large")
        attachment = self.world.new_attachment(channel_id, filename, bytes(data), ephemeral=True)
        self.state.attachments[attachment.id] = attachment
        resolved.setdefault("attachments", {})[str(attachment.id)] = self.state.attachment_payload(attachment)
        return str(attachment.id)

    def _echo_modal_row(self, row: JSON, values: dict[str, Any]) -> JSON | None:
        kind = row.get("type")
        if kind == 1:
            return {"type": 1, "components": [self._echo_modal_field(c, values) for c in row.get("components", [])]}
        if kind == 18 and isinstance(row.get("component"), dict):
            echoed: JSON = {"type": 18, "component": self._echo_modal_field(row["component"], values)}
            if row.get("id") is not None:
                echoed["id"] = row["id"]
            return echoed
        return None

    @staticmethod
    def _echo_modal_field(component: JSON, values: dict[str, Any]) -> JSON:
        custom_id = str(component.get("custom_id"))
        given = values.pop(custom_id, None)
        if component.get("type") == 4:
            text = str(given) if given is not None else str(component.get("value") or "")
            required = component.get("required", True)
            if required and not text:
                raise DriverError(f"the modal field {custom_id!r} is required")
            low, high = component.get("min_length", 0), component.get("max_length", 4000)
            if text and not low <= len(text) <= high:
                raise DriverError(f"the modal field {custom_id!r} must be {low}-{high} characters long")
            return {"type": 4, "custom_id": custom_id, "value": text}
        picked = list(given) if isinstance(given, list | tuple) else ([] if given is None else [given])
        return {"type": component.get("type"), "custom_id": custom_id, "values": [str(v) for v in picked]}

    def _stored(self, message: MessageRef) -> Message:
        if isinstance(message, SentMessage | Message):
            message_id = message.id
        elif isinstance(message, dict):
            message_id = int(message["id"])
        else:
            message_id = int(message)
        stored = self.state.messages.get(message_id)
        if stored is None:
            raise DriverError(f"message {message_id} does not exist")
        return stored

    @staticmethod
    def _component(message: Message, custom_id: str, kinds: tuple[int, ...]) -> JSON:
        for component in iter_components(message.components):
            if component.get("custom_id") == custom_id and component.get("type") in kinds:
                return component
        raise DriverError(f"message {message.id} has no component {custom_id!r}")

    async def _component_interaction(
        self, message: Message, user_id: int, data: JSON, wait: float
    ) -> InteractionResult:
        if message.guild_id is None:
            record = self._interact_in_dm(3, message.channel_id, user_id, data, message=message)
        else:
            record = self._interact(3, message.guild_id, message.channel_id, user_id, data, message=message)
        return await self._await(record, wait)

    def _interact_in_dm(
        self,
        kind: int,
        channel_id: int,
        user_id: int,
        data: JSON,
        *,
        message: Message | None = None,
        trigger: InteractionRecord | None = None,
    ) -> InteractionRecord:
        """A component or modal used in the bot's direct messages: a `user` instead of a `member`, no guild."""
        state = self.state
        dm = state.dm_channels.get(channel_id)
        if dm is None or dm.recipient_id != user_id:
            raise DriverError("the user is not the recipient of this direct message")
        record = InteractionRecord(
            state.next_id(),
            secrets.token_urlsafe(48),
            kind,
            None,
            dm.id,
            user_id,
            data,
            source_message_id=message.id if message is not None else None,
            trigger_id=trigger.id if trigger is not None else None,
        )
        record.payload = {
            "id": str(record.id),
            "application_id": str(state.application_id),
            "type": kind,
            "data": data,
            "channel_id": str(dm.id),
            "channel": state.dm_channel_payload(dm),
            "user": state.user_payload(state.users[user_id]),
            "token": record.token,
            "version": 1,
            "app_permissions": str(perm.DM_PERMISSIONS),
            "locale": state.users[user_id].locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": "0"},
            "context": 1,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if message is not None:
            record.payload["message"] = state.message_payload(message)
        state.interactions[record.id] = record
        self.gateway.dispatch("INTERACTION_CREATE", record.payload)
        return record

    def _interact(
        self,
        kind: int,
        guild_id: int,
        channel_id: int,
        user_id: int,
        data: JSON,
        *,
        message: Message | None = None,
        locale: str | None = None,
        trigger: InteractionRecord | None = None,
    ) -> InteractionRecord:
        state = self.state
        guild = state.guilds[guild_id]
        channel = state.channels[channel_id]
        member = guild.members.get(user_id)
        if member is None:
            raise DriverError("the user is not a member of this guild")
        member_permissions = perm.channel_permissions(guild, channel, user_id)
        if not member_permissions & perm.VIEW_CHANNEL:
            raise DriverError("the user cannot see this channel")
        record = InteractionRecord(
            state.next_id(),
            secrets.token_urlsafe(48),
            kind,
            guild_id,
            channel_id,
            user_id,
            data,
            source_message_id=message.id if message is not None else None,
            trigger_id=trigger.id if trigger is not None else None,
        )
        member_payload = state.member_payload(guild, member)
        member_payload["permissions"] = str(member_permissions)
        channel_payload = state.channel_payload(channel)
        channel_payload["permissions"] = str(member_permissions)
        payload: JSON = {
            "id": str(record.id),
            "application_id": str(state.application_id),
            "type": kind,
            "data": data,
            "guild_id": str(guild_id),
            "guild": {"id": str(guild_id), "locale": guild.locale, "features": list(guild.features)},
            "channel_id": str(channel_id),
            "channel": channel_payload,
            "member": member_payload,
            "token": record.token,
            "version": 1,
            "app_permissions": str(perm.channel_permissions(guild, channel, state.bot_id)),
            "locale": locale or state.users[user_id].locale,
            "guild_locale": guild.locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if message is not None:
            payload["message"] = state.message_payload(message)
        record.payload = payload
        state.interactions[record.id] = record
        self.gateway.dispatch("INTERACTION_CREATE", payload, guild_id=guild_id)
        return record

    async def _await(self, record: InteractionRecord, wait: float) -> InteractionResult:
        result = InteractionResult(self.state, record)
        try:
            await asyncio.wait_for(record.done.wait(), wait)
        except TimeoutError:
            raise InteractionTimeout(result, wait) from None
        return result


def _entity_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    snowflake = getattr(value, "id", None)
    if isinstance(snowflake, int):
        return snowflake
    match = _ID.match(str(value).strip())
    if match is None:
        return None
    return int(match.group(1) or match.group(2))
