"""YAML parsing that remembers the line of every top-level key and list item, for error messages."""

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


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def parse_located(text: str) -> LocatedYaml:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
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
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"not valid YAML: {exc}", None) from None
    finally:
        loader.dispose()
    located = LocatedYaml(data)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            located.key_lines[key] = key_node.start_mark.line + 1
            if isinstance(value_node, yaml.SequenceNode):
                located.item_lines[key] = [item.start_mark.line + 1 for item in value_node.value]
    return located
