"""Seeded generated inputs through the real bot: every slash command option, page-button id and form field.

Hostile values (very long, control characters, zero-width and RTL marks, lone surrogates, markdown and
mention injection, SQL fragments, numbers as text) drawn by hypothesis with a fixed seed: the same nine
hundred or so cases on every run. Each case must end with nothing logged at ERROR, no ping, an answer, and any
refusal a sentence. `bench/fuzz_bench.py` runs the same cases by the ten thousand.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.offline import SandboxSession
from bot.sandbox import SentMessage
from bot.sandbox.state import Message
from tests.e2e.hostile import AREAS, FAMILIES, ErrorLog, Fuzzer, Target, pings, sentence_problems

PER_TARGET = {"commands": 2, "autocomplete": 1, "components": 2, "forms": 1}
MAX_CASES = 60  # cases per bot session: each settles with a heartbeat, and discord.py sends 110 frames a minute
SHARED = frozenset({"commands"})  # areas whose targets are shared out over several sessions per family
SHARES = 3


def _params() -> list[Any]:
    return [
        pytest.param(area, family, share, id=f"{area}-{family}" + (f"-{share + 1}" if area in SHARED else ""))
        for area in AREAS
        for family in FAMILIES
        for share in range(SHARES if area in SHARED else 1)
    ]


@pytest.mark.parametrize(("area", "family", "share"), _params())
async def test_generated_inputs(session: SandboxSession, area: str, family: str, share: int) -> None:
    """A share of an area's targets with values of one family, on one bot session.

    A session runs at most MAX_CASES cases: each case ends with a settle, a heartbeat the bot is asked to send,
    and discord.py sends at most 110 gateway frames a minute, so a longer session would wait on that limit.
    """
    with ErrorLog() as errors:
        fuzzer = Fuzzer(session, errors)
        everything = await fuzzer.targets(area)
        assert everything, f"no {area} targets"
        targets = everything[share :: SHARES if area in SHARED else 1]
        assert len(targets) * PER_TARGET[area] <= MAX_CASES, f"{area}: more than {MAX_CASES} cases in one session"
        errors.records.clear()
        cases = [await fuzzer.run(t, value) for t in targets for value in fuzzer.inputs(t, family, PER_TARGET[area])]
    failed = [case.describe() for case in cases if case.problems]
    assert not failed, f"{len(failed)} of {len(cases)} cases failed:\n" + "\n".join(failed)


async def test_the_checks_see_a_ping_and_a_non_sentence(session: SandboxSession) -> None:
    state = session.sandbox.state
    content = f"<@{session.member_id}> @everyone"

    def message(allowed: dict[str, Any] | None, text: str = content, flags: int = 0) -> Message:
        return Message(
            state.next_id(),
            session.channel_id,
            session.guild_id,
            state.bot_id,
            text,
            flags=flags,
            allowed_mentions=allowed,
        )

    assert pings(state, message(None)) == ["the message can ping @everyone/@here", "the message pings users ['ana']"]
    assert pings(state, message({"parse": ["everyone"]}))[0] == "the message can ping @everyone/@here"
    assert pings(state, message({"parse": []})) == []
    refusal = SentMessage(state, message({"parse": []}, "unknown chapter {name}", flags=64))
    assert sentence_problems(refusal, Target("commands", "/chapter name")) == [
        "the answer is not a sentence: 'unknown chapter {name}'",
        "the answer shows internals: 'unknown chapter {name}'",
    ]
