"""Console rendering and parsing (pure functions) and a scripted session against the bot."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.sandbox import DriverError
from bot.sandbox.console import (
    parse_fields,
    parse_options,
    render_command_help,
    render_message,
    run_console,
    script_lines,
)
from tests.sandbox.support import Harness

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
        "/chapter name: <text> [year: <integer>] [note: <text>]  - Show",
        "/project add  - Add",
    ]


def test_script_lines_skip_comments(tmp_path: Path) -> None:
    script = tmp_path / "demo.txt"
    script.write_text("# demo\n/help\n\n  say hi\n", encoding="utf-8")
    assert script_lines(script) == ["/help", "  say hi"]


@pytest.mark.asyncio
async def test_scripted_console_session(harness: Harness) -> None:
    out = io.StringIO()
    lines = [
        "/help",
        "/chapter name: Taiwan",
        "click 1",
        "select Europe",
        "click Confirm",
        "/report year: 2024",
        "/feedback",
        "modal topic=Open data details=More portals",
        "/project add title: Decidim Barcelona stars: 5",
        "/nope",
        "say hello",
        "locale es-ES",
        "quit",
        "/never-run",
    ]
    await run_console(harness.sandbox, harness.guild.id, harness.channel_id, harness.alice.id, lines=lines, out=out)
    text = out.getvalue()
    assert "> /chapter name: Taiwan\nChapter Taiwan\n  # Code for Taiwan <https://codeforall.org>\n" in text
    assert "/chapter name: <text>  - Show a chapter" in text
    assert "(only you can see this)\nRegion: eu\n  [1 Confirm]" in text
    assert "> click Confirm\n(only you can see this)\nConfirmed" in text
    assert "alice joined Taiwan" in text and "[1 Join (disabled)]" in text
    assert "  # Report 2024\n  [image: chart.png]\n  [file: chart.png (image/png," in text
    assert "Details follow" in text
    assert "[modal] Feedback\n  1. Topic (required)  -> topic=..." in text
    assert "Thanks for your feedback on Open data" in text
    assert "added Decidim Barcelona (5) -" in text
    assert "! unknown command /nope (try /help)" in text
    assert "> say hello\nHello alice!" in text
    assert harness.sandbox.state.users[harness.alice.id].locale == "es-ES"
    assert "never-run" not in text
