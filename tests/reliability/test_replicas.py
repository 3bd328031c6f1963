"""Several replicas agree (issue 19, point 1).

Three ``recostack serve`` processes and two ``recostack worker`` processes
share one PostgreSQL schema and one data directory, behind the round-robin
proxy of ``_proxy.py`` (``_replica_set.py``). A change made through one
replica (the default model, a scenario, a deployment's promotion and
rollback, an online learning configuration, a key rotation) must be served
by every replica: each is asked directly, in a loop, from the moment the
change is answered, and the worst delay is printed (``-s``) and kept in
``docs/reliability.md``; the test fails past 5 s, not at the 1 s target
(no timing assertions in the suite: ``bench/replicas.py`` reports against
it). A promotion and a rollback under load through the proxy fail no
request; online learning's totals are exact after responses spread over the
replicas (1,200 here, the issue's 30,000 in ``bench/replicas.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reliability._online_load import run_online_load
from reliability._replica_set import (
    LOADED,
    Replicas,
    promotion_under_load,
    propagation,
    replica_set,
)

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

RESPONSES = 1_200


@pytest.fixture(scope="module")
def replicas(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    with replica_set(postgres_url, tmp_path_factory.mktemp("replicas")) as started:
        yield started


def test_a_change_through_one_replica_is_served_by_all(replicas: Replicas) -> None:
    delays = propagation(replicas)
    print("\npropagation to every replica (s):")
    for what, seconds in delays.items():
        print(f"  {what:<48} {seconds:.3f}")
    print(f"  worst: {max(delays.values()):.3f} s")


def test_a_promotion_under_load_fails_no_request(replicas: Replicas) -> None:
    first, second = replicas.models
    outcomes, served = promotion_under_load(replicas)
    total = sum(outcomes.values())
    print(f"\n{total} requests during 6 promotions/rollbacks: {dict(outcomes)}")
    assert set(outcomes) == {200}, dict(outcomes)
    assert served[first] > 0 and served[second] > 0


def test_online_learning_totals_are_exact_over_the_replicas(replicas: Replicas) -> None:
    totals = run_online_load(
        replicas.url, replicas.engine, RESPONSES, LOADED, replicas.online_configs[LOADED]
    )
    print(
        f"\n{totals.responses} responses to {totals.answers} answers over 3 replicas in "
        f"{totals.seconds:.1f} s"
    )
    assert totals.response_logs == totals.responses
    assert totals.stored == totals.expected
