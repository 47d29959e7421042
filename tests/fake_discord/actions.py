"""What a test's users do: run slash commands, type into autocomplete, click, fill modals, post messages.

Each action sends what the Discord client would, and only what it would allow: a command must have been
synced, options must exist and satisfy their choices and ranges, a button must be on the message and
enabled, a modal must have been shown. A test that asks for the impossible fails here, with the reason,
rather than producing an event real users could never cause.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from tests.fake_discord import builders as b
from tests.fake_discord.interaction import FakeInteraction

if TYPE_CHECKING:
    from tests.fake_discord.gateway import Gateway

Payload = dict[str, Any]
MESSAGE_CONTENT_INTENT = 1 << 15
OPTION_TYPES = {bool: 5, int: 4, float: 10, str: 3}


class UserActions:
    commands: dict[int | None, list[Payload]]
    messages: dict[int, Payload]
    interactions: dict[str, FakeInteraction]
    gateway: Gateway
    guild_id: int
    channel_id: int
    bot_user_id: int

    async def dispatch(self, event: str, data: Payload) -> None:
        raise NotImplementedError

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: Payload | None = None,
        subcommand: str | None = None,
        guild: bool = True,
        channel_id: int | None = None,
        registered_in: int | None = None,
    ) -> FakeInteraction:
        """`subcommand` is "sub" or "group sub". `user` is a user or member payload (builders).
        `channel_id` picks the channel, and so the server (builders.OTHER_CHANNEL_ID: the other one).
        `registered_in` forges what the Discord client never sends: a guild command of that server,
        used from another one (a modified client replaying it); the bot must refuse it itself."""
        server = b.guild_of(channel_id or self.channel_id)
        data, specs = self._command(name, 1, guild, registered_in or server)
        data["options"] = self._options(specs, options or {}, subcommand, focused=None)
        return await self._interact(2, data, user, guild=guild, channel_id=channel_id)

    async def autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        user: Payload | None = None,
        subcommand: str | None = None,
    ) -> list[Payload]:
        """Sends what has been typed so far (`options[focused]`); returns the choices the bot answered."""
        data, specs = self._command(name, 1, True)
        data["options"] = self._options(specs, options, subcommand, focused=focused)
        inter = await self._interact(4, data, user)
        response = await inter.response()
        assert response["type"] == 8, f"autocomplete answered with callback type {response['type']}, not 8"
        choices: list[Payload] = response["data"]["choices"]
        return choices

    async def click(
        self, message: Payload, custom_id: str, *, user: Payload | None = None, channel_id: int | None = None
    ) -> FakeInteraction:
        """`channel_id` of another server forges a replay: that server's member clicking a button
        they can only have copied (its custom_id) from a message in this one."""
        current, _ = self._component(message, custom_id, {2})
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._interact(3, data, user, channel_id=channel_id, message=current)

    async def select(
        self, message: Payload, custom_id: str, values: list[str], *, user: Payload | None = None
    ) -> FakeInteraction:
        current, component = self._component(message, custom_id, {3, 5, 6, 7, 8})
        offered = {o["value"] for o in component.get("options") or []}
        if component["type"] == 3 and not set(values) <= offered:
            raise AssertionError(f"{values} are not all among the options {sorted(offered)}")
        if not component.get("min_values", 1) <= len(values) <= component.get("max_values", 1):
            raise AssertionError(f"{len(values)} values outside min_values/max_values of {custom_id!r}")
        data = {"custom_id": custom_id, "component_type": component["type"], "values": values}
        return await self._interact(3, data, user, message=current)

    async def submit_modal(
        self,
        custom_id: str,
        fields: dict[str, str],
        *,
        user: Payload | None = None,
        channel_id: int | None = None,
    ) -> FakeInteraction:
        """`custom_id` is the shown modal's: `(await interaction.response())["data"]["custom_id"]`.
        `fields` maps text input custom_ids to what the user typed. `channel_id` of another server
        forges a replay of the modal's custom_id from there."""
        shown = [i for i in self.interactions.values() if (i.callback or {}).get("type") == 9]
        modal = next(
            (i for i in reversed(shown) if i.callback and i.callback["data"]["custom_id"] == custom_id), None
        )
        if modal is None or modal.callback is None:
            raise AssertionError(f"no modal {custom_id!r} was shown; shown: {[i.callback for i in shown]}")
        used: set[str] = set()
        components = _answers(modal.callback["data"]["components"], fields, used)
        if unknown := set(fields) - used:
            raise AssertionError(f"the modal has no inputs {sorted(unknown)}")
        extra = {"message": modal.payload["message"]} if "message" in modal.payload else {}
        data = {"custom_id": custom_id, "components": components}
        return await self._interact(5, data, user, channel_id=channel_id, **extra)

    async def context_menu(
        self, name: str, target_message: Payload, *, user: Payload | None = None
    ) -> FakeInteraction:
        """A message context menu command ("Apps" > name on `target_message`)."""
        data, _ = self._command(name, 3, True)
        target = self.messages.get(int(target_message["id"]), target_message)
        data |= {"target_id": target["id"], "resolved": {"messages": {target["id"]: target}}}
        return await self._interact(2, data, user)

    async def post_message(
        self,
        content: str,
        *,
        channel_id: int | None = None,
        author: Payload | None = None,
        mentions_bot: bool = False,
        is_bot_author: bool = False,
    ) -> Payload:
        """A member posts in a channel (MESSAGE_CREATE). Without the message content intent the bot gets
        empty content unless it is mentioned, as from Discord."""
        person = author or b.member(b.user(b.DEFAULT_USER_ID + 9, "otherbot") if is_bot_author else b.user())
        who = person.get("user", person)
        who = {**who, "bot": True} if is_bot_author else who
        mention = f"<@{self.bot_user_id}>"
        if mentions_bot and mention not in content:
            content = f"{mention} {content}"
        mentions = [b.bot_user()] if mention in content else []
        member = {k: v for k, v in (person if "user" in person else b.member(who)).items() if k != "user"}
        message = b.message(
            content, author=who, channel_id=channel_id or self.channel_id, mentions=mentions, member=member
        )
        self.messages[int(message["id"])] = message
        sent = copy.deepcopy(message)
        if not self.gateway.intents & MESSAGE_CONTENT_INTENT and not mentions:
            sent |= {"content": "", "embeds": [], "attachments": [], "components": []}
        await self.dispatch("MESSAGE_CREATE", sent)
        return message

    # helpers

    async def _interact(
        self,
        type: int,
        data: Payload,
        user: Payload | None,
        *,
        guild: bool = True,
        channel_id: int | None = None,
        **extra: Any,
    ) -> FakeInteraction:
        actor = user or b.member()
        channel = channel_id or int(extra.get("message", {}).get("channel_id", self.channel_id))
        payload = b.interaction(type, data, actor=actor, channel_id=channel, guild=guild, **extra)
        inter = FakeInteraction(self, payload)  # type: ignore[arg-type]  # self is the FakeDiscord
        self.interactions[inter.token] = inter
        await self.dispatch("INTERACTION_CREATE", payload)
        return inter

    def _command(
        self, name: str, type: int, guild: bool, server: int | None = None
    ) -> tuple[Payload, list[Payload]]:
        """Interaction data for a synced command, and its option specs. The server's guild commands come
        first, as in the Discord client; only they carry `guild_id`, which discord.py uses to find the
        command."""
        for guild_id in (server or self.guild_id, None) if guild else (None,):
            for command in self.commands.get(guild_id, []):
                if command["name"] == name and command.get("type", 1) == type:
                    data = {"id": command["id"], "name": name, "type": type}
                    return data | ({"guild_id": str(guild_id)} if guild_id else {}), command.get(
                        "options", []
                    )
        synced = {k: [c["name"] for c in v] for k, v in self.commands.items()}
        raise AssertionError(
            f"command {name!r} (type {type}) is not synced (synced: {synced}); call tree.sync()"
        )

    def _options(
        self, specs: list[Payload], values: dict[str, Any], subcommand: str | None, focused: str | None
    ) -> list[Payload]:
        path: list[Payload] = []
        for part in (subcommand or "").split():
            sub = next((s for s in specs if s["name"] == part and s["type"] in (1, 2)), None)
            if sub is None:
                raise AssertionError(f"no subcommand {part!r}; have {[s['name'] for s in specs]}")
            path.append(sub)
            specs = sub.get("options", [])
        by_name = {s["name"]: s for s in specs}
        options = [_option(by_name, name, value, name == focused) for name, value in values.items()]
        missing = [s["name"] for s in specs if s.get("required") and s["name"] not in values]
        if missing and focused is None:
            raise AssertionError(f"required options missing: {missing}")
        for sub in reversed(path):
            options = [{"type": sub["type"], "name": sub["name"], "options": options}]
        return options

    def _component(self, message: Payload, custom_id: str, types: set[int]) -> tuple[Payload, Payload]:
        current = self.messages.get(int(message["id"]))
        if current is None:
            raise AssertionError(f"message {message['id']} is unknown or deleted")
        component = _find(current.get("components") or [], custom_id)
        if component is None or component["type"] not in types:
            raise AssertionError(f"no component {custom_id!r} of type {types} on message {current['id']}")
        if component.get("disabled"):
            raise AssertionError(f"{custom_id!r} is disabled; Discord would not send the interaction")
        return copy.deepcopy(current), component


def _option(specs: dict[str, Payload], name: str, value: Any, focused: bool) -> Payload:
    spec = specs.get(name)
    if spec is None:
        raise AssertionError(f"no option {name!r}; the command has {sorted(specs)}")
    if not focused:
        _check_allowed(name, value, spec)
    option = {"name": name, "type": spec.get("type", OPTION_TYPES.get(type(value), 3)), "value": value}
    return option | ({"focused": True} if focused else {})


def _check_allowed(name: str, value: Any, spec: Payload) -> None:
    """The Discord client only sends values within an option's choices, lengths and ranges."""
    choices = [c["value"] for c in spec.get("choices") or []]
    if choices and value not in choices:
        raise AssertionError(f"{value!r} is not one of the choices {choices} of {name!r}")
    if isinstance(value, bool):
        return
    if isinstance(value, str):
        measured, low, high = len(value), spec.get("min_length", 1), spec.get("max_length", 6000)
    else:
        measured, low, high = value, spec.get("min_value", float("-inf")), spec.get("max_value", float("inf"))
    if not low <= measured <= high:
        raise AssertionError(f"{name!r}={value!r} is outside {low}..{high}")


def _find(components: list[Payload], custom_id: str) -> Payload | None:
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        nested = [
            *component.get("components", []),
            *(component[k] for k in ("component", "accessory") if k in component),
        ]
        if found := _find(nested, custom_id):
            return found
    return None


def _answers(components: list[Payload], fields: dict[str, str], used: set[str]) -> list[Payload]:
    """The submitted values, in the shape of the modal as shown (action rows or labels)."""
    answers: list[Payload] = []
    for component in components:
        if component["type"] == 1:
            answers.append({"type": 1, "components": _answers(component["components"], fields, used)})
        elif component["type"] == 18:
            answers.append({"type": 18, "component": _answers([component["component"]], fields, used)[0]})
        elif "custom_id" in component:
            cid, value = component["custom_id"], fields.get(component["custom_id"])
            used.add(cid)
            if value is None and component.get("required", True):
                raise AssertionError(f"the modal input {cid!r} is required")
            if component["type"] == 4:
                text = value or ""
                low, high = component.get("min_length", 0), component.get("max_length", 4000)
                if text and not low <= len(text) <= high:
                    raise AssertionError(f"the modal input {cid!r} takes {low}-{high} characters")
                answers.append({"type": 4, "custom_id": cid, "value": text})
            else:
                answers.append({"type": component["type"], "custom_id": cid, "values": value or []})
    return answers
