"""Do labelled real questions carry as phrasings? Out-of-fold figures on dev for indexing them.

Each labelled in-scope English question of dev becomes one more paraphrase of the entry that answers
it, a nearest-neighbour memory of real asks. dev is split into folds exactly as benchmarks/tune_kfold.py
splits it (its `split`, same seed). For each fold, knowledge/faq and knowledge/articles (never
knowledge/eval) are copied into --work, the OTHER folds' questions are added to the copy as paraphrases,
the copy is indexed by the code `careerbot index` runs (default ONNX runtime) into --work, and the
held-out fold is answered with the settings in bot.toml. Variants:

  first  each question a paraphrase of its first expected entry
  all    ... of every expected entry
  oos    `first`, plus each out-of-scope English question a paraphrase of the out-of-scope entry the
         shipped index ranks first for it among out-of-scope entries (the decline memory grows too)

`baseline` is the same folds with the knowledge unchanged; pooled over the folds it must equal
`careerbot eval --set dev` (checked: the script stops if not). The regression set is then answered
with ALL of dev added, each variant's way.

Paraphrases are added one at a time through the check a /kb edit gets (the same checks as a full load,
for the changed entry), then the copy is loaded whole by the bot's loader. One the checks refuse (longer
than a paraphrase may be, the same text as another phrasing, an entry full) is left out and counted.
`--long cut` keeps a long post's first MAX_PARAPHRASE_CHARS characters instead of leaving it out.

    .venv/bin/python benchmarks/phrasings_kfold.py --work /tmp/phrasings
    .venv/bin/python benchmarks/phrasings_kfold.py --variants first --long cut

Texts seen once are not embedded again (across folds and variants): only faiss and BM25 are rebuilt.
The test split is never read here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from careerbot.config import Config, load_config
from careerbot.engine.answering import Answer, Answerer
from careerbot.engine.evaluation import evaluate
from careerbot.engine.loading import Engine, load_engine
from careerbot.knowledge import Entry, KnowledgeBase, load_knowledge
from careerbot.knowledge.codec import entry_text
from careerbot.knowledge.eval_file import EvalCase
from careerbot.knowledge.faq_file import MAX_PARAPHRASE_CHARS
from careerbot.knowledge.loader import apply_entry_changes
from careerbot.knowledge.models import OUT_OF_SCOPE
from careerbot.retrieval.encoder import Encoder, Vectors
from careerbot.retrieval.runtime import ReusingEncoder, open_encoder
from tune_kfold import _cases, _pooled, split  # beside this script

REPO = Path(__file__).resolve().parent.parent
VARIANTS = ("first", "all", "oos")
SEED = 20261129  # tune_kfold.py's default: the same folds
COPIED = ("faq", "articles")  # never eval/: the test split stays unread

# Picks, for an out-of-scope question, the out-of-scope entry it is added to (None: none ranked).
Picker = Callable[[str], str | None]


@dataclasses.dataclass(frozen=True)
class Addition:
    question: str  # as dev holds it
    entry_id: str


@dataclasses.dataclass
class CopyReport:
    added: list[Addition]
    rejected: list[tuple[Addition, str]]  # with the kind of problem the checks found

    def texts(self, long: str) -> set[str]:
        """The paraphrases added, as they stand in the copy."""
        return {paraphrase_text(addition.question, long) for addition in self.added}

    def summary(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "rejected": len(self.rejected),
            "rejected_by_kind": dict(Counter(kind for _, kind in self.rejected)),
        }


def additions(
    cases: Sequence[EvalCase], variant: str, knowledge: KnowledgeBase, pick: Picker
) -> list[Addition]:
    """The paraphrases `cases` give in `variant` (see the module's docstring)."""
    found: list[Addition] = []
    for case in cases:
        if not (case.labelled and case.english):
            continue
        if case.in_scope:
            entries = [i for i in case.expected if isinstance(knowledge.get(i), Entry)]
            found += [Addition(case.question, i) for i in (entries if variant == "all" else entries[:1])]
        elif variant == "oos" and (chosen := pick(case.question)) is not None:
            found.append(Addition(case.question, chosen))
    return found


def fold_additions(
    folds: Sequence[Sequence[EvalCase]], held_out: int, variant: str, knowledge: KnowledgeBase, pick: Picker
) -> list[Addition]:
    """The paraphrases from every fold but `held_out`: the held-out questions must stay unseen."""
    training = [case for k, fold in enumerate(folds) if k != held_out for case in fold]
    return additions(training, variant, knowledge, pick)


def paraphrase_text(question: str, long: str) -> str:
    """The question on one line; with long = "cut", a long post cut to its first MAX_PARAPHRASE_CHARS
    characters at a word boundary (with "skip" it stays whole, and the checks refuse it)."""
    text = " ".join(question.split())
    if long == "cut" and len(text) > MAX_PARAPHRASE_CHARS:
        text = text[: MAX_PARAPHRASE_CHARS + 1].rsplit(" ", 1)[0]
    return text


def fold_copy(source: Path, destination: Path, wanted: Sequence[Addition], long: str) -> CopyReport:
    """knowledge/faq and /articles copied to `destination`, with `wanted` added as paraphrases, each
    through the checks of a /kb edit; the copy is then loaded whole by the bot's loader (KnowledgeError
    if anything is still wrong)."""
    if destination.exists():
        shutil.rmtree(destination)
    for folder in COPIED:
        shutil.copytree(source / folder, destination / folder)
    knowledge = load_knowledge(destination)
    report = CopyReport([], [])
    texts: dict[Path, str] = {}
    for addition in wanted:
        entry = knowledge.get(addition.entry_id)
        assert isinstance(entry, Entry) and entry.path is not None, addition.entry_id
        grown = dataclasses.replace(
            entry, paraphrases=(*entry.paraphrases, paraphrase_text(addition.question, long))
        )
        text = entry_text(grown)
        changed, problems = apply_entry_changes(knowledge, destination, {entry.path}, {entry.path: text})
        if changed is None:
            report.rejected.append((addition, _kind(problems[0].message)))
            continue
        knowledge, texts[entry.path] = changed, text
        report.added.append(addition)
    for path, text in texts.items():
        path.write_text(text, encoding="utf-8")
    load_knowledge(destination)  # the whole copy, as the bot loads it
    return report


def _kind(message: str) -> str:
    if "nearly the same" in message:
        return "same as another phrasing"
    if "the limit is" in message:
        return f"longer than {MAX_PARAPHRASE_CHARS} characters"
    if "are allowed" in message:
        return "entry has the most paraphrases allowed"
    return message[:80]


class RememberingEncoder(ReusingEncoder):
    """The encoder, with every text's vector kept once computed: the folds share almost all their texts,
    so each build embeds only what no earlier one did. Queries are kept apart from documents."""

    def __init__(self, encoder: Encoder) -> None:
        super().__init__(encoder, {})
        self._queries: dict[str, Vectors] = {}

    def encode_documents(self, texts: Sequence[str], show_progress: bool = False) -> Vectors:
        vectors = super().encode_documents(texts, show_progress)
        self._known.update(zip(texts, vectors, strict=True))
        return vectors

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        missing = list(dict.fromkeys(t for t in texts if t not in self._queries))
        if missing:
            self._queries.update(zip(missing, super().encode_queries(missing), strict=True))
        return np.stack([self._queries[t] for t in texts]).astype(np.float32)


def build(config: Config, knowledge_dir: Path, index_dir: Path, encoder: Encoder) -> Engine:
    """What `careerbot index` does for a knowledge folder (without re-checking the ONNX export, which
    the shipped index's build checked), into `index_dir`."""
    if index_dir.exists():
        shutil.rmtree(index_dir)
    settings = dataclasses.replace(
        config,
        knowledge=dataclasses.replace(config.knowledge, dir=knowledge_dir),
        index=dataclasses.replace(config.index, dir=index_dir),
    )
    engine, _ = load_engine(settings, encoder, compact=True, thorough=True)
    return engine


def out_of_scope_picker(engine: Engine) -> Picker:
    """The out-of-scope entry `engine`'s retriever ranks first for a question, among out-of-scope ones."""
    declining = set(engine.snapshot.knowledge.ids_in(OUT_OF_SCOPE))
    limit = len(engine.snapshot.knowledge.items)

    def pick(question: str) -> str | None:
        ranked = engine.retriever.search(" ".join(question.split()), limit=limit)
        return next((c.item_id for c in ranked if c.item_id in declining), None)

    return pick


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=SEED, help="the split's (tune_kfold.py's default)")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--long", choices=("skip", "cut"), default="skip", help="posts over the limit")
    parser.add_argument("--work", type=Path, default=Path("/tmp/careerbot-phrasings"))
    parser.add_argument("--json", type=Path, help="also save the figures and the table here")
    args = parser.parse_args()

    config = load_config(REPO / "bot.toml")
    source = config.knowledge.dir
    knowledge = load_knowledge(source)
    dev, regression = _cases("dev", config, knowledge), _cases("regression", config, knowledge)
    folds = split(dev, args.folds, args.seed)
    encoder = RememberingEncoder(open_encoder(config.model, config.index.dir))
    work = args.work / f"k{args.folds}-s{args.seed}-{args.long}"

    started = time.monotonic()
    baseline, _ = _variant(config, source, work / "baseline", [], args.long, encoder)
    pick = out_of_scope_picker(baseline)
    whole = evaluate(baseline.answerer, dev).as_dict()
    rows: dict[str, dict[str, Any]] = {
        "baseline": {
            "folds": [score(baseline, baseline, fold, set()) for fold in folds],
            "regression": score(baseline, baseline, regression, set()),
            "copies": [],
        }
    }
    pooled = _pooled(rows["baseline"]["folds"])
    for key, value in pooled.items():
        if abs(value - whole[key]) > 1e-3:
            raise SystemExit(f"baseline pooled {key} {value:.4f} != whole dev {whole[key]:.4f}")
    print(f"baseline checked: pooled over folds = all of dev ({_seconds(started)})", flush=True)

    for variant in args.variants:
        row: dict[str, Any] = {"folds": [], "copies": []}
        for k, held_out in enumerate(folds):
            wanted = fold_additions(folds, k, variant, knowledge, pick)
            engine, report = _variant(
                config, source, work / variant / f"fold-{k}", wanted, args.long, encoder
            )
            row["folds"].append(score(engine, baseline, held_out, report.texts(args.long)))
            row["copies"].append(report.summary())
            print(f"{variant} fold {k}: {report.summary()} ({_seconds(started)})", flush=True)
        wanted = additions(dev, variant, knowledge, pick)
        engine, report = _variant(config, source, work / variant / "all-dev", wanted, args.long, encoder)
        row["regression"] = score(engine, baseline, regression, report.texts(args.long))
        row["regression_copy"] = report.summary()
        rows[variant] = row
    rows["nearest"] = {"folds": nearest_labels(encoder, folds)}
    printed = table(rows, args)
    for path in (work / "figures.json", *([args.json] if args.json else [])):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"table": printed, **rows}, indent=2) + "\n", encoding="utf-8")
    print(printed)
    print(f"{_seconds(started)} in all")


def score(engine: Engine, baseline: Engine, cases: list[EvalCase], learned: set[str]) -> dict[str, Any]:
    """`evaluate`'s figures for `cases`, hit@1 without the uncertain band, and how the answers' top items
    moved from the baseline's: questions whose top item became right or wrong, and those whose top
    item's best text is one of the `learned` paraphrases (and of them, the right ones)."""
    figures: dict[str, Any] = evaluate(engine.answerer, cases).as_dict()
    settings = engine.answerer._config  # bot.toml's, as the engine was built with
    no_band = dataclasses.replace(settings, uncertain_below=settings.uncertain_from)
    plain = Answerer(engine.answerer.knowledge, engine.retriever, no_band)
    figures["hit@1_no_band"] = evaluate(plain, cases).hit_at_1
    scored = [c for c in cases if c.labelled and c.in_scope and c.english]
    questions = [c.question for c in scored]
    after = engine.answerer.answer_many(questions)
    before = baseline.answerer.answer_many(questions)
    right = [_top_right(c, a) for c, a in zip(scored, after, strict=True)]
    was = [_top_right(c, a) for c, a in zip(scored, before, strict=True)]
    recalled = [bool(a.candidates) and a.candidates[0].matched_text in learned for a in after]
    figures["top_gained"] = sum(r and not w for r, w in zip(right, was, strict=True))
    figures["top_lost"] = sum(w and not r for r, w in zip(right, was, strict=True))
    figures["top_from_learned"] = sum(recalled)
    figures["top_from_learned_right"] = sum(r for r, m in zip(right, recalled, strict=True) if m)
    return figures


def _top_right(case: EvalCase, answer: Answer) -> bool:
    return bool(answer.candidates) and answer.candidates[0].item_id in case.expected


def nearest_labels(encoder: Encoder, folds: Sequence[Sequence[EvalCase]]) -> list[dict[str, int]]:
    """The memory's ceiling, per fold: for each held-out in-scope question, the training folds' question
    nearest to it (cosine, whole posts): is its first expected entry one of the held-out question's
    (`first`), and does it share any expected entry with it (`any`)?"""
    rows = []
    for k, held_out in enumerate(folds):
        training = [c for i, f in enumerate(folds) if i != k for c in f if _answerable(c)]
        asked = [c for c in held_out if _answerable(c)]
        memory = encoder.encode_documents([paraphrase_text(c.question, "skip") for c in training])
        queries = encoder.encode_queries([" ".join(c.question.split()) for c in asked])
        nearest = (queries @ memory.T).argmax(axis=1)
        pairs = [(c, training[int(n)]) for c, n in zip(asked, nearest, strict=True)]
        rows.append(
            {
                "asked": len(asked),
                "first": sum(t.expected[0] in c.expected for c, t in pairs),
                "any": sum(bool(set(t.expected) & set(c.expected)) for c, t in pairs),
            }
        )
    return rows


def _answerable(case: EvalCase) -> bool:
    return case.labelled and case.in_scope and case.english and bool(case.expected)


def _variant(
    config: Config, source: Path, folder: Path, wanted: Sequence[Addition], long: str, encoder: Encoder
) -> tuple[Engine, CopyReport]:
    report = fold_copy(source, folder / "knowledge", wanted, long)
    return build(config, folder / "knowledge", folder / "index", encoder), report


def table(rows: Mapping[str, Mapping[str, Any]], args: argparse.Namespace) -> str:
    variants = {name: row for name, row in rows.items() if name != "nearest"}
    base = rows["baseline"]["folds"]
    lines = [
        f"dev, {args.folds} folds (seed {args.seed}), out of fold, long posts: {args.long}",
        f"| variant | {HEADER} | hit@1 without the band | top right: gained / lost | top matched a learned "
        "question (right) | paraphrases added per fold (rejected) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in variants.items():
        folds, copies = row["folds"], row["copies"]
        added = "/".join(str(c["added"]) for c in copies) or "-"
        rejected = "/".join(str(c["rejected"]) for c in copies) or "-"
        lines.append(
            f"{_row(name, _pooled(folds))} {_no_band(folds):.3f} | {_sum(folds, 'top_gained')} / "
            f"{_sum(folds, 'top_lost')} | {_sum(folds, 'top_from_learned')} "
            f"({_sum(folds, 'top_from_learned_right')}) | {added} ({rejected}) |"
        )
    lines += ["", "per fold hit@1 minus baseline's, in points:"]
    for name, row in variants.items():
        if name != "baseline":
            deltas = [100 * (f["hit@1"] - b["hit@1"]) for f, b in zip(row["folds"], base, strict=True)]
            lines.append(f"  {name}: " + ", ".join(f"{d:+.1f}" for d in deltas))
    nearest = rows["nearest"]["folds"]
    asked = _sum(nearest, "asked")
    lines += [
        "",
        f"nearest training question (whole posts), out of fold: its first entry answers the held-out one "
        f"{_sum(nearest, 'first') / asked:.3f}, shares an expected entry {_sum(nearest, 'any') / asked:.3f} "
        f"({asked} questions)",
        "",
        "regression set, all of dev added:",
        f"| variant | {HEADER} | hit@1 without the band | top right: gained / lost | top matched a learned "
        "question (right) | added (rejected) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in variants.items():
        copy, f = row.get("regression_copy", {"added": 0, "rejected": 0}), row["regression"]
        lines.append(
            f"{_row(name, f)} {f['hit@1_no_band']:.3f} | {f['top_gained']} / {f['top_lost']} | "
            f"{f['top_from_learned']} ({f['top_from_learned_right']}) | {copy['added']} ({copy['rejected']}) |"
        )
    kinds: Counter[str] = Counter()
    for row in variants.values():
        for copy in [*row["copies"], *([row["regression_copy"]] if "regression_copy" in row else [])]:
            kinds.update(copy["rejected_by_kind"])
    lines += ["", f"rejected, all copies: {dict(kinds)}"]
    return "\n".join(lines)


HEADER = "hit@1 | hit@3 | MRR | in-scope declined | out-of-scope declined | uncertain in / out"


def _row(name: str, f: Mapping[str, Any]) -> str:
    return (
        f"| {name} | {f['hit@1']:.3f} | {f['hit@3']:.3f} | {f['mrr']:.3f} | {f['false_decline']:.1%} | "
        f"{f['decline_recall']:.1%} | {f['uncertain_in_scope']:.1%} / {f['uncertain_out_of_scope']:.1%} |"
    )


def _no_band(folds: Sequence[Mapping[str, Any]]) -> float:
    return float(sum(f["hit@1_no_band"] * f["in_scope"] for f in folds)) / _sum(folds, "in_scope")


def _sum(rows: Sequence[Mapping[str, Any]], key: str) -> int:
    return sum(int(row[key]) for row in rows)


def _seconds(started: float) -> str:
    return f"{time.monotonic() - started:.0f} s"


if __name__ == "__main__":
    main()
