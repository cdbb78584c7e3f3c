"""REST routes for messages in guild channels and in direct message channels."""

from __future__ import annotations

from . import permissions as perm
from .errors import ApiError, Code, in_dm, invalid_form, not_found
from .rest import Call, RestApi
from .routes_common import SUPPRESS_EMBEDS, RouteSet, limit_param
from .state import (
    CHANNEL_ANNOUNCEMENT,
    CHANNEL_CATEGORY,
    CHANNEL_FORUM,
    FLAG_CROSSPOSTED,
    JSON,
    Channel,
    DMChannel,
    Guild,
    Message,
)
from .validation import validate_message


class MessageRoutes(RouteSet):
    """Message create/read/edit/delete/crosspost, as the bot user; in DMs only its own messages are its to change."""

    def register(self, api: RestApi) -> None:
        """Add this group's routes to the API."""
        api.route("GET", "/channels/{channel_id}/messages", self.list_messages)
        api.route("POST", "/channels/{channel_id}/messages", self.create_message)
        api.route("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message)
        api.route("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message)
        api.route("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message)
        api.route("POST", "/channels/{channel_id}/messages/{message_id}/crosspost", self.crosspost)

    def _message(self, channel_id: int, call: Call) -> Message:
        message = self.state.messages.get(call.snowflake("message_id"))
        if message is None or message.channel_id != channel_id or message.ephemeral:
            raise not_found(Code.UNKNOWN_MESSAGE, "Unknown Message")
        return message

    def _reachable(self, dm: DMChannel) -> None:
        """50007 when Discord would not deliver: a bot, a user with DMs closed, or one sharing no guild with the bot."""
        state = self.state
        user = state.users[dm.recipient_id]
        shared = any(user.id in g.members and state.bot_id in g.members for g in state.guilds.values())
        if user.bot or not user.dms_open or not shared:
            raise ApiError(403, Code.CANNOT_MESSAGE_USER, "Cannot send messages to this user")

    def _text_channel(self, call: Call) -> tuple[Guild, Channel]:
        guild, channel = self.channel(call)
        if channel.type == CHANNEL_FORUM:
            raise ApiError(400, Code.FORUM_MESSAGE, "Cannot send messages in a forum channel")
        if channel.type == CHANNEL_CATEGORY:
            raise ApiError(400, Code.INVALID_CHANNEL_TYPE, "Cannot execute action on this channel type")
        return guild, channel

    async def list_messages(self, call: Call) -> list[JSON]:
        """GET /channels/{channel_id}/messages?limit=&before=&after=&around=."""
        dm = self.dm_channel(call)
        if dm is not None:
            channel_id = dm.id
        else:
            guild, channel = self._text_channel(call)
            self.require(guild, 0, channel)
            if not self.bot_permissions(guild, channel) & perm.READ_MESSAGE_HISTORY:
                return []
            channel_id = channel.id
        limit = limit_param(call, "limit", 50, 1, 100)
        messages = self.state.channel_messages_of(channel_id)
        before, after, around = (call.query(k) for k in ("before", "after", "around"))
        if before:
            messages = [m for m in messages if m.id < int(before)]
        if after:
            chosen = [m for m in messages if m.id > int(after)][:limit]
        elif around:
            pivot = int(around)
            older = [m for m in messages if m.id <= pivot][-(limit // 2 + limit % 2) :]
            chosen = older + [m for m in messages if m.id > pivot][: limit // 2]
        else:
            chosen = messages[-limit:]
        return [self.state.message_payload(m) for m in reversed(chosen)]

    async def create_message(self, call: Call) -> JSON:
        """POST /channels/{channel_id}/messages (JSON or multipart with files)."""
        dm = self.dm_channel(call)
        if dm is not None:
            self._reachable(dm)
            return self._post(call, dm.id)
        guild, channel = self._text_channel(call)
        send = perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else perm.SEND_MESSAGES
        self.require(guild, send | (perm.ATTACH_FILES if call.files else 0), channel)
        return self._post(call, channel.id, guild, channel)

    def _post(self, call: Call, channel_id: int, guild: Guild | None = None, channel: Channel | None = None) -> JSON:
        """Validate and store the bot's message; a repeated enforced nonce returns the first one within the window."""
        body = call.json()
        validate_message(body, creating=True, file_count=len(call.files))
        reference = body.get("message_reference")
        if isinstance(reference, dict) and reference.get("message_id"):
            target = self.state.messages.get(int(reference["message_id"]))
            if target is None and reference.get("fail_if_not_exists", True):
                error = {"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}
                raise invalid_form({"message_reference": {"_errors": [error]}})
        nonce = body.get("nonce")
        key = (channel_id, self.state.bot_id, str(nonce))
        if nonce is not None and body.get("enforce_nonce"):
            seen = self.state.nonces.get(key)
            if seen is not None and self.config.seconds() - seen[1] <= self.config.nonce_window:
                existing = self.state.messages.get(seen[0])
                if existing is not None:
                    return self.state.message_payload(existing)
        if guild is not None and channel is not None:
            self._unarchive_to_send(guild, channel)
        message = Message(self.state.next_id(), channel_id, guild.id if guild else None, self.state.bot_id)
        self.apply_message_body(message, body, call.files, creating=True)
        self.world.create_message(message)
        if nonce is not None:
            self.state.nonces[key] = (message.id, self.config.seconds())
        return self.state.message_payload(message)

    def _unarchive_to_send(self, guild: Guild, channel: Channel) -> None:
        """A message unarchives its thread, unless the thread is locked and the bot may not Manage Threads."""
        thread = channel.thread
        if thread is None or not thread.archived:
            return
        if thread.locked and not self.bot_permissions(guild, channel) & perm.MANAGE_THREADS:
            raise ApiError(400, Code.THREAD_ARCHIVED, "Thread is archived")
        self.world.update_thread(guild, channel, {"archived": False})

    async def get_message(self, call: Call) -> JSON:
        """GET /channels/{channel_id}/messages/{message_id}."""
        dm = self.dm_channel(call)
        if dm is not None:
            return self.state.message_payload(self._message(dm.id, call))
        guild, channel = self._text_channel(call)
        self.require(guild, perm.READ_MESSAGE_HISTORY, channel)
        return self.state.message_payload(self._message(channel.id, call))

    async def edit_message(self, call: Call) -> JSON:
        """PATCH /channels/{channel_id}/messages/{message_id}: only the author edits content."""
        dm = self.dm_channel(call)
        if dm is not None:
            return self._edit_dm_message(dm, call)
        guild, channel = self._text_channel(call)
        message = self._message(channel.id, call)
        body = call.json()
        self.require(guild, 0, channel)
        if message.author_id != self.state.bot_id:
            only_flags = set(body) <= {"flags"}
            if not only_flags:
                raise ApiError(403, Code.CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit a message authored by another user")
            self.require(guild, perm.MANAGE_MESSAGES, channel)
            message.flags = (message.flags & ~SUPPRESS_EMBEDS) | (int(body.get("flags") or 0) & SUPPRESS_EMBEDS)
        else:
            if call.files:
                self.require(guild, perm.ATTACH_FILES, channel)
            validate_message(body, creating=False, file_count=len(call.files))
            self.apply_message_body(message, body, call.files, creating=False)
            self.mark_edited(message)
        self.world.message_updated(message)
        return self.state.message_payload(message)

    def _edit_dm_message(self, dm: DMChannel, call: Call) -> JSON:
        """In a DM the bot edits its own messages; the recipient's are not its to touch, not even their flags."""
        message = self._message(dm.id, call)
        body = call.json()
        if message.author_id != self.state.bot_id:
            if set(body) <= {"flags"}:
                raise in_dm()
            raise ApiError(403, Code.CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit a message authored by another user")
        validate_message(body, creating=False, file_count=len(call.files))
        self.apply_message_body(message, body, call.files, creating=False)
        self.mark_edited(message)
        self.world.message_updated(message)
        return self.state.message_payload(message)

    async def delete_message(self, call: Call) -> None:
        """DELETE /channels/{channel_id}/messages/{message_id} (in a DM, only the bot's own)."""
        dm = self.dm_channel(call)
        if dm is not None:
            message = self._message(dm.id, call)
            if message.author_id != self.state.bot_id:
                raise in_dm()
            self.world.delete_message(message)
            return
        guild, channel = self._text_channel(call)
        message = self._message(channel.id, call)
        needed = 0 if message.author_id == self.state.bot_id else perm.MANAGE_MESSAGES
        self.require(guild, needed, channel)
        self.world.delete_message(message)

    async def crosspost(self, call: Call) -> JSON:
        """POST /channels/{channel_id}/messages/{message_id}/crosspost (announcement channels)."""
        guild, channel = self._text_channel(call)
        message = self._message(channel.id, call)
        if channel.type != CHANNEL_ANNOUNCEMENT:
            raise ApiError(400, Code.INVALID_CHANNEL_TYPE, "Cannot execute action on this channel type")
        others = 0 if message.author_id == self.state.bot_id else perm.MANAGE_MESSAGES
        self.require(guild, perm.SEND_MESSAGES | others, channel)
        if message.flags & FLAG_CROSSPOSTED:
            raise ApiError(400, Code.ALREADY_CROSSPOSTED, "This message has already been crossposted.")
        message.flags |= FLAG_CROSSPOSTED
        self.world.message_updated(message)
        return self.state.message_payload(message)
