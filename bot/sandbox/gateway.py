"""The gateway websocket: HELLO, IDENTIFY/READY, heartbeats, RESUME and dispatches."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from aiohttp import WSMsgType, web

from .rest import LOG_KEPT
from .state import JSON, SandboxState

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
MEMBERS_IN_GUILD_CREATE = 75_000
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
GUILD_SCHEDULED_EVENTS = 1 << 16

# Each privileged intent and the application flags (full or limited) that enable it.
PRIVILEGED_INTENTS = {
    GUILD_PRESENCES: 1 << 12 | 1 << 13,
    GUILD_MEMBERS: 1 << 14 | 1 << 15,
    MESSAGE_CONTENT: 1 << 18 | 1 << 19,
}

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

CLOSE_UNKNOWN_OPCODE = 4001
CLOSE_DECODE_ERROR = 4002
CLOSE_NOT_AUTHENTICATED = 4003
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005
CLOSE_INVALID_SHARD = 4010
CLOSE_SHARDING_REQUIRED = 4011
CLOSE_DISALLOWED_INTENTS = 4014

SESSION_START_WINDOW = 24 * 3600.0


@dataclass
class ShardRules:
    """Discord's sharding rules as the sandbox applies them (tests lower them to see the refusals)."""

    guilds_per_shard: int = 2500
    """A session that would serve more guilds than this is closed with 4011 (sharding required)."""
    recommended_shards: int | None = None
    """`shards` in GET /gateway/bot; by default one shard per 1,000 guilds, as Discord roughly recommends."""
    session_starts: int = 1000
    """IDENTIFYs allowed per 24 hours (`session_start_limit.total`); past them IDENTIFY is closed with 4004."""
    max_concurrency: int = 1
    """`session_start_limit.max_concurrency`: shards that may IDENTIFY in the same 5 s."""


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that serves a guild: Discord's `(guild_id >> 22) % shard_count`."""
    return (guild_id >> 22) % shard_count


def disallowed_intents(intents: int, application_flags: int) -> int:
    """The privileged intents asked for that the application's flags do not enable."""
    return sum(
        intent for intent, flags in PRIVILEGED_INTENTS.items() if intents & intent and not application_flags & flags
    )


def event_intent(event: str, *, direct: bool = False) -> int:
    """The intent a dispatch needs (0 for events every session receives); `direct` for events outside guilds."""
    if event.startswith("GUILD_MEMBER_") and event != "GUILD_MEMBERS_CHUNK":
        return GUILD_MEMBERS
    if event.startswith("MESSAGE_"):
        return DIRECT_MESSAGES if direct else GUILD_MESSAGES
    if event.startswith("GUILD_SCHEDULED_EVENT_"):
        return GUILD_SCHEDULED_EVENTS
    if event == "THREAD_MEMBERS_UPDATE":
        return GUILD_MEMBERS
    if event.startswith(("GUILD_", "CHANNEL_", "THREAD_")) and event != "GUILD_MEMBERS_CHUNK":
        return GUILDS
    return 0


class Dispatch(NamedTuple):
    """One gateway dispatch as sent: the event's name and the frame's JSON text."""

    event: str
    frame: str

    @property
    def data(self) -> JSON:
        """The event's payload."""
        payload: JSON = json.loads(self.frame)["d"]
        return payload


class _Connection:
    """One websocket; frames go through a queue so they keep their order."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.close_code = 4000
        self.closed_by_server = False
        self.identified = False
        self.acks: list[tuple[int, asyncio.Future[None]]] = []

    def send(self, frame: JSON) -> None:
        self.send_text(json.dumps(frame, separators=(",", ":")))

    def send_text(self, text: str) -> None:
        self.queue.put_nowait(text)

    def close(self, code: int) -> None:
        self.close_code = code
        self.closed_by_server = True
        self.queue.put_nowait(None)

    async def run_writer(self) -> None:
        while True:
            text = await self.queue.get()
            if text is None or self.ws.closed:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await self.ws.close(code=self.close_code)
                return
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return


@dataclass
class Session:
    """A gateway session that survives reconnects until it is invalidated."""

    session_id: str
    intents: int
    shard: tuple[int, int] | None = None
    seq: int = 0
    valid: bool = True
    backlog: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=5000))  # (seq, frame text)
    connection: _Connection | None = None

    def sent(self, event: str) -> list[JSON]:
        """The payloads of `event` among the frames kept for a RESUME (the newest 5,000 dispatches)."""
        frames = (json.loads(text) for _, text in self.backlog)
        return [frame["d"] for frame in frames if frame["t"] == event]

    def handles(self, guild_id: int | None) -> bool:
        """Whether the guild belongs to this session's shard (DMs, with no guild, go to shard 0)."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0
        return shard_of(guild_id, count) == shard_id


class Gateway:
    """Serves discord.py's gateway protocol over aiohttp websockets."""

    def __init__(
        self,
        state: SandboxState,
        *,
        heartbeat_interval: float = 41.25,
        rules: ShardRules | None = None,
        seconds: Callable[[], float] = time.time,
        kept: int = LOG_KEPT,
    ) -> None:
        """`kept`: how many dispatches the log keeps, the newest, as text. A long-running sandbox (the console, a
        benchmark) stays bounded, and the garbage collector of the process it shares has no payloads to walk."""
        self.state = state
        self.rules = rules or ShardRules()
        self._seconds = seconds
        self.session_starts_used = 0
        self._window_start: float | None = None
        self.url = ""
        self.heartbeat_interval_ms = int(heartbeat_interval * 1000)
        self.sessions: dict[str, Session] = {}
        self.dispatched: deque[Dispatch] = deque(maxlen=kept)
        self.connected = asyncio.Event()
        self._connections: set[_Connection] = set()
        self._writers: set[asyncio.Task[None]] = set()
        self._lose: list[str] = []

    # --- websocket handler ------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for `/gateway?v=10&encoding=json`."""
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(ws)
        self._connections.add(conn)
        writer = asyncio.create_task(conn.run_writer())
        self._writers.add(writer)
        if request.query.get("encoding", "json") != "json":
            conn.close(CLOSE_DECODE_ERROR)
        conn.send({"op": OP_HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}, "s": None, "t": None})
        session: Session | None = None
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    conn.close(CLOSE_DECODE_ERROR)
                    break
                session = self._receive(conn, session, frame) or session
        finally:
            self._connections.discard(conn)
            if session is not None and session.connection is conn:
                session.connection = None
                if not conn.closed_by_server and ws.close_code in (1000, 1001):
                    session.valid = False
                    self.sessions.pop(session.session_id, None)
            conn.queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self._writers.discard(writer)
        return ws

    def _receive(self, conn: _Connection, session: Session | None, frame: Any) -> Session | None:
        op = frame.get("op") if isinstance(frame, dict) else None
        data = frame.get("d") if isinstance(frame, dict) else None
        if op == OP_HEARTBEAT:
            conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
            seq = data if isinstance(data, int) else 0
            for wanted, future in list(conn.acks):
                if seq >= wanted and not future.done():
                    future.set_result(None)
            conn.acks = [(w, f) for w, f in conn.acks if not f.done()]
        elif op == OP_IDENTIFY:
            if conn.identified:
                conn.close(CLOSE_ALREADY_AUTHENTICATED)
            elif not isinstance(data, dict) or not data.get("token") or not self._start_session():
                conn.close(CLOSE_AUTHENTICATION_FAILED)
            else:
                return self._identify_checked(conn, data)
        elif op == OP_RESUME:
            if isinstance(data, dict):
                return self._resume(conn, data)
            conn.close(CLOSE_DECODE_ERROR)
        elif op == OP_REQUEST_GUILD_MEMBERS:
            if session is None:
                conn.close(CLOSE_NOT_AUTHENTICATED)
            elif isinstance(data, dict):
                self._request_members(session, data)
        elif op not in (OP_PRESENCE_UPDATE, OP_VOICE_STATE_UPDATE):
            conn.close(CLOSE_UNKNOWN_OPCODE)
        return None

    # --- sharding and session starts ---------------------------------------

    def _bot_guilds(self) -> list[int]:
        return [g.id for g in self.state.guilds.values() if self.state.bot_id in g.members]

    def _serves_too_many(self, shard: tuple[int, int] | None) -> bool:
        guilds = self._bot_guilds()
        if shard is not None:
            guilds = [g for g in guilds if shard_of(g, shard[1]) == shard[0]]
        return len(guilds) > self.rules.guilds_per_shard

    def _window(self) -> float:
        """Seconds left in the session start window, starting a new window when the last one ended."""
        now = self._seconds()
        if self._window_start is None or now - self._window_start >= SESSION_START_WINDOW:
            self._window_start = now
            self.session_starts_used = 0
        return SESSION_START_WINDOW - (now - self._window_start)

    def _start_session(self) -> bool:
        """Count an IDENTIFY against the day's session starts; False when none is left."""
        self._window()
        if self.session_starts_used >= self.rules.session_starts:
            return False
        self.session_starts_used += 1
        return True

    def recommended_shards(self) -> int:
        """The shard count GET /gateway/bot recommends."""
        if self.rules.recommended_shards is not None:
            return self.rules.recommended_shards
        return max(1, math.ceil(len(self._bot_guilds()) / 1000))

    def session_start_limit(self) -> JSON:
        """GET /gateway/bot's `session_start_limit`: the IDENTIFYs left and when the count resets (ms)."""
        left = self._window()
        return {
            "total": self.rules.session_starts,
            "remaining": max(self.rules.session_starts - self.session_starts_used, 0),
            "reset_after": int(left * 1000),
            "max_concurrency": self.rules.max_concurrency,
        }

    # --- sessions -----------------------------------------------------------

    def _identify_checked(self, conn: _Connection, data: JSON) -> Session | None:
        """IDENTIFY, unless Discord would close it: an invalid shard, too many guilds unsharded, privileged intents."""
        try:
            shard = _shard(data.get("shard"))
        except ValueError:
            conn.close(CLOSE_INVALID_SHARD)
            return None
        if self._serves_too_many(shard):
            conn.close(CLOSE_SHARDING_REQUIRED)
        elif disallowed_intents(_int(data.get("intents")), self.state.application_flags):
            conn.close(CLOSE_DISALLOWED_INTENTS)
        else:
            return self._identify(conn, data, shard)
        return None

    def _identify(self, conn: _Connection, data: JSON, shard: tuple[int, int] | None) -> Session:
        session = Session(session_id=uuid.uuid4().hex, intents=_int(data.get("intents")), shard=shard)
        self.sessions[session.session_id] = session
        session.connection = conn
        conn.identified = True
        state = self.state
        guilds = [g for g in state.guilds.values() if state.bot_id in g.members and session.handles(g.id)]
        ready: JSON = {
            "v": 10,
            "user": state.me_payload(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.url,
            "application": {"id": str(state.application_id), "flags": state.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
            "_trace": ["sandbox-gateway"],
        }
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        self._send(session, "READY", ready)
        for guild in guilds:
            self._send(session, "GUILD_CREATE", self._guild_create(session, guild.id))
        self.connected.set()
        return session

    def _resume(self, conn: _Connection, data: JSON) -> Session | None:
        session = self.sessions.get(str(data.get("session_id")))
        seq = int(data.get("seq") or 0)
        gap = session is not None and bool(session.backlog) and session.backlog[0][0] > seq + 1
        if session is None or not session.valid or gap or not data.get("token"):
            conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return None
        if session.connection is not None and session.connection is not conn:
            session.connection.close(4000)
        session.connection = conn
        conn.identified = True
        for sent, text in session.backlog:
            if sent > seq:
                conn.send_text(text)
        self._send(session, "RESUMED", {"_trace": ["sandbox-gateway"]})
        self.connected.set()
        return session

    def _request_members(self, session: Session, data: JSON) -> None:
        raw_ids = data.get("guild_id")
        guild_ids = raw_ids if isinstance(raw_ids, list) else [raw_ids]
        query = str(data.get("query") or "").lower()
        limit = int(data.get("limit") or 0)
        user_ids = data.get("user_ids")
        wanted = (
            None if user_ids is None else {int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
        )
        for raw in guild_ids:
            guild = self.state.guilds.get(int(raw or 0))
            if guild is None:
                continue
            members = []
            for member in guild.members.values():
                user = self.state.users[member.user_id]
                if wanted is not None and member.user_id not in wanted:
                    continue
                names = (user.username.lower(), (member.nick or "").lower())
                if query and not any(n.startswith(query) for n in names):
                    continue
                members.append(self.state.member_payload(guild, member))
            if limit:
                members = members[:limit]
            found = {int(m["user"]["id"]) for m in members}
            chunk: JSON = {
                "guild_id": str(guild.id),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [str(u) for u in wanted - found] if wanted is not None else [],
            }
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            self._send(session, "GUILD_MEMBERS_CHUNK", chunk)

    def _guild_create(self, session: Session, guild_id: int) -> JSON:
        # As on Discord: without the presences intent (or over 75k members) GUILD_CREATE lists only the bot;
        # the others come on request (op 8, GUILD_MEMBERS_CHUNK).
        guild = self.state.guilds[guild_id]
        everyone = bool(session.intents & GUILD_PRESENCES) and len(guild.members) <= MEMBERS_IN_GUILD_CREATE
        return self.state.guild_payload(guild, full=True, members=everyone)

    # --- dispatching ------------------------------------------------------

    def _send(self, session: Session, event: str, data: JSON) -> None:
        session.seq += 1
        text = json.dumps({"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}, separators=(",", ":"))
        self.dispatched.append(Dispatch(event, text))
        session.backlog.append((session.seq, text))
        if session.connection is None:
            return
        if event in self._lose:
            # Lost in transit: the socket closes before the frame is written; a RESUME replays it.
            self._lose.remove(event)
            self.connected.clear()
            session.connection.close(4000)
            return
        session.connection.send_text(text)

    def dispatch(self, event: str, data: JSON, *, guild_id: int | None = None) -> None:
        """Send a dispatch to every valid session whose intents and shard cover it (no guild: a DM, for shard 0)."""
        intent = event_intent(event, direct=guild_id is None)
        for session in list(self.sessions.values()):
            if not session.valid or (intent and not session.intents & intent):
                continue
            if not session.handles(guild_id):
                continue
            if event == "GUILD_CREATE" and guild_id is not None:
                self._send(session, event, self._guild_create(session, guild_id))
            else:
                self._send(session, event, data)

    # --- fault injection and shutdown ------------------------------------

    @property
    def is_connected(self) -> bool:
        """Whether some session currently has a live websocket."""
        return any(s.connection is not None for s in self.sessions.values() if s.valid)

    async def drop(self, *, resume: bool = True, wait: bool = True, within: float = 15.0) -> None:
        """Drop the live connections; with `resume=False` the sessions are invalidated."""
        self.connected.clear()
        for session in list(self.sessions.values()):
            conn = session.connection
            if conn is None:
                continue
            if resume:
                conn.close(4000)
            else:
                session.valid = False
                self.sessions.pop(session.session_id, None)
                conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
        if wait:
            await asyncio.wait_for(self.connected.wait(), within)

    def lose_next(self, event: str) -> None:
        """Drop the connection instead of writing the next dispatch of `event`, which stays queued for a RESUME."""
        self._lose.append(event)

    async def settle(self, within: float = 5.0) -> None:
        """Wait until every connected client has processed all dispatches sent so far.

        The gateway asks for a heartbeat (op 1); discord.py answers with the last sequence it
        handled, after every earlier frame has gone through its parsers.
        """
        loop = asyncio.get_running_loop()
        waits: list[asyncio.Future[None]] = []
        for session in self.sessions.values():
            conn = session.connection
            if session.valid and conn is not None:
                future: asyncio.Future[None] = loop.create_future()
                conn.acks.append((session.seq, future))
                conn.send({"op": OP_HEARTBEAT, "d": None, "s": None, "t": None})
                waits.append(future)
        if waits:
            await asyncio.wait_for(asyncio.gather(*waits), within)

    async def close(self) -> None:
        """Close every websocket (server shutdown)."""
        for conn in list(self._connections):
            conn.close(1001)
        if self._writers:
            await asyncio.wait(list(self._writers), timeout=5.0)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _shard(value: Any) -> tuple[int, int] | None:
    """IDENTIFY's `shard` as (id, count), None when absent; ValueError when Discord would call it invalid (4010)."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2 or not all(type(v) is int for v in value):
        raise ValueError(value)
    shard_id, count = value
    if count < 1 or not 0 <= shard_id < count:
        raise ValueError(value)
    return shard_id, count
