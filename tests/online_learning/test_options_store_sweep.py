"""The options store's window, count and decay (``sweep``, ``recompute_arms``) on SQLite and
PostgreSQL, with alpha and beta checked by hand; and the candidate arms of off-policy
evaluation (``arms_under``) under another window, count and decay."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from recostack.algorithms.bandits import EcosystemRewardsConfig
from recostack.serving.online.records import Impression, ResponseEvent
from recostack.store import options_store
from recostack.store.engine import Database

CONFIG = "c0000000-0000-0000-0000-000000000001"
#: a take-up adds 1 to alpha, a shown offer not taken up 0.5 to beta (learning rate 1)
BASE: dict[str, Any] = {"learning_rate": 1.0, "success_reward": 1.0, "fail_reward": 0.5}


def _shown(request: str, offer: str, customer: str, shown_ms: int) -> Impression:
    return Impression(
        request, offer, CONFIG, "dep", "1", "s", customer, 1, shown_ms, 0.5, 0.25, False, 0.5
    )


def _taken(request: str, offer: str, params: EcosystemRewardsConfig) -> ResponseEvent:
    log = {"response_id": f"resp-{request}-{offer}", "request_id": request, "item_id": offer}
    return ResponseEvent(
        request,
        offer,
        CONFIG,
        True,
        None,
        params.success_part(None),
        params.fail_part,
        {**log, "deployment_id": "dep", "take_up": True, "created_at": datetime.now(UTC)},
    )


def _arm(db: Database, offer: str) -> tuple[float, float, int]:
    with db.engine.connect() as connection:
        arms = options_store.read_arm_table(connection, CONFIG).stats()
        counted = {
            a["offer"]: a["counted"] for a in options_store.list_arms(connection, CONFIG, "s")
        }
    stats = arms[(offer, "s")]
    return stats.alpha, stats.beta, counted[offer]


def _write(db: Database, impressions: list[Impression], responses: list[ResponseEvent]) -> None:
    with db.engine.begin() as connection:
        options_store.record_impressions(connection, impressions)
        options_store.record_responses(connection, responses)


def test_processing_count_then_window(db: Database) -> None:
    params = EcosystemRewardsConfig(**BASE, processing_count=2, processing_window=2500)
    shown = [_shown(f"r{n}", "o1", f"c{n}", 1000 * n) for n in (1, 2, 3)]
    _write(db, shown, [_taken("r1", "o1", params), _taken("r3", "o1", params)])
    # priors 1, 1; r1 and r3 taken up (+1 each), r2 not (+0.5)
    assert _arm(db, "o1") == (3.0, 1.5, 3)
    with db.engine.begin() as connection:
        # at 3000 every interaction is in the 2500 ms window: the count keeps r2 and r3
        changed = options_store.sweep(connection, CONFIG, params, now_ms=3000)
    assert changed == 1
    assert _arm(db, "o1") == (2.0, 1.5, 2)  # r1's take-up no longer counts
    with db.engine.begin() as connection:
        # at 5000 the window starts at 2500: r2 leaves it (its 0.5 off beta)
        options_store.sweep(connection, CONFIG, params, now_ms=5000)
    assert _arm(db, "o1") == (2.0, 1.0, 1)
    with db.engine.begin() as connection:
        options_store.sweep(connection, CONFIG, params, now_ms=5000)  # nothing left to do
    assert _arm(db, "o1") == (2.0, 1.0, 1)


@pytest.mark.parametrize(
    ("interaction_count", "alpha", "beta"),
    [
        # c1's interactions weigh 1 (r6), 1/2 (r5), 1/4 (r4, taken up); c2's r7 weighs 1:
        # alpha 1 + 1/4, beta 1 + 0.5 + 0.25 + 0.5
        (0, 1.25, 2.25),
        # at most two of a customer's count: r4 (taken up) no longer does
        (2, 1.0, 2.25),
    ],
)
def test_decay_recomputes_touched_arms(
    db: Database, interaction_count: int, alpha: float, beta: float
) -> None:
    params = EcosystemRewardsConfig(**BASE, decay_gamma=2.0, interaction_count=interaction_count)
    shown = [
        _shown("r4", "o2", "c1", 1000),
        _shown("r5", "o2", "c1", 2000),
        _shown("r7", "o2", "c2", 2500),
        _shown("r6", "o2", "c1", 3000),
    ]
    _write(db, shown, [_taken("r4", "o2", params)])
    assert _arm(db, "o2") == (2.0, 2.5, 4)  # written at weight 1: decay is the sweep's
    with db.engine.begin() as connection:
        # an arm touched before `since` is not recomputed
        options_store.sweep(connection, CONFIG, params, now_ms=4000, since_ms=3500)
    assert _arm(db, "o2") == (2.0, 2.5, 4)
    with db.engine.begin() as connection:
        options_store.sweep(connection, CONFIG, params, now_ms=4000, since_ms=3000)
    assert _arm(db, "o2") == (alpha, beta, 4 if interaction_count == 0 else 3)
    # a take-up of the newest (weight 1) moves alpha by 1 and beta by -0.5, as a recompute
    _write(db, [], [_taken("r6", "o2", params)])
    assert _arm(db, "o2")[:2] == (alpha + 1.0, beta - 0.5)
    with db.engine.begin() as connection:
        options_store.recompute_arms(connection, CONFIG, params, now_ms=4000)
    assert _arm(db, "o2")[:2] == (alpha + 1.0, beta - 0.5)


def test_arms_under_another_configuration(db: Database) -> None:
    live = EcosystemRewardsConfig(**BASE)
    shown = [_shown(f"r{n}", "o1", "c1" if n < 3 else "c2", 1000 * n) for n in (1, 2, 3, 4)]
    _write(db, shown, [_taken("r2", "o1", live), _taken("r4", "o1", live)])
    with db.engine.connect() as connection:
        # the live parameters: 2 take-ups (+1 each), 2 others (+0.5 each)
        assert options_store.arms_under(connection, CONFIG, live, 5000) == {("o1", "s"): (2.0, 1.0)}
        # the latest two (r3, r4) in a 3000 ms window (from 2000: r1 is out anyway)
        count = EcosystemRewardsConfig(**BASE, processing_count=2, processing_window=3000)
        assert options_store.arms_under(connection, CONFIG, count, 5000) == {
            ("o1", "s"): (1.0, 0.5)
        }
        # at 2500 only r1, r2 were shown (r3, r4 are later)
        assert options_store.arms_under(connection, CONFIG, live, 2500) == {("o1", "s"): (1.0, 0.5)}
        # decay 2: c1's r2 weighs 1 (taken up), r1 1/2; c2's r4 1 (taken up), r3 1/2
        decay = EcosystemRewardsConfig(**BASE, decay_gamma=2.0)
        assert options_store.arms_under(connection, CONFIG, decay, 5000, ["s"]) == {
            ("o1", "s"): (2.0, 0.5)
        }
        assert options_store.arms_under(connection, CONFIG, decay, 5000, ["other"]) == {}
