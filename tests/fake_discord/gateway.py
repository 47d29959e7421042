"""The gateway websocket: HELLO, heartbeats, IDENTIFY -> READY + GUILD_CREATE, RESUME with replay, shards.

Frames are plain JSON text: discord.py asks for zlib-stream but only inflates binary frames. Every
dispatch of a session is kept, so a RESUME after a dropped connection replays exactly the ones the
client missed, as Discord does; that is what makes reconnect tests meaningful.

Several connections may be open at once, one per shard, from one process or several. Each IDENTIFY's
`shard` [id, count] starts a session for that shard, whose READY and GUILD_CREATEs name only its servers,
and each server's events go to the session(s) Discord would send them to: shard (server id >> 22) % count.
Events outside any server (direct messages) go to shard 0, as on Discord.
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
INVALID_SHARD = 4010


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a server's events to."""
    return (guild_id >> 22) % shard_count


class Session:
    """One shard's session: its dispatches, numbered for RESUME, and the socket it is live on (if any)."""

    def __init__(self, shard: tuple[int, int]) -> None:
        self.shard = shard
        self.session_id = secrets.token_hex(16)
        self.seq = 0
        self.frames: list[dict[str, Any]] = []
        self.ws: web.WebSocketResponse | None = None
        self.live = False  # identified or resumed on `ws`, so dispatches go out at once

    def serves(self, guild_id: int | None) -> bool:
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else shard_of(guild_id, count))


class Gateway:
    def __init__(
        self, url: str, token: str, changed: Callable[[], Any], heartbeat_interval_ms: int = 41250
    ) -> None:
        self.url, self.token, self._changed = url, token, changed
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.servers: list[int] = [b.GUILD_ID, b.OTHER_GUILD_ID]  # the servers the bot is in
        self.identifies: list[dict[str, Any]] = []  # the IDENTIFY payloads (intents, shard...)
        self.resumes = 0
        self.replayed = 0  # dispatches sent again on RESUME
        self.sessions: dict[tuple[int, int], Session] = {}  # by shard [id, count]; the latest IDENTIFY's
        self.delivered: list[tuple[str, tuple[int, int]]] = []  # (event, shard) per dispatch, in order
        self._sockets: set[web.WebSocketResponse] = set()
        # One lock orders live sends and replays, so a dispatch racing a RESUME is neither lost nor doubled.
        self._lock = asyncio.Lock()

    @property
    def intents(self) -> int:
        return int(self.identifies[-1].get("intents", 0)) if self.identifies else 0

    @property
    def shards(self) -> list[tuple[int, int]]:
        """The shards [id, count] identified so far, in order."""
        return [tuple(d.get("shard") or (0, 1)) for d in self.identifies]  # type: ignore[misc]

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        await self._send(ws, {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        session: Session | None = None
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    session = await self._on_frame(ws, session, json.loads(msg.data)) or session
        finally:
            self._sockets.discard(ws)
            if session is not None and session.ws is ws:
                session.ws, session.live = None, False
        return ws

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Sends an event to the sessions of the shard that owns its server: at once on a live socket,
        else kept for the RESUME replay. Returns how many sessions it went to (0: no shard connected for
        that server, and Discord would drop it)."""
        guild = data.get("guild_id")
        async with self._lock:
            owners = [s for s in self.sessions.values() if s.serves(int(guild) if guild else None)]
            for session in owners:
                await self._dispatch_locked(session, event, data)
        return len(owners)

    async def drop(self, close_code: int) -> None:
        """Closes every open connection (a network blip); each shard reconnects and RESUMEs."""
        sockets = [s.ws for s in self.sessions.values() if s.ws is not None]
        if not sockets:
            raise AssertionError("no gateway connection to drop: has the bot connected?")
        async with self._lock:
            for session in self.sessions.values():
                session.live = False
        for ws in sockets:
            await ws.close(code=close_code, message=b"dropped by the test")

    async def close(self) -> None:
        """A fatal close code, so a bot a failed test left running stops rather than reconnecting forever
        (a reconnecting AutoShardedBot never lets pytest-asyncio's loop shut down)."""
        for ws in list(self._sockets):
            await ws.close(code=4004, message=b"fake Discord closed")

    async def _on_frame(
        self, ws: web.WebSocketResponse, session: Session | None, frame: dict[str, Any]
    ) -> Session | None:
        """Answers one frame; returns the session the connection now carries, if it changed."""
        op, d = frame.get("op"), frame.get("d") or {}
        if op == HEARTBEAT:
            await self._send(ws, {"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            return await self._identify(ws, d)
        elif op == RESUME:
            return await self._resume(ws, d)
        elif op == REQUEST_MEMBERS and session is not None:
            guild_id = int(d.get("guild_id") or b.GUILD_ID)
            chunk = {
                "guild_id": str(guild_id),
                "members": b.guild_create(guild_id)["members"],
                "chunk_index": 0,
            }
            async with self._lock:
                payload = {**chunk, "chunk_count": 1, "nonce": d.get("nonce")}
                await self._dispatch_locked(session, "GUILD_MEMBERS_CHUNK", payload)
        return None

    async def _identify(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> Session | None:
        if d.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        shard_id, count = d.get("shard") or (0, 1)
        if not 0 <= shard_id < count:
            await ws.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return None
        async with self._lock:
            session = Session((shard_id, count))
            self.sessions[session.shard] = session
            session.ws, session.live = ws, True
            servers = [g for g in self.servers if session.serves(g)]
            await self._dispatch_locked(
                session, "READY", b.ready(session.session_id, self.url, [shard_id, count], servers)
            )
            for guild_id in servers:
                await self._dispatch_locked(session, "GUILD_CREATE", b.guild_create(guild_id))
            self.identifies.append(d)  # last: wait_identified() means READY and GUILD_CREATE went out
        self._changed()
        return session

    async def _resume(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> Session | None:
        async with self._lock:
            session = next((s for s in self.sessions.values() if s.session_id == d.get("session_id")), None)
            if session is None or d.get("token") != self.token:
                await self._send(ws, {"op": INVALID_SESSION, "d": False})
                return None
            missed = [f for f in session.frames if f["s"] > (d.get("seq") or 0)]
            for frame in missed:
                await self._send(ws, frame)
            self.replayed += len(missed)
            self.resumes += 1
            session.ws, session.live = ws, True
            await self._dispatch_locked(session, "RESUMED", {})
        self._changed()
        return session

    async def _dispatch_locked(self, session: Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.frames.append(frame)
        self.delivered.append((event, session.shard))
        if session.live and session.ws is not None and not await self._send(session.ws, frame):
            session.live = False  # the socket is going away; the frame waits for the RESUME

    @staticmethod
    async def _send(ws: web.WebSocketResponse, frame: dict[str, Any]) -> bool:
        if ws.closed:
            return False
        try:
            await ws.send_str(json.dumps({"s": None, "t": None, **frame}))
        except ConnectionError:
            return False
        return True
