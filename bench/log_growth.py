"""How the cost of logging grows with the logs on SQLite: random ids against time-ordered ids.

Two SQLite databases at the current schema, one whose answers and responses
get random ids (``uuid4``, what the logs had before) and one whose get the
time-ordered ids the logs have now (:func:`recostack.serving.log_ids.log_id`,
version 7). Both are fed the soak's pattern (``bench/soak.py``) through the
store's own functions, taking turns block by block so that the machine's
moods fall on both alike:

- answers as the prediction logger writes them: ``--batch`` records in one
  transaction (``insert_predictions``), each with a ten-item answer;
- a response to each answer in a transaction of its own, as a plain
  response is stored (``logged_answer`` for the answer, then
  ``insert_response``).

Printed per block: the database's size and the mean time of one response
transaction and of one answer batch; the figure is the last block's time
over the first block's (how much a record costs more once the logs are big).

    .venv/bin/python bench/log_growth.py [--records 300000] [--block 25000] [--json]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import emit, machine_info, parser, progress, table
from recostack.serving.log_ids import log_id
from recostack.serving.prediction_logger import PredictionRecord
from recostack.store.engine import Database
from recostack.store.migrate import upgrade
from recostack.store.prediction_log_repository import (
    insert_predictions,
    insert_response,
    logged_answer,
)

DEPLOYMENT = "growth"
ID_KINDS: dict[str, Callable[[], str]] = {
    "random (uuid4)": lambda: str(uuid.uuid4()),
    "time-ordered (log_id, v7)": log_id,
}


def _items(n: int) -> str:
    return json.dumps(
        [
            {"itemId": f"item-{(n * 7 + k) % 500}", "score": 1.0 / (k + 1), "rank": k + 1}
            for k in range(10)
        ]
    )


class Feed:
    """One database and its id kind, fed block by block."""

    def __init__(self, path: Path, new_id: Callable[[], str]) -> None:
        self.path = path
        self.new_id = new_id
        self.db = Database.open(f"sqlite:///{path}")
        upgrade(self.db.engine)
        self.stored = 0

    def block(self, records: int, batch: int) -> tuple[float, float]:
        """Store ``records`` answers and a response to each; the mean seconds of one
        response transaction and of one answer batch."""
        answer_seconds = response_seconds = 0.0
        batches = 0
        for start in range(0, records, batch):
            now = datetime.now(UTC)
            answers = [
                PredictionRecord(
                    self.new_id(),
                    DEPLOYMENT,
                    "1",
                    "model",
                    f"user-{n % 2000}",
                    _items(n),
                    "{}",
                    now,
                    1.0,
                )
                for n in range(self.stored + start, self.stored + min(start + batch, records))
            ]
            began = time.perf_counter()
            with self.db.engine.begin() as connection:
                insert_predictions(connection, answers)
            answer_seconds += time.perf_counter() - began
            batches += 1
            began = time.perf_counter()
            for answer in answers:
                with self.db.engine.begin() as connection:
                    logged = logged_answer(connection, DEPLOYMENT, answer.request_id)
                    assert logged is not None
                    insert_response(
                        connection,
                        {
                            "response_id": self.new_id(),
                            "request_id": answer.request_id,
                            "deployment_id": DEPLOYMENT,
                            "item_id": "item-1",
                            "event": None,
                            "reward": None,
                            "take_up": answer.user_id.endswith("0") if answer.user_id else None,
                            "created_at": datetime.now(UTC),
                        },
                    )
            response_seconds += time.perf_counter() - began
        self.stored += records
        return response_seconds / records, answer_seconds / batches

    def size_mb(self) -> float:
        files = [self.path, self.path.with_name(self.path.name + "-wal")]
        return sum(p.stat().st_size for p in files if p.exists()) / 1e6


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=300_000, help="answers (and responses)")
    p.add_argument("--block", type=int, default=25_000, help="records per timed block")
    p.add_argument("--batch", type=int, default=20, help="answers per logger batch")
    args = p.parse_args()
    figures: dict[str, Any] = {"machine": machine_info(), "kinds": {}}
    rows = []
    with tempfile.TemporaryDirectory(prefix="recostack-log-growth-") as tmp:
        feeds = {
            kind: Feed(Path(tmp) / f"{n}.sqlite", new_id)
            for n, (kind, new_id) in enumerate(ID_KINDS.items())
        }
        blocks: dict[str, list[dict[str, float]]] = {kind: [] for kind in feeds}
        while next(iter(feeds.values())).stored < args.records:
            for kind, feed in feeds.items():
                response, answers = feed.block(args.block, args.batch)
                blocks[kind].append(
                    {
                        "stored": feed.stored,
                        "size_mb": feed.size_mb(),
                        "response_ms": response * 1000,
                        "answer_batch_ms": answers * 1000,
                    }
                )
                progress(
                    args,
                    f"{kind}: {feed.stored:,} stored, {feed.size_mb():.0f} MB, "
                    f"response {response * 1e6:.0f} µs, batch {answers * 1e3:.2f} ms",
                )
        for kind, kind_blocks in blocks.items():
            first, last = kind_blocks[0], kind_blocks[-1]
            growth = {
                "response": last["response_ms"] / first["response_ms"],
                "answer_batch": last["answer_batch_ms"] / first["answer_batch_ms"],
            }
            figures["kinds"][kind] = {"blocks": kind_blocks, "growth": growth}
            rows.append(
                [
                    kind,
                    f"{last['size_mb']:.0f}",
                    f"{first['response_ms'] * 1000:.0f} → {last['response_ms'] * 1000:.0f}",
                    f"{growth['response']:.2f}×",
                    f"{first['answer_batch_ms']:.2f} → {last['answer_batch_ms']:.2f}",
                    f"{growth['answer_batch']:.2f}×",
                ]
            )
    emit(
        args,
        figures,
        [
            table(
                f"{args.records:,} answers and responses, first block → last block "
                f"({args.block:,} each)",
                ["ids", "MB", "response µs", "growth", f"{args.batch}-answer batch ms", "growth"],
                rows,
            )
        ],
    )


if __name__ == "__main__":
    main()
