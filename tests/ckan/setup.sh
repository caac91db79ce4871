#!/usr/bin/env bash
# Install what the CKAN round trip needs, from Debian packages and PyPI alone:
#   - PostgreSQL, Redis, and the headers CKAN's requirements build against (apt-get,
#     only what is missing; needs root on a fresh machine);
#   - CKAN 2.9.11, the version data.gov.ma runs, with its exact pinned requirements,
#     in a Python 3.9 virtualenv (CKAN 2.9 does not build on Python 3.11), cached in
#     .ckan-venv/ (or $CKAN_VENV) and reused when it is complete.
# Idempotent: a second call with everything in place does nothing and takes a second.
set -euo pipefail

CKAN_VERSION=2.9.11
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${CKAN_VENV:-$ROOT/.ckan-venv}
STAMP=$VENV/.pgo-ckan-$CKAN_VERSION

say() { printf 'test-ckan setup: %s\n' "$*" >&2; }

# --- Debian packages ---------------------------------------------------------------
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v pg_config >/dev/null 2>&1 || missing+=(libpq-dev)   # psycopg2 builds from source
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1' || missing+=(libmagic1)  # python-magic
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        say "missing Debian packages: ${missing[*]}; install them (as root: apt-get install ${missing[*]})"
        exit 2
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- CKAN in a Python 3.9 virtualenv --------------------------------------------------
if [[ -f $STAMP && -x $VENV/bin/ckan ]]; then
    exit 0
fi

find_python39() {
    local root candidate
    root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
    # pyenv's shim answers to python3.9 without being one: run each candidate to check
    for candidate in ${CKAN_PYTHON:-} "$(command -v python3.9 || true)" \
        "$root"/versions/3.9*/bin/python3.9 /root/.pyenv/versions/3.9*/bin/python3.9; do
        if [[ -x $candidate ]] && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 9))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    return 1
}
PY39=$(find_python39) || {
    say "CKAN $CKAN_VERSION needs Python 3.9 (not found: set CKAN_PYTHON to a python3.9)"
    exit 2
}

say "installing CKAN $CKAN_VERSION into $VENV with $PY39 (about a minute)"
rm -rf "$VENV"
"$PY39" -m venv "$VENV"
# CKAN 2.9's setup.py needs the old setuptools; its requirements are exact pins
# (requirements.txt in the sdist, the "requirements" extra).
pip_install() {
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$@" >> "$VENV/install.log" 2>&1 || {
        grep -v '^WARNING: Location' "$VENV/install.log" | tail -30 >&2
        say "pip install $* failed (log: $VENV/install.log)"
        exit 1
    }
}
pip_install "setuptools==44.1.0" wheel
pip_install --no-build-isolation "ckan[requirements]==$CKAN_VERSION"
"$VENV/bin/python" -c "import ckan, sys; sys.exit(ckan.__version__ != '$CKAN_VERSION')"
touch "$STAMP"
say "CKAN $CKAN_VERSION installed"
