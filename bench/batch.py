"""Batch scoring: 1M users × top 10 from a 50k-item SAR model, as a batch inference job.

The ``zipf-10m`` data (1M users × 50k items × 10M events, bench/_data.py)
is written once as a usage file and a SAR model (Jaccard, the API's default
threshold 6, ``maxNeighbors`` 100, users' histories kept) is trained once
into the bench cache. Then one batch inference job per engine scores an
input of every user (``{"userId": ...}`` lines) through the real job
machinery — a SQLite store, a worker claiming the job, chunks written to
the temporary output, fsynced and counted, the output renamed — and the
output's line count is checked against the input's (a mismatch, or a job
that did not finish, exits 1 and is listed in the JSON's
``lines_mismatch``). Target: ≥ 20,000
users/s on the local engine; Spark ``local[2]`` beside it.

Memory stays bounded by the chunks, whatever the input's length: the
resident memory of the job (this process and the scoring processes it
starts) is sampled every 0.1 s and its peak reported; ``--repeat K`` feeds
the users K times (K million lines) to compare the peak of a long input
with a short one's.

    .venv/bin/python bench/batch.py [--users N] [--repeat K] [--engines local,spark] [--json]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from _common import cache_dir, emit, fmt, machine_info, parser, progress, table, verdict
from _data import ZIPF, zipf_events
from _isolate import PeakMemory

TARGET_USERS_PER_SECOND = 20_000
MODEL_PARAMETERS = {
    "usageRelativePath": "usage.csv",
    "similarityFunction": "Jaccard",
    "supportThreshold": 6,
    "maxNeighbors": 100,
    "enableUserToItemRecommendations": True,
}


def usage_file(folder: Path) -> Path:
    """zipf-10m as a usage file (written once)."""
    path = folder / "usage.csv"
    if path.exists():
        return path
    events = zipf_events(ZIPF["zipf-10m"])
    times = np.datetime_as_string(events.timestamp.astype("datetime64[s]"), unit="s")
    tmp = folder / ".usage.csv.tmp"
    with tmp.open("w") as out:
        step = 1_000_000
        for start in range(0, events.n_events, step):
            end = start + step
            lines = [
                f"u{u},i{i},{t},,{w:g}"
                for u, i, t, w in zip(
                    events.user[start:end].tolist(),
                    events.item[start:end].tolist(),
                    times[start:end].tolist(),
                    events.weight[start:end].tolist(),
                    strict=True,
                )
            ]
            out.write("\n".join(lines) + "\n")
    tmp.rename(path)
    return path


def trained_model(folder: Path) -> Path:
    """The 50k-item SAR model (trained once)."""
    from recostack.training.parameters import TrainingParameters
    from recostack.training.pipeline import train_from_paths

    out = folder / "model"
    if (out / "model.json").exists():
        return out
    usage = usage_file(folder)
    params = TrainingParameters.model_validate(MODEL_PARAMETERS)
    tmp = folder / ".model.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    train_from_paths(params, usage_path=usage, out_dir=tmp)
    tmp.rename(out)
    return out


def input_file(folder: Path, users: np.ndarray, repeat: int = 1) -> Path:
    """Every user's line, ``repeat`` times over (written once)."""
    name = f"users-{users.size}.jsonl" if repeat == 1 else f"users-{users.size}x{repeat}.jsonl"
    path = folder / name
    if not path.exists():
        tmp = folder / ".users.tmp"
        with tmp.open("wb") as out:
            for _ in range(repeat):
                for start in range(0, users.size, 100_000):
                    chunk = users[start : start + 100_000].tolist()
                    out.write(b"".join(orjson.dumps({"userId": str(u)}) + b"\n" for u in chunk))
        tmp.rename(path)
    return path


def run_job(model_dir: Path, source: Path, engine: str) -> dict[str, Any]:
    """One batch inference job on a fresh store; its wall time and line counts."""
    from recostack.jobs.worker import Worker
    from recostack.services.batch_jobs import BatchJobService, BatchJobSpec
    from recostack.settings import Settings
    from recostack.store.engine import Database
    from recostack.store.migrate import upgrade
    from recostack.store.model_repository import create_model, update_model_status
    from recostack.training.status import ModelStatus

    root = Path(tempfile.mkdtemp(prefix="recostack-batch-bench-"))
    try:
        settings = Settings(
            data_dir=root,
            workers_in_process=0,
            spark_master="local[2]",
            batch_paths=[source.parent],
        )
        db = Database.open(settings.effective_database_url)
        upgrade(db.engine)
        with db.transaction() as session:
            row = create_model(session, description="bench", parameters=MODEL_PARAMETERS)
            update_model_status(session, row.id, ModelStatus.COMPLETED, "bench", {})
            model_id = row.id
        settings.models_dir.mkdir(parents=True)
        (settings.models_dir / model_id).symlink_to(model_dir, target_is_directory=True)
        output = root / "files" / "out" / f"{engine}.jsonl"
        service = BatchJobService(db, settings)
        view = service.create(
            BatchJobSpec(
                job_name=f"bench-{engine}",
                input_path=str(source),
                output_path="out/" + output.name,
                model_id=model_id,
                engine=engine,
                config={"numResults": 10},
            )
        )
        worker = Worker(settings, db, name="bench")
        started = time.perf_counter()
        with PeakMemory() as memory:
            assert worker.run_once()
        seconds = time.perf_counter() - started
        job = service.describe(view.row.id).row
        lines = 0
        with output.open("rb") as fh:
            for block in iter(lambda: fh.read(8 << 20), b""):
                lines += block.count(b"\n")
        db.dispose()
        return {
            "status": job.status,
            "failure": job.failure_reason,
            "seconds": round(seconds, 2),
            "lines_in": job.lines_total,
            "lines_out": lines,
            "lines_failed": job.lines_failed,
            "users_per_second": round((job.lines_total or 0) / seconds),
            "peak_rss_gb": round(memory.peak / 1e9, 2),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=1_000_000, help="users scored (max 1M)")
    p.add_argument("--repeat", type=int, default=1, help="the users' lines, K times over")
    p.add_argument("--engines", default="local,spark")
    args = p.parse_args()
    folder = cache_dir() / "batch-zipf-10m-v1"
    folder.mkdir(parents=True, exist_ok=True)
    progress(args, "data and model (cached after the first run)")
    model_dir = trained_model(folder)
    from recostack.training.trained_model import TrainedModel

    model = TrainedModel.load(model_dir)
    assert model.users is not None
    users = np.asarray(model.users.ids[: args.users])
    source = input_file(folder, users, args.repeat)
    figures: dict[str, Any] = {
        "machine": machine_info(),
        "model": {
            "items": model.n_items,
            "users": len(model.users),
            "similarity_nonzeros": model.item_item.nnz,
            "parameters": MODEL_PARAMETERS,
        },
        "users": int(users.size),
        "input_lines": int(users.size) * args.repeat,
        "target_users_per_second": TARGET_USERS_PER_SECOND,
    }
    rows = []
    mismatched: list[str] = []
    for engine in args.engines.split(","):
        progress(args, f"batch job on the {engine} engine")
        result = run_job(model_dir, source, engine)
        figures[engine] = result
        ok = result["status"] == "ACTIVE" and result["lines_out"] == result["lines_in"]
        result["lines_match"] = ok
        if not ok:
            mismatched.append(engine)
        met = result["users_per_second"] >= TARGET_USERS_PER_SECOND if engine == "local" else None
        rows.append(
            [
                engine,
                result["status"],
                fmt(result["seconds"], 1),
                f"{result['users_per_second']:,}",
                f"{result['lines_out']:,} / {result['lines_in']:,}" + ("" if ok else " MISMATCH"),
                f"{result['peak_rss_gb']:.2f}",
                verdict(met),
            ]
        )
    # a job that did not finish, or whose output has not one line per input line, is a
    # failed run: the exit status says so, and so does the JSON
    figures["lines_mismatch"] = mismatched
    emit(
        args,
        figures,
        [
            table(
                f"batch inference job: {users.size * args.repeat:,} lines ({users.size:,} users"
                f" × {args.repeat}) × top 10, 50k-item SAR model",
                [
                    "engine",
                    "status",
                    "seconds",
                    "users/s",
                    "output lines / input",
                    "peak RSS GB",
                    "≥ 20k/s",
                ],
                rows,
            )
        ],
    )
    if mismatched:
        print(
            f"MISMATCH: output lines != input lines (or the job failed) on {', '.join(mismatched)}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
