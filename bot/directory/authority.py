"""Who may change the directory: it belongs to the network, whose home server's organisers decide.

Organisers of the home server (the setting HOME_GUILD_ID) edit the directory; organisers of any other
server propose changes, which the home server's organisers approve or reject. With no home server set
the directory is read-only everywhere.
"""

from __future__ import annotations

from enum import Enum


class Right(Enum):
    """What an organiser of a server may do to the directory."""

    EDIT = "edit"
    PROPOSE = "propose"


def directory_right(home_guild_id: int | None, guild_id: int) -> Right | None:
    """EDIT in the home server, PROPOSE in any other, None (read-only) when no home server is set."""
    if home_guild_id is None:
        return None
    return Right.EDIT if guild_id == home_guild_id else Right.PROPOSE
