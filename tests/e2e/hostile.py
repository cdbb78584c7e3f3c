"""Hostile generated inputs for the real bot in the sandbox: every option, page-button id and form field.

Values come from hypothesis strategies drawn with a fixed seed, so a run is repeatable. Each case is one
person's action (a slash command, an autocomplete keystroke, a click on a page button, a form submit);
afterwards nothing may have been logged at ERROR (an incident), no message may ping anyone, the bot must
have answered, and every refusal must be a sentence. The test runs a few hundred cases; bench/fuzz_bench.py
runs the big counts with the same code.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.offline import SandboxSession
from bot.sandbox import DriverError, InteractionResult, InteractionTimeout, SentMessage
from bot.sandbox.state import Message

FAMILIES = ("long", "cjk", "control", "invisible", "surrogate", "injection", "sql", "number")
AREAS = ("commands", "autocomplete", "components", "forms")
STRING, INTEGER, NUMBER, ATTACHMENT = 3, 4, 10, 11
USER, CHANNEL, ROLE, MENTIONABLE = 6, 7, 8, 9
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f", "\u061c"] + [
    chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
]
SQL = [
    "'; DROP TABLE chapters; --",
    '" OR 1=1 --',
    "' UNION SELECT * FROM sqlite_master --",
    "%",
    "_",
    "%%%",
    "\\",
    "' OR ''='",
    "1; SELECT pg_sleep(5)",
    "%' AND name LIKE '%",
]
MARKDOWN = [
    "**bold**",
    "__under__",
    "`code`",
    "```\nblock\n```",
    "> quote",
    "||spoiler||",
    "# Heading",
    "[a](https://evil.example)",
    "~~x~~",
    "-# small",
]
ANSWER_TIMEOUT = 5.0
CLICK_TIMEOUT = 1.0  # the bot answers a page button in milliseconds; one it ignores must not cost Discord's 3 s
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_SENTENCE_END = re.compile(r"[.!?…。！？:)]['\"”»`*_)]*$")


@dataclass(frozen=True, slots=True)
class Target:
    """Something a person can put text into: `/cmd sub option`, `autocomplete /cmd option`, a page button, a form field."""

    area: str
    name: str
    option: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(slots=True)
class Case:
    """One action and what went wrong with it."""

    target: Target
    value: Any
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def describe(self) -> str:
        """The case in one line, the value shown escaped."""
        shown = ascii(self.value)
        return f"{self.target.name} = {shown[:160]}{'...' if len(shown) > 160 else ''}: {'; '.join(self.problems)}"


class ErrorLog(logging.Handler):
    """Collects every record at ERROR or above (the bot's incidents, discord.py's unhandled errors)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> ErrorLog:
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *_: object) -> None:
        logging.getLogger().removeHandler(self)


def values(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` values of a strategy, the same ones on every run (derandomized, no example database)."""
    found: list[Any] = []

    @settings(
        derandomize=True,
        database=None,
        max_examples=count,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found[:count]


def text_family(family: str, guild_id: int, user_id: int, role_id: int) -> st.SearchStrategy[str]:
    """Hostile text of one family (mentions point at real ids of the guild)."""
    plain = st.text(st.characters(categories=["L", "N", "Zs"]), max_size=8)

    def mixed(hostile: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.lists(st.one_of(plain, hostile), min_size=1, max_size=6).map("".join).filter(bool)

    mentions = [
        "@everyone",
        "@here",
        f"<@{user_id}>",
        f"<@!{user_id}>",
        f"<@&{role_id}>",
        f"<@&{guild_id}>",
        f"<#{guild_id}>",
    ]
    families: dict[str, st.SearchStrategy[str]] = {
        "long": st.tuples(plain.filter(str.strip), st.integers(101, 6000)).map(lambda p: (p[0] + " ") * p[1]),
        "cjk": st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=10, max_size=120),
        "control": mixed(st.text(st.characters(categories=["Cc"]), min_size=1, max_size=4)),
        "invisible": mixed(st.sampled_from(INVISIBLE)),
        "surrogate": mixed(st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)),
        "injection": mixed(st.sampled_from(mentions + MARKDOWN)),
        "sql": mixed(st.sampled_from(SQL)),
        "number": st.one_of(
            st.integers().map(str),
            st.floats().map(str),
            st.sampled_from(["1e309", "-0", "0x1F", "٣٤", "１２３", "NaN", "9" * 100]),
        ),
    }
    return families[family]


def fit(text: str, low: int, high: int) -> str:
    """Clip to what Discord's client lets through (`high` characters) and pad to `low`."""
    text = text[:high]
    return text + "x" * (low - len(text)) if len(text) < low else text


Options = list[dict[str, Any]]


class Fuzzer:
    """Runs hostile cases against one bot session, as the organiser (who reaches every command)."""

    def __init__(self, session: SandboxSession, errors: ErrorLog) -> None:
        self.session = session
        self.errors = errors
        sandbox = session.sandbox
        self.role = sandbox.create_role(session.guild_id, "pinged", position=None)
        self.role.mentionable = True
        self.user = session.organiser_id
        self.counter = 0
        self._suggested: dict[tuple[str, str], Any] = {}

    def strategy(self, family: str) -> st.SearchStrategy[str]:
        """Hostile text of a family, with mentions of this guild's real ids."""
        return text_family(family, self.session.guild_id, self.session.member_id, self.role.id)

    # --- what a person can type into ----------------------------------------------------------

    def commands(self) -> list[tuple[str, Options]]:
        """Every leaf slash command ("directory add-chapter") with its options."""
        state = self.session.sandbox.state
        found: list[tuple[str, Options]] = []

        def walk(prefix: str, options: Options) -> None:
            subs = [o for o in options if o.get("type") in (1, 2)]
            if not subs:
                found.append((prefix, options))
            for sub in subs:
                walk(f"{prefix} {sub['name']}", sub.get("options") or [])

        pool = {c["name"]: c for c in [*state.global_commands, *state.commands_for(self.session.guild_id)]}
        for name in sorted(pool):
            if pool[name].get("type", 1) == 1:
                walk(name, pool[name].get("options") or [])
        return found

    async def targets(self, area: str) -> list[Target]:
        """Every target of an area: options without choices, autocompleted options, page-button parts, form fields."""
        if area == "commands":
            return [
                Target(area, f"/{name} {o['name']}", {"command": name, **o})
                for name, options in self.commands()
                for o in options
                if o["type"] in (STRING, INTEGER, NUMBER, ATTACHMENT) and not o.get("choices")
            ]
        if area == "autocomplete":
            return [
                Target(area, f"/{name} {o['name']} (typing)", {"command": name, **o})
                for name, options in self.commands()
                for o in options
                if o.get("autocomplete")
            ]
        if area == "components":
            return [Target(area, f"page button ({part})", {"part": part}) for part in PAGE_PARTS]
        targets = []
        for name, options in self.commands():
            result = await self.open_form(name, options)
            if result is not None and result.modal is not None:
                for item in _modal_inputs(result.modal):
                    targets.append(Target(area, f"/{name} form {item['custom_id']}", {"command": name, **item}))
        return targets

    # --- baseline values ------------------------------------------------------------------------

    async def baseline(self, name: str, options: Options, skip: str | None = None) -> dict[str, Any]:
        """Ordinary values for the required options (and an existing record for look-ups)."""
        values: dict[str, Any] = {}
        for option in options:
            if not option.get("required") or option["name"] == skip:
                continue
            if option.get("choices"):
                values[option["name"]] = option["choices"][0]["value"]
            elif option.get("autocomplete"):
                fallback = option.get("min_value", 1) if option["type"] in (INTEGER, NUMBER) else "g0v"
                values[option["name"]] = await self._suggestion(name, option["name"], fallback)
            elif option["type"] == ATTACHMENT:
                values[option["name"]] = ("empty.yaml", b"chapters: []\n")
            elif option["type"] in (INTEGER, NUMBER):
                values[option["name"]] = option.get("min_value", 1)
            elif option["type"] == CHANNEL:
                values[option["name"]] = self.session.channel_id
            elif option["type"] in (USER, MENTIONABLE):
                values[option["name"]] = self.session.member_id
            elif option["type"] == ROLE:
                values[option["name"]] = self.session.guild_id  # @everyone
            else:
                values[option["name"]] = fit("g0v", option.get("min_length", 1), option.get("max_length", 6000))
        return values

    async def _suggestion(self, command: str, option: str, fallback: Any = "g0v") -> Any:
        """The first value autocomplete suggests for an empty option (asked once per option)."""
        key = (command, option)
        if key not in self._suggested:
            choices = await self.sandbox.autocomplete(
                self.session.guild_id, self.session.channel_id, self.user, command, focused=option
            )
            self._suggested[key] = choices[0]["value"] if choices else fallback
        return self._suggested[key]

    @property
    def sandbox(self) -> Any:
        """The session's sandbox."""
        return self.session.sandbox

    async def open_form(self, name: str, options: Options) -> InteractionResult | None:
        """Run a command with ordinary values; its result (a form when it opens one)."""
        values = await self.baseline(name, options)
        try:
            return await self.sandbox.slash(
                self.session.guild_id, self.session.channel_id, self.user, name, values, timeout=ANSWER_TIMEOUT
            )
        except (DriverError, InteractionTimeout):
            return None

    # --- cases ------------------------------------------------------------------------------------

    async def run(self, target: Target, value: Any) -> Case:
        """One case: act, then check the log, the pings, the answer and its sentences."""
        case = Case(target, value)
        state = self.sandbox.state
        marks = len(self.errors.records), max(state.messages, default=0)
        started = time.perf_counter()
        results: list[InteractionResult] = []
        try:
            results = await self._act(target, value)
        except InteractionTimeout as timeout:
            case.problems.append("the bot did not answer")
            results = [timeout.result]
        case.seconds = time.perf_counter() - started
        await self.sandbox.settle()
        for record in self.errors.records[marks[0] :]:
            case.problems.append(f"logged at {record.levelname}: {record.getMessage()[:200]}")
        for result in results:
            case.problems.extend(f"Discord refused the answer: {e.get('message')}" for e in result.errors)
            for message in result.messages:
                case.problems.extend(sentence_problems(message, target))
        for message in list(state.messages.values()):
            if message.author_id == state.bot_id and (message.id > marks[1] or message.edited_timestamp):
                case.problems.extend(pings(state, message))
        return case

    async def _act(self, target: Target, value: Any) -> list[InteractionResult]:
        session, option = self.session, target.option
        guild, channel = session.guild_id, session.channel_id
        if target.area in ("commands", "autocomplete"):
            name = option["command"]
            options = dict(self.commands())[name]
            values = await self.baseline(name, options, skip=option["name"])
            values[option["name"]] = value
            if target.area == "autocomplete":
                record_count = len(self.sandbox.state.interactions)
                await self.sandbox.autocomplete(
                    guild, channel, self.user, name, values, focused=option["name"], timeout=ANSWER_TIMEOUT
                )
                records = list(self.sandbox.state.interactions.values())[record_count:]
                return [InteractionResult(self.sandbox.state, r) for r in records]
            return [await self.sandbox.slash(guild, channel, self.user, name, values, timeout=ANSWER_TIMEOUT)]
        if target.area == "components":
            message = self._old_page_message(value)
            return [await self.sandbox.click(message, value, self.user, timeout=CLICK_TIMEOUT)]
        name = option["command"]
        opened = await self.open_form(name, dict(self.commands())[name])
        if opened is None or opened.modal is None:
            return [opened] if opened is not None else []
        self.counter += 1
        values: dict[str, Any] = {}
        for item in _modal_inputs(opened.modal):
            if item.get("required", True) and not item.get("value"):
                values[item["custom_id"]] = fit(
                    f"Generated {self.counter}", item.get("min_length", 0), item["max_length"]
                )
        values[option["custom_id"]] = value
        return [opened, await self.sandbox.submit_modal(opened, values, self.user, timeout=ANSWER_TIMEOUT)]

    def _old_page_message(self, custom_id: str) -> Message:
        """A message the bot posted earlier (another version, another day) with a button of this id."""
        state, session = self.sandbox.state, self.session
        button = {"type": 2, "style": 2, "label": "Next ▶", "custom_id": custom_id}
        message = Message(
            state.next_id(),
            session.channel_id,
            session.guild_id,
            state.bot_id,
            components=[{"type": 1, "components": [button]}],
            application_id=state.application_id,
        )
        return self.sandbox.world.create_message(message)

    def inputs(self, target: Target, family: str, count: int) -> list[Any]:
        """The generated values for a target, fitted to what Discord's client lets a person send."""
        option = target.option
        if target.area == "components":
            return [fit(v, 1, 100) for v in values(page_ids(option["part"], self.strategy(family)), count)]
        kind = STRING if target.area == "forms" else option.get("type")  # a form's type 4 is a text input
        if kind == ATTACHMENT:
            texts = values(self.strategy(family), count)
            return [(fit(t, 1, 100) + ".yaml", t.encode("utf-8", "surrogatepass")) for t in texts]
        if kind in (INTEGER, NUMBER):
            if family != "number":
                return []
            low, high = option.get("min_value", -(2**53)), option.get("max_value", 2**53)
            return values(st.integers(low, high), count)
        high = option.get("max_length", 4000 if target.area == "forms" else 6000)
        low = option.get("min_length", 0 if target.area in ("forms", "autocomplete") else 1)
        if target.area == "commands":  # Discord trims a command option's value
            texts = values(self.strategy(family), count)
            return [fit(fit(text.strip(), low, high).strip(), max(low, 1), high) for text in texts]
        return [fit(text, low, high) for text in values(self.strategy(family), count)]


PAGE_PARTS = ("page", "kind", "args", "garbled")


def page_ids(part: str, text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Forged page-button ids: a hostile page number, listing kind, query, or a garbled id."""
    if part == "page":
        return text.map(lambda t: f"pg:projects:{t}:w=data")
    if part == "kind":
        return text.map(lambda t: f"pg:{t}:1:w=data")
    if part == "args":
        return st.one_of(
            text.map(lambda t: f"pg:projects:1:w={quote(t, errors='surrogatepass')}"),
            text.map(lambda t: f"pg:chapters:0:{t}"),
        )
    return st.tuples(text, st.integers(0, 30)).map(lambda p: "pg:projects:1:w=data&c=g0v"[: p[1]] + p[0])


def _modal_inputs(modal: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for row in modal.get("components") or []:
        children = row.get("components") or [row.get("component")]
        found.extend(c for c in children if isinstance(c, dict) and c.get("type") == 4)
    return found


def pings(state: Any, message: Message) -> list[str]:
    """Who a message would notify: @everyone/@here, users or roles its allowed_mentions let through."""
    payload = state.message_payload(message)
    allowed = message.allowed_mentions
    problems = []
    if re.search(r"@(everyone|here)", message.content) and (
        allowed is None or "everyone" in (allowed.get("parse") or [])
    ):
        problems.append("the message can ping @everyone/@here")
    if payload["mentions"]:
        problems.append(f"the message pings users {[u['username'] for u in payload['mentions']]}")
    if payload["mention_roles"]:
        problems.append(f"the message pings roles {payload['mention_roles']}")
    return problems


def sentence_problems(message: SentMessage, target: Target) -> list[str]:
    """An ephemeral answer's text must be a short sentence: capital start, final punctuation, no placeholders."""
    text = message.content.strip()
    if not message.ephemeral or not text:
        return []
    problems = []
    first = text.lstrip("“\"'«*`(")[:1]
    quoted = text[:1] in "“\"'«"  # a sentence may open with the value it is about: “x” is not a region.
    if (first.islower() and not quoted) or not _SENTENCE_END.search(text):
        problems.append(f"the answer is not a sentence: {text[:120]!r}")
    if "Traceback" in text or _PLACEHOLDER.search(text):
        problems.append(f"the answer shows internals: {text[:120]!r}")
    if target.area != "components" and "too long" in text:
        problems.append(f"an input Discord allows is refused as too long: {text[:120]!r}")
    return problems
