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

BROWSER="$(find_browser)"
if [ -z "$BROWSER" ] && [ -n "${DLRSIM_CHROMIUM:-}" ]; then
    echo "dlrsim: DLRSIM_CHROMIUM=$DLRSIM_CHROMIUM is not an executable file" >&2
    exit 1
fi
if [ -z "$BROWSER" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "dlrsim: chromium is not installed, and only root may install it here;" \
             "run: sudo apt-get install chromium (or set DLRSIM_CHROMIUM to a browser binary)" >&2
        exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "dlrsim: chromium is not installed and apt-get is not available;" \
             "install Chromium with your system's package manager" >&2
        exit 1
    fi
    echo "dlrsim: installing chromium with apt-get (this takes a minute)" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } >&2
    then
        echo "dlrsim: apt-get could not install chromium (see the messages above)" >&2
        exit 1
    fi
    BROWSER="$(find_browser)"
    if [ -z "$BROWSER" ]; then
        echo "dlrsim: the chromium package is installed but no chromium binary was found" >&2
        exit 1
    fi
fi
echo "$BROWSER"
