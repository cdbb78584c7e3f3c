"""Shard settings: SHARD_IDS/SHARD_COUNT and `run --shard-ids --shard-count`, validated in one line; the bot class."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest
from discord.ext import commands

from bot.app import App
from bot.cli import _closed, main
from bot.client import CodeForAllBot, ShardedCodeForAllBot, create_bot
from bot.config import ConfigError, load_settings


@pytest.mark.parametrize(
    ("options", "named", "says"),
    [
        ({"shard_ids": "0,4", "shard_count": 4}, "SHARD_IDS", "shard 4 is not below the shard count 4"),
        ({"shard_ids": "1,1", "shard_count": 4}, "SHARD_IDS", "lists a shard twice"),
        ({"shard_ids": "0"}, "SHARD_IDS", "needs SHARD_COUNT"),
        ({"shard_ids": "0,x", "shard_count": 2}, "SHARD_IDS", "comma-separated list"),
        ({"shard_ids": "-1", "shard_count": 2}, "SHARD_IDS", "comma-separated list"),
        ({"shard_count": 0}, "SHARD_COUNT", "greater than or equal to 1"),
    ],
)
def test_bad_shard_settings_are_one_sentence(options: dict[str, object], named: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, **options)
    message = str(caught.value)
    assert message.startswith(f"Invalid setting {named}:") and says in message and "\n" not in message


def test_shard_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARD_IDS", "2, 0")
    monkeypatch.setenv("SHARD_COUNT", "4")
    settings = load_settings(_env_file=None)
    assert settings.shards == (2, 0) and settings.sharded and settings.some_shards_elsewhere
    monkeypatch.delenv("SHARD_IDS")
    every = load_settings(_env_file=None)
    assert every.shards == (0, 1, 2, 3) and not every.some_shards_elsewhere
    monkeypatch.delenv("SHARD_COUNT")
    plain = load_settings(_env_file=None)
    assert plain.shards == (0,) and not plain.sharded and not plain.some_shards_elsewhere


def test_the_bot_is_auto_sharded_only_with_shard_settings(tmp_path: Path) -> None:
    plain = create_bot(App.create(load_settings(_env_file=None, data_dir=tmp_path)))
    assert type(plain) is CodeForAllBot and not isinstance(plain, commands.AutoShardedBot)
    assert plain.describe_shards() == "shard 0 of 1"
    settings = load_settings(_env_file=None, data_dir=tmp_path, shard_ids="1,3", shard_count=4)
    sharded = create_bot(App.create(settings))
    assert isinstance(sharded, ShardedCodeForAllBot) and isinstance(sharded, commands.AutoShardedBot)
    assert (sharded.shard_ids, sharded.shard_count) == ([1, 3], 4)
    assert sharded.describe_shards() == "shards 1, 3 of 4"
    every = create_bot(App.create(load_settings(_env_file=None, data_dir=tmp_path, shard_count=2)))
    assert every.describe_shards() == "shards 0, 1 of 2"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--shard-ids", "0,1", "--shard-count", "4"], "cannot share the SQLite database"),
        (["--shard-ids", "0,2", "--shard-count", "2"], "Invalid setting SHARD_IDS: shard 2 is not below"),
        (["--shard-ids", "0,0", "--shard-count", "2"], "Invalid setting SHARD_IDS: lists a shard twice"),
        (["--shard-count", "0"], "Invalid setting SHARD_COUNT"),
    ],
)
def test_run_refuses_bad_shards_in_one_line(
    args: list[str], says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "token")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["run", *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], lines
    assert not (tmp_path / "bot.db").exists()


@pytest.mark.parametrize("command", ["run", "sandbox"])
def test_the_console_refuses_to_serve_some_shards_only(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.setenv("SHARD_IDS", "1")
    monkeypatch.setenv("SHARD_COUNT", "2")
    assert main([command]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "serves every shard" in lines[0]


@pytest.mark.parametrize(("code", "says"), [(4010, "invalid shard"), (4011, "requires sharding"), (4000, "4000")])
def test_gateway_refusals_are_explained(code: int, says: str, tmp_path: Path) -> None:
    class Socket:
        close_code = code

    error = discord.ConnectionClosed(Socket(), shard_id=1, code=code)  # type: ignore[arg-type]
    text = _closed(error, load_settings(_env_file=None, data_dir=tmp_path, shard_count=2))
    assert says in text and "\n" not in text
