"""Discord's JSON error responses: codes and the exception carrying them."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class Code(IntEnum):
    """JSON error codes used by Discord's API."""

    GENERAL = 0
    UNKNOWN_APPLICATION = 10002
    UNKNOWN_CHANNEL = 10003
    UNKNOWN_GUILD = 10004
    UNKNOWN_MEMBER = 10007
    UNKNOWN_MESSAGE = 10008
    UNKNOWN_OVERWRITE = 10009
    UNKNOWN_ROLE = 10011
    UNKNOWN_USER = 10013
    UNKNOWN_WEBHOOK = 10015
    UNKNOWN_INTERACTION = 10062
    UNKNOWN_APPLICATION_COMMAND = 10063
    UNKNOWN_SCHEDULED_EVENT = 10070
    MAX_SCHEDULED_EVENTS = 30038
    REQUEST_ENTITY_TOO_LARGE = 40005
    ALREADY_CROSSPOSTED = 40033
    FORUM_MESSAGE = 40058
    TAG_REQUIRED = 40067
    INTERACTION_ALREADY_ACKNOWLEDGED = 40060
    MISSING_ACCESS = 50001
    CANNOT_EXECUTE_IN_DM = 50003
    CANNOT_EDIT_OTHERS_MESSAGE = 50005
    EMPTY_MESSAGE = 50006
    CANNOT_MESSAGE_USER = 50007
    MISSING_PERMISSIONS = 50013
    INVALID_CHANNEL_TYPE = 50024
    INVALID_WEBHOOK_TOKEN = 50027
    INVALID_ROLE = 50028
    THREAD_ARCHIVED = 50083
    INVALID_FORM_BODY = 50035
    INVALID_JSON = 50109
    THREAD_ALREADY_CREATED = 160004
    EVENT_FINISHED = 180000


class ApiError(Exception):
    """An error answered with Discord's `{"code", "message", "errors"}` body."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} (error code: {code}): {message}")
        self.status = status
        self.code = int(code)
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON body Discord sends for this error."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def not_found(code: Code, message: str) -> ApiError:
    """A 404 for an unknown entity."""
    return ApiError(404, code, message)


def missing_permissions() -> ApiError:
    """403 50013."""
    return ApiError(403, Code.MISSING_PERMISSIONS, "Missing Permissions")


def in_dm() -> ApiError:
    """403 50003: the action needs a guild channel."""
    return ApiError(403, Code.CANNOT_EXECUTE_IN_DM, "Cannot execute action on a DM channel")


def missing_access() -> ApiError:
    """403 50001."""
    return ApiError(403, Code.MISSING_ACCESS, "Missing Access")


def invalid_form(errors: dict[str, Any]) -> ApiError:
    """400 50035 with Discord's nested `errors` tree."""
    return ApiError(400, Code.INVALID_FORM_BODY, "Invalid Form Body", errors)
