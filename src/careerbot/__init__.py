"""careerbot: answers questions about the machine-learning-engineer role from curated knowledge."""

__version__ = "0.1.0"
