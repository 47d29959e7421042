"""The size limits Discord enforces on what a bot sends (it answers 400, code 50035, Invalid Form Body).

A fake that accepted anything would pass a bot whose long answers or labels Discord rejects in
production; only the limits a bot realistically hits are checked.
"""

from __future__ import annotations

from typing import Any


def message_problems(body: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if len(body.get("content") or "") > 2000:
        problems.append("content longer than 2000 characters")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append("more than 10 embeds")
    total = 0
    for embed in embeds:
        for key, limit in (("title", 256), ("description", 4096)):
            if len(embed.get(key) or "") > limit:
                problems.append(f"embed {key} longer than {limit}")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append("more than 25 embed fields")
        for field in fields:
            if len(field.get("name") or "") > 256 or len(field.get("value") or "") > 1024:
                problems.append("embed field name > 256 or value > 1024")
        footer = (embed.get("footer") or {}).get("text") or ""
        total += len(embed.get("title") or "") + len(embed.get("description") or "") + len(footer)
        total += sum(len(f.get("name") or "") + len(f.get("value") or "") for f in fields)
    if total > 6000:
        problems.append("embeds longer than 6000 characters in total")
    rows = body.get("components") or []
    if len(rows) > 5 and not int(body.get("flags") or 0) & (1 << 15):  # IS_COMPONENTS_V2 lifts this
        problems.append("more than 5 action rows")
    problems.extend(_component_problems(rows))
    return problems


def _component_problems(components: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for component in components:
        children = component.get("components") or []
        if component.get("type") == 1 and len(children) > 5:
            problems.append("more than 5 components in an action row")
        if len(component.get("custom_id") or "") > 100:
            problems.append(f"custom_id longer than 100: {component['custom_id']!r}")
        if len(component.get("label") or "") > 80:
            problems.append(f"label longer than 80: {component['label']!r}")
        options = component.get("options") or []
        if len(options) > 25:
            problems.append("more than 25 select options")
        for option in options:
            if any(len(option.get(k) or "") > 100 for k in ("label", "value", "description")):
                problems.append(f"select option label/value/description longer than 100: {option!r}")
        problems.extend(_component_problems(children))
    return problems


def choice_problems(choices: list[dict[str, Any]]) -> list[str]:
    problems = ["more than 25 autocomplete choices"] if len(choices) > 25 else []
    for choice in choices:
        if not 1 <= len(choice.get("name") or "") <= 100:
            problems.append(f"choice name not 1-100 characters: {choice!r}")
        if isinstance(choice.get("value"), str) and len(choice["value"]) > 100:
            problems.append(f"choice value longer than 100: {choice!r}")
    return problems
