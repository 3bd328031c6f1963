"""Repositories over both databases: models, the default model, API keys."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from recostack.errors import NotFound
from recostack.jobs.queue import enqueue_training
from recostack.serving.keys import KeySecret, Role, Slot, verify_key
from recostack.serving.stamps import KEYS_GENERATION, MODELS_GENERATION
from recostack.settings import Settings
from recostack.store.engine import Database
from recostack.store.key_repository import (
    ensure_keys,
    generate_key,
    read_key_digests,
    rotate_key,
)
from recostack.store.migrate import upgrade
from recostack.store.model_repository import (
    count_models,
    create_model,
    delete_model_row,
    get_model,
    list_models,
    update_model_status,
)
from recostack.store.server_secret import key_secret
from recostack.store.server_settings import get_default_model_id, set_default_model_id
from recostack.store.serving_source import StoreModels, serving_sources
from recostack.store.tables import ApiKeyRow, TrainingJobRow
from recostack.training.status import ModelStatus


def _model(db: Database, description: str = "m") -> str:
    with db.transaction() as session:
        row = create_model(session, description=description, parameters={"usageRelativePath": "u"})
        enqueue_training(session, row.id, max_attempts=3)
        return row.id


def test_model_round_trip(db: Database) -> None:
    model_id = _model(db, "first")
    with db.transaction() as session:
        row = get_model(session, model_id)
        assert row.status == ModelStatus.CREATED
        assert row.parameters == {"usageRelativePath": "u"}
        assert row.creation_time.tzinfo is not None
        update_model_status(session, model_id, ModelStatus.FAILED, "why", {"a": [1, 2]})
    with db.transaction() as session:
        row = get_model(session, model_id.upper())  # ids are case-insensitive UUIDs
        assert (row.status, row.status_message, row.statistics) == ("Failed", "why", {"a": [1, 2]})


def test_list_models_pages_by_creation_time(db: Database) -> None:
    ids = [_model(db, f"m{i}") for i in range(5)]
    with db.transaction() as session:
        assert [m.id for m in list_models(session)] == ids
        assert [m.id for m in list_models(session, offset=1, limit=2)] == ids[1:3]
        assert list_models(session, offset=10) == []
        assert count_models(session) == 5


@pytest.mark.parametrize("bad", ["nope", "", "0" * 100, "00000000-0000-0000-0000-000000000000"])
def test_unknown_model_is_not_found(db: Database, bad: str) -> None:
    with db.transaction() as session, pytest.raises(NotFound):
        get_model(session, bad)


def test_delete_clears_the_default_and_the_job(db: Database) -> None:
    keep, drop = _model(db), _model(db)
    source = serving_sources(db.engine)
    before = source.stamps()[MODELS_GENERATION]
    with db.transaction() as session:
        set_default_model_id(session, drop)
    with db.transaction() as session:
        assert get_default_model_id(session) == drop
        delete_model_row(session, drop)
    with db.transaction() as session:
        assert get_default_model_id(session) is None
        assert [m.id for m in list_models(session)] == [keep]
        jobs = session.scalars(select(TrainingJobRow.model_id)).all()
        assert jobs == [keep]
        with pytest.raises(NotFound):
            delete_model_row(session, drop)
    assert source.stamps()[MODELS_GENERATION] != before


def test_keys_are_stored_hashed_and_verified(db: Database, settings: Settings) -> None:
    # The db fixture stored all four keys; a new admin key from the environment
    # replaces the admin primary and generates nothing.
    given = generate_key()
    secret = key_secret(settings)
    with db.transaction() as session:
        assert ensure_keys(session, {Role.ADMIN: given}, secret) == {}
    with db.transaction() as session:
        rows = session.scalars(select(ApiKeyRow)).all()
        assert len(rows) == 4
        assert all(given not in (r.digest, r.salt) for r in rows)
        assert len({r.salt for r in rows}) == 4
        digests = read_key_digests(session.connection())
    assert verify_key(digests, given, secret) == Role.ADMIN
    assert verify_key(digests, given + "x", secret) is None
    assert verify_key(digests, "", secret) is None


def test_ensure_keys_generates_missing_keys_once(database_url: str) -> None:
    db = Database.open(database_url)
    try:
        upgrade(db.engine)
        secret = KeySecret(b"test secret")
        with db.transaction() as session:
            first = ensure_keys(session, {}, secret)
        assert set(first) == {(r, s) for r in Role for s in Slot}
        with db.transaction() as session:
            assert ensure_keys(session, {}, secret) == {}
            digests = read_key_digests(session.connection())
        for (role, _slot), key in first.items():
            assert verify_key(digests, key, secret) == role
    finally:
        db.dispose()


def test_rotation_replaces_one_key_and_bumps_the_stamp(db: Database, settings: Settings) -> None:
    source = serving_sources(db.engine)
    before = source.stamps()[KEYS_GENERATION]
    secret = key_secret(settings)
    with db.transaction() as session:
        old = rotate_key(session, Role.RECOMMEND, Slot.SECONDARY, secret)
    with db.transaction() as session:
        new = rotate_key(session, Role.RECOMMEND, Slot.SECONDARY, secret)
    digests = source.key_digests()
    assert verify_key(digests, new, secret) == Role.RECOMMEND
    assert verify_key(digests, old, secret) is None
    assert source.stamps()[KEYS_GENERATION] != before


def test_serving_source_reads_status_without_the_orm(db: Database) -> None:
    model_id = _model(db)
    source = StoreModels(db.engine)
    assert source.model_status(model_id) == ("Created", "Model is queued for training")
    assert source.model_status(model_id.replace("-", "0")) is None
    assert source.completed_among([model_id]) == set()
    with db.transaction() as session:
        update_model_status(session, model_id, ModelStatus.COMPLETED, "done", {})
    assert source.completed_among([model_id, "x"]) == {model_id}
