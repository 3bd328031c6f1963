"""The saved scenarios, default scenarios and A/B tests, as of one stamp.

A :class:`ScenarioSnapshot` is an immutable value: the store reads one
(``recostack.store.scenario_repository``), the serving layer holds the
current one and resolves every request's rules against it
(:class:`~recostack.rules.resolution.Resolution`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from recostack.rules.scenarios import Scenario

__all__ = ["EMPTY_SNAPSHOT", "ScenarioSnapshot"]

_NO_SCENARIOS: Mapping[str, Scenario] = {}


@dataclass(frozen=True, eq=False)
class ScenarioSnapshot:
    """Everything the rules need per request, as of ``stamp`` (its version)."""

    #: the store's change stamp this snapshot was read at (``None``: nothing stored yet)
    stamp: str | None
    #: reco type → scenario name → scenario
    scenarios: Mapping[str, Mapping[str, Scenario]]
    #: reco type → its default scenario
    defaults: Mapping[str, str]
    #: A/B test id → probability of group A
    ab_tests: Mapping[str, float]

    def of_type(self, reco_type: str) -> Mapping[str, Scenario]:
        return self.scenarios.get(reco_type, _NO_SCENARIOS)


EMPTY_SNAPSHOT = ScenarioSnapshot(None, {}, {}, {})
