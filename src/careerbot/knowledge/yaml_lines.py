"""YAML parsing that remembers the line of every top-level key and list item, for error messages, and
refuses what no knowledge file needs but an attacker would use: anchors and aliases (a few lines of
them expand to gigabytes: "billion laughs") and deep nesting (the composer recurses: 3,000 brackets
end in a RecursionError). Both are refused while composing, before anything is built."""

from __future__ import annotations

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
    located = LocatedYaml(data)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            located.key_lines[key] = key_node.start_mark.line + 1
            if isinstance(value_node, yaml.SequenceNode):
                located.item_lines[key] = [item.start_mark.line + 1 for item in value_node.value]
    return located
