"""Builds the answering engine from settings: the one place that wires knowledge, model and index."""

from __future__ import annotations

from careerbot.answering import Answerer
from careerbot.config import Config
from careerbot.knowledge import load_knowledge
from careerbot.retrieval.encoder import Encoder
from careerbot.retrieval.persistence import IndexReport


def open_engine(
    config: Config,
    encoder: Encoder | None = None,
    show_progress: bool = False,
    rebuild: bool = False,
) -> tuple[Answerer, IndexReport]:
    """Loads the knowledge (raising KnowledgeError if any file is bad), then the persisted index,
    embedding only what changed. `encoder` defaults to the model named in the settings."""
    knowledge = load_knowledge(config.knowledge.dir)
    if encoder is None:
        from careerbot.retrieval.encoder import SentenceTransformerEncoder

        encoder = SentenceTransformerEncoder(config.model)
    from careerbot.retrieval.retriever import Retriever

    retriever, report = Retriever.open(
        knowledge,
        encoder,
        config.index.dir,
        lexical_weight=config.answering.lexical_weight,
        show_progress=show_progress,
        rebuild=rebuild,
    )
    return Answerer(knowledge, retriever, config.answering), report
