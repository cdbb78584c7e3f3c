"""How a send went wrong, as the dispatcher needs to know it: worth retrying, or not."""

from __future__ import annotations


class DeliveryError(Exception):
    """A send failed; `reason` is a short English sentence for the row and the logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientDeliveryError(DeliveryError):
    """Rate limits, server errors, timeouts: try again later, no sooner than `retry_after` seconds."""

    def __init__(self, reason: str, *, retry_after: float = 0.0) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Discord refused for good (unknown channel, no access, missing permissions, a bad body): `code` is its code."""

    def __init__(self, reason: str, *, code: int) -> None:
        super().__init__(reason)
        self.code = code
