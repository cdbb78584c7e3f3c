"""Errors a user can cause, and incident ids for everything else."""

from __future__ import annotations

import secrets


class UserError(Exception):
    """A problem the user can fix; the message is shown to them as it is."""


class NotFound(UserError):
    """Nothing matched; carries 'did you mean' suggestions."""

    def __init__(self, what: str, query: str, suggestions: list[str] | None = None) -> None:
        self.what = what
        self.query = query
        self.suggestions = suggestions or []
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"No {what} matches “{query}”.{hint}")


class NotAllowed(UserError):
    """The user lacks the right to do this."""


def new_incident_id() -> str:
    """A short id that links what the user sees to the logged traceback."""
    return secrets.token_hex(4)
