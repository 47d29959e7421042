"""Curation: moderators' changes to the knowledge (with their journal), the store of questions, votes
and revisions, the gap queue and the moderators' reports. May import knowledge, retrieval and the
engine, never discord or the bot."""
