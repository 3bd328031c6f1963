"""Business rules: filters, reranking, scenarios and A/B assignment.

Pure functions of a candidate list and item properties: no I/O, no web or
database imports. A serving layer, per request:

1. ``Resolution(snapshot, options).rules(user)`` → :class:`ResolvedRules`
   (filters, reranking, exclude_rated_items, and which scenarios / A/B group
   produced them; :func:`resolve_rules` is the one implementation);
2. ``filter_mask(resolved.filters, properties)`` → the allowed items (AND it
   with the "not rated" mask when ``exclude_rated_items``);
3. asks the model for ``candidate_pool_size(amt, len(resolved.reranking))``
   best allowed candidates;
4. ``rerank(items, scores, resolved.reranking, properties, k=amt)``.

Steps 2 and 4 are also compiled once per distinct rules: ``rule_plan(
resolved.filters, resolved.reranking, properties)`` gives the mask and the
arrays the compiled answer path reads (:mod:`recostack.serving.ruled_kernel`).

Scenario writes go through ``parse_scenario`` and
``validate_scenario_graph``; deletes check ``referrers`` and
``ab_tests_used``.
"""

from recostack.rules.ab_testing import (
    AbGroup,
    AbHasher,
    ab_bucket,
    ab_group,
    check_probability_a,
)
from recostack.rules.filters import (
    FILTER_OPS,
    Filter,
    FilterOp,
    apply_filters,
    compile_filter,
    filter_mask,
    parse_filter,
)
from recostack.rules.plan import RulePlan, rule_plan
from recostack.rules.properties import ItemProperties, parse_number
from recostack.rules.reranking import (
    RerankRule,
    candidate_pool_size,
    check_rerank_rules,
    parse_reranking,
    rerank,
)
from recostack.rules.resolution import (
    MAX_CHAIN_DEPTH,
    AbAssignment,
    AppliedScenario,
    Resolution,
    ResolvedRules,
    RuleOptions,
    RuleSet,
    RuntimeRules,
    resolve_rules,
    resolve_scenario,
)
from recostack.rules.scenarios import (
    RECO_TYPES,
    AbTestRef,
    AbTestScenario,
    AliasScenario,
    AliasTarget,
    CaseRules,
    CaseScenario,
    Condition,
    ConditionScenario,
    RecoType,
    Scenario,
    UserFunction,
    ab_tests_used,
    dump_scenario,
    find_cycle,
    meets_decisions,
    parse_scenario,
    referrers,
    validate_scenario_graph,
)
from recostack.rules.snapshot import EMPTY_SNAPSHOT, ScenarioSnapshot

__all__ = [
    "EMPTY_SNAPSHOT",
    "FILTER_OPS",
    "MAX_CHAIN_DEPTH",
    "RECO_TYPES",
    "AbAssignment",
    "AbGroup",
    "AbHasher",
    "AbTestRef",
    "AbTestScenario",
    "AliasScenario",
    "AliasTarget",
    "AppliedScenario",
    "CaseRules",
    "CaseScenario",
    "Condition",
    "ConditionScenario",
    "Filter",
    "FilterOp",
    "ItemProperties",
    "RecoType",
    "RerankRule",
    "Resolution",
    "ResolvedRules",
    "RuleOptions",
    "RulePlan",
    "RuleSet",
    "RuntimeRules",
    "Scenario",
    "ScenarioSnapshot",
    "UserFunction",
    "ab_bucket",
    "ab_group",
    "ab_tests_used",
    "apply_filters",
    "candidate_pool_size",
    "check_probability_a",
    "check_rerank_rules",
    "compile_filter",
    "dump_scenario",
    "filter_mask",
    "find_cycle",
    "meets_decisions",
    "parse_filter",
    "parse_number",
    "parse_reranking",
    "parse_scenario",
    "referrers",
    "rerank",
    "resolve_rules",
    "resolve_scenario",
    "rule_plan",
    "validate_scenario_graph",
]
