"""Console rendering and parsing (pure functions) and a scripted session against the bot."""

from __future__ import annotations

import datetime as dt
import io
import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest

from bot.sandbox import DriverError
from bot.sandbox.console import (
    Readable,
    button_label,
    console_help,
    normalised,
    parse_fields,
    parse_options,
    pick,
    render_command_help,
    render_message,
    run_console,
    script_lines,
)
from tests.sandbox.support import Harness, tiny_png

SCHEMA = [
    {"name": "name", "type": 3, "required": True},
    {"name": "year", "type": 4},
    {"name": "note", "type": 3},
]


def test_render_message_shows_everything_readably() -> None:
    message = {
        "content": "Chapter Taiwan",
        "flags": 64,
        "embeds": [
            {
                "title": "g0v",
                "url": "https://g0v.tw",
                "description": "Civic tech\ncommunity",
                "fields": [{"name": "City", "value": "Taipei"}, {"name": "Numbers", "value": "• 200\n• 2,500"}],
                "footer": {"text": "Code for All"},
                "image": {"url": "http://127.0.0.1:1/attachments/1/2/chart.png"},
                "author": {"name": "Directory"},
            }
        ],
        "attachments": [{"filename": "chart.png", "size": 10, "content_type": "image/png"}],
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 1, "label": "Join", "custom_id": "join"},
                    {"type": 2, "style": 5, "label": "Website", "url": "https://g0v.tw"},
                    {"type": 2, "style": 2, "label": "Old", "custom_id": "old", "disabled": True},
                ],
            },
            {
                "type": 1,
                "components": [
                    {
                        "type": 3,
                        "custom_id": "region",
                        "placeholder": "Region",
                        "options": [
                            {"label": "Asia", "value": "asia", "description": "East"},
                            {"label": "Europe", "value": "eu"},
                        ],
                    }
                ],
            },
        ],
    }
    assert render_message(message).splitlines() == [
        "(only you can see this)",
        "Chapter Taiwan",
        "  Directory",
        "  # g0v <https://g0v.tw>",
        "  Civic tech",
        "  community",
        "  City: Taipei",
        "  Numbers: • 200",
        "    • 2,500",
        "  [image: chart.png]",
        "  -- Code for All",
        "  [file: chart.png (image/png, 10 bytes)]",
        "  <select 1: Region (pick 1-1)>",
        "    1. Asia - East",
        "    2. Europe",
        "  [1 Join] [2 Website -> https://g0v.tw] [3 Old (disabled)]",
    ]
    assert render_message({"content": "", "flags": 128}) == "(thinking...)"
    assert render_message({"content": ""}) == "(empty message)"
    text_display = {"flags": 1 << 15, "components": [{"type": 17, "components": [{"type": 10, "content": "Hi"}]}]}
    assert render_message(text_display) == "  Hi"


def test_parse_options_splits_on_registered_names() -> None:
    assert parse_options("name: Code for Taiwan year: 2020", SCHEMA) == {"name": "Code for Taiwan", "year": "2020"}
    assert parse_options("Code for Taiwan", SCHEMA) == {"name": "Code for Taiwan"}
    assert parse_options("name: ratio: 3 note: see: below", SCHEMA) == {"name": "ratio: 3", "note": "see: below"}
    assert parse_options("", SCHEMA) == {}
    with pytest.raises(DriverError):
        parse_options("oops name: x", SCHEMA)


def test_parse_fields_and_help() -> None:
    fields = [{"custom_id": "topic", "label": "Topic"}, {"custom_id": "f2", "label": "Long details"}]
    assert parse_fields("topic=Open data long_details=a = b", fields) == {"topic": "Open data", "f2": "a = b"}
    assert parse_fields("2=x", fields) == {"f2": "x"}
    commands = [
        {"name": "chapter", "description": "Show", "options": SCHEMA},
        {
            "name": "project",
            "description": "",
            "options": [{"name": "add", "type": 1, "description": "Add", "options": []}],
        },
    ]
    assert render_command_help(commands).splitlines() == [
        "/chapter name: <text> [year: <whole number>] [note: <text>]  - Show",
        "/project add  - Add",
    ]
    ranged = [
        {
            "name": "region",
            "type": 3,
            "choices": [{"name": "Asia", "value": "asia"}, {"name": "Latin America", "value": "la"}],
        },
        {"name": "country", "type": 3, "min_length": 2, "max_length": 2},
        {"name": "words", "type": 3, "max_length": 60, "autocomplete": True},
        {"name": "page", "type": 4, "min_value": 1, "max_value": 50},
        {"name": "ratio", "type": 10, "min_value": 0},
        {"name": "file", "type": 11, "required": True},
    ]
    assert render_command_help([{"name": "find", "description": "Find", "options": ranged}]).splitlines() == [
        "/find [region: <choice>] [country: <text>] [words: <text>] [page: <whole number>] [ratio: <number>]"
        " file: <a file's path on this computer>  - Find",
        "    region: Asia | Latin America",
        "    country: text of 2 characters",
        "    words: text of 1-60 characters (suggestions as you type)",
        "    page: whole number from 1 to 50",
        "    ratio: number of at least 0",
    ]


def test_console_help_lists_the_console_commands() -> None:
    text = console_help(["organiser", "member"], "start over: a fresh database")
    lines = [line.split("  ")[1].strip() if line.startswith("  ") else line for line in text.splitlines()]
    assert lines == [
        "console commands:",
        "/NAME option: value ...",
        "/help",
        "click N | LABEL",
        "select [MENU] CHOICE ...",
        "modal KEY=VALUE ...",
        "say TEXT",
        "locale xx",
        "as organiser | as member",
        "reset",
        "quit",
    ]
    assert text.splitlines()[-2].split(None, 1) == ["reset", "start over: a fresh database"]
    assert "reset" not in console_help([], None)


def test_modal_fields_by_label_with_quotes_and_unknown_fields_named() -> None:
    fields = [
        {"custom_id": "f:1:name", "label": "Name"},
        {"custom_id": "f:1:aliases", "label": "Other names (comma separated)"},
        {"custom_id": "f:1:description", "label": "Description"},
    ]
    assert parse_fields("name=\"Code for Ghana\" other_names='CfG, Ghana' description=“a = b”", fields) == {
        "f:1:name": "Code for Ghana",
        "f:1:aliases": "CfG, Ghana",
        "f:1:description": "a = b",
    }
    assert parse_fields('description=It\'s "quoted" inside name=X', fields) == {
        "f:1:description": 'It\'s "quoted" inside',
        "f:1:name": "X",
    }
    assert parse_fields('1="x" 3=y', fields) == {"f:1:name": "x", "f:1:description": "y"}
    with pytest.raises(DriverError) as unknown:
        parse_fields("name=x colour=blue", fields)
    assert str(unknown.value) == "the form has no field 'colour' (its fields: name, other_names, description)"
    assert "f:1" not in str(unknown.value)


def test_labels_match_without_emoji_case_or_punctuation() -> None:
    buttons = [{"label": "◀ Previous"}, {"label": "Next ▶"}, {"emoji": {"name": "🔄"}, "label": "Refresh!"}]
    assert [pick(buttons, key, button_label) for key in ("next", "NEXT", "previous", "refresh", "2", "ne")] == [
        buttons[1],
        buttons[1],
        buttons[0],
        buttons[2],
        buttons[1],
        buttons[1],
    ]
    assert pick(buttons, "close", button_label) is None
    assert normalised("  ▶ Next!! ") == "next"


def test_readable_renders_links_timestamps_and_mentions() -> None:
    class Names:
        def user(self, user_id: int) -> str | None:
            return {1: "ana"}.get(user_id)

        def role(self, role_id: int) -> str | None:
            return {2: "Organisers"}.get(role_id)

        def channel(self, channel_id: int) -> str | None:
            return {3: "general"}.get(channel_id)

    now = dt.datetime(2027, 5, 1, 12, 0, tzinfo=dt.UTC)
    summit = int(dt.datetime(2027, 5, 12, 9, 0, tzinfo=dt.UTC).timestamp())
    read = Readable(Names(), now=now, zone=dt.UTC)
    assert read(f"Summit <t:{summit}:F> (<t:{summit}:R>), doors <t:{summit}:t>, <t:{summit}:d>, <t:{summit}>") == (
        "Summit Wednesday, 12 May 2027 09:00 UTC (in 11 days), doors 09:00 UTC, 2027-05-12, 12 May 2027 09:00 UTC"
    )
    assert read(f"<t:{int(now.timestamp()) - 7200}:R> <t:99999999999999:F>") == "2 hours ago <t:99999999999999:F>"
    assert read("[the site](https://g0v.tw) and <https://code4.ro>") == "the site <https://g0v.tw> and https://code4.ro"
    assert read("<@1> <@!1> <@&2> <#3> <@9> @everyone </projects:123> <:g0v:456>") == (
        "@ana @ana @Organisers #general @unknown-user @everyone /projects :g0v:"
    )
    assert Readable()("<@1>") == "<@1>"


def test_script_lines_skip_comments(tmp_path: Path) -> None:
    script = tmp_path / "demo.txt"
    script.write_text("# demo\n/help\n\n  say hi\n", encoding="utf-8")
    assert script_lines(script) == ["/help", "  say hi"]


@pytest.mark.asyncio
async def test_scripted_console_session(harness: Harness, tmp_path: Path) -> None:
    out = io.StringIO()
    lines = [
        "/help",
        "/chapter name: Taiwan",
        "click 1",
        "select Europe",
        "click Confirm",
        "/report year: 2024",
        "click Join",
        "/feedback",
        "modal topic=Open data details=More portals",
        "/project add title: Decidim Barcelona stars: 5",
        "/nope",
        "say hello",
        "locale es-ES",
        "quit",
        "/never-run",
    ]
    files = tmp_path / "files"
    await run_console(
        harness.sandbox, harness.guild.id, harness.channel_id, harness.alice.id, lines=lines, out=out, files=files
    )
    text = out.getvalue()
    assert "> /chapter name: Taiwan\nChapter Taiwan\n  # Code for Taiwan <https://codeforall.org>\n" in text
    assert "/chapter name: <text>  - Show a chapter" in text
    assert "(only you can see this)\nRegion: eu\n  [1 Confirm]" in text
    assert "> click Confirm\n(only you can see this)\nConfirmed" in text
    assert "alice joined Taiwan" in text and "[1 Join (disabled)]" in text
    chart = files / "chart.png"
    assert (
        f"  # Report 2024\n  [image: chart.png]\n  [file: chart.png (image/png, {len(tiny_png())} bytes), saved to {chart}]"
        in text
    )
    assert chart.read_bytes() == tiny_png()
    assert "> click Join\n! the last message has no buttons\n" in text
    assert "Details follow" in text
    assert "[modal] Feedback\n  1. Topic (required)  -> topic=..." in text
    assert "Thanks for your feedback on Open data" in text
    assert "added Decidim Barcelona (5) -" in text
    assert "! unknown command /nope (try /help)" in text
    assert "> say hello\nHello alice!" in text
    assert harness.sandbox.state.users[harness.alice.id].locale == "es-ES"
    assert "never-run" not in text


@pytest.mark.asyncio
async def test_a_disabled_button_is_named_by_its_label(harness: Harness) -> None:
    out = io.StringIO()
    lines = ["/chapter name: Taiwan", "click join", "click JOIN", "click 7"]
    await run_console(harness.sandbox, harness.guild.id, harness.channel_id, harness.alice.id, lines=lines, out=out)
    text = out.getvalue()
    assert "> click JOIN\n! the button Join is disabled\n" in text
    assert "> click 7\n! the last message has no button '7' (its buttons: 1 Join)\n" in text


@pytest.mark.asyncio
async def test_piped_stdin_is_read_as_a_script(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("locale de\nsay hello\n"))
    out = io.StringIO()
    await run_console(harness.sandbox, harness.guild.id, harness.channel_id, harness.alice.id, out=out)
    assert out.getvalue() == "> (locale set to de)\n> Hello alice!\n> "


CONSOLE_ON_A_TERMINAL = """
import asyncio, sys
from pathlib import Path
from bot.sandbox import Sandbox
from bot.sandbox.console import run_console

async def main():
    sandbox = Sandbox()
    guild = sandbox.create_guild("Terminal")
    user = sandbox.create_user("you")
    sandbox.add_member(guild.id, user.id)
    await run_console(sandbox, guild.id, guild.system_channel_id, user.id, history=Path(sys.argv[1]))

asyncio.run(main())
"""


def _read_until(fd: int, wanted: bytes, seen: bytearray, times: int = 1) -> None:
    deadline = time.monotonic() + 20
    while seen.count(wanted) < times:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no {wanted!r} in {bytes(seen)!r}"
        seen.extend(os.read(fd, 4096))


def test_a_terminal_gets_line_editing_and_history(tmp_path: Path) -> None:
    history = tmp_path / "history"
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(Path(__file__).resolve().parents[2])
        os.execv(sys.executable, [sys.executable, "-c", CONSOLE_ON_A_TERMINAL, str(history)])
    seen = bytearray()
    try:
        _read_until(fd, b"> ", seen)
        os.write(fd, b"locale dd\x7fe\r")
        _read_until(fd, b"(locale set to de)", seen)
        os.write(fd, b"\x1b[A\r")
        _read_until(fd, b"(locale set to de)", seen, times=2)
        os.write(fd, b"quit\r")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert bytes(seen).count(b"(locale set to de)") == 2, bytes(seen)
    assert history.read_text(encoding="utf-8").splitlines() == ["locale de", "quit"]
