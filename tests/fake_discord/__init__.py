"""A fake Discord (REST + gateway on 127.0.0.1) that a real discord.py client talks to; see plugin.py."""

from tests.fake_discord.builders import member, moderator, server_admin, user
from tests.fake_discord.interaction import FakeInteraction
from tests.fake_discord.server import FakeDiscord, RecordedRequest

__all__ = ["FakeDiscord", "FakeInteraction", "RecordedRequest", "member", "moderator", "server_admin", "user"]
