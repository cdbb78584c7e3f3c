"""Feed fixtures: the local feed server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.feeds.server import FeedServer


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    """A feed server on 127.0.0.1, stopped after the test."""
    server = FeedServer()
    await server.start()
    yield server
    await server.stop()
