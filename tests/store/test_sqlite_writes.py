"""SQLite writers of one process take turns on a lock before SQLite's own (polling) busy wait."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from recostack.store.engine import make_engine
from recostack.store.sqlite_writes import WriterTurns


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    return engine


def _turns(engine: Engine) -> WriterTurns:
    with engine.connect() as connection:
        turns = type(connection.connection.dbapi_connection).turns  # type: ignore[attr-defined]
    assert isinstance(turns, WriterTurns)
    return turns


def test_a_second_writer_waits_for_the_turn_and_goes_when_the_first_commits(
    engine: Engine,
) -> None:
    turns = _turns(engine)
    first_in = threading.Event()
    let_first_go = threading.Event()
    order: list[str] = []

    def first() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            first_in.set()
            assert let_first_go.wait(5)
            order.append("first commits")

    def second() -> None:
        with engine.begin() as connection:
            order.append("second writes")
            connection.execute(text("INSERT INTO t VALUES (2)"))

    a = threading.Thread(target=first)
    a.start()
    assert first_in.wait(5)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.2)
    assert b.is_alive() and turns._owner == a.ident  # waiting on the turn, not in SQLite
    let_first_go.set()
    a.join(5)
    b.join(5)
    assert order == ["first commits", "second writes"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    assert turns._owner is None and not turns._lock.locked()


def test_a_rolled_back_or_failed_transaction_gives_the_turn_back(engine: Engine) -> None:
    turns = _turns(engine)
    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("the caller fails mid-transaction")
    assert not turns._lock.locked()
    with pytest.raises(OperationalError), engine.begin() as connection:
        connection.execute(text("INSERT INTO nowhere VALUES (1)"))
    assert not turns._lock.locked()
    with engine.connect() as connection:  # a transaction not marked readonly takes its turn
        assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        assert turns._owner == threading.get_ident()
    assert not turns._lock.locked()  # given back when the connection goes back to the pool
    with engine.connect().execution_options(readonly=True) as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        assert not turns._lock.locked()  # a readonly one takes none


def test_a_thread_holding_the_turn_does_not_wait_for_itself() -> None:
    turns = WriterTurns(timeout_seconds=30)
    assert turns.take() is True
    assert turns.take() is False  # a nested write of the same thread: SQLite decides
    turns.give()
    assert turns.take() is True
    turns.give()
