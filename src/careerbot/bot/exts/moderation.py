"""/kb: moderators keep the knowledge from Discord. Every action checks the moderator right (in a
moderation server) on the server side, and every entry id from Discord must name a live entry before it
gets near a file; the files stay the source of truth (written to knowledge/faq/, so git sees them).

Forms and buttons that write acknowledge first (privately, "thinking"), since a write, a model call and
a reload can outlast Discord's 3 seconds; their failures go to the one error handler (bot/shared.py)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, cast

import discord
from discord import app_commands
from discord.ext import commands

from careerbot.bot.permissions import may_moderate
from careerbot.bot.render import clip, item_embed
from careerbot.bot.shared import Topic, reply_privately, report_failure
from careerbot.bot.views import ReportsFailures, bot_of
from careerbot.curation.curator import ChangeConflict, ChangeRejected, Moderator, Outcome
from careerbot.curation.gaps import group_gaps
from careerbot.curation.reports import history_text, knowledge_stats
from careerbot.knowledge import Entry
from careerbot.knowledge.problems import bounded
from careerbot.knowledge.writer import entry_fields, is_entry_id

if TYPE_CHECKING:
    from careerbot.bot.client import CareerBot

MESSAGE_LIMIT = 2000
LOW_CONFIDENCE_MARGIN = 0.05  # answered, but this close to the threshold: counted as a gap too
log = logging.getLogger(__name__)
SKIPPED_SHOWN = 5  # bad files elsewhere, listed after a change that went live beside them
BROKEN_FILE = "Its file on disk is not a valid entry (edited by hand?): fix it, then /kb reload."
REFUSAL = "Only moderators can change what careerbot knows."
SHOWN_ID_LIMIT = 100


def moderator_of(interaction: discord.Interaction) -> Moderator:
    return Moderator(interaction.user.id, interaction.user.display_name)


async def refuse_unless_moderator(interaction: discord.Interaction) -> bool:
    """True (after telling the member privately) when the user may not change the knowledge here."""
    if may_moderate(interaction, bot_of(interaction).settings):
        return False
    await reply_privately(interaction, REFUSAL)
    return True


def live_entry(bot: CareerBot, entry_id: object) -> Entry | None:
    """The live entry an id from Discord names, else None. Only such ids reach the writer, which joins
    them into file paths: a path, `..`, a separator, a passage id or junk never matches."""
    if not isinstance(entry_id, str) or not is_entry_id(entry_id):
        return None
    item = bot.answerer.knowledge.get(entry_id)
    return item if isinstance(item, Entry) else None


def no_such_entry(entry_id: object) -> str:
    """The refusal, with the id shown clipped, on one line, unable to close the code span or ping."""
    shown = "".join(c if c.isprintable() and c != "`" else "?" for c in str(entry_id)[: SHOWN_ID_LIMIT + 1])
    return f"No such entry: `{discord.utils.escape_mentions(clip(shown, SHOWN_ID_LIMIT))}`."


async def refuse_unknown_entry(interaction: discord.Interaction, entry_id: object) -> bool:
    """True (after telling the moderator privately) when `entry_id` names no live entry."""
    if live_entry(bot_of(interaction), entry_id) is not None:
        return False
    await reply_privately(interaction, no_such_entry(entry_id))
    return True


async def moderator_draft(
    interaction: discord.Interaction, draft_id: int, expired: str, needs: tuple[str, ...]
) -> dict[str, Any] | None:
    """The pending change a moderator's button names, after checking the moderator right again;
    None (the member already told why) when it may not or cannot go ahead. `needs`: the keys the
    button uses, since a custom_id can be replayed onto another kind of draft."""
    if await refuse_unless_moderator(interaction):
        return None
    draft = await asyncio.to_thread(bot_of(interaction).store.draft, draft_id)
    if draft is None or any(key not in draft for key in needs):
        await reply_privately(interaction, expired)
        return None
    return draft


def outcome_text(outcome: Outcome) -> str:
    verb = {"add": "Added", "edit": "Saved", "remove": "Removed", "revert": "Reverted"}[outcome.action]
    live = (
        f"live now ({outcome.reload.entries} entries, reloaded in {outcome.reload.seconds:.1f} s)"
        if outcome.reload.swapped
        else "but the reload failed: " + "; ".join(map(str, outcome.reload.problems))
    )
    text = f"{verb} `{outcome.change.entry_id}` as revision #{outcome.revision_id}, {live}."
    # Files changed by hand that are bad do not stop this change; their live version stays.
    if skipped := outcome.change.prepared.problems if outcome.change.prepared else []:
        listed = "\n".join(f"- {problem}" for problem in bounded(skipped)[:SKIPPED_SHOWN])
        text += f"\nNot loaded, so their live version stays until they are fixed:\n{listed}"
    return text


def failure_text(error: Exception) -> str:
    if isinstance(error, ChangeConflict):
        return (
            "Not saved: the entry changed since you opened it. Open it again to start from its current "
            f"version. What changed:\n```diff\n{clip(error.diff, 1500)}\n```"
        )
    rejected = cast(ChangeRejected, error)
    problems = "\n".join(f"- {problem.field}: {problem.message}" for problem in rejected.problems)
    why = "the change would break the knowledge" if rejected.invalid else "careerbot could not make it"
    return f"Not saved: {why}.\n{problems or '- the entry no longer exists'}"


async def apply(interaction: discord.Interaction, change: Any, *args: Any) -> None:
    """Runs one curator call off the event loop and reports the outcome privately."""
    try:
        outcome = await asyncio.to_thread(change, *args)
        text = outcome_text(outcome)
    except (ChangeConflict, ChangeRejected) as error:
        text = failure_text(error)
    await reply_privately(interaction, clip(text, MESSAGE_LIMIT))


def fields_from_form(
    topic: str, question: str, paraphrases: str, answer: str, tags: str, sources: str
) -> dict[str, Any]:
    """The modal's text boxes -> entry fields. Sources: one per line, 'Title | https://url' or 'Title'."""
    parsed_sources = []
    for line in sources.splitlines():
        title, _, url = (part.strip() for part in line.partition("|"))
        if title:
            parsed_sources.append({"title": title, **({"url": url} if url else {})})
    return {
        "question": question.strip(),
        "paraphrases": [line.strip() for line in paraphrases.splitlines() if line.strip()],
        "answer": answer.strip(),
        "topic": topic,
        "tags": [tag.strip().lower() for tag in tags.split(",") if tag.strip()],
        "sources": parsed_sources,
        "reviewed_on": time.strftime("%Y-%m-%d"),
    }


class EntryModal(discord.ui.Modal):
    """The form for a new entry or an edit; for an edit it opens filled with the current version."""

    def __init__(
        self, title: str, topic: str, current: dict[str, Any] | None = None, draft_id: int = 0
    ) -> None:
        super().__init__(title=title, timeout=1800)
        self.topic, self.draft_id = topic, draft_id
        current = current or {}
        self.question: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            custom_id="question",
            label="Question (the title)",
            max_length=100,
            default=current.get("question"),
        )
        self.paraphrases: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            custom_id="paraphrases",
            label="Paraphrases, one per line (at least 3)",
            style=discord.TextStyle.paragraph,
            default="\n".join(current.get("paraphrases", [])) or None,
        )
        self.answer: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            custom_id="answer",
            label="Answer",
            style=discord.TextStyle.paragraph,
            max_length=1000,
            default=current.get("answer"),
        )
        self.tags: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            custom_id="tags",
            label="Tags, comma separated",
            default=", ".join(current.get("tags", [])) or None,
        )
        self.sources: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            custom_id="sources",
            label="Sources, one per line: Title | https://url",
            style=discord.TextStyle.paragraph,
            default="\n".join(
                f"{s['title']} | {s['url']}" if s.get("url") else s["title"]
                for s in current.get("sources", [])
            )
            or None,
        )
        for item in (self.question, self.paraphrases, self.answer, self.tags, self.sources):
            self.add_item(item)

    def fields(self) -> dict[str, Any]:
        return fields_from_form(
            self.topic,
            self.question.value,
            self.paraphrases.value,
            self.answer.value,
            self.tags.value,
            self.sources.value,
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        if await refuse_unless_moderator(interaction):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot = bot_of(interaction)
        fields = self.fields()
        if self.draft_id:  # an edit: save over the version the form was opened with
            draft = await asyncio.to_thread(bot.store.draft, self.draft_id)
            if draft is None:
                await reply_privately(interaction, "That edit expired; open it again.")
                return
            if await refuse_unknown_entry(interaction, draft.get("entry_id")):
                return
            await apply(
                interaction,
                bot.curator.edit,
                draft["entry_id"],
                fields,
                draft["text"],
                moderator_of(interaction),
            )
            return
        near = await asyncio.to_thread(bot.curator.near_entry, fields["question"])
        if near is None:
            await apply(interaction, bot.curator.add, fields, moderator_of(interaction))
            return
        draft_id = await asyncio.to_thread(bot.store.save_draft, {"fields": fields, "near": near.id})
        view = discord.ui.View(timeout=None)
        view.add_item(DraftButton(draft_id, "new"))
        view.add_item(DraftButton(draft_id, "paraphrase"))
        await interaction.followup.send(
            f"This is close to an existing entry: **{near.question}** (`{near.id}`). "
            "Add it as a new entry anyway, or add your question as a paraphrase of that one?",
            embed=item_embed(near),
            view=view,
            ephemeral=True,
        )

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        await report_failure(interaction, error, "the entry form")


class DraftButton(
    ReportsFailures,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"cb:kbdraft:(?P<draft>\d+):(?P<choice>new|paraphrase|remove)",
):
    """Finishes a moderator's pending change stored as a draft: add anyway, add as paraphrase, or remove."""

    LABELS: ClassVar[dict[str, str]] = {
        "new": "Add as a new entry",
        "paraphrase": "Add as a paraphrase",
        "remove": "Yes, remove it",
    }
    NEEDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "new": ("fields",),
        "paraphrase": ("fields", "near"),
        "remove": ("entry_id", "text"),
    }

    def __init__(self, draft_id: int, choice: str) -> None:
        self.draft_id, self.choice = draft_id, choice
        style = discord.ButtonStyle.danger if choice == "remove" else discord.ButtonStyle.primary
        super().__init__(
            discord.ui.Button(
                label=self.LABELS[choice], style=style, custom_id=f"cb:kbdraft:{draft_id}:{choice}"
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> DraftButton:
        return cls(int(match["draft"]), match["choice"])

    async def act(self, interaction: discord.Interaction) -> None:
        draft = await moderator_draft(
            interaction, self.draft_id, "That change expired; start again.", self.NEEDS[self.choice]
        )
        if draft is None:
            return
        names = {"paraphrase": draft.get("near"), "remove": draft.get("entry_id")}
        if self.choice in names and await refuse_unknown_entry(interaction, names[self.choice]):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot, who = bot_of(interaction), moderator_of(interaction)
        if self.choice == "new":
            await apply(interaction, bot.curator.add, draft["fields"], who)
        elif self.choice == "paraphrase":
            await apply(
                interaction, bot.curator.add_paraphrase, draft["near"], draft["fields"]["question"], who
            )
        else:
            await apply(interaction, bot.curator.remove, draft["entry_id"], draft["text"], who)


class GapButton(
    ReportsFailures,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"cb:kbgap:(?P<draft>\d+):(?P<choice>entry|paraphrase)",
):
    """Turns one group of the gap queue into knowledge: a new entry (form prefilled with the members'
    wording) or a paraphrase of the nearest entry."""

    def __init__(self, draft_id: int, choice: str, label: str = "") -> None:
        self.draft_id, self.choice = draft_id, choice
        super().__init__(
            discord.ui.Button(
                label=clip(label or choice, 80),
                style=discord.ButtonStyle.secondary,
                custom_id=f"cb:kbgap:{draft_id}:{choice}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> GapButton:
        return cls(int(match["draft"]), match["choice"])

    async def act(self, interaction: discord.Interaction) -> None:
        needs = ("wordings", "near") if self.choice == "paraphrase" else ("wordings", "topic")
        draft = await moderator_draft(
            interaction, self.draft_id, "That gap expired; run /kb gaps again.", needs
        )
        if draft is None:
            return
        bot = bot_of(interaction)
        wordings: list[str] = draft["wordings"]
        if self.choice == "paraphrase":
            if await refuse_unknown_entry(interaction, draft["near"]):
                return
            await interaction.response.defer(ephemeral=True, thinking=True)
            await apply(
                interaction, bot.curator.add_paraphrase, draft["near"], wordings[0], moderator_of(interaction)
            )
            return
        current = {"question": clip(wordings[0], 100), "paraphrases": wordings[1:]}
        await interaction.response.send_modal(
            EntryModal("New entry from the gap queue", draft["topic"], current)
        )


class ModerationCog(commands.Cog):
    kb = app_commands.Group(
        name="kb",
        description="Moderators: keep careerbot's knowledge",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    def __init__(self, bot: CareerBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Runs before every /kb command (discord.py calls it for each): the moderator right in a
        moderation server, then an `entry` that names a live entry, or for /kb history one with
        recorded revisions (a removed entry's history is how it is brought back)."""
        if await refuse_unless_moderator(interaction):
            return False
        entry_id = getattr(interaction.namespace, "entry", None)
        if entry_id is None or live_entry(self.bot, entry_id) is not None:
            return True
        command = interaction.command.name if interaction.command else ""
        if command == "history" and is_entry_id(entry_id):
            revisions = await asyncio.to_thread(self.bot.store.history, entry_id)
            if revisions:
                return True
        await reply_privately(interaction, no_such_entry(entry_id))
        return False

    async def entry_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=clip(e.question, 100), value=e.id)
            for e in await self.bot.titles.find(current, limit=25)
        ]

    async def _current(self, interaction: discord.Interaction, entry_id: str) -> tuple[str, str] | None:
        """(file text, topic) of an entry as it is on disk now; None, the moderator told why, if its file
        went since it was loaded (a git pull) or cannot be read as an entry (a bad hand edit)."""
        try:
            current = self.bot.curator.writer.current(entry_id)
        except ChangeRejected as refused:
            await interaction.response.send_message(failure_text(refused), ephemeral=True)
            return None
        if current is None:
            await interaction.response.send_message(no_such_entry(entry_id), ephemeral=True)
            return None
        return current[1], current[0].parent.name

    @kb.command(name="add", description="Add an entry (opens a form)")
    async def add(self, interaction: discord.Interaction, topic: Topic) -> None:
        await interaction.response.send_modal(EntryModal(f"New entry: {topic}", topic))

    @kb.command(name="edit", description="Edit an entry (opens a form with its current version)")
    @app_commands.describe(topic="Move the entry to this topic (leave empty to keep its topic)")
    async def edit(self, interaction: discord.Interaction, entry: str, topic: Topic | None = None) -> None:
        current = await self._current(interaction, entry)
        if current is None:
            return
        text, current_topic = current
        if (fields := entry_fields(text)) is None:
            await interaction.response.send_message(BROKEN_FILE, ephemeral=True)
            return
        draft_id = await asyncio.to_thread(self.bot.store.save_draft, {"entry_id": entry, "text": text})
        title = f"Edit: {entry}" if topic in (None, current_topic) else f"Move to {topic}: {entry}"
        modal = EntryModal(clip(title, 45), topic or current_topic, fields, draft_id)
        await interaction.response.send_modal(modal)

    @kb.command(name="remove", description="Remove an entry (asks to confirm)")
    async def remove(self, interaction: discord.Interaction, entry: str) -> None:
        current = await self._current(interaction, entry)
        if current is None:
            return
        draft_id = await asyncio.to_thread(self.bot.store.save_draft, {"entry_id": entry, "text": current[0]})
        view = discord.ui.View(timeout=None)
        view.add_item(DraftButton(draft_id, "remove"))
        await interaction.response.send_message(
            f"Remove `{entry}`? It can be reverted from /kb history.", view=view, ephemeral=True
        )

    @kb.command(name="show", description="Show an entry as stored")
    async def show(self, interaction: discord.Interaction, entry: str) -> None:
        current = await self._current(interaction, entry)
        if current is None:
            return
        await interaction.response.send_message(
            clip(f"```yaml\n{current[0]}```", MESSAGE_LIMIT), ephemeral=True
        )

    @kb.command(name="history", description="Who changed an entry, when, and what")
    async def history(self, interaction: discord.Interaction, entry: str) -> None:
        def report() -> str | None:  # off the event loop: reads the store and the file, parses versions
            revisions = self.bot.store.history(entry)
            if not revisions:
                return None
            return history_text(revisions, text_on_disk(self.bot, entry))

        text = await asyncio.to_thread(report)
        if text is None:
            await interaction.response.send_message(
                f"No changes to `{clip(entry, 100)}` made through careerbot.", ephemeral=True
            )
            return
        await interaction.response.send_message(clip(text, MESSAGE_LIMIT), ephemeral=True)

    @kb.command(name="revert", description="Undo one revision (see /kb history)")
    async def revert(self, interaction: discord.Interaction, revision: app_commands.Range[int, 1]) -> None:
        found = await asyncio.to_thread(self.bot.store.revision, revision)
        if found is None:
            await interaction.response.send_message(f"No revision #{revision}.", ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await apply(interaction, self.bot.curator.revert, found, moderator_of(interaction))

    @kb.command(name="gaps", description="What members asked that careerbot could not answer well")
    async def gaps(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        answerer = self.bot.answerer
        low = answerer.threshold + LOW_CONFIDENCE_MARGIN
        questions = await asyncio.to_thread(self.bot.store.gaps, low)
        groups = await asyncio.to_thread(group_gaps, questions, self.bot.engine.encoder)
        if not groups:
            await interaction.followup.send(
                "No gaps: every recent question was answered well.", ephemeral=True
            )
            return
        lines, view = [], discord.ui.View(timeout=None)
        nearest = await asyncio.to_thread(answerer.answer_many, [gap.example for gap in groups])
        for number, (gap, answer) in enumerate(zip(groups, nearest, strict=True), start=1):
            near = answerer.knowledge.get(answer.candidates[0].item_id) if answer.candidates else None
            payload = {
                "wordings": list(gap.wordings),
                "near": near.id if near else None,
                "topic": near.topic if near else "career",
            }
            draft_id = await asyncio.to_thread(self.bot.store.save_draft, payload)
            lines.append(f'{number}. {gap.count}x "{clip(gap.example, 150)}" ({len(gap.wordings)} wordings)')
            view.add_item(GapButton(draft_id, "entry", f"{number}: draft an entry"))
            if near is not None and isinstance(near, Entry):
                view.add_item(GapButton(draft_id, "paraphrase", f"{number}: add to {near.id}"))
        await interaction.followup.send(clip("\n".join(lines), MESSAGE_LIMIT), view=view, ephemeral=True)

    @kb.command(name="stats", description="Entries per topic, most asked, votes, and entries due for review")
    async def stats(self, interaction: discord.Interaction) -> None:
        fields = await asyncio.to_thread(  # reads every entry
            knowledge_stats,
            self.bot.answerer.knowledge,
            self.bot.store,
            self.bot.settings.review_days,
            date.today(),
        )
        embed = discord.Embed(title="Knowledge stats")
        for field in fields:
            embed.add_field(name=field.name, value=field.value, inline=field.inline)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @kb.command(name="reload", description="Load the knowledge files again (after a git pull or a hand edit)")
    async def reload(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # a reload may embed for seconds
        report = await asyncio.to_thread(self.bot.engine.reload)
        if report.swapped:
            text = (
                f"Reloaded: {report.entries} entries live, {report.embedded} texts embedded, "
                f"in {report.seconds:.1f} s."
            )
        else:
            lines = "\n".join(f"- `{problem}`" for problem in report.problems)
            text = (
                f"Not reloaded: the live version ({report.entries} entries) stays. Fix these first:\n{lines}"
            )
        await interaction.followup.send(clip(text, MESSAGE_LIMIT), ephemeral=True)

    edit.autocomplete("entry")(entry_choices)
    remove.autocomplete("entry")(entry_choices)
    show.autocomplete("entry")(entry_choices)
    history.autocomplete("entry")(entry_choices)


def text_on_disk(bot: CareerBot, entry_id: str) -> str | None:
    """The entry's file as it is now; None if it is gone or cannot be read as an entry."""
    try:
        current = bot.curator.writer.current(entry_id)
    except ChangeRejected:
        return None
    return current[1] if current else None


MODERATION_ITEMS = (DraftButton, GapButton)


async def setup(bot: CareerBot) -> None:
    servers = bot.settings.moderation_guilds
    if not servers:
        log.warning("/kb is off: discord.moderation_guilds in bot.toml lists no server")
        return
    # Guild commands: /kb exists only in these servers (members' commands stay global).
    await bot.add_cog(ModerationCog(bot), guilds=[discord.Object(id=server) for server in servers])
    bot.add_dynamic_items(*MODERATION_ITEMS)
    log.info("/kb is on in server(s) %s", ", ".join(map(str, servers)))
