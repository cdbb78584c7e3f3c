"""Discord's payload limits, reported with its nested 50035 `errors` tree."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .errors import ApiError, Code, invalid_form
from .state import FLAG_COMPONENTS_V2, JSON

Path = Sequence[str | int]

ACTION_ROW = 1
BUTTON = 2
STRING_SELECT = 3
TEXT_INPUT = 4
SELECTS = (3, 5, 6, 7, 8)
SECTION = 9
TEXT_DISPLAY = 10
THUMBNAIL = 11
CONTAINER = 17
LABEL = 18

_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")


class FormErrors:
    """Collects errors at JSON paths, in Discord's `{"field": {"_errors": [...]}}` shape."""

    def __init__(self) -> None:
        self.tree: JSON = {}

    def __bool__(self) -> bool:
        return bool(self.tree)

    def add(self, path: Path, code: str, message: str) -> None:
        """Record an error at `path`."""
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def raise_if_any(self, prefix: Path = ()) -> None:
        """Raise 400 50035 when errors were recorded, nested under `prefix`."""
        if not self.tree:
            return
        tree = self.tree
        for key in reversed(list(prefix)):
            tree = {str(key): tree}
        raise invalid_form(tree)


def max_length(errors: FormErrors, path: Path, value: Any, limit: int) -> None:
    """BASE_TYPE_MAX_LENGTH for strings and lists."""
    if isinstance(value, str | list) and len(value) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def bad_length(errors: FormErrors, path: Path, value: Any, low: int, high: int) -> None:
    """BASE_TYPE_BAD_LENGTH for a required string or list outside `[low, high]`."""
    if value is None:
        errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")
    elif isinstance(value, str | list) and not low <= len(value) <= high:
        errors.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def _url(errors: FormErrors, path: Path, value: Any, *, attachment: bool = False) -> None:
    if value is None:
        return
    text = str(value)
    allowed = ("http", "https", "attachment") if attachment else ("http", "https")
    if ":" not in text:
        errors.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        return
    scheme = text.split(":", 1)[0].lower()
    if scheme not in allowed:
        errors.add(
            path, "URL_TYPE_INVALID_SCHEME", f'Scheme "{scheme}" is not supported. Scheme must be one of {allowed}.'
        )


# --- embeds -------------------------------------------------------------------


def validate_embeds(errors: FormErrors, embeds: Any, path: Path = ("embeds",)) -> None:
    """Per-embed limits and the 6000 character total."""
    if not isinstance(embeds, list):
        errors.add(path, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType.")
        return
    max_length(errors, path, embeds, 10)
    total = 0
    for index, embed in enumerate(embeds):
        where = (*path, index)
        if not isinstance(embed, dict):
            errors.add(where, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        total += _validate_embed(errors, where, embed)
    if total > 6000:
        errors.add(path, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def _validate_embed(errors: FormErrors, where: Path, embed: JSON) -> int:
    title = embed.get("title")
    description = embed.get("description")
    max_length(errors, (*where, "title"), title, 256)
    max_length(errors, (*where, "description"), description, 4096)
    _url(errors, (*where, "url"), embed.get("url"))
    size = len(title or "") + len(description or "")
    for key in ("image", "thumbnail"):
        media = embed.get(key)
        if isinstance(media, dict):
            _url(errors, (*where, key, "url"), media.get("url"), attachment=True)
    fields = embed.get("fields") or []
    max_length(errors, (*where, "fields"), fields, 25)
    for number, item in enumerate(fields if isinstance(fields, list) else []):
        name, value = item.get("name"), item.get("value")
        bad_length(errors, (*where, "fields", number, "name"), name, 1, 256)
        bad_length(errors, (*where, "fields", number, "value"), value, 1, 1024)
        size += len(name or "") + len(value or "")
    footer = embed.get("footer")
    if isinstance(footer, dict):
        bad_length(errors, (*where, "footer", "text"), footer.get("text"), 1, 2048)
        _url(errors, (*where, "footer", "icon_url"), footer.get("icon_url"), attachment=True)
        size += len(footer.get("text") or "")
    author = embed.get("author")
    if isinstance(author, dict):
        bad_length(errors, (*where, "author", "name"), author.get("name"), 1, 256)
        _url(errors, (*where, "author", "url"), author.get("url"))
        _url(errors, (*where, "author", "icon_url"), author.get("icon_url"), attachment=True)
        size += len(author.get("name") or "")
    return size


# --- components ---------------------------------------------------------------


def validate_components(errors: FormErrors, components: Any, *, v2: bool, path: Path = ("components",)) -> None:
    """Action rows, buttons and selects (and the components v2 layout when flagged)."""
    if not isinstance(components, list):
        errors.add(path, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType.")
        return
    seen: set[str] = set()
    if v2:
        if _count(components) > 40:
            errors.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in length.")
        for index, component in enumerate(components):
            _validate_v2(errors, (*path, index), component, seen)
        return
    max_length(errors, path, components, 5)
    for index, row in enumerate(components):
        if not isinstance(row, dict) or row.get("type") != ACTION_ROW:
            errors.add((*path, index, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).')
            continue
        _validate_row(errors, (*path, index), row, seen)


def _count(components: Any) -> int:
    total = 0
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict):
            total += 1 + _count(component.get("components"))
            if isinstance(component.get("accessory"), dict):
                total += 1
    return total


def _validate_row(errors: FormErrors, where: Path, row: JSON, seen: set[str]) -> None:
    children = row.get("components")
    if not isinstance(children, list) or not children:
        errors.add((*where, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
        return
    max_length(errors, (*where, "components"), children, 5)
    if len(children) > 1 and any(isinstance(c, dict) and c.get("type") in SELECTS for c in children):
        errors.add(
            (*where, "components"),
            "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
            "The specified component exceeds the maximum width",
        )
    for number, child in enumerate(children):
        _validate_interactive(errors, (*where, "components", number), child, seen)


def _validate_v2(errors: FormErrors, where: Path, component: Any, seen: set[str]) -> None:
    if not isinstance(component, dict):
        errors.add(where, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    kind = component.get("type")
    if kind == ACTION_ROW:
        _validate_row(errors, where, component, seen)
    elif kind == TEXT_DISPLAY:
        bad_length(errors, (*where, "content"), component.get("content"), 1, 4000)
    elif kind in (SECTION, CONTAINER):
        for index, child in enumerate(component.get("components") or []):
            _validate_v2(errors, (*where, "components", index), child, seen)
        accessory = component.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == BUTTON:
            _validate_interactive(errors, (*where, "accessory"), accessory, seen)


def _validate_interactive(errors: FormErrors, where: Path, component: Any, seen: set[str]) -> None:
    if not isinstance(component, dict):
        errors.add(where, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    kind = component.get("type")
    custom_id = component.get("custom_id")
    if kind == BUTTON:
        style = component.get("style")
        if style not in (1, 2, 3, 4, 5, 6):
            errors.add((*where, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}.")
        max_length(errors, (*where, "label"), component.get("label"), 80)
        if style == 5:
            _url(errors, (*where, "url"), component.get("url"))
            if component.get("url") is None:
                errors.add((*where, "url"), "BASE_TYPE_REQUIRED", "This field is required")
            if custom_id is not None:
                errors.add((*where, "custom_id"), "BUTTON_COMPONENT_CUSTOM_ID_FORBIDDEN", "A custom id cannot be set")
            return
        if style != 6 and custom_id is None:
            errors.add((*where, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required")
    elif kind in SELECTS:
        if custom_id is None:
            errors.add((*where, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required")
        max_length(errors, (*where, "placeholder"), component.get("placeholder"), 150)
        _range(errors, (*where, "min_values"), component.get("min_values"), 0, 25)
        _range(errors, (*where, "max_values"), component.get("max_values"), 1, 25)
        if kind == STRING_SELECT:
            _validate_options(errors, (*where, "options"), component.get("options"))
    else:
        errors.add((*where, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (2, 3, 5, 6, 7, 8).')
        return
    if isinstance(custom_id, str):
        bad_length(errors, (*where, "custom_id"), custom_id, 1, 100)
        if custom_id in seen:
            errors.add(
                (*where, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
            )
        seen.add(custom_id)


def _validate_options(errors: FormErrors, where: Path, options: Any) -> None:
    if not isinstance(options, list) or not options:
        errors.add(where, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
        return
    max_length(errors, where, options, 25)
    values: set[str] = set()
    for index, option in enumerate(options):
        bad_length(errors, (*where, index, "label"), option.get("label"), 1, 100)
        bad_length(errors, (*where, index, "value"), option.get("value"), 1, 100)
        max_length(errors, (*where, index, "description"), option.get("description"), 100)
        value = option.get("value")
        if value in values:
            errors.add(
                (*where, index, "value"), "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED", "Option values must be unique"
            )
        values.add(str(value))


def _range(errors: FormErrors, where: Path, value: Any, low: int, high: int) -> None:
    if isinstance(value, int) and not low <= value <= high:
        code = "NUMBER_TYPE_MIN" if value < low else "NUMBER_TYPE_MAX"
        bound = f"greater than or equal to {low}" if value < low else f"less than or equal to {high}"
        errors.add(where, code, f"int value should be {bound}.")


# --- messages, modals, choices, commands ------------------------------------------


def validate_message(body: JSON, *, creating: bool, file_count: int = 0, prefix: Path = ()) -> None:
    """Validate a message create/edit body; raise 50035 or 50006 like Discord."""
    errors = FormErrors()
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        errors.add(("content",), "STRING_TYPE_CONVERT", "Could not interpret value as string.")
    max_length(errors, ("content",), content, 2000)
    if body.get("embeds") is not None:
        validate_embeds(errors, body["embeds"])
    flags = int(body.get("flags") or 0)
    v2 = bool(flags & FLAG_COMPONENTS_V2)
    if body.get("components") is not None:
        validate_components(errors, body["components"], v2=v2)
    if v2 and (content or body.get("embeds")):
        errors.add(
            ("content",),
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' field cannot be used when using MessageFlags.IS_COMPONENTS_V2",
        )
    nonce = body.get("nonce")
    if isinstance(nonce, str):
        max_length(errors, ("nonce",), nonce, 25)
    attachments = body.get("attachments")
    if isinstance(attachments, list):
        max_length(errors, ("attachments",), attachments, 10)
    if file_count > 10:
        errors.add(("files",), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    errors.raise_if_any(prefix)
    if creating and not _has_body(body, file_count):
        raise ApiError(400, Code.EMPTY_MESSAGE, "Cannot send an empty message")


def _has_body(body: JSON, file_count: int) -> bool:
    return bool(
        (body.get("content") or "").strip()
        or body.get("embeds")
        or body.get("components")
        or body.get("attachments")
        or body.get("sticker_ids")
        or body.get("poll")
        or file_count
    )


def validate_choices(choices: Any, prefix: Path = ("data",)) -> None:
    """Autocomplete results: at most 25 choices with 1-100 character names and values."""
    errors = FormErrors()
    if not isinstance(choices, list):
        errors.add(("choices",), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType.")
    else:
        max_length(errors, ("choices",), choices, 25)
        for index, choice in enumerate(choices):
            bad_length(errors, ("choices", index, "name"), choice.get("name"), 1, 100)
            value = choice.get("value")
            if value is None:
                errors.add(("choices", index, "value"), "BASE_TYPE_REQUIRED", "This field is required")
            elif isinstance(value, str):
                max_length(errors, ("choices", index, "value"), value, 100)
    errors.raise_if_any(prefix)


def validate_modal(data: JSON, prefix: Path = ("data",)) -> None:
    """Modal limits: title <= 45, custom_id <= 100, 1-5 rows of text inputs or labels."""
    errors = FormErrors()
    bad_length(errors, ("title",), data.get("title"), 1, 45)
    bad_length(errors, ("custom_id",), data.get("custom_id"), 1, 100)
    components = data.get("components")
    bad_length(errors, ("components",), components, 1, 5)
    for index, component in enumerate(components if isinstance(components, list) else []):
        where: tuple[str | int, ...] = ("components", index)
        kind = component.get("type") if isinstance(component, dict) else None
        if kind == ACTION_ROW:
            children = component.get("components") or []
            if len(children) != 1:
                errors.add((*where, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 1 in length.")
            for number, child in enumerate(children):
                _validate_text_input(errors, (*where, "components", number), child, needs_label=True)
        elif kind == LABEL:
            bad_length(errors, (*where, "label"), component.get("label"), 1, 45)
            inner = component.get("component")
            if isinstance(inner, dict) and inner.get("type") == TEXT_INPUT:
                _validate_text_input(errors, (*where, "component"), inner, needs_label=False)
            elif isinstance(inner, dict) and inner.get("type") in SELECTS:
                _validate_interactive(errors, (*where, "component"), inner, set())
        elif kind != TEXT_DISPLAY:
            errors.add((*where, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1, 10, 18).')
    errors.raise_if_any(prefix)


def _validate_text_input(errors: FormErrors, where: Path, component: Any, *, needs_label: bool) -> None:
    if not isinstance(component, dict) or component.get("type") != TEXT_INPUT:
        errors.add((*where, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (4,).')
        return
    bad_length(errors, (*where, "custom_id"), component.get("custom_id"), 1, 100)
    if component.get("style") not in (1, 2):
        errors.add((*where, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.")
    if needs_label:
        bad_length(errors, (*where, "label"), component.get("label"), 1, 45)
    max_length(errors, (*where, "placeholder"), component.get("placeholder"), 100)
    max_length(errors, (*where, "value"), component.get("value"), 4000)
    _range(errors, (*where, "min_length"), component.get("min_length"), 0, 4000)
    _range(errors, (*where, "max_length"), component.get("max_length"), 1, 4000)


def validate_commands(commands: Any) -> None:
    """Bulk overwrite body: each command valid, names unique per type, at most 100 chat commands."""
    errors = FormErrors()
    if not isinstance(commands, list):
        errors.add((), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType.")
        errors.raise_if_any()
        return
    seen: set[tuple[str, int]] = set()
    for index, command in enumerate(commands):
        validate_command(errors, (index,), command)
        key = (str(command.get("name")), int(command.get("type") or 1))
        if key in seen:
            errors.add(
                (index, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
        seen.add(key)
    if sum(1 for name, kind in seen if kind == 1) > 100:
        errors.add((), "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
    errors.raise_if_any()


def validate_command(errors: FormErrors, where: Path, command: Any) -> None:
    """One application command: name, description and options."""
    if not isinstance(command, dict):
        errors.add(where, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    kind = int(command.get("type") or 1)
    name = command.get("name")
    if kind == 1:
        _check_name(errors, (*where, "name"), name)
        bad_length(errors, (*where, "description"), command.get("description"), 1, 100)
    else:
        bad_length(errors, (*where, "name"), name, 1, 32)
    _validate_options_list(errors, (*where, "options"), command.get("options") or [])


def _check_name(errors: FormErrors, where: Path, name: Any) -> None:
    if not isinstance(name, str) or not _COMMAND_NAME.match(name) or name != name.lower():
        errors.add(where, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _validate_options_list(errors: FormErrors, where: Path, options: Any) -> None:
    if not isinstance(options, list):
        return
    max_length(errors, where, options, 25)
    names: set[str] = set()
    optional_seen = False
    for index, option in enumerate(options):
        here = (*where, index)
        _check_name(errors, (*here, "name"), option.get("name"))
        bad_length(errors, (*here, "description"), option.get("description"), 1, 100)
        if option.get("type") not in range(1, 12):
            errors.add(
                (*here, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}."
            )
        if option.get("name") in names:
            errors.add((*here, "name"), "APPLICATION_COMMAND_OPTIONS_DUPLICATED", "Option names must be unique")
        names.add(str(option.get("name")))
        if option.get("required"):
            if optional_seen:
                errors.add(
                    (*here, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        elif option.get("type") not in (1, 2):
            optional_seen = True
        choices = option.get("choices")
        if choices is not None:
            max_length(errors, (*here, "choices"), choices, 25)
            if option.get("autocomplete") and choices:
                errors.add(
                    (*here, "autocomplete"),
                    "AUTOCOMPLETE_CHOICES_CONFLICT",
                    "Autocomplete cannot be enabled when choices are set",
                )
        _validate_options_list(errors, (*here, "options"), option.get("options") or [])
