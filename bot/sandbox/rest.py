"""REST plumbing: routing under /api/v10, JSON/multipart bodies, exchange log, fault injection."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from .errors import ApiError, Code, invalid_form
from .ratelimits import RateLimits

API_PREFIX = "/api/v10"
LOG_KEPT = 10_000  # REST exchanges, and gateway dispatches, a sandbox's logs keep by default
"""REST exchanges the log keeps, the newest: a long-running sandbox (the console, a benchmark) stays bounded."""
_FILE_FIELD = re.compile(r"^files?\[?(\d*)\]?$")


class _JsonText:
    """A JSON value stored in the attribute `text_name` as its text, and read back on access."""

    def __init__(self, text_name: str) -> None:
        self._text_name = text_name

    def __get__(self, owner: object, kind: type | None = None) -> Any:
        if owner is None:  # read on the class
            return self
        return json.loads(getattr(owner, self._text_name))

    def __set__(self, owner: object, value: Any) -> None:
        setattr(owner, self._text_name, json.dumps(value, separators=(",", ":")))


@dataclass
class Exchange:
    """One REST request and its answer, as the bot saw it.

    The bodies are kept as JSON text and read back on access: strings are invisible to the cyclic garbage
    collector, so a long log of nested payloads does not lengthen its passes in the process it shares.
    """

    method: str
    path: str
    route_template: str | None
    query: dict[str, str]
    status: int = 0
    injected: bool = False
    response_headers: dict[str, str] = field(default_factory=dict)
    _request: str = "null"
    _response: str = "null"
    request_json = _JsonText("_request")
    """The request's JSON body (None without one)."""
    response_json = _JsonText("_response")
    """The answer's JSON body (None without one)."""


@dataclass
class Fault:
    """An injected failure (or delay) for requests matching `method` and `pattern`."""

    method: str
    pattern: re.Pattern[str]
    status: int | None
    remaining: int
    delay: float | None
    retry_after: float
    skip: int = 0  # matching requests to let through first, so a fault can hit the N-th call
    scope: str = "user"  # a 429's X-RateLimit-Scope: "user" (the route's bucket), "global" or "shared"
    served: bool = False  # the request is carried out and only its answer is lost (a gateway's 502 after the work)

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request."""
        return self.remaining > 0 and self.method in ("*", method) and bool(self.pattern.search(path))

    def strikes(self) -> bool:
        """Count a matching request; whether this one is failed (the skipped ones pass)."""
        if self.skip > 0:
            self.skip -= 1
            return False
        self.remaining -= 1
        return True


@dataclass
class Upload:
    """A file part of a multipart request (`files[n]`)."""

    index: int
    filename: str
    data: bytes


@dataclass
class Reply:
    """A handler result with an explicit status."""

    status: int
    body: Any = None


@dataclass
class Call:
    """A parsed request handed to a route handler."""

    request: web.Request
    body: Any
    files: list[Upload]

    def param(self, name: str) -> str:
        """A path parameter."""
        return self.request.match_info[name]

    def snowflake(self, name: str) -> int:
        """A path parameter that must be a snowflake."""
        raw = self.request.match_info[name]
        if not raw.isdigit():
            raise invalid_form(
                {name: {"_errors": [{"code": "NUMBER_TYPE_COERCE", "message": f'Value "{raw}" is not snowflake.'}]}}
            )
        return int(raw)

    def query(self, name: str) -> str | None:
        """A query string parameter."""
        return self.request.query.get(name)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object (empty when there was none)."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise invalid_form(
                {"_errors": [{"code": "DICT_TYPE_CONVERT", "message": "Only dictionaries may be used in a DictType"}]}
            )
        return self.body


Handler = Callable[[Call], Awaitable[Any]]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response whose Content-Type is exactly `application/json`, as Discord sends it."""
    if status == 204:
        return web.Response(status=204, headers=headers)
    data = json.dumps(body, separators=(",", ":")).encode()
    return web.Response(status=status, body=data, content_type="application/json", headers=headers)


class RestApi:
    """Routes, authentication, the exchange log and injected faults."""

    def __init__(self, limits: RateLimits, *, kept: int = LOG_KEPT) -> None:
        self.limits = limits
        self.exchanges: deque[Exchange] = deque(maxlen=kept)
        self.faults: list[Fault] = []
        self._routes: list[tuple[str, str, Handler, bool]] = []
        self._patterns: list[re.Pattern[str]] = []

    def route(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        """Register a handler for an OpenAPI-style path template."""
        self._routes.append((method, template, handler, auth))

    def install(self, app: web.Application) -> None:
        """Add every route (and a Discord-style 404 catch-all) to the aiohttp app."""
        for method, template, handler, auth in self._routes:
            app.router.add_route(method, API_PREFIX + template, self._endpoint(template, handler, auth))
            self._patterns.append(re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$"))
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._endpoint(None, None, False))

    def inject(
        self,
        method: str,
        route_regex: str,
        status: int | None = 429,
        *,
        times: int = 1,
        delay: float | None = None,
        retry_after: float = 0.05,
        after: int = 0,
        scope: str = "user",
        served: bool = False,
    ) -> Fault:
        """Fail the next `times` requests matching `method` ("*" for any) and `route_regex`, after letting
        `after` of them through (so `after=2` fails the third call).

        The regex is searched in the path below `/api/v10`. 429 answers carry Discord's body and
        headers (`Via`, `Retry-After`, `X-RateLimit-*`); `scope="global"` makes it the global limit
        (`"global": true`, `X-RateLimit-Global`), `"shared"` a shared resource's. `served=True` carries the
        request out and loses only its answer, as when a proxy fails after Discord did the work.
        `status=None` with `delay` only slows the requests down.
        """
        if scope not in ("user", "global", "shared"):
            raise ValueError(f"unknown rate limit scope {scope!r}")
        fault = Fault(method.upper(), re.compile(route_regex), status, times, delay, retry_after, after, scope, served)
        self.faults.append(fault)
        return fault

    def _endpoint(
        self, template: str | None, handler: Handler | None, auth: bool
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            return await self._serve(request, template, handler, auth)

        return endpoint

    async def _serve(
        self, request: web.Request, template: str | None, handler: Handler | None, auth: bool
    ) -> web.Response:
        path = request.path[len(API_PREFIX) :] or "/"
        exchange = Exchange(request.method, path, template, dict(request.query))
        self.exchanges.append(exchange)
        headers: dict[str, str] = {}
        try:
            body, files = await _read_body(request)
            exchange.request_json = body
            fault = next((f for f in self.faults if f.matches(request.method, path)), None)
            if fault is not None and not fault.strikes():
                fault = None
            if fault is not None:
                exchange.injected = fault.status is not None
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.status is not None and not fault.served:
                    status, body, headers = _fault_response(fault, template or path)
                    raise _Faulted(status, body)
            if handler is None:
                if any(p.match(path) for p in self._patterns):
                    raise ApiError(405, Code.GENERAL, "405: Method Not Allowed")
                raise ApiError(404, Code.GENERAL, "404: Not Found")
            if auth and not request.headers.get("Authorization", "").startswith("Bot "):
                raise ApiError(401, Code.GENERAL, "401: Unauthorized")
            if template is not None:
                limited, headers = self.limits.check(request.method, template, dict(request.match_info), path)
                if limited is not None:
                    headers = limited.headers
                    raise _Faulted(429, limited.body)
            result = await handler(Call(request, body, files))
            if fault is not None and fault.status is not None:  # served: the work is done, the answer lost
                status, body, headers = _fault_response(fault, template or path)
                raise _Faulted(status, body)
            if isinstance(result, Reply):
                status, payload = result.status, result.body
            elif result is None:
                status, payload = 204, None
            else:
                status, payload = 200, result
        except ApiError as error:
            status, payload = error.status, error.body()
        except _Faulted as faulted:
            status, payload = faulted.status, faulted.body
        headers["Via"] = "1.1 google"
        exchange.status = status
        exchange.response_json = payload
        exchange.response_headers = headers
        return json_response(status, payload, headers)


class _Faulted(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _fault_response(fault: Fault, route: str) -> tuple[int, Any, dict[str, str]]:
    status = fault.status or 500
    if status == 403:
        return status, {"message": "Missing Permissions", "code": 50013}, {}
    if status != 429:
        return status, {"message": f"{status}: Server Error", "code": 0}, {}
    retry = fault.retry_after
    if fault.scope == "global":
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, math.ceil(retry))),
            "X-RateLimit-Global": "true",
            "X-RateLimit-Scope": "global",
        }
        body = {"message": "You are being rate limited.", "retry_after": retry, "global": True, "code": 0}
        return status, body, headers
    bucket = hashlib.sha1(route.encode()).hexdigest()[:32]
    headers = {
        "Via": "1.1 google",
        "Retry-After": str(max(1, math.ceil(retry))),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry:.3f}",
        "X-RateLimit-Reset-After": f"{retry:.3f}",
        "X-RateLimit-Bucket": bucket,
        "X-RateLimit-Scope": fault.scope,
    }
    body = {"message": "You are being rate limited.", "retry_after": retry, "global": False, "code": 0}
    return status, body, headers


async def _read_body(request: web.Request) -> tuple[Any, list[Upload]]:
    if not request.can_read_body:
        return None, []
    if request.content_type.startswith("multipart/"):
        return await _read_multipart(request)
    raw = await request.read()
    if not raw.strip():
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        raise ApiError(400, Code.INVALID_JSON, "The request body contains invalid JSON.") from None


async def _read_multipart(request: web.Request) -> tuple[Any, list[Upload]]:
    reader = await request.multipart()
    payload: Any = None
    files: list[Upload] = []
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            continue
        name = part.name or ""
        data = await part.read(decode=True)
        if name == "payload_json":
            try:
                payload = json.loads(bytes(data))
            except ValueError:
                raise ApiError(400, Code.INVALID_JSON, "The request body contains invalid JSON.") from None
            continue
        match = _FILE_FIELD.match(name)
        if match is not None:
            index = int(match.group(1)) if match.group(1) else len(files)
            files.append(Upload(index, part.filename or f"file{index}", bytes(data)))
    return payload, files
