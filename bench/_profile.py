"""Where a worker's time goes: py-spy samples, attributed to lines of Recostack.

``py-spy record --format raw --threads`` samples every thread (the SAR
block products run on a thread pool, which cProfile would not see); each
sample is charged to the innermost frame inside ``recostack/algorithms/``
(so the time of a numpy/scipy call lands on the Recostack line that made
it). Samples elsewhere (imports, loading the data) are left out.
"""

from __future__ import annotations

import json
import linecache
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*):(?P<line>\d+)\)$")
SRC = Path(__file__).resolve().parents[1] / "src"
SCOPE = "recostack/algorithms/"


def py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def _source(file: str, line: int) -> str:
    return linecache.getline(str(SRC / file), line).strip()


def profile_worker(
    script: Path, task: dict[str, Any], *, rate: int = 100, top: int = 12, timeout: float = 900
) -> dict[str, Any]:
    """Run ``script --worker task`` under py-spy; the hottest Recostack lines."""
    exe = py_spy()
    if exe is None:
        return {"error": "py-spy not installed (bash bench/setup_reference.sh)"}
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "samples.txt"
        cmd = [exe, "record", "--format", "raw", "-o", str(raw), "--rate", str(rate)]
        cmd += ["--threads", "--nonblocking", "--", sys.executable, str(script)]
        cmd += ["--worker", json.dumps(task)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if not raw.exists():
            return {"error": (done.stderr.strip().splitlines() or ["py-spy failed"])[-1]}
        lines = raw.read_text().splitlines()
    by_line: Counter[tuple[str, int, str]] = Counter()
    by_function: Counter[str] = Counter()
    total = in_fit = 0
    for entry in lines:
        stack, _, count_text = entry.rpartition(" ")
        count = int(count_text)
        total += count
        frames = [FRAME.match(f) for f in stack.split(";")]
        ours = [m for m in frames if m and m["file"].startswith(SCOPE)]
        if not ours or ours[-1]["func"] == "<module>":
            continue
        in_fit += count
        m = ours[-1]
        by_line[(m["file"], int(m["line"]), m["func"])] += count
        by_function[f"{m['func']} ({m['file'].removeprefix(SCOPE)})"] += count
    hot = [
        {
            "where": f"{file}:{line}",
            "function": func,
            "code": _source(file, line),
            "samples": n,
            "share_of_recostack": n / in_fit if in_fit else 0.0,
        }
        for (file, line, func), n in by_line.most_common(top)
    ]
    return {
        "rate_hz": rate,
        "samples": total,
        "samples_in_recostack": in_fit,
        "hot_functions": [
            {"function": f, "share_of_recostack": n / in_fit}
            for f, n in by_function.most_common(top)
        ],
        "hot_lines": hot,
    }
