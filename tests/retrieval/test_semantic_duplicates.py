from __future__ import annotations

from pathlib import Path

from careerbot.knowledge import load_knowledge
from careerbot.retrieval.semantic_duplicates import semantic_duplicates
from tests.conftest import write_entry
from tests.fakes import FakeEncoder


def test_phrasings_of_two_entries_that_embed_alike_are_flagged(knowledge_dir: Path) -> None:
    assert semantic_duplicates(load_knowledge(knowledge_dir), FakeEncoder()) == []
    # The same words in another order: different text, so the text check lets it through ...
    write_entry(
        knowledge_dir,
        "stack/torch-jobs",
        "Which jobs want torch?",
        ["uses pytorch", "torch hiring", "jobs"],
        "x",
    )
    knowledge = load_knowledge(knowledge_dir)
    # ... but to the (fake) model it is the same question as pytorch's "pytorch uses".
    [problem] = semantic_duplicates(knowledge, FakeEncoder())
    assert problem.path.name == "torch-jobs.yaml" and problem.field == "paraphrases" and problem.line == 4
    assert "'uses pytorch' means the same as 'pytorch uses' of 'pytorch'" in problem.message
