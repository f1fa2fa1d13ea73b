#!/usr/bin/env bash
# Make sure the mosquitto MQTT broker (Debian's package) is installed; print its binary's path.
# Usage: scripts/mosquitto.sh
#   Installs the package with apt-get when the broker is missing and we run as root (CI does);
#   otherwise exits non-zero saying what to do. DLRSIM_MOSQUITTO=/path/to/mosquitto skips the
#   search. Only the path goes to stdout (tests read it); everything else goes to stderr.
set -euo pipefail

find_broker() {
    if [ -n "${DLRSIM_MOSQUITTO:-}" ]; then
        [ -x "$DLRSIM_MOSQUITTO" ] && echo "$DLRSIM_MOSQUITTO"
        return 0
    fi
    # Debian puts the broker in /usr/sbin, which is not on every user's PATH.
    for candidate in "$(command -v mosquitto 2>/dev/null || true)" /usr/sbin/mosquitto \
                     /usr/local/sbin/mosquitto; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
}

BROKER="$(find_broker)"
if [ -z "$BROKER" ] && [ -n "${DLRSIM_MOSQUITTO:-}" ]; then
    echo "dlrsim: DLRSIM_MOSQUITTO=$DLRSIM_MOSQUITTO is not an executable file" >&2
    exit 1
fi
if [ -z "$BROKER" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "dlrsim: mosquitto is not installed, and only root may install it here;" \
             "run: sudo apt-get install mosquitto (or set DLRSIM_MOSQUITTO to a broker binary)" >&2
        exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "dlrsim: mosquitto is not installed and apt-get is not available;" \
             "install the mosquitto broker with your system's package manager" >&2
        exit 1
    fi
    echo "dlrsim: installing mosquitto with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends mosquitto; } >&2
    then
        echo "dlrsim: apt-get could not install mosquitto (see the messages above)" >&2
        exit 1
    fi
    BROKER="$(find_broker)"
    if [ -z "$BROKER" ]; then
        echo "dlrsim: the mosquitto package is installed but no mosquitto binary was found" >&2
        exit 1
    fi
fi
echo "$BROKER"
