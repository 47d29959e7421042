"""The curated knowledge: models, loading and validation. Imports neither the model nor faiss."""

from careerbot.knowledge.loader import load_knowledge, validate_knowledge
from careerbot.knowledge.models import TOPICS, Entry, Item, KnowledgeBase, Passage, Source
from careerbot.knowledge.problems import KnowledgeError, Problem

__all__ = [
    "TOPICS",
    "Entry",
    "Item",
    "KnowledgeBase",
    "KnowledgeError",
    "Passage",
    "Problem",
    "Source",
    "load_knowledge",
    "validate_knowledge",
]
