#!/usr/bin/env bash
# Make sure a headless-capable Chromium (Debian's `chromium` package) is installed; print its path.
# Usage: scripts/chromium.sh
#   When no browser is found and we run as root (CI does), runs `apt-get update` and installs
#   the package. Otherwise exits non-zero with what to do. DLRSIM_CHROMIUM=/path/to/chromium
#   skips the search. Only the binary's path goes to stdout (the browser test reads it);
#   progress and errors go to stderr.
set -euo pipefail

find_browser() {
    if [ -n "${DLRSIM_CHROMIUM:-}" ]; then
        [ -x "$DLRSIM_CHROMIUM" ] && echo "$DLRSIM_CHROMIUM"
        return 0
    fi
    for name in chromium chromium-browser; do
        if command -v "$name" >/dev/null 2>&1; then
            command -v "$name"
            return 0
        fi
    done
    for candidate in /usr/bin/chromium /usr/lib/chromium/chromium; do
        if [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
}

source "$(dirname "$0")/ensure-debian-tool.sh"
ensure_debian_tool find_browser chromium DLRSIM_CHROMIUM
