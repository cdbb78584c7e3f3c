"""The layout's boundaries: the sandbox stands alone, domain packages know nothing of Discord, cogs stay thin,
and only the delivery sender posts to channels."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Packages that hold domain logic: they must be testable without Discord.
DOMAIN = ("directory", "guilds", "announcements", "feeds", "summits", "onboarding", "welcome", "scheduling")
DOMAIN_MODULES = ("app.py", "clock.py", "config.py", "lazy.py", "text.py")
SENDER = ROOT / "bot" / "delivery" / "sender.py"
POSTING_CALLS = frozenset({"send", "send_message", "crosspost", "create_thread"})


def _python_files(*folders: Path) -> Iterator[Path]:
    for folder in folders:
        if folder.is_file():
            yield folder
        elif folder.is_dir():
            yield from sorted(folder.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _top(name: str) -> str:
    return name.split(".")[0]


def test_the_sandbox_imports_nothing_of_the_bot() -> None:
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _python_files(ROOT / "bot" / "sandbox")
        for name in _imports(path)
        if _top(name) in {"bot", "cogs", "db"} and not name.startswith("bot.sandbox")
    }
    assert offenders == set()


def test_domain_packages_import_nothing_of_discord() -> None:
    folders = [ROOT / "bot" / name for name in DOMAIN] + [ROOT / "bot" / name for name in DOMAIN_MODULES]
    delivery = [path for path in _python_files(ROOT / "bot" / "delivery") if path != SENDER]
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in [*_python_files(*folders), *delivery, *_python_files(ROOT / "db")]
        for name in _imports(path)
        if _top(name) == "discord" or name.startswith(("bot.ui", "bot.client", "bot.sandbox", "cogs"))
    }
    assert offenders == set()


def test_cogs_do_not_touch_the_database() -> None:
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _python_files(ROOT / "cogs")
        for name in _imports(path)
        if _top(name) in {"sqlalchemy", "db"}
    }
    assert offenders == set()


def _posting_calls(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in POSTING_CALLS:
            target = ast.unparse(node.func.value).lower()
            if "channel" in target or "thread" in target or target.endswith("http"):
                yield f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node.func)}"


def test_only_the_delivery_sender_posts_to_channels() -> None:
    files = [path for path in _python_files(ROOT / "bot", ROOT / "cogs") if path != SENDER]
    offenders = [call for path in files if "sandbox" not in path.parts for call in _posting_calls(path)]
    assert offenders == []


@pytest.mark.parametrize("package", ["bot", "cogs", "db"])
def test_every_package_folder_is_a_package(package: str) -> None:
    missing = [
        str(folder.relative_to(ROOT))
        for folder in [ROOT / package, *(ROOT / package).rglob("*")]
        if folder.is_dir()
        and any(folder.glob("*.py"))
        and not (folder / "__init__.py").exists()
        and "versions" not in folder.parts
    ]
    assert missing == []
