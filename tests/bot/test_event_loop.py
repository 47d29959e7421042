"""Nothing whose cost grows with the knowledge runs on the event loop (issue 9, item 11).

Each test drives one path through the fake Discord, with the knowledge base's whole-set accessors, the
title index and the entry-file reader watched: every call must happen, and none on the loop's thread.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from careerbot.bot.client import CareerBot
from careerbot.config import Config
from careerbot.curation.curator import Moderator
from careerbot.knowledge import KnowledgeBase
from careerbot.knowledge.titles import TitleIndex
from careerbot.knowledge.writer import KnowledgeWriter
from tests.bot.conftest import StartBot
from tests.conftest import write_entry
from tests.fake_discord import moderator

JUPYTER = ["notebooks?", "jupyter lab", "ipynb"]
pytestmark = [pytest.mark.usefixtures("fail_on_error_logs"), pytest.mark.asyncio]


class LoopWatch:
    """Records, per watched function, whether each call ran on the event loop's thread."""

    def __init__(self) -> None:
        self.loop_thread = threading.current_thread()  # pytest-asyncio runs the loop on the test's thread
        self.calls: dict[str, list[bool]] = defaultdict(list)

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def watched(*args: Any, **kwargs: Any) -> Any:
            self.calls[name].append(threading.current_thread() is self.loop_thread)
            return function(*args, **kwargs)

        return watched

    def assert_off_loop(self, *names: str) -> None:
        """Each of `names` ran, and nothing watched ran on the loop's thread."""
        assert [name for name in names if not self.calls[name]] == []
        assert sorted(name for name, calls in self.calls.items() if any(calls)) == []

    def clear(self) -> None:
        self.calls.clear()


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopWatch]:
    watch = LoopWatch()
    entries = KnowledgeBase.__dict__["entries"]
    monkeypatch.setattr(KnowledgeBase, "entries", property(watch.wrap("entries", entries.fget)))
    for owner, name in (
        (KnowledgeBase, "ids_in"),
        (KnowledgeBase, "phrasings"),
        (TitleIndex, "__init__"),
        (TitleIndex, "find"),
        (KnowledgeWriter, "current"),
    ):
        label = name if owner is KnowledgeBase else f"{owner.__name__}.{name}"
        monkeypatch.setattr(owner, name, watch.wrap(label, getattr(owner, name)))
    yield watch


async def started(fake_discord: Any, start_bot: StartBot, watch: LoopWatch) -> CareerBot:
    """A bot whose title index is ready; what loading it took is not what is tested."""
    bot = await start_bot()
    await autocomplete_until(fake_discord, "pytorch", "pytorch")
    watch.clear()
    return bot


async def autocomplete_until(fake_discord: Any, typed: str, first: str) -> None:
    """Types into /faq until `first` is the first choice: a new title index is built in the background,
    and autocomplete answers from the previous one meanwhile."""
    for _ in range(250):
        choices = await fake_discord.autocomplete("faq", {"entry": typed}, focused="entry")
        if choices and choices[0]["value"] == first:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"/faq autocomplete never offered {first!r} first for {typed!r}")


async def test_faq_autocomplete_searches_every_phrasing_off_the_loop(
    fake_discord: Any, start_bot: StartBot, watch: LoopWatch
) -> None:
    await started(fake_discord, start_bot, watch)
    choices = await fake_discord.autocomplete("faq", {"entry": "sklern"}, focused="entry")
    assert choices[0]["value"] == "scikit-learn"
    watch.assert_off_loop("TitleIndex.find")


async def test_after_a_reload_the_title_index_is_built_again_off_the_loop(
    fake_discord: Any, start_bot: StartBot, watch: LoopWatch, config: Config
) -> None:
    bot = await started(fake_discord, start_bot, watch)
    write_entry(config.knowledge.dir, "stack/jupyter", "What is Jupyter for?", JUPYTER, "Notebooks.")
    assert (await asyncio.to_thread(bot.engine.reload)).swapped
    await autocomplete_until(fake_discord, "jupyter lab", "jupyter")
    watch.assert_off_loop("TitleIndex.__init__", "phrasings")


async def test_kb_entry_autocomplete_searches_off_the_loop(
    fake_discord: Any, start_bot: StartBot, watch: LoopWatch
) -> None:
    await started(fake_discord, start_bot, watch)
    choices = await fake_discord.autocomplete(
        "kb", {"entry": "pytroch"}, focused="entry", subcommand="edit", user=moderator()
    )
    assert choices[0]["value"] == "pytorch"
    watch.assert_off_loop("TitleIndex.find")


async def test_a_typed_faq_title_is_matched_off_the_loop(
    fake_discord: Any, start_bot: StartBot, watch: LoopWatch
) -> None:
    await started(fake_discord, start_bot, watch)
    data = (await (await fake_discord.slash("faq", {"entry": "What is PyTorch used for"})).response())["data"]
    assert data["embeds"][0]["title"] == "What is PyTorch used for?"
    watch.assert_off_loop("TitleIndex.find")


async def test_topic_pages_and_their_buttons_are_read_off_the_loop(
    fake_discord: Any, start_bot: StartBot, watch: LoopWatch, config: Config
) -> None:
    bot = await started(fake_discord, start_bot, watch)
    for tool in (
        "airflow",
        "kubeflow",
        "mlflow",
        "ray",
        "dask",
        "spark",
        "pandas",
        "numpy",
        "onnx",
        "triton",
    ):
        paraphrases = [f"{tool}?", f"is {tool} worth learning", f"who uses {tool}"]
        write_entry(config.knowledge.dir, f"stack/{tool}", f"Where does {tool} fit?", paraphrases, "A tool.")
    assert (await asyncio.to_thread(bot.engine.reload)).swapped
    watch.clear()
    for command, options in (("duties", {}), ("skills", {}), ("topics", {"topic": "roles"})):
        data = (await (await fake_discord.slash(command, options)).response())["data"]
        assert data["embeds"][0]["description"].startswith("- ")
    interaction = await fake_discord.slash("stack")
    first = (await interaction.response())["data"]
    assert first["embeds"][0]["title"] == "stack: 12 answers"
    [next_id] = [
        c["custom_id"] for row in first["components"] for c in row["components"] if ":1:" in c["custom_id"]
    ]
    watch.clear()
    edited = await (await fake_discord.click(interaction.message, next_id)).response()
    assert edited["data"]["embeds"][0]["footer"]["text"].startswith("page 2 of 2")
    watch.assert_off_loop("ids_in")


async def test_kb_stats_reads_every_entry_off_the_loop(
    fake_discord: Any, start_bot: StartBot, watch: LoopWatch
) -> None:
    await started(fake_discord, start_bot, watch)
    reply = await (await fake_discord.slash("kb", subcommand="stats", user=moderator())).response()
    assert reply["data"]["embeds"][0]["title"] == "Knowledge stats"
    watch.assert_off_loop("entries")


async def test_kb_history_reads_the_file_and_versions_off_the_loop(
    fake_discord: Any, start_bot: StartBot, watch: LoopWatch
) -> None:
    bot = await start_bot()
    await asyncio.to_thread(bot.curator.add_paraphrase, "pytorch", "torch in production", Moderator(1, "mod"))
    watch.clear()
    reply = await (
        await fake_discord.slash("kb", {"entry": "pytorch"}, subcommand="history", user=moderator())
    ).response()
    assert "(changed paraphrases)" in reply["data"]["content"]
    watch.assert_off_loop("KnowledgeWriter.current")


async def test_a_replaced_knowledge_version_is_freed_though_frozen_out_of_the_collector(
    fake_discord: Any, start_bot: StartBot, config: Config
) -> None:
    bot = await start_bot()
    await autocomplete_until(fake_discord, "pytorch", "pytorch")  # its index built: the version frozen
    replaced = weakref.ref(bot.answerer.knowledge)
    for tool in ("jupyter", "airflow"):
        paraphrases = [f"{tool}?", f"is {tool} worth learning", f"who uses {tool}"]
        write_entry(config.knowledge.dir, f"stack/{tool}", f"Where does {tool} fit?", paraphrases, "A tool.")
        assert (await asyncio.to_thread(bot.engine.reload)).swapped
        await autocomplete_until(fake_discord, f"{tool} worth", tool)
    # The collector never looks at frozen objects: only reference counting can free them, so the
    # version must hold no reference cycles.
    assert replaced() is None
