#!/usr/bin/env bash
# The main job on the embedded default: installs what it needs, runs the example application
# on a SQLite file.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh core
exec .venv/bin/python examples/demo.py "$@"
