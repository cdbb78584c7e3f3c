"""The scheduler runs jobs by id, only on the leader, each catching its own errors; the lease moves on PostgreSQL."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.scheduling import Scheduler
from bot.scheduling.leader import AdvisoryLockLeader, SoleLeader, leadership_for
from db.session import create_engine
from tests.leases import HeldElsewhere


async def _ran(calls: list[str], name: str, scheduler: Scheduler, *, leader_only: bool = True) -> None:
    async def job() -> None:
        calls.append(name)

    scheduler.every(name, 3600, job, leader_only=leader_only)


async def test_jobs_run_on_the_leader_only_and_can_be_brought_forward() -> None:
    calls: list[str] = []
    leader, follower = Scheduler(SoleLeader()), Scheduler(HeldElsewhere())
    for scheduler, name in ((leader, "on-leader"), (follower, "on-follower")):
        await _ran(calls, name, scheduler)
    await _ran(calls, "everywhere", follower, leader_only=False)
    leader.start()
    follower.start()
    try:
        await asyncio.sleep(0.2)
        assert sorted(calls) == ["everywhere", "on-leader"]
        leader.run_soon("on-leader")
        await asyncio.sleep(0.2)
        assert calls.count("on-leader") == 2
    finally:
        await leader.shutdown()
        await follower.shutdown()


async def test_a_failing_job_is_logged_and_keeps_its_schedule(caplog: pytest.LogCaptureFixture) -> None:
    scheduler = Scheduler(SoleLeader())
    runs: list[int] = []

    async def broken() -> None:
        runs.append(1)
        raise RuntimeError("feed on fire")

    scheduler.every("broken", 3600, broken)
    scheduler.start()
    try:
        with caplog.at_level(logging.ERROR):
            await asyncio.sleep(0.2)
            scheduler.run_soon("broken")
            await asyncio.sleep(0.2)
        assert len(runs) == 2
        messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert len(messages) == 2 and all(
            m.startswith("incident ") and m.endswith(" in job broken: RuntimeError: feed on fire") for m in messages
        )
    finally:
        await scheduler.shutdown()


async def test_sqlite_has_one_leader(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    lease = leadership_for(engine)
    assert isinstance(lease, SoleLeader) and await lease.refresh()
    assert await lease.holder() == "this process"


async def test_the_advisory_lock_has_one_holder_and_moves_when_it_is_released(
    engine: AsyncEngine, database_url: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    other_engine = create_engine(database_url)
    first = AdvisoryLockLeader(engine, label="shard 0 of 2, pid 1 on a")
    second = AdvisoryLockLeader(other_engine, label="shard 1 of 2, pid 2 on b")
    try:
        assert await second.holder() is None
        assert await first.refresh()
        assert not await second.refresh()
        assert await second.holder() == await first.holder() == "shard 0 of 2, pid 1 on a"  # read from the server
        assert await first.refresh()  # kept
        await first.release()
        assert await first.holder() is None
        assert await second.refresh()
        assert not await first.refresh()
        assert await first.holder() == "shard 1 of 2, pid 2 on b"
    finally:
        await first.release()
        await second.release()
        await other_engine.dispose()


async def test_a_leader_whose_connection_dies_loses_the_lease(engine: AsyncEngine, database_url: str) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    other_engine = create_engine(database_url)
    first, second = AdvisoryLockLeader(engine), AdvisoryLockLeader(other_engine)
    try:
        assert await first.refresh()
        held = first._connection
        assert held is not None
        pid = await held.scalar(text("SELECT pg_backend_pid()"))
        keepalive = await held.scalar(text("SELECT current_setting('tcp_keepalives_idle')"))
        assert keepalive in {"10", "10s"}  # a vanished host's lease is freed in about 25 s, not hours
        await held.commit()
        async with other_engine.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert not await first.refresh()
        assert await second.refresh()
    finally:
        await first.release()
        await second.release()
        await other_engine.dispose()


async def test_a_job_woken_while_it_runs_runs_once_more_after_without_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []
    release = asyncio.Event()

    async def slow() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            await release.wait()

    scheduler = Scheduler(SoleLeader())
    scheduler.every("slow", 3600, slow)
    scheduler.start()
    try:
        await asyncio.sleep(0.1)
        assert runs == [0]
        with caplog.at_level(logging.WARNING):
            for _ in range(50):  # a burst of new work, each piece waking the job
                scheduler.run_soon("slow")
                await asyncio.sleep(0.002)
            assert runs == [0]
            release.set()
            await asyncio.sleep(0.2)
        assert runs == [0, 1]
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    finally:
        await scheduler.shutdown()


async def test_a_job_stopped_by_the_shutdown_is_not_logged_as_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    started = asyncio.Event()

    async def endless() -> None:
        started.set()
        await asyncio.Event().wait()

    scheduler = Scheduler(SoleLeader())
    scheduler.every("endless", 3600, endless)
    with caplog.at_level(logging.INFO):
        scheduler.start()
        await asyncio.wait_for(started.wait(), 5)
        await scheduler.shutdown()
        running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and "run_coroutine_job" in repr(t)]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    assert running
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "job endless was stopped while running" in caplog.text
