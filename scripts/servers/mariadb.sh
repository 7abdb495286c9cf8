#!/usr/bin/env bash
# Install (from Debian's packages), start and prepare MariaDB for eventstore's tests and
# benchmarks. Idempotent: on a machine where it already ran it only checks, in about a second.
#
#   sudo bash scripts/servers/mariadb.sh
#
# Leaves a server on 127.0.0.1:3306 (InnoDB, utf8mb4) with user eventstore/eventstore at
# 127.0.0.1 and localhost, holding all privileges on the databases eventstore_test,
# eventstore_bench and eventsourcing_bench. Durability settings stay at the server's defaults.
# Environment: MARIADB_WAIT_SECONDS (default 60), how long to wait for the server to answer.
set -euo pipefail

LOG_NAME=mariadb
# shellcheck source=scripts/servers/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

PORT=3306
USER_NAME=eventstore
PASSWORD=eventstore
HOSTS=(127.0.0.1 localhost)
DATABASES=(eventstore_test eventstore_bench eventsourcing_bench)
MAX_CONNECTIONS=300
WAIT_SECONDS=${MARIADB_WAIT_SECONDS:-60}
CONF_FILE=/etc/mysql/mariadb.conf.d/99-eventstore.cnf
LOG_FILE=/var/log/mysql/error.log
RUN_DIR=/run/mysqld
DATA_DIR=/var/lib/mysql

require_root
apt_install mariadb-server
cd /

# The administrator: root@localhost, authenticated by the Unix socket (Debian's default).
sql_root() { mariadb --protocol=socket -uroot --batch --skip-column-names "$@"; }
answers_on_socket() { mariadb-admin --protocol=socket -uroot --connect-timeout=2 ping; }
# mariadb-admin ping succeeds once the server answers, whatever the credentials.
answers_on_tcp() { mariadb-admin --protocol=tcp -h127.0.0.1 -P"$PORT" -u"$USER_NAME" --connect-timeout=2 ping; }

# wait_for_server [PID]: until the server answers on TCP and on its socket; gives up early
# when PID (the mysqld_safe just started) has exited, as it does when the server aborts.
wait_for_server() {
  local pid=${1:-} deadline=$((SECONDS + WAIT_SECONDS))
  until answers_on_tcp >/dev/null 2>&1 && answers_on_socket >/dev/null 2>&1; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      show_log_tail "$LOG_FILE"
      die "server exited during start-up"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      show_log_tail "$LOG_FILE"
      die "server not answering on 127.0.0.1:$PORT after ${WAIT_SECONDS}s"
    fi
    sleep 0.5
  done
}

start_server() {
  log "starting server"
  install -d -o mysql -g mysql -m 0755 "$RUN_DIR" /var/log/mysql
  if [ ! -d "$DATA_DIR/mysql" ]; then
    log "initialising $DATA_DIR"
    mariadb-install-db --user=mysql --datadir="$DATA_DIR" >/tmp/mariadb-install-db.log 2>&1 \
      || { tail -n 20 /tmp/mariadb-install-db.log >&2; die "mariadb-install-db failed"; }
  fi
  local pid=
  if have_systemd; then
    systemctl start mariadb || { show_log_tail "$LOG_FILE"; die "systemctl start mariadb failed"; }
  else
    # No service manager: run mysqld_safe (which restarts a crashed server) in its own session,
    # with no terminal and no inherited pipes, so that a CI step does not wait for it.
    # --wait keeps $! alive as long as mysqld_safe, whether or not setsid had to fork.
    setsid --wait /usr/bin/mysqld_safe </dev/null >/dev/null 2>&1 &
    pid=$!
  fi
  wait_for_server "$pid"
}

stop_server() {
  if have_systemd; then
    systemctl stop mariadb
  else
    # Waits until the server has stopped; mysqld_safe then exits by itself.
    mariadb-admin --protocol=socket -uroot shutdown
  fi
}

CONF_CHANGED=false
if install_file_if_changed "$CONF_FILE" 0644 <<EOF
# Written by eventstore's scripts/servers/mariadb.sh; rewritten when it runs.
[mysqld]
bind-address           = 127.0.0.1
port                   = $PORT
default-storage-engine = InnoDB
character-set-server   = utf8mb4
collation-server       = utf8mb4_general_ci
# Tests open many connections from several processes.
max_connections        = $MAX_CONNECTIONS
# Errors go to a file (Debian sends them to syslog, which a container may not have).
log_error              = $LOG_FILE

[mysqld_safe]
skip_syslog
log_error              = $LOG_FILE
EOF
then
  CONF_CHANGED=true
  log "wrote $CONF_FILE"
fi

if ! answers_on_socket >/dev/null 2>&1; then
  start_server
elif [ "$CONF_CHANGED" = true ]; then
  log "restarting to apply the configuration (first run only)"
  stop_server
  start_server
else
  log "server already running"
  wait_for_server
fi

# max_connections can change at run time; a server started before this script may have fewer.
current=$(sql_root -e 'SELECT @@GLOBAL.max_connections')
if [ "$current" -lt "$MAX_CONNECTIONS" ]; then
  log "raising max_connections from $current to $MAX_CONNECTIONS"
  sql_root -e "SET GLOBAL max_connections = $MAX_CONNECTIONS"
fi

log "ensuring user $USER_NAME@{$(IFS=,; echo "${HOSTS[*]}")} and databases ${DATABASES[*]}"
{
  for db in "${DATABASES[@]}"; do
    echo "CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;"
  done
  for host in "${HOSTS[@]}"; do
    echo "CREATE USER IF NOT EXISTS '$USER_NAME'@'$host' IDENTIFIED BY '$PASSWORD';"
    echo "ALTER USER '$USER_NAME'@'$host' IDENTIFIED BY '$PASSWORD';"
    for db in "${DATABASES[@]}"; do
      echo "GRANT ALL PRIVILEGES ON \`$db\`.* TO '$USER_NAME'@'$host';"
    done
  done
} | sql_root

# Prove it the way the tests will connect: TCP, password.
for db in "${DATABASES[@]}"; do
  MYSQL_PWD=$PASSWORD mariadb --protocol=tcp -h127.0.0.1 -P"$PORT" -u"$USER_NAME" --connect-timeout=5 \
    -D "$db" -e 'SELECT 1' >/dev/null \
    || die "user $USER_NAME cannot log in to $db over 127.0.0.1:$PORT"
done
version=$(sql_root -e 'SELECT VERSION()')
log "ready: mysql://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/{$(IFS=,; echo "${DATABASES[*]}")} (MariaDB $version, max_connections $MAX_CONNECTIONS)"
