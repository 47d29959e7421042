"""`python -m tests.bot.careerbot_on_fake_encoder ARGS...`: the careerbot command, with the fake encoder
standing in for the model, so tests can start `careerbot run` processes offline and in a second."""

from __future__ import annotations

import sys

import careerbot.retrieval.runtime
from careerbot import cli
from tests.fakes import FakeEncoder

if __name__ == "__main__":
    careerbot.retrieval.runtime.open_encoder = lambda *_: FakeEncoder()  # type: ignore[assignment]
    raise SystemExit(cli.main(sys.argv[1:]))
