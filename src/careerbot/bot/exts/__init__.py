"""Cogs: thin layers that read an interaction, call the engine and render its result."""
