"""The options store: arms (offer × segment) of each configuration, and learning writes.

An arm's ``alpha`` and ``beta`` are its priors plus the weighted
contributions of its interactions that still count (see
:mod:`recostack.algorithms.bandits`). Every change is an atomic increment
(``SET beta = beta + :d``) inside the transaction that also writes the
interactions it comes from, interactions first and arms after, in key
order: any number of processes can write at once, and nothing is lost or
counted twice. A take-up converts an interaction only while it has no
outcome (``WHERE outcome IS NULL``), so a response posted twice counts once.

:func:`sweep` keeps the window and the count: interactions older than
``processing_window`` or past the arm's latest ``processing_count`` stop
counting and their contributions are subtracted (each exactly once: the
row update that marks it decides). With decay (``decay_gamma`` ≠ 1 or an
``interaction_count``), the arms touched since the last sweep are recomputed
from their interactions under the arm's row lock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Connection, bindparam, insert, select, text

from recostack.algorithms.bandits import EcosystemRewardsConfig, arm_contributions
from recostack.serving.online.records import ArmTable, Impression, ResponseEvent
from recostack.store.arm_keys import arm_key
from recostack.store.bulk_rows import insert_rows, parameter_mark
from recostack.store.deployment_tables import ResponseLogRow
from recostack.store.online_tables import ArmRow, InteractionRow
from recostack.store.tables import UTCDateTime, utcnow

__all__ = [
    "arms_under",
    "ensure_arms",
    "interactions_of_requests",
    "list_arms",
    "purge_interactions",
    "read_arm_table",
    "recompute_arms",
    "record_impressions",
    "record_responses",
    "set_priors",
    "sweep",
    "warm_start",
]

Arm = tuple[str, str]  # (offer, segment)


def _count_shown(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Count shown offers into their arms (created at alpha = beta = 1 if new): one row per
    arm of (config_id, offer, segment, beta added, shown, counted, last draw, time)."""
    mark = parameter_mark(connection)
    arm, counts = f"{mark}, {mark}, {mark}", f"1.0, 1.0 + {mark}, 1.0, 1.0, {mark}, 0, 0, 0.0"
    values = f"{arm}, {counts}, {mark}, {mark}, {mark}"
    insert_rows(
        connection,
        "INSERT INTO online_arms (config_id, offer, segment, alpha, beta, alpha_zero, "
        "beta_zero, shown, taken_up, declined, reward_sum, counted, arm_reward, updated_at)",
        f"({values})",
        rows,
        "ON CONFLICT (config_id, offer, segment) DO UPDATE SET "
        "beta = online_arms.beta + (excluded.beta - excluded.beta_zero), "
        "shown = online_arms.shown + excluded.shown, "
        "counted = online_arms.counted + excluded.counted, "
        "arm_reward = excluded.arm_reward, updated_at = excluded.updated_at",
    )


_ADD = text(
    """
    UPDATE online_arms SET alpha = alpha + :alpha, beta = beta + :beta,
        taken_up = taken_up + :taken_up, declined = declined + :declined,
        reward_sum = reward_sum + :reward_sum, counted = counted + :counted, updated_at = :now
    WHERE config_id = :config_id AND offer = :offer AND segment = :segment
    """
).bindparams(bindparam("now", type_=UTCDateTime()))


def _zero() -> dict[str, float]:
    return {
        "alpha": 0.0,
        "beta": 0.0,
        "taken_up": 0,
        "declined": 0,
        "reward_sum": 0.0,
        "counted": 0,
    }


def _apply(connection: Connection, deltas: dict[tuple[str, str, str], dict[str, float]]) -> None:
    """Add each arm's deltas, in key order (one lock order for every process)."""
    now = utcnow()
    rows = [
        {"config_id": c, "offer": o, "segment": s, "now": now, **d}
        for (c, o, s), d in sorted(deltas.items())
        if any(d.values())
    ]
    if rows:
        connection.execute(_ADD, rows)


# --- learning writes --------------------------------------------------------------------


_INTERACTION_COLUMNS = (
    "request_id, offer, config_id, deployment_id, version, segment, customer_id, rank, "
    "shown_ms, draw, propensity, explored, outcome, reward, weight, counted, arm_key"
)


def record_impressions(connection: Connection, impressions: Sequence[Impression]) -> None:
    """Store shown offers and count them (not taken up until a take-up converts them).

    Rows go to the driver as flat tuples, many to a statement (:mod:`recostack.store.bulk_rows`:
    SQLAlchemy's per-row binding, or a statement stepped once per row, keeps the writer
    thread waiting on the GIL while the request path runs)."""
    if not impressions:
        return
    arms: dict[tuple[str, str, str], list[float]] = {}
    for i in impressions:
        entry = arms.setdefault((i.config_id, i.offer, i.segment), [0, 0.0, 0.0])
        entry[0] += 1
        entry[1] += i.fail_part
        entry[2] = i.draw
    keys = {arm: arm_key(*arm) for arm in arms}
    mark = parameter_mark(connection)
    # a new interaction: no outcome or reward yet, weight 1, counted (literals, not values
    # to bind: the binding holds the GIL)
    insert_rows(
        connection,
        f"INSERT INTO online_interactions ({_INTERACTION_COLUMNS})",
        f"({', '.join([mark] * 12)}, NULL, NULL, 1.0, TRUE, {mark})",
        [(*i[:12], keys[i.config_id, i.offer, i.segment]) for i in impressions],
    )
    now: Any = utcnow()
    if connection.dialect.name == "sqlite":  # as SQLAlchemy's SQLite DATETIME stores a time
        now = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    _count_shown(
        connection,
        [(c, o, s, b, int(n), int(n), d, now) for (c, o, s), (n, b, d) in sorted(arms.items())],
    )


#: (request, offer) pairs converted per statement
_RESPOND_CHUNK = 500


def _convert(connection: Connection, events: Sequence[ResponseEvent]) -> list[Any]:
    """Set the outcome of the interactions the events respond to, where it has none yet, in
    bulk (one ``UPDATE ... FROM (VALUES ...)`` per chunk, pairs in key order); the rows that
    changed. An interaction's row lock and ``outcome IS NULL`` decide which response of a
    pair is learned: a second one, from this batch or any process, changes nothing."""
    first: dict[tuple[str, str], ResponseEvent] = {}
    for event in events:
        first.setdefault((event.request_id, event.offer), event)
    keys = sorted(first)
    changed: list[Any] = []
    for start in range(0, len(keys), _RESPOND_CHUNK):
        parameters: dict[str, Any] = {}
        values = []
        for n, key in enumerate(keys[start : start + _RESPOND_CHUNK]):
            event = first[key]
            parameters.update(
                {f"q{n}": key[0], f"o{n}": key[1], f"t{n}": event.take_up, f"r{n}": event.reward}
            )
            values.append(
                f"(:q{n}, :o{n}, CAST(:t{n} AS BOOLEAN), CAST(:r{n} AS DOUBLE PRECISION))"
            )
        statement = text(
            f"WITH v (request_id, offer, take_up, reward) AS (VALUES {', '.join(values)}) "
            "UPDATE online_interactions SET outcome = v.take_up, reward = v.reward FROM v "
            "WHERE online_interactions.request_id = v.request_id "
            "AND online_interactions.offer = v.offer AND online_interactions.outcome IS NULL "
            "RETURNING online_interactions.request_id, online_interactions.offer, "
            "online_interactions.config_id, online_interactions.segment, "
            "online_interactions.weight, online_interactions.counted"
        )
        changed += connection.execute(statement, parameters).all()
    return changed


def record_responses(connection: Connection, events: Sequence[ResponseEvent]) -> int:
    """Store responses (their log records) and learn from them; how many converted a shown
    offer (a second response to the same request and offer converts nothing)."""
    if not events:
        return 0
    connection.execute(insert(ResponseLogRow.__table__), [dict(e.log) for e in events])  # type: ignore[arg-type]
    learning = {(e.request_id, e.offer): e for e in reversed(events) if e.config_id}
    deltas: dict[tuple[str, str, str], dict[str, float]] = defaultdict(_zero)
    converted = _convert(connection, [e for e in events if e.config_id])
    for request_id, offer, config_id, segment, weight, counted in converted:
        event = learning[(request_id, offer)]
        delta = deltas[(config_id, offer, segment)]
        if event.take_up:
            delta["taken_up"] += 1
            delta["reward_sum"] += event.success_part
            if counted:
                delta["alpha"] += weight * event.success_part
                delta["beta"] -= weight * event.fail_part
        else:
            delta["declined"] += 1
    _apply(connection, deltas)
    return len(converted)


# --- the window, the count and decay ------------------------------------------------------


def _parts(row: Any, params: EcosystemRewardsConfig) -> tuple[float, float]:
    """(alpha part, beta part) an interaction row contributes now."""
    if row.outcome:
        return row.weight * params.success_part(row.reward), 0.0
    return 0.0, row.weight * params.fail_part


def _uncount(
    connection: Connection,
    statement: Any,
    parameters: dict[str, Any],
    params: EcosystemRewardsConfig,
    config_id: str,
) -> set[Arm]:
    deltas: dict[tuple[str, str, str], dict[str, float]] = defaultdict(_zero)
    for row in connection.execute(statement, parameters):
        a, b = _parts(row, params)
        delta = deltas[(config_id, row.offer, row.segment)]
        delta["alpha"] -= a
        delta["beta"] -= b
        delta["counted"] -= 1
    _apply(connection, deltas)
    return {(o, s) for _, o, s in deltas}


# ``counted = true``, not a bare ``counted``: SQLite's planner seeks the index on
# (config_id, counted, shown_ms) only for an equality on counted; a bare ``counted`` scanned
# every interaction of the configuration at each sweep (125 ms at 600,000 rows, 0.2 ms now)
_EXPIRE = text(
    """
    UPDATE online_interactions SET counted = false
    WHERE config_id = :config_id AND counted = true AND shown_ms < :limit
    RETURNING offer, segment, weight, outcome, reward
    """
)
# here a bare ``counted``, so that SQLite reads the arm's rows through its key (an equality on
# counted would make the configuration's counted index look the better one)
_OVER_COUNT = text(
    """
    UPDATE online_interactions SET counted = false
    WHERE (request_id, offer) IN (
        SELECT request_id, offer FROM online_interactions
        WHERE arm_key = :arm_key AND config_id = :config_id AND offer = :offer
            AND segment = :segment AND counted
        ORDER BY shown_ms DESC, request_id DESC LIMIT -1 OFFSET :keep)
    RETURNING offer, segment, weight, outcome, reward
    """
)


_PURGE = text(
    """
    DELETE FROM online_interactions WHERE (request_id, offer) IN (
        SELECT request_id, offer FROM online_interactions
        WHERE config_id = :config_id AND counted = false AND shown_ms < :before
            AND deployment_id = :deployment_id
        LIMIT :limit)
    """
)


def purge_interactions(
    connection: Connection,
    deployment_id: str,
    config_ids: Iterable[str],
    before_ms: int,
    limit: int,
) -> int:
    """Delete at most ``limit`` per configuration of the deployment's shown offers of
    ``config_ids`` shown before ``before_ms`` that no longer count (an interaction that
    counts is part of its arm's alpha and beta: it stays until the window or the count drops
    it); how many were deleted. Each configuration's rows are found through its
    ``(config_id, counted, shown_ms)`` index."""
    removed = 0
    for config_id in config_ids:
        result = connection.execute(
            _PURGE,
            {
                "config_id": config_id,
                "before": before_ms,
                "deployment_id": deployment_id,
                "limit": limit,
            },
        )
        removed += int(result.rowcount)
    return removed


def sweep(
    connection: Connection,
    config_id: str,
    params: EcosystemRewardsConfig,
    now_ms: int,
    since_ms: int | None = None,
) -> int:
    """Apply the window, the count and (with decay) the weights; how many arms changed."""
    changed = _uncount(
        connection,
        _EXPIRE,
        {"config_id": config_id, "limit": now_ms - params.processing_window},
        params,
        config_id,
    )
    over = connection.execute(
        select(ArmRow.offer, ArmRow.segment).where(
            ArmRow.config_id == config_id, ArmRow.counted > params.processing_count
        )
    ).all()
    statement = _OVER_COUNT
    if connection.dialect.name == "postgresql":
        statement = text(str(_OVER_COUNT).replace("LIMIT -1 OFFSET", "OFFSET"))
    for offer, segment in sorted(over):
        changed |= _uncount(
            connection,
            statement,
            {
                "config_id": config_id,
                "offer": offer,
                "segment": segment,
                "arm_key": arm_key(config_id, offer, segment),
                "keep": params.processing_count,
            },
            params,
            config_id,
        )
    if params.decays and since_ms is not None:
        touched = connection.execute(
            select(InteractionRow.offer, InteractionRow.segment)
            .where(InteractionRow.config_id == config_id, InteractionRow.shown_ms >= since_ms)
            .distinct()
        ).all()
        arms = {(o, s) for o, s in touched} | changed
        recompute_arms(connection, config_id, params, now_ms, arms)
    return len(changed)


def recompute_arms(
    connection: Connection,
    config_id: str,
    params: EcosystemRewardsConfig,
    now_ms: int,
    arms: Iterable[Arm] | None = None,
) -> None:
    """Set arms' alpha and beta from their counted interactions (every arm of the
    configuration by default), under each arm's row lock."""
    if arms is None:
        arms = {
            (o, s)
            for o, s in connection.execute(
                select(ArmRow.offer, ArmRow.segment).where(ArmRow.config_id == config_id)
            )
        }
    lock = " FOR UPDATE" if connection.dialect.name == "postgresql" else ""
    for offer, segment in sorted(arms):
        key = {"config_id": config_id, "offer": offer, "segment": segment}
        locked = connection.execute(
            text(
                "SELECT alpha_zero, beta_zero FROM online_arms WHERE config_id = :config_id "
                f"AND offer = :offer AND segment = :segment{lock}"
            ),
            key,
        ).first()
        if locked is None:
            continue
        rows = connection.execute(
            select(
                InteractionRow.request_id,
                InteractionRow.shown_ms,
                InteractionRow.customer_id,
                InteractionRow.outcome,
                InteractionRow.reward,
                InteractionRow.weight,
            ).where(
                InteractionRow.arm_key == arm_key(config_id, offer, segment),
                InteractionRow.config_id == config_id,
                InteractionRow.offer == offer,
                InteractionRow.segment == segment,
                InteractionRow.counted,
            )
        ).all()
        evidence = arm_contributions(
            [float(r.shown_ms) for r in rows],
            [r.customer_id for r in rows],
            [bool(r.outcome) for r in rows],
            [r.reward for r in rows],
            float(now_ms),
            params,
        )
        updates = [
            {"w": float(w), "c": bool(w > 0), "q": r.request_id, "o": offer}
            for r, w in zip(rows, evidence.weights, strict=True)
            if w != r.weight
        ]
        if updates:
            connection.execute(
                text(
                    "UPDATE online_interactions SET weight = :w, counted = :c "
                    "WHERE request_id = :q AND offer = :o"
                ),
                updates,
            )
        connection.execute(
            text(
                "UPDATE online_arms SET alpha = alpha_zero + :a, beta = beta_zero + :b, "
                "counted = :n WHERE config_id = :config_id AND offer = :offer "
                "AND segment = :segment"
            ),
            {
                **key,
                "a": evidence.alpha,
                "b": evidence.beta,
                "n": int((evidence.weights > 0).sum()),
            },
        )


def arms_under(
    connection: Connection,
    config_id: str,
    params: EcosystemRewardsConfig,
    now_ms: int,
    segments: Iterable[str] | None = None,
) -> dict[Arm, tuple[float, float]]:
    """What the interactions of a configuration would add to each arm's (alpha, beta) at
    ``now_ms`` under ``params`` (their window, count, decay and rewards: the definition
    :func:`sweep` and :func:`recompute_arms` apply), whatever the configuration's own
    parameters counted; only the interactions shown in the window up to ``now_ms`` are
    read (of ``segments`` only, if given). Ties in time: the higher request id is newer,
    as the count's ``ORDER BY shown_ms DESC, request_id DESC``."""
    query = (
        select(
            InteractionRow.offer,
            InteractionRow.segment,
            InteractionRow.shown_ms,
            InteractionRow.customer_id,
            InteractionRow.outcome,
            InteractionRow.reward,
        )
        .where(
            InteractionRow.config_id == config_id,
            InteractionRow.shown_ms >= now_ms - params.processing_window,
            InteractionRow.shown_ms <= now_ms,
        )
        .order_by(InteractionRow.shown_ms, InteractionRow.request_id)
    )
    by_arm: dict[Arm, list[Any]] = defaultdict(list)
    wanted = None if segments is None else sorted(set(segments))
    chunks = (
        [None] if wanted is None else [wanted[n : n + 1000] for n in range(0, len(wanted), 1000)]
    )
    for chunk in chunks:
        statement = query if chunk is None else query.where(InteractionRow.segment.in_(chunk))
        for row in connection.execute(statement):
            by_arm[(row.offer, row.segment)].append(row)
    found: dict[Arm, tuple[float, float]] = {}
    for arm, rows in by_arm.items():
        evidence = arm_contributions(
            [float(r.shown_ms) for r in rows],
            [r.customer_id for r in rows],
            [bool(r.outcome) for r in rows],
            [r.reward for r in rows],
            float(now_ms),
            params,
        )
        found[arm] = (evidence.alpha, evidence.beta)
    return found


# --- arms: creation, priors, reads -------------------------------------------------------


def ensure_arms(connection: Connection, config_id: str, arms: Iterable[Arm]) -> int:
    """Create the arms that do not exist yet, at alpha = beta = 1; how many were created."""
    existing = {
        (o, s)
        for o, s in connection.execute(
            select(ArmRow.offer, ArmRow.segment).where(ArmRow.config_id == config_id)
        )
    }
    now = utcnow()
    rows = [
        {
            "config_id": config_id,
            "offer": o,
            "segment": s,
            "alpha": 1.0,
            "beta": 1.0,
            "alpha_zero": 1.0,
            "beta_zero": 1.0,
            "shown": 0,
            "taken_up": 0,
            "declined": 0,
            "reward_sum": 0.0,
            "counted": 0,
            "arm_reward": None,
            "updated_at": now,
        }
        for o, s in sorted(set(arms) - existing)
    ]
    if rows:
        connection.execute(insert(ArmRow.__table__), rows)  # type: ignore[arg-type]
    return len(rows)


def set_priors(
    connection: Connection, config_id: str, priors: Iterable[tuple[str, str, float, float]]
) -> int:
    """Set arms' priors (alpha_zero, beta_zero), moving alpha and beta by the change."""
    rows: list[dict[str, Any]] = [
        {
            "config_id": config_id,
            "offer": o,
            "segment": s,
            "a0": float(a),
            "b0": float(b),
            "now": utcnow(),
        }
        for o, s, a, b in priors
    ]
    ensure_arms(connection, config_id, [(r["offer"], r["segment"]) for r in rows])
    statement = text(
        "UPDATE online_arms SET alpha = alpha + (:a0 - alpha_zero), "
        "beta = beta + (:b0 - beta_zero), alpha_zero = :a0, beta_zero = :b0, updated_at = :now "
        "WHERE config_id = :config_id AND offer = :offer AND segment = :segment"
    ).bindparams(bindparam("now", type_=UTCDateTime()))
    if rows:
        connection.execute(statement, sorted(rows, key=lambda r: (r["offer"], r["segment"])))
    return len(rows)


def warm_start(
    connection: Connection,
    config_id: str,
    params: EcosystemRewardsConfig,
    history: Iterable[tuple[str, str, float, float]],
) -> int:
    """Add historical (offer, segment, take-ups, others) to the priors (and alpha, beta):
    ``prior_success_reward`` / ``prior_fail_reward`` each, times ``discount_factor``."""
    rows: list[dict[str, Any]] = []
    for offer, segment, taken, others in history:
        a, b = params.warm_start(taken, others)
        rows.append({"config_id": config_id, "offer": offer, "segment": segment, "a": a, "b": b})
    ensure_arms(connection, config_id, [(r["offer"], r["segment"]) for r in rows])
    if rows:
        connection.execute(
            text(
                "UPDATE online_arms SET alpha_zero = alpha_zero + :a, alpha = alpha + :a, "
                "beta_zero = beta_zero + :b, beta = beta + :b "
                "WHERE config_id = :config_id AND offer = :offer AND segment = :segment"
            ),
            sorted(rows, key=lambda r: (r["offer"], r["segment"])),
        )
    return len(rows)


#: a configuration's arms in one row of two texts (see :func:`read_arm_table`), per dialect;
#: ``{segments}`` is empty or a condition on the segment
_ARM_TABLE_SQL = {
    # printf's "!" keeps all 17 digits: every figure reads back exactly
    "sqlite": (
        "SELECT json_group_array(json_array(offer, segment)), '[' || group_concat(printf("
        "'%!.17g,%!.17g,%!.17g,%!.17g,%d,%d', alpha, beta, alpha_zero, beta_zero, shown, "
        "taken_up)) || ']' FROM (SELECT * FROM online_arms WHERE config_id = :config_id"
        "{segments} ORDER BY offer, segment)"
    ),
    # a float's text is its shortest exact form (extra_float_digits 1, the default)
    "postgresql": (
        "SELECT json_agg(json_build_array(offer, segment) ORDER BY offer, segment)::text, "
        "'[' || string_agg(concat_ws(',', alpha, beta, alpha_zero, beta_zero, shown, "
        "taken_up), ',' ORDER BY offer, segment) || ']' FROM online_arms "
        "WHERE config_id = :config_id{segments}"
    ),
}


#: segments named in one statement at most (well under the drivers' parameter limits)
_SEGMENTS_PER_READ = 1000


def read_arm_table(
    connection: Connection, config_id: str, segments: Sequence[str] | None = None
) -> ArmTable:
    """Every arm of a configuration, or those of some ``segments`` (per-customer arms), as
    the database aggregates them into one row: serving's snapshot, which the learner's thread
    re-reads after its writes.

    One row, not one per arm: SQLite's driver lets go of the GIL for each row it steps and
    must win it back from the request thread, so reading 5,000 arms a row at a time handed
    the GIL back and forth 10,000 times a read. Measured under bench/bandit.py's online load
    on one process (py-spy, samples of the thread holding the GIL; bench/README.md,
    2026-12-07 from 23:23 UTC): the re-reads held it in 6.8 % of the samples row by row, in
    0.9 % as one row."""
    if segments is not None and len(segments) > _SEGMENTS_PER_READ:
        parts = [
            read_arm_table(connection, config_id, segments[start : start + _SEGMENTS_PER_READ])
            for start in range(0, len(segments), _SEGMENTS_PER_READ)
        ]
        keys = [key for part in parts for key in part.arms()]
        return ArmTable(orjson.dumps(keys).decode(), np.vstack([p.values for p in parts]))
    if segments is not None and not segments:
        return ArmTable("[]", np.zeros((0, 6)))
    sql = _ARM_TABLE_SQL["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]
    if segments is None:
        statement = text(sql.format(segments=""))
        parameters: dict[str, Any] = {"config_id": config_id}
    else:
        statement = text(sql.format(segments=" AND segment IN :segments")).bindparams(
            bindparam("segments", expanding=True)
        )
        parameters = {"config_id": config_id, "segments": list(segments)}
    layout, figures = connection.execute(statement, parameters).one()
    return ArmTable(layout or "[]", _figures(figures))


def _figures(listed: str | None) -> np.ndarray:
    """Arms × 6 from the aggregate's ``[f, f, ...]``."""
    if not listed:
        return np.zeros((0, 6))
    try:
        flat = orjson.loads(listed)
    except orjson.JSONDecodeError:  # an infinite prior is no JSON number; numpy reads it
        flat = listed[1:-1].split(",")
    return np.array(flat, dtype=np.float64).reshape(-1, 6)


def list_arms(
    connection: Connection, config_id: str, segment: str | None = None
) -> list[dict[str, Any]]:
    """The options store's rows of a configuration (one segment's, if given)."""
    query = select(ArmRow.__table__).where(ArmRow.config_id == config_id)
    if segment is not None:
        query = query.where(ArmRow.segment == segment)
    rows = connection.execute(query.order_by(ArmRow.segment, ArmRow.offer))
    out = []
    for row in rows:
        record = dict(row._mapping)
        shown = record["shown"]
        record["propensity"] = record["taken_up"] / shown if shown else 0.0
        out.append(record)
    return out


def interactions_of_requests(
    connection: Connection, request_ids: Sequence[str]
) -> dict[str, list[tuple[Any, ...]]]:
    """The offers each answer showed, in rank order, as (offer, config_id, deployment_id,
    version, segment) (for responses to answers of other processes, read in bulk)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    for start in range(0, len(request_ids), 1000):
        rows = connection.execute(
            select(
                InteractionRow.request_id,
                InteractionRow.offer,
                InteractionRow.config_id,
                InteractionRow.deployment_id,
                InteractionRow.version,
                InteractionRow.segment,
            )
            .where(InteractionRow.request_id.in_(request_ids[start : start + 1000]))
            .order_by(InteractionRow.request_id, InteractionRow.rank)
        )
        for row in rows:
            found.setdefault(row[0], []).append(tuple(row[1:]))
    return found
