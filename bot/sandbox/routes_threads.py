"""REST routes of threads: starting them (in forums with their first message) and listing active or archived ones."""

from __future__ import annotations

import datetime as dt

from . import permissions as perm
from .errors import ApiError, Code, invalid_form, missing_permissions, not_found
from .rest import Call, Reply, RestApi
from .routes_common import RouteSet, limit_param
from .state import (
    ARCHIVE_DURATIONS,
    CHANNEL_ANNOUNCEMENT,
    CHANNEL_ANNOUNCEMENT_THREAD,
    CHANNEL_FLAG_REQUIRE_TAG,
    CHANNEL_FORUM,
    CHANNEL_PRIVATE_THREAD,
    CHANNEL_PUBLIC_THREAD,
    CHANNEL_TEXT,
    JSON,
    Channel,
    Guild,
    Message,
)
from .validation import FormErrors, bad_length, validate_message

_THREAD_PARENTS = (CHANNEL_TEXT, CHANNEL_ANNOUNCEMENT, CHANNEL_FORUM)
MAX_APPLIED_TAGS = 5


class ThreadRoutes(RouteSet):
    """Thread starts (`POST /channels/{id}/threads`, `POST /channels/{id}/messages/{id}/threads`) and lists
    (a guild's active threads, a channel's archived public ones), as the bot user."""

    def register(self, api: RestApi) -> None:
        """Add this group's routes to the API."""
        api.route("POST", "/channels/{channel_id}/threads", self.start_thread)
        api.route("POST", "/channels/{channel_id}/messages/{message_id}/threads", self.start_thread_from_message)
        api.route("GET", "/guilds/{guild_id}/threads/active", self.active_threads)
        api.route("GET", "/channels/{channel_id}/threads/archived/public", self.archived_public_threads)

    def _parent(self, call: Call, kinds: tuple[int, ...]) -> tuple[Guild, Channel]:
        guild, channel = self.channel(call)
        self.require(guild, 0, channel)
        if channel.type not in kinds:
            raise ApiError(400, Code.INVALID_CHANNEL_TYPE, "Cannot execute action on this channel type")
        return guild, channel

    async def start_thread(self, call: Call) -> Reply:
        """A forum post (thread plus its first message), or a thread without a message in a text channel."""
        guild, parent = self._parent(call, _THREAD_PARENTS)
        body = call.json()
        errors = thread_fields(body)
        if parent.type == CHANNEL_FORUM:
            return self._forum_post(call, guild, parent, body, errors)
        public = CHANNEL_ANNOUNCEMENT_THREAD if parent.type == CHANNEL_ANNOUNCEMENT else CHANNEL_PUBLIC_THREAD
        kind = body.get("type")
        kind = CHANNEL_PRIVATE_THREAD if kind is None else kind
        allowed = (public,) if parent.type == CHANNEL_ANNOUNCEMENT else (public, CHANNEL_PRIVATE_THREAD)
        if kind not in allowed:
            errors.add(("type",), "BASE_TYPE_CHOICES", f"Value must be one of {set(allowed)}.")
        errors.raise_if_any()
        needed = perm.CREATE_PRIVATE_THREADS if kind == CHANNEL_PRIVATE_THREAD else perm.CREATE_PUBLIC_THREADS
        self.require(guild, needed, parent)
        fields = {**body, "type": kind}
        thread = self.world.create_thread(guild, parent, fields, self.state.bot_id, self.state.next_id())
        return Reply(201, self._created(thread))

    def _forum_post(self, call: Call, guild: Guild, forum: Channel, body: JSON, errors: FormErrors) -> Reply:
        message_body = body.get("message")
        if not isinstance(message_body, dict):
            errors.add(("message",), "BASE_TYPE_REQUIRED", "This field is required")
        tags = [str(t) for t in body.get("applied_tags") or []]
        moderated = check_tags(errors, forum, tags)
        errors.raise_if_any()
        assert isinstance(message_body, dict)
        needed = perm.SEND_MESSAGES | (perm.ATTACH_FILES if call.files else 0)
        self.require(guild, needed, forum)
        if moderated and not self.bot_permissions(guild, forum) & perm.MANAGE_THREADS:
            raise missing_permissions()
        if forum.flags & CHANNEL_FLAG_REQUIRE_TAG and not tags:
            raise ApiError(400, Code.TAG_REQUIRED, "A tag is required to create a forum post in this channel")
        validate_message(message_body, creating=True, file_count=len(call.files), prefix=("message",))
        thread_id = self.state.next_id()
        fields = {**body, "type": CHANNEL_PUBLIC_THREAD, "applied_tags": tags}
        thread = self.world.create_thread(guild, forum, fields, self.state.bot_id, thread_id)
        message = Message(thread_id, thread.id, guild.id, self.state.bot_id)
        self.apply_message_body(message, message_body, call.files, creating=True)
        self.world.create_message(message)
        payload = self._created(thread)
        payload["message"] = self.state.message_payload(message)
        return Reply(201, payload)

    async def start_thread_from_message(self, call: Call) -> Reply:
        """A public (or announcement) thread whose id is the message's."""
        guild, parent = self._parent(call, (CHANNEL_TEXT, CHANNEL_ANNOUNCEMENT))
        message = self.state.messages.get(call.snowflake("message_id"))
        if message is None or message.channel_id != parent.id or message.ephemeral:
            raise not_found(Code.UNKNOWN_MESSAGE, "Unknown Message")
        body = call.json()
        errors = thread_fields(body)
        errors.raise_if_any()
        self.require(guild, perm.CREATE_PUBLIC_THREADS, parent)
        if message.id in self.state.channels:
            raise ApiError(400, Code.THREAD_ALREADY_CREATED, "A thread has already been created for this message")
        kind = CHANNEL_ANNOUNCEMENT_THREAD if parent.type == CHANNEL_ANNOUNCEMENT else CHANNEL_PUBLIC_THREAD
        thread = self.world.create_thread(guild, parent, {**body, "type": kind}, self.state.bot_id, message.id)
        return Reply(201, self._created(thread))

    async def active_threads(self, call: Call) -> JSON:
        """The guild's unarchived threads the bot can see, newest first."""
        guild = self.guild(call)
        seen = [
            t
            for t in guild.threads.values()
            if t.thread is not None and not t.thread.archived and self.bot_permissions(guild, t) & perm.VIEW_CHANNEL
        ]
        return self._listed(sorted(seen, key=lambda t: t.id, reverse=True), has_more=False)

    async def archived_public_threads(self, call: Call) -> JSON:
        """A channel's archived public threads, most recently archived first, `before` an archive time."""
        guild, parent = self._parent(call, _THREAD_PARENTS)
        self.require(guild, perm.READ_MESSAGE_HISTORY, parent)
        limit = limit_param(call, "limit", 50, 2, 100)
        before = _before(call)
        archived = [
            t
            for t in guild.threads.values()
            if t.parent_id == parent.id
            and t.type != CHANNEL_PRIVATE_THREAD
            and t.thread is not None
            and t.thread.archived
            and (before is None or _instant(t.thread.archive_timestamp) < before)
        ]
        archived.sort(key=lambda t: _instant(t.thread.archive_timestamp if t.thread else None), reverse=True)
        return self._listed(archived[:limit], has_more=len(archived) > limit)

    def _listed(self, threads: list[Channel], *, has_more: bool) -> JSON:
        """A thread list with the bot's own memberships, as Discord answers it."""
        bot_id = self.state.bot_id
        return {
            "threads": [self.state.thread_payload(t) for t in threads],
            "members": [
                self.state.thread_member_payload(t, bot_id) for t in threads if t.thread and bot_id in t.thread.members
            ],
            "has_more": has_more,
        }

    def _created(self, thread: Channel) -> JSON:
        payload = self.state.thread_payload(thread)
        payload["member"] = self.state.thread_member_payload(thread, self.state.bot_id)
        return payload


def _before(call: Call) -> dt.datetime | None:
    """The `before` query parameter, an ISO 8601 timestamp (50035 when it is not one)."""
    raw = call.query("before")
    if raw is None:
        return None
    try:
        return _instant(raw)
    except ValueError:
        error = {"code": "DATE_TIME_TYPE_CONVERT", "message": "Could not interpret the value as a date."}
        raise invalid_form({"before": {"_errors": [error]}}) from None


def _instant(timestamp: str | None) -> dt.datetime:
    """An ISO 8601 timestamp as an aware instant (the epoch when there is none)."""
    if not timestamp:
        return dt.datetime.fromtimestamp(0, dt.UTC)
    moment = dt.datetime.fromisoformat(timestamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def check_tags(errors: FormErrors, forum: Channel, tags: list[str]) -> bool:
    """Record unknown or too many tags of a forum post; whether any of them is moderated."""
    if len(tags) > MAX_APPLIED_TAGS:
        errors.add(("applied_tags",), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_APPLIED_TAGS} or fewer in length.")
    known = {str(tag["id"]): tag for tag in forum.available_tags}
    for index, tag in enumerate(tags):
        if tag not in known:
            errors.add(("applied_tags", index), "FORUM_TAG_UNKNOWN", "Unknown tag")
    return any(known[t]["moderated"] for t in tags if t in known)


def thread_fields(body: JSON, *, creating: bool = True) -> FormErrors:
    """Check the fields every thread start or edit shares: name, auto-archive duration, slowmode."""
    errors = FormErrors()
    if creating or body.get("name") is not None:
        bad_length(errors, ("name",), body.get("name"), 1, 100)
    duration = body.get("auto_archive_duration")
    if duration is not None and duration not in ARCHIVE_DURATIONS:
        errors.add(("auto_archive_duration",), "BASE_TYPE_CHOICES", f"Value must be one of {set(ARCHIVE_DURATIONS)}.")
    slowmode = body.get("rate_limit_per_user")
    if slowmode is not None and not (isinstance(slowmode, int) and 0 <= slowmode <= 21600):
        errors.add(("rate_limit_per_user",), "NUMBER_TYPE_MAX", "int value should be less than or equal to 21600.")
    return errors
