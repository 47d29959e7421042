from __future__ import annotations

from typing import get_args

from careerbot.bot.shared import Topic
from careerbot.knowledge import TOPICS


def test_the_topic_choices_are_the_knowledge_topics_in_order() -> None:
    # Slash commands offer Topic's values as choices; the knowledge accepts TOPICS.
    assert get_args(Topic) == TOPICS
