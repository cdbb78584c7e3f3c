"""REST routes for application commands, interaction callbacks and interaction webhooks."""

from __future__ import annotations

import time
from typing import Any

from .errors import ApiError, Code, invalid_form, missing_access, not_found
from .rest import Call, Reply, RestApi
from .routes_common import RouteSet
from .state import FLAG_EPHEMERAL, FLAG_LOADING, JSON, InteractionRecord, Message
from .validation import (
    FormErrors,
    validate_choices,
    validate_command,
    validate_commands,
    validate_message,
    validate_modal,
)

PONG, MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL = 1, 4, 5, 6, 7, 8, 9
PING, APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
_ALLOWED_RESPONSES: dict[int, set[int]] = {
    PING: {PONG},
    APPLICATION_COMMAND: {MESSAGE, DEFERRED_MESSAGE, MODAL},
    COMPONENT: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
}
_COMMAND_FIELDS = (
    "type",
    "name",
    "name_localizations",
    "description",
    "description_localizations",
    "options",
    "default_member_permissions",
    "dm_permission",
    "contexts",
    "integration_types",
    "nsfw",
)


class InteractionRoutes(RouteSet):
    """Command registration, interaction responses, follow-ups and response edits."""

    def register(self, api: RestApi) -> None:
        """Add this group's routes to the API."""
        base = "/applications/{application_id}"
        for prefix in (base, base + "/guilds/{guild_id}"):
            api.route("GET", prefix + "/commands", self.list_commands)
            api.route("PUT", prefix + "/commands", self.overwrite_commands)
            api.route("POST", prefix + "/commands", self.create_command)
            api.route("GET", prefix + "/commands/{command_id}", self.get_command)
            api.route("PATCH", prefix + "/commands/{command_id}", self.edit_command)
            api.route("DELETE", prefix + "/commands/{command_id}", self.delete_command)
        api.route("POST", "/interactions/{interaction_id}/{interaction_token}/callback", self.callback, auth=False)
        hook = "/webhooks/{webhook_id}/{webhook_token}"
        api.route("POST", hook, self.followup, auth=False)
        for suffix in ("/messages/@original", "/messages/{message_id}"):
            api.route("GET", hook + suffix, self.get_response, auth=False)
            api.route("PATCH", hook + suffix, self.edit_response, auth=False)
            api.route("DELETE", hook + suffix, self.delete_response, auth=False)

    # --- application commands ---------------------------------------------------

    def _scope(self, call: Call) -> int | None:
        if call.snowflake("application_id") != self.state.application_id:
            raise missing_access()
        if "guild_id" not in call.request.match_info:
            return None
        guild = self.state.guilds.get(call.snowflake("guild_id"))
        if guild is None or self.state.bot_id not in guild.members:
            raise missing_access()
        return guild.id

    def _store(self, raw: JSON, guild_id: int | None, existing: JSON | None) -> JSON:
        fields = {k: raw[k] for k in _COMMAND_FIELDS if k in raw}
        fields.setdefault("type", 1)
        fields.setdefault("description", "")
        fields.setdefault("options", [])
        fields.setdefault("nsfw", False)
        permissions = fields.get("default_member_permissions")
        fields["default_member_permissions"] = None if permissions is None else str(int(permissions))
        if fields.get("integration_types") is None:
            fields["integration_types"] = [0]
        fields.setdefault("contexts", None)
        if existing is not None:
            unchanged = all(existing.get(k) == v for k, v in fields.items())
            command = existing if unchanged else {**existing, **fields, "version": str(self.state.next_id())}
        else:
            command = {"id": str(self.state.next_id()), "version": str(self.state.next_id()), **fields}
        command["application_id"] = str(self.state.application_id)
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    def _find(self, pool: list[JSON], call: Call) -> JSON:
        command_id = str(call.snowflake("command_id"))
        for command in pool:
            if command["id"] == command_id:
                return command
        raise not_found(Code.UNKNOWN_APPLICATION_COMMAND, "Unknown application command")

    async def list_commands(self, call: Call) -> list[JSON]:
        """GET .../commands."""
        return list(self.state.commands_for(self._scope(call)))

    async def overwrite_commands(self, call: Call) -> list[JSON]:
        """PUT .../commands: bulk overwrite, keeping ids of commands with the same name and type."""
        guild_id = self._scope(call)
        validate_commands(call.body)
        pool = self.state.commands_for(guild_id)
        by_key = {(c["name"], c.get("type", 1)): c for c in pool}
        result = [self._store(raw, guild_id, by_key.get((raw["name"], raw.get("type", 1)))) for raw in call.body]
        pool[:] = result
        return result

    async def create_command(self, call: Call) -> Reply:
        """POST .../commands: create, or replace the command with the same name and type."""
        guild_id = self._scope(call)
        errors = FormErrors()
        validate_command(errors, (), call.json())
        errors.raise_if_any()
        body = call.json()
        pool = self.state.commands_for(guild_id)
        for index, command in enumerate(pool):
            if command["name"] == body["name"] and command.get("type", 1) == body.get("type", 1):
                pool[index] = self._store(body, guild_id, command)
                return Reply(200, pool[index])
        command = self._store(body, guild_id, None)
        pool.append(command)
        return Reply(201, command)

    async def get_command(self, call: Call) -> JSON:
        """GET .../commands/{command_id}."""
        return self._find(self.state.commands_for(self._scope(call)), call)

    async def edit_command(self, call: Call) -> JSON:
        """PATCH .../commands/{command_id}."""
        guild_id = self._scope(call)
        pool = self.state.commands_for(guild_id)
        command = self._find(pool, call)
        merged = {**command, **call.json()}
        errors = FormErrors()
        validate_command(errors, (), merged)
        errors.raise_if_any()
        updated = self._store(merged, guild_id, command)
        pool[pool.index(command)] = updated
        return updated

    async def delete_command(self, call: Call) -> None:
        """DELETE .../commands/{command_id}."""
        pool = self.state.commands_for(self._scope(call))
        pool.remove(self._find(pool, call))

    # --- interaction callback ----------------------------------------------------

    async def callback(self, call: Call) -> Reply:
        """POST /interactions/{id}/{token}/callback: the initial response, within the deadline."""
        record = self.state.interactions.get(call.snowflake("interaction_id"))
        if record is None or record.token != call.param("interaction_token"):
            raise not_found(Code.UNKNOWN_INTERACTION, "Unknown interaction")
        if record.response_type is not None:
            raise ApiError(400, Code.INTERACTION_ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
        if time.monotonic() - record.created > self.config.interaction_deadline:
            error = not_found(Code.UNKNOWN_INTERACTION, "Unknown interaction")
            record.errors.append(error.body())
            record.done.set()
            raise error
        body = call.json()
        kind = body.get("type")
        data = body.get("data") or {}
        allowed = _ALLOWED_RESPONSES.get(record.type, set())
        if kind in (DEFERRED_UPDATE, UPDATE_MESSAGE) and record.source_message_id is None:
            allowed = allowed - {DEFERRED_UPDATE, UPDATE_MESSAGE}
        if kind not in allowed:
            reason = {"code": "INTERACTION_RESPONSE_TYPE_INVALID", "message": "Interaction response type is invalid."}
            raise invalid_form({"type": {"_errors": [reason]}})
        resource = self._respond(record, int(kind), data, call)
        record.response_type = int(kind)
        record.answered = time.monotonic()
        if kind != DEFERRED_MESSAGE:
            record.done.set()
        if call.query("with_response") not in ("1", "true", "True"):
            return Reply(204)
        original = self.state.messages.get(record.original_message_id or 0)
        interaction: JSON = {"id": str(record.id), "type": record.type}
        if original is not None and kind in (MESSAGE, DEFERRED_MESSAGE, UPDATE_MESSAGE):
            interaction.update(
                response_message_id=str(original.id),
                response_message_loading=bool(original.flags & FLAG_LOADING),
                response_message_ephemeral=original.ephemeral,
            )
        answer: JSON = {"interaction": interaction}
        if kind in (MESSAGE, UPDATE_MESSAGE):
            answer["resource"] = resource
        return Reply(200, answer)

    def _respond(self, record: InteractionRecord, kind: int, data: JSON, call: Call) -> JSON:
        resource: JSON = {"type": kind}
        if kind in (MESSAGE, DEFERRED_MESSAGE):
            if kind == MESSAGE:
                validate_message(data, creating=True, file_count=len(call.files), prefix=("data",))
            message = self._new_message(record)
            message.flags |= int(data.get("flags") or 0) & FLAG_EPHEMERAL
            if kind == MESSAGE:
                self.apply_message_body(message, data, call.files, creating=True)
            else:
                message.flags |= FLAG_LOADING
            self.world.create_message(message)
            record.original_message_id = message.id
            resource["message"] = self.state.message_payload(message)
        elif kind in (DEFERRED_UPDATE, UPDATE_MESSAGE):
            source = self.state.messages.get(record.source_message_id or 0)
            if source is None:
                raise not_found(Code.UNKNOWN_MESSAGE, "Unknown Message")
            record.original_message_id = source.id
            if kind == UPDATE_MESSAGE:
                validate_message(data, creating=False, file_count=len(call.files), prefix=("data",))
                self.apply_message_body(source, data, call.files, creating=False)
                self.mark_edited(source)
                self.world.message_updated(source)
                resource["message"] = self.state.message_payload(source)
        elif kind == AUTOCOMPLETE_RESULT:
            validate_choices(data.get("choices"))
            record.choices = list(data.get("choices") or [])
        elif kind == MODAL:
            validate_modal(data)
            record.modal = data
        return resource

    def _new_message(self, record: InteractionRecord) -> Message:
        app_id = self.state.application_id
        return Message(
            self.state.next_id(),
            record.channel_id,
            record.guild_id,
            self.state.bot_id,
            type=20 if record.type == APPLICATION_COMMAND else 0,
            webhook_id=app_id,
            application_id=app_id,
            interaction_id=record.id,
        )

    # --- webhooks: follow-ups and response edits --------------------------------------

    def _record(self, call: Call) -> InteractionRecord:
        token = call.param("webhook_token")
        if call.snowflake("webhook_id") == self.state.application_id:
            for record in self.state.interactions.values():
                if record.token == token:
                    if time.monotonic() - record.created > self.config.token_lifetime:
                        raise ApiError(401, Code.INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
                    return record
        raise not_found(Code.UNKNOWN_WEBHOOK, "Unknown Webhook")

    def _target(self, record: InteractionRecord, call: Call) -> Message:
        raw = call.request.match_info.get("message_id")
        if raw is None:
            message_id = record.original_message_id
        else:
            message_id = call.snowflake("message_id")
            owned = {record.original_message_id, record.source_message_id, *record.followup_ids}
            if message_id not in owned:
                message_id = None
        message = self.state.messages.get(message_id or 0)
        if message is None:
            raise not_found(Code.UNKNOWN_MESSAGE, "Unknown Message")
        return message

    async def followup(self, call: Call) -> Any:
        """POST /webhooks/{application_id}/{token}: the first one after a defer fills the loading message."""
        record = self._record(call)
        if record.response_type is None:
            raise not_found(Code.UNKNOWN_WEBHOOK, "Unknown Webhook")
        body = call.json()
        validate_message(body, creating=True, file_count=len(call.files))
        original = self.state.messages.get(record.original_message_id or 0)
        if original is not None and original.flags & FLAG_LOADING:
            original.flags &= ~FLAG_LOADING
            self.apply_message_body(original, body, call.files, creating=True)
            self.world.message_updated(original)
            message = original
        else:
            message = self._new_message(record)
            message.flags |= int(body.get("flags") or 0) & FLAG_EPHEMERAL
            self.apply_message_body(message, body, call.files, creating=True)
            self.world.create_message(message)
            record.followup_ids.append(message.id)
        record.done.set()
        if call.query("wait") not in ("1", "true", "True"):
            return Reply(204)
        return self.state.message_payload(message)

    async def get_response(self, call: Call) -> JSON:
        """GET .../messages/@original or /messages/{message_id}."""
        record = self._record(call)
        return self.state.message_payload(self._target(record, call))

    async def edit_response(self, call: Call) -> JSON:
        """PATCH .../messages/@original or /messages/{message_id}."""
        record = self._record(call)
        message = self._target(record, call)
        body = call.json()
        validate_message(body, creating=False, file_count=len(call.files))
        self.apply_message_body(message, body, call.files, creating=False)
        if message.flags & FLAG_LOADING:
            message.flags &= ~FLAG_LOADING
        else:
            self.mark_edited(message)
        self.world.message_updated(message)
        record.done.set()
        return self.state.message_payload(message)

    async def delete_response(self, call: Call) -> None:
        """DELETE .../messages/@original or /messages/{message_id}."""
        record = self._record(call)
        message = self._target(record, call)
        self.world.delete_message(message)
        record.done.set()
