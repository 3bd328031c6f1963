"""Scoring a chunk of batch lines through the one recommend pipeline.

:class:`ModelScorer` answers each line with a model, as the model API would
(:class:`~recostack.serving.recommend.Recommender`: the job's rules and
scenario resolved against the scenarios as stored when the job started,
then item exploration). :class:`DeploymentScorer` answers each line through
a deployment's whole pipeline
(:class:`~recostack.serving.deployments.recommend.DeploymentRecommender`:
customer lookup, model selector, prediction arguments, whitelist, rules,
exploration, and the prediction log when the deployment logs). Both turn
a chunk of raw input lines into the chunk's output bytes; a line that
cannot be answered gets its error in its own output line.

Exploration draws are seeded by the job and the line's number, so a
resumed job writes what the first run would have.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from recostack.algorithms.exploration import ItemExploration
from recostack.errors import Conflict, RecostackError, Unavailable
from recostack.jobs.batch_lines import (
    BatchAnswer,
    BatchRequest,
    CsvLines,
    JsonLines,
    LineError,
    parse_line,
)
from recostack.rules import RecoType, RuleOptions, RuntimeRules
from recostack.serving.deployments.recommend import DeploymentRecommender, DeploymentRequest
from recostack.serving.recommend import Recommender, RecommendRequest
from recostack.training.trained_model import TrainedModel

__all__ = [
    "BatchRules",
    "ChunkScorer",
    "DeploymentScorer",
    "LineFormat",
    "ModelScorer",
    "line_seed",
    "reco_type_of",
]

LineFormat = JsonLines | CsvLines


class ChunkScorer(Protocol):
    @property
    def header(self) -> bytes:
        """What the output starts with (a CSV header; empty for JSON lines)."""

    def score(self, lines: Sequence[bytes], first_line: int) -> tuple[bytes, int]:
        """The output of ``lines`` (the first is line ``first_line`` of the input) and how
        many of them failed."""


def line_seed(base: int, line: int) -> int:
    """The exploration seed of input line ``line`` of a job seeded ``base``."""
    return (base * 1_000_003 + line) % (1 << 63)


def reco_type_of(request: BatchRequest) -> RecoType:
    if request.item_id is not None:
        return "item_to_items"
    return "profile_to_items" if request.user_id else "session_to_items"


@dataclass(frozen=True)
class BatchRules:
    """A job's rules: runtime filters and reranking, rated items, a scenario."""

    filters: tuple[str, ...] = ()
    reranking: tuple[str, ...] = ()
    exclude_rated_items: bool | None = None
    scenario: str | None = None
    skip_default_scenario: bool = False

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> BatchRules:
        return cls(
            tuple(config.get("filters") or ()),
            tuple(config.get("reranking") or ()),
            config.get("excludeRatedItems"),
            config.get("scenario") or config.get("filterArn") or None,
            bool(config.get("skipDefaultScenario")),
        )

    def options(self, reco_type: RecoType) -> RuleOptions:
        runtime = RuntimeRules(self.filters, self.reranking, self.exclude_rated_items)
        return RuleOptions(reco_type, runtime, self.scenario, self.skip_default_scenario)

    def arguments(self) -> dict[str, Any]:
        """The rules as the prediction arguments a deployment's recommend request sets
        (only those given), for the deployment's own resolution: its defaults or overrides,
        its business rules and default scenario, as for a single request."""
        arguments: dict[str, Any] = {}
        if self.filters:
            arguments["filters"] = list(self.filters)
        if self.reranking:
            arguments["reranking"] = list(self.reranking)
        if self.exclude_rated_items is not None:
            arguments["exclude_rated_items"] = self.exclude_rated_items
        if self.scenario is not None:
            arguments["scenario"] = self.scenario
        if self.skip_default_scenario:
            arguments["skip_default_scenario"] = True
        return arguments


@dataclass
class _Lines:
    """Shared by both scorers: parse a chunk, write each answer or error."""

    fmt: LineFormat
    header: Sequence[str] | None
    seed: int

    def parse(self, lines: Sequence[bytes]) -> list[BatchRequest | LineError]:
        parsed: list[BatchRequest | LineError] = []
        for raw in lines:
            try:
                parsed.append(parse_line(raw, self.header))
            except LineError as exc:
                parsed.append(exc)
        return parsed


class ModelScorer:
    """Lines answered by one loaded model through the :class:`Recommender`."""

    def __init__(
        self,
        recommender: Recommender,
        model_id: str,
        model: TrainedModel,
        *,
        count: int,
        rules: BatchRules,
        exploration: ItemExploration | None,
        fmt: LineFormat,
        header: Sequence[str] | None,
        seed: int,
    ) -> None:
        self.recommender = recommender
        self.model_id = model_id
        self.model = model
        self.count = count
        self.exploration = exploration
        self._options: dict[RecoType, RuleOptions] = {
            t: rules.options(t) for t in ("item_to_items", "profile_to_items", "session_to_items")
        }
        self._lines = _Lines(fmt, header, seed)
        self.header = fmt.header

    def answer(self, request: BatchRequest, line: int) -> BatchAnswer:
        answer = self.recommender.answer(
            self.model_id,
            self.model,
            RecommendRequest(
                self._options[reco_type_of(request)],
                self.count,
                request.item_id,
                request.events,
                request.user_id,
                request.session_id,
                self.exploration,
                line_seed(self._lines.seed, line) if self.exploration is not None else None,
            ),
        )
        return BatchAnswer(
            answer.item_ids, answer.scores, answer.propensities, model_id=self.model_id
        )

    def score(self, lines: Sequence[bytes], first_line: int) -> tuple[bytes, int]:
        fmt = self._lines.fmt
        out: list[bytes] = []
        failed = 0
        for i, (raw, request) in enumerate(zip(lines, self._lines.parse(lines), strict=True)):
            if isinstance(request, LineError):
                out.append(fmt.error(raw, str(request)))
                failed += 1
                continue
            try:
                out.append(fmt.answer(request, self.answer(request, first_line + i)))
            except RecostackError as exc:
                out.append(fmt.error(raw, exc.message, request))
                failed += 1
        return b"".join(out), failed


@dataclass
class DeploymentScorer:
    """Lines answered through a deployment's pipeline (the newest ACTIVE version)."""

    deployments: DeploymentRecommender
    deployment_id: str
    fmt: LineFormat
    input_header: Sequence[str] | None
    seed: int
    arguments: Mapping[str, Any] = field(default_factory=dict)
    exploration: ItemExploration | None = None
    #: a chunk is scored in this many slices on as many threads (``batch_threads``)
    threads: int = 1

    @property
    def header(self) -> bytes:
        return self.fmt.header

    def score(self, lines: Sequence[bytes], first_line: int) -> tuple[bytes, int]:
        # a deployment that does not serve fails the job, not every line
        live = self.deployments.live.get(self.deployment_id)
        parsed = _Lines(self.fmt, self.input_header, self.seed).parse(lines)
        collection = live.config.collection
        if collection is not None:
            ids = [
                r.customer_id or r.user_id
                for r in parsed
                if isinstance(r, BatchRequest) and (r.customer_id or r.user_id)
            ]
            self.deployments.customers.prefetch(collection, [i for i in ids if i])
        if self.threads <= 1 or len(lines) < 2:
            return asyncio.run(self._score(lines, parsed, first_line))
        step = -(-len(lines) // self.threads)
        starts = range(0, len(lines), step)
        with ThreadPoolExecutor(self.threads) as pool:
            parts = list(
                pool.map(
                    lambda start: asyncio.run(
                        self._score(
                            lines[start : start + step],
                            parsed[start : start + step],
                            first_line + start,
                        )
                    ),
                    starts,
                )
            )
        return b"".join(p[0] for p in parts), sum(p[1] for p in parts)

    def _arguments(self, request: BatchRequest) -> Mapping[str, Any]:
        if not request.context:
            return self.arguments
        context = {**dict(self.arguments.get("context") or {}), **request.context}
        return {**self.arguments, "context": context}

    async def _score(
        self, lines: Sequence[bytes], parsed: Sequence[BatchRequest | LineError], first_line: int
    ) -> tuple[bytes, int]:
        out: list[bytes] = []
        failed = 0
        for i, (raw, request) in enumerate(zip(lines, parsed, strict=True)):
            if isinstance(request, LineError):
                out.append(self.fmt.error(raw, str(request)))
                failed += 1
                continue
            try:
                body = await self.deployments.recommend(
                    self.deployment_id,
                    DeploymentRequest(
                        user_id=request.user_id,
                        customer_id=request.customer_id,
                        item_id=request.item_id,
                        events=request.events,
                        session_id=request.session_id,
                        arguments=self._arguments(request),
                        exploration=self.exploration,
                        seed=line_seed(self.seed, first_line + i),
                    ),
                )
            except (Conflict, Unavailable):
                raise  # the deployment stopped serving: the job fails (or resumes later)
            except RecostackError as exc:
                out.append(self.fmt.error(raw, exc.message, request))
                failed += 1
                continue
            items = body.get("items") or []
            answer = BatchAnswer(
                [item["itemId"] for item in items],
                [item["score"] for item in items],
                tuple(item.get("propensity") for item in items),
                {"requestId": body["requestId"], "modelId": body["modelId"]},
                model_id=body["modelId"],
            )
            out.append(self.fmt.answer(request, answer))
        return b"".join(out), failed
