"""Online learning throughput: in process against MABWiser and River, then over HTTP.

In process (one thread, same machine, same run): 50 offers × 100 segments,
each decision ranks the top 5 offers of one segment (customers spread over
the segments), every shown offer gets a response (taken up with a known
rate per offer and segment, seeded). A *step* is one decision and the
updates for its five shown offers:

- Recostack: ``OnlineBandit.select`` (Thompson draws per arm, random actions,
  the window and count kept; the shown offers counted as not taken up) and
  ``OnlineBandit.learn`` for each take-up — the in-memory learner with the
  options store's definitions (``recostack.algorithms.bandits``);
- MABWiser 2.7.4 Thompson sampling, one ``MAB`` per segment:
  ``predict_expectations`` (a sampled value per arm) → top 5, then
  ``partial_fit`` of the five with their rewards;
- River 0.26.1 ``bandit.ThompsonSampling`` over ``proba.Beta``, one policy per
  segment: a sample per arm (what its ``pull`` maximises) → top 5, then
  ``update`` per shown offer.

Decisions per second (decisions alone), responses per second (updates
alone) and steps per second (both). Target: Recostack's steps ≥ 10× MABWiser's.

Over HTTP, one server process (uvicorn, SQLite in a temporary directory,
as ``bench/deployment.py``), load from wrk on keep-alive connections:

- ``GET /api/models/{id}/recommend?itemId=`` (the bare model endpoint) and
  ``POST /api/deployments/{id}/recommend`` of a deployment linked to an
  online learning configuration (the same 50 × 100 arms, top 5, a random
  segment per request), in the same run, taking turns for ``--http-rounds``
  rounds (alternating which goes first): the median of the rounds' ratios,
  target ≥ 0.7×. A third endpoint takes its turn too: ``POST
  /api/deployments/{id}/recommend`` of a plain deployment of the same model
  (no online learning; customer lookup, prediction log), which tells the
  deployment layer's part of the cost from online learning's. The learner
  writes the shown offers off the request path:
  after each online round the bench waits until it has written them all
  (so its backlog does not slow the next round) and reports that catch-up
  time and the sustained rate, answers ÷ (load + catch-up), with its ratio;
- ``POST /api/deployments/{id}/responses``: a plan of responses, one to each
  offer of ``--responses / 5`` answers asked first, posted by wrk in order,
  each once, for ``--seconds`` (target ≥ 2,000/s); then the options store
  must have learned every response answered 201 (taken up + declined), in
  the plan's order (gaps only among the last 32, in flight when wrk stops),
  each once.

    .venv-bench/bin/python bench/bandit.py [--json] [--seconds 4] [--http-rounds 5]
        [--responses 50000]
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _common import emit, machine_info, parser, progress, table, verdict
from _load import Request, _parse_wrk, generator, run_load
from deployment import ADMIN, RECOMMEND, _serve  # the same server process, keys and store

OFFERS, SEGMENTS, TOP = 50, 100, 5
CONNECTIONS = 32


# ---------------------------------------------------------------- in process
class World:
    """Take-up rates per segment and offer, and a seeded stream of customers and outcomes."""

    def __init__(self, steps: int, seed: int = 3) -> None:
        rng = np.random.default_rng(seed)
        self.rates = rng.uniform(0.01, 0.2, size=(SEGMENTS, OFFERS))
        self.segments = rng.integers(0, SEGMENTS, steps)
        self.coins = rng.random((steps, TOP))

    def taken(self, step: int, segment: int, offers: list[int]) -> list[int]:
        return [int(self.coins[step, n] < self.rates[segment, o]) for n, o in enumerate(offers)]


class Learner:
    """One library's learner: ``decide`` shows offers for steps, ``respond`` updates them."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.shown: dict[int, tuple[int, list[int]]] = {}

    def decide(self, steps: range) -> None:
        raise NotImplementedError

    def respond(self, steps: range) -> None:
        raise NotImplementedError


class RecostackLearner(Learner):
    def __init__(self, world: World) -> None:
        from recostack.algorithms.bandits import EcosystemRewardsConfig, OnlineBandit

        super().__init__(world)
        config = EcosystemRewardsConfig()
        self.bandit = OnlineBandit(SEGMENTS, OFFERS, config, np.random.default_rng(5))
        # the compiled decision kernel loads (or compiles) on first use: not in the figures
        OnlineBandit(1, OFFERS, config, np.random.default_rng(0)).select(0, TOP)

    def decide(self, steps: range) -> None:
        for t in steps:
            s = int(self.world.segments[t])
            self.shown[t] = (s, self.bandit.select(s, TOP, now=float(t)).order.tolist())

    def respond(self, steps: range) -> None:
        # a shown offer already counts as not taken up: only take-ups change an arm
        for t in steps:
            s, offers = self.shown.pop(t)
            for offer, hit in zip(offers, self.world.taken(t, s, offers), strict=True):
                if hit:
                    self.bandit.learn(s, offer, float(t))


class MabwiserLearner(Learner):
    def __init__(self, world: World) -> None:
        from mabwiser.mab import MAB, LearningPolicy

        super().__init__(world)
        arms = list(range(OFFERS))
        self.models = [
            MAB(arms, LearningPolicy.ThompsonSampling(), seed=s) for s in range(SEGMENTS)
        ]
        for model in self.models:
            model.fit(arms, [0] * OFFERS)  # every arm known, at Beta(1, 2)

    def decide(self, steps: range) -> None:
        for t in steps:
            s = int(self.world.segments[t])
            sampled = self.models[s].predict_expectations()
            self.shown[t] = (s, sorted(sampled, key=sampled.__getitem__, reverse=True)[:TOP])

    def respond(self, steps: range) -> None:
        for t in steps:
            s, offers = self.shown.pop(t)
            self.models[s].partial_fit(offers, self.world.taken(t, s, offers))


class RiverLearner(Learner):
    def __init__(self, world: World) -> None:
        from river import bandit, proba

        super().__init__(world)
        self.policies = [bandit.ThompsonSampling(proba.Beta(), seed=s) for s in range(SEGMENTS)]
        self.arms = list(range(OFFERS))

    def decide(self, steps: range) -> None:
        for t in steps:
            s = int(self.world.segments[t])
            rewards = self.policies[s]._rewards  # what ThompsonSampling._pull samples and maximises
            sampled = {a: rewards[a].sample() for a in self.arms}
            self.shown[t] = (s, sorted(self.arms, key=sampled.__getitem__, reverse=True)[:TOP])

    def respond(self, steps: range) -> None:
        for t in steps:
            s, offers = self.shown.pop(t)
            for offer, hit in zip(offers, self.world.taken(t, s, offers), strict=True):
                self.policies[s].update(offer, hit)


LEARNERS: dict[str, type[Learner]] = {
    "recostack": RecostackLearner,
    "mabwiser": MabwiserLearner,
    "river": RiverLearner,
}


def in_process(world: World, steps: dict[str, int], rounds: int, args: Any) -> dict[str, Any]:
    """The learners take turns, round after round (each its share of steps per round), so a
    change in the machine's other load falls on all of them; figures from the total times."""
    learners: dict[str, Learner] = {}
    for name, kind in LEARNERS.items():
        try:
            learners[name] = kind(world)
        except ImportError as exc:
            progress(args, f"{name}: not importable ({exc}); run in the bench environment")
    spent = {name: [0.0, 0.0] for name in learners}
    done = dict.fromkeys(learners, 0)
    for r in range(rounds):
        for name, learner in learners.items():
            share = steps[name] // rounds
            chunk = range(r * share, (r + 1) * share)
            started = time.perf_counter()
            learner.decide(chunk)
            middle = time.perf_counter()
            learner.respond(chunk)
            spent[name][0] += middle - started
            spent[name][1] += time.perf_counter() - middle
            done[name] += share
        progress(args, f"round {r + 1} of {rounds}")
    return {
        name: {
            "steps": done[name],
            "decisions_per_s": done[name] / decide_s,
            "responses_per_s": done[name] * TOP / respond_s,
            "steps_per_s": done[name] / (decide_s + respond_s),
        }
        for name, (decide_s, respond_s) in spent.items()
    }


# ---------------------------------------------------------------- over HTTP
def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _setup(url: str, args: Any) -> tuple[str, str]:
    """A model, 50 offers × 100 segments, a configuration and its deployment."""
    from recostack.client import Client

    client = Client(url, ADMIN, poll_seconds=0.1)
    deadline = time.monotonic() + 180  # a loaded machine takes a while to start a server
    while True:
        try:
            client.list_projects()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    rng = np.random.default_rng(7)
    usage = "\n".join(
        f"u{u},i{rng.integers(500)},2024-03-01T10:00:00" for u in range(2000) for _ in range(10)
    )
    client.upload_file("bench", "usage.csv", usage)
    model = client.create_model(blob_container_name="bench", usage_relative_path="usage.csv")
    client.wait_for_model(model.id, timeout=300)
    offers = "offer,name\n" + "".join(f"o{i},Offer {i}\n" for i in range(OFFERS))
    client.upload_offers("bench", offers)
    client.online_learning_ecosystem_rewards_setup_feature_store(
        "recostack",
        "bench",
        "offer",
        {"segment": [f"s{s}" for s in range(SEGMENTS)]},
        "recostack",
        "bench_fs",
    )
    config_id = client.create_online_learning(
        "bench",
        "50 offers x 100 segments",
        "bench_fs",
        "recostack",
        "recostack",
        "bench_options",
        "offer",
        contextual_variables_contextual_variable_one_name="segment",
    )
    client.create_project("bench")
    client.create_deployment(
        "bench",
        "bench-nbo",
        model_id=model.id,
        multi_armed_bandit={"epsilon": 0, "duration": 0, "pulse_responder_id": config_id},
    ).wait_for_deployment(timeout=60)
    client.create_deployment("bench", "bench-plain", model_id=model.id).wait_for_deployment(
        timeout=60
    )
    progress(args, "model, offers, feature store, configuration and deployments ready")
    return model.id, config_id


def _answers(url: str, count: int, seed: int) -> list[tuple[str, list[str]]]:
    """``count`` online answers (request id, offers shown), asked on 8 connections."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    rng = np.random.default_rng(seed)
    bodies = [
        {
            "userId": f"c{rng.integers(100_000)}",
            "recommendationCount": TOP,
            "context": {"segment": f"s{rng.integers(SEGMENTS)}"},
        }
        for _ in range(count)
    ]

    def ask(share: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
        got = []
        with httpx.Client(base_url=url, headers={"x-api-key": RECOMMEND}, timeout=30) as http:
            for body in share:
                answer = http.post("/api/deployments/bench-nbo/recommend", json=body)
                if answer.status_code != 200:
                    raise RuntimeError(answer.text)
                data = answer.json()
                got.append((data["requestId"], [i["itemId"] for i in data["items"]]))
        return got

    with ThreadPoolExecutor(8) as pool:
        return [a for part in pool.map(ask, [bodies[n::8] for n in range(8)]) for a in part]


def _post_in_order(url: str, bodies: list[str], seconds: float) -> dict[str, Any]:
    """POST the bodies to the responses endpoint in order, each once, for ``seconds`` (wrk; a
    counter hands out the next body; after the last, ``GET /healthz``)."""
    path = "/api/deployments/bench-nbo/responses"
    rows = ",\n".join(f"[==[{b}]==]" for b in bodies)
    script = (
        f'wrk.headers["x-api-key"] = "{RECOMMEND}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"local bodies = {{\n{rows}\n}}\n"
        "local sent = 0\n"
        "request = function()\n"
        "  sent = sent + 1\n"
        "  if sent > #bodies then return wrk.format('GET', '/healthz') end\n"
        f"  return wrk.format('POST', '{path}', nil, bodies[sent])\n"
        "end\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{CONNECTIONS}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "-s",
                fh.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        ).stdout
    finally:
        os.unlink(fh.name)
    figures: dict[str, Any] = dict(_parse_wrk(out))
    total = re.search(r"(\d+) requests in ([\d.]+)s", out)
    if total is None:
        raise RuntimeError(f"wrk gave no figures:\n{out}")
    figures["answered"] = int(total.group(1))
    if figures["answered"] >= len(bodies):
        raise RuntimeError("every planned response was posted: plan more (--responses)")
    return figures


def _learned(root: Path, config_id: str) -> tuple[int, int, int]:
    """(responses in the options store's counts, response log records, interactions with an
    outcome)."""
    with sqlite3.connect(root / "recostack.db") as connection:
        row = connection.execute(
            "SELECT (SELECT coalesce(sum(taken_up + declined), 0) FROM online_arms "
            "WHERE config_id = ?), (SELECT count(*) FROM response_logs), "
            "(SELECT count(*) FROM online_interactions WHERE outcome IS NOT NULL)",
            (config_id,),
        ).fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def _outcomes(root: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(root / "recostack.db") as connection:
        return {
            (str(r[0]), str(r[1]))
            for r in connection.execute(
                "SELECT request_id, offer FROM online_interactions WHERE outcome IS NOT NULL"
            )
        }


def over_http(args: Any) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="recostack-bandit-bench-"))
    port = _port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(str(root), port))
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        model_id, config_id = _setup(url, args)
        rng = np.random.default_rng(11)
        bare: list[Request] = [
            ("GET", f"/api/models/{model_id}/recommend?itemId=i{i}&recommendationCount={TOP}", None)
            for i in rng.integers(500, size=2000)
        ]
        online: list[Request] = [
            (
                "POST",
                "/api/deployments/bench-nbo/recommend",
                json.dumps(
                    {
                        "userId": f"c{rng.integers(100_000)}",
                        "recommendationCount": TOP,
                        "context": {"segment": f"s{rng.integers(SEGMENTS)}"},
                    }
                ),
            )
            for _ in range(2000)
        ]
        plain: list[Request] = [
            (
                "POST",
                "/api/deployments/bench-plain/recommend",
                json.dumps({"itemId": f"i{i}", "recommendationCount": TOP}),
            )
            for i in rng.integers(500, size=2000)
        ]
        run_load(url, RECOMMEND, online, 3, CONNECTIONS)  # every segment's first answer
        run_load(url, RECOMMEND, plain, 2, CONNECTIONS)
        run_load(url, RECOMMEND, bare, 2, CONNECTIONS)
        # the machine's speed moves by 10-20 % within seconds: the endpoints take turns,
        # round by round in alternating order, and the ratio is the median of the rounds'
        _shown_settled(root)
        rounds: list[dict[str, dict[str, Any]]] = []
        for n in range(args.http_rounds):
            kinds = [("bare", bare), ("plain", plain), ("online", online)]
            measured_round: dict[str, dict[str, Any]] = {}
            for name, requests in kinds if n % 2 == 0 else kinds[::-1]:
                measured_round[name] = run_load(url, RECOMMEND, requests, args.seconds, CONNECTIONS)
                if name == "online":
                    # the learner writes the shown offers off the request path: what it had
                    # not written when the load stopped is written before the next run (it
                    # would slow that one down), and the time it takes is the online
                    # answers' too (sustained: answers ÷ (load + catch-up))
                    caught_up = _shown_settled(root)
                    figures = measured_round[name]
                    figures["learner_catch_up_s"] = caught_up
                    answers = float(figures["rps"]) * args.seconds
                    figures["sustained_rps"] = answers / (args.seconds + caught_up)
            rounds.append(measured_round)
            progress(
                args,
                f"round {n + 1}: bare {measured_round['bare']['rps']:.0f}/s, "
                f"plain deployment {measured_round['plain']['rps']:.0f}/s, "
                f"online {measured_round['online']['rps']:.0f}/s "
                f"(learner caught up {measured_round['online']['learner_catch_up_s']:.1f} s "
                f"later: {measured_round['online']['sustained_rps']:.0f}/s sustained)",
            )
        answers = _answers(url, args.responses // TOP, seed=13)
        progress(args, f"{len(answers)} answers to respond to")
        before = _settled(root, config_id)
        plan = [
            (request_id, offer, n % 7 == 0)
            for request_id, offers in answers
            for n, offer in enumerate(offers)
        ]
        bodies = [json.dumps({"requestId": q, "itemId": o, "takeUp": t}) for q, o, t in plan]
        posted = _post_in_order(url, bodies, args.seconds)
        progress(args, f"{posted['answered'] / args.seconds:.0f} responses/s")
        after = _settled(root, config_id)
        learned_pairs = _outcomes(root)
    finally:
        server.terminate()
        server.join(30)
    learned, logged = after[0] - before[0], after[1] - before[1]
    # wrk hands the bodies out in order on CONNECTIONS connections: the learned responses
    # must be the plan's first ones, with gaps only among the last CONNECTIONS (in flight
    # when wrk stopped: sent or not), none beyond, each counted once (the options store's
    # count equals the distinct pairs)
    # wrk's first call of request() makes a request it never sends (seen: the first body never
    # reaches the server, no response log record for it): the plan, as sent, starts at 1
    prefix = len(learned_pairs)
    settled_part = {(q, o) for q, o, _ in plan[1 : max(1, prefix + 1 - CONNECTIONS)]}
    reachable = {(q, o) for q, o, _ in plan[1 : prefix + 1 + CONNECTIONS]}
    exact = settled_part <= learned_pairs <= reachable and learned == prefix
    ratios = [float(r["online"]["rps"]) / float(r["bare"]["rps"]) for r in rounds]
    sustained = [float(r["online"]["sustained_rps"]) / float(r["bare"]["rps"]) for r in rounds]
    plain_ratios = [float(r["plain"]["rps"]) / float(r["bare"]["rps"]) for r in rounds]
    online_to_plain = [float(r["online"]["rps"]) / float(r["plain"]["rps"]) for r in rounds]
    return {
        "rounds": rounds,
        "bare_rps": float(np.median([r["bare"]["rps"] for r in rounds])),
        "plain_rps": float(np.median([r["plain"]["rps"] for r in rounds])),
        "online_rps": float(np.median([r["online"]["rps"] for r in rounds])),
        "online_sustained_rps": float(np.median([r["online"]["sustained_rps"] for r in rounds])),
        "learner_catch_up_s": [r["online"]["learner_catch_up_s"] for r in rounds],
        "ratios": ratios,
        "ratio": float(np.median(ratios)),
        "sustained_ratios": sustained,
        "sustained_ratio": float(np.median(sustained)),
        "plain_ratios": plain_ratios,
        "plain_ratio": float(np.median(plain_ratios)),
        "online_to_plain_ratios": online_to_plain,
        "online_to_plain_ratio": float(np.median(online_to_plain)),
        "responses": {
            **posted,
            "responses_per_s": posted["rps"],
            "planned": len(plan),
            "learned_in_options_store": learned,
            "response_log_records": logged,
            "learned_in_plan_order": exact,
            "learned_before_the_in_flight": len(settled_part & learned_pairs),
            "learned_beyond_the_in_flight": len(learned_pairs - reachable),
            "in_flight_at_the_end": prefix - posted["answered"],
            "lost": max(0, posted["answered"] - learned),
        },
    }


def _shown_count(root: Path) -> int:
    with sqlite3.connect(root / "recostack.db") as connection:
        return int(connection.execute("SELECT count(*) FROM online_interactions").fetchone()[0])


def _shown_settled(root: Path, quiet: float = 1.0, timeout: float = 300.0) -> float:
    """Seconds until the shown offers stopped growing (none written for ``quiet`` seconds)."""
    started = last_change = time.monotonic()
    last = _shown_count(root)
    while time.monotonic() - last_change < quiet:
        if time.monotonic() - started > timeout:
            raise RuntimeError("the learner did not catch up")
        time.sleep(0.1)
        now = _shown_count(root)
        if now != last:
            last, last_change = now, time.monotonic()
    return last_change - started


def _settled(root: Path, config_id: str, timeout: float = 120.0) -> tuple[int, int, int]:
    """The options store's responses and the response log's count once they stop growing
    (after the shown offers: responses are written after the answers they respond to)."""
    _shown_settled(root)
    deadline = time.monotonic() + timeout
    last = _learned(root, config_id)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = _learned(root, config_id)
        if now == last:
            return now
        last = now
    raise RuntimeError("the options store did not settle")


# ---------------------------------------------------------------- main
def _ratio_row(
    label: str, rounds: list[float], median: float, target: float | None = None
) -> tuple[str, str, str]:
    """A table row: the median of the rounds' ratios, each round's, and the target if any."""
    shown = ", ".join(f"{x:.2f}" for x in rounds)
    check = "" if target is None else f"≥ {target:g} {verdict(median >= target)}"
    return f"{label} (median of the rounds': {shown})", f"{median:.2f}", check


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20_000, help="in-process steps per library")
    p.add_argument("--peer-steps", type=int, default=3_000, help="steps for MABWiser and River")
    p.add_argument("--rounds", type=int, default=10, help="turns the learners take")
    p.add_argument("--seconds", type=float, default=4.0, help="each wrk run")
    p.add_argument(
        "--http-rounds", type=int, default=5, help="turns the two recommend endpoints take"
    )
    p.add_argument(
        "--responses", type=int, default=50_000, help="responses planned (more than wrk posts)"
    )
    p.add_argument("--no-http", action="store_true")
    args = p.parse_args()
    world = World(max(args.steps, args.peer_steps))
    figures: dict[str, Any] = {"machine": machine_info(), "load_average": os.getloadavg()}
    steps = {"recostack": args.steps, "mabwiser": args.peer_steps, "river": args.peer_steps}
    measured = in_process(world, steps, args.rounds, args)
    figures["in_process"] = measured
    rows = [
        (
            name,
            f"{f['decisions_per_s']:,.0f}",
            f"{f['responses_per_s']:,.0f}",
            f"{f['steps_per_s']:,.0f}",
        )
        for name, f in measured.items()
    ]
    if "mabwiser" in measured:
        ratio = measured["recostack"]["steps_per_s"] / measured["mabwiser"]["steps_per_s"]
        figures["steps_ratio_to_mabwiser"] = ratio
        rows.append(
            ("Recostack ÷ MABWiser (target ≥ 10)", "", "", f"{ratio:.1f} {verdict(ratio >= 10)}")
        )
    tables = [
        table(
            "in process: 50 offers × 100 segments, top 5",
            ("learner", "decisions/s", "responses/s", "steps/s"),
            rows,
        )
    ]
    if not args.no_http:
        http = over_http(args)
        figures["http"] = http
        r = http["responses"]
        tables.append(
            table(
                "over HTTP, one server process",
                ("measure", "figure", "target"),
                [
                    ("bare model recommend req/s (median)", f"{http['bare_rps']:,.0f}", ""),
                    (
                        "plain deployment recommend req/s (median)",
                        f"{http['plain_rps']:,.0f}",
                        "",
                    ),
                    (
                        "online deployment recommend req/s (median)",
                        f"{http['online_rps']:,.0f}",
                        "",
                    ),
                    (
                        "online sustained req/s (median; answers ÷ (load + learner catch-up: "
                        + ", ".join(f"{x:.1f}" for x in http["learner_catch_up_s"])
                        + " s))",
                        f"{http['online_sustained_rps']:,.0f}",
                        "",
                    ),
                    _ratio_row("ratio under load", http["ratios"], http["ratio"], 0.7),
                    _ratio_row(
                        "plain deployment ÷ bare", http["plain_ratios"], http["plain_ratio"]
                    ),
                    _ratio_row(
                        "online ÷ plain deployment",
                        http["online_to_plain_ratios"],
                        http["online_to_plain_ratio"],
                    ),
                    _ratio_row(
                        "ratio sustained", http["sustained_ratios"], http["sustained_ratio"], 0.7
                    ),
                    (
                        "responses/s",
                        f"{r['responses_per_s']:,.0f}",
                        f"≥ 2,000 {verdict(r['responses_per_s'] >= 2000)}",
                    ),
                    (
                        f"learned of {r['answered']:,} answered 201",
                        f"{r['learned_in_options_store']:,} (in the plan's order: "
                        f"{r['learned_in_plan_order']})",
                        f"lost 0 {verdict(r['lost'] == 0 and r['learned_in_plan_order'])}",
                    ),
                ],
                caption=f"{generator()}, {CONNECTIONS} connections, {args.seconds:g} s each, "
                f"{args.http_rounds} rounds",
            )
        )
    emit(args, figures, tables)


if __name__ == "__main__":
    main()
