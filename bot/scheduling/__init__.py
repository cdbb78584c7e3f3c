"""The one scheduler of the bot: jobs defined in code by id, each catching its own errors, run on the leader.

Jobs are in memory (APScheduler 3, ids with `replace_existing`); what they work on lives in the database. Jobs
read the App's clock to decide what is due; the scheduler's own timer only says when to look.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.errors import log_incident
from bot.scheduling.leader import Leadership

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
LEASE_JOB = "leader-lease"
Job = Callable[[], Awaitable[object]]


class Scheduler:
    """An AsyncIOScheduler in UTC whose leader-only jobs run only while this process holds the lease."""

    def __init__(self, leadership: Leadership, *, lease_seconds: float = 2.0) -> None:
        self.leadership = leadership
        self._aps = AsyncIOScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
        self._leader_jobs: list[str] = []
        self._running: set[str] = set()
        self._again: dict[str, datetime] = {}  # jobs asked to run again while running, and from when
        self.every(LEASE_JOB, lease_seconds, self._renew_lease, leader_only=False)

    @property
    def running(self) -> bool:
        """Whether the scheduler was started and not shut down."""
        return bool(self._aps.running)

    def every(self, job_id: str, seconds: float, job: Job, *, leader_only: bool = True) -> None:
        """Run `job` every `seconds`, starting now (replacing any job of that id)."""
        if leader_only and job_id not in self._leader_jobs:
            self._leader_jobs.append(job_id)
        self._aps.add_job(
            self._guarded(job_id, job, leader_only),
            "interval",
            seconds=seconds,
            id=job_id,
            replace_existing=True,
            next_run_time=datetime.now(UTC),
        )

    def run_soon(self, job_id: str, delay: float = 0.0) -> None:
        """Bring the job's next run forward to `delay` seconds from now (never later than already planned).

        Asked while the job runs (a burst of new work wakes it again and again), it runs once more after this
        run ends, instead of APScheduler skipping (and logging) every run it cannot start beside the running one.
        """
        job = self._aps.get_job(job_id)
        if job is None:
            return
        when = datetime.now(UTC) + timedelta(seconds=delay)
        if job_id in self._running:
            self._again[job_id] = min(when, self._again.get(job_id, when))
            return
        if job.next_run_time is None or when < job.next_run_time:
            job.modify(next_run_time=when)

    def start(self) -> None:
        """Start the timers (inside the running event loop)."""
        self._aps.start()

    async def shutdown(self) -> None:
        """Stop the timers and give up the lease."""
        if self._aps.running:
            self._aps.shutdown(wait=False)
        await self.leadership.release()

    def _guarded(self, job_id: str, job: Job, leader_only: bool) -> Job:
        body = guarded(job_id, job)

        async def run() -> None:
            if leader_only and not self.leadership.is_leader:
                return
            self._running.add(job_id)
            try:
                await body()
            finally:
                # APScheduler counts the run as finished in its own done callback on the job's task, which was
                # added first: this one comes after it.
                task = asyncio.current_task()
                assert task is not None  # a coroutine always runs in a task
                task.add_done_callback(lambda _: self._finished(job_id))

        return run

    def _finished(self, job_id: str) -> None:
        self._running.discard(job_id)
        again = self._again.pop(job_id, None)
        if again is not None and self._aps.running:
            self.run_soon(job_id, max((again - datetime.now(UTC)).total_seconds(), 0.0))

    async def _renew_lease(self) -> None:
        was_leader = self.leadership.is_leader
        if await self.leadership.refresh() and not was_leader:
            log.info("this process now runs the scheduled work")
            for job_id in self._leader_jobs:
                self.run_soon(job_id)
        elif was_leader and not self.leadership.is_leader:
            log.warning("this process lost the scheduler lease; another process takes over")


def guarded(name: str, job: Job) -> Callable[[], Awaitable[None]]:
    """A job body that logs its own errors with an incident id, so one failure never stops its schedule."""

    async def run() -> None:
        try:
            await job()
        except Exception as error:
            log_incident(f"job {name}", error)
        except asyncio.CancelledError:
            # Only a shutdown cancels a running job; re-raised, APScheduler would log it as a failure.
            log.info("job %s was stopped while running", name)

    return run
