#!/usr/bin/env bash
# Build the bench environment: one venv holding Recostack (editable) AND the
# reference SAR (`recommenders` 1.2.1) and implicit 0.7.3 (BM25Recommender, ALS:
# quality.py's peers; in this environment only), so a benchmark measures them
# in one run.
#
#   bash bench/setup_reference.sh            # install the pinned list (idempotent)
#   bash bench/setup_reference.sh --resolve  # resolve afresh and rewrite the pins
#
# MABWiser 2.7.4 and River 0.26.1 are bandit.py's and bandit_sim.py's peers (Thompson
# sampling); MABWiser is installed with --no-deps too (it declares seaborn, which only its
# simulator imports); matplotlib draws bandit_sim.py's plot.
#
# `recommenders` is installed with --no-deps: its declared dependencies
# (cornac, lightgbm, transformers, notebook, ...) are not needed by the three
# modules the benchmarks import (models.sar.sar_singlenode,
# datasets.python_splitters, evaluation.python_evaluation), which need only
# numpy, pandas<3, scipy and scikit-learn. NumPy 2 is kept (the same major as
# Recostack's own venv); the benchmarks set `np.NaN = np.nan` before importing
# the reference (it still uses the alias NumPy 2 removed).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${RECOSTACK_BENCH_VENV:-$ROOT/.venv-bench}
REQ=$ROOT/bench/requirements-reference.txt
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --quiet)
"${PIP[@]}" install --upgrade pip

if [ "${1:-}" = "--resolve" ] || [ ! -s "$REQ" ]; then
    # Recostack's runtime dependencies, read from pyproject.toml.
    mapfile -t RUNTIME < <("$VENV/bin/python" - "$ROOT/pyproject.toml" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["dependencies"]))
EOF
)
    "${PIP[@]}" install --no-deps "recommenders==1.2.1" "mabwiser==2.7.4"
    "${PIP[@]}" install "pandas>=2.1,<3" numpy scipy scikit-learn psutil py-spy "implicit==0.7.3" \
        "river==0.26.1" matplotlib "${RUNTIME[@]}"
    {
        echo "# The bench environment (.venv-bench), written by bench/setup_reference.sh --resolve."
        echo "# Installed with: pip install --no-deps -r bench/requirements-reference.txt"
        echo "# plus: pip install --no-deps -e .  (Recostack itself)"
        echo "# Python $("$VENV/bin/python" -c 'import platform; print(platform.python_version())')"
        "$VENV/bin/python" -m pip freeze --exclude-editable | grep -v '^recostack'
    } >"$REQ"
else
    "${PIP[@]}" install --no-deps -r "$REQ"
fi
"${PIP[@]}" install --no-deps -e "$ROOT"

"$VENV/bin/python" - <<'EOF'
import numpy as np

if not hasattr(np, "NaN"):
    np.NaN = np.nan
import recommenders
from recommenders.datasets.python_splitters import python_stratified_split  # noqa: F401
from recommenders.evaluation.python_evaluation import map_at_k  # noqa: F401
from recommenders.models.sar.sar_singlenode import SARSingleNode  # noqa: F401
import implicit
from importlib.metadata import version
import matplotlib
import optuna
import river
from mabwiser.mab import MAB, LearningPolicy  # noqa: F401

import recostack.algorithms.sar  # noqa: F401
import recostack.evaluation  # noqa: F401

print(
    f"bench env ready: recommenders {recommenders.__version__}, implicit {implicit.__version__}, "
    f"optuna {optuna.__version__}, mabwiser {version('mabwiser')}, river {river.__version__}, "
    f"matplotlib {matplotlib.__version__}, numpy {np.__version__}"
)
EOF
