"""SIGKILL the real bot process during 50-channel fan-outs and restart it: nothing lost, nothing doubled.

A handful of kills here; `.ci/run` runs `bench/outbox_kill.py --kills 20` on top.
"""

from __future__ import annotations

from pathlib import Path

from bench.outbox_kill import kill_run


async def test_killing_the_bot_during_fan_outs_loses_and_doubles_nothing(database_url: str, tmp_path: Path) -> None:
    report = await kill_run(database_url, tmp_path, kills=3, seed=7)
    assert report.expected == 150
    assert (report.lost, report.doubled) == (0, 0), report
