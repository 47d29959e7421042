"""A fake Discord on 127.0.0.1: the REST API a bot uses and the gateway, in one aiohttp app.

The bot talks to it through discord.py's own HTTP and websocket code, so the tests cover what unit
tests with mocks cannot: payload shapes, the interaction callback flow, rate limits and reconnects.
Whatever real Discord would refuse (a late or double acknowledgement, a body over the size limits, an
unknown route) is answered with Discord's error and recorded in `violations`, which fails the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fake_discord import builders as b
from tests.fake_discord.actions import UserActions
from tests.fake_discord.gateway import Gateway
from tests.fake_discord.interaction import FakeInteraction
from tests.fake_discord.limits import choice_problems, message_problems

log = logging.getLogger(__name__)
Payload = dict[str, Any]
Handler = Callable[["RecordedRequest", "re.Match[str]"], Any]
LOADING, EPHEMERAL = 1 << 7, 1 << 6
# Which callback types Discord accepts for each interaction type.
CALLBACK_TYPES = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


@dataclass
class RecordedRequest:
    method: str
    path: str  # after the API base: /channels/1/messages
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    files: list[str] = field(default_factory=list)
    status: int = 0
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Fault:
    method: str
    path: re.Pattern[str]
    status: int
    retry_after: float | None


class DiscordError(Exception):
    """Becomes Discord's JSON error body; `violation` also fails the test, since the bot caused it."""

    def __init__(self, status: int, code: int, message: str, violation: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.violation = status, code, message, violation


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Exactly `application/json`: discord.py compares the header verbatim, and aiohttp's json_response
    appends `; charset=utf-8`, after which discord.py treats every body as text."""
    body = json.dumps(data).encode()
    return web.Response(
        body=body, status=status, headers={"Content-Type": "application/json", **(headers or {})}
    )


class FakeDiscord(UserActions):
    application_id = b.APPLICATION_ID
    bot_user_id = b.BOT_USER_ID
    guild_id = b.GUILD_ID
    channel_id = b.CHANNEL_ID
    help_channel_id = b.HELP_CHANNEL_ID
    other_guild_id = b.OTHER_GUILD_ID  # a second server the bot is in, not a moderation server
    other_channel_id = b.OTHER_CHANNEL_ID
    moderator_role_id = b.MODERATOR_ROLE_ID
    token = "fake-bot-token"

    def __init__(self, ack_deadline: float = 3.0) -> None:
        self.ack_deadline = ack_deadline
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.messages: dict[int, Payload] = {}  # every message, by id, as it stands now
        self.channel_messages: dict[int, list[Payload]] = {}  # created with POST /channels/{id}/messages
        self.interactions: dict[str, FakeInteraction] = {}  # by token
        self.commands: dict[int | None, list[Payload]] = {}  # as echoed, with ids; key None = global
        self.synced_payloads: dict[int | None, list[Payload]] = {}  # the last PUT body, for snapshots
        self.port = 0
        self.recommended_shards = 1  # GET /gateway/bot's advice, which shard_count "auto" follows
        self._faults: list[_Fault] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.gateway = Gateway("", self.token, self._notify)
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (methods, re.compile(pattern), handler)
            for methods, pattern, handler in [
                ("GET", r"/users/@me", lambda r, m: b.bot_user()),
                ("GET", r"/oauth2/applications/@me", lambda r, m: b.application_info()),
                ("GET", r"/gateway", lambda r, m: {"url": self.gateway_url}),
                ("GET", r"/gateway/bot", self._gateway_bot),
                ("GET|PUT", r"/applications/(?P<app>\d+)(?:/guilds/(?P<guild>\d+))?/commands", self._commands),
                ("POST", r"/interactions/(?P<id>\d+)/(?P<token>[^/]+)/callback", self._callback),
                ("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", self._followup),
                ("GET|PATCH|DELETE", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
                 self._webhook_message),
                ("POST", r"/channels/(?P<channel>\d+)/messages", self._create_message),
                ("PATCH|DELETE", r"/channels/(?P<channel>\d+)/messages/(?P<mid>\d+)", self._channel_message),
                ("POST", r"/channels/(?P<channel>\d+)/typing", lambda r, m: None),
            ]
        ]  # fmt: skip

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.gateway.url = self.gateway_url  # READY's resume_gateway_url

    async def close(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def dispatch(self, event: str, data: Payload) -> None:
        await self.gateway.dispatch(event, data)

    def add_server(self, shard_id: int, shard_count: int) -> tuple[int, int]:
        """The bot joins one more server, on that shard: (server id, its channel id). Sharded bots that
        connect after this get it in their READY; post or run commands in it with channel_id=."""
        guild_id = b.server_on_shard(shard_id, shard_count)
        if guild_id not in self.gateway.servers:
            self.gateway.servers.append(guild_id)
        return guild_id, int(b.channels(guild_id)[0]["id"])

    async def wait_identified(self, timeout: float = 5.0, shards: int = 1) -> None:
        """The client (or, with `shards`, that many shard connections in all) sent IDENTIFY and was sent
        READY and its GUILD_CREATEs."""
        await self.wait_until(
            lambda: len(self.gateway.identifies) >= shards, timeout, f"{shards} IDENTIFY(s)"
        )

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "it") -> None:
        """Waits until `predicate()` holds: checked on every request and gateway event, and every 20 ms
        for predicates on other state (log records, the bot's own objects)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = "\n".join(f"  {r.method} {r.path} -> {r.status}" for r in self.requests[-8:])
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}; last requests:\n{recent or '  none'}\n"
                    f"violations: {self.violations}"
                )
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.02))

    async def wait_messages(self, channel_id: int, count: int = 1, timeout: float = 5.0) -> list[Payload]:
        """The first `count` messages the bot created in a channel (POST /channels/{id}/messages)."""
        created = self.channel_messages.setdefault(channel_id, [])
        await self.wait_until(lambda: len(created) >= count, timeout, f"{count} message(s) in {channel_id}")
        return [self.messages.get(int(m["id"]), m) for m in created[:count]]

    async def drop_connection(self, close_code: int = 4000) -> None:
        """Closes the gateway socket; discord.py reconnects and RESUMEs, and missed events are replayed."""
        await self.gateway.drop(close_code)

    def fail_next(self, method: str, path_regex: str, status: int, retry_after: float | None = None) -> None:
        """The next request matching (`re.search` on the path after the API base) gets `status`."""
        self._faults.append(_Fault(method.upper(), re.compile(path_regex), status, retry_after))

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _violate(self, text: str) -> None:
        log.warning("fake Discord: %s", text)
        self.violations.append(text)

    # REST

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        rec = RecordedRequest(request.method, path, dict(request.query), None, dict(request.headers))
        self.requests.append(rec)
        try:
            await self._read_body(request, rec)
            response = self._injected_fault(rec) or self._route(rec)
        except DiscordError as exc:
            if exc.violation:
                self._violate(f"{rec.method} {rec.path}: {exc.violation}")
            response = json_response({"message": exc.message, "code": exc.code}, exc.status)
        except Exception as exc:
            # A body the fake cannot digest: a 400 fails fast, where a 500 costs discord.py's retries.
            log.exception("fake Discord failed on %s %s", rec.method, rec.path)
            self.violations.append(f"{rec.method} {rec.path}: the fake crashed on the request: {exc!r}")
            response = json_response({"message": "Invalid Form Body", "code": 50035}, 400)
        rec.status = response.status
        self._notify()
        return response

    async def _read_body(self, request: web.Request, rec: RecordedRequest) -> None:
        if not request.body_exists:
            return
        if request.content_type == "multipart/form-data":
            form = await request.post()
            rec.files = [f.filename for f in form.values() if isinstance(f, web.FileField)]
            payload = form.get("payload_json")
            rec.json = json.loads(payload) if isinstance(payload, str) else None
            return
        text = await request.text()
        if request.content_type != "application/json":
            raise DiscordError(
                400,
                50109,
                "The request body contains invalid JSON.",
                f"body sent as {request.headers.get('Content-Type')!r}, not application/json",
            )
        try:
            rec.json = json.loads(text)
        except ValueError:
            raise DiscordError(
                400, 50109, "The request body contains invalid JSON.", "invalid JSON"
            ) from None

    def _injected_fault(self, rec: RecordedRequest) -> web.Response | None:
        fault = next((f for f in self._faults if f.method == rec.method and f.path.search(rec.path)), None)
        if fault is None:
            return None
        self._faults.remove(fault)
        if fault.status != 429:
            return json_response(
                {"message": f"{fault.status}: injected by the test", "code": 0}, fault.status
            )
        wait = fault.retry_after if fault.retry_after is not None else 0.1
        headers = {
            "Via": "1.1 google",  # without it discord.py takes a 429 for a Cloudflare ban and gives up
            "Retry-After": str(math.ceil(wait)),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + wait:.3f}",
            "X-RateLimit-Reset-After": f"{wait:.3f}",
            "X-RateLimit-Bucket": "fake-bucket",
            "X-RateLimit-Scope": "user",
        }
        body = {"message": "You are being rate limited.", "retry_after": wait, "global": False}
        return json_response(body, 429, headers)

    def _route(self, rec: RecordedRequest) -> web.Response:
        for methods, pattern, handler in self._routes:
            match = pattern.fullmatch(rec.path)
            if match and re.fullmatch(methods, rec.method):
                webhookish = rec.path.startswith(("/interactions/", "/webhooks/"))
                if not webhookish and rec.headers.get("Authorization") != f"Bot {self.token}":
                    raise DiscordError(401, 0, "401: Unauthorized")
                data = handler(rec, match)
                return web.Response(status=204) if data is None else json_response(data)
        raise DiscordError(404, 0, "404: Not Found", "the fake Discord has no such route")

    def _gateway_bot(self, rec: RecordedRequest, m: re.Match[str]) -> Payload:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return {"url": self.gateway_url, "shards": self.recommended_shards, "session_start_limit": limit}

    def _commands(self, rec: RecordedRequest, m: re.Match[str]) -> list[Payload]:
        if int(m["app"]) != self.application_id:
            raise DiscordError(403, 50001, "Missing Access", "commands synced for another application")
        if m["guild"] is not None and int(m["guild"]) not in self.gateway.servers:
            # Not a bug of the bot's: an operator listed a server careerbot is not in.
            raise DiscordError(403, 50001, "Missing Access")
        key = int(m["guild"]) if m["guild"] else None
        if rec.method == "PUT":
            known = {(c["name"], c.get("type", 1)): c["id"] for c in self.commands.get(key, [])}
            self.synced_payloads[key] = rec.json
            self.commands[key] = [
                {
                    "description": "",
                    **c,
                    "id": known.get((c["name"], c.get("type", 1)), str(b.snowflake())),
                    "application_id": str(self.application_id),
                    "version": str(b.snowflake()),
                    **({"guild_id": str(key)} if key else {}),
                }
                for c in rec.json
            ]
        return self.commands.get(key, [])

    def _callback(self, rec: RecordedRequest, m: re.Match[str]) -> Payload | None:
        inter = self.interactions.get(m["token"])
        if inter is None or str(inter.id) != m["id"]:
            raise DiscordError(404, 10062, "Unknown interaction", "callback for an interaction never sent")
        if inter.callback is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.", "acknowledged twice")
        late = time.monotonic() - inter.created_at
        if late > self.ack_deadline:
            raise DiscordError(
                404,
                10062,
                "Unknown interaction",
                f"acknowledged {late:.2f}s after the interaction; Discord allows {self.ack_deadline}s",
            )
        body, kind = rec.json or {}, (rec.json or {}).get("type")
        data = body.get("data") or {}
        problems = choice_problems(data.get("choices") or []) if kind == 8 else message_problems(data)
        if kind not in CALLBACK_TYPES[inter.type]:
            problems.append(f"callback type {kind} is not valid for interaction type {inter.type}")
        if kind in (6, 7) and "message" not in inter.payload:
            problems.append(f"callback type {kind} on an interaction without a message")
        if problems:
            raise DiscordError(400, 50035, "Invalid Form Body", "; ".join(problems))
        inter.callback = body
        message: Payload | None = None
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            message = self._bot_message(data, inter, flags=flags, type=20 if inter.type == 2 else 0)
            inter.original_id = int(message["id"])
            inter.message_ids.append(inter.original_id)
        elif kind in (6, 7):
            inter.original_id = int(inter.payload["message"]["id"])
            if kind == 7:
                message = self._edit(inter.original_id, data)
                inter.message_ids.append(inter.original_id)
        if rec.query.get("with_response") not in ("1", "true", "True"):
            return None
        flags = int((message or {}).get("flags") or 0)
        reply = {
            "id": str(inter.id),
            "type": inter.type,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(flags & EPHEMERAL),
            **({"response_message_id": str(inter.original_id)} if inter.original_id else {}),
        }
        return {"interaction": reply, "resource": {"type": kind, "message": message} if message else None}

    def _interaction_of(self, m: re.Match[str]) -> FakeInteraction:
        inter = self.interactions.get(m["token"])
        if inter is None or int(m["app"]) != self.application_id:
            raise DiscordError(
                404, 10015, "Unknown Webhook", "webhook for an unknown interaction or application"
            )
        if inter.callback is None:
            raise DiscordError(
                404, 10015, "Unknown Webhook", "follow-up or edit before the interaction was acknowledged"
            )
        return inter

    def _followup(self, rec: RecordedRequest, m: re.Match[str]) -> Payload | None:
        inter = self._interaction_of(m)
        data = self._checked(rec.json)
        inter.followup_bodies.append(data)
        original = self.messages.get(inter.original_id or 0)
        if original is not None and original["flags"] & LOADING and len(inter.followup_bodies) == 1:
            # Discord turns the first follow-up after a defer into the deferred reply itself; it keeps the
            # defer's ephemeral flag, so defer() then followup.send(ephemeral=True) is public.
            message = self._edit(int(original["id"]), data)
        else:
            message = self._bot_message(data, inter, flags=int(data.get("flags") or 0))
            inter.message_ids.append(int(message["id"]))
        return message if rec.query.get("wait") in ("1", "true", "True") else None

    def _webhook_message(self, rec: RecordedRequest, m: re.Match[str]) -> Payload | None:
        inter = self._interaction_of(m)
        mid = inter.original_id if m["mid"] == "@original" else int(m["mid"])
        if mid is None or mid not in self.messages or mid not in [inter.original_id, *inter.message_ids]:
            raise DiscordError(404, 10008, "Unknown Message", f"no message {m['mid']} for this interaction")
        return self._message_op(rec, mid)

    def _create_message(self, rec: RecordedRequest, m: re.Match[str]) -> Payload:
        channel_id = int(m["channel"])
        known = [int(c["id"]) for g in self.gateway.servers for c in b.channels(g)]
        if channel_id not in known:
            raise DiscordError(404, 10003, "Unknown Channel", f"message to unknown channel {channel_id}")
        data = self._checked(rec.json)
        extra: Payload = {}
        if ref := data.get("message_reference"):
            extra = {
                "type": 19,
                "message_reference": ref,
                "referenced_message": self.messages.get(int(ref["message_id"])),
            }
        message = self._store(
            self._apply(b.message("", author=b.bot_user(), channel_id=channel_id, **extra), data)
        )
        self.channel_messages.setdefault(channel_id, []).append(message)
        return message

    def _channel_message(self, rec: RecordedRequest, m: re.Match[str]) -> Payload | None:
        message = self.messages.get(int(m["mid"]))
        if (
            message is None
            or message["channel_id"] != m["channel"]
            or message["author"]["id"] != str(self.bot_user_id)
        ):
            raise DiscordError(
                404, 10008, "Unknown Message", f"no bot message {m['mid']} in channel {m['channel']}"
            )
        return self._message_op(rec, int(m["mid"]))

    def _message_op(self, rec: RecordedRequest, mid: int) -> Payload | None:
        if rec.method == "DELETE":
            del self.messages[mid]
            return None
        return self._edit(mid, self._checked(rec.json)) if rec.method == "PATCH" else self.messages[mid]

    @staticmethod
    def _checked(body: Any) -> Payload:
        problems = message_problems(body or {})
        if problems:
            raise DiscordError(400, 50035, "Invalid Form Body", "; ".join(problems))
        return body or {}

    def _bot_message(self, data: Payload, inter: FakeInteraction, *, flags: int, type: int = 0) -> Payload:
        meta = {
            "id": str(inter.id),
            "type": inter.type,
            "user": inter.user,
            "authorizing_integration_owners": inter.payload["authorizing_integration_owners"],
        }
        message = b.message(
            "",
            author=b.bot_user(),
            channel_id=inter.channel_id,
            type=type,
            flags=flags,
            webhook_id=str(self.application_id),
            application_id=str(self.application_id),
            interaction_metadata=meta,
        )
        return self._store(self._apply(message, {k: v for k, v in data.items() if k != "flags"}))

    def _store(self, message: Payload) -> Payload:
        self.messages[int(message["id"])] = message
        return message

    def _edit(self, mid: int, data: Payload) -> Payload:
        message = self._apply(self.messages[mid], data)
        message["flags"] = int(message["flags"]) & ~LOADING
        message["edited_timestamp"] = b.now_iso()
        return message

    @staticmethod
    def _apply(message: Payload, data: Payload) -> Payload:
        """Sets what the bot sent on a stored message; keys it left out keep their value, as in an edit."""
        for key in ("content", "components"):
            if key in data:
                message[key] = data[key] or ("" if key == "content" else [])
        if "attachments" in data:  # new uploads come as {id: index, filename}; kept ones by their id
            kept = {a["id"]: a for a in message["attachments"]}
            message["attachments"] = [
                kept.get(str(a.get("id"))) or b.attachment(a.get("filename", "file"))
                for a in data["attachments"] or []
            ]
        if "embeds" in data:
            message["embeds"] = [{"type": "rich", **e} for e in data["embeds"] or []]
        return message
