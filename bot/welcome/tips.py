"""The short sequence of tips a newcomer gets by direct message in their first week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.delivery.outbox import Payload
from bot.i18n import N_, Localeish, t


@dataclass(frozen=True, slots=True)
class Tip:
    """A tip and the day after the join it is sent on."""

    day: int
    text: str  # a msgid with {server}

    @property
    def after(self) -> timedelta:
        """How long after the join it is due."""
        return timedelta(days=self.day)


TIPS = (
    Tip(
        1,
        N_(
            "A tip from {server}: `/chapter` shows any chapter of the network, with where it is, its projects, its "
            "people and its links. Try `/chapter name: g0v`."
        ),
    ),
    Tip(
        3,
        N_(
            "A tip from {server}: `/projects` searches the network's civic tech projects by words, chapter or "
            "topic, for example `/projects words: elections`."
        ),
    ),
    Tip(
        7,
        N_(
            "A tip from {server}: `/summits list` shows the summits and events coming up. Press Remind me on one "
            "and I will send you a direct message before it starts."
        ),
    ),
)
BY_DAY = {tip.day: tip for tip in TIPS}
WHY = N_("You get these tips because you joined {server}. `/privacy forget` stops them.")


def tip_payload(tip: Tip, server: str, locale: Localeish) -> Payload:
    """The direct message of one tip."""
    return Payload(content=f"{t(locale, tip.text, server=server)}\n-# {t(locale, WHY, server=server)}")
