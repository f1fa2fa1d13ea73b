#!/usr/bin/env bash
# The steps that build dlrsim into an image, kept in one script so CI runs exactly them.
#
#   docker/install.sh VENV        install dlrsim (non-editable, with the fast and mqtt extras)
#                                 into the virtualenv VENV, then smoke-test the installation
#   docker/install.sh --check     the same into a throwaway virtualenv, from outside the
#                                 checkout (CI runs this: it proves the wheel carries the
#                                 catalogs and scenarios and that the image's commands work)
set -euo pipefail
SOURCE="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

if [ "${1:-}" = "--check" ]; then
    WORK="$(mktemp -d)"
    trap 'rm -rf "$WORK"' EXIT
    VENV="$WORK/venv"
else
    VENV="${1:?usage: docker/install.sh VENV | --check}"
fi

"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SOURCE[fast,mqtt]"

# Smoke test, from a directory that is not the checkout: nothing may depend on it.
cd /
DLRSIM="$VENV/bin/dlrsim"
"$DLRSIM" version
"$DLRSIM" catalog list > /dev/null
"$DLRSIM" scenario validate "$VENV/share/dlrsim/scenarios/default.yaml"
LOG="$(mktemp)"
"$DLRSIM" serve --smpp 127.0.0.1:0 --http 127.0.0.1:0 --quiet > "$LOG" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
    grep -q "ready" "$LOG" && break
    sleep 0.1
done
PORT="$(grep -o 'smpp://127.0.0.1:[0-9]*' "$LOG" | head -1 | cut -d: -f3)"
if [ -z "$PORT" ]; then
    cat "$LOG" >&2
    kill "$SERVER" 2>/dev/null || true
    echo "docker/install.sh: the installed server did not start" >&2
    exit 1
fi
"$DLRSIM" readyz --smpp "127.0.0.1:$PORT"
"$DLRSIM" send --smpp "127.0.0.1:$PORT" --to 9990300071 --text "image check" --timeout 20
kill -TERM "$SERVER"
wait "$SERVER"
rm -f "$LOG"
echo "docker/install.sh: installation into $VENV works"
