"""The directory's heavy work in a child process, with a time limit and a memory cap.

Parsing an upload and writing an export are CPU work that would hold the interpreter's lock for seconds: in
a thread they slow every member's interaction. In a child process they cost the bot only the hand-over, and a
hostile or merely huge upload that runs too long or allocates too much is ended and explained in one sentence.
Run as ``python -m bot.directory.formats.isolated``: reads a pickled call on stdin, writes its pickled result.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import resource
import signal
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

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
T = TypeVar("T")


class TooLong(Exception):
    """The child ran past its time limit and was ended."""


class TooBig(Exception):
    """The child ran out of its memory cap."""


async def run_isolated(
    function: Callable[..., T], *args: Any, time_limit: float, memory_limit: int, **kwargs: Any
) -> T:
    """`function(*args, **kwargs)` in a child process; a `DirectoryDataError` it raises is raised here.

    `function` is a module-level function (pickled by name) and the arguments and result are picklable; both
    are (un)pickled in a thread, as the child's own work is. Raises `TooLong` or `TooBig` past the limits.
    """
    request = await asyncio.to_thread(pickle.dumps, (function, args, kwargs, memory_limit), pickle.HIGHEST_PROTOCOL)
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
        raise TooLong from None
    finally:
        if process.returncode is None:  # timed out, or the caller was cancelled
            process.kill()
            await process.wait()
    if process.returncode != 0:
        detail = errors.decode(errors="replace")[-2000:]
        if "memory" not in detail.lower() and process.returncode != -signal.SIGKILL:
            raise RuntimeError(f"{function.__name__} in a child process ended with {process.returncode}: {detail}")
        raise TooBig
    outcome, value = await asyncio.to_thread(pickle.loads, output)
    if outcome == "error":
        raise DirectoryDataError(*value)
    result: T = value
    return result


def pickled_in_parts(items: Sequence[Any], size: int = 500) -> list[bytes]:
    """A long list pickled a part at a time: one `pickle.dumps` of it all would hold the interpreter's lock
    for its whole length, while a thread doing this lets the event loop in between parts."""
    return [pickle.dumps(list(items[i : i + size]), pickle.HIGHEST_PROTOCOL) for i in range(0, len(items), size)]


def unpickled_parts(parts: Iterable[bytes]) -> list[Any]:
    """The list `pickled_in_parts` pickled."""
    return [item for part in parts for item in pickle.loads(part)]


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
    try:
        batch = await run_isolated(
            parse_bytes, data, filename, dict(known or {}), name=name, time_limit=time_limit, memory_limit=memory_limit
        )
    except TooLong:
        raise DirectoryDataError(
            problem(N_("{name} took too long to read (limit: {limit} s)."), name=name, limit=f"{time_limit:g}")
        ) from None
    except TooBig:
        raise DirectoryDataError(
            problem(
                N_("{name} needs too much memory to read (limit: {limit} MiB)."), name=name, limit=memory_limit >> 20
            )
        ) from None
    if not isinstance(batch, ImportBatch):
        raise TypeError(f"parsing {name} gave {type(batch).__name__}")
    return batch


def main() -> None:
    """The child: limit memory, make the call read from stdin, write its result or its problems to stdout."""
    function, args, kwargs, memory_limit = pickle.load(sys.stdin.buffer)
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    try:
        result: tuple[str, object] = ("value", function(*args, **kwargs))
    except DirectoryDataError as error:
        result = ("error", error.problems)
    sys.stdout.buffer.write(pickle.dumps(result, pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main()
