"""Untrusted bytes to plain data at a bounded cost.

The size is capped before parsing; YAML anchors and aliases are refused (an alias bomb of a few hundred bytes
would otherwise expand to gigabytes) and nesting is capped; a mapping remembers a field given twice.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.reader import ReaderError

from bot.directory.records import DirectoryDataError
from bot.directory.validators import Fields, problem
from bot.i18n import N_

MAX_BYTES = 5 * 1024 * 1024
"""The largest directory file read from an upload (unpacked)."""
MAX_LOCAL_BYTES = 256 * 1024 * 1024
"""The largest directory file read from the operator's own disk (`python -m bot import`)."""
MAX_DEPTH = 32
"""The deepest nesting of lists and mappings in a directory file."""
DETAIL = 80
"""The most characters of a parser's message an error quotes."""
_AT_POSITION = re.compile(r"\s+(?:starting )?at$")
"""The end of a JSON message that the position completes ("Unterminated string starting at")."""


def _error(message: str, /, **params: object) -> DirectoryDataError:
    return DirectoryDataError(problem(message, **params))


def check_size(data: bytes | str, name: str, limit: int = MAX_BYTES) -> None:
    """Refuse a file over `limit` bytes before reading it."""
    if len(data) > limit:
        raise _too_large(name, limit)


def _too_large(name: str, limit: int) -> DirectoryDataError:
    return _error(N_("{name} is too large to import (limit: {limit} MiB)."), name=name, limit=limit // 1024 // 1024)


def gunzip(data: bytes, name: str, limit: int = MAX_BYTES) -> bytes:
    """A gzip file's content, refused once it unpacks past `limit` bytes (a small bomb never fills memory)."""
    unpacker = zlib.decompressobj(wbits=31)
    try:
        content = unpacker.decompress(data, limit + 1)
    except zlib.error:
        raise _error(N_("{name} is not a valid gzip file."), name=name) from None
    if len(content) > limit:
        raise _too_large(name, limit)
    if not unpacker.eof:
        raise _error(N_("{name} is not a valid gzip file."), name=name)
    return content


class _Refused(yaml.YAMLError):
    """The YAML uses what a directory file may not; the message id (with {name} and {line}) says what."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message, self.line = message, line


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors and aliases, with a depth cap, remembering repeated fields."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """Compose a node, refusing aliases, anchors and deep nesting."""
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(
                N_("{name}, line {line}: YAML anchors and aliases (& and *) are not allowed in a directory file."),
                line,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(N_("{name}, line {line}: the file is nested too deeply."), line)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader: _Loader, node: MappingNode) -> Iterator[Fields]:
    data = Fields()
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise _Refused(
                N_("{name}, line {line}: a field name must be text."), key_node.start_mark.line + 1
            ) from None
        data.add(key, loader.construct_object(value_node, deep=True))


def _scalar_or_text(construct: Callable[[Any, ScalarNode], Any]) -> Callable[[_Loader, ScalarNode], Any]:
    """A scalar constructor that keeps the text when the value cannot be built (a year 0, a 5,000-digit int)."""

    def read(loader: _Loader, node: ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, OverflowError):
            return loader.construct_scalar(node)

    return read


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
for _tag in ("timestamp", "int", "float"):
    _name = f"tag:yaml.org,2002:{_tag}"
    _Loader.add_constructor(_name, _scalar_or_text(yaml.SafeLoader.yaml_constructors[_name]))


def load_yaml(text: str, name: str, limit: int = MAX_BYTES) -> Any:
    """The data of a YAML document; raises `DirectoryDataError` when it is not YAML or uses what is refused."""
    check_size(text, name, limit)
    try:
        return yaml.load(text, Loader=_Loader)
    except _Refused as refused:
        raise _error(refused.message, name=name, line=refused.line) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as error:
        raise _not_yaml(error, text, name) from None


def _not_yaml(error: Exception, text: str, name: str) -> DirectoryDataError:
    """Where the YAML parser stopped (line and column from 1, when it says) and why, in a short phrase."""
    position: tuple[int, int] | None = None
    detail = str(error) or type(error).__name__
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        position = (mark.line + 1, mark.column + 1) if mark else None
        detail = error.problem or error.context or detail
    elif isinstance(error, ReaderError):
        position = _position(text, error.position)
        detail = detail.split("\n")[0]
    if position is None:
        return _error(N_("{name} is not valid YAML: {detail}"), name=name, detail=_phrase(detail))
    line, column = position
    return _error(
        N_("{name} is not valid YAML: line {line}, column {column}: {detail}"),
        name=name,
        line=line,
        column=column,
        detail=_phrase(detail),
    )


def _position(text: str, index: int) -> tuple[int, int]:
    """The line and column (from 1) of the character at `index`."""
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _phrase(message: str) -> str:
    """A parser's message on one line, cut at a word boundary with an ellipsis when long."""
    message = " ".join(message.split())
    if len(message) <= DETAIL:
        return message
    cut = message[: DETAIL - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip(" ,;:") + "…"


def load_json(text: str, name: str, limit: int = MAX_BYTES) -> Any:
    """The data of a JSON document, objects as `Fields`; raises `DirectoryDataError` when it is not JSON."""
    check_size(text, name, limit)
    try:
        return json.loads(text, object_pairs_hook=Fields)
    except json.JSONDecodeError as error:
        raise _error(
            N_("{name} is not valid JSON: line {line}, column {column}: {detail}"),
            name=name,
            line=error.lineno,
            column=error.colno,
            detail=_phrase(_AT_POSITION.sub("", error.msg[:1].lower() + error.msg[1:])),
        ) from None
    except (ValueError, RecursionError):
        raise _error(N_("{name} is not valid JSON, or is nested too deeply."), name=name) from None
