"""pytest fixtures: a fake Discord per test, and failing a test on ERROR logs.

Enable with `pytest_plugins = ["tests.fake_discord.plugin"]` in the root tests/conftest.py.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import discord
import pytest
import pytest_asyncio

from tests.fake_discord.server import FakeDiscord


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started fake Discord. The test (or the bot, from its settings) points discord.py at `api_base`
    and `gateway_url`; both are process-wide, so they are put back afterwards. Tear down the bot first
    (a fixture that depends on this one is torn down before it). Fails the test on recorded violations."""
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    fake = FakeDiscord()
    await fake.start()
    try:
        yield fake
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
        await fake.close()
    if fake.violations:
        pytest.fail(
            "Discord would have refused:\n" + "\n".join(f"  {v}" for v in fake.violations), pytrace=False
        )


class ErrorLogCollector(logging.Handler):
    """Collects log records at ERROR and above. discord.py catches exceptions raised in commands, views
    and event handlers and only logs them, so without this a broken command looks like a timeout."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def check(self) -> None:
        if self.records:
            text = "\n".join(self.format(r) for r in self.records)
            pytest.fail(f"{len(self.records)} log record(s) at ERROR or above:\n{text}", pytrace=False)


@pytest.fixture
def fail_on_error_logs() -> Iterator[ErrorLogCollector]:
    """Fails the test if anything logged at ERROR or above. Use it with
    `@pytest.mark.usefixtures("fail_on_error_logs")` (listed first, it outlives the bot's teardown); a test
    that expects an error log asserts on `.records` and then clears them."""
    collector = ErrorLogCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        yield collector
    finally:
        root.removeHandler(collector)
    collector.check()
