#!/usr/bin/env bash
# The benchmark of issue 5 in one command, from a clean clone:
#
#   benchmarks/run.sh                     # everything: about 15 minutes
#   benchmarks/run.sh --quick             # small sizes, a smoke test of a minute or two
#   benchmarks/run.sh --only W1,W3 --backends sqlite,postgres
#
# Installs the project and its plugins in .venv (scripts/install.sh all), then eventsourcing
# 9.5.6 with its PostgreSQL and AES extras, for the benchmark only (it is never a dependency
# of the project). As root it also makes sure PostgreSQL runs (scripts/servers/postgres.sh);
# Cassandra is measured when it answers (BENCH_START_CASSANDRA=1 starts it first).
# Arguments go to `python -m benchmarks`; the table is printed and the figures are written
# to benchmarks/results/latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install.sh all
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  'eventsourcing[postgres,crypto,cryptography]==9.5.6'

if [ "$(id -u)" = 0 ]; then
  scripts/servers/postgres.sh || echo "run.sh: PostgreSQL could not be started" >&2
fi
if [ "${BENCH_START_CASSANDRA:-0}" = 1 ]; then
  scripts/servers/cassandra.sh start || echo "run.sh: Cassandra could not be started" >&2
fi
# shellcheck source=../scripts/servers/env.sh
source scripts/servers/env.sh

exec .venv/bin/python -m benchmarks "$@"
