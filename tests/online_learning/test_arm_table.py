"""Serving's read of the options store (``read_arm_table``: every arm in one row, built by the
database) on SQLite and PostgreSQL: the figures exactly as stored, any offer or segment name,
per-customer reads; and the snapshot made from it (``ArmsSnapshot``)."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from sqlalchemy import update

from recostack.serving.online.records import ArmStats, ArmTable
from recostack.serving.online.state import ArmsSnapshot
from recostack.store import options_store
from recostack.store.engine import Database
from recostack.store.online_tables import ArmRow

CONFIG = "c0000000-0000-0000-0000-000000000002"
#: names a text aggregate could split or quote wrongly
OFFERS = ["plain", 'quote"d', "comma,ed", "back\\slash", "ünïcode ✓", "[bracket]"]
SEGMENTS = ["gold", "silver|north", "a,b"]
#: figures whose shortest text has 17 digits, or none at all
FIGURES = [0.1 + 0.2, 1 / 3, 2.0000000000000004, 123456789.12345678, 1e-300, 7.0]


def _store(db: Database) -> dict[tuple[str, str], ArmStats]:
    arms = [(o, s) for o in OFFERS for s in SEGMENTS]
    expected = {}
    with db.engine.begin() as connection:
        options_store.ensure_arms(connection, CONFIG, arms)
        for n, (offer, segment) in enumerate(arms):
            stats = ArmStats(FIGURES[n % 6], FIGURES[(n + 1) % 6], 1.0 + n, 2.5, 10 * n, n)
            connection.execute(
                update(ArmRow)
                .where(ArmRow.config_id == CONFIG, ArmRow.offer == offer, ArmRow.segment == segment)
                .values(
                    alpha=stats.alpha,
                    beta=stats.beta,
                    alpha_zero=stats.alpha_zero,
                    beta_zero=stats.beta_zero,
                    shown=stats.shown,
                    taken_up=stats.taken_up,
                )
            )
            expected[offer, segment] = stats
    return expected


def test_every_arm_reads_back_exactly(db: Database) -> None:
    expected = _store(db)
    with db.engine.connect() as connection:
        read = options_store.read_arm_table(connection, CONFIG)
        again = options_store.read_arm_table(connection, CONFIG)
        nothing = options_store.read_arm_table(connection, "no such configuration")
    assert read.stats() == expected
    assert sorted(read.arms()) == sorted(expected)
    assert read.values.shape == (len(expected), 6)
    # the same arms: the same layout, read after read
    assert again.layout == read.layout
    assert nothing.arms() == [] and nothing.values.shape == (0, 6)


def test_per_customer_arms_are_read_by_segment(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _store(db)
    # more segments than one statement names: read in parts, joined
    monkeypatch.setattr(options_store, "_SEGMENTS_PER_READ", 2)
    with db.engine.connect() as connection:
        read = options_store.read_arm_table(connection, CONFIG, ["gold", "a,b", "nobody"])
        none = options_store.read_arm_table(connection, CONFIG, [])
    assert read.stats() == {k: v for k, v in expected.items() if k[1] in ("gold", "a,b")}
    assert none.stats() == {}


def test_an_infinite_prior_reads_back() -> None:
    # no JSON number: read by numpy instead
    assert options_store._figures("[1.0,Inf,1.0,1.0,0,0]").tolist() == [
        [1.0, float("inf"), 1.0, 1.0, 0.0, 0.0]
    ]
    assert options_store._figures("[1,Infinity,1,1,0,0]")[0, 1] == float("inf")


def _table(arms: dict[tuple[str, str], tuple[float, ...]]) -> ArmTable:
    keys = sorted(arms)
    return ArmTable(orjson.dumps(keys).decode(), np.array([arms[k] for k in keys]))


def test_a_snapshot_gives_a_segments_arms_in_the_offers_order() -> None:
    first = ArmsSnapshot.read(
        _table({("o1", "s"): (3, 4, 1, 1, 5, 2), ("o2", "s"): (2, 9, 1, 2, 8, 1)})
    )
    arms = first.arms(["o2", "new", "o1"], "s")
    assert arms.offers == ("o2", "new", "o1")
    assert arms.alpha.tolist() == [2, 1, 3]  # an arm not stored yet: alpha = beta = 1
    assert arms.beta.tolist() == [9, 1, 4]
    assert arms.beta_zero.tolist() == [2, 1, 1]
    assert arms.propensity.tolist() == [1 / 8, 0, 2 / 5]
    assert all(a.flags.c_contiguous for a in (arms.alpha, arms.beta, arms.alpha_zero))
    assert first.arms(["o2", "new", "o1"], "s") is arms  # made once per read

    # the next read of the same arms keeps the layout, with the new figures
    second = ArmsSnapshot.read(
        _table({("o1", "s"): (4, 4, 1, 1, 6, 3), ("o2", "s"): (2, 10, 1, 2, 9, 1)}), first
    )
    assert second.layout is first.layout and second.version != first.version
    assert second.arms(["o2", "new", "o1"], "s").alpha.tolist() == [2, 1, 4]
    # a new arm: a new layout
    third = ArmsSnapshot.read(
        _table({("o1", "s"): (4, 4, 1, 1, 6, 3), ("new", "s"): (5, 1, 1, 1, 4, 4)}), second
    )
    assert third.layout is not second.layout
    assert third.arms(["o2", "new", "o1"], "s").alpha.tolist() == [1, 5, 4]
