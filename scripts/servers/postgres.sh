#!/usr/bin/env bash
# Install (from Debian's packages), start and prepare PostgreSQL for eventstore's tests and
# benchmarks. Idempotent: on a machine where it already ran it only checks, in about a second.
#
#   sudo bash scripts/servers/postgres.sh
#
# Leaves a server on 127.0.0.1:5432 with role eventstore/eventstore (LOGIN, CREATEDB) owning
# the databases eventstore_test, eventstore_bench and eventsourcing_bench. Durability
# settings (fsync, synchronous_commit) stay at the server's defaults.
# Environment: PG_WAIT_SECONDS (default 60), how long to wait for the server to accept
# connections.
set -euo pipefail

LOG_NAME=postgres
# shellcheck source=scripts/servers/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

PORT=5432
ROLE=eventstore
PASSWORD=eventstore
DATABASES=(eventstore_test eventstore_bench eventsourcing_bench)
MAX_CONNECTIONS=300
CLUSTER=main
WAIT_SECONDS=${PG_WAIT_SECONDS:-60}

# pg_createcluster (run by the package) takes the cluster's locale from the environment;
# an empty one would give SQL_ASCII. C.UTF-8 always exists on Debian 12.
export LANG=C.UTF-8 LC_ALL=C.UTF-8

require_root
apt_install postgresql
cd /   # psql runs as user postgres, who may not be allowed into the caller's directory

# The newest installed major version (Debian 12: 15).
VERSION=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort -n | tail -n 1)
[ -n "$VERSION" ] && [ -x "/usr/lib/postgresql/$VERSION/bin/postgres" ] \
  || die "postgresql is installed but no server binary was found under /usr/lib/postgresql"
CONF_DIR=/etc/postgresql/$VERSION/$CLUSTER
LOG_FILE=/var/log/postgresql/postgresql-$VERSION-$CLUSTER.log

if [ ! -f "$CONF_DIR/postgresql.conf" ]; then
  log "creating cluster $VERSION/$CLUSTER"
  pg_createcluster --port "$PORT" --locale C.UTF-8 --encoding UTF8 "$VERSION" "$CLUSTER" >/dev/null
fi

is_running() { pg_ctlcluster "$VERSION" "$CLUSTER" status >/dev/null 2>&1; }
accepts_connections() { pg_isready -q -h 127.0.0.1 -p "$PORT" -t 2; }
as_postgres() { runuser -u postgres -- "$@"; }
psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres "$@"; }

start_cluster() {
  log "starting cluster $VERSION/$CLUSTER"
  if ! pg_ctlcluster "$VERSION" "$CLUSTER" start; then
    show_log_tail "$LOG_FILE"
    die "could not start cluster $VERSION/$CLUSTER"
  fi
}

# conf.d is read after postgresql.conf, so these lines win over it.
CONF_CHANGED=false
if install_file_if_changed "$CONF_DIR/conf.d/eventstore.conf" 0644 <<EOF
# Written by eventstore's scripts/servers/postgres.sh; rewritten when it runs.
listen_addresses = 'localhost'
port = $PORT
# Tests open many connections from several processes.
max_connections = $MAX_CONNECTIONS
# Durability stays at PostgreSQL's defaults, whatever else was configured.
fsync = on
synchronous_commit = on
full_page_writes = on
EOF
then
  chown postgres:postgres "$CONF_DIR/conf.d/eventstore.conf"
  CONF_CHANGED=true
  log "wrote $CONF_DIR/conf.d/eventstore.conf"
fi

if ! is_running; then
  start_cluster
elif [ "$CONF_CHANGED" = true ]; then
  log "restarting to apply the configuration (first run only)"
  pg_ctlcluster "$VERSION" "$CLUSTER" restart || { show_log_tail "$LOG_FILE"; die "restart failed"; }
else
  log "cluster $VERSION/$CLUSTER already running"
fi

if ! wait_until "$WAIT_SECONDS" accepts_connections; then
  show_log_tail "$LOG_FILE"
  die "server not accepting connections on 127.0.0.1:$PORT after ${WAIT_SECONDS}s"
fi

# A cluster started before this script existed may still run with too few connections.
current=$(psql_admin -Atc 'SHOW max_connections')
if [ "$current" -lt "$MAX_CONNECTIONS" ]; then
  log "max_connections is $current, restarting to raise it to $MAX_CONNECTIONS"
  pg_ctlcluster "$VERSION" "$CLUSTER" restart || { show_log_tail "$LOG_FILE"; die "restart failed"; }
  wait_until "$WAIT_SECONDS" accepts_connections \
    || { show_log_tail "$LOG_FILE"; die "server not accepting connections after restart"; }
fi

log "ensuring role $ROLE and databases ${DATABASES[*]}"
psql_admin -v role="$ROLE" -v password="$PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN CREATEDB PASSWORD :'password';
SQL
for db in "${DATABASES[@]}"; do
  psql_admin -v role="$ROLE" -v db="$db" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L LC_COLLATE %L LC_CTYPE %L TEMPLATE template0',
              :'db', :'role', 'UTF8', 'C.UTF-8', 'C.UTF-8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
ALTER DATABASE :"db" OWNER TO :"role";
SQL
done

# Prove it the way the tests will connect: TCP, password authentication.
for db in "${DATABASES[@]}"; do
  PGPASSWORD=$PASSWORD PGCONNECT_TIMEOUT=5 psql -X -q -w -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d "$db" \
    -Atc 'SELECT 1' >/dev/null \
    || die "role $ROLE cannot log in to $db over 127.0.0.1:$PORT (check $CONF_DIR/pg_hba.conf)"
done
log "ready: postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/{$(IFS=,; echo "${DATABASES[*]}")} (PostgreSQL $VERSION, max_connections $MAX_CONNECTIONS)"
