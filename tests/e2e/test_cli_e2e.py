"""The README's run command as a newcomer uses it: the sandbox console, scripted, and a clean stop."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN", "DATABASE_URL"}}
    return {
        **env,
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(tmp_path),
        "SEED_FILE": str(ROOT / "data" / "directory.yaml"),
    }


def test_scripted_sandbox_session_shows_the_replies(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--script", str(ROOT / "data" / "sandbox-demo.txt")],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "> /chapter name: Taiwan" in out
    assert "# g0v (Code for Taiwan)" in out
    assert "# Code for Romania" in out  # the typo code4romaina
    assert "> click next\n  # Projects\n" in out and "Page 2/3" in out  # the click on Next ▶
    assert "(you are now ana, the member)\n> /directory export\n(only you can see this)\nOnly organisers" in out
    assert f"saved to {tmp_path / 'sandbox-files' / 'directory.yaml'}]" in out
    assert "[image: network.png]" in out
    assert "Regiune: Europa" in out  # after `locale ro`
    assert "Traceback" not in done.stderr
    assert "voice will NOT be supported" not in done.stderr


def test_the_console_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while "Sandbox at" not in line and time.monotonic() < deadline:
            line = process.stdout.readline()
        assert "Sandbox at" in line
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "Traceback" not in (process.stderr.read() if process.stderr else "")
    finally:
        process.kill()


def test_a_second_bot_process_on_the_same_sqlite_database_refuses_in_one_line(tmp_path: Path) -> None:
    first = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while "Sandbox at" not in line and time.monotonic() < deadline:
            line = first.stdout.readline()
        second = subprocess.run(
            [sys.executable, "-m", "bot", "sandbox"],
            cwd=tmp_path,
            env=_env(tmp_path),
            input="",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        [message] = second.stderr.strip().splitlines()
        assert message.startswith("Another bot process is already running on the SQLite database")
        assert "sandbox.db" in message and "PostgreSQL" in message
    finally:
        first.kill()
        first.wait(timeout=30)
    after = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--script", str(ROOT / "data" / "sandbox-demo.txt")],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert after.returncode == 0, after.stderr  # a killed process leaves no lock behind


def test_a_database_that_cannot_be_reached_is_reported_as_a_database_problem(tmp_path: Path) -> None:
    pytest.importorskip("asyncpg", reason="needs the PostgreSQL driver: pip install -e '.[postgres]'")
    env = {**_env(tmp_path), "DATABASE_URL": "postgresql+asyncpg://bot:secret@127.0.0.1:9/bot"}
    for command in (["run"], ["sandbox"]):
        done = subprocess.run(
            [sys.executable, "-m", "bot", *command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 1, done.stderr
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("Cannot use the database 'postgresql+asyncpg://bot:***@127.0.0.1:9/bot'"), done.stderr
        assert "Discord" not in done.stderr and "secret" not in done.stderr


def test_the_command_line_exports_gzip_and_imports_it_back(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"}

    def bot(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done

    assert bot("export", "directory.yaml.gz").stdout.strip() == "Wrote directory.yaml.gz (gzip)."
    plain = bot("export").stdout
    assert gzip.decompress((tmp_path / "directory.yaml.gz").read_bytes()).decode() == plain
    assert bot("import", "directory.yaml.gz").stdout.startswith("directory.yaml.gz: ")
