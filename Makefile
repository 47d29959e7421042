# Two entry points for a fresh machine: `make run` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch; installed before everything else so no CUDA build is pulled in.
TORCH := torch==2.13.0

.PHONY: run test setup lint eval bench clean

$(BIN)/careerbot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/careerbot

# With DISCORD_TOKEN set, the Discord bot; without, the same engine answers in the terminal.
run: setup
	$(BIN)/careerbot index
	@if [ -n "$$DISCORD_TOKEN" ]; then $(BIN)/careerbot run; \
	else echo "careerbot: no DISCORD_TOKEN, so answering here in the terminal"; $(BIN)/careerbot chat; fi

test: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/careerbot validate
	$(BIN)/pytest

eval: setup
	$(BIN)/careerbot eval --sweep

# Every benchmark: tables on the terminal, JSON in benchmarks/results/ (about 40 minutes; see README).
bench: setup
	$(BIN)/python benchmarks/bench_answer.py --json benchmarks/results/answer.json
	$(BIN)/python benchmarks/bench_concurrency.py --json benchmarks/results/concurrency.json
	$(BIN)/python benchmarks/bench_scale.py --json benchmarks/results/scale.json
	$(BIN)/python benchmarks/bench_verify.py --no-build
	$(BIN)/python benchmarks/bench_loop.py --json benchmarks/results/loop.json
	$(BIN)/python benchmarks/ann_choice.py --json benchmarks/results/ann.json

clean:
	rm -rf $(VENV) var
