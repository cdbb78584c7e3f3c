"""Logging: one line per event, and the token never printed."""

from __future__ import annotations

import logging

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactFilter(logging.Filter):
    """Replace any occurrence of the given secrets in log records."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the formatted message in place."""
        if self._secrets:
            message = record.getMessage()
            for secret in self._secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


class NoVoiceFilter(logging.Filter):
    """The bot has no voice features: drop discord.py's warnings about missing voice libraries."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep everything but the voice warnings."""
        return "voice will NOT be supported" not in record.getMessage()


def setup_logging(level: str, secrets: list[str] | None = None) -> None:
    """Configure the root logger once for the process."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactFilter(secrets or []))
    handler.addFilter(NoVoiceFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Two lines per run of every job (some run each second) that say nothing: a job's failure is logged anyway.
    logging.getLogger("apscheduler.executors").setLevel(max(logging.WARNING, logging.getLevelNamesMapping()[level]))
    logging.getLogger("discord").setLevel(max(logging.INFO, logging.getLevelNamesMapping()[level]))
