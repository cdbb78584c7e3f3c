"""Settings: defaults, validation and the one-line failure of the CLI."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings, normalise_database_url
from bot.logs import RedactFilter

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_use_a_sqlite_file_in_the_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings(_env_file=None, data_dir=Path("somewhere"))
    assert settings.resolved_database_url == "sqlite+aiosqlite:///somewhere/bot.db"
    assert settings.token is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql+asyncpg://h/db", "postgresql+asyncpg://h/db"),
    ],
)
def test_database_urls_get_an_async_driver(raw: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    installed = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: object() if name == "asyncpg" else installed(name)
    )
    assert normalise_database_url(raw) == expected


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("database_url", "not a url", "DATABASE_URL"),
        ("database_url", "mysql://h/db", "DATABASE_URL"),
        ("log_level", "LOUD", "LOG_LEVEL"),
        ("dev_guild_id", "abc", "DEV_GUILD_ID"),
        ("discord_api_url", "ftp://x", "DISCORD_API_URL"),
    ],
)
def test_invalid_settings_raise_one_sentence_naming_the_setting(field: str, value: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, **{field: value})
    message = str(caught.value)
    assert message.startswith(f"Invalid setting {named}:")
    assert "\n" not in message


def test_cli_with_invalid_database_url_prints_one_line_and_fails(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": "nonsense://", "DISCORD_TOKEN": ""}
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Invalid setting DATABASE_URL")


def test_cli_with_unreachable_database_prints_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_the_token_is_never_logged() -> None:
    import logging

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token is %s", ("s3cr3t-token",), None)
    RedactFilter(["s3cr3t-token"]).filter(record)
    assert "s3cr3t" not in record.getMessage()


def test_the_example_settings_file_is_valid(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(_env_file=tmp_path / ".env")
    assert settings.dev_guild_id is None and settings.token is None
    assert settings.seed_file.is_file()


def test_a_missing_database_driver_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "asyncpg" else real(name, *a))
    with pytest.raises(ConfigError, match=r"^Invalid setting DATABASE_URL: the asyncpg driver is not installed"):
        load_settings(_env_file=None, database_url="postgresql://h/db")


def test_a_missing_seed_file_fails_at_start_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "SEED_FILE": str(tmp_path / "nowhere.yaml"), "DISCORD_TOKEN": "", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Invalid setting SEED_FILE:") and "nowhere.yaml" in lines[0]
