from __future__ import annotations

from datetime import date

import discord

from careerbot.bot.render import answer_embed, clip
from careerbot.bot.views import OpenItemSelect, answer_view
from careerbot.engine.answering import Answer, FurtherAnswer, Suggestion
from careerbot.knowledge import Source


def long_answer(**changes: object) -> Answer:
    fields: dict[str, object] = {
        "question": "q" * 5000,
        "abstained": False,
        "text": "word " * 2000,
        "id": "pytorch",
        "title": "T" * 400,
        "topic": "stack",
        "score": 0.8,
        "confidence": "high",
        "sources": tuple(Source("s" * 300, url="https://example.org/" + "x" * 200) for _ in range(10)),
        "reviewed_on": date(2026, 11, 23),
        "did_you_mean": tuple(Suggestion(f"id{i}", "D" * 100, 0.7) for i in range(20)),
    }
    fields.update(changes)
    return Answer(**fields)  # type: ignore[arg-type]


def test_every_part_of_the_embed_fits_discords_limits() -> None:
    embed = answer_embed(long_answer())
    assert len(embed.title or "") <= 256
    assert len(embed.description or "") <= 4096
    assert len(embed.author.name or "") <= 256
    assert all(len(field.value or "") <= 1024 and len(field.name or "") <= 256 for field in embed.fields)
    assert len(embed.footer.text or "") <= 2048
    assert len(embed) <= 6000


def test_answer_embed_shows_sources_review_date_and_confidence() -> None:
    answer = long_answer(
        title="What is PyTorch used for?",
        text="It trains networks.",
        question="pytorch?",
        sources=(Source("PyTorch docs", url="https://pytorch.org/docs/"), Source("The article")),
        did_you_mean=(),
    )
    embed = answer_embed(answer)
    assert embed.title == "What is PyTorch used for?"
    assert embed.fields[0].name == "Sources"
    assert embed.fields[0].value == "- [PyTorch docs](<https://pytorch.org/docs/>)\n- The article"
    assert embed.footer.text == "reviewed 2026-11-23 · confident match · pytorch"


def test_a_declined_answer_says_so_and_offers_near_misses() -> None:
    answer = Answer(
        question="capital of peru?",
        abstained=True,
        text="I don't know that one.",
        did_you_mean=(Suggestion("salary", "How much do ML engineers earn?", 0.4),),
    )
    embed = answer_embed(answer)
    assert embed.title == "I don't know that one"
    assert embed.fields[0].value == "- How much do ML engineers earn?"


def test_clip_marks_what_it_cut() -> None:
    assert clip("abcdef", 4) == "abc…"
    assert clip("abc", 4) == "abc"


def test_an_uncertain_reply_is_the_choices_not_an_answer() -> None:
    answer = Answer(
        question="which framework?",
        abstained=True,
        text="Not sure; did you mean one of these?",
        score=0.62,
        did_you_mean=(
            Suggestion("pytorch", "What is PyTorch used for?", 0.62),
            Suggestion("scikit-learn", "What is scikit-learn for?", 0.61),
        ),
        uncertain=True,
    )
    embed = answer_embed(answer)
    assert embed.title == "Not sure: did you mean..."
    assert embed.description == "- What is PyTorch used for?\n- What is scikit-learn for?"
    assert "I don't know" not in (embed.title or "") + (embed.description or "")
    assert not embed.fields, "the choices are the reply, not a second field under one"


def further(**changes: object) -> FurtherAnswer:
    fields: dict[str, object] = {
        "id": "salary",
        "title": "How much do ML engineers earn?",
        "score": 0.7,
        "text": "It depends on country and seniority.",
        "shortened": True,
        "sources": (Source("Pay survey", url="https://example.org/pay"),),
    }
    fields.update(changes)
    return FurtherAnswer(**fields)  # type: ignore[arg-type]


def test_a_second_part_is_a_field_after_the_sources() -> None:
    answer = long_answer(title="What is PyTorch used for?", text="It trains networks.", further=(further(),))
    embed = answer_embed(answer)
    names = [field.name for field in embed.fields]
    assert names[:2] == ["Sources", "Also: How much do ML engineers earn?"]
    assert embed.fields[1].value == (
        "It depends on country and seniority.\n(shortened: open it in full from the menu below)\n"
        "- [Pay survey](<https://example.org/pay>)"
    )


def test_a_long_second_part_keeps_every_embed_limit() -> None:
    huge = further(
        title="F" * 400,
        text="word " * 2000,
        sources=tuple(Source("s" * 300, url="https://example.org/" + "x" * 200) for _ in range(10)),
    )
    embed = answer_embed(long_answer(further=(huge, further(text="y " * 900))))
    assert len(embed.fields) <= 25
    assert all(len(field.value or "") <= 1024 and len(field.name or "") <= 256 for field in embed.fields)
    assert len(embed.description or "") <= 4096 and len(embed) <= 6000
    assert sum(1 for field in embed.fields if (field.name or "").startswith("Also: ")) == 2
    # With short sources, the answer is cut and the sources are kept whole.
    short_sources = answer_embed(long_answer(further=(further(text="z " * 900),)))
    assert (short_sources.fields[1].value or "").endswith("- [Pay survey](<https://example.org/pay>)")


def test_the_menu_under_an_answer_opens_the_second_part_first() -> None:
    answer = long_answer(
        further=(further(),), related=(Suggestion("pytorch", "What is PyTorch used for?", 0.5),)
    )
    menu = answer_view(answer, asked_id=7).children[0]
    assert isinstance(menu, OpenItemSelect) and isinstance(menu.item, discord.ui.Select)
    assert [option.value for option in menu.item.options] == ["salary", "pytorch"]


def test_no_second_part_no_field() -> None:
    embed = answer_embed(long_answer(did_you_mean=()))
    assert [field.name for field in embed.fields] == ["Sources"]
