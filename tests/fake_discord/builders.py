"""Discord wire payloads (API v10), built as plain dicts.

These are what Discord itself sends, not discord.py objects, so the bot under test parses them with its
own code. Ids are fixed so tests can name them; each builder fills the keys discord.py reads without a
default (leaving one out raises a KeyError deep inside the gateway parser, far from the test).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

Payload = dict[str, Any]

APPLICATION_ID = 1_100_000_000_000_000_001
# Distinct from APPLICATION_ID (new apps share the two), so code that mixes them up fails here.
BOT_USER_ID = 1_100_000_000_000_000_002
GUILD_ID = 1_100_000_000_000_000_010
MODERATOR_ROLE_ID = 1_100_000_000_000_000_011
CHANNEL_ID = 1_100_000_000_000_000_020
HELP_CHANNEL_ID = 1_100_000_000_000_000_021
DM_CHANNEL_ID = 1_100_000_000_000_000_022
OWNER_ID = 1_100_000_000_000_000_030
# A second server the bot is in, with one channel: its admins are not careerbot's moderators.
OTHER_GUILD_ID = 1_100_000_000_000_000_040
OTHER_CHANNEL_ID = 1_100_000_000_000_000_041
DEFAULT_USER_ID = 1_100_000_000_000_000_031
# More servers, for sharding tests (server_on_shard): ids from here on, each with one channel, id + 1.
SERVER_BASE = (1_200_000_000_000_000_000 >> 22) << 22
_MAX_SERVERS = 1 << 20

# Permission bits: view, send, embed links, attach files, read history, add reactions, use app commands,
# send in threads. The bot gets only these, as in a server that follows least privilege.
EVERYONE_PERMISSIONS = (
    (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 6) | (1 << 31) | (1 << 38)
)
# Manage messages, manage guild, kick, moderate members.
MODERATOR_PERMISSIONS = EVERYONE_PERMISSIONS | (1 << 13) | (1 << 5) | (1 << 1) | (1 << 40)
JOINED_AT = "2024-01-01T00:00:00+00:00"

_DISCORD_EPOCH_MS = 1_420_070_400_000
_counter = itertools.count()


def snowflake() -> int:
    """A fresh id that, like Discord's, encodes the current time (discord.py derives created_at from it)."""
    return ((int(time.time() * 1000) - _DISCORD_EPOCH_MS) << 22) | (next(_counter) % (1 << 22))


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def user(id: int = DEFAULT_USER_ID, name: str = "alice", bot: bool = False) -> Payload:
    return {
        "id": str(id),
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def member(
    user_payload: Payload | None = None,
    roles: list[int] | None = None,
    nick: str | None = None,
    permissions: int | None = None,
) -> Payload:
    """A guild member; `permissions` is what interactions carry (the OR of its roles' permissions)."""
    role_ids = roles or []
    if permissions is None:
        permissions = MODERATOR_PERMISSIONS if MODERATOR_ROLE_ID in role_ids else EVERYONE_PERMISSIONS
    return {
        "user": user_payload or user(),
        "roles": [str(r) for r in role_ids],
        "nick": nick,
        "joined_at": JOINED_AT,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "permissions": str(permissions),
    }


def moderator(id: int = DEFAULT_USER_ID + 1, name: str = "mod") -> Payload:
    return member(user(id, name), roles=[MODERATOR_ROLE_ID])


def server_admin(id: int = DEFAULT_USER_ID + 2, name: str = "admin") -> Payload:
    """A member with Manage Server (through a role of their own server), e.g. the other server's owner."""
    return member(user(id, name), permissions=MODERATOR_PERMISSIONS)


def bot_user() -> Payload:
    return {**user(BOT_USER_ID, "careerbot", bot=True), "verified": True, "mfa_enabled": False, "flags": 0}


def role(id: int, name: str, permissions: int, position: int) -> Payload:
    return {"id": str(id), "name": name, "permissions": str(permissions), "position": position}


def text_channel(id: int, name: str, position: int, guild_id: int = GUILD_ID) -> Payload:
    return {"id": str(id), "type": 0, "guild_id": str(guild_id), "name": name, "position": position}


def server_on_shard(shard_id: int, shard_count: int) -> int:
    """A server whose events Discord sends to shard `shard_id` of `shard_count` ((id >> 22) % count).
    Its one channel, "general", has the server's id + 1."""
    first = SERVER_BASE >> 22
    return (first + (shard_id - first) % shard_count) << 22


def _is_extra_server(guild_id: int) -> bool:
    return guild_id % (1 << 22) == 0 and 0 <= (guild_id - SERVER_BASE) >> 22 < _MAX_SERVERS


def channels(guild_id: int = GUILD_ID) -> list[Payload]:
    if guild_id == OTHER_GUILD_ID:
        return [text_channel(OTHER_CHANNEL_ID, "general", 0, OTHER_GUILD_ID)]
    if _is_extra_server(guild_id):
        return [text_channel(guild_id + 1, "general", 0, guild_id)]
    return [text_channel(CHANNEL_ID, "general", 0), text_channel(HELP_CHANNEL_ID, "ml-help", 1)]


def guild_of(channel_id: int) -> int:
    if channel_id == OTHER_CHANNEL_ID:
        return OTHER_GUILD_ID
    return channel_id - 1 if _is_extra_server(channel_id - 1) else GUILD_ID


def guild_create(guild_id: int = GUILD_ID) -> Payload:
    """One guild: @everyone (id = guild id), a moderator role (the main guild), text channels, the bot
    as a member. Keys discord.py reads with a default are left out."""
    everyone = role(guild_id, "@everyone", EVERYONE_PERMISSIONS, 0)
    roles = [everyone]
    if guild_id == GUILD_ID:
        roles.append(role(MODERATOR_ROLE_ID, "moderator", MODERATOR_PERMISSIONS, 1))
    empty: dict[str, list[Any]] = {
        k: [] for k in ("threads", "stage_instances", "guild_scheduled_events", "soundboard_sounds")
    }
    return {
        "id": str(guild_id),
        "name": "Careers" if guild_id == GUILD_ID else "Elsewhere",
        "owner_id": str(OWNER_ID),
        "unavailable": False,
        "member_count": 2,
        "roles": roles,
        "channels": channels(guild_id),
        "members": [member(bot_user())],
        **empty,
    }


def ready(session_id: str, resume_gateway_url: str, shard: list[int], guilds: list[int]) -> Payload:
    """READY for one shard: `guilds` are the servers of that shard, sent as GUILD_CREATE after it."""
    return {
        "v": 10,
        "user": bot_user(),
        "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
        "session_id": session_id,
        "resume_gateway_url": resume_gateway_url,
        "application": {"id": str(APPLICATION_ID), "flags": 1 << 19},  # GATEWAY_MESSAGE_CONTENT_LIMITED
        "shard": shard,
        "private_channels": [],
        "relationships": [],
    }


def application_info() -> Payload:
    return {
        "id": str(APPLICATION_ID),
        "name": "careerbot",
        "description": "",
        "icon": None,
        "bot_public": False,
        "bot_require_code_grant": False,
        "owner": user(OWNER_ID, "owner"),
        "verify_key": "0" * 64,
        "flags": 1 << 19,
        "bot": bot_user(),
    }


def message(content: str, *, author: Payload, channel_id: int = CHANNEL_ID, **extra: Any) -> Payload:
    """A message as the gateway and REST return it; `extra` adds or overrides keys (embeds, flags...)."""
    payload: Payload = {
        "id": str(snowflake()),
        "type": 0,
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": False,
        "flags": 0,
    }
    if channel_id != DM_CHANNEL_ID:
        payload["guild_id"] = str(guild_of(channel_id))
    payload.update(extra)
    return payload


def attachment(filename: str) -> Payload:
    url = f"https://cdn.discordapp.com/attachments/{CHANNEL_ID}/{snowflake()}/{filename}"
    return {"id": str(snowflake()), "filename": filename, "size": 0, "url": url, "proxy_url": url}


def interaction(
    type: int, data: Payload, *, actor: Payload, channel_id: int, guild: bool, **extra: Any
) -> Payload:
    """INTERACTION_CREATE. `actor` is a member (guild) or user (DM) payload; either is accepted."""
    as_member = actor if "user" in actor else member(actor)
    iid = snowflake()
    payload: Payload = {
        "id": str(iid),
        "application_id": str(APPLICATION_ID),
        "type": type,
        "token": f"itoken-{iid}",
        "version": 1,
        "data": data,
        "locale": "en-US",
        "app_permissions": str(EVERYONE_PERMISSIONS),
        "attachment_size_limit": 10 * 1024 * 1024,
        "entitlements": [],
    }
    if guild:
        guild_id = guild_of(channel_id)
        channel = next(c for c in channels(guild_id) if int(c["id"]) == channel_id)
        payload |= {
            "guild_id": str(guild_id),
            "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
            "guild_locale": "en-US",
            "channel": {**channel, "permissions": as_member["permissions"]},
            "member": as_member,
            "context": 0,
            "authorizing_integration_owners": {"0": str(guild_id)},
        }
    else:
        dm = {"id": str(DM_CHANNEL_ID), "type": 1, "recipients": [as_member["user"]]}
        payload |= {
            "channel": dm,
            "user": as_member["user"],
            "context": 1,
            "authorizing_integration_owners": {"0": str(APPLICATION_ID)},
        }
    payload.update(extra)
    return payload
