"""Field validators for directory records: each returns the clean value or raises `Invalid`.

A problem is a message id and its parameters, never a finished English sentence: imports and forms render it
with `t()` in the organiser's language. A value the user sent is quoted only as a short, bounded excerpt
(`shown`), so no bad value, however large or nested, is formatted whole. Limits follow the database columns
(db/models/directory.py) and what each field must fit into when Discord shows it.
"""

from __future__ import annotations

import contextlib
import re
import reprlib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sized
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry

from bot.i18n import N_, Localeish, t

T = TypeVar("T")
S = TypeVar("S", bound=Sized)
Rule = Callable[[object, str], T]
"""Reads one field: ``rule(value, field_name)`` returns the clean value or raises `Invalid`."""

MIN_YEAR, MAX_YEAR = 1990, 2100
MAX_ITEMS = 100
"""The most items a list or mapping field may hold."""
SHOWN = 60
"""The most characters of a bad value an error message quotes."""

_LOCALE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_BARE_HOST = re.compile(r"^[\w-]+(?:\.[\w-]+)+(?:[/:?#]\S*)?$")
_MULTILINE = frozenset("\n\t")
_TOO_LONG = N_("{field} is too long (limit: {limit}, given: {length})")
_ITEM_TOO_LONG = N_("each item of {field} can be at most {limit} characters (given: {length})")


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with a value: a message id (English) and its parameters."""

    message: str
    params: tuple[tuple[str, object], ...] = ()

    def text(self, locale: Localeish) -> str:
        """The problem in the reader's language."""
        return t(locale, self.message, **dict(self.params))

    def __str__(self) -> str:
        return self.text(None)


def problem(message: str, /, **params: object) -> Problem:
    """A `Problem` with its parameters in a stable order."""
    return Problem(message, tuple(sorted(params.items())))


class Invalid(Exception):
    """One or more problems with a field or a record."""

    def __init__(self, *problems: Problem) -> None:
        self.problems = problems
        super().__init__("; ".join(map(str, problems)))


def invalid(message: str, /, **params: object) -> Invalid:
    """An `Invalid` with one problem."""
    return Invalid(problem(message, **params))


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = SHOWN
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxset = 2, 4, 4, 4, 4


def shown(value: object) -> str:
    """A short excerpt of a value for an error message, bounded whatever the value's size or depth."""
    text = _REPR.repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def collect(problems: list[Problem], rule: Rule[T], value: object, name: str, default: T) -> T:
    """``rule(value, name)``, or `default` with its problems added to `problems`."""
    try:
        return rule(value, name)
    except Invalid as error:
        problems.extend(error.problems)
        return default


# -- text --------------------------------------------------------------------------------------------------------


def _clean(value: str, name: str, limit: int, multiline: bool) -> str | None:
    stripped = value.strip()
    if not stripped:
        return None
    if len(stripped) > limit:
        raise invalid(_TOO_LONG, field=name, limit=limit, length=len(stripped))
    for char in stripped:
        category = unicodedata.category(char)
        if (category == "Cc" and not (multiline and char in _MULTILINE)) or category == "Cs":
            raise invalid(
                N_("{field} contains a control character ({code}): remove it"), field=name, code=f"U+{ord(char):04X}"
            )
    return stripped


def text(limit: int, *, multiline: bool = False) -> Rule[str | None]:
    """Optional text of at most `limit` characters, stripped, without control characters (new lines if multiline)."""

    def read(value: object, name: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise invalid(N_("{field} must be text, not {value}"), field=name, value=shown(value))
        return _clean(value, name, limit, multiline)

    return read


def required(rule: Rule[T | None]) -> Rule[T]:
    """`rule`, refusing an empty value."""

    def read(value: object, name: str) -> T:
        clean = rule(value, name)
        if clean is None:
            raise invalid(N_("{field} is required"), field=name)
        return clean

    return read


def key(limit: int, pattern: re.Pattern[str], example: Callable[[str], str]) -> Rule[str]:
    """A required key matching `pattern` (lowercase letters, digits and single hyphens)."""
    read_text = required(text(limit))

    def read(value: object, name: str) -> str:
        clean = read_text(value, name)
        if not pattern.match(clean):
            raise invalid(
                N_("{field} {value} must be lowercase letters, digits and single hyphens (e.g. {example})"),
                field=name,
                value=shown(clean),
                example=shown(example(clean)),
            )
        return clean

    return read


def choice(allowed: tuple[str, ...]) -> Rule[str | None]:
    """One of `allowed`, or nothing."""
    read_text = text(SHOWN)

    def read(value: object, name: str) -> str | None:
        clean = read_text(value, name)
        if clean is not None and clean not in allowed:
            raise invalid(
                N_("{field} {value} is not one of: {allowed}"),
                field=name,
                value=shown(clean),
                allowed=", ".join(allowed),
            )
        return clean

    return read


def with_default(rule: Rule[T | None], default: T) -> Rule[T]:
    """`rule`, with `default` for an empty value."""

    def read(value: object, name: str) -> T:
        clean = rule(value, name)
        return default if clean is None else clean

    return read


# -- numbers, flags, places, addresses, times --------------------------------------------------------------------


def _year_range(name: str, value: int) -> None:
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise invalid(
            N_("{field} {value} is not a plausible year ({first}–{last})"),
            field=name,
            value=value,
            first=MIN_YEAR,
            last=MAX_YEAR,
        )


def year(value: object, name: str) -> int | None:
    """A plausible year of the network's history, or nothing."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(N_("{field} must be a year such as 2015, not {value}"), field=name, value=shown(value))
    _year_range(name, value)
    return value


def coordinate(bound: float) -> Rule[float | None]:
    """A number between ``-bound`` and ``bound`` (latitude 90, longitude 180), or nothing."""

    def read(value: object, name: str) -> float | None:
        if value is None or value == "":
            return None
        number = float("nan")
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str) and len(value) <= SHOWN:
            with contextlib.suppress(ValueError):
                number = float(value)
        if not -bound <= number <= bound:
            raise invalid(
                N_("{field} {value} is not a number between {low} and {high}"),
                field=name,
                value=shown(value),
                low=f"{-bound:g}",
                high=f"{bound:g}",
            )
        return number

    return read


def boolean(default: bool) -> Rule[bool]:
    """True or false; `default` when not given."""

    def read(value: object, name: str) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            raise invalid(N_("{field} must be true or false, not {value}"), field=name, value=shown(value))
        return value

    return read


def with_scheme(value: object) -> object:
    """A bare host such as ``github.com/x`` with ``https://`` in front; any other value as it is."""
    if isinstance(value, str) and "://" not in value and _BARE_HOST.match(value.strip()):
        return "https://" + value.strip()
    return value


def url(limit: int) -> Rule[str | None]:
    """An http(s) address with a host, or nothing."""
    read_text = text(limit)

    def read(value: object, name: str) -> str | None:
        clean = read_text(value, name)
        if clean is None:
            return None
        try:
            parts = urlsplit(clean)
            fine = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            fine = False
        if not fine or any(c.isspace() for c in clean):
            raise invalid(N_("{field} {value} is not an http(s) address with a host"), field=name, value=shown(clean))
        return clean

    return read


def country(value: object, name: str) -> str | None:
    """An ISO 3166-1 alpha-2 country code, upper case, or nothing; ``ZZ`` and other unassigned codes are refused."""
    clean = text(SHOWN)(value, name)
    if clean is None:
        return None
    found = pycountry.countries.get(alpha_2=clean.upper()) if len(clean) == 2 and clean.isascii() else None
    if found is None:
        raise invalid(
            N_("{field} {value} is not a two-letter ISO 3166 country code such as RO"), field=name, value=shown(clean)
        )
    return str(found.alpha_2)


def timezone(value: object, name: str) -> str | None:
    """An IANA time zone name such as ``Europe/Bucharest``, or nothing."""
    clean = text(64)(value, name)
    if clean is None:
        return None
    try:
        ZoneInfo(clean)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise invalid(
            N_("{field} {value} is not an IANA time zone such as Europe/Bucharest"), field=name, value=shown(clean)
        ) from None
    return clean


_NOT_A_MOMENT = N_("{field} {value} is not a date and time such as 2018-11-08T09:00")


def moment(value: object, name: str, zone: str | None) -> datetime | None:
    """A timezone-aware date and time in a plausible year; a naive one is read in `zone`."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        raise invalid(N_("{field} needs a time as well as a date, e.g. 2018-11-08T09:00"), field=name)
    elif isinstance(value, str) and len(value) <= SHOWN:
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            raise invalid(_NOT_A_MOMENT, field=name, value=shown(value)) from None
    else:
        raise invalid(_NOT_A_MOMENT, field=name, value=shown(value))
    # Checked before any time zone arithmetic, which overflows near the years 1 and 9999.
    _year_range(name, when.year)
    if zone is not None:
        tz = ZoneInfo(zone)
        return when.astimezone(tz) if when.tzinfo else when.replace(tzinfo=tz)
    if when.tzinfo is None:
        raise invalid(N_("{field} has no time zone: add timezone, e.g. Europe/Bucharest"), field=name)
    return when


# -- collections -------------------------------------------------------------------------------------------------


def _limited(value: S, name: str) -> S:
    if len(value) > MAX_ITEMS:
        raise invalid(N_("{field} has too many items (limit: {limit})"), field=name, limit=MAX_ITEMS)
    return value


def strings(item: Rule[str | None]) -> Rule[tuple[str, ...]]:
    """A list of texts, each read by `item`, without empty items and repeats."""

    def read(value: object, name: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            raise invalid(N_("{field} must be a list of text, not {value}"), field=name, value=shown(value))
        problems: list[Problem] = []
        clean = [collect(problems, item, i, name, None) for i in _limited(value, name)]
        if problems:
            raise Invalid(*dict.fromkeys(_of_an_item(p) for p in problems))
        return tuple(dict.fromkeys(c for c in clean if c))

    return read


def _of_an_item(found: Problem) -> Problem:
    """An item's problem as the list's: its length limit is each item's, not the whole list's."""
    return Problem(_ITEM_TOO_LONG, found.params) if found.message == _TOO_LONG else found


def pairs(key_rule: Rule[str | None], value_rule: Rule[str | None]) -> Rule[tuple[tuple[str, str], ...]]:
    """A mapping of texts as sorted ``(key, value)`` pairs."""

    def read(value: object, name: str) -> tuple[tuple[str, str], ...]:
        if value is None:
            return ()
        if not isinstance(value, Mapping):
            raise invalid(
                N_("{field} must be a mapping such as {{twitter: '@handle'}}, not {value}"),
                field=name,
                value=shown(value),
            )
        problems: list[Problem] = []
        out: list[tuple[str, str]] = []
        for raw_key, raw_value in _limited(value, name).items():
            item_key = collect(problems, key_rule, raw_key, name, None)
            if item_key is None:
                continue
            item_value = collect(problems, value_rule, raw_value, f"{name}.{item_key}", None)
            if item_value is not None:
                out.append((item_key, item_value))
        if problems:
            raise Invalid(*problems)
        return tuple(sorted(out))

    return read


def locale_tag(value: object, name: str) -> str | None:
    """A language tag such as ``ro`` or ``zh-TW``."""
    clean = text(35)(value, name)
    if clean is not None and not _LOCALE.match(clean):
        raise invalid(
            N_("{value} in {field} is not a language tag such as ro or zh-TW"), field=name, value=shown(clean)
        )
    return clean


def label(value: object, name: str) -> str | None:
    """A short name for an entry of a mapping, such as ``twitter``."""
    return text(50)(value, name)


def people(limit: int, make: Callable[[str, str | None], T]) -> Rule[tuple[T, ...]]:
    """A list of people, each a name or ``{name, role}``, each made with ``make(name, role)``."""
    read_text = text(limit)
    read_name = required(read_text)

    def person(item: object, name: str) -> T:
        if isinstance(item, str):
            return make(read_name(item, name), None)
        if isinstance(item, Mapping):
            problems = known_fields(item, ("name", "role"))
            if problems:
                raise Invalid(*problems)
            return make(read_name(item.get("name"), f"{name}.name"), read_text(item.get("role"), f"{name}.role"))
        raise invalid(N_("{field} must be a name or {{name, role}}, not {value}"), field=name, value=shown(item))

    def read(value: object, name: str) -> tuple[T, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise invalid(N_("{field} must be a list of {{name, role}}, not {value}"), field=name, value=shown(value))
        problems: list[Problem] = []
        out = [collect(problems, person, i, name, None) for i in _limited(value, name)]
        if problems:
            raise Invalid(*problems)
        return tuple(p for p in out if p is not None)

    return read


# -- records -----------------------------------------------------------------------------------------------------


class Fields(dict[Any, Any]):
    """A mapping read from a file that remembers which of its fields were given more than once."""

    def __init__(self, items: Iterable[tuple[Any, Any]] = ()) -> None:
        super().__init__()
        self.duplicated: list[Any] = []
        for name, value in items:
            self.add(name, value)

    def add(self, name: Any, value: Any) -> None:
        """Set a field, remembering it when it was already set."""
        if name in self:
            self.duplicated.append(name)
        self[name] = value


def repeated(record: Mapping[Any, Any]) -> list[Problem]:
    """A problem for each field given more than once in `record` (when it was read as `Fields`)."""
    names = dict.fromkeys(getattr(record, "duplicated", ()))
    return [problem(N_("field {name} is given more than once"), name=shown(name)) for name in names]


def known_fields(record: Mapping[Any, Any], allowed: Iterable[str]) -> list[Problem]:
    """Problems for the fields of `record` that `allowed` does not name, and for fields given twice."""
    allowed = frozenset(allowed)
    unknown = [name for name in record if name not in allowed]
    problems = [problem(N_("unknown field {name}"), name=shown(name)) for name in unknown]
    return problems + repeated(record)
