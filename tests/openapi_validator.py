"""Check REST exchanges with Discord against Discord's published OpenAPI 3.1 spec.

The spec (``tests/data/discord_openapi.json``, MIT, from discord/discord-api-spec) is
loaded once and shared; JSON schema validators are compiled lazily, once per schema
location, and cached.  Two leniencies documented in the spec repository's README are
applied, since Discord and real clients rely on them:

* integer fields accept strings of digits, and snowflake strings (``type: string`` with
  pattern ``^(0|[1-9][0-9]*)$``) accept non-negative integers;
* ``oneOf`` is read as ``anyOf`` (Discord's unions mean "one of these shapes", and the
  shapes often overlap because most fields are optional).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend
from referencing import Registry
from referencing.jsonschema import DRAFT202012

__all__ = [
    "DEFAULT_SPEC_PATH",
    "DiscordSchemaValidator",
    "OpenApiValidator",
    "Operation",
    "Parameter",
    "format_report",
]

DEFAULT_SPEC_PATH = Path(__file__).resolve().parent / "data" / "discord_openapi.json"
SPEC_URI = "urn:discord-api-spec:openapi.json"
SNOWFLAKE_PATTERN = "^(0|[1-9][0-9]*)$"
HTTP_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})

_INTEGER_STRING = re.compile(r"-?[0-9]+")
_API_PREFIX = re.compile(r"^/api(?:/v[0-9]+)?(?=/|$)")
_MAX_ERRORS_PER_BODY = 20
_MAX_MESSAGE_LENGTH = 240

_KeywordFn = Callable[[Any, Any, Any, Any], Iterator[ValidationError]]
_BASE_KEYWORDS: Mapping[str, _KeywordFn] = Draft202012Validator.VALIDATORS


def _is_integer_string(instance: object) -> bool:
    return isinstance(instance, str) and _INTEGER_STRING.fullmatch(instance) is not None


def _is_lenient_integer(checker: object, instance: object) -> bool:
    """Integer type check that also accepts strings of digits."""
    if isinstance(instance, bool):
        return False
    if isinstance(instance, int):
        return True
    if isinstance(instance, float):
        return instance.is_integer()
    return _is_integer_string(instance)


def _lenient_type(
    validator: Validator, types: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``type`` keyword that lets non-negative integers stand in for snowflake strings."""
    allowed = [types] if isinstance(types, str) else list(types)
    if (
        "string" in allowed
        and schema.get("pattern") == SNOWFLAKE_PATTERN
        and isinstance(instance, int)
        and not isinstance(instance, bool)
        and instance >= 0
    ):
        return
    yield from _BASE_KEYWORDS["type"](validator, types, instance, schema)


def _any_of(
    validator: Validator, alternatives: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``anyOf`` (also used for ``oneOf``) that collects branch errors only when all fail."""
    for subschema in alternatives:
        if validator.evolve(schema=subschema).is_valid(instance):
            return
    context: list[ValidationError] = []
    for index, subschema in enumerate(alternatives):
        context.extend(validator.descend(instance, subschema, schema_path=index))
    yield ValidationError(
        f"{type(instance).__name__} value is not valid under any of the given schemas", context=context
    )


def _coercing_numeric(keyword: str) -> _KeywordFn:
    """Wrap a numeric keyword so integer strings are compared by their value."""
    base = _BASE_KEYWORDS[keyword]

    def check(validator: Validator, value: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
        if _is_integer_string(instance):
            instance = int(instance)
        yield from base(validator, value, instance, schema)

    return check


# Draft 2020-12 with Discord's integer/snowflake leniency and ``oneOf`` read as ``anyOf``.
DiscordSchemaValidator: type[Validator] = extend(
    Draft202012Validator,
    validators={
        "type": _lenient_type,
        "anyOf": _any_of,
        "oneOf": _any_of,
        **{
            keyword: _coercing_numeric(keyword)
            for keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
        },
    },
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_lenient_integer),
)


def _escape(segment: str) -> str:
    """Escape one JSON pointer segment so it survives inside a URI fragment."""
    return quote(segment.replace("~", "~0").replace("/", "~1"), safe="~")


def _pointer(*segments: str) -> str:
    return "".join("/" + _escape(segment) for segment in segments)


def _unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


def _shorten(text: str, limit: int = _MAX_MESSAGE_LENGTH) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Parameter:
    """A path or query parameter of an operation."""

    name: str
    location: str
    required: bool
    schema_pointer: str | None


@dataclass(frozen=True)
class Operation:
    """One operation (method on a path template) of the spec."""

    method: str
    path_template: str
    operation_id: str
    pointer: str
    definition: Mapping[str, Any] = field(compare=False, repr=False)
    parameters: tuple[Parameter, ...] = field(default=(), compare=False, repr=False)

    @cached_property
    def segments(self) -> tuple[str, ...]:
        """Path template split into segments."""
        return tuple(self.path_template.strip("/").split("/"))

    def path_params(self, path: str) -> dict[str, str]:
        """Values of the template's ``{params}`` in a concrete path that matches it."""
        values = _split(path)
        return {
            template[1:-1]: value for template, value in zip(self.segments, values, strict=True) if _is_param(template)
        }

    @property
    def label(self) -> str:
        """``METHOD /template (operationId)``, for messages."""
        return f"{self.method} {self.path_template} ({self.operation_id})"


@dataclass(frozen=True)
class _Route:
    template: str
    segments: tuple[str, ...]
    operations: Mapping[str, Operation]

    @property
    def rank(self) -> tuple[bool, ...]:
        return tuple(_is_param(segment) for segment in self.segments)

    def matches(self, segments: Sequence[str]) -> bool:
        return len(segments) == len(self.segments) and all(
            _is_param(template) or template == value for template, value in zip(self.segments, segments, strict=True)
        )


def _is_param(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def _normalize(path: str) -> str:
    """Reduce a path or URL to the spec's form: no host, query, ``/api/vN`` or trailing slash."""
    bare = _API_PREFIX.sub("", urlsplit(path).path) or "/"
    return bare.rstrip("/") or "/"


def _split(path: str) -> tuple[str, ...]:
    return tuple(_normalize(path).strip("/").split("/"))


# Discord reads True, true and 1 as true in boolean query strings (and other values as false).
_TRUE_WORDS = frozenset({"true", "1"})
_BOOLEAN_WORDS = frozenset({"true", "false", "1", "0"})


def _coerce_query_value(value: str) -> object:
    """Interpret a query string value the way Discord parses it."""
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return json.loads(value)
    except ValueError:
        return value


def format_report(violations: Iterable[str], *, title: str = "Discord OpenAPI violations") -> str:
    """Render violations as a readable block, e.g. for an assertion message."""
    items = list(violations)
    if not items:
        return f"{title}: none"
    lines = [f"{title} ({len(items)}):"]
    lines.extend(f"  - {item}" for item in items)
    return "\n".join(lines)


class OpenApiValidator:
    """Validates Discord REST exchanges (request and response) against the OpenAPI spec."""

    _loaded: ClassVar[dict[Path, OpenApiValidator]] = {}

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec))
        self._validators: dict[str, Validator] = {}
        self._routes = self._build_routes(spec)
        self._routes_by_length: dict[int, list[_Route]] = {}
        for route in sorted(self._routes, key=lambda r: r.rank):
            self._routes_by_length.setdefault(len(route.segments), []).append(route)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_SPEC_PATH) -> OpenApiValidator:
        """Return the (cached) validator for the spec file at ``path``."""
        key = Path(path).resolve()
        if key not in cls._loaded:
            with key.open(encoding="utf-8") as handle:
                cls._loaded[key] = cls(json.load(handle))
        return cls._loaded[key]

    # -- spec indexing -------------------------------------------------------------------

    def _deref(self, node: Mapping[str, Any], pointer: str) -> tuple[Mapping[str, Any], str]:
        """Follow OpenAPI-level ``$ref``s (responses, parameters, request bodies)."""
        seen: set[str] = set()
        while "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#") or ref in seen:
                raise ValueError(f"unsupported reference {ref!r} at {pointer}")
            seen.add(ref)
            pointer = ref[1:]
            node = self._resolve(pointer)
        return node, pointer

    def _resolve(self, pointer: str) -> Any:
        """Node at a (URI-fragment encoded) JSON pointer into the spec."""
        node: Any = self.spec
        for raw in unquote(pointer).split("/")[1:]:
            segment = _unescape(raw)
            node = node[int(segment)] if isinstance(node, list) else node[segment]
        return node

    def _parameters(self, sources: Iterable[tuple[Sequence[Any], str]]) -> tuple[Parameter, ...]:
        merged: dict[tuple[str, str], Parameter] = {}
        for params, base in sources:
            for index, raw in enumerate(params):
                param, pointer = self._deref(raw, f"{base}/{index}")
                schema_pointer = f"{pointer}/schema" if "schema" in param else None
                merged[(param["name"], param["in"])] = Parameter(
                    name=param["name"],
                    location=param["in"],
                    required=bool(param.get("required", False)),
                    schema_pointer=schema_pointer,
                )
        return tuple(merged.values())

    def _build_routes(self, spec: Mapping[str, Any]) -> list[_Route]:
        routes = []
        for template, item in spec.get("paths", {}).items():
            item_pointer = _pointer("paths", template)
            operations: dict[str, Operation] = {}
            for key, definition in item.items():
                method = key.upper()
                if method not in HTTP_METHODS:
                    continue
                op_pointer = f"{item_pointer}/{_escape(key)}"
                parameters = self._parameters(
                    [
                        (item.get("parameters", []), f"{item_pointer}/parameters"),
                        (definition.get("parameters", []), f"{op_pointer}/parameters"),
                    ]
                )
                operations[method] = Operation(
                    method=method,
                    path_template=template,
                    operation_id=definition.get("operationId", f"{method} {template}"),
                    pointer=op_pointer,
                    definition=definition,
                    parameters=parameters,
                )
            routes.append(_Route(template, tuple(template.strip("/").split("/")), operations))
        return routes

    # -- lookup --------------------------------------------------------------------------

    def _matching_routes(self, path: str) -> list[_Route]:
        segments = _split(path)
        return [route for route in self._routes_by_length.get(len(segments), []) if route.matches(segments)]

    def find_operation(self, method: str, path: str) -> Operation | None:
        """Operation for a concrete path (without ``/api/v10``); literal segments win over params."""
        wanted = method.upper()
        for route in self._matching_routes(path):
            if wanted in route.operations:
                return route.operations[wanted]
        return None

    # -- schema validation ---------------------------------------------------------------

    def _validator(self, schema_pointer: str) -> Validator:
        validator = self._validators.get(schema_pointer)
        if validator is None:
            schema = {"$ref": f"{SPEC_URI}#{schema_pointer}"}
            validator = DiscordSchemaValidator(schema, registry=self._registry)
            self._validators[schema_pointer] = validator
        return validator

    def schema_errors(self, schema_pointer: str, instance: object) -> list[str]:
        """Violations of ``instance`` against the schema at a JSON pointer into the spec."""
        validator = self._validator(schema_pointer)
        if validator.is_valid(instance):
            return []
        errors = sorted(validator.iter_errors(instance), key=lambda e: e.json_path)
        described = [_describe(error) for error in errors[:_MAX_ERRORS_PER_BODY]]
        if len(errors) > _MAX_ERRORS_PER_BODY:
            described.append(f"... and {len(errors) - _MAX_ERRORS_PER_BODY} more")
        return described

    def _accepts(self, schema_pointer: str, instance: object) -> bool:
        return self._validator(schema_pointer).is_valid(instance)

    # -- exchange validation -------------------------------------------------------------

    def validate(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        request_json: object | None,
        status: int,
        response_json: object | None,
        response_headers: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Violations of one request/response exchange; empty when it conforms.

        ``path`` is the concrete path (an ``/api/vN`` prefix, host or query string is
        ignored).  ``request_json`` is the JSON body, or for multipart requests the decoded
        ``payload_json`` part (checked against the operation's ``application/json`` schema;
        for multipart-only operations, the non-file form fields).  ``None`` means no body.
        Response headers the spec documents for the status (the ``X-RateLimit-*`` family) must
        parse as their schema's type.
        """
        wanted = method.upper()
        routes = self._matching_routes(path)
        if not routes:
            return [f"{wanted} {path}: no route in the spec matches this path"]
        operation = self.find_operation(wanted, path)
        if operation is None:
            defined = sorted({m for route in routes for m in route.operations})
            return [
                f"{wanted} {path}: method {wanted} is not defined for {routes[0].template} "
                f"(defined: {', '.join(defined)})"
            ]
        problems = [
            *self._check_path(operation, path),
            *self._check_query(operation, query or {}),
            *self._check_request(operation, request_json),
            *self._check_response(operation, status, response_json),
            *self._check_headers(operation, status, response_headers or {}),
        ]
        return [f"{operation.label}: {problem}" for problem in problems]

    def _check_path(self, operation: Operation, path: str) -> list[str]:
        values = operation.path_params(path)
        problems = []
        for param in operation.parameters:
            if param.location != "path" or param.schema_pointer is None or param.name not in values:
                continue
            value = values[param.name]
            if not self._accepts(param.schema_pointer, value):
                problems.append(f"path parameter {param.name}={value!r} does not match its schema")
        return problems

    def _check_query(self, operation: Operation, query: Mapping[str, str]) -> list[str]:
        declared = {p.name: p for p in operation.parameters if p.location == "query"}
        problems = [
            f"required query parameter {param.name!r} is missing"
            for param in declared.values()
            if param.required and param.name not in query
        ]
        for name, value in query.items():
            param = declared.get(name)
            if param is None:
                if declared:
                    allowed = ", ".join(sorted(declared))
                    problems.append(f"query parameter {name!r} is not declared (declared: {allowed})")
                continue
            if param.schema_pointer is None:
                continue
            raw = str(value)
            if not (
                self._accepts(param.schema_pointer, raw)
                or self._accepts(param.schema_pointer, _coerce_query_value(raw))
                or (raw.lower() in _BOOLEAN_WORDS and self._accepts(param.schema_pointer, raw.lower() in _TRUE_WORDS))
            ):
                errors = self.schema_errors(param.schema_pointer, _coerce_query_value(raw))
                problems.append(f"query parameter {name}={raw!r}: {'; '.join(errors)}")
        return problems

    def _check_request(self, operation: Operation, request_json: object | None) -> list[str]:
        raw_body = operation.definition.get("requestBody")
        if raw_body is None:
            if request_json is None or request_json == {}:
                return []
            return ["the operation takes no request body, but one was sent"]
        body, pointer = self._deref(raw_body, f"{operation.pointer}/requestBody")
        content = body.get("content", {})
        file_fields: tuple[str, ...] = ()
        if "application/json" in content:
            schema_pointer = f"{pointer}/content/{_escape('application/json')}/schema"
        elif "multipart/form-data" in content:
            schema_pointer = f"{pointer}/content/{_escape('multipart/form-data')}/schema"
            file_fields = _binary_properties(content["multipart/form-data"].get("schema", {}))
        else:
            return []
        if file_fields and isinstance(request_json, Mapping):
            request_json = {**dict.fromkeys(file_fields, ""), **request_json}
        if request_json is None:
            if body.get("required") and not (
                self._accepts(schema_pointer, None) or self._accepts(schema_pointer, dict.fromkeys(file_fields, ""))
            ):
                return ["a request body is required, but none was sent"]
            return []
        return [f"request body {error}" for error in self.schema_errors(schema_pointer, request_json)]

    def _response(self, operation: Operation, status: int) -> tuple[Mapping[str, Any], str] | None:
        responses: Mapping[str, Any] = operation.definition.get("responses", {})
        candidates = (str(status), f"{status // 100}XX", f"{status // 100}xx", "default")
        key = next((k for k in candidates if k in responses), None)
        if key is None:
            return None
        return self._deref(responses[key], f"{operation.pointer}/responses/{_escape(key)}")

    def _check_headers(self, operation: Operation, status: int, headers: Mapping[str, str]) -> list[str]:
        found = self._response(operation, status)
        if found is None or not headers:
            return []
        response, pointer = found
        sent = {name.lower(): value for name, value in headers.items()}
        problems = []
        for name, raw in (response.get("headers") or {}).items():
            value = sent.get(name.lower())
            if value is None:
                continue
            header, header_pointer = self._deref(raw, f"{pointer}/headers/{_escape(name)}")
            if "schema" not in header:
                continue
            kind = header["schema"].get("type")
            try:
                typed: object = int(value) if kind == "integer" else float(value) if kind == "number" else value
            except ValueError:
                problems.append(f"header {name}={value!r} is not of type {kind}")
                continue
            problems.extend(
                f"header {name}: {error}" for error in self.schema_errors(f"{header_pointer}/schema", typed)
            )
        return problems

    def _check_response(self, operation: Operation, status: int, response_json: object | None) -> list[str]:
        found = self._response(operation, status)
        if found is None:
            documented = ", ".join(operation.definition.get("responses", {}))
            return [f"status {status} is not documented (documented: {documented})"]
        response, pointer = found
        content = response.get("content") or {}
        if status == 204 or not content:
            if response_json is None:
                return []
            return [f"status {status} must have no body, got {_shorten(repr(response_json), 80)}"]
        if "application/json" not in content:
            return []
        schema_pointer = f"{pointer}/content/{_escape('application/json')}/schema"
        if response_json is None:
            if self._accepts(schema_pointer, None):
                return []
            return [f"status {status} response must have a JSON body, got none"]
        return [f"response {status} body {error}" for error in self.schema_errors(schema_pointer, response_json)]


def _binary_properties(schema: Mapping[str, Any]) -> tuple[str, ...]:
    """Top-level multipart properties that are file parts rather than JSON fields."""
    properties = schema.get("properties", {})
    return tuple(
        name
        for name, prop in properties.items()
        if isinstance(prop, Mapping) and prop.get("contentEncoding") == "binary"
    )


def _closest_alternative(error: ValidationError) -> tuple[int, list[ValidationError]]:
    """The union branch that came nearest to matching.

    Branches of the wrong JSON type rank last, then those whose discriminator (``const`` or
    ``enum``) failed; then the branch that got deepest into the instance, then fewest errors.
    """
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        index = sub.relative_schema_path[0] if sub.relative_schema_path else 0
        branches.setdefault(int(index), []).append(sub)

    def distance(item: tuple[int, list[ValidationError]]) -> tuple[bool, bool, int, int, int]:
        index, errors = item
        wrong_type = any(e.validator == "type" and not e.relative_path for e in errors)
        wrong_kind = any(e.validator in ("const", "enum") for e in errors)
        depth = max(len(e.relative_path) for e in errors)
        return wrong_type, wrong_kind, -depth, len(errors), index

    return min(branches.items(), key=distance)


def _describe(error: ValidationError) -> str:
    """One line for a validation error; unions report their closest alternative."""
    where = error.json_path
    if not error.context:
        return f"at {where}: {_shorten(error.message)}"
    count = len(error.validator_value) if isinstance(error.validator_value, list) else "?"
    index, errors = _closest_alternative(error)
    details = "; ".join(_describe(sub) for sub in errors[:3])
    text = f"at {where}: matches none of the {count} alternatives; closest is #{index + 1} ({details})"
    return _shorten(text, 2 * _MAX_MESSAGE_LENGTH)


def exchange_violations(exchanges: Iterable[Any], validator: OpenApiValidator | None = None) -> list[str]:
    """Spec violations of recorded REST exchanges (objects with the sandbox's `Exchange` fields).

    Injected server errors are not Discord's answers and are skipped (injected 429s are checked). A 400
    answer refused the request, so its request body is not checked, nor its nested `errors` tree, whose
    `_errors[].code` the spec types as integers while Discord sends strings such as "BASE_TYPE_MAX_LENGTH".
    The route template the server recorded must also be the spec's.
    """
    validator = validator or OpenApiValidator.load()
    found: list[str] = []
    for exchange in exchanges:
        if (exchange.injected and exchange.status != 429) or exchange.route_template is None:
            continue
        problems = validator.validate(
            exchange.method,
            exchange.path,
            exchange.query,
            exchange.request_json,
            exchange.status,
            exchange.response_json,
            getattr(exchange, "response_headers", None),
        )
        if exchange.status == 400:
            problems = [p for p in problems if ": request body " not in p and "body at $.errors" not in p]
        found.extend(problems)
        operation = validator.find_operation(exchange.method, exchange.path)
        if operation is not None and exchange.route_template != operation.path_template:
            found.append(f"{exchange.method} {exchange.path}: template {exchange.route_template} is not {operation}")
    return found
