#!/usr/bin/env bash
# A three-node Apache Cassandra 5.0 cluster on this machine, for the cluster tests.
#
#   scripts/servers/cassandra-cluster.sh start            fetch (once), start nodes 1, 2, 3 one
#                                                         after another; wait until all are up
#   scripts/servers/cassandra-cluster.sh stop             stop every node (SIGTERM, KILL after 60 s)
#   scripts/servers/cassandra-cluster.sh status           one line per node; exit 0 if all answer
#   scripts/servers/cassandra-cluster.sh kill NODE        SIGKILL node NODE (1, 2 or 3) at once
#   scripts/servers/cassandra-cluster.sh start-node NODE  start one node (again); wait for it
#   scripts/servers/cassandra-cluster.sh stop-node NODE   stop one node cleanly
#   scripts/servers/cassandra-cluster.sh hosts            print the contact points (a,b,c)
#   scripts/servers/cassandra-cluster.sh logs NODE        print the tail of a node's log
#
# Node N listens on 127.0.0.N: CQL on port 9142, inter-node on 7100 (so the cluster lives
# beside the single test node of cassandra.sh on 127.0.0.1:9042/7000, which it never touches).
# Each node has its own directory $CASS_HOME/cluster/nodeN (conf, logs, data), one token
# (evenly spaced), a small heap, and no JMX. Everything else (fetching the jars, the JVM
# flags, waiting for CQL) is _cassandra.sh, shared with cassandra.sh. Every command is
# idempotent: start on a running cluster only checks it; each wait is bounded.
#
# Environment (all optional): EVENTSTORE_CASSANDRA_CLUSTER_PORT (9142),
# EVENTSTORE_CASSANDRA_CLUSTER_STORAGE_PORT (7100), EVENTSTORE_CASSANDRA_CLUSTER_HEAP
# ("-Xms384m -Xmx768m"), EVENTSTORE_CASSANDRA_TIMEOUT (seconds per node, 180), and the
# fetching variables of cassandra.sh (EVENTSTORE_CASSANDRA_VERSION, _HOME, EVENTSTORE_MAVEN_REPO,
# JAVA, EVENTSTORE_CASSANDRA_COMMITLOG_SYNC).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="/opt/eventstore"
PORT="${EVENTSTORE_CASSANDRA_CLUSTER_PORT:-9142}"
STORAGE_PORT="${EVENTSTORE_CASSANDRA_CLUSTER_STORAGE_PORT:-7100}"
HEAP="${EVENTSTORE_CASSANDRA_CLUSTER_HEAP:--Xms384m -Xmx768m}"
TIMEOUT="${EVENTSTORE_CASSANDRA_TIMEOUT:-180}"
COMMITLOG_SYNC="${EVENTSTORE_CASSANDRA_COMMITLOG_SYNC:-batch}"
KNOWN_VERSIONS="5.0.9 5.0.8 5.0.7 5.0.6 5.0.5 5.0.4"
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.6.1"
MVN=(mvn -B -q ${EVENTSTORE_MAVEN_REPO:+-Dmaven.repo.local=$EVENTSTORE_MAVEN_REPO})
NODES="1 2 3"
CLUSTER_NAME="eventstore-cluster"
SEEDS="127.0.0.1:$STORAGE_PORT"
# Murmur3 tokens spaced evenly over the ring, one per node.
TOKENS=(-9223372036854775808 -3074457345618258603 3074457345618258602)

LOG_NAME="cassandra-cluster.sh"
# shellcheck source=scripts/servers/_cassandra.sh
source "$HERE/_cassandra.sh"

select_node() {
  # Sets the node variables of _cassandra.sh for node $1.
  local node="$1"
  [[ " $NODES " == *" $node "* ]] || die "no node '$node': use one of $NODES"
  HOST="127.0.0.$node"
  NODE_SUBDIR="cluster/node$node"
  # auto_bootstrap false: the nodes are made together, empty, so there is nothing to stream;
  # a node that restarts keeps its data and its token.
  EXTRA_YAML="initial_token: ${TOKENS[$((node - 1))]}
auto_bootstrap: false"
  resolve_layout
  set_paths
}

node_start() { select_node "$1"; do_start; }

node_stop() { select_node "$1"; do_stop; }

node_kill() {
  select_node "$1"
  local pid
  if pid="$(running_pid)"; then
    kill -KILL "$pid"
    local deadline=$(( $(date +%s) + 30 ))
    while kill -0 "$pid" 2>/dev/null && (( $(date +%s) < deadline )); do sleep 0.2; done
    rm -f "$PID_FILE"
    log "node $1 ($HOST, pid $pid) killed with SIGKILL"
  else
    log "node $1 ($HOST) is not running"
  fi
}

node_status() {
  select_node "$1"
  local pid version
  if pid="$(running_pid)"; then
    if version="$(cql_answers 3)"; then
      echo "node $1: running, Cassandra $version, pid $pid, $HOST:$PORT"; return 0
    fi
    echo "node $1: starting or unhealthy, pid $pid, $HOST:$PORT does not answer"; return 1
  fi
  echo "node $1: stopped ($HOST:$PORT)"
  return 1
}

cluster_start() {
  local node started
  started=$(date +%s)
  # One after another: a node joins the ring through the seed (node 1), and two cores do not
  # start three JVMs at once quickly anyway.
  for node in $NODES; do ( node_start "$node" ); done
  log "cluster up on $(hosts) port $PORT (took $(( $(date +%s) - started )) s)"
}

cluster_stop() {
  local node
  for node in $NODES; do ( node_stop "$node" ); done
}

cluster_status() {
  local node rc=0
  for node in $NODES; do node_status "$node" || rc=1; done
  return $rc
}

hosts() {
  local node out=""
  for node in $NODES; do out="${out:+$out,}127.0.0.$node"; done
  echo "$out"
}

with_lock() {
  # One start/stop at a time per cluster (not the single node's lock: both may start at once).
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/.cassandra-cluster.lock"
  flock -w 900 9 || die "another cassandra-cluster.sh holds $CACHE_ROOT/.cassandra-cluster.lock"
  "$@"
}

need_node() { [[ -n "${1:-}" ]] || die "which node? usage: $0 $2 {1|2|3}"; }

case "${1:-}" in
  start) with_lock cluster_start ;;
  stop) with_lock cluster_stop ;;
  status) cluster_status ;;
  kill) need_node "${2:-}" kill; node_kill "$2" ;;
  start-node) need_node "${2:-}" start-node; with_lock node_start "$2" ;;
  stop-node) need_node "${2:-}" stop-node; with_lock node_stop "$2" ;;
  hosts) hosts ;;
  port) echo "$PORT" ;;
  logs) need_node "${2:-}" logs; select_node "$2"; log_tail 80 ;;
  *) echo "usage: $0 {start|stop|status|kill N|start-node N|stop-node N|hosts|port|logs N}" >&2
     exit 2 ;;
esac
