"""One interaction the fake sent to the bot, and what the bot answered to it."""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fake_discord.server import FakeDiscord

Payload = dict[str, Any]


class FakeInteraction:
    def __init__(self, fake: FakeDiscord, payload: Payload) -> None:
        self._fake = fake
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.channel_id = int(payload["channel"]["id"])
        self.user: Payload = payload["member"]["user"] if "member" in payload else payload["user"]
        self.created_at = time.monotonic()  # Discord's 3-second acknowledgement clock starts here
        self.callback: Payload | None = None  # the body of the accepted callback
        self.original_id: int | None = None  # what @original refers to once acknowledged
        self.message_ids: list[int] = []  # the original response message, then follow-ups
        self.followup_bodies: list[Payload] = []

    @property
    def message(self) -> Payload | None:
        """The current version of the first message this interaction produced (the response, or the first
        follow-up), to click() on; None before there is one."""
        return self._fake.messages.get(self.message_ids[0]) if self.message_ids else None

    async def response(self, timeout: float = 3.0) -> Payload:
        """The callback body the bot POSTed: `{"type": 4|5|6|7|8|9, "data": {...}}`."""
        await self._fake.wait_until(lambda: self.callback is not None, timeout, f"a response to {self}")
        assert self.callback is not None
        return self.callback

    async def answer(self, timeout: float = 10.0) -> Payload:
        """What the member ends up seeing: the reply's data, or after a defer (a slow answer, e.g. on a
        busy machine) the first follow-up, which Discord shows in its place."""
        response = await self.response(timeout)
        if response["type"] == 5:
            return (await self.followups(1, timeout))[0]
        data: Payload = response["data"]
        return data

    async def followups(self, count: int = 1, timeout: float = 5.0) -> list[Payload]:
        """The first `count` follow-up bodies (POST /webhooks/{app}/{token})."""
        await self._fake.wait_until(
            lambda: len(self.followup_bodies) >= count, timeout, f"{count} follow-up(s) to {self}"
        )
        return self.followup_bodies[:count]

    async def original(self, timeout: float = 3.0) -> Payload:
        """The original response message as it stands now (after any PATCH .../messages/@original)."""
        await self.response(timeout)
        message = self._fake.messages.get(self.original_id or 0)
        if message is None:
            raise AssertionError(f"{self} has no original message (deleted, or a type 6/8/9 response)")
        return copy.deepcopy(message)

    def __repr__(self) -> str:
        name = self.payload["data"].get("name") or self.payload["data"].get("custom_id")
        return f"<FakeInteraction id={self.id} type={self.type} {name!r}>"
