#!/usr/bin/env bash
# Fetch, start, stop and report on a single-node Apache Cassandra 5.0 for the tests.
#
#   scripts/servers/cassandra.sh start    fetch (once) and start; wait until CQL answers
#   scripts/servers/cassandra.sh stop     stop it cleanly (SIGTERM, drain), KILL after a bound
#   scripts/servers/cassandra.sh status   exit 0 when it answers CQL, 1 otherwise
#   scripts/servers/cassandra.sh restart  stop then start
#   scripts/servers/cassandra.sh logs     print the tail of its log
#   scripts/servers/cassandra.sh pid      print the server's process id (exit 1 if not running)
#
# Why this shape: Maven Central carries no Cassandra 4.x/5.x binary tarball
# (org.apache.cassandra:apache-cassandra stops at 4.0-alpha2), but it carries
# org.apache.cassandra:cassandra-all and all its dependencies. So the script still tries the
# tarball first (for a future release that has one), then falls back to a throwaway pom in a
# temporary directory whose `dependency:copy-dependencies` fills lib/, and runs
# org.apache.cassandra.service.CassandraDaemon itself with the Java 17 flags of Cassandra's
# conf/jvm17-server.options and the jamm agent.
#
# Environment (all optional):
#   EVENTSTORE_CASSANDRA_VERSION  5.0.x to use (default: the newest 5.0.x already fetched,
#                                 else the newest 5.0.x that resolves on Maven Central)
#   EVENTSTORE_CASSANDRA_HOME     install/data dir (default /opt/eventstore/cassandra-<version>)
#   EVENTSTORE_CASSANDRA_HEAP     JVM heap flags (default "-Xms512m -Xmx1g")
#   EVENTSTORE_CASSANDRA_TIMEOUT  seconds to wait for CQL at start (default 180)
#   EVENTSTORE_CASSANDRA_COMMITLOG_SYNC  batch (default: durable acknowledgements), group or
#                                 periodic (Cassandra's default: faster, loses the last
#                                 seconds of acknowledged writes if the process is killed)
#   CASSANDRA_PORT                CQL port (default 9042); the node binds to 127.0.0.1 only
#   EVENTSTORE_CASSANDRA_STORAGE_PORT  inter-node port (default 7000)
#   EVENTSTORE_MAVEN_REPO         Maven local repository to fetch into (default: Maven's own)
#   JAVA                          java executable (default: a Java 17 or 11 found on the machine)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="/opt/eventstore"
HOST="127.0.0.1"
PORT="${CASSANDRA_PORT:-9042}"
STORAGE_PORT="${EVENTSTORE_CASSANDRA_STORAGE_PORT:-7000}"
HEAP="${EVENTSTORE_CASSANDRA_HEAP:--Xms512m -Xmx1g}"
TIMEOUT="${EVENTSTORE_CASSANDRA_TIMEOUT:-180}"
COMMITLOG_SYNC="${EVENTSTORE_CASSANDRA_COMMITLOG_SYNC:-batch}"
# Used when Maven Central's metadata cannot be read; newest first.
KNOWN_VERSIONS="5.0.9 5.0.8 5.0.7 5.0.6 5.0.5 5.0.4"
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
MVN=(mvn -B -q ${EVENTSTORE_MAVEN_REPO:+-Dmaven.repo.local=$EVENTSTORE_MAVEN_REPO})

LOG_NAME="cassandra.sh"
# shellcheck source=scripts/servers/_cassandra.sh
source "$HERE/_cassandra.sh"

with_lock() {
  # One start/stop at a time (CI and a test's restart may race).
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/.cassandra.lock"
  flock -w 600 9 || die "another cassandra.sh holds $CACHE_ROOT/.cassandra.lock"
  "$@"
}

case "${1:-}" in
  start) with_lock do_start ;;
  stop) with_lock do_stop ;;
  restart) with_lock do_stop; with_lock do_start ;;
  status) do_status ;;
  logs) resolve_layout; set_paths; log_tail 80 ;;
  pid) resolve_layout; set_paths; running_pid ;;
  *) echo "usage: $0 {start|stop|restart|status|logs|pid}" >&2; exit 2 ;;
esac
