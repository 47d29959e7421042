"""`careerbot tune`: adapting the model to the knowledge by training it on the entries' own phrasings and,
when asked, on real questions from an eval set (never the frozen test split).

Each phrasing of an entry (its question and every paraphrase) is paired with the entry's question and
answer as one text; each labelled in-scope English question of the named eval sets is paired the same way
with its first expected entry. The model learns, with MultipleNegativesRankingLoss, to put each anchor
nearer its own entry than every other entry in its batch (in-batch negatives). A batch never holds a pair
whose entry answers another pair's anchor (for a phrasing, its own entry; for a question, every id it
lists as expected), which would teach the model to push a right answer away. Seeded (random, numpy,
torch), CPU only, offline.

Pair-building and batching are plain Python, so tests need no torch; torch and sentence-transformers are
imported only inside `tune_model` (with `encoder`, the only modules allowed to: see pyproject.toml).
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from careerbot.config import ModelConfig
from careerbot.knowledge import Entry, KnowledgeBase
from careerbot.knowledge.eval_file import EvalCase, eval_sets
from careerbot.retrieval.encoder import go_offline, resolve_model

METADATA_FILE = "careerbot-tune.json"
# The frozen split is what the README reports: training on it would make that figure meaningless.
FROZEN_SETS = ("test",)


@dataclass(frozen=True)
class TrainingPair:
    anchor: str  # a phrasing of the entry, or a real question it answers
    positive: str  # the entry's question and answer, one text
    entry_id: str
    # Further ids that answer the anchor (a real question lists up to 6): never its in-batch negatives.
    also_answering: frozenset[str] = frozenset()

    @property
    def answering(self) -> frozenset[str]:
        """Every id whose positive must not share a batch with this anchor."""
        return self.also_answering | {self.entry_id}


@dataclass(frozen=True)
class TuneSettings:
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup: float = 0.1  # share of the steps over which the learning rate rises from 0
    seed: int = 20261129
    # Training truncates texts here (the answers are the long ones); the saved model keeps its own limit.
    max_seq_length: int = 128
    max_steps: int = 0  # 0: all the epochs' steps (tests use a few)


@dataclass(frozen=True)
class TuneResult:
    output: Path
    base_model: str
    entries: int
    pairs: int
    steps: int
    seconds: float
    questions: int = 0  # of the pairs, those from real questions (repeats counted)


def training_pairs(knowledge: KnowledgeBase) -> list[TrainingPair]:
    """Every phrasing -> its entry's question and answer, in a stable order (entries by id)."""
    pairs: list[TrainingPair] = []
    for entry in sorted(knowledge.entries, key=lambda e: e.id):
        positive = _positive(entry)
        pairs += [TrainingPair(p, positive, entry.id) for p in (entry.question, *entry.paraphrases)]
    return pairs


def question_pairs(
    knowledge: KnowledgeBase, cases: Sequence[EvalCase], repeat: int = 1
) -> list[TrainingPair]:
    """Each labelled in-scope English question -> its first expected entry's question and answer, as the
    phrasings are, `repeat` times (its weight against the phrasings). Out-of-scope questions have no
    entry to pull towards; questions not in English get the "careerbot answers in English" reply, not a
    ranking, so they would only teach the model another language from a handful of examples."""
    pairs: list[TrainingPair] = []
    for case in cases:
        if not (case.labelled and case.in_scope and case.english):
            continue
        entries = [item for item in map(knowledge.get, case.expected) if isinstance(item, Entry)]
        if entries:
            answering = frozenset(case.expected)
            pairs += [TrainingPair(case.question, _positive(entries[0]), entries[0].id, answering)] * repeat
    return pairs


def training_set_files(knowledge_dir: Path, names: Sequence[str]) -> list[Path]:
    """The eval files of the named sets, in the order given. ValueError, naming the set, for the frozen
    test split and for a set that does not exist."""
    frozen = [name for name in names if name in FROZEN_SETS]
    if frozen:
        raise ValueError(
            f"the {frozen[0]} split is frozen: it is never trained on, or its figures would mean nothing "
            "(issue 11); train on dev"
        )
    files = dict(eval_sets(knowledge_dir))
    unknown = [name for name in names if name not in files]
    if unknown:
        sets = ", ".join(files) or "none"
        raise ValueError(f"no eval set {unknown[0]!r} in {knowledge_dir / 'eval'} (there: {sets})")
    return [files[name] for name in dict.fromkeys(names)]


def _positive(entry: Entry) -> str:
    return f"{entry.question}\n{entry.answer}"


def plan_batches(pairs: list[TrainingPair], batch_size: int, rng: random.Random) -> list[list[TrainingPair]]:
    """The pairs shuffled into batches of at most `batch_size`, each pair exactly once, where no pair's
    entry answers another pair's anchor (so never two pairs of one entry either). First fit over the
    shuffled order, so batches stay full while the entries allow."""
    order = list(pairs)
    rng.shuffle(order)
    batches: list[list[TrainingPair]] = []
    positives: list[set[str]] = []  # per batch: its pairs' entries, the negatives its anchors see
    answering: list[set[str]] = []  # per batch: ids that answer one of its anchors
    for pair in order:
        for batch, entries, answers in zip(batches, positives, answering, strict=True):
            if len(batch) < batch_size and pair.entry_id not in answers and not pair.answering & entries:
                batch.append(pair)
                entries.add(pair.entry_id)
                answers.update(pair.answering)
                break
        else:
            batches.append([pair])
            positives.append({pair.entry_id})
            answering.append(set(pair.answering))
    rng.shuffle(batches)
    return batches


def tune_model(
    config: ModelConfig,
    knowledge: KnowledgeBase,
    output: Path,
    settings: TuneSettings,
    show_progress: bool = True,
    questions: Sequence[TrainingPair] = (),
) -> TuneResult:
    """Trains `config.name` (never the tuned folder: tuning again starts from the base model) on the
    entries' phrasings plus `questions` (see question_pairs) and saves the result to `output`, replacing
    what was there only once the new model is whole."""
    started = time.monotonic()
    go_offline()
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from tqdm import tqdm

    pairs = training_pairs(knowledge) + list(questions)
    if not pairs:
        raise ValueError("the knowledge holds no FAQ entries to train on")
    random.seed(settings.seed)
    np.random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    epochs = [plan_batches(pairs, settings.batch_size, rng) for _ in range(settings.epochs)]
    batches = [batch for epoch in epochs for batch in epoch]
    if settings.max_steps:
        batches = batches[: settings.max_steps]

    location, base_id = resolve_model(config.name)
    model: Any = SentenceTransformer(location, device="cpu")
    saved_length = model.max_seq_length
    model.max_seq_length = min(saved_length, settings.max_seq_length)
    loss = MultipleNegativesRankingLoss(model)
    optimiser = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate)
    warmup = max(1, round(len(batches) * settings.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, _linear_schedule(warmup, len(batches)))
    model.train()
    progress = tqdm(batches, desc="tuning", unit="step", disable=not show_progress)
    for batch in progress:
        anchors = model.preprocess([pair.anchor for pair in batch])
        positives = model.preprocess([pair.positive for pair in batch])
        value = loss([anchors, positives], torch.zeros(0))
        value.backward()
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        progress.set_postfix(loss=f"{value.item():.3f}")
    model.eval()
    model.max_seq_length = saved_length

    seconds = time.monotonic() - started
    result = TuneResult(
        output, base_id, len(knowledge.entries), len(pairs), len(batches), seconds, len(questions)
    )
    _save(model, output, result, settings)
    return result


def _linear_schedule(warmup: int, total: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor


def _save(model: Any, output: Path, result: TuneResult, settings: TuneSettings) -> None:
    """Written beside `output` first, then swapped in, so a crash never leaves a half-written model."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save(str(partial))
    metadata = {
        "base_model": result.base_model,
        "entries": result.entries,
        "pairs": result.pairs,
        "question_pairs": result.questions,
        "steps": result.steps,
        "seconds": round(result.seconds, 1),
        "settings": asdict(settings),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (partial / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    previous = output.with_name(output.name + ".previous")
    shutil.rmtree(previous, ignore_errors=True)
    if output.exists():
        output.rename(previous)
    partial.rename(output)
    shutil.rmtree(previous, ignore_errors=True)
