"""What the bot answered, as the user sees it: messages, attachments and interaction results."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from .state import FLAG_LOADING, JSON, InteractionRecord, Message, SandboxState


class DriverError(Exception):
    """The requested user action is impossible (Discord's client would not allow it)."""


class InteractionTimeout(TimeoutError):
    """The bot did not answer in time; `result` holds whatever it did send."""

    def __init__(self, result: InteractionResult, timeout: float) -> None:
        super().__init__(f"the bot did not answer interaction {result.id} within {timeout:.1f}s")
        self.result = result


@dataclass(frozen=True)
class SentAttachment:
    """A file attached to a message."""

    filename: str
    size: int
    content_type: str | None
    url: str
    data: bytes


class SentMessage:
    """A live, read-only view of a stored message (edits show up as they happen)."""

    def __init__(self, state: SandboxState, message: Message) -> None:
        self._state = state
        self._message = message

    def __repr__(self) -> str:
        return f"<SentMessage id={self.id} content={self.content!r} ephemeral={self.ephemeral}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SentMessage) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def id(self) -> int:
        """The message id (the same id discord.py sees)."""
        return self._message.id

    @property
    def channel_id(self) -> int:
        """The channel the message is in."""
        return self._message.channel_id

    @property
    def guild_id(self) -> int | None:
        """The guild the message is in."""
        return self._message.guild_id

    @property
    def author_id(self) -> int:
        """The author's user id."""
        return self._message.author_id

    @property
    def content(self) -> str:
        """The text content."""
        return self._message.content

    @property
    def embeds(self) -> list[JSON]:
        """Embeds as Discord serves them (attachment:// urls resolved)."""
        return list(self.payload["embeds"])

    @property
    def components(self) -> list[JSON]:
        """Component rows as sent by the bot."""
        return self._message.components

    @property
    def flags(self) -> int:
        """Message flags."""
        return self._message.flags

    @property
    def ephemeral(self) -> bool:
        """Whether only the invoking user sees it."""
        return self._message.ephemeral

    @property
    def deleted(self) -> bool:
        """Whether the message has been deleted."""
        return self._message.id not in self._state.messages

    @property
    def attachments(self) -> list[SentAttachment]:
        """Files attached to the message."""
        return [
            SentAttachment(a.filename, a.size, a.content_type, self._state.attachment_payload(a)["url"], a.data)
            for a in self._message.attachments
        ]

    @property
    def payload(self) -> JSON:
        """The message object Discord would return."""
        return self._state.message_payload(self._message)

    @property
    def buttons(self) -> list[JSON]:
        """Every button, in display order."""
        return [c for c in iter_components(self.components) if c.get("type") == 2]

    @property
    def selects(self) -> list[JSON]:
        """Every select menu, in display order."""
        return [c for c in iter_components(self.components) if c.get("type") in (3, 5, 6, 7, 8)]


def iter_components(components: Sequence[JSON]) -> Iterator[JSON]:
    """Walk nested components (rows, sections, containers, accessories, labels)."""
    for component in components:
        yield component
        yield from iter_components(component.get("components") or [])
        for key in ("accessory", "component"):
            child = component.get(key)
            if isinstance(child, dict):
                yield from iter_components([child])


class InteractionResult:
    """What the bot answered to one interaction (live: later follow-ups and edits show up)."""

    def __init__(self, state: SandboxState, record: InteractionRecord) -> None:
        self._state = state
        self.record = record

    def __repr__(self) -> str:
        return f"<InteractionResult id={self.id} response_type={self.response_type} messages={len(self.messages)}>"

    @property
    def id(self) -> int:
        """The interaction id."""
        return self.record.id

    @property
    def token(self) -> str:
        """The interaction token."""
        return self.record.token

    @property
    def response_type(self) -> int | None:
        """The callback type the bot used (4, 5, 6, 7, 8 or 9), or None."""
        return self.record.response_type

    @property
    def deferred(self) -> bool:
        """Whether the bot deferred."""
        return self.record.response_type in (5, 6)

    @property
    def messages(self) -> list[SentMessage]:
        """The initial response message (if any) then the follow-ups, with edits applied."""
        ids = [self.record.original_message_id, *self.record.followup_ids]
        found = [self._state.messages.get(i) for i in ids if i is not None]
        return [SentMessage(self._state, m) for m in found if m is not None]

    @property
    def message(self) -> SentMessage:
        """The first response message."""
        messages = self.messages
        if not messages:
            raise LookupError(f"interaction {self.id} has no response message")
        return messages[0]

    @property
    def modal(self) -> JSON | None:
        """The modal payload if the bot opened one."""
        return self.record.modal

    @property
    def choices(self) -> list[JSON] | None:
        """Autocomplete choices if the bot sent them."""
        return self.record.choices

    @property
    def errors(self) -> list[JSON]:
        """Error bodies of rejected callbacks (e.g. 10062 when answered too late)."""
        return self.record.errors

    async def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[SentMessage]:  # noqa: ASYNC109
        """Wait until at least `count` response messages exist."""
        await self._wait(lambda: len(self.messages) >= count, timeout)
        return self.messages

    async def wait_until_answered(self, timeout: float = 5.0) -> list[SentMessage]:  # noqa: ASYNC109
        """Wait until the bot has answered and no message still shows "thinking" (a deferral was filled)."""
        await self._wait(
            lambda: self.response_type is not None and not any(m.flags & FLAG_LOADING for m in self.messages), timeout
        )
        return self.messages

    async def _wait(self, condition: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
        """Re-check `condition` whenever a message is created or edited (no polling)."""
        changed = asyncio.Event()

        def wake(_: Message) -> None:
            changed.set()

        listeners = (self._state.message_listeners, self._state.update_listeners)
        for listening in listeners:
            listening.append(wake)
        try:
            async with asyncio.timeout(timeout):
                while not condition():
                    changed.clear()
                    await changed.wait()
        except TimeoutError:
            raise InteractionTimeout(self, timeout) from None
        finally:
            for listening in listeners:
                listening.remove(wake)
