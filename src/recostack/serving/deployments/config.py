"""A deployment's settings, parsed once, and the per-request steps they drive.

The settings document (``DeploymentRow.settings``) holds, in snake_case:

- ``default_prediction_arguments`` and ``set_as_override``: request
  arguments (``count``, ``filters``, ``reranking``, ``exclude_rated_items``,
  ``scenario``, ``skip_default_scenario``, ``context``, ``channel``) used when a
  request does not give them, or, as overrides, instead of what it gives;
- ``customer_lookup`` (the reference's ``parameter_access``): ``collection``,
  ``fields`` (which fields to read; default all), ``lookup_defaults`` (the
  record of a customer who is not found), ``virtual_variables`` (``bins`` of a
  number or ``combine`` of fields);
- ``model_selector``: ``lookup_field`` (``selector_column``) and ``selector``
  ``{value: [model index]}`` into the deployment's models;
- ``whitelist``: ``field`` of the customer record listing the items the
  customer may receive, and ``when_missing`` (``all`` or ``none``);
- ``business_rules`` (``filters``, ``reranking``, ``exclude_rated_items``) and
  ``default_scenario``: the deployment's rules, after the request's;
- ``logging``: ``enabled`` (default true) and ``retention_days``;
- ``item_exploration_config``: ``explorationWeight`` and ``explorationItemAgeCutOff``
  (:mod:`recostack.algorithms.exploration`): new items explored in every answer.

Everything here is pure: no I/O.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recostack.algorithms.exploration import ItemExploration
from recostack.errors import Invalid, Unprocessable
from recostack.serving.online.link import OnlineLink, parse_online_link
from recostack.training.trained_model import TrainedModel

__all__ = [
    "PREDICTION_ARGUMENTS",
    "DeploymentConfig",
    "merge_arguments",
]

PREDICTION_ARGUMENTS = frozenset(
    {
        "count",
        "filters",
        "reranking",
        "exclude_rated_items",
        "scenario",
        "skip_default_scenario",
        "context",
        "channel",
    }
)


def merge_arguments(
    given: Mapping[str, Any], defaults: Mapping[str, Any], *, override: bool
) -> dict[str, Any]:
    """The request's arguments with the deployment's defaults (or overrides)."""
    return {**given, **defaults} if override else {**defaults, **given}


def _list(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise Invalid(f"{name} must be a list of strings", field=name)


def _numeric_ids(lookup: Mapping[str, Any]) -> bool:
    spec = lookup.get("lookup")
    value = spec.get("value") if isinstance(spec, Mapping) else None
    return isinstance(value, int) and not isinstance(value, bool)


def _mapping(settings: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = settings.get(name) or {}
    if not isinstance(value, Mapping):
        raise Invalid(f"{name} must be an object", field=name)
    return value


@dataclass(frozen=True)
class VirtualVariable:
    name: str
    kind: str
    fields: tuple[str, ...]
    bins: tuple[float, ...] = ()
    labels: tuple[str, ...] = ()
    separator: str = "_"

    @classmethod
    def parse(cls, name: str, spec: Any) -> VirtualVariable:
        if not isinstance(spec, Mapping):
            raise Invalid(f"virtual variable {name!r} must be an object", field="virtual_variables")
        kind = spec.get("type", "combine" if "fields" in spec else "bins")
        if kind == "bins":
            bins = tuple(float(b) for b in spec.get("bins", ()))
            labels = tuple(str(v) for v in spec.get("labels", ())) or tuple(
                str(i) for i in range(len(bins) + 1)
            )
            if list(bins) != sorted(bins) or len(labels) != len(bins) + 1:
                raise Invalid(
                    f"virtual variable {name!r}: bins must be sorted, with one label more",
                    field="virtual_variables",
                )
            return cls(name, kind, (str(spec.get("field", "")),), bins, labels)
        if kind == "combine":
            fields = _list(spec.get("fields"), "virtual_variables")
            return cls(name, kind, fields, separator=str(spec.get("separator", "_")))
        raise Invalid(
            f"virtual variable {name!r}: type must be bins or combine", field="virtual_variables"
        )

    def value(self, record: Mapping[str, Any]) -> Any:
        if self.kind == "combine":
            return self.separator.join(str(record.get(f, "")) for f in self.fields)
        raw = record.get(self.fields[0])
        try:
            number = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return self.labels[bisect.bisect_right(self.bins, number)]


@dataclass(frozen=True)
class DeploymentConfig:
    defaults: Mapping[str, Any] = field(default_factory=dict)
    override: bool = False
    collection: str | None = None
    lookup_fields: tuple[str, ...] = ()
    lookup_defaults: Mapping[str, Any] = field(default_factory=dict)
    virtual_variables: tuple[VirtualVariable, ...] = ()
    selector_field: str | None = None
    selector: Mapping[str, int] = field(default_factory=dict)
    whitelist_field: str | None = None
    whitelist_when_missing: str = "all"
    #: the reference's whitelist data set (``customer_key``, ``white_list``), by customer id
    whitelist_collection: str | None = None
    #: the reference's model selector data set (``table_collection``), by customer id
    selector_collection: str | None = None
    #: ``parameter_access.lookup.value`` is a number: customer ids are read as numbers
    numeric_ids: bool = False
    filters: tuple[str, ...] = ()
    reranking: tuple[str, ...] = ()
    exclude_rated_items: bool | None = None
    default_scenario: str | None = None
    logging: bool = True
    retention_days: float | None = None
    #: ``multi_armed_bandit`` / ``setup_offer_matrix``: the online learning configuration
    online: OnlineLink | None = None
    exploration: ItemExploration | None = None

    @classmethod
    def parse(cls, settings: Mapping[str, Any], n_models: int = 1) -> DeploymentConfig:
        """The config of a settings document (:class:`Invalid` names what is wrong)."""
        defaults = dict(_mapping(settings, "default_prediction_arguments"))
        unknown = set(defaults) - PREDICTION_ARGUMENTS
        if unknown:
            raise Invalid(
                f"unknown prediction argument(s) {sorted(unknown)}; known: "
                f"{sorted(PREDICTION_ARGUMENTS)}",
                field="default_prediction_arguments",
            )
        lookup = _mapping(settings, "customer_lookup")
        selector_spec = _mapping(settings, "model_selector")
        whitelist = _mapping(settings, "whitelist")
        rules = _mapping(settings, "business_rules")
        logging = _mapping(settings, "logging")
        lookup_defaults = lookup.get("lookup_defaults") or {}
        if not isinstance(lookup_defaults, Mapping):
            raise Invalid("lookup_defaults must be an object", field="lookup_defaults")
        virtual = _mapping(lookup, "virtual_variables")
        selector: dict[str, int] = {}
        for value, target in _mapping(selector_spec, "selector").items():
            index = target[0] if isinstance(target, list) and target else target
            if not isinstance(index, int) or not 0 <= index < n_models:
                raise Invalid(
                    f"model_selector: {value!r} selects model {index!r}; the deployment has "
                    f"{n_models} model(s) (indices 0..{n_models - 1})",
                    field="model_selector",
                )
            selector[str(value)] = index
        when_missing = str(whitelist.get("when_missing", "all"))
        if when_missing not in ("all", "none"):
            raise Invalid("whitelist.when_missing is all or none", field="whitelist")
        exclude = rules.get("exclude_rated_items")
        retention = logging.get("retention_days")
        return cls(
            defaults=defaults,
            override=bool(settings.get("set_as_override", False)),
            collection=lookup.get("collection") or None,
            lookup_fields=_list(lookup.get("fields"), "customer_lookup.fields"),
            lookup_defaults=dict(lookup_defaults),
            virtual_variables=tuple(VirtualVariable.parse(n, s) for n, s in virtual.items()),
            selector_field=selector_spec.get("lookup_field")
            or selector_spec.get("selector_column"),
            selector=selector,
            whitelist_field=whitelist.get("field")
            or ("white_list" if whitelist.get("collection") else None),
            whitelist_collection=whitelist.get("collection") or None,
            selector_collection=selector_spec.get("table_collection") or None,
            numeric_ids=_numeric_ids(lookup),
            whitelist_when_missing=when_missing,
            filters=_list(rules.get("filters"), "business_rules.filters"),
            reranking=_list(rules.get("reranking"), "business_rules.reranking"),
            exclude_rated_items=None if exclude is None else bool(exclude),
            default_scenario=settings.get("default_scenario") or None,
            logging=bool(logging.get("enabled", True)),
            retention_days=float(retention) if retention is not None else None,
            online=parse_online_link(settings),
            exploration=ItemExploration.from_wire(settings.get("item_exploration_config")),
        )

    # --- the per-request steps, in the order they run -------------------------------
    def customer_key(self, raw: str) -> str:
        """The request's customer id as the lookups key it (a number's canonical text when
        ``parameter_access.lookup.value`` is a number)."""
        if not self.numeric_ids:
            return raw
        try:
            return str(int(raw.strip()))
        except ValueError:
            raise Unprocessable(
                f"customer id {raw!r} is not a number (parameter_access.lookup.value is one)",
                field="customerId",
            ) from None

    def customer_record(self, found: Mapping[str, Any] | None) -> dict[str, Any]:
        """The looked-up record's fields selected over the defaults (a missing customer gets
        every default; a found one, the defaults of the fields it lacks or leaves empty),
        virtual variables added."""
        record = dict(self.lookup_defaults)
        if found is not None:
            chosen = self.lookup_fields or tuple(found)
            record.update({f: found[f] for f in chosen if found.get(f) not in (None, "")})
        for variable in self.virtual_variables:
            record[variable.name] = variable.value(record)
        return record

    def model_index(self, record: Mapping[str, Any]) -> int:
        if self.selector_field is None:
            return 0
        return self.selector.get(str(record.get(self.selector_field)), 0)

    def arguments(self, given: Mapping[str, Any]) -> dict[str, Any]:
        return merge_arguments(given, self.defaults, override=self.override)

    def whitelist_mask(
        self,
        model: TrainedModel,
        record: Mapping[str, Any],
        known: WhitelistIndices | None = None,
    ) -> np.ndarray | None:
        """The items this customer may receive, as a mask (``None``: no restriction).

        ``record`` is :meth:`customer_record`'s: a customer who is not found
        gets the lookup defaults' whitelist, as every other default.
        ``known`` remembers the item indices of whitelists seen before with
        this model (customers come back; their lists are parsed once).
        """
        if self.whitelist_field is None:
            return None
        listed = record.get(self.whitelist_field)
        if listed is None or listed == "":
            return None if self.whitelist_when_missing == "all" else np.zeros(model.n_items, bool)
        indices = (known or WhitelistIndices(0)).indices(model, listed)
        mask = np.zeros(model.n_items, dtype=bool)
        mask[indices] = True
        return mask


class WhitelistIndices:
    """Item indices of whitelists (``;``-separated ids, or a list), LRU, for one model."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self.maxsize = maxsize
        self._known: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def indices(self, model: TrainedModel, listed: Any) -> np.ndarray:
        key: Hashable | None = listed if isinstance(listed, str) else _hashable(listed)
        if key is not None:
            with self._lock:
                found = self._known.get(key)
                if found is not None:
                    self._known.move_to_end(key)
                    return found
        ids = listed.split(";") if isinstance(listed, str) else listed
        lookup = model.items.lookup  # a dict: faster than an index for a hundred ids
        indices = np.array(
            [j for i in ids if (j := lookup.get(str(i).strip())) is not None], dtype=np.int64
        )
        if key is not None and self.maxsize:
            with self._lock:
                self._known[key] = indices
                while len(self._known) > self.maxsize:
                    self._known.popitem(last=False)
        return indices


def _hashable(listed: Any) -> tuple[Any, ...] | None:
    try:
        key = tuple(listed)
        hash(key)
    except TypeError:
        return None
    return key
