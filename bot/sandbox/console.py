"""A text console for the sandbox: type slash commands as a member or an organiser and read the bot's replies."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sys
import threading
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, TextIO
from urllib.parse import urlparse

from .results import DriverError, InteractionResult, InteractionTimeout, SentMessage, iter_components
from .server import Sandbox
from .state import FLAG_EPHEMERAL, FLAG_LOADING, JSON, Message

ATTACHMENT_OPTION = 11
_SELECT_TYPES = (3, 5, 6, 7, 8)
_QUOTES = {'"': '"', "'": "'", "“": "”", "„": "“", "‘": "’", "«": "»"}


# --- rendering (pure functions) ---------------------------------------------------------


class Names(Protocol):
    """Looks up the names that mentions stand for (None when unknown)."""

    def user(self, user_id: int) -> str | None:
        """A member's display name."""

    def role(self, role_id: int) -> str | None:
        """A role's name."""

    def channel(self, channel_id: int) -> str | None:
        """A channel's name."""


@dataclass(frozen=True, slots=True)
class Readable:
    """Turns Discord markup into plain text: mentions become names, timestamps dates, links `text <url>`."""

    names: Names | None = None
    now: dt.datetime | None = None
    zone: dt.tzinfo | None = None

    def __call__(self, text: str) -> str:
        """The text as a person reads it in Discord."""
        text = _BARE_LINK.sub(lambda m: m["url"], text)
        text = _LINK.sub(lambda m: f"{m['label']} <{m['url']}>", text)
        text = _TIMESTAMP.sub(self._timestamp, text)
        text = _COMMAND.sub(lambda m: f"/{m['name']}", text)
        text = _EMOJI.sub(lambda m: f":{m['name']}:", text)
        return _MENTION.sub(self._mention, text)

    def _mention(self, match: re.Match[str]) -> str:
        kind, snowflake = match["kind"], int(match["id"])
        if self.names is None:
            return match[0]
        if kind == "#":
            return f"#{self.names.channel(snowflake) or 'unknown-channel'}"
        if kind == "@&":
            return f"@{self.names.role(snowflake) or 'unknown-role'}"
        return f"@{self.names.user(snowflake) or 'unknown-user'}"

    def _timestamp(self, match: re.Match[str]) -> str:
        style = match["style"] or "f"
        try:
            moment = dt.datetime.fromtimestamp(int(match["seconds"]), dt.UTC).astimezone(self.zone)
        except (OverflowError, OSError, ValueError):
            return match[0]
        if style == "R":
            return relative_time(moment, self.now or dt.datetime.now(dt.UTC))
        zone = f" {moment.tzname()}" if style in "tTfF" else ""
        shown = {
            "t": f"{moment:%H:%M}",
            "T": f"{moment:%H:%M:%S}",
            "d": f"{moment:%Y-%m-%d}",
            "D": f"{moment.day} {moment:%B %Y}",
            "f": f"{moment.day} {moment:%B %Y %H:%M}",
            "F": f"{moment:%A}, {moment.day} {moment:%B %Y %H:%M}",
        }
        return shown.get(style, shown["f"]) + zone


_LINK = re.compile(r"\[(?P<label>[^\]\n]+)\]\(<?(?P<url>https?://[^\s)>]+)>?\)")
_BARE_LINK = re.compile(r"<(?P<url>https?://[^\s>]+)>")
_TIMESTAMP = re.compile(r"<t:(?P<seconds>-?\d{1,15})(?::(?P<style>[tTdDfFR]))?>")
_COMMAND = re.compile(r"</(?P<name>[\w-]+(?: [\w-]+){0,2}):\d+>")
_EMOJI = re.compile(r"<a?:(?P<name>\w+):\d+>")
_MENTION = re.compile(r"<(?P<kind>@!?|@&|#)(?P<id>\d+)>")
_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))


def relative_time(moment: dt.datetime, now: dt.datetime) -> str:
    """`in 3 days` or `2 hours ago`, as Discord shows a relative timestamp."""
    seconds = (moment - now).total_seconds()
    size = abs(seconds)
    unit, count = next(
        ((name, round(size / length)) for name, length in _UNITS if size >= length), ("second", round(size))
    )
    amount = f"{count} {unit}" + ("" if count == 1 else "s")
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def _media_name(url: Any) -> str:
    text = str(url or "")
    if text.startswith("attachment://"):
        return text[len("attachment://") :]
    return PurePosixPath(urlparse(text).path).name or text


def render_embed(embed: JSON, readable: Readable | None = None) -> list[str]:
    """Render one embed as indented plain-text lines."""
    show = readable or Readable()
    lines: list[str] = []
    author = embed.get("author") or {}
    if author.get("name"):
        lines.append(f"  {show(str(author['name']))}")
    title = embed.get("title")
    if title:
        lines.append(f"  # {show(str(title))}" + (f" <{embed['url']}>" if embed.get("url") else ""))
    for line in show(str(embed.get("description") or "")).splitlines():
        lines.append(f"  {line}")
    for item in embed.get("fields") or []:
        first, *more = show(str(item.get("value", ""))).splitlines() or [""]
        lines.append(f"  {show(str(item.get('name', '')))}: {first}")
        lines.extend(f"    {line}" for line in more)
    for key in ("image", "thumbnail"):
        media = embed.get(key)
        if isinstance(media, dict) and media.get("url"):
            lines.append(f"  [{key}: {_media_name(media['url'])}]")
    footer = embed.get("footer") or {}
    if footer.get("text"):
        lines.append(f"  -- {show(str(footer['text']))}")
    return lines


def render_components(components: list[JSON], readable: Readable | None = None) -> list[str]:
    """Render buttons as `[N Label]` (numbered for `click N`) and numbered select options."""
    show = readable or Readable()
    lines: list[str] = []
    buttons: list[str] = []
    button_number = select_number = 0
    for component in iter_components(components):
        kind = component.get("type")
        if kind == 2:
            button_number += 1
            extra = f" -> {component['url']}" if component.get("style") == 5 and component.get("url") else ""
            extra += " (disabled)" if component.get("disabled") else ""
            buttons.append(f"[{button_number} {button_label(component)}{extra}]")
        elif kind in _SELECT_TYPES:
            select_number += 1
            placeholder = component.get("placeholder") or "choose"
            low, high = component.get("min_values", 1), component.get("max_values", 1)
            lines.append(f"  <select {select_number}: {placeholder} (pick {low}-{high})>")
            for number, option in enumerate(component.get("options") or [], start=1):
                description = f" - {option['description']}" if option.get("description") else ""
                default = " (default)" if option.get("default") else ""
                lines.append(f"    {number}. {option.get('label')}{description}{default}")
        elif kind == 10:
            lines.extend(f"  {line}" for line in show(str(component.get("content") or "")).splitlines())
    if buttons:
        lines.append("  " + " ".join(buttons))
    return lines


def button_label(button: JSON) -> str:
    """A button's label with its emoji, as Discord shows it."""
    emoji = (button.get("emoji") or {}).get("name") or ""
    label = str(button.get("label") or "")
    return " ".join(part for part in (emoji, label) if part) or "?"


def render_message(message: JSON, readable: Readable | None = None, saved: Mapping[str, Path] | None = None) -> str:
    """Render a Discord message payload as readable plain text (`saved`: attachment id -> where it was saved)."""
    show = readable or Readable()
    flags = int(message.get("flags") or 0)
    lines: list[str] = []
    if flags & FLAG_EPHEMERAL:
        lines.append("(only you can see this)")
    if flags & FLAG_LOADING:
        lines.append("(thinking...)")
    content = str(message.get("content") or "")
    if content:
        lines.extend(show(content).splitlines())
    for embed in message.get("embeds") or []:
        lines.extend(render_embed(embed, show))
    for attachment in message.get("attachments") or []:
        kind = attachment.get("content_type") or "file"
        where = (saved or {}).get(str(attachment.get("id")))
        place = f", saved to {where}" if where is not None else ""
        lines.append(f"  [file: {attachment.get('filename')} ({kind}, {attachment.get('size', 0)} bytes){place}]")
    lines.extend(render_components(list(message.get("components") or []), show))
    return "\n".join(lines) if lines else "(empty message)"


def field_key(label: str) -> str:
    """The key a person types for a form field: its label without remarks in brackets, lower case, joined by `_`."""
    words = re.findall(r"\w+", re.sub(r"\(.*?\)", "", label).lower()) or re.findall(r"\w+", label.lower())
    return "_".join(words)


def render_modal(modal: JSON) -> str:
    """Render a modal with the keys to use with `modal key=value`."""
    lines = [f"[modal] {modal.get('title', '')}"]
    for number, item in enumerate(modal_fields(modal), start=1):
        name = str(item.get("label") or f"field {number}")
        required = " (required)" if item.get("required", True) else ""
        style = " (paragraph)" if item.get("style") == 2 else ""
        now = " ".join(str(item.get("value") or "").split())
        value = f"  now: {now[:60]}{'…' if len(now) > 60 else ''}" if now else ""
        lines.append(f"  {number}. {name}{required}{style}  -> {field_key(name) or number}=...{value}")
    return "\n".join(lines)


def _allowed_values(option: JSON) -> str:
    kind = int(option.get("type", 3))
    choices = option.get("choices")
    if choices:
        return " | ".join(str(c["name"]) for c in choices)
    if kind == 3:
        low, high = option.get("min_length"), option.get("max_length")
        if low is not None and low == high:
            return f"text of {low} characters"
        if high is not None:
            return f"text of {low or 1}-{high} characters"
        return "text"
    if kind in (4, 10):
        name = _OPTION_TYPES[kind]
        low, high = option.get("min_value"), option.get("max_value")
        if low is not None and high is not None:
            return f"{name} from {low} to {high}"
        if low is not None:
            return f"{name} of at least {low}"
        if high is not None:
            return f"{name} up to {high}"
        return name
    return _OPTION_TYPES.get(kind, "value")


def render_command_help(commands: list[JSON]) -> str:
    """List registered slash commands with their options and each option's allowed values."""
    lines: list[str] = []

    def walk(prefix: str, description: str, options: list[JSON]) -> None:
        subs = [o for o in options if o.get("type") in (1, 2)]
        if subs:
            for sub in subs:
                walk(f"{prefix} {sub['name']}", sub.get("description", ""), sub.get("options") or [])
            return
        parts = []
        details = []
        for option in options:
            kind = "choice" if option.get("choices") else _OPTION_TYPES.get(int(option.get("type", 3)), "value")
            text = f"{option['name']}: <{kind}>"
            parts.append(text if option.get("required") else f"[{text}]")
            allowed = _allowed_values(option)
            hint = " (suggestions as you type)" if option.get("autocomplete") else ""
            if allowed != kind or hint:
                details.append(f"    {option['name']}: {allowed}{hint}")
        lines.append(f"{prefix} {' '.join(parts)}".rstrip() + (f"  - {description}" if description else ""))
        lines.extend(details)

    for command in sorted(commands, key=lambda c: c["name"]):
        if command.get("type", 1) == 1:
            walk("/" + command["name"], command.get("description", ""), command.get("options") or [])
    return "\n".join(lines) if lines else "(the bot registered no slash commands)"


_OPTION_TYPES = {
    3: "text",
    4: "whole number",
    5: "true or false",
    6: "a member's name",
    7: "a channel's name",
    8: "a role's name",
    9: "a member's or role's name",
    10: "number",
    11: "a file's path on this computer",
}


def console_help(people: Iterable[str], reset: str | None) -> str:
    """The console's own commands."""
    who = " | ".join(f"as {name}" for name in people)
    rows = [
        ("/NAME option: value ...", "run a slash command, e.g. /chapter name: Taiwan (the commands are below)"),
        ("/help", "this list"),
        ("click N | LABEL", "press a button of the last message, by number or label (click next)"),
        ("select [MENU] CHOICE ...", "pick options in a menu of the last message, by number or label"),
        ("modal KEY=VALUE ...", 'fill and send the open form; quote a value that contains "=": details="a = b"'),
        ("say TEXT", "post a plain message in the channel"),
        ("locale xx", "answer as a member whose Discord speaks xx (de, ja, pt-BR, zh-TW, ...)"),
    ]
    if who:
        rows.append((who, "type as that person from now on, to try who may do what"))
    if reset:
        rows.append(("reset", reset))
    rows.append(("quit", "leave (also Ctrl-D)"))
    width = max(len(name) for name, _ in rows)
    return "console commands:\n" + "\n".join(f"  {name.ljust(width)}  {text}" for name, text in rows)


# --- parsing --------------------------------------------------------------------------------


def parse_options(text: str, schema: list[JSON]) -> dict[str, str]:
    """Split `name: Taiwan year: 2020` on registered option names; a lone value fills the only/required option."""
    names = [o["name"] for o in schema]
    text = text.strip()
    if not text:
        return {}
    if names:
        pattern = re.compile(r"(?:(?<=\s)|^)(" + "|".join(re.escape(n) for n in names) + r"):")
        matches = list(pattern.finditer(text))
    else:
        matches = []
    if not matches:
        required = [o["name"] for o in schema if o.get("required")]
        target = required if len(required) == 1 else names
        if len(target) != 1:
            raise DriverError(f"use option: value with one of {', '.join(names) or 'no options'}")
        return {target[0]: text}
    if text[: matches[0].start()].strip():
        raise DriverError(f"unexpected text {text[: matches[0].start()].strip()!r} before the options")
    values: dict[str, str] = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        values[match.group(1)] = text[match.end() : end].strip()
    return values


_FIELD = re.compile(r"([^\s=\"'“„‘«]+)=")
_NEXT_FIELD = re.compile(r"\s+[^\s=\"'“„‘«]+=")


def parse_fields(text: str, fields: list[JSON]) -> dict[str, str]:
    """Parse `key=value ...` into {custom_id: value}: keys are labels (`field_key`) or numbers, quotes optional."""
    keys: dict[str, str] = {}
    for number, item in enumerate(fields, start=1):
        custom_id = str(item.get("custom_id"))
        keys.setdefault(field_key(str(item.get("label") or "")) or str(number), custom_id)
        keys[str(number)] = custom_id
    known = ", ".join(k for k in keys if not k.isdigit()) or ", ".join(keys)
    text = text.strip()
    values: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _FIELD.match(text, position)
        if match is None:
            raise DriverError(f"use modal key=value ... (keys: {known})")
        key = match.group(1)
        target = keys.get(key) or keys.get(field_key(key))
        if target is None:
            raise DriverError(f"the form has no field {key!r} (its fields: {known})")
        value, position = _field_value(text, match.end())
        values[target] = value
        while position < len(text) and text[position].isspace():
            position += 1
    if not values:
        raise DriverError(f"use modal key=value ... (keys: {known})")
    return values


def _field_value(text: str, start: int) -> tuple[str, int]:
    """The value starting at `start` (quotes around it stripped) and where the next key begins."""
    close = _QUOTES.get(text[start : start + 1])
    if close is not None:
        end = text.find(close, start + 1)
        while end != -1:
            if end + 1 == len(text) or _NEXT_FIELD.match(text, end + 1):
                return text[start + 1 : end], end + 1
            end = text.find(close, end + 1)
    following = _NEXT_FIELD.search(text, start)
    end = following.start() if following else len(text)
    return text[start:end].strip(), end


def modal_fields(modal: JSON) -> list[JSON]:
    """The input fields of a modal, with labels taken from their Label wrapper when present."""
    fields: list[JSON] = []
    for row in modal.get("components") or []:
        if row.get("type") == 1:
            fields.extend(c for c in row.get("components") or [] if isinstance(c, dict))
        elif row.get("type") == 18 and isinstance(row.get("component"), dict):
            fields.append({**row["component"], "label": row.get("label")})
    return fields


def normalised(label: str) -> str:
    """A label without emoji, punctuation or case: `▶ Next` and `next` compare equal."""
    kept = (ch for ch in unicodedata.normalize("NFKC", label) if unicodedata.category(ch)[0] in "LN" or ch == " ")
    return " ".join("".join(kept).casefold().split())


def pick(items: list[JSON], key: str, label: Callable[[JSON], str]) -> JSON | None:
    """The item numbered `key` (from 1), or the one whose label matches it without emoji, case or punctuation."""
    key = key.strip()
    if key.isdigit() and 1 <= int(key) <= len(items):
        return items[int(key) - 1]
    wanted = normalised(key)
    exact = [item for item in items if wanted and normalised(label(item)) == wanted]
    if exact:
        return exact[0]
    starting = [item for item in items if wanted and normalised(label(item)).startswith(wanted)]
    return starting[0] if len(starting) == 1 else None


def script_lines(path: str | Path) -> list[str]:
    """Lines of a console script, without blank lines and `#` comments."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


# --- the console ------------------------------------------------------------------------------


@dataclass(slots=True)
class Seat:
    """Where the console types: a sandbox, a guild, a channel, and the people who may type (`as NAME`)."""

    sandbox: Sandbox
    guild_id: int
    channel_id: int
    people: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reset:
    """How `reset` starts over (returns the new seat) and what it does, in a sentence for /help."""

    run: Callable[[], Awaitable[Seat]]
    description: str


class _StateNames:
    """Names from the sandbox's state: a member's nick or name, a role's, a channel's."""

    def __init__(self, seat: Seat) -> None:
        self._seat = seat

    def user(self, user_id: int) -> str | None:
        state = self._seat.sandbox.state
        user = state.users.get(user_id)
        guild = state.guilds.get(self._seat.guild_id)
        member = guild.members.get(user_id) if guild else None
        if user is None:
            return None
        return (member.nick if member else None) or user.global_name or user.username

    def role(self, role_id: int) -> str | None:
        guild = self._seat.sandbox.state.guilds.get(self._seat.guild_id)
        role = guild.roles.get(role_id) if guild else None
        return role.name.lstrip("@") if role else None

    def channel(self, channel_id: int) -> str | None:
        channel = self._seat.sandbox.state.channels.get(channel_id)
        return channel.name if channel else None


class Console:
    """State of one console session: who types, the last message shown, the open form, saved files."""

    def __init__(
        self,
        seat: Seat,
        user_id: int,
        out: TextIO,
        *,
        files: Path | None = None,
        reset: Reset | None = None,
        zone: dt.tzinfo | None = None,
    ) -> None:
        self.seat = seat
        self.user_id = user_id
        self.out = out
        self.files = files
        self.reset = reset
        self.readable = Readable(_StateNames(seat), zone=zone)
        self.timeout = 10.0
        self.grace = 0.1
        self.last_message: SentMessage | None = None
        self.last_result: InteractionResult | None = None
        self.busy = False
        self.printed: set[int] = set()
        self.saved: dict[str, Path] = {}
        self.pending: list[Message] = []

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox the console types into."""
        return self.seat.sandbox

    def write(self, text: str) -> None:
        """Print a block of text."""
        self.out.write(text.rstrip("\n") + "\n")
        self.out.flush()

    def on_message(self, message: Message) -> None:
        """Show messages the bot posts by itself (and late follow-ups), and its DMs to whoever types, as they arrive."""
        state = self.sandbox.state
        if message.author_id != state.bot_id:
            return
        dm = state.dm_channels.get(message.channel_id)
        if dm is not None:
            if dm.recipient_id != self.user_id:
                return
        elif message.guild_id != self.seat.guild_id:
            return
        if message.ephemeral and not self._mine(message):
            return
        if self.busy:
            self.pending.append(message)
        else:
            self.show(SentMessage(self.sandbox.state, message))

    def _mine(self, message: Message) -> bool:
        record = self.sandbox.state.interactions.get(message.interaction_id or 0)
        return record is not None and record.user_id == self.user_id

    def show(self, message: SentMessage) -> None:
        """Render a message once (saving its files); a channel message becomes the last one, which `click` acts on."""
        if message.id in self.printed or message.deleted:
            return
        self.printed.add(message.id)
        self._save_files(message)
        text = render_message(message.payload, self.readable, self.saved)
        if message.channel_id in self.sandbox.state.dm_channels:
            self.write(f"[DM]\n{text}")
            return
        if message.channel_id != self.seat.channel_id:
            channel = self.sandbox.state.channels.get(message.channel_id)
            text = f"[#{channel.name if channel else message.channel_id}]\n{text}"
        self.write(text)
        self.last_message = message

    def _save_files(self, message: SentMessage) -> None:
        if self.files is None:
            return
        for attachment in message.payload.get("attachments") or []:
            key = str(attachment.get("id"))
            stored = next((a for a in message.attachments if a.url == attachment.get("url")), None)
            if key in self.saved or stored is None:
                continue
            name = PurePosixPath(stored.filename.replace("\\", "/")).name.lstrip(".") or "file"
            path = self.files / name
            taken = set(self.saved.values())
            number = 1
            while path in taken:
                number += 1
                path = self.files / f"{Path(name).stem}-{number}{Path(name).suffix}"
            self.files.mkdir(parents=True, exist_ok=True)
            path.write_bytes(stored.data)
            self.saved[key] = path

    def show_result(self, result: InteractionResult) -> None:
        """Render what the bot answered to an interaction."""
        self.last_result = result
        for error in result.errors:
            self.write(f"! Discord refused the bot's answer: {error.get('message')} ({error.get('code')})")
        for message in result.messages:
            if result.response_type in (6, 7):
                self.printed.discard(message.id)
            self.show(message)
        if result.modal is not None:
            self.write(render_modal(result.modal))

    async def _show_answer(self, result: InteractionResult) -> None:
        """Show an answer once a deferral ("thinking...") has been filled, or what there is after the timeout."""
        if result.deferred:
            try:
                await result.wait_until_answered(self.timeout)
            except InteractionTimeout:
                self.write(f"! the bot was still thinking after {self.timeout:.0f}s")
        self.show_result(result)

    async def handle(self, line: str) -> bool:
        """Run one typed line; False means quit."""
        line = line.strip()
        if not line:
            return True
        word, _, rest = line.partition(" ")
        word = word.lower()
        if word in ("quit", "exit"):
            return False
        self.busy = True
        self.pending.clear()
        try:
            await self._dispatch(word, rest.strip(), line)
            if (word.startswith("/") and word != "/help") or word in ("click", "select", "modal", "say"):
                await asyncio.sleep(self.grace)
        except DriverError as error:
            self.write(f"! {error}")
        except InteractionTimeout as timeout:
            self.write(f"! the bot did not answer within {self.timeout:.0f}s")
            self.show_result(timeout.result)
        finally:
            self.busy = False
            for message in self.pending:
                self.show(SentMessage(self.sandbox.state, message))
            self.pending.clear()
        return True

    async def _dispatch(self, word: str, rest: str, line: str) -> None:
        if word in ("/help", "help"):
            self.write(console_help(self.seat.people, self.reset.description if self.reset else None))
            state = self.sandbox.state
            guild_id = self.seat.guild_id
            visible = {c["name"]: c for c in [*state.global_commands, *state.commands_for(guild_id)]}
            self.write("slash commands:\n" + render_command_help(list(visible.values())))
        elif word.startswith("/"):
            await self._slash(line[1:])
        elif word == "click":
            await self._click(rest)
        elif word == "select":
            await self._select(rest)
        elif word == "modal":
            await self._modal(rest)
        elif word == "say":
            self.sandbox.send_message(self.seat.channel_id, self.user_id, rest)
            await self.sandbox.settle()
        elif word == "as":
            self._switch(rest)
        elif word == "reset":
            await self._reset()
        elif word == "locale":
            if not rest:
                raise DriverError("use locale xx (for example: locale es-ES)")
            self.sandbox.set_locale(self.user_id, rest)
            self.write(f"(locale set to {rest})")
        else:
            self.write(f"! unknown console command {word!r} (try /help)")

    def _switch(self, name: str) -> None:
        people = self.seat.people
        user_id = people.get(name.strip().lower())
        if user_id is None:
            raise DriverError(f"use as {' | as '.join(people) or '...'} (no one called {name.strip()!r})")
        self.user_id = user_id
        user = self.sandbox.state.users[user_id]
        self.write(f"(you are now {user.username}, the {name.strip().lower()})")

    async def _reset(self) -> None:
        if self.reset is None:
            raise DriverError("this console cannot reset its sandbox")
        self.write("(resetting the sandbox...)")
        role = next((name for name, uid in self.seat.people.items() if uid == self.user_id), None)
        self.sandbox.state.message_listeners.remove(self.on_message)
        try:
            seat = await self.reset.run()
        except BaseException:
            self.sandbox.state.message_listeners.append(self.on_message)
            raise
        self.seat = seat
        self.sandbox.state.message_listeners.append(self.on_message)
        self.readable = Readable(_StateNames(seat), zone=self.readable.zone)
        self.user_id = seat.people.get(role or "", next(iter(seat.people.values()), self.user_id))
        self.last_message = self.last_result = None
        self.printed.clear()
        self.write("(the sandbox started over: a fresh database and guild; /help says what reset does)")

    async def _slash(self, text: str) -> None:
        tokens = text.split()
        if not tokens:
            raise DriverError("type a command name after / (try /help)")
        command = self.sandbox.state.find_command(self.seat.guild_id, tokens[0])
        if command is None:
            raise DriverError(f"unknown command /{tokens[0]} (try /help)")
        name_parts = [tokens[0]]
        schema: list[JSON] = command.get("options") or []
        while len(name_parts) < len(tokens):
            word = tokens[len(name_parts)]
            sub = next((o for o in schema if o["name"] == word and o.get("type") in (1, 2)), None)
            if sub is None:
                break
            name_parts.append(sub["name"])
            schema = sub.get("options") or []
        name = " ".join(name_parts)
        _, _, schema = self.sandbox.resolve_command(self.seat.guild_id, name)
        pieces = text.split(None, len(name_parts))
        values: dict[str, Any] = dict(parse_options(pieces[-1] if len(pieces) > len(name_parts) else "", schema))
        for option in schema:
            if option.get("type") == ATTACHMENT_OPTION and option["name"] in values:
                file = Path(str(values[option["name"]])).expanduser()
                if not file.is_file():
                    raise DriverError(f"no such file: {file}")
                values[option["name"]] = (file.name, file.read_bytes())
        seat = self.seat
        result = await self.sandbox.slash(
            seat.guild_id, seat.channel_id, self.user_id, name, values, timeout=self.timeout
        )
        await self._show_answer(result)

    async def _click(self, rest: str) -> None:
        message = self._last_message()
        buttons = message.buttons
        if not buttons:
            raise DriverError("the last message has no buttons")
        chosen = pick(buttons, rest, button_label)
        if chosen is None:
            labels = ", ".join(f"{i} {button_label(b)}" for i, b in enumerate(buttons, start=1))
            raise DriverError(f"the last message has no button {rest.strip()!r} (its buttons: {labels})")
        if chosen.get("disabled"):
            raise DriverError(f"the button {button_label(chosen)} is disabled")
        if chosen.get("style") == 5:
            self.write(f"(link: {chosen.get('url')})")
            return
        names = {str(chosen.get("custom_id")): button_label(chosen)}
        with _hidden_ids(names):
            result = await self.sandbox.click(message, str(chosen["custom_id"]), self.user_id, timeout=self.timeout)
        await self._show_answer(result)

    async def _select(self, rest: str) -> None:
        message = self._last_message()
        selects = message.selects
        args = rest.split()
        if not selects:
            raise DriverError("the last message has no menu")
        if not args:
            raise DriverError("use select [MENU] CHOICE...")
        menu = selects[0]
        if len(selects) > 1:
            if not args[0].isdigit() or not 1 <= int(args[0]) <= len(selects):
                raise DriverError(f"start with the menu number (1-{len(selects)})")
            menu, args = selects[int(args[0]) - 1], args[1:]
        elif len(args) > 1 and args[0] == "1" and int(menu.get("max_values", 1)) < len(args):
            args = args[1:]
        options: list[JSON] = menu.get("options") or []
        values: list[str] = []
        if options:
            whole = pick(options, " ".join(args), lambda o: str(o.get("label") or ""))
            picked = (
                [whole] if whole is not None else [pick(options, a, lambda o: str(o.get("label") or "")) for a in args]
            )
            listed = ", ".join(f"{i} {o.get('label')}" for i, o in enumerate(options, start=1))
            for option, arg in zip(picked, args, strict=False):
                if option is None:
                    raise DriverError(f"the menu has no option {arg!r} (its options: {listed})")
                values.append(str(option["value"]))
        else:
            values = args
        low, high = int(menu.get("min_values", 1)), int(menu.get("max_values", 1))
        if not low <= len(values) <= high:
            raise DriverError(f"pick {low}-{high} options in this menu")
        with _hidden_ids({str(menu["custom_id"]): "the menu"}):
            result = await self.sandbox.select(
                message, str(menu["custom_id"]), values, self.user_id, timeout=self.timeout
            )
        await self._show_answer(result)

    async def _modal(self, rest: str) -> None:
        result = self.last_result
        if result is None or result.modal is None:
            raise DriverError("no form is open")
        fields = modal_fields(result.modal)
        values = parse_fields(rest, fields)
        names = {str(f.get("custom_id")): f"“{f.get('label') or i}”" for i, f in enumerate(fields, start=1)}
        with _hidden_ids(names):
            answer = await self.sandbox.submit_modal(result, values, self.user_id, timeout=self.timeout)
        await self._show_answer(answer)

    def _last_message(self) -> SentMessage:
        if self.last_message is None or self.last_message.deleted:
            raise DriverError("no message yet")
        return self.last_message


@contextmanager
def _hidden_ids(names: Mapping[str, str]) -> Iterator[None]:
    """Rewrite the sandbox's refusals so that they name components by label, never by custom_id."""
    try:
        yield
    except DriverError as error:
        text = str(error)
        for custom_id, name in names.items():
            text = text.replace(repr(custom_id), name).replace(custom_id, name)
        raise DriverError(text) from None


class _Keyboard:
    """Reads lines in a thread, one at a time when asked (so the prompt follows the bot's answers)."""

    def __init__(self, out: TextIO, history: Path | None) -> None:
        self._out = out
        self._history = history
        self._wanted = threading.Semaphore(0)
        self._tty = sys.stdin.isatty()

    async def lines(self) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        threading.Thread(target=self._pump, args=(loop, queue), name="sandbox-console-stdin", daemon=True).start()
        while True:
            self._wanted.release()
            line = await queue.get()
            if line is None:
                return
            yield line

    def _pump(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
        read = self._readline() if self._tty else self._plain
        while True:
            self._wanted.acquire()
            line = read()
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:
                return
            if line is None:
                return

    def _plain(self) -> str | None:
        self._out.write("> ")
        self._out.flush()
        raw = sys.stdin.readline()
        return raw.rstrip("\n") if raw else None

    def _readline(self) -> Callable[[], str | None]:
        import readline

        history = self._history
        if history is not None and history.is_file():
            readline.read_history_file(history)
        readline.set_history_length(1000)

        def read() -> str | None:
            try:
                line = input("> ")
            except EOFError:
                return None
            if history is not None and line.strip():
                history.parent.mkdir(parents=True, exist_ok=True)
                readline.write_history_file(history)
            return line

        return read


async def run_console(
    sandbox: Sandbox,
    guild_id: int,
    channel_id: int,
    user_id: int,
    *,
    lines: AsyncIterator[str] | Iterable[str] | None = None,
    out: TextIO = sys.stdout,
    echo: bool | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109
    people: Mapping[str, int] | None = None,
    files: Path | None = None,
    history: Path | None = None,
    reset: Reset | None = None,
    zone: dt.tzinfo | None = None,
) -> None:
    """Read typed lines (stdin when `lines` is None) and act as `user_id`; replies go to `out`.

    Given `lines` (a script), each line is echoed as `> line` unless `echo=False`; blank lines and
    lines starting with `#` are skipped. `people` names who `as NAME` switches to; attachments are
    saved under `files`; typed lines are kept in `history` (with line editing when stdin is a terminal).
    """
    seat = Seat(sandbox, guild_id, channel_id, dict(people or {}))
    console = Console(seat, user_id, out, files=files, reset=reset, zone=zone)
    console.timeout = timeout
    echo = lines is not None if echo is None else echo
    source: AsyncIterator[str] = _Keyboard(out, history).lines() if lines is None else _aiter(lines)
    sandbox.state.message_listeners.append(console.on_message)
    try:
        async for line in source:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if echo:
                console.write(f"> {line}")
            if not await console.handle(line):
                break
    finally:
        console.sandbox.state.message_listeners.remove(console.on_message)


async def _aiter(lines: AsyncIterator[str] | Iterable[str]) -> AsyncIterator[str]:
    if isinstance(lines, AsyncIterator):
        async for line in lines:
            yield line
    else:
        for line in lines:
            yield line
