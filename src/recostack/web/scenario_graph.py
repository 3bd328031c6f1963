"""The scenario graph of one recommendation type, drawn as SVG (no script needed).

Scenarios are placed in layers by the longest chain of references leading
to them (a DAG: references point down), edges labelled with what takes
them (``A``/``B`` of an A/B test, ``then``/``else`` of a condition, an
alias's arrow). Case scenarios are the leaves. The drawing is computed on
the server, escaped, and embedded in the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from recostack.rules import AbTestScenario, AliasScenario, ConditionScenario, Scenario

__all__ = ["scenario_svg"]

_BOX_W, _BOX_H, _GAP_X, _GAP_Y = 170, 44, 30, 70


def _edges(name: str, scenario: Scenario) -> list[tuple[str, str, str]]:
    if isinstance(scenario, AbTestScenario):
        ref = scenario.ab_test
        return [(name, ref.scenario_a, "A"), (name, ref.scenario_b, "B")]
    if isinstance(scenario, ConditionScenario):
        return [(name, scenario.condition.then, "then"), (name, scenario.condition.else_, "else")]
    if isinstance(scenario, AliasScenario):
        return [(name, scenario.alias.scenario_name, "")]
    return []


def _layers(scenarios: Mapping[str, Scenario]) -> dict[str, int]:
    """Each scenario's layer: 0 for those nothing refers to, else one below its deepest
    referrer (computed over the DAG in a linear number of steps)."""
    referrers: dict[str, list[str]] = {name: [] for name in scenarios}
    for name, scenario in scenarios.items():
        for _, target, _ in _edges(name, scenario):
            if target in referrers:
                referrers[target].append(name)
    layer: dict[str, int] = {}

    def depth(name: str, visiting: frozenset[str]) -> int:
        if name in layer:
            return layer[name]
        parents = [p for p in referrers[name] if p not in visiting]
        found = 1 + max((depth(p, visiting | {name}) for p in parents), default=-1)
        layer[name] = found
        return found

    for name in sorted(scenarios):
        depth(name, frozenset())
    return layer


def scenario_svg(scenarios: Mapping[str, Scenario], title: str) -> str:
    """An accessible SVG of ``scenarios`` (empty text when there are none)."""
    if not scenarios:
        return ""
    layer = _layers(scenarios)
    rows: dict[int, list[str]] = {}
    for name in sorted(scenarios, key=lambda n: (layer[n], n)):
        rows.setdefault(layer[name], []).append(name)
    place: dict[str, tuple[int, int]] = {}
    for depth_, names in rows.items():
        for i, name in enumerate(names):
            place[name] = (i * (_BOX_W + _GAP_X) + 10, depth_ * (_BOX_H + _GAP_Y) + 10)
    width = max(x for x, _ in place.values()) + _BOX_W + 20
    height = max(y for _, y in place.values()) + _BOX_H + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="scenario-graph" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="7" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#444"/></marker></defs>',
    ]
    for name, scenario in scenarios.items():
        x1, y1 = place[name]
        for _, target, label in _edges(name, scenario):
            if target not in place:
                continue
            x2, y2 = place[target]
            ax, ay, bx, by = x1 + _BOX_W // 2, y1 + _BOX_H, x2 + _BOX_W // 2, y2
            parts.append(
                f'<line x1="{ax}" y1="{ay}" x2="{bx}" y2="{by}" stroke="#444" '
                'marker-end="url(#arrow)"/>'
            )
            if label:
                parts.append(
                    f'<text x="{(ax + bx) // 2 + 4}" y="{(ay + by) // 2}" class="edge">'
                    f"{escape(label)}</text>"
                )
    for name, (x, y) in place.items():
        kind = scenarios[name].scenario_type
        parts.append(
            f'<g class="node node-{kind}"><rect x="{x}" y="{y}" width="{_BOX_W}" '
            f'height="{_BOX_H}" rx="6"/><text x="{x + 8}" y="{y + 18}">{escape(name[:24])}</text>'
            f'<text x="{x + 8}" y="{y + 35}" class="kind">{escape(kind)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
