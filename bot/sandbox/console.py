"""A text console for the sandbox: type slash commands as a member and read the bot's replies."""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from collections.abc import AsyncIterator, Iterable
from pathlib import Path, PurePosixPath
from typing import Any, TextIO
from urllib.parse import urlparse

from .results import DriverError, InteractionResult, InteractionTimeout, SentMessage, iter_components
from .server import Sandbox
from .state import FLAG_EPHEMERAL, FLAG_LOADING, JSON, Message

ATTACHMENT_OPTION = 11
_SELECT_TYPES = (3, 5, 6, 7, 8)
_HELP = (
    "commands: /name option: value ...   /help   click N|LABEL   select [MENU] CHOICE...   "
    "modal field=value ...   say TEXT   locale xx   quit"
)


# --- rendering (pure functions) ---------------------------------------------------------


def _media_name(url: Any) -> str:
    text = str(url or "")
    if text.startswith("attachment://"):
        return text[len("attachment://") :]
    return PurePosixPath(urlparse(text).path).name or text


def render_embed(embed: JSON) -> list[str]:
    """Render one embed as indented plain-text lines."""
    lines: list[str] = []
    author = embed.get("author") or {}
    if author.get("name"):
        lines.append(f"  {author['name']}")
    title = embed.get("title")
    if title:
        lines.append(f"  # {title}" + (f" <{embed['url']}>" if embed.get("url") else ""))
    for line in str(embed.get("description") or "").splitlines():
        lines.append(f"  {line}")
    for field in embed.get("fields") or []:
        first, *more = str(field.get("value", "")).splitlines() or [""]
        lines.append(f"  {field.get('name', '')}: {first}")
        lines.extend(f"    {line}" for line in more)
    for key in ("image", "thumbnail"):
        media = embed.get(key)
        if isinstance(media, dict) and media.get("url"):
            lines.append(f"  [{key}: {_media_name(media['url'])}]")
    footer = embed.get("footer") or {}
    if footer.get("text"):
        lines.append(f"  -- {footer['text']}")
    return lines


def render_components(components: list[JSON]) -> list[str]:
    """Render buttons as `[N Label]` (numbered for `click N`) and numbered select options."""
    lines: list[str] = []
    buttons: list[str] = []
    button_number = select_number = 0
    for component in iter_components(components):
        kind = component.get("type")
        if kind == 2:
            button_number += 1
            label = component.get("label") or (component.get("emoji") or {}).get("name") or "?"
            extra = f" -> {component['url']}" if component.get("style") == 5 and component.get("url") else ""
            extra += " (disabled)" if component.get("disabled") else ""
            buttons.append(f"[{button_number} {label}{extra}]")
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
            lines.extend(f"  {line}" for line in str(component.get("content") or "").splitlines())
    if buttons:
        lines.append("  " + " ".join(buttons))
    return lines


def render_message(message: JSON) -> str:
    """Render a Discord message payload as readable plain text."""
    flags = int(message.get("flags") or 0)
    lines: list[str] = []
    if flags & FLAG_EPHEMERAL:
        lines.append("(only you can see this)")
    if flags & FLAG_LOADING:
        lines.append("(thinking...)")
    content = str(message.get("content") or "")
    if content:
        lines.extend(content.splitlines())
    for embed in message.get("embeds") or []:
        lines.extend(render_embed(embed))
    for attachment in message.get("attachments") or []:
        kind = attachment.get("content_type") or "file"
        lines.append(f"  [file: {attachment.get('filename')} ({kind}, {attachment.get('size', 0)} bytes)]")
    lines.extend(render_components(list(message.get("components") or [])))
    return "\n".join(lines) if lines else "(empty message)"


def render_modal(modal: JSON) -> str:
    """Render a modal with the field ids to use with `modal field=value`."""
    lines = [f"[modal] {modal.get('title', '')}"]
    number = 0
    for row in modal.get("components") or []:
        fields = row.get("components") if row.get("type") == 1 else [row.get("component")]
        label = row.get("label") if row.get("type") == 18 else None
        for field in fields or []:
            if not isinstance(field, dict):
                continue
            number += 1
            name = label or field.get("label") or field.get("custom_id")
            required = " (required)" if field.get("required", True) else ""
            style = " (paragraph)" if field.get("style") == 2 else ""
            lines.append(f"  {number}. {name}{required}{style}  -> {field.get('custom_id')}=...")
    return "\n".join(lines)


def render_command_help(commands: list[JSON]) -> str:
    """List registered slash commands with their options."""
    lines: list[str] = []

    def walk(prefix: str, description: str, options: list[JSON]) -> None:
        subs = [o for o in options if o.get("type") in (1, 2)]
        if subs:
            for sub in subs:
                walk(f"{prefix} {sub['name']}", sub.get("description", ""), sub.get("options") or [])
            return
        parts = []
        for option in options:
            kind = _OPTION_TYPES.get(int(option.get("type", 3)), "value")
            text = f"{option['name']}: <{kind}>"
            parts.append(text if option.get("required") else f"[{text}]")
        lines.append(f"{prefix} {' '.join(parts)}".rstrip() + (f"  - {description}" if description else ""))

    for command in sorted(commands, key=lambda c: c["name"]):
        if command.get("type", 1) == 1:
            walk("/" + command["name"], command.get("description", ""), command.get("options") or [])
    return "\n".join(lines) if lines else "(the bot registered no slash commands)"


_OPTION_TYPES = {
    3: "text",
    4: "integer",
    5: "true|false",
    6: "user",
    7: "channel",
    8: "role",
    9: "user|role",
    10: "number",
    11: "file path",
}


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


def parse_fields(text: str, fields: list[JSON]) -> dict[str, str]:
    """Parse `field=value ...` (values may contain spaces); keys are custom ids, labels or numbers."""
    keys: dict[str, str] = {}
    for number, field in enumerate(fields, start=1):
        custom_id = str(field.get("custom_id"))
        keys[custom_id] = custom_id
        keys[str(number)] = custom_id
        label = str(field.get("label") or "").strip().lower().replace(" ", "_")
        if label:
            keys.setdefault(label, custom_id)
    matches = [
        m for m in re.finditer(r"(?:(?<=\s)|^)([^\s=]+)=", text) if m.group(1).lower() in keys or m.group(1) in keys
    ]
    if not matches:
        raise DriverError("use modal field=value ...")
    values: dict[str, str] = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        key = keys.get(match.group(1)) or keys[match.group(1).lower()]
        values[key] = text[match.end() : end].strip()
    return values


def modal_fields(modal: JSON) -> list[JSON]:
    """The input fields of a modal, with labels taken from their Label wrapper when present."""
    fields: list[JSON] = []
    for row in modal.get("components") or []:
        if row.get("type") == 1:
            fields.extend(c for c in row.get("components") or [] if isinstance(c, dict))
        elif row.get("type") == 18 and isinstance(row.get("component"), dict):
            fields.append({**row["component"], "label": row.get("label")})
    return fields


def script_lines(path: str | Path) -> list[str]:
    """Lines of a console script, without blank lines and `#` comments."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


# --- the console ------------------------------------------------------------------------------


class Console:
    """State of one console session (last message with components, last modal, printed ids)."""

    def __init__(self, sandbox: Sandbox, guild_id: int, channel_id: int, user_id: int, out: TextIO) -> None:
        self.sandbox = sandbox
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.user_id = user_id
        self.out = out
        self.timeout = 10.0
        self.grace = 0.1
        self.last_message: SentMessage | None = None
        self.last_result: InteractionResult | None = None
        self.busy = False
        self.printed: set[int] = set()
        self.pending: list[Message] = []

    def write(self, text: str) -> None:
        """Print a block of text."""
        self.out.write(text.rstrip("\n") + "\n")
        self.out.flush()

    def on_message(self, message: Message) -> None:
        """Show messages the bot posts by itself (and late follow-ups) as they arrive."""
        if message.author_id != self.sandbox.state.bot_id or message.guild_id != self.guild_id:
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
        """Render a message once, remembering it when it has components."""
        if message.id in self.printed or message.deleted:
            return
        self.printed.add(message.id)
        text = render_message(message.payload)
        if message.channel_id != self.channel_id:
            channel = self.sandbox.state.channels.get(message.channel_id)
            text = f"[#{channel.name if channel else message.channel_id}]\n{text}"
        self.write(text)
        if message.components:
            self.last_message = message

    def show_result(self, result: InteractionResult) -> None:
        """Render what the bot answered to an interaction."""
        self.last_result = result
        for error in result.errors:
            self.write(f"! the interaction failed: {error.get('message')} ({error.get('code')})")
        for message in result.messages:
            if result.response_type in (6, 7):
                self.printed.discard(message.id)
            self.show(message)
        if result.modal is not None:
            self.write(render_modal(result.modal))

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
            if word not in ("/help", "help", "locale"):
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
            state = self.sandbox.state
            visible = {c["name"]: c for c in [*state.global_commands, *state.commands_for(self.guild_id)]}
            self.write(render_command_help(list(visible.values())))
        elif word.startswith("/"):
            await self._slash(line[1:])
        elif word == "click":
            await self._click(rest)
        elif word == "select":
            await self._select(rest)
        elif word == "modal":
            await self._modal(rest)
        elif word == "say":
            self.sandbox.send_message(self.channel_id, self.user_id, rest)
            await self.sandbox.settle()
        elif word == "locale":
            if not rest:
                raise DriverError("use locale xx (for example: locale es-ES)")
            self.sandbox.set_locale(self.user_id, rest)
            self.write(f"(locale set to {rest})")
        else:
            self.write(_HELP)

    async def _slash(self, text: str) -> None:
        tokens = text.split()
        if not tokens:
            raise DriverError("type a command name after / (try /help)")
        command = self.sandbox.state.find_command(self.guild_id, tokens[0])
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
        _, _, schema = self.sandbox.resolve_command(self.guild_id, name)
        pieces = text.split(None, len(name_parts))
        values: dict[str, Any] = dict(parse_options(pieces[-1] if len(pieces) > len(name_parts) else "", schema))
        for option in schema:
            if option.get("type") == ATTACHMENT_OPTION and option["name"] in values:
                file = Path(str(values[option["name"]])).expanduser()
                if not file.is_file():
                    raise DriverError(f"no such file: {file}")
                values[option["name"]] = (file.name, file.read_bytes())
        result = await self.sandbox.slash(
            self.guild_id, self.channel_id, self.user_id, name, values, timeout=self.timeout
        )
        self.show_result(result)

    async def _click(self, rest: str) -> None:
        message = self._require_last_message()
        buttons = message.buttons
        chosen = _pick(buttons, rest, lambda b: str(b.get("label") or ""))
        if chosen is None:
            labels = ", ".join(f"{i} {b.get('label')}" for i, b in enumerate(buttons, start=1))
            raise DriverError(f"no button {rest!r} (buttons: {labels or 'none'})")
        if chosen.get("style") == 5:
            self.write(f"(link: {chosen.get('url')})")
            return
        result = await self.sandbox.click(message, str(chosen["custom_id"]), self.user_id, timeout=self.timeout)
        self.show_result(result)

    async def _select(self, rest: str) -> None:
        message = self._require_last_message()
        selects = message.selects
        args = rest.split()
        if not selects:
            raise DriverError("the last message has no select menu")
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
        whole = _pick(options, " ".join(args), lambda o: str(o.get("label") or "")) if options else None
        picked = (
            [whole] if whole is not None else [_pick(options, a, lambda o: str(o.get("label") or "")) for a in args]
        )
        values = [str(o["value"]) if o is not None else arg for o, arg in zip(picked, args, strict=False)]
        result = await self.sandbox.select(message, str(menu["custom_id"]), values, self.user_id, timeout=self.timeout)
        self.show_result(result)

    async def _modal(self, rest: str) -> None:
        result = self.last_result
        if result is None or result.modal is None:
            raise DriverError("no modal is open")
        values = parse_fields(rest, modal_fields(result.modal))
        answer = await self.sandbox.submit_modal(result, values, self.user_id, timeout=self.timeout)
        self.show_result(answer)

    def _require_last_message(self) -> SentMessage:
        if self.last_message is None or self.last_message.deleted:
            raise DriverError("no message with buttons or menus yet")
        return self.last_message


def _pick(items: list[JSON], key: str, label: Any) -> JSON | None:
    key = key.strip()
    if key.isdigit() and 1 <= int(key) <= len(items):
        return items[int(key) - 1]
    for item in items:
        if label(item).lower() == key.lower() or str(item.get("value", "")) == key:
            return item
    return None


async def _stdin_lines(out: TextIO) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        try:
            for raw in sys.stdin:
                loop.call_soon_threadsafe(queue.put_nowait, raw.rstrip("\n"))
            loop.call_soon_threadsafe(queue.put_nowait, None)
        except RuntimeError:
            return

    threading.Thread(target=pump, name="sandbox-console-stdin", daemon=True).start()
    while True:
        out.write("> ")
        out.flush()
        line = await queue.get()
        if line is None:
            return
        yield line


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
) -> None:
    """Read typed lines (stdin when `lines` is None) and act as the member; replies go to `out`.

    Given `lines` (a script), each line is echoed as `> line` unless `echo=False`; blank lines and
    lines starting with `#` are skipped.
    """
    console = Console(sandbox, guild_id, channel_id, user_id, out)
    console.timeout = timeout
    echo = lines is not None if echo is None else echo
    source: AsyncIterator[str] = _stdin_lines(out) if lines is None else _aiter(lines)
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
        sandbox.state.message_listeners.remove(console.on_message)


async def _aiter(lines: AsyncIterator[str] | Iterable[str]) -> AsyncIterator[str]:
    if isinstance(lines, AsyncIterator):
        async for line in lines:
            yield line
    else:
        for line in lines:
            yield line
