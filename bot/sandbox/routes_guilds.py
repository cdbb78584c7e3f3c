"""REST routes for users, the application, guilds, channels, roles, members and scheduled events."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

from . import permissions as perm
from .errors import ApiError, Code, invalid_form, missing_permissions, not_found
from .gateway import Gateway
from .rest import Call, Reply, RestApi
from .routes_common import RouteSet, limit_param, snowflake_or_none
from .routes_threads import check_tags, thread_fields
from .state import (
    ARCHIVE_DURATIONS,
    CHANNEL_ANNOUNCEMENT,
    CHANNEL_CATEGORY,
    CHANNEL_FORUM,
    CHANNEL_STAGE,
    CHANNEL_TYPES,
    CHANNEL_VOICE,
    EVENT_ACTIVE,
    EVENT_CANCELED,
    EVENT_COMPLETED,
    EVENT_EXTERNAL,
    EVENT_SCHEDULED,
    EVENT_STAGE,
    EVENT_VOICE,
    JSON,
    Channel,
    Guild,
    Member,
    Overwrite,
    iso,
)
from .validation import FormErrors, bad_length, max_length

MAX_FORUM_TAGS = 20
MAX_UNCOMPLETED_EVENTS = 100
_EVENT_TRANSITIONS = {EVENT_SCHEDULED: {EVENT_ACTIVE, EVENT_CANCELED}, EVENT_ACTIVE: {EVENT_COMPLETED}}
_EVENT_FIELDS = (
    "name",
    "description",
    "image",
    "scheduled_start_time",
    "scheduled_end_time",
    "privacy_level",
    "entity_type",
    "channel_id",
    "entity_metadata",
    "recurrence_rule",
)
_EVENT_CHANNELS = {EVENT_STAGE: CHANNEL_STAGE, EVENT_VOICE: CHANNEL_VOICE}
_EVENT_CHANNEL_PERMISSIONS = {
    EVENT_STAGE: perm.MANAGE_CHANNELS | perm.MUTE_MEMBERS | perm.MOVE_MEMBERS,
    EVENT_VOICE: perm.VIEW_CHANNEL | perm.CONNECT,
}


class GuildRoutes(RouteSet):
    """Routes that manage guild structure."""

    def register(self, api: RestApi, gateway_url: Callable[[], str], gateway: Gateway) -> None:
        """Add this group's routes to the API."""
        self._gateway_url = gateway_url
        self._gateway = gateway
        add = api.route
        add("GET", "/users/@me", self.get_me)
        add("GET", "/users/{user_id}", self.get_user)
        add("POST", "/users/@me/channels", self.create_dm)
        add("GET", "/oauth2/applications/@me", self.get_application)
        add("GET", "/applications/@me", self.get_application)
        add("GET", "/gateway", self.get_gateway, auth=False)
        add("GET", "/gateway/bot", self.get_gateway_bot)
        add("GET", "/guilds/{guild_id}", self.get_guild)
        add("GET", "/guilds/{guild_id}/channels", self.list_channels)
        add("POST", "/guilds/{guild_id}/channels", self.create_channel)
        add("PATCH", "/guilds/{guild_id}/channels", self.move_channels)
        add("GET", "/channels/{channel_id}", self.get_channel)
        add("PATCH", "/channels/{channel_id}", self.edit_channel)
        add("DELETE", "/channels/{channel_id}", self.delete_channel)
        add("PUT", "/channels/{channel_id}/permissions/{overwrite_id}", self.put_overwrite)
        add("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}", self.delete_overwrite)
        add("GET", "/guilds/{guild_id}/roles", self.list_roles)
        add("POST", "/guilds/{guild_id}/roles", self.create_role)
        add("PATCH", "/guilds/{guild_id}/roles", self.move_roles)
        add("PATCH", "/guilds/{guild_id}/roles/{role_id}", self.edit_role)
        add("DELETE", "/guilds/{guild_id}/roles/{role_id}", self.delete_role)
        add("GET", "/guilds/{guild_id}/members", self.list_members)
        add("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member)
        add("PATCH", "/guilds/{guild_id}/members/{user_id}", self.edit_member)
        add("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.add_member_role)
        add("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.remove_member_role)
        add("GET", "/guilds/{guild_id}/onboarding", self.get_onboarding)
        add("PUT", "/guilds/{guild_id}/onboarding", self.put_onboarding)
        add("GET", "/guilds/{guild_id}/scheduled-events", self.list_events)
        add("POST", "/guilds/{guild_id}/scheduled-events", self.create_event)
        add("GET", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}", self.get_event)
        add("PATCH", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}", self.edit_event)
        add("DELETE", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}", self.delete_event)

    # --- users, application, gateway -------------------------------------------

    async def get_me(self, call: Call) -> JSON:
        """GET /users/@me."""
        return self.state.me_payload()

    async def get_user(self, call: Call) -> JSON:
        """GET /users/{user_id}."""
        user = self.state.users.get(call.snowflake("user_id"))
        if user is None:
            raise not_found(Code.UNKNOWN_USER, "Unknown User")
        return self.state.user_payload(user)

    async def create_dm(self, call: Call) -> JSON:
        """POST /users/@me/channels: the DM channel with `recipient_id`, opened now or the one already open."""
        raw = call.json().get("recipient_id")
        if raw is None or not str(raw).isdigit():
            error = (
                {"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}
                if raw is None
                else {"code": "NUMBER_TYPE_COERCE", "message": f'Value "{raw}" is not snowflake.'}
            )
            raise invalid_form({"recipient_id": {"_errors": [error]}})
        user = self.state.users.get(int(raw))
        if user is None:
            raise not_found(Code.UNKNOWN_USER, "Unknown User")
        return self.state.dm_channel_payload(self.world.open_dm(user))

    async def get_application(self, call: Call) -> JSON:
        """GET /oauth2/applications/@me."""
        state = self.state
        owner = next((g.owner_id for g in state.guilds.values()), state.bot_id)
        return {
            "id": str(state.application_id),
            "name": state.bot.username,
            "icon": None,
            "description": "Code for All civic-tech bot (sandbox)",
            "summary": "",
            "type": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": state.application_flags,
            "owner": state.user_payload(state.users[owner]),
            "bot": state.user_payload(state.bot),
            "approximate_guild_count": len(state.guilds),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "flags_new": str(state.application_flags),
            "approximate_user_install_count": 0,
            "approximate_user_authorization_count": 0,
            "explicit_content_filter": 0,
            "team": None,
            "eligible_oauth2_scopes": ["bot", "applications.commands"],
            "tags": [],
        }

    async def get_gateway(self, call: Call) -> JSON:
        """GET /gateway."""
        return {"url": self._gateway_url()}

    async def get_gateway_bot(self, call: Call) -> JSON:
        """GET /gateway/bot: the URL, the recommended shard count and the IDENTIFYs left today."""
        return {
            "url": self._gateway_url(),
            "shards": self._gateway.recommended_shards(),
            "session_start_limit": self._gateway.session_start_limit(),
        }

    # --- guilds and channels ---------------------------------------------------

    async def get_guild(self, call: Call) -> JSON:
        """GET /guilds/{guild_id}."""
        guild = self.guild(call)
        payload = self.state.guild_payload(guild)
        if _true(call.query("with_counts")):
            payload["approximate_member_count"] = len(guild.members)
            payload["approximate_presence_count"] = 0
        return payload

    async def list_channels(self, call: Call) -> list[JSON]:
        """GET /guilds/{guild_id}/channels."""
        guild = self.guild(call)
        return [self.state.channel_payload(c) for c in guild.channels.values()]

    async def create_channel(self, call: Call) -> Reply:
        """POST /guilds/{guild_id}/channels (Manage Channels)."""
        guild = self.guild(call)
        body = call.json()
        self.require(guild, perm.MANAGE_CHANNELS)
        errors = FormErrors()
        self._check_channel_fields(guild, body, errors, creating=True)
        errors.raise_if_any()
        self._check_overwrites(guild, body.get("permission_overwrites"))
        channel = self.world.create_channel(guild, body)
        return Reply(201, self.state.channel_payload(channel))

    def _check_channel_fields(self, guild: Guild, body: JSON, errors: FormErrors, *, creating: bool) -> None:
        if creating or "name" in body:
            bad_length(errors, ("name",), body.get("name"), 1, 100)
        kind = body.get("type", 0 if creating else None)
        kinds = [k for k in CHANNEL_TYPES if k != CHANNEL_ANNOUNCEMENT or "NEWS" in guild.features]
        if kind is not None and kind not in kinds:
            errors.add(("type",), "BASE_TYPE_CHOICES", f"Value must be one of {set(kinds)}.")
        max_length(errors, ("topic",), body.get("topic"), 1024)
        slowmode = body.get("rate_limit_per_user")
        if isinstance(slowmode, int) and not 0 <= slowmode <= 21600:
            errors.add(("rate_limit_per_user",), "NUMBER_TYPE_MAX", "int value should be less than or equal to 21600.")
        tags = body.get("available_tags")
        if isinstance(tags, list):
            max_length(errors, ("available_tags",), tags, MAX_FORUM_TAGS)
            for index, tag in enumerate(tags):
                name = tag.get("name") if isinstance(tag, dict) else None
                bad_length(errors, ("available_tags", index, "name"), name, 0, 20)
        duration = body.get("default_auto_archive_duration")
        if duration is not None and duration not in ARCHIVE_DURATIONS:
            errors.add(
                ("default_auto_archive_duration",),
                "BASE_TYPE_CHOICES",
                f"Value must be one of {set(ARCHIVE_DURATIONS)}.",
            )
        parent_id = snowflake_or_none(body.get("parent_id"))
        if parent_id is not None:
            parent = guild.channels.get(parent_id)
            if parent is None or parent.type != CHANNEL_CATEGORY or kind == CHANNEL_CATEGORY:
                errors.add(("parent_id",), "CHANNEL_PARENT_INVALID", "Category does not exist")

    def _check_overwrites(self, guild: Guild, overwrites: Any) -> None:
        for item in overwrites or []:
            self.require(guild, perm.MANAGE_ROLES)
            self.require_grantable(guild, int(item.get("allow") or 0) | int(item.get("deny") or 0))

    async def move_channels(self, call: Call) -> None:
        """PATCH /guilds/{guild_id}/channels (positions)."""
        guild = self.guild(call)
        self.require(guild, perm.MANAGE_CHANNELS)
        moves = call.body if isinstance(call.body, list) else []
        for item in moves:
            channel = guild.channels.get(int(item["id"]))
            if channel is None:
                raise not_found(Code.UNKNOWN_CHANNEL, "Unknown Channel")
            fields: JSON = {}
            if item.get("position") is not None:
                fields["position"] = item["position"]
            if "parent_id" in item:
                fields["parent_id"] = item["parent_id"]
                fields["lock_permissions"] = item.get("lock_permissions", False)
            self.world.update_channel(guild, channel, fields)

    async def get_channel(self, call: Call) -> JSON:
        """GET /channels/{channel_id} (a guild channel, thread or DM channel)."""
        dm = self.dm_channel(call)
        if dm is not None:
            return self.state.dm_channel_payload(dm)
        guild, channel = self.channel(call)
        self.require(guild, 0, channel)
        return self.state.channel_payload(channel)

    async def edit_channel(self, call: Call) -> JSON:
        """PATCH /channels/{channel_id} (Manage Channels in the channel)."""
        guild, channel = self.channel(call)
        body = call.json()
        if channel.thread is not None:
            return self._edit_thread(guild, channel, body)
        self.require(guild, perm.MANAGE_CHANNELS, channel)
        errors = FormErrors()
        self._check_channel_fields(guild, body, errors, creating=False)
        if "type" in body and {body["type"], channel.type} - {0, 5}:
            errors.add(
                ("type",), "CHANNEL_TYPE_INVALID", "Only conversion between text and announcement channels is supported"
            )
        errors.raise_if_any()
        self._check_overwrites(guild, body.get("permission_overwrites"))
        return self.state.channel_payload(self.world.update_channel(guild, channel, body))

    def _edit_thread(self, guild: Guild, thread: Channel, body: JSON) -> JSON:
        """PATCH a thread: its owner renames, retags or archives it; others and locking need Manage Threads."""
        info = thread.thread
        assert info is not None
        errors = thread_fields(body, creating=False)
        parent = guild.channels.get(thread.parent_id or 0)
        tags = body.get("applied_tags")
        moderated = False
        if tags is not None and parent is not None and parent.type == CHANNEL_FORUM:
            moderated = check_tags(errors, parent, [str(t) for t in tags])
        errors.raise_if_any()
        owner_fields = {"name", "applied_tags", "auto_archive_duration", "archived"}
        needs_manage = info.owner_id != self.state.bot_id or not set(body) <= owner_fields or moderated
        self.require(guild, perm.MANAGE_THREADS if needs_manage else 0, thread)
        if info.archived and body.get("archived") is not False:
            raise ApiError(400, Code.THREAD_ARCHIVED, "Thread is archived")
        return self.state.channel_payload(self.world.update_thread(guild, thread, body))

    async def delete_channel(self, call: Call) -> JSON:
        """DELETE /channels/{channel_id} (Manage Threads for a thread)."""
        guild, channel = self.channel(call)
        self.require(guild, perm.MANAGE_THREADS if channel.is_thread else perm.MANAGE_CHANNELS, channel)
        self.world.delete_channel(guild, channel)
        return self.state.channel_payload(channel)

    async def put_overwrite(self, call: Call) -> None:
        """PUT /channels/{channel_id}/permissions/{overwrite_id} (Manage Roles)."""
        guild, channel = self.channel(call)
        target = call.snowflake("overwrite_id")
        body = call.json()
        self.require(guild, perm.MANAGE_ROLES, channel)
        kind = body.get("type")
        if kind not in (0, 1, "0", "1"):
            raise invalid_form(
                {"type": {"_errors": [{"code": "BASE_TYPE_CHOICES", "message": "Value must be one of {0, 1}."}]}}
            )
        if int(kind) == 0 and target not in guild.roles:
            raise not_found(Code.UNKNOWN_ROLE, "Unknown Role")
        if int(kind) == 1 and target not in guild.members:
            raise not_found(Code.UNKNOWN_MEMBER, "Unknown Member")
        allow, deny = int(body.get("allow") or 0), int(body.get("deny") or 0)
        self.require_grantable(guild, allow | deny)
        channel.overwrites[target] = Overwrite(target, int(kind), allow, deny)
        self.world.channel_updated(channel)

    async def delete_overwrite(self, call: Call) -> None:
        """DELETE /channels/{channel_id}/permissions/{overwrite_id}."""
        guild, channel = self.channel(call)
        self.require(guild, perm.MANAGE_ROLES, channel)
        if channel.overwrites.pop(call.snowflake("overwrite_id"), None) is None:
            raise not_found(Code.UNKNOWN_OVERWRITE, "Unknown Overwrite")
        self.world.channel_updated(channel)

    # --- roles -----------------------------------------------------------------

    async def list_roles(self, call: Call) -> list[JSON]:
        """GET /guilds/{guild_id}/roles."""
        guild = self.guild(call)
        return [self.state.role_payload(r) for r in sorted(guild.roles.values(), key=perm.role_key)]

    def _check_role_fields(self, guild: Guild, body: JSON) -> None:
        errors = FormErrors()
        max_length(errors, ("name",), body.get("name"), 100)
        errors.raise_if_any()
        if body.get("permissions") is not None:
            self.require_grantable(guild, int(body["permissions"]))

    async def create_role(self, call: Call) -> JSON:
        """POST /guilds/{guild_id}/roles (Manage Roles; only permissions the bot has)."""
        guild = self.guild(call)
        body = call.json()
        self.require(guild, perm.MANAGE_ROLES)
        self._check_role_fields(guild, body)
        if len(guild.roles) >= 250:
            raise ApiError(400, 30005, "Maximum number of guild roles reached (250)")
        return self.state.role_payload(self.world.create_role(guild, body))

    async def move_roles(self, call: Call) -> list[JSON]:
        """PATCH /guilds/{guild_id}/roles: only roles below the bot, only to positions below it."""
        guild = self.guild(call)
        self.require(guild, perm.MANAGE_ROLES)
        moves: dict[int, int] = {}
        bot_top = perm.top_role(guild, self.state.bot_id)
        owner = guild.owner_id == self.state.bot_id
        for item in call.body if isinstance(call.body, list) else []:
            role = self.role(guild, int(item["id"]))
            if role.id == guild.id:
                raise missing_permissions()
            self.require_below_bot(guild, role)
            position = int(item.get("position") or 0)
            if not owner and position >= bot_top.position:
                raise missing_permissions()
            moves[role.id] = position
        self.world.move_roles(guild, moves)
        return [self.state.role_payload(r) for r in sorted(guild.roles.values(), key=perm.role_key)]

    async def edit_role(self, call: Call) -> JSON:
        """PATCH /guilds/{guild_id}/roles/{role_id}: roles below the bot only."""
        guild = self.guild(call)
        role = self.role(guild, call.snowflake("role_id"))
        body = call.json()
        self.require(guild, perm.MANAGE_ROLES)
        if role.id != guild.id:
            self.require_below_bot(guild, role)
        elif body.get("name") not in (None, role.name):
            body = {k: v for k, v in body.items() if k != "name"}
        self._check_role_fields(guild, body)
        return self.state.role_payload(self.world.update_role(guild, role, body))

    async def delete_role(self, call: Call) -> None:
        """DELETE /guilds/{guild_id}/roles/{role_id}."""
        guild = self.guild(call)
        role = self.role(guild, call.snowflake("role_id"))
        self.require(guild, perm.MANAGE_ROLES)
        if role.id == guild.id or role.managed:
            raise ApiError(400, Code.INVALID_ROLE, "Invalid Role")
        self.require_below_bot(guild, role)
        self.world.delete_role(guild, role)

    # --- onboarding ------------------------------------------------------------

    async def get_onboarding(self, call: Call) -> JSON:
        """GET /guilds/{guild_id}/onboarding."""
        return self.state.onboarding_payload(self.guild(call))

    async def put_onboarding(self, call: Call) -> JSON:
        """PUT /guilds/{guild_id}/onboarding (Manage Server and Manage Roles): the prompts given replace all."""
        guild = self.guild(call)
        body = call.json()
        self.require(guild, perm.MANAGE_GUILD | perm.MANAGE_ROLES)
        errors = FormErrors()
        prompts = body.get("prompts")
        if prompts is not None:
            _check_prompts(guild, prompts, errors)
        defaults = body.get("default_channel_ids")
        if defaults is not None:
            max_length(errors, ("default_channel_ids",), defaults, 500)
            _check_ids(errors, ("default_channel_ids",), defaults, guild.channels, "channel")
        if body.get("mode") not in (None, 0, 1):
            errors.add(("mode",), "BASE_TYPE_CHOICES", "Value must be one of {0, 1}.")
        if body.get("enabled") not in (None, True, False):
            errors.add(("enabled",), "BASE_TYPE_BOOLEAN", "Must be either true or false.")
        errors.raise_if_any()
        self.world.set_onboarding(guild, body)
        return self.state.onboarding_payload(guild)

    # --- members ---------------------------------------------------------------

    def _member(self, guild: Guild, user_id: int) -> Member:
        member = guild.members.get(user_id)
        if member is None:
            raise not_found(Code.UNKNOWN_MEMBER, "Unknown Member")
        return member

    async def list_members(self, call: Call) -> list[JSON]:
        """GET /guilds/{guild_id}/members?limit=&after=."""
        guild = self.guild(call)
        limit = limit_param(call, "limit", 1, 1, 1000)
        after = int(call.query("after") or 0)
        members = sorted((m for m in guild.members.values() if m.user_id > after), key=lambda m: m.user_id)
        return [self.state.member_payload(guild, m) for m in members[:limit]]

    async def get_member(self, call: Call) -> JSON:
        """GET /guilds/{guild_id}/members/{user_id}."""
        guild = self.guild(call)
        return self.state.member_payload(guild, self._member(guild, call.snowflake("user_id")))

    def _check_assignable(self, guild: Guild, role_id: int) -> None:
        role = self.role(guild, role_id)
        self.require(guild, perm.MANAGE_ROLES)
        if role.managed or role.id == guild.id:
            raise missing_permissions()
        self.require_below_bot(guild, role)

    async def add_member_role(self, call: Call) -> None:
        """PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}."""
        guild = self.guild(call)
        member = self._member(guild, call.snowflake("user_id"))
        role_id = call.snowflake("role_id")
        self._check_assignable(guild, role_id)
        if role_id not in member.roles:
            member.roles.append(role_id)
            self.world.member_updated(guild, member)

    async def remove_member_role(self, call: Call) -> None:
        """DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}."""
        guild = self.guild(call)
        member = self._member(guild, call.snowflake("user_id"))
        role_id = call.snowflake("role_id")
        self._check_assignable(guild, role_id)
        if role_id in member.roles:
            member.roles.remove(role_id)
            self.world.member_updated(guild, member)

    async def edit_member(self, call: Call) -> JSON:
        """PATCH /guilds/{guild_id}/members/{user_id}: nick, roles, timeout."""
        guild = self.guild(call)
        user_id = call.snowflake("user_id")
        member = self._member(guild, user_id)
        body = call.json()
        bot_id = self.state.bot_id
        outranks = guild.owner_id != user_id and perm.can_manage_role(guild, bot_id, perm.top_role(guild, user_id))
        if "nick" in body:
            errors = FormErrors()
            max_length(errors, ("nick",), body["nick"], 32)
            errors.raise_if_any()
            if user_id == bot_id:
                self.require(guild, perm.CHANGE_NICKNAME)
            else:
                self.require(guild, perm.MANAGE_NICKNAMES)
                if not outranks:
                    raise missing_permissions()
        if body.get("roles") is not None:
            wanted = [int(r) for r in body["roles"]]
            for role_id in set(wanted) ^ set(member.roles):
                self._check_assignable(guild, role_id)
        if "communication_disabled_until" in body:
            self.require(guild, perm.MODERATE_MEMBERS)
            if not outranks:
                raise missing_permissions()
        if "nick" in body:
            member.nick = body["nick"] or None
        if body.get("roles") is not None:
            member.roles = [int(r) for r in body["roles"]]
        if "communication_disabled_until" in body:
            member.communication_disabled_until = body["communication_disabled_until"]
        self.world.member_updated(guild, member)
        return self.state.member_payload(guild, member)

    # --- scheduled events -----------------------------------------------------------

    def _events(self, guild: Guild) -> dict[int, JSON]:
        """The guild's scheduled events, their statuses brought up to the sandbox's clock."""
        self.world.run_event_automation(guild, self.config.now())
        return guild.scheduled_events

    def _event(self, guild: Guild, call: Call) -> JSON:
        event = self._events(guild).get(call.snowflake("guild_scheduled_event_id"))
        if event is None:
            raise not_found(Code.UNKNOWN_SCHEDULED_EVENT, "Unknown Guild Scheduled Event")
        return event

    async def list_events(self, call: Call) -> list[JSON]:
        """GET /guilds/{guild_id}/scheduled-events?with_user_count=."""
        guild = self.guild(call)
        counted = _true(call.query("with_user_count"))
        return [self.state.event_payload(e, user_count=counted) for e in self._events(guild).values()]

    async def get_event(self, call: Call) -> JSON:
        """GET /guilds/{guild_id}/scheduled-events/{id}?with_user_count=."""
        guild = self.guild(call)
        return self.state.event_payload(self._event(guild, call), user_count=_true(call.query("with_user_count")))

    def _require_events(self, guild: Guild, event: JSON) -> None:
        """Discord's event permissions: Manage Events, or Create Events for the bot's own events.

        A stage or voice event's permissions count in its channel, where hosting the event needs more.
        """
        channel = guild.channels.get(int(event["channel_id"])) if event.get("channel_id") else None
        have = self.bot_permissions(guild, channel)
        hosting = _EVENT_CHANNEL_PERMISSIONS.get(event.get("entity_type") or 0, 0) if channel is not None else 0
        if have & hosting != hosting:
            raise missing_permissions()
        own = event.get("creator_id") == str(self.state.bot_id)
        if not (have & perm.MANAGE_EVENTS or (own and have & perm.CREATE_EVENTS)):
            raise missing_permissions()

    async def create_event(self, call: Call) -> JSON:
        """POST /guilds/{guild_id}/scheduled-events: at most 100 scheduled or active events per guild."""
        guild = self.guild(call)
        event = self.state.blank_event(guild, self.state.bot_id)
        merged = self._checked_event(guild, event, call.json(), creating=True)
        self._require_events(guild, merged)
        uncompleted = [e for e in self._events(guild).values() if e["status"] in (EVENT_SCHEDULED, EVENT_ACTIVE)]
        if len(uncompleted) >= MAX_UNCOMPLETED_EVENTS:
            raise ApiError(
                400, Code.MAX_SCHEDULED_EVENTS, "Maximum number of uncompleted guild scheduled events reached (100)"
            )
        event.update(merged)
        return self.state.event_payload(self.world.create_event(guild, event))

    async def edit_event(self, call: Call) -> JSON:
        """PATCH /guilds/{guild_id}/scheduled-events/{id}: a completed or canceled event stays as it is."""
        guild = self.guild(call)
        event = self._event(guild, call)
        self._require_events(guild, event)
        if event["status"] in (EVENT_COMPLETED, EVENT_CANCELED):
            raise ApiError(400, Code.EVENT_FINISHED, "Cannot update a finished event")
        merged = self._checked_event(guild, event, call.json(), creating=False)
        self._require_events(guild, merged)
        event.update(merged)
        return self.state.event_payload(self.world.update_event(guild, event))

    async def delete_event(self, call: Call) -> None:
        """DELETE /guilds/{guild_id}/scheduled-events/{id}."""
        guild = self.guild(call)
        event = self._event(guild, call)
        self._require_events(guild, event)
        self.world.delete_event(guild, event)

    def _checked_event(self, guild: Guild, event: JSON, body: JSON, *, creating: bool) -> JSON:
        """The event with the body's fields applied, as Discord validates it (50035 otherwise)."""
        writable = _EVENT_FIELDS if creating else (*_EVENT_FIELDS, "status")
        keep_on_null = ("status", "entity_type")
        merged = {**event, **{k: v for k, v in body.items() if k in writable and not (v is None and k in keep_on_null)}}
        errors = FormErrors()
        if creating or "name" in body:
            bad_length(errors, ("name",), merged.get("name"), 1, 100)
        max_length(errors, ("description",), merged.get("description"), 1000)
        if merged.get("privacy_level") != 2:
            errors.add(("privacy_level",), "BASE_TYPE_CHOICES", "Value must be one of {2}.")
        entity_type = merged.get("entity_type")
        if entity_type not in (EVENT_STAGE, EVENT_VOICE, EVENT_EXTERNAL):
            errors.add(("entity_type",), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.")
        start = _parse_time(errors, "scheduled_start_time", merged.get("scheduled_start_time"), required=True)
        end = _parse_time(
            errors, "scheduled_end_time", merged.get("scheduled_end_time"), required=entity_type == EVENT_EXTERNAL
        )
        if (
            start is not None
            and "scheduled_start_time" in body
            and start < self.config.now()
            and merged.get("status") == EVENT_SCHEDULED
        ):
            errors.add(
                ("scheduled_start_time",),
                "GUILD_SCHEDULED_EVENT_SCHEDULED_START_TIME_IN_PAST",
                "Cannot schedule event in the past.",
            )
        if start is not None and end is not None and end <= start:
            errors.add(
                ("scheduled_end_time",),
                "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
                "Cannot schedule event to end before starting.",
            )
        if entity_type == EVENT_EXTERNAL:
            metadata = merged.get("entity_metadata")
            location = metadata.get("location") if isinstance(metadata, dict) else None
            bad_length(errors, ("entity_metadata", "location"), location, 1, 100)
            merged["channel_id"] = None
            merged["entity_metadata"] = {"location": location}
        elif entity_type in _EVENT_CHANNELS:
            channel = guild.channels.get(int(merged.get("channel_id") or 0))
            if channel is None or channel.type != _EVENT_CHANNELS[entity_type]:
                errors.add(("channel_id",), "CHANNEL_TYPE_INVALID", "Channel must be a stage or voice channel")
            merged["entity_metadata"] = None
        status = merged["status"]
        if status != event["status"] and status not in _EVENT_TRANSITIONS.get(int(event["status"]), set()):
            errors.add(("status",), "GUILD_SCHEDULED_EVENT_INVALID_STATUS_TRANSITION", "Invalid status transition.")
        errors.raise_if_any()
        merged["scheduled_start_time"] = iso(start) if start else None
        merged["scheduled_end_time"] = iso(end) if end else None
        if merged.get("channel_id") is not None:
            merged["channel_id"] = str(merged["channel_id"])
        if body.get("image") is not None:
            merged["image"] = hashlib.sha256(str(body["image"]).encode()).hexdigest()[:32]
        return merged


def _check_prompts(guild: Guild, prompts: Any, errors: FormErrors) -> None:
    """Discord's limits on onboarding prompts: 15 prompts, 1 to 50 options each, titles, existing roles and channels."""
    if not isinstance(prompts, list):
        errors.add(("prompts",), "BASE_TYPE_ARRAY", "Must be an array.")
        return
    max_length(errors, ("prompts",), prompts, 15)
    ids = [str(p.get("id")) for p in prompts if isinstance(p, dict)]
    if len(set(ids)) != len(ids):
        errors.add(("prompts",), "ONBOARDING_PROMPT_ID_DUPLICATE", "Prompt ids must be unique.")
    for index, prompt in enumerate(prompts):
        path: tuple[str | int, ...] = ("prompts", index)
        if not isinstance(prompt, dict):
            errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        if prompt.get("id") is None:
            errors.add((*path, "id"), "BASE_TYPE_REQUIRED", "This field is required")
        bad_length(errors, (*path, "title"), prompt.get("title"), 1, 100)
        if prompt.get("type") not in (None, 0, 1):
            errors.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of {0, 1}.")
        options = prompt.get("options")
        bad_length(errors, (*path, "options"), options, 1, 50)
        for number, option in enumerate(options if isinstance(options, list) else []):
            where = (*path, "options", number)
            if not isinstance(option, dict):
                errors.add(where, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
                continue
            bad_length(errors, (*where, "title"), option.get("title"), 1, 50)
            max_length(errors, (*where, "description"), option.get("description"), 100)
            roles, channels = option.get("role_ids") or [], option.get("channel_ids") or []
            max_length(errors, (*where, "role_ids"), roles, 50)
            max_length(errors, (*where, "channel_ids"), channels, 50)
            _check_ids(errors, (*where, "role_ids"), roles, guild.roles, "role")
            _check_ids(errors, (*where, "channel_ids"), channels, guild.channels, "channel")
            if not roles and not channels:
                errors.add(where, "ONBOARDING_OPTION_EMPTY", "An option must give at least one role or channel.")


def _check_ids(errors: FormErrors, path: tuple[str | int, ...], values: Any, known: Any, what: str) -> None:
    for index, value in enumerate(values if isinstance(values, list) else []):
        if not str(value).isdigit() or int(value) not in known:
            errors.add((*path, index), "ONBOARDING_INVALID_" + what.upper(), f"Unknown {what}.")


def _true(value: str | None) -> bool:
    """A boolean query string parameter."""
    return value in ("true", "1", "True")


def _parse_time(errors: FormErrors, name: str, value: Any, *, required: bool) -> dt.datetime | None:
    if value is None:
        if required:
            errors.add((name,), "BASE_TYPE_REQUIRED", "This field is required")
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        errors.add((name,), "DATE_TYPE_PARSE", f"Could not parse {value}. Should be ISO8601.")
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
