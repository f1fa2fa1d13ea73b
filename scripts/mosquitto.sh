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

source "$(dirname "$0")/ensure-debian-tool.sh"
ensure_debian_tool find_broker mosquitto DLRSIM_MOSQUITTO
