"""A scheduler lease for tests: held by another process, so this one's scheduled work stands by."""

from __future__ import annotations


class HeldElsewhere:
    """A lease this process never gets: the scheduled jobs stand by and a test drives them by hand."""

    is_leader = False
    label = "this test's process"

    def __init__(self, holder: str | None = "another process") -> None:
        self._holder = holder

    async def refresh(self) -> bool:
        return False

    async def holder(self) -> str | None:
        return self._holder

    async def release(self) -> None:
        return None
