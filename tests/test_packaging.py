"""The install: every imported package is declared, and a built wheel (not an editable install) carries the seed."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OWN = {"bot", "cogs", "db", "data"}
COPY_IGNORED = (".git", ".venv", "venv", "build", "dist", "var", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {
        _normalise(re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0]) for requirement in project["dependencies"]
    }


def _imported_modules() -> dict[str, str]:
    """Top-level module -> a file importing it, for every absolute import in bot/, cogs/ and db/."""
    found: dict[str, str] = {}
    for folder in ("bot", "cogs", "db"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_a_declared_dependency() -> None:
    distributions = packages_distributions()
    declared = _declared()
    undeclared = {
        f"{module} (in {where})"
        for module, where in _imported_modules().items()
        if module not in sys.stdlib_module_names
        and module not in OWN
        and not declared & {_normalise(d) for d in distributions.get(module, [module])}
    }
    assert undeclared == set()


@pytest.mark.packaging
def test_an_installed_wheel_starts_with_the_full_directory(tmp_path: Path) -> None:
    # Built from a copy, so that no build folder in the work tree (with files since removed) leaks in.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*COPY_IGNORED))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"data/directory.yaml", "bot/i18n/locales/bot.pot", "db/migrations/env.py"} <= names
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    # Outside the source tree, with the installed copy first on the path: the dependencies come from this venv.
    check = (
        "import asyncio, bot\n"
        "from bot.app import App\n"
        "from bot.config import load_settings\n"
        "async def main():\n"
        "    app = App.create(load_settings(_env_file=None, data_dir='var'))\n"
        "    await app.start()\n"
        "    print(bot.__file__, app.settings.seed_file, len(app.directory.chapters), len(app.directory.projects))\n"
        "    await app.close()\n"
        "asyncio.run(main())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", check],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    module, seed, chapters, projects = result.stdout.split()
    assert Path(module).is_relative_to(site) and Path(seed).is_relative_to(site)
    assert int(chapters) >= 10 and int(projects) >= 20
