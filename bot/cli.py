"""Command line: `python -m bot [run | sandbox | db upgrade | import FILE | export [FILE]]`."""

from __future__ import annotations

import argparse
import asyncio
import gzip
import logging
import signal
import sys
from collections.abc import Awaitable
from pathlib import Path

from discord import ConnectionClosed, LoginFailure, PrivilegedIntentsRequired
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging
from db.session import AnotherProcess, DatabaseUnavailable, sole_bot_process

log = logging.getLogger("bot")


def build_parser() -> argparse.ArgumentParser:
    """The CLI's arguments."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="The Code for All network bot.")
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="run the bot (the offline sandbox when DISCORD_TOKEN is not set)")
    run.add_argument("--shard-ids", metavar="IDS", help="the shards this process serves, e.g. 0,1 (SHARD_IDS)")
    run.add_argument("--shard-count", metavar="N", help="the total number of shards (SHARD_COUNT)")
    sandbox = commands.add_parser("sandbox", help="run the bot against the local sandbox with a console")
    sandbox.add_argument("--script", type=Path, help="replay the console lines of FILE, then exit")
    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="apply migrations")
    importer = commands.add_parser("import", help="import chapters/projects (our YAML, brigade JSON, project index)")
    importer.add_argument("file", type=Path)
    exporter = commands.add_parser("export", help="export the directory as YAML")
    exporter.add_argument(
        "file", type=Path, nargs="?", help="output file, gzip when it ends in .gz (default: standard output)"
    )
    return parser


async def run_until_signal(main: Awaitable[None]) -> None:
    """Run `main` until it ends or SIGINT/SIGTERM arrives; a signal cancels it so its cleanup runs."""
    task = asyncio.ensure_future(main)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await asyncio.wait({task})
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if not task.cancelled():
        task.result()
    else:
        log.info("stopped by a signal")


async def run_discord(settings: Settings) -> None:
    """Run for real (or against DISCORD_API_URL / DISCORD_GATEWAY_URL) until stopped."""
    from bot.app import App
    from bot.client import create_bot
    from bot.endpoints import use_endpoints

    use_endpoints(settings.discord_api_url, settings.discord_gateway_url)
    bot = create_bot(App.create(settings))
    async with bot:
        await run_until_signal(bot.start(settings.token or ""))


async def run_db_upgrade(settings: Settings) -> None:
    """Apply migrations and exit."""
    from db.migrate import upgrade
    from db.session import create_engine, startup_lock

    engine = create_engine(settings.resolved_database_url)
    try:
        async with startup_lock(engine):
            await upgrade(engine)
    finally:
        await engine.dispose()
    print("Database is up to date.")


async def run_import(settings: Settings, path: Path) -> None:
    """Import a file into the directory, showing progress."""
    from bot.app import App

    app = App.create(settings)
    try:
        await app.start()

        async def progress(done: int, total: int) -> None:
            print(f"\r{done}/{total} records", end="", file=sys.stderr, flush=True)

        report = await app.directory.import_file(path, actor_name="command line", progress=progress)
    finally:
        await app.close()
    print(file=sys.stderr)
    for issue in report.issues:
        print(issue, file=sys.stderr)
    print(f"{path.name}: {report.summary()}")


async def run_export(settings: Settings, path: Path | None) -> None:
    """Write the directory as YAML (compressed when the file name ends in .gz)."""
    from bot.app import App

    app = App.create(settings)
    try:
        await app.start()
        text = await app.directory.export_yaml()
    finally:
        await app.close()
    if path is None:
        sys.stdout.write(text)
    elif path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode(), mtime=0))
        print(f"Wrote {path} (gzip).")
    else:
        path.write_text(text, encoding="utf-8")
        print(f"Wrote {path}.")


def main(argv: list[str] | None = None) -> int:
    """Entry point; every expected failure is one line on stderr and a non-zero exit."""
    args = build_parser().parse_args(argv)
    shard_options = {
        name: value for name in ("shard_ids", "shard_count") if (value := getattr(args, name, None)) is not None
    }
    try:
        settings = load_settings(**shard_options)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    command = args.command or "run"
    console = command == "sandbox" or (command == "run" and not settings.token)
    problem = _shard_problem(settings, console=console) if command in {"run", "sandbox"} else None
    if problem:
        print(problem, file=sys.stderr)
        return 2
    # The console is a conversation: keep the log to warnings there unless LOG_LEVEL asks for more.
    level = "WARNING" if console and "log_level" not in settings.model_fields_set else settings.log_level
    setup_logging(level, [settings.token or ""])
    try:
        if command == "db":
            asyncio.run(run_db_upgrade(settings))
        elif command == "import":
            asyncio.run(run_import(settings, args.file))
        elif command == "export":
            asyncio.run(run_export(settings, args.file))
        elif console:
            from bot.offline import run_sandbox, sandbox_settings

            with sole_bot_process(sandbox_settings(settings).resolved_database_url):
                asyncio.run(run_until_signal(run_sandbox(settings, script=getattr(args, "script", None))))
        else:
            with sole_bot_process(settings.resolved_database_url):
                asyncio.run(run_discord(settings))
    except AnotherProcess as error:
        print(
            f"Another bot process is already running on the SQLite database {error}: SQLite serves one; "
            "stop the other process, or set DATABASE_URL to a PostgreSQL database to run several.",
            file=sys.stderr,
        )
        return 1
    except DatabaseUnavailable as error:
        print(f"Cannot use the database {_shown(settings, console)}: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        print(f"Cannot use the database {_shown(settings, console)}: {_reason(error)}", file=sys.stderr)
        return 1
    except LoginFailure:
        print("Invalid setting DISCORD_TOKEN: Discord refused the token.", file=sys.stderr)
        return 1
    except PrivilegedIntentsRequired:
        print(
            "Discord refused the Server Members intent (close code 4014): turn on Server Members Intent for the "
            "bot in the Discord developer portal, under Bot > Privileged Gateway Intents.",
            file=sys.stderr,
        )
        return 1
    except ConnectionClosed as error:
        print(_closed(error, settings), file=sys.stderr)
        return 1
    except OSError as error:
        what = "the database" if command in {"db", "import", "export"} else "Discord"
        print(f"Cannot connect to {what}: {_reason(error)}", file=sys.stderr)
        return 1
    except (ValueError, ConfigError) as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _shard_problem(settings: Settings, *, console: bool) -> str | None:
    """Why these shard settings cannot run here, in one line; None when they can."""
    if not settings.some_shards_elsewhere:
        return None
    if console:
        return (
            "The sandbox console serves every shard in its one process: leave SHARD_IDS empty (SHARD_COUNT alone "
            "is fine), or set DISCORD_TOKEN to run some shards against Discord."
        )
    if make_url(settings.resolved_database_url).get_backend_name() == "sqlite":
        ids = ",".join(map(str, settings.shards))
        return (
            f"Shards {ids} of {settings.shard_count} leave the other shards to other processes, which cannot share "
            "the SQLite database: serve every shard in this process (leave SHARD_IDS empty) or set DATABASE_URL "
            "to a PostgreSQL database."
        )
    return None


def _closed(error: ConnectionClosed, settings: Settings) -> str:
    """Discord closed the gateway for good: say why, and what to change."""
    if error.code == 4010:
        return (
            f"Discord refused shard {error.shard_id} of {settings.shard_count} (close code 4010, invalid shard): "
            "check SHARD_IDS and SHARD_COUNT."
        )
    if error.code == 4011:
        return (
            "Discord requires sharding: the bot is in too many guilds for one shard (close code 4011); set "
            "SHARD_COUNT (GET /gateway/bot recommends a count), or a larger one."
        )
    return f"Discord closed the gateway connection (close code {error.code}): {error.reason or 'no reason given'}."


def _shown(settings: Settings, console: bool) -> str:
    """The database URL without its password (the console's own SQLite file unless DATABASE_URL is set)."""
    if console:
        from bot.offline import sandbox_settings

        settings = sandbox_settings(settings)
    return repr(make_url(settings.resolved_database_url).render_as_string(hide_password=True))


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).splitlines()[0] if str(original) else type(original).__name__
