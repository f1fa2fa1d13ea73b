#!/usr/bin/env bash
# One command: set everything up, then run every check CI runs:
# ruff, mypy --strict, the import-layer contract, the Docker image's install steps in a fresh
# virtualenv, and the whole pytest suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k codec -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff" && ruff check .
echo "== mypy --strict simulator" && mypy simulator
echo "== import layers" && lint-imports
echo "== image install (docker/install.sh --check)" && bash docker/install.sh --check
echo "== pytest" && exec python -m pytest "$@"
