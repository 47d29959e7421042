"""The gateway websocket: HELLO, heartbeats, IDENTIFY -> READY + GUILD_CREATE, RESUME with replay.

Frames are plain JSON text: discord.py asks for zlib-stream but only inflates binary frames. Every
dispatch of the session is kept, so a RESUME after a dropped connection replays exactly the ones the
client missed, as Discord does; that is what makes reconnect tests meaningful.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from tests.fake_discord import builders as b

HELLO, HEARTBEAT, IDENTIFY, RESUME, REQUEST_MEMBERS, INVALID_SESSION, HEARTBEAT_ACK = 10, 1, 2, 6, 8, 9, 11


class Gateway:
    def __init__(
        self, url: str, token: str, changed: Callable[[], Any], heartbeat_interval_ms: int = 41250
    ) -> None:
        self.url, self.token, self._changed = url, token, changed
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.identifies: list[dict[str, Any]] = []  # the IDENTIFY payloads (intents, shard...)
        self.resumes = 0
        self.replayed = 0  # dispatches sent again on RESUME
        self.session_id: str | None = None
        self._seq = 0
        self._frames: list[dict[str, Any]] = []
        self._ws: web.WebSocketResponse | None = None
        self._live = False  # the current socket identified or resumed, so dispatches go out at once
        # One lock orders live sends and replays, so a dispatch racing a RESUME is neither lost nor doubled.
        self._lock = asyncio.Lock()

    @property
    def intents(self) -> int:
        return int(self.identifies[-1].get("intents", 0)) if self.identifies else 0

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws, self._live = ws, False
        await self._send(ws, {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(ws, json.loads(msg.data))
        finally:
            if self._ws is ws:
                self._ws, self._live = None, False
        return ws

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Sends an event now if a session is live; otherwise keeps it for the RESUME replay."""
        async with self._lock:
            await self._dispatch_locked(event, data)

    async def drop(self, close_code: int) -> None:
        ws = self._ws
        if ws is None:
            raise AssertionError("no gateway connection to drop: has the bot connected?")
        async with self._lock:
            self._live = False
        await ws.close(code=close_code, message=b"dropped by the test")

    async def close(self) -> None:
        """A fatal close code, so a bot a failed test left running stops rather than reconnecting forever
        (a reconnecting AutoShardedBot never lets pytest-asyncio's loop shut down)."""
        if self._ws is not None:
            await self._ws.close(code=4004, message=b"fake Discord closed")

    async def _on_frame(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        op, d = frame.get("op"), frame.get("d") or {}
        if op == HEARTBEAT:
            await self._send(ws, {"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            if d.get("token") != self.token:
                await ws.close(code=4004, message=b"Authentication failed.")
                return
            async with self._lock:
                self.session_id, self._seq, self._frames = secrets.token_hex(16), 0, []
                self._live = ws is self._ws
                ready = b.ready(self.session_id, self.url, d.get("shard") or [0, 1])
                await self._dispatch_locked("READY", ready)
                for guild_id in (b.GUILD_ID, b.OTHER_GUILD_ID):
                    await self._dispatch_locked("GUILD_CREATE", b.guild_create(guild_id))
                self.identifies.append(d)  # last: wait_identified() means READY and GUILD_CREATE went out
            self._changed()
        elif op == RESUME:
            await self._resume(ws, d)
        elif op == REQUEST_MEMBERS:
            chunk = {"guild_id": str(b.GUILD_ID), "members": b.guild_create()["members"], "chunk_index": 0}
            await self.dispatch("GUILD_MEMBERS_CHUNK", {**chunk, "chunk_count": 1, "nonce": d.get("nonce")})

    async def _resume(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> None:
        async with self._lock:
            if (
                self.session_id is None
                or d.get("session_id") != self.session_id
                or d.get("token") != self.token
            ):
                await self._send(ws, {"op": INVALID_SESSION, "d": False})
                return
            missed = [f for f in self._frames if f["s"] > (d.get("seq") or 0)]
            for frame in missed:
                await self._send(ws, frame)
            self.replayed += len(missed)
            self.resumes += 1
            self._live = ws is self._ws
            await self._dispatch_locked("RESUMED", {})
        self._changed()

    async def _dispatch_locked(self, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        frame = {"op": 0, "t": event, "s": self._seq, "d": data}
        self._frames.append(frame)
        if self._live and self._ws is not None and not await self._send(self._ws, frame):
            self._live = False  # the socket is going away; the frame waits for the RESUME

    @staticmethod
    async def _send(ws: web.WebSocketResponse, frame: dict[str, Any]) -> bool:
        if ws.closed:
            return False
        try:
            await ws.send_str(json.dumps({"s": None, "t": None, **frame}))
        except ConnectionError:
            return False
        return True
