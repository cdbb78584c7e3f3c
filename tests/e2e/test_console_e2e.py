"""The sandbox console with the real bot: pages by label, permission checks as a member, saved files, reset."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from bot.config import load_settings
from bot.offline import SandboxSession, run_sandbox
from bot.sandbox.console import run_console


async def test_a_person_pages_tries_permissions_and_gets_files(session: SandboxSession, tmp_path: Path) -> None:
    out = io.StringIO()
    files = tmp_path / "files"
    lines = [
        "/projects",
        "click next",
        "/network",
        "click next",
        "/directory export",
        "as member",
        "/directory export",
        "as organiser",
        "/directory edit-chapter chapter: g0v",
        "modal colour=blue",
        'modal description="Edited = yes"',
        "as nobody",
    ]
    people = {"organiser": session.organiser_id, "member": session.member_id}
    await run_console(
        session.sandbox,
        session.guild_id,
        session.channel_id,
        session.organiser_id,
        lines=lines,
        out=out,
        people=people,
        files=files,
    )
    text = out.getvalue()
    assert "  -- Page 1/3 · 22 results\n  [1 ◀ Previous (disabled)] [2 Next ▶]\n> click next\n" in text
    assert "  -- Page 2/3 · 22 results\n  [1 ◀ Previous] [2 Next ▶]\n" in text
    assert "[file: network.png (image/png, " in text and f"saved to {files / 'network.png'}]" in text
    assert "> /network" in text and "> click next\n! the last message has no buttons\n" in text
    export = files / "directory.yaml"
    assert f"[file: directory.yaml (file, {export.stat().st_size} bytes), saved to {export}]" in text
    assert len(yaml.safe_load(export.read_text(encoding="utf-8"))["chapters"]) == 15
    assert (
        "> as member\n(you are now ana, the member)\n> /directory export\n(only you can see this)\nOnly organisers"
        in text
    )
    assert "! the form has no field 'colour' (its fields: name, other_names, website, blog_feed, description)" in text
    assert "Saved.\n  # g0v (Code for Taiwan) <https://g0v.tw>\n  Edited = yes\n" in text
    assert "! use as organiser | as member (no one called 'nobody')" in text
    assert "pg:" not in text and "custom_id" not in text


async def test_reset_starts_over_with_the_seed_and_a_new_guild(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "script.txt"
    script.write_text(
        "/directory edit-chapter chapter: g0v\n"
        'modal description="Edited before the reset"\n'
        "/chapter name: g0v\n"
        "reset\n"
        "/chapter name: g0v\n"
        "/directory history chapter: g0v\n",
        encoding="utf-8",
    )
    await run_sandbox(load_settings(_env_file=None, data_dir=tmp_path), script)
    before, _, after = capsys.readouterr().out.partition("> reset\n")
    assert before.count("Edited before the reset") == 3  # typed, saved, then shown by /chapter
    assert after.startswith("(resetting the sandbox...)\n(the sandbox started over: a fresh database and guild;")
    assert "Edited before the reset" not in after and "Code for Taiwan (g0v.tw) has been pushing" in after
    assert (tmp_path / "sandbox.db").is_file()


async def test_reset_leaves_a_database_it_does_not_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "script.txt"
    script.write_text("reset\n/chapter name: g0v\n", encoding="utf-8")
    database = f"sqlite+aiosqlite:///{tmp_path / 'mine.db'}"
    await run_sandbox(load_settings(_env_file=None, data_dir=tmp_path, database_url=database), script)
    out = capsys.readouterr().out
    assert "! reset deletes only the sandbox's own database, and DATABASE_URL is set\n> /chapter name: g0v\n" in out
    assert "# g0v (Code for Taiwan)" in out and (tmp_path / "mine.db").is_file()
