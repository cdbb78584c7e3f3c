"""Errors a user can cause, and incident ids for everything else."""

from __future__ import annotations

import logging
import secrets

from bot.i18n import N_, Localeish, t


class UserError(Exception):
    """A problem the user can fix: an English message (also the catalogue's msgid) and its parameters."""

    def __init__(self, message: str, /, **params: object) -> None:
        self.message = message
        self.params = params
        super().__init__(message.format(**params) if params else message)

    def translated(self, locale: Localeish) -> str:
        """The message in the user's language."""
        return t(locale, self.message, **self.params)


class NotFound(UserError):
    """Nothing matched; carries 'did you mean' suggestions."""

    def __init__(self, what: str, query: str, suggestions: list[str] | None = None, *, hint: str | None = None) -> None:
        self.what = what
        self.query = query
        self.suggestions = suggestions or []
        self.hint = hint
        super().__init__(N_("No {what} matches “{query}”."), what=what, query=query)
        if self.suggestions:
            self.args = (str(self) + f" Did you mean: {', '.join(self.suggestions)}?",)
        elif hint:
            self.args = (f"{self} {hint}",)

    def translated(self, locale: Localeish) -> str:
        """'No chapter matches …', then the suggestions (else what to do next), in the user's language."""
        text = t(locale, self.message, what=t(locale, self.what), query=self.query)
        if self.suggestions:
            text += t(locale, " Did you mean: {suggestions}?", suggestions=", ".join(self.suggestions))
        elif self.hint:
            text += " " + t(locale, self.hint)
        return text


log = logging.getLogger(__name__)


def new_incident_id() -> str:
    """A short id that links what the user sees to the logged traceback."""
    return secrets.token_hex(4)


def log_incident(where: str, error: BaseException | None) -> str:
    """Log an unexpected error with a new incident id (commands, views, events and jobs alike); return the id.

    The line says what failed (the error's type and first line); the traceback follows it.
    """
    incident = new_incident_id()
    log.error("incident %s in %s: %s", incident, where, _summary(error), exc_info=error)
    return incident


def _summary(error: BaseException | None) -> str:
    """`Type: first line` of the error a command or view wrapped (discord.py's `.original`), or of the error."""
    if error is None:
        return "no error"
    original = getattr(error, "original", None) or error
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0]}" if lines else type(original).__name__
