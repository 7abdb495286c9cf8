#!/usr/bin/env bash
# Creates .venv (if missing) and installs the project into it.
#   scripts/install.sh core  -> eventstore-core, eventstore-sqlalchemy, eventstore-aes
#   scripts/install.sh all   -> everything, with database drivers and the dev tools
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-core}"
python="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  echo "install: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
"${pip[@]}" --upgrade pip setuptools wheel

case "$what" in
  core)
    "${pip[@]}" -e . -e plugins/sqlalchemy_backend -e plugins/aes_cipher
    ;;
  all)
    "${pip[@]}" -e ".[dev,cli,otel]" \
      -e "plugins/sqlalchemy_backend[postgresql,mysql]" \
      -e "plugins/aes_cipher[pycryptodome]" \
      -e plugins/cassandra_backend
    ;;
  *)
    echo "usage: scripts/install.sh [core|all]" >&2
    exit 2
    ;;
esac
echo "install: $what installed in .venv"
