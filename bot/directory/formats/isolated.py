"""Parsing an uploaded directory file in a child process, with a time limit and a memory cap.

A hostile or merely huge upload then costs the bot nothing but waiting: the event loop keeps answering
members, and a parse that runs too long or allocates too much is ended and explained in one sentence.
Run as ``python -m bot.directory.formats.isolated``: reads a pickled request on stdin, writes the result.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import resource
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

import bot
from bot.directory.formats import parse_bytes, shown_name
from bot.directory.records import DirectoryDataError, ImportBatch
from bot.directory.validators import problem
from bot.i18n import N_

TIME_LIMIT = 30.0
"""Seconds an upload may take to parse, including the child's start."""
MEMORY_LIMIT = 1024 * 1024 * 1024
"""Bytes of address space the parsing process may use."""

_PROJECT = str(Path(bot.__file__).resolve().parents[1])


async def parse_isolated(
    data: bytes,
    filename: str,
    known: Mapping[str, str] | None = None,
    *,
    name: str | None = None,
    time_limit: float = TIME_LIMIT,
    memory_limit: int = MEMORY_LIMIT,
) -> ImportBatch:
    """`parse_bytes` in a child process; raises `DirectoryDataError` for a bad file or one over the limits.

    ``name`` is what messages call the file (by default its name, cut short).
    """
    name = name or shown_name(filename)
    request = pickle.dumps((data, filename, dict(known or {}), name, memory_limit))
    path = os.pathsep.join(p for p in (_PROJECT, os.environ.get("PYTHONPATH")) if p)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": path},
    )
    try:
        output, errors = await asyncio.wait_for(process.communicate(request), time_limit)
    except TimeoutError:
        raise DirectoryDataError(
            problem(N_("{name} took too long to read (limit: {limit} s)."), name=name, limit=f"{time_limit:g}")
        ) from None
    finally:
        if process.returncode is None:  # timed out, or the caller was cancelled
            process.kill()
            await process.wait()
    if process.returncode != 0:
        detail = errors.decode(errors="replace")[-2000:]
        if "memory" not in detail.lower() and process.returncode != -signal.SIGKILL:
            raise RuntimeError(f"parsing {name} ended with {process.returncode}: {detail}")
        raise DirectoryDataError(
            problem(
                N_("{name} needs too much memory to read (limit: {limit} MiB)."), name=name, limit=memory_limit >> 20
            )
        )
    outcome, value = await asyncio.to_thread(pickle.loads, output)
    if outcome == "error":
        raise DirectoryDataError(*value)
    if not isinstance(value, ImportBatch):
        raise TypeError(f"parsing {name} gave {type(value).__name__}")
    return value


def main() -> None:
    """The child: limit memory, parse the request from stdin, write the batch or the problems to stdout."""
    data, filename, known, name, memory_limit = pickle.load(sys.stdin.buffer)
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    try:
        result: tuple[str, object] = ("batch", parse_bytes(data, filename, known, name=name))
    except DirectoryDataError as error:
        result = ("error", error.problems)
    sys.stdout.buffer.write(pickle.dumps(result))


if __name__ == "__main__":
    main()
