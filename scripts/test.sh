#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs everything, starts PostgreSQL, MariaDB,
# a Cassandra node and a three-node Cassandra cluster (installing them first if needed),
# runs every test, the user's document, ruff and mypy. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install.sh all
bash scripts/servers/postgres.sh
bash scripts/servers/mariadb.sh
bash scripts/servers/cassandra.sh start
# three more nodes on 127.0.0.1-3 (CQL 9142) for the cluster tests (node loss, RF 3)
bash scripts/servers/cassandra-cluster.sh start
# shellcheck source=servers/env.sh
source scripts/servers/env.sh

echo "== lint and types"
.venv/bin/ruff check .
.venv/bin/mypy eventstore_core examples \
  plugins/aes_cipher/eventstore_aes \
  plugins/sqlalchemy_backend/eventstore_sqlalchemy \
  plugins/cassandra_backend/eventstore_cassandra \
  $(ls -d benchmarks 2>/dev/null)

echo "== the user's document (shared/seed/infrastructure.rst)"
seed_check=../shared/tools/seed_check.py
if [ -f "$seed_check" ]; then
  .venv/bin/python "$seed_check" --require-cassandra
elif [ "${CI:-}" = "true" ]; then
  echo "CI needs $seed_check beside this checkout" >&2
  exit 1
else
  echo "skipped: no $seed_check beside this checkout (CI runs it)"
fi

echo "== tests (on empty test databases)"
bash scripts/servers/reset-test-data.sh
.venv/bin/python -m pytest "$@"

echo "== the backend template (examples/dbm_backend), installed and proven as a user would"
root=$(pwd)
template=$(mktemp -d)
cp -r examples/dbm_backend "$template/"
rm -rf "$template/dbm_backend/build" "$template/dbm_backend/"*.egg-info
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-build-isolation \
  "$template/dbm_backend"
(cd "$template/dbm_backend" && "$root/.venv/bin/python" -m pytest -q)
rm -rf "$template"
