"""Every cog loads, and no two commands share a name."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from discord import app_commands

from bot.app import App
from bot.client import CodeForAllBot, discover_cogs
from bot.config import load_settings


def _qualified_names(commands: list[app_commands.Command | app_commands.Group]) -> list[str]:  # type: ignore[type-arg]
    names: list[str] = []
    for command in commands:
        names.append(command.qualified_name)
        if isinstance(command, app_commands.Group):
            names.extend(_qualified_names(command.commands))
    return names


async def test_every_cog_loads_without_duplicate_command_names(database_url: str, tmp_path: Path) -> None:
    bot = CodeForAllBot(App.create(load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path)))
    try:
        extensions = discover_cogs()
        assert {"cogs.directory", "cogs.admin"} <= set(extensions)
        for extension in extensions:
            await bot.load_extension(extension)
        names = _qualified_names(bot.tree.get_commands())  # type: ignore[arg-type]
        duplicates = [name for name, count in Counter(names).items() if count > 1]
        assert duplicates == []
        assert {"chapter", "project", "chapters", "projects", "network", "directory import"} <= set(names)
        for command in bot.tree.walk_commands():
            assert command.description, f"/{command.qualified_name} has no description"
    finally:
        await bot.close()
