"""YAML parsing that remembers the line of every top-level key and list item, for error messages, and
refuses what no knowledge file needs but an attacker would use: anchors and aliases (a few lines of
them expand to gigabytes: "billion laughs") and deep nesting (the composer recurses: 3,000 brackets
end in a RecursionError). Both are refused while composing, before anything is built.

Parsing goes through libyaml (PyYAML's C parser, about ten times faster: most of `careerbot validate`
at 100k entries was the pure-Python scanner) when the text cannot hold what the checks above refuse.
Any file libyaml does not take as it is (an error, nesting too deep, a character that might mean an
anchor or alias) is parsed again by the pure-Python loader, so every message is the one it gives."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml


@dataclass
class LocatedYaml:
    data: Any
    key_lines: dict[str, int] = field(default_factory=dict)
    item_lines: dict[str, list[int]] = field(default_factory=dict)

    def line(self, key: str, item: int | None = None) -> int | None:
        if item is not None and item < len(self.item_lines.get(key, [])):
            return self.item_lines[key][item]
        return self.key_lines.get(key)


# An entry nests three levels (mapping, sources list, source mapping); eval.yaml as many.
MAX_DEPTH = 10


class _KnowledgeLoader(yaml.SafeLoader):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        mark = event.start_mark if isinstance(event.start_mark, yaml.Mark) else None
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not allowed", mark
            )
        if self._depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Values YAML accepts but Python cannot hold (a 5,000-digit number, 2026-02-30) name their line."""
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(None, None, str(exc), node.start_mark) from None


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def parse_located(text: str) -> LocatedYaml:
    node_and_data = _parse_with_libyaml(text) if LIBYAML else None
    if node_and_data is None:
        node_and_data = _parse_checked(text)
    node, data = node_and_data
    located = LocatedYaml(data)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            located.key_lines[key] = key_node.start_mark.line + 1
            if isinstance(value_node, yaml.SequenceNode):
                located.item_lines[key] = [item.start_mark.line + 1 for item in value_node.value]
    return located


def _libyaml_limits_nesting() -> bool:
    """Whether PyYAML has its C parser, and that parser stops deep nesting itself (libyaml 0.2.6 does,
    at 1,000 levels): its composer recurses in C, where no RecursionError would stop a 256 KiB file of
    brackets. Otherwise every file goes to the pure-Python loader."""
    if not getattr(yaml, "__with_libyaml__", False):
        return False
    try:
        yaml.load("[" * 1001 + "]" * 1001, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return True
    return False


LIBYAML = _libyaml_limits_nesting()
# Anchors and aliases need & or *; the rest are characters where the two parsers might disagree.
_NOT_FOR_LIBYAML = re.compile("[&*\u2028\u2029\ufeff]")


def _parse_with_libyaml(text: str) -> tuple[yaml.Node | None, Any] | None:
    """The root node and data, or None for any text the pure-Python loader must see."""
    if _NOT_FOR_LIBYAML.search(text) or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return None
    try:
        loader = yaml.CSafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None and _deeper_than(node, MAX_DEPTH):
                return None
            return node, loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except Exception:  # whatever it is, the pure-Python loader says it as it always did
        return None


def _deeper_than(root: yaml.Node, levels: int) -> bool:
    """Whether a node sits more than `levels` deep (the root is 1 deep): one level at a time, as nearly
    every node is a scalar inside the top two."""
    collections = [root]
    for _ in range(levels - 1):
        if not collections:
            return False
        inner = [node for parent in collections for node in _children(parent)]
        collections = [node for node in inner if not isinstance(node, yaml.ScalarNode)]
    return any(_children(node) for node in collections)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def _parse_checked(text: str) -> tuple[yaml.Node | None, Any]:
    try:
        loader = _KnowledgeLoader(text)  # its reader refuses control characters at once
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        # The context mark is where the broken construct starts (an unclosed bracket, say); the problem
        # mark is where the parser gave up, often lines later. Cite the start, mention the other.
        start, noticed = exc.context_mark, exc.problem_mark
        first = start or noticed
        line = first.line + 1 if first else None
        also = (
            f" (noticed at line {noticed.line + 1})"
            if start and noticed and noticed.line != start.line
            else ""
        )
        raise YamlSyntaxError(f"not valid YAML: {exc.problem or exc.context}{also}", line) from None
    except yaml.reader.ReaderError as exc:  # a control character: `position` counts characters
        line = text.count("\n", 0, exc.position) + 1
        raise YamlSyntaxError(
            f"not valid YAML: character U+{exc.character:04X} is not allowed", line
        ) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"not valid YAML: {exc}", None) from None
    return node, data
