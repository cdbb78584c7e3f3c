"""Tests for the Discord OpenAPI exchange validator."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.openapi_validator import (
    DEFAULT_SPEC_PATH,
    DiscordSchemaValidator,
    OpenApiValidator,
    format_report,
)

USER: dict[str, Any] = {
    "id": "80351110224678912",
    "username": "nelly",
    "avatar": None,
    "discriminator": "0",
    "public_flags": 0,
    "flags": 0,
    "global_name": "Nelly",
    "primary_guild": None,
    "bot": True,
}

MESSAGE: dict[str, Any] = {
    "id": "1234567890123456789",
    "channel_id": "987654321098765432",
    "type": 0,
    "content": "hi",
    "author": USER,
    "mentions": [],
    "mention_roles": [],
    "attachments": [],
    "embeds": [],
    "components": [],
    "timestamp": "2024-05-01T12:00:00.000000+00:00",
    "edited_timestamp": None,
    "flags": 0,
    "pinned": False,
    "mention_everyone": False,
    "tts": False,
}

COMMANDS: list[dict[str, Any]] = [
    {
        "type": 1,
        "name": "project",
        "description": "Find a civic tech project",
        "name_localizations": {"fr": "projet", "es-ES": "proyecto"},
        "description_localizations": {"fr": "Trouver un projet", "es-ES": "Buscar un proyecto"},
        "contexts": [0],
        "integration_types": [0],
        "default_member_permissions": None,
        "options": [
            {
                "type": 1,
                "name": "search",
                "description": "Search projects",
                "name_localizations": {"fr": "chercher"},
                "description_localizations": {"fr": "Chercher des projets"},
                "options": [
                    {
                        "type": 3,
                        "name": "query",
                        "description": "Words to look for",
                        "required": True,
                        "autocomplete": True,
                        "max_length": 100,
                    },
                    {
                        "type": 4,
                        "name": "limit",
                        "description": "How many results",
                        "min_value": 1,
                        "max_value": 25,
                    },
                    {
                        "type": 3,
                        "name": "language",
                        "description": "Language of the project",
                        "choices": [
                            {"name": "English", "value": "en", "name_localizations": {"fr": "Anglais"}},
                            {"name": "French", "value": "fr", "name_localizations": {"fr": "Français"}},
                        ],
                    },
                ],
            },
            {"type": 1, "name": "random", "description": "A random project"},
        ],
    },
    {"type": 2, "name": "Chapter profile", "description": ""},
]


def command_response(command: dict[str, Any], index: int) -> dict[str, Any]:
    """A command object as Discord returns it after a bulk overwrite."""
    return {
        **command,
        "id": str(1100 + index),
        "application_id": "555",
        "version": "1200",
        "default_member_permissions": None,
        "dm_permission": True,
        "nsfw": False,
    }


@pytest.fixture(scope="module")
def validator() -> OpenApiValidator:
    return OpenApiValidator.load()


def assert_valid(violations: list[str]) -> None:
    assert not violations, format_report(violations)


def test_message_fixture_has_every_required_field() -> None:
    spec = json.loads(DEFAULT_SPEC_PATH.read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    assert set(schemas["MessageResponse"]["required"]) <= MESSAGE.keys()
    assert set(schemas["UserResponse"]["required"]) <= USER.keys()


def test_load_is_cached(validator: OpenApiValidator) -> None:
    assert OpenApiValidator.load() is validator
    assert OpenApiValidator.load(str(DEFAULT_SPEC_PATH)) is validator


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("POST", "/channels/123/messages", "/channels/{channel_id}/messages"),
        ("GET", "/users/@me", "/users/@me"),
        ("GET", "/users/42", "/users/{user_id}"),
        ("GET", "/channels/1/messages/pins", "/channels/{channel_id}/messages/pins"),
        ("GET", "/channels/1/messages/2", "/channels/{channel_id}/messages/{message_id}"),
        (
            "PATCH",
            "/webhooks/1/tok/messages/@original",
            "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
        ),
        (
            "PATCH",
            "/webhooks/1/tok/messages/9",
            "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        ),
        (
            "POST",
            "/interactions/5/tok/callback",
            "/interactions/{interaction_id}/{interaction_token}/callback",
        ),
        (
            "PUT",
            "/applications/1/guilds/2/commands",
            "/applications/{application_id}/guilds/{guild_id}/commands",
        ),
        ("put", "/api/v10/applications/1/commands/", "/applications/{application_id}/commands"),
    ],
)
def test_find_operation(validator: OpenApiValidator, method: str, path: str, template: str) -> None:
    operation = validator.find_operation(method, path)
    assert operation is not None
    assert operation.path_template == template
    assert operation.method == method.upper()


def test_find_operation_misses(validator: OpenApiValidator) -> None:
    assert validator.find_operation("GET", "/nope") is None
    assert validator.find_operation("PATCH", "/channels/1/messages") is None


def test_create_message_valid(validator: OpenApiValidator) -> None:
    request = {"content": "hi", "allowed_mentions": {"parse": []}}
    assert_valid(validator.validate("POST", "/channels/123/messages", {}, request, 200, MESSAGE))


def test_list_messages_with_query(validator: OpenApiValidator) -> None:
    query = {"limit": "50", "before": "1234567890123456789"}
    assert_valid(validator.validate("GET", "/channels/123/messages", query, None, 200, [MESSAGE]))


def test_bulk_overwrite_commands_valid(validator: OpenApiValidator) -> None:
    response = [command_response(command, i) for i, command in enumerate(COMMANDS)]
    for path in ("/applications/555/commands", "/applications/555/guilds/777/commands"):
        assert_valid(validator.validate("PUT", path, {}, COMMANDS, 200, response))


def test_interaction_callback_message_valid(validator: OpenApiValidator) -> None:
    request = {"type": 4, "data": {"content": "Hello!", "flags": 64, "allowed_mentions": {"parse": []}}}
    assert_valid(validator.validate("POST", "/interactions/5/tok/callback", {}, request, 204, None))


def test_interaction_callback_autocomplete_valid(validator: OpenApiValidator) -> None:
    request = {"type": 8, "data": {"choices": [{"name": "Decidim", "value": "decidim"}]}}
    assert_valid(validator.validate("POST", "/interactions/5/tok/callback", {}, request, 204, None))


def test_interaction_callback_with_response(validator: OpenApiValidator) -> None:
    request = {"type": 4, "data": {"content": "Hello!"}}
    response = {
        "interaction": {"id": "5", "type": 2, "response_message_id": "6"},
        "resource": {"type": 4, "message": MESSAGE},
    }
    query = {"with_response": "true"}
    assert_valid(validator.validate("POST", "/interactions/5/tok/callback", query, request, 200, response))


def test_error_responses_valid(validator: OpenApiValidator) -> None:
    not_found = {"code": 10003, "message": "Unknown Channel"}
    assert_valid(validator.validate("GET", "/channels/1/messages", {}, None, 404, not_found))
    limited = {"code": 0, "message": "You are being rate limited.", "retry_after": 1.5, "global": False}
    assert_valid(validator.validate("POST", "/channels/1/messages", {}, {"content": "x"}, 429, limited))


def test_rate_limit_headers_have_their_documented_types(validator: OpenApiValidator) -> None:
    limited = {"code": 0, "message": "You are being rate limited.", "retry_after": 1.5, "global": False}
    good = {"X-RateLimit-Limit": "5", "X-RateLimit-Reset-After": "1.500", "X-RateLimit-Scope": "user"}
    assert_valid(validator.validate("POST", "/channels/1/messages", {}, {"content": "x"}, 429, limited, good))
    bad = {"x-ratelimit-limit": "five", "X-RateLimit-Reset": "soon"}
    violations = validator.validate("POST", "/channels/1/messages", {}, {"content": "x"}, 429, limited, bad)
    assert len(violations) == 2 and "X-RateLimit-Limit='five'" in violations[0]


def test_content_not_a_string(validator: OpenApiValidator) -> None:
    violations = validator.validate("POST", "/channels/123/messages", {}, {"content": ["hi"]}, 200, MESSAGE)
    assert len(violations) == 1
    assert "request body" in violations[0]
    assert "$.content" in violations[0]


def test_unknown_route(validator: OpenApiValidator) -> None:
    violations = validator.validate("GET", "/nope", {}, None, 200, {})
    assert violations == ["GET /nope: no route in the spec matches this path"]


def test_wrong_method(validator: OpenApiValidator) -> None:
    violations = validator.validate("PATCH", "/channels/1/messages", {}, {"content": "x"}, 200, MESSAGE)
    assert len(violations) == 1
    assert "method PATCH is not defined" in violations[0]
    assert "GET, POST" in violations[0]


def test_unknown_interaction_callback_type(validator: OpenApiValidator) -> None:
    request = {"type": 99, "data": {"content": "hi"}}
    violations = validator.validate("POST", "/interactions/5/tok/callback", {}, request, 204, None)
    assert len(violations) == 1
    assert "matches none of the 7 alternatives" in violations[0]
    assert "99" in violations[0]


def test_missing_required_response_field(validator: OpenApiValidator) -> None:
    response = {key: value for key, value in MESSAGE.items() if key != "author"}
    violations = validator.validate("POST", "/channels/1/messages", {}, {"content": "hi"}, 200, response)
    assert len(violations) == 1
    assert "'author' is a required property" in violations[0]


def test_query_parameters(validator: OpenApiValidator) -> None:
    violations = validator.validate("GET", "/channels/1/messages", {"limit": "500", "page": "2"}, None, 200, [])
    assert len(violations) == 2
    assert any("'page' is not declared" in v for v in violations)
    assert any("limit='500'" in v and "maximum of 100" in v for v in violations)
    # Operations without declared query parameters ignore the query string.
    assert_valid(validator.validate("GET", "/users/42", {"x": "1"}, None, 200, USER))


def test_path_parameter_must_be_snowflake(validator: OpenApiValidator) -> None:
    violations = validator.validate("GET", "/channels/None/messages", {}, None, 200, [])
    assert len(violations) == 1
    assert "channel_id='None'" in violations[0]


def test_bodies_where_none_belong(validator: OpenApiValidator) -> None:
    path = "/channels/1/messages/2"
    violations = validator.validate("DELETE", path, {}, {"reason": "spam"}, 204, {"ok": True})
    assert len(violations) == 2
    assert any("takes no request body" in v for v in violations)
    assert any("status 204 must have no body" in v for v in violations)


def test_missing_request_and_response_bodies(validator: OpenApiValidator) -> None:
    path = "/interactions/5/tok/callback"
    assert any("request body is required" in v for v in validator.validate("POST", path, {}, None, 204, None))
    violations = validator.validate("POST", "/channels/1/messages", {}, {"content": "x"}, 200, None)
    assert any("must have a JSON body" in v for v in violations)


def test_undocumented_status(validator: OpenApiValidator) -> None:
    violations = validator.validate("GET", "/users/@me", {}, None, 500, None)
    assert len(violations) == 1
    assert "status 500 is not documented" in violations[0]


def test_multipart_only_operation_ignores_file_parts(validator: OpenApiValidator) -> None:
    fields = {"name": "wave", "tags": "wave", "description": "hello"}
    violations = validator.validate("POST", "/guilds/1/stickers", {}, fields, 400, {"code": 1, "message": "x"})
    assert_valid(violations)
    violations = validator.validate("POST", "/guilds/1/stickers", {}, {"tags": "wave"}, 400, None)
    assert any("'name' is a required property" in v for v in violations)


def test_snowflake_and_integer_leniency(validator: OpenApiValidator) -> None:
    as_ints = {**MESSAGE, "id": 123, "channel_id": 456, "author": {**USER, "id": 789}}
    assert_valid(validator.validate("POST", "/channels/1/messages", {}, {"content": "hi"}, 200, as_ints))
    as_strings = {**MESSAGE, "id": "123", "flags": "0"}
    assert_valid(validator.validate("POST", "/channels/1/messages", {}, {"content": "hi"}, 200, as_strings))
    commands = copy.deepcopy(COMMANDS)
    commands[0]["default_member_permissions"] = "32"
    assert_valid(validator.validate("PUT", "/applications/1/commands", {}, commands, 200, []))


def test_leniency_keeps_real_mistakes() -> None:
    snowflake = {"type": "string", "pattern": "^(0|[1-9][0-9]*)$"}
    check = DiscordSchemaValidator(snowflake)
    assert check.is_valid("123")
    assert check.is_valid(123)
    assert not check.is_valid(-1)
    assert not check.is_valid(True)
    assert not check.is_valid("12a")
    assert not DiscordSchemaValidator({"type": "string"}).is_valid(123)
    integer = DiscordSchemaValidator({"type": "integer", "maximum": 10})
    assert integer.is_valid("7")
    assert not integer.is_valid("11")
    assert not integer.is_valid("seven")
    assert not integer.is_valid(False)


def test_one_of_read_as_any_of(validator: OpenApiValidator) -> None:
    schema = {"oneOf": [{"type": "string"}, {"type": "string", "maxLength": 5}]}
    assert DiscordSchemaValidator(schema).is_valid("both")
    assert not DiscordSchemaValidator(schema).is_valid(1)
    # "123" is both an int64 nonce (integer leniency) and a string nonce.
    request = {"content": "hi", "nonce": "123"}
    assert_valid(validator.validate("POST", "/channels/1/messages", {}, request, 200, MESSAGE))


def test_format_report() -> None:
    assert format_report([]) == "Discord OpenAPI violations: none"
    report = format_report(["a", "b"], title="Exchange")
    assert report == "Exchange (2):\n  - a\n  - b"


def test_validates_each_kind_of_exchange_a_session_makes(validator: OpenApiValidator) -> None:
    """Messages, listings, command sync, callbacks and webhook edits (their speed: bench/sandbox_bench.py)."""
    response = [command_response(command, i) for i, command in enumerate(COMMANDS)]
    exchanges: list[tuple[str, str, dict[str, str], object | None, int, object | None]] = [
        (
            "POST",
            "/channels/1/messages",
            {},
            {"content": "hi", "allowed_mentions": {"parse": []}},
            200,
            MESSAGE,
        ),
        ("GET", "/channels/1/messages", {"limit": "10"}, None, 200, [MESSAGE, MESSAGE]),
        ("PUT", "/applications/1/commands", {}, COMMANDS, 200, response),
        ("POST", "/interactions/5/tok/callback", {}, {"type": 4, "data": {"content": "x"}}, 204, None),
        ("PATCH", "/webhooks/1/tok/messages/@original", {}, {"content": "edited"}, 200, MESSAGE),
    ]
    for exchange in exchanges:
        assert_valid(validator.validate(*exchange))
