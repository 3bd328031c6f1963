"""What every benchmark shares: machine info, the reference import, output.

Each benchmark builds a ``figures`` dict (everything it measured, JSON-ready)
and a list of rich tables; :func:`emit` prints the JSON object with
``--json``, else the machine line and the tables.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

GB = 1e9
SETUP_HINT = "bash bench/setup_reference.sh && .venv-bench/bin/python"


def cache_dir() -> Path:
    """Generated data and models live here, never in the repository."""
    root = os.environ.get("RECOSTACK_BENCH_CACHE") or str(
        Path.home() / ".cache" / "recostack" / "bench"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--json", action="store_true", help="print one JSON object of all figures")
    return p


# ---------------------------------------------------------------- machine
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def machine_info() -> dict[str, Any]:
    import pandas as pd
    import scipy

    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": round(_ram_bytes() / GB, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "platform": platform.platform(),
    }
    try:
        from importlib.metadata import version

        info["recommenders"] = version("recommenders")
    except Exception:
        info["recommenders"] = None
    info["load_average_1m"] = round(os.getloadavg()[0], 2)
    for var in ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if os.environ.get(var):
            info[var] = os.environ[var]
    return info


def machine_line(info: dict[str, Any]) -> str:
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM · "
        f"Python {info['python']} · numpy {info['numpy']} · scipy {info['scipy']} · "
        f"pandas {info['pandas']} · recommenders {info.get('recommenders') or 'not installed'} · "
        f"load average {info['load_average_1m']} at start"
    )


# -------------------------------------------------------------- reference
def import_reference() -> SimpleNamespace:
    """The reference SAR (``recommenders`` 1.2.1) and its splitter and metrics.

    1.2.1 still uses ``np.NaN``, removed in NumPy 2: alias it first.
    """
    if not hasattr(np, "NaN"):
        np.NaN = np.nan  # type: ignore[attr-defined]
    try:
        from recommenders.datasets.python_splitters import python_stratified_split
        from recommenders.evaluation import python_evaluation as ev
        from recommenders.models.sar.sar_singlenode import SARSingleNode
    except ImportError as exc:
        sys.exit(
            f"the reference is not importable ({exc}); run from the bench env:\n"
            f"  {SETUP_HINT} {sys.argv[0]}"
        )
    return SimpleNamespace(
        SARSingleNode=SARSingleNode,
        python_stratified_split=python_stratified_split,
        precision_at_k=ev.precision_at_k,
        recall_at_k=ev.recall_at_k,
        ndcg_at_k=ev.ndcg_at_k,
        map=ev.map,
        map_at_k=ev.map_at_k,
    )


# ------------------------------------------------------------------ output
def fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def verdict(ok: bool | None) -> str:
    if ok is None:
        return "n/a"
    return "[green]PASS[/green]" if ok else "[bold red]FAIL[/bold red]"


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], caption: str = ""):
    from rich.table import Table

    t = Table(title=title, caption=caption or None, title_justify="left", caption_justify="left")
    for i, c in enumerate(columns):
        t.add_column(c, justify="left" if i == 0 else "right")
    for r in rows:
        t.add_row(*[c if isinstance(c, str) else fmt(c) for c in r])
    return t


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    return value


def emit(args: argparse.Namespace, figures: dict[str, Any], tables: list[Any]) -> None:
    """Print the JSON object (``--json``) or the machine line and the tables."""
    if args.json:
        print(json.dumps(_jsonable(figures), indent=1))
        return
    from rich.console import Console

    console = Console(width=max(160, Console().width))
    console.print(f"[bold]machine[/bold]: {machine_line(figures['machine'])}")
    for t in tables:
        console.print()
        console.print(t)


def progress(args: argparse.Namespace, message: str) -> None:
    """A progress line on stderr (kept out of the JSON on stdout)."""
    print(message, file=sys.stderr, flush=True)
