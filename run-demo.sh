#!/usr/bin/env bash
# Install Recostack into .venv and start the server on the embedded default
# (SQLite + files under ./recostack-data) with a demo model trained on
# MovieLens 100K set as the default model. Prints the URL and the API keys.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/recostack serve --demo "$@"
