"""Fetching feeds over HTTP: conditional GET, a size cap, a redirect limit, and no private addresses."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from bot.errors import UserError
from bot.i18n import N_

USER_AGENT = "CodeForAllBot/0.1 (feed reader of the Code for All network's Discord bot)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT_SECONDS = 20.0
CHUNK = 64 * 1024


class FetchError(UserError):
    """A feed could not be fetched: a sentence an organiser can read."""


NOT_A_URL = N_("That is not a web address: give a full http:// or https:// URL.")
PRIVATE = N_("That address points into a private network, which the bot does not fetch.")
TIMEOUT = N_("The site did not answer within {seconds} seconds.")
TOO_LARGE = N_("The feed is larger than {megabytes} MB.")
REDIRECTS = N_("The site redirected more than {count} times.")
HTTP_STATUS = N_("The site answered with HTTP status {status}.")
UNREACHABLE = N_("The site could not be reached.")


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response: the body (empty when not modified), the final URL and the validators to send next time."""

    url: str
    body: bytes
    not_modified: bool
    etag: str | None
    last_modified: str | None
    content_type: str


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (not loopback, private, link-local, reserved...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> str:
    """`url` stripped, when it is an absolute http(s) URL with a host; else a FetchError."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise FetchError(NOT_A_URL) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise FetchError(NOT_A_URL)
    return url


class PublicResolver(AbstractResolver):
    """Resolves names like aiohttp does, refusing a name when any of its addresses is not public."""

    def __init__(self) -> None:
        self._resolver = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The host's addresses, all public, or a FetchError."""
        results = await self._resolver.resolve(host, port, family)
        if not results or not all(is_public(result["host"]) for result in results):
            raise FetchError(PRIVATE)
        return results

    async def close(self) -> None:
        """Release the underlying resolver."""
        await self._resolver.close()


class Fetcher:
    """One HTTP client for every feed: open it once, fetch many, close it."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = TIMEOUT_SECONDS,
        max_bytes: int = MAX_BYTES,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            resolver: AbstractResolver = DefaultResolver() if self.allow_private else PublicResolver()
            connector = aiohttp.TCPConnector(resolver=resolver, limit=100, limit_per_host=4, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()

    def _check_host(self, url: str) -> None:
        host = urlsplit(url).hostname or ""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            return  # a name: the resolver checks every address it resolves to
        if not self.allow_private and not is_public(str(literal)):
            raise FetchError(PRIVATE)

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """GET `url` conditionally, following at most `max_redirects` redirects, within the timeout."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._fetch(check_url(url), etag, last_modified)
        except TimeoutError:
            raise FetchError(TIMEOUT, seconds=round(self.timeout)) from None
        except FetchError:
            raise
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, FetchError):
                raise exc.os_error from None
            raise FetchError(UNREACHABLE) from None
        except (aiohttp.ClientError, OSError, ValueError, UnicodeError):
            raise FetchError(UNREACHABLE) from None

    async def _fetch(self, url: str, etag: str | None, last_modified: str | None) -> Fetched:
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _ in range(self.max_redirects + 1):
            self._check_host(url)
            async with self._client().get(url, headers=headers, allow_redirects=False) as response:
                if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                    url = check_url(urljoin(url, response.headers["Location"]))
                    continue
                if response.status == 304:
                    return Fetched(url, b"", True, etag, last_modified, "")
                if response.status >= 400 or response.status < 200:
                    raise FetchError(HTTP_STATUS, status=response.status)
                body = await self._read(response)
                return Fetched(
                    url=url,
                    body=body,
                    not_modified=False,
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                    content_type=response.headers.get("Content-Type", ""),
                )
        raise FetchError(REDIRECTS, count=self.max_redirects)

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        too_large = FetchError(TOO_LARGE, megabytes=self.max_bytes // (1024 * 1024))
        if (response.content_length or 0) > self.max_bytes:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)
