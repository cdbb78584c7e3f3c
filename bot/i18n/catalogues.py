"""The tools that keep the catalogues complete: template extraction, merging and checks.

Catalogues are ``bot/i18n/locales/<lang>/LC_MESSAGES/bot.po`` (one per entry of `CATALOGUES`), made from the
template ``bot/i18n/locales/bot.pot``. A msgid is the English text itself, with ``str.format`` placeholders
such as ``{name}``; English needs no catalogue. The ``.po`` files are parsed once per process, with no
compile step.

Code marks what to translate in three ways, all collected into the template:

* ``t(locale, "English text", name=value)`` for anything the bot says;
* ``N_("English text")`` for a literal translated later, e.g. a label in a table passed to `t` by value;
* ``tn(locale, "{count} result", "{count} results", n, count=...)`` for a sentence with a count: a plural
  entry with as many forms as the language has (``Plural-Forms`` in the catalogue's header);
* slash command texts, as plain strings or ``locale_str`` in the decorators; `bot.i18n.translator.BotTranslator` translates
  them when the tree syncs.

Message contexts (msgctxt):

* ``command name``: the name of a slash command, a command group or a context menu;
* ``option name``: the name of a command option;
* no context: everything else, i.e. command, group and option descriptions, choice names, and messages
  given to `t` or `N_`. These are prose and share one translation with the same sentence elsewhere.

Names have their own contexts because Discord wants them lowercase, without spaces and at most 32
characters long, and because a word used as a name (``chapter``) may be translated differently from the
same word in a sentence. Descriptions and choice names are limited to 100 characters.

Maintenance, from the project root::

    python -m bot.i18n template   # rewrite bot.pot from the command tree and the marked strings
    python -m bot.i18n update     # merge bot.pot into every catalogue (new entries empty or fuzzy)
    python -m bot.i18n check      # list missing, fuzzy, empty, mismatched or obsolete entries
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import discord
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from discord import app_commands

from bot.i18n import (
    CATALOGUES,
    COMMAND_NAME,
    DOMAIN,
    NAME_LENGTH,
    NO_DESCRIPTION,
    OPTION_NAME,
    TEMPLATE,
    TEXT_LENGTH,
    catalogue_path,
    load_catalogue,
    placeholders,
    read_catalogue,
    valid_name,
)

SOURCE_ROOTS = (Path(__file__).resolve().parents[1], Path(__file__).resolve().parents[2] / "cogs")
Message = str | tuple[str, str]
"""A msgid: one sentence, or (singular, plural) for a sentence with a count (``tn``)."""
Entry = tuple[str | None, Message]


def _message(msgid: object) -> Message:
    if isinstance(msgid, (tuple, list)):
        return (str(msgid[0]), str(msgid[1]))
    return str(msgid)


HEADER = f"""\
# Messages of the Code for All network bot.
# Msgids are the English text; keep their {{placeholders}} unchanged.
# msgctxt "{COMMAND_NAME}" and "{OPTION_NAME}": lowercase, no spaces, at most {NAME_LENGTH} characters.
# Descriptions and choice names: at most {TEXT_LENGTH} characters."""


def _command_entries(tree: app_commands.CommandTree[Any]) -> list[tuple[str | None, str, str]]:
    """(context, text, where) for every translatable text of the tree's global commands."""
    entries: list[tuple[str | None, str, str]] = []
    for kind in (
        discord.AppCommandType.chat_input,
        discord.AppCommandType.user,
        discord.AppCommandType.message,
    ):
        for command in tree.walk_commands(type=kind):
            where = f"/{command.qualified_name}"
            entries.append((COMMAND_NAME, command.name, f"{where}: name"))
            if isinstance(command, app_commands.ContextMenu):
                continue
            entries.append((None, command.description, f"{where}: description"))
            if isinstance(command, app_commands.Group):
                continue
            for parameter in command.parameters:
                option = f"{where} {parameter.display_name}"
                entries.append((OPTION_NAME, parameter.display_name, f"{option}: option name"))
                if parameter.description != NO_DESCRIPTION:
                    entries.append((None, parameter.description, f"{option}: option description"))
                entries += [(None, choice.name, f"{option}: choice") for choice in parameter.choices]
    return entries


def _unique(entries: Iterable[Entry]) -> list[Entry]:
    return list(dict.fromkeys(entries))


def command_messages(tree: app_commands.CommandTree[Any]) -> list[Entry]:
    """(context, text) for the names, descriptions, options and choices of the tree's global commands."""
    return _unique((context, text) for context, text, _ in _command_entries(tree))


def _marked_literal(node: ast.Call) -> Message | None:
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    positions = {"t": (1,), "N_": (0,), "tn": (1, 2)}.get(name or "")
    if positions is None or len(node.args) <= positions[-1]:
        return None
    texts = [node.args[position] for position in positions]
    literals = [a.value for a in texts if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if len(literals) != len(texts):
        return None
    return literals[0] if len(literals) == 1 else (literals[0], literals[1])


def _source_messages(roots: Sequence[Path]) -> list[tuple[Message, Path, int]]:
    found: list[tuple[Message, Path, int]] = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            calls = sorted(
                (n for n in ast.walk(tree) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset)
            )
            found += [(text, path, call.lineno) for call in calls if (text := _marked_literal(call)) is not None]
    return found


def extract_messages(roots: Sequence[Path] = SOURCE_ROOTS) -> list[Entry]:
    """(None, text) for every ``t(locale, "literal", ...)`` and ``N_("literal")`` in the Python sources."""
    return _unique((None, text) for text, _, _ in _source_messages(roots))


def template_messages(tree: app_commands.CommandTree[Any], roots: Sequence[Path] = SOURCE_ROOTS) -> list[Entry]:
    """Everything the template must hold: the command tree's texts, then the marked strings."""
    return _unique([*command_messages(tree), *extract_messages(roots)])


def build_template(tree: app_commands.CommandTree[Any], roots: Sequence[Path] = SOURCE_ROOTS) -> Catalog:
    """The template catalogue, with where each text appears as comments or file references."""
    template = Catalog(domain=DOMAIN, project="codeforall-bot", header_comment=HEADER, fuzzy=False)
    for context, text, where in _command_entries(tree):
        template.add(text, context=context, auto_comments=[where])
    base = SOURCE_ROOTS[0].parent
    for message, path, line in _source_messages(roots):
        relative = path.relative_to(base) if path.is_relative_to(base) else path
        template.add(message, locations=[(relative.as_posix(), line)])
    return template


def _write(path: Path, catalogue: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        write_po(file, catalogue, width=110, include_lineno=False)


def write_template(path: Path, tree: app_commands.CommandTree[Any], roots: Sequence[Path] = SOURCE_ROOTS) -> Catalog:
    """Write the ``.pot`` template built from the command tree and the marked strings, and return it."""
    template = build_template(tree, roots)
    _write(path, template)
    return template


def read_template(path: Path = TEMPLATE) -> Catalog:
    """The committed template."""
    return read_catalogue(path)


def _label(context: str | None, msgid: Message) -> str:
    return f"[{context}] {msgid!r}" if context else repr(msgid)


def _entry_problems(
    name: str, context: str | None, msgid: Message, text: object, fuzzy: bool, forms: int = 1
) -> list[str]:
    where = f"{name}: {_label(context, msgid)}"
    if fuzzy:
        return [f"{where} is fuzzy"]
    if isinstance(msgid, tuple):
        return _plural_problems(where, msgid, text, forms)
    if not isinstance(text, str) or not text:
        return [f"{where} is not translated"]
    expected, found = placeholders(msgid), placeholders(text)
    if found is None:
        return [f"{where} has malformed braces: {text!r}"]
    if found != expected:
        return [f"{where} has placeholders {sorted(found)}, expected {sorted(expected or ())}"]
    if context in (COMMAND_NAME, OPTION_NAME) and not valid_name(text):
        return [f"{where}: {text!r} is not a valid Discord name (lowercase, no spaces, ≤{NAME_LENGTH})"]
    return []


def _plural_problems(where: str, msgid: tuple[str, str], text: object, forms: int) -> list[str]:
    """A plural entry needs each of the language's forms, using no placeholder the English plural lacks."""
    if not isinstance(text, tuple) or len(text) != forms or not all(text):
        return [f"{where} needs {forms} translated plural forms"]
    expected = placeholders(msgid[1]) or frozenset()
    for form in text:
        found = placeholders(form)
        if found is None:
            return [f"{where} has malformed braces: {form!r}"]
        if not found <= expected:
            return [f"{where} has placeholders {sorted(found)}, expected some of {sorted(expected)}"]
    return []


def check_catalogues(names: Sequence[str] = CATALOGUES, template_path: Path = TEMPLATE) -> list[str]:
    """Every problem of the catalogues against the template, one readable line each (empty when fine)."""
    problems: list[str] = []
    template = read_template(template_path)
    wanted: dict[Entry, None] = {}
    for message in template:
        if not message.id:
            continue
        msgid = _message(message.id)
        if any(placeholders(text) is None for text in (msgid if isinstance(msgid, tuple) else (msgid,))):
            problems.append(f"template: {_label(message.context, msgid)} has malformed braces")
        wanted[(message.context, msgid)] = None
    for name in names:
        path = catalogue_path(name)
        if not path.is_file():
            problems.append(f"{name}: no catalogue at {path}")
            continue
        catalogue = read_catalogue(path, name)
        for context, msgid in wanted:
            entry = catalogue.get(msgid, context)
            if entry is None:
                problems.append(f"{name}: {_label(context, msgid)} is missing")
            else:
                problems += _entry_problems(name, context, msgid, entry.string, entry.fuzzy, catalogue.num_plurals)
        problems += [
            f"{name}: {_label(entry.context, str(entry.id))} is not in the template (obsolete)"
            for entry in catalogue
            if entry.id and (entry.context, _message(entry.id)) not in wanted
        ]
    return problems


def update_catalogues(names: Sequence[str] = CATALOGUES, template_path: Path = TEMPLATE) -> list[Path]:
    """Merge the template into each catalogue: new entries empty or fuzzy, removed ones kept as obsolete.

    Obsolete entries come back when the template holds their msgid again.
    """
    template = read_template(template_path)
    written: list[Path] = []
    for name in names:
        path = catalogue_path(name)
        catalogue = read_catalogue(path, name) if path.is_file() else Catalog(locale=name, domain=DOMAIN, fuzzy=False)
        for message in catalogue.obsolete.values():
            if catalogue.get(message.id, message.context) is None:
                catalogue[message.id] = message
        catalogue.obsolete.clear()
        catalogue.update(template)
        _write(path, catalogue)
        written.append(path)
    load_catalogue.cache_clear()
    return written


@contextlib.asynccontextmanager
async def loaded_command_tree() -> AsyncIterator[app_commands.CommandTree[Any]]:
    """The command tree with every cog loaded, on a bot that never connects (cogs unload on exit)."""
    from bot.app import App
    from bot.client import CodeForAllBot, discover_cogs
    from bot.config import load_settings

    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite+aiosqlite:///{Path(folder) / 'i18n.db'}"
        bot = CodeForAllBot(App.create(load_settings(_env_file=None, database_url=database, data_dir=Path(folder))))
        try:
            for extension in discover_cogs():
                await bot.load_extension(extension)
            yield bot.tree
        finally:
            await bot.close()


async def _write_template_of_loaded_tree() -> Catalog:
    async with loaded_command_tree() as tree:
        return write_template(TEMPLATE, tree)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.i18n template | update | check``."""
    parser = argparse.ArgumentParser(prog="python -m bot.i18n", description="Maintain the bot's translations.")
    parser.add_argument("action", choices=["template", "update", "check"])
    action = parser.parse_args(argv).action
    if action == "template":
        template = asyncio.run(_write_template_of_loaded_tree())
        print(f"{TEMPLATE}: {sum(1 for m in template if m.id)} messages")
    elif action == "update":
        for path in update_catalogues():
            print(path)
    problems = check_catalogues()
    print("\n".join(problems) or "catalogues complete")
    return 1 if problems else 0
