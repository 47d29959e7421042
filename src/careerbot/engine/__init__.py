"""The engine: builds and loads the retriever over the knowledge, keeps it live through edits, and turns
hits into answers (one at a time or batched) and eval reports. May import knowledge and retrieval,
never discord, curation or the bot."""
