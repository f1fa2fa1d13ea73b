#!/usr/bin/env bash
# One command: set everything up, then run dlrsim with its embedded default scenario.
# Extra arguments go to `dlrsim serve` (e.g. scripts/serve.sh --smpp 127.0.0.1:0 --seed 7).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh fast
exec .venv/bin/dlrsim serve "$@"
