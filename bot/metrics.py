"""The bot's health as Prometheus metrics, served at `/metrics` by the optional web server.

Each scrape takes one look (`bot.health.look`) and reports it; nothing is counted in between, so several
processes behind one scraper each report their own view and the shared database's figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.health import Health

PREFIX = "codeforall"


@dataclass(frozen=True, slots=True)
class Gateway:
    """This process's connection to Discord."""

    latency_seconds: float
    shard_ids: tuple[int, ...]
    shard_count: int
    guilds: int


class _Snapshot(Collector):
    """One look's figures as metric families."""

    def __init__(self, health: Health, gateway: Gateway | None) -> None:
        self._health, self._gateway = health, gateway

    def collect(self) -> Iterator[Metric]:
        health = self._health
        yield InfoMetricFamily(f"{PREFIX}_build", "The bot's version.", value={"version": health.version})
        figures: list[tuple[str, str, float]] = [
            ("uptime_seconds", "Seconds since this process started.", health.uptime_seconds),
            ("scheduler_leader", "1 when this process runs the scheduled work, 0 when it stands by.", health.leader),
            ("database_round_trip_seconds", "Time of a trivial query.", health.database_ms / 1000),
            ("outbox_backlog", "Posts due and not yet delivered.", health.backlog),
            ("outbox_failed", "Posts that failed for good.", health.failed_deliveries),
            ("feeds", "Feeds followed.", health.feeds),
            ("feeds_failing", "Feeds whose last polls failed.", health.feeds_failing),
            ("feeds_stopped", "Feeds stopped after failing too long.", health.feeds_disabled),
            ("calendars_failing", "Calendars whose last polls failed.", health.calendars_failing),
        ]
        if health.oldest_due is not None:
            figures.append(
                (
                    "outbox_oldest_due_timestamp_seconds",
                    "When the oldest waiting post fell due.",
                    health.oldest_due.timestamp(),
                )
            )
        if self._gateway is not None:
            figures += [
                (
                    "gateway_latency_seconds",
                    "Heartbeat round trip to Discord's gateway.",
                    self._gateway.latency_seconds,
                ),
                ("guilds", "Servers this process serves.", self._gateway.guilds),
                ("shard_count", "Shards of the whole bot.", self._gateway.shard_count),
                ("shards_here", "Shards this process runs.", len(self._gateway.shard_ids)),
            ]
        for name, documentation, value in figures:
            yield GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=float(value))


def exposition(health: Health, gateway: Gateway | None = None) -> bytes:
    """The figures in Prometheus's text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(health, gateway))
    return generate_latest(registry)
