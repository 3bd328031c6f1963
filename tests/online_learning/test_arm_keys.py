"""Shown offers carry their arm's integer key, the index of the options store's per-arm reads."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect, text

from recostack.serving.online.records import Impression
from recostack.store.arm_keys import arm_key
from recostack.store.engine import Database
from recostack.store.migrate import head_revision, upgrade
from recostack.store.options_store import _EXPIRE, _OVER_COUNT, _PURGE, record_impressions


def test_the_key_is_blake2b_of_the_arm_as_a_signed_64_bit_integer() -> None:
    # hashlib.blake2b(b"config-1\x1foffer-a\x1fsegment-x", digest_size=8) is aaf4ce5c6457c2b5:
    # 0xaaf4ce5c6457c2b5 - 2**64 (its top bit is set)
    assert arm_key("config-1", "offer-a", "segment-x") == 0xAAF4CE5C6457C2B5 - 2**64
    assert arm_key("config-1", "offer-a", "segment-x") == -6128046296728616267
    # the separator keeps the three apart
    assert arm_key("config-1", "offer-a", "segment-x") != arm_key(
        "config-1", "offer-as", "egment-x"
    )


def _impression(request_id: str, offer: str, segment: str, shown_ms: int) -> Impression:
    return Impression(
        request_id, offer, "config-1", "dep", "v1", segment, None, 0, shown_ms, 0.5, 0.2, False, 1.0
    )


def test_stored_offers_carry_their_arm_s_key(database_url: str) -> None:
    db = Database.open(database_url)
    try:
        upgrade(db.engine)
        with db.engine.begin() as connection:
            record_impressions(
                connection,
                [_impression("r1", "offer-a", "segment-x", 1), _impression("r1", "b", "y", 1)],
            )
        with db.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT offer, segment, arm_key FROM online_interactions ORDER BY offer")
            ).all()
        assert [tuple(r) for r in rows] == [
            ("b", "y", arm_key("config-1", "b", "y")),
            ("offer-a", "segment-x", -6128046296728616267),
        ]
    finally:
        db.dispose()


def test_the_migration_keys_the_offers_stored_before_it(database_url: str) -> None:
    db = Database.open(database_url)
    try:
        upgrade(db.engine, "0009_key_digests")
        columns = (
            "request_id, offer, config_id, deployment_id, version, segment, customer_id, "
            "rank, shown_ms, draw, propensity, explored, weight, counted"
        )
        stored = [("r1", "a", "c1", "x"), ("r1", "b", "c1", "x"), ("r2", "a", "c2", "y")]
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    f"INSERT INTO online_interactions ({columns}) VALUES (:q, :o, :c, 'dep', "
                    "'v1', :s, NULL, 0, 1, 0.5, 0.2, false, 1.0, true)"
                ),
                [{"q": q, "o": o, "c": c, "s": s} for q, o, c, s in stored],
            )
        upgrade(db.engine)
        with db.engine.connect() as connection:
            keyed = connection.execute(
                text(
                    "SELECT request_id, offer, config_id, segment, arm_key "
                    "FROM online_interactions ORDER BY request_id, offer"
                )
            ).all()
        assert [tuple(r) for r in keyed] == [(*s, arm_key(s[2], s[1], s[3])) for s in stored]
        indexes = {
            i["name"]: i["column_names"]
            for i in inspect(db.engine).get_indexes("online_interactions")
        }
        assert indexes["ix_online_interactions_arm_key"] == ["arm_key", "shown_ms"]
        assert "ix_online_interactions_arm" not in indexes
        assert head_revision() == "0010_interaction_arm_keys"
    finally:
        db.dispose()


def test_sqlite_reads_an_arm_s_latest_interactions_through_its_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # SQLite has no statistics to choose between the per-arm index and the configuration's
    # (config_id, counted, shown_ms): the count's sub-select must go through the arm's key,
    # not through every counted interaction of the configuration
    db = Database.open(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        upgrade(db.engine)
        with db.engine.connect() as connection:
            plan = connection.execute(
                text(f"EXPLAIN QUERY PLAN {_OVER_COUNT.text}"),
                {"config_id": "c", "offer": "o", "segment": "s", "arm_key": 1, "keep": 10},
            ).all()
        details = " | ".join(str(row[-1]) for row in plan)
        assert "ix_online_interactions_arm_key (arm_key=?" in details, details
        assert "ix_online_interactions_counted" not in details, details
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("statement", "parameters"),
    [
        (_EXPIRE, {"config_id": "c", "limit": 10}),
        (_PURGE, {"config_id": "c", "before": 10, "deployment_id": "d", "limit": 100}),
    ],
    ids=["the window's sweep", "the log retention"],
)
def test_sqlite_finds_old_interactions_through_the_configuration_s_counted_index(
    tmp_path: Any, statement: Any, parameters: dict[str, Any]
) -> None:
    # the window's sweep runs every second, the retention every minute: each must seek
    # (config_id, counted, shown_ms) to the interactions older than its limit, not read every
    # interaction of the configuration (a bare ``counted`` made SQLite seek on config_id
    # alone: 125 ms per sweep at 600,000 interactions, all of it on the learner's thread)
    db = Database.open(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        upgrade(db.engine)
        with db.engine.connect() as connection:
            plan = connection.execute(
                text(f"EXPLAIN QUERY PLAN {statement.text}"), parameters
            ).all()
        details = " | ".join(str(row[-1]) for row in plan)
        assert (
            "ix_online_interactions_counted (config_id=? AND counted=? AND shown_ms<" in details
        ), details
    finally:
        db.dispose()
