# Sourced by scripts that need a program from a Debian package (mosquitto, chromium).
# ensure_debian_tool FINDER PACKAGE OVERRIDE_VAR
#   FINDER prints the program's path (or nothing); OVERRIDE_VAR names the environment variable
#   that points at a binary instead. When the program is missing and we run as root (CI does),
#   installs PACKAGE with apt-get; otherwise exits non-zero saying what to do. On success only
#   the path goes to stdout (tests read it); progress and errors go to stderr.
ensure_debian_tool() {
    local finder="$1" package="$2" override="$3" found
    found="$("$finder")"
    if [ -z "$found" ] && [ -n "${!override:-}" ]; then
        echo "dlrsim: $override=${!override} is not an executable file" >&2
        exit 1
    fi
    if [ -z "$found" ]; then
        if [ "$(id -u)" != 0 ]; then
            echo "dlrsim: $package is not installed, and only root may install it here;" \
                 "run: sudo apt-get install $package (or set $override to its binary)" >&2
            exit 1
        fi
        if ! command -v apt-get >/dev/null 2>&1; then
            echo "dlrsim: $package is not installed and apt-get is not available;" \
                 "install it with your system's package manager" >&2
            exit 1
        fi
        echo "dlrsim: installing $package with apt-get" >&2
        export DEBIAN_FRONTEND=noninteractive
        if ! { apt-get update -qq &&
               apt-get install -y -qq --no-install-recommends "$package"; } >&2; then
            echo "dlrsim: apt-get could not install $package (see the messages above)" >&2
            exit 1
        fi
        found="$("$finder")"
        if [ -z "$found" ]; then
            echo "dlrsim: the $package package is installed but its binary was not found" >&2
            exit 1
        fi
    fi
    echo "$found"
}
