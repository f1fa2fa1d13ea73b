#!/usr/bin/env bash
# Create (or refresh) the project's virtualenv in .venv with the given extras.
# Usage: scripts/bootstrap.sh [EXTRAS]   e.g. scripts/bootstrap.sh test
# Re-installs only when pyproject.toml or the extras changed, so repeated runs are quick.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${1:-}"
PYTHON="${PYTHON:-python3}"
VENV="${DLRSIM_VENV:-.venv}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "dlrsim: needs Python 3.11 or newer as '$PYTHON' (set PYTHON=...)" >&2
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        # Debian's python3 ships venv separately.
        if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
            echo "dlrsim: installing python3-venv" >&2
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            rm -rf "$VENV"
            "$PYTHON" -m venv "$VENV"
        else
            echo "dlrsim: '$PYTHON -m venv' failed; install python3-venv" >&2
            exit 1
        fi
    fi
fi
STAMP="$VENV/.dlrsim-installed"
HASH="$(sha256sum pyproject.toml | cut -c1-16)"
# The stamp records the pyproject hash and the extras installed; asking for extras already
# there (serve after test, say) installs nothing, and a new extra adds to the ones present.
HAVE_HASH="" HAVE_EXTRAS=""
[ -f "$STAMP" ] && read -r HAVE_HASH HAVE_EXTRAS < "$STAMP" || true
NEED=0
[ "$HAVE_HASH" != "$HASH" ] && NEED=1 && HAVE_EXTRAS=""
for extra in ${EXTRAS//,/ }; do
    case ",$HAVE_EXTRAS," in *",$extra,"*) ;; *) NEED=1 ;; esac
done
if [ "$NEED" = 1 ]; then
    EXTRAS="$(echo "$HAVE_EXTRAS,$EXTRAS" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -)"
    echo "dlrsim: installing into $VENV (extras: ${EXTRAS:-none}); log in $VENV/install.log" >&2
    SPEC="."
    [ -n "$EXTRAS" ] && SPEC=".[${EXTRAS}]"
    if ! { "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip &&
           "$VENV/bin/python" -m pip install --disable-pip-version-check -e "$SPEC"; } \
           > "$VENV/install.log" 2>&1; then
        tail -n 40 "$VENV/install.log" >&2
        echo "dlrsim: installation failed (full log: $VENV/install.log)" >&2
        exit 1
    fi
    echo "$HASH $EXTRAS" > "$STAMP"
fi
