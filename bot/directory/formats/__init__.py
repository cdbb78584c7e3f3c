"""Directory files: our YAML, brigade-information ``organizations.json``, the civic tech project index and
Code for Romania's app catalogue, each read by its own module onto the records of `bot.directory.records`.

`parse_bytes` picks the format from a file's name and shape; `load_file` reads one from disk; uploads are
parsed in a separate, limited process by `bot.directory.formats.isolated`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.directory.formats import brigade, code4ro, project_index
from bot.directory.formats.ours import dump_yaml, parse_yaml
from bot.directory.formats.reading import MAX_BYTES, MAX_LOCAL_BYTES, check_size, gunzip, load_json
from bot.directory.records import DirectoryDataError, ImportBatch
from bot.directory.validators import SHOWN, problem
from bot.i18n import N_

SUFFIXES = (".yaml", ".yml", ".json")
PACKED = ".gz"
"""A directory file may come gzip-compressed: `directory.yaml.gz`."""

__all__ = ["PACKED", "SUFFIXES", "dump_yaml", "load_file", "parse_bytes", "parse_json", "parse_yaml", "shown_name"]


def _not_a_directory_file(name: str) -> DirectoryDataError:
    return DirectoryDataError(
        problem(N_("{name} is not a directory file: use .yaml, .yml or .json (or the same ending in .gz)."), name=name)
    )


def _format(filename: str) -> tuple[str, bool] | None:
    """The format's suffix of a file name and whether it is gzip-compressed; None when it is neither."""
    path = Path(filename)
    packed = path.suffix.casefold() == PACKED
    suffix = Path(path.stem).suffix.casefold() if packed else path.suffix.casefold()
    return (suffix, packed) if suffix in SUFFIXES else None


def shown_name(filename: str) -> str:
    """A file's name as messages show it: without folders, at most `SHOWN` characters."""
    return (Path(filename).name.strip() or "file")[:SHOWN]


def parse_json(items: Any, name: str, known: Mapping[str, str] | None = None) -> ImportBatch:
    """Parse a JSON list in whichever external format its records have."""
    if items == []:
        return ImportBatch()
    if isinstance(items, list) and brigade.looks_like(items):
        return brigade.parse_organizations(items, known)
    if isinstance(items, list) and project_index.looks_like(items):
        return project_index.parse_project_index(items, known)
    if isinstance(items, list) and code4ro.looks_like(items):
        return code4ro.parse_apps(items)
    raise DirectoryDataError(
        problem(
            N_(
                "{name} is neither a brigade-information organizations list (name, website, tags), "
                "a project index (name, organization_name) nor a code4.ro app list (slug, lang, title)."
            ),
            name=name,
        )
    )


def parse_bytes(
    data: bytes,
    filename: str,
    known: Mapping[str, str] | None = None,
    *,
    name: str | None = None,
    limit: int = MAX_BYTES,
) -> ImportBatch:
    """Parse an uploaded directory file, choosing the format from its name and shape.

    ``known`` (see `alias_index`) lands an external file's organisations on the keys already in use; ``name``
    is what messages call the file (by default its name, cut to `SHOWN` characters); ``limit`` caps its size,
    unpacked.
    """
    name = name or shown_name(filename)
    found = _format(filename)
    if found is None:
        raise _not_a_directory_file(name)
    suffix, packed = found
    check_size(data, name, limit)
    if packed:
        data = gunzip(data, name, limit)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DirectoryDataError(problem(N_("{name} is not UTF-8 text."), name=name)) from None
    if suffix != ".json":
        return parse_yaml(text, name, limit)
    return parse_json(load_json(text, name, limit), name, known)


def load_file(path: str | Path, known: Mapping[str, str] | None = None) -> ImportBatch:
    """Parse a directory file on disk (see `parse_bytes`): the operator's own, so a larger one than an upload."""
    path = Path(path)
    if _format(path.name) is None:
        raise _not_a_directory_file(path.name)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DirectoryDataError(
            problem(N_("Cannot read {name}: {reason}."), name=path.name, reason=error.strerror or str(error))
        ) from None
    return parse_bytes(data, path.name, known, limit=MAX_LOCAL_BYTES)
