# The single node (cassandra.sh) and the three-node cluster (cassandra-cluster.sh) share this:
# fetching Cassandra into /opt/eventstore once, writing one node's configuration, starting,
# waiting for and stopping one node. Sourced, never run.
#
# A node is described by: HOST, PORT (CQL), STORAGE_PORT, NODE_SUBDIR (its conf, logs, data and
# pid file: $CASS_HOME/$NODE_SUBDIR, or the install dir itself for the single node), and optionally CLUSTER_NAME,
# SEEDS ("host:port,...") and EXTRA_YAML (more cassandra.yaml lines). The caller also sets
# HERE, CACHE_ROOT, HEAP, TIMEOUT, COMMITLOG_SYNC, KNOWN_VERSIONS, DEPENDENCY_PLUGIN, MVN,
# LOG_NAME.

log() { echo "${LOG_NAME:-cassandra}: $*" >&2; }
die() { log "$*"; exit 1; }

python_bin() {
  command -v python3 || command -v python || die "python3 is needed for the CQL probe"
}

# ---------------------------------------------------------------- version and paths

newest_fetched_version() {
  local dir
  for dir in $(ls -d "$CACHE_ROOT"/cassandra-5.0.* 2>/dev/null | sort -t. -k3,3nr); do
    if [[ -f "$dir/.fetched" ]]; then basename "$dir" | sed 's/^cassandra-//'; return 0; fi
  done
  return 1
}

central_versions() {
  # Newest first, 5.0.x releases only (no alpha/beta/rc). Empty output if Central is unreachable.
  local url="https://repo.maven.apache.org/maven2/org/apache/cassandra/cassandra-all/maven-metadata.xml"
  curl -fsS --max-time 30 "$url" 2>/dev/null \
    | grep -oE '<version>5\.0\.[0-9]+</version>' | sed -E 's#</?version>##g' \
    | sort -t. -k3,3nr || true
}

resolve_layout() {
  # Sets VERSION and CASS_HOME. Does not fetch.
  if [[ -n "${EVENTSTORE_CASSANDRA_VERSION:-}" ]]; then
    VERSION="$EVENTSTORE_CASSANDRA_VERSION"
  elif [[ -n "${EVENTSTORE_CASSANDRA_HOME:-}" && -f "${EVENTSTORE_CASSANDRA_HOME}/.fetched" ]]; then
    VERSION="$(cat "${EVENTSTORE_CASSANDRA_HOME}/.fetched")"
  else
    VERSION="$(newest_fetched_version || true)"
  fi
  CASS_HOME="${EVENTSTORE_CASSANDRA_HOME:-$CACHE_ROOT/cassandra-${VERSION:-unknown}}"
}

set_paths() {
  # One node's own files live in NODE_DIR: the install dir itself for the single node, a
  # directory under it (NODE_SUBDIR, e.g. cluster/node2) for a cluster node.
  NODE_DIR="$CASS_HOME${NODE_SUBDIR:+/$NODE_SUBDIR}"
  CONF_DIR="$NODE_DIR/conf"
  LOG_DIR="$NODE_DIR/logs"
  DATA_DIR="$NODE_DIR/data"
  PID_FILE="$NODE_DIR/cassandra.pid"
}

# ---------------------------------------------------------------- fetching

fetch_tarball() {
  # The binary distribution, if Central ever has it for this version.
  local version="$1" work="$2"
  "${MVN[@]}" "$DEPENDENCY_PLUGIN:copy" \
    -Dartifact="org.apache.cassandra:apache-cassandra:$version:tar.gz:bin" \
    -DoutputDirectory="$work/tarball" >"$work/tarball.log" 2>&1 || return 1
  local archive
  archive="$(ls "$work"/tarball/*.tar.gz 2>/dev/null | head -n1)" || return 1
  [[ -n "$archive" ]] || return 1
  mkdir -p "$work/unpacked"
  tar -xzf "$archive" -C "$work/unpacked" --strip-components=1
  mkdir -p "$CASS_HOME"
  cp -a "$work/unpacked/lib" "$CASS_HOME/lib"
  [[ -d "$work/unpacked/conf" ]] && cp -a "$work/unpacked/conf" "$CASS_HOME/dist-conf"
  return 0
}

fetch_cassandra_all() {
  # cassandra-all and its runtime dependencies through a throwaway pom (never committed).
  local version="$1" work="$2"
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.eventstore</groupId>
  <artifactId>cassandra-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>$version</version>
    </dependency>
  </dependencies>
</project>
EOF
  (cd "$work" && "${MVN[@]}" -f "$work/pom.xml" "$DEPENDENCY_PLUGIN:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$work/lib" >"$work/maven.log" 2>&1) || {
    tail -n 20 "$work/maven.log" >&2
    return 1
  }
  [[ -f "$work/lib/cassandra-all-$version.jar" ]] || return 1
  mkdir -p "$CASS_HOME"
  rm -rf "$CASS_HOME/lib"
  cp -a "$work/lib" "$CASS_HOME/lib"
}

fetch_version() {
  # Fetch one version into $CASS_HOME; returns non-zero if it does not resolve.
  local version="$1" work rc=0
  work="$(mktemp -d -t cassandra-fetch.XXXXXX)"
  log "fetching Apache Cassandra $version into $CASS_HOME"
  if fetch_tarball "$version" "$work"; then
    log "used the binary tarball org.apache.cassandra:apache-cassandra:$version:tar.gz:bin"
  else
    log "no binary tarball for $version on Maven Central; using cassandra-all + dependencies"
    fetch_cassandra_all "$version" "$work" || rc=1
  fi
  rm -rf "$work"
  [[ $rc -eq 0 ]] || return 1
  echo "$version" >"$CASS_HOME/.fetched"
}

apt_install() {
  # Debian packages, for a bare machine (as root); a no-op where they are installed.
  [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null || return 1
  log "installing $* with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
}

ensure_fetched() {
  command -v mvn >/dev/null || apt_install maven || die "Maven (mvn) is needed to fetch Cassandra"
  if [[ -n "${VERSION:-}" && -f "$CASS_HOME/.fetched" ]]; then return 0; fi
  local candidates version started
  if [[ -n "${VERSION:-}" ]]; then
    candidates="$VERSION"
  else
    candidates="$(central_versions | tr '\n' ' ')"
    [[ -n "${candidates// /}" ]] || candidates="$KNOWN_VERSIONS"
  fi
  started=$(date +%s)
  for version in $candidates; do
    CASS_HOME="${EVENTSTORE_CASSANDRA_HOME:-$CACHE_ROOT/cassandra-$version}"
    if [[ -f "$CASS_HOME/.fetched" ]] || fetch_version "$version"; then
      VERSION="$version"
      set_paths
      log "Cassandra $VERSION ready in $CASS_HOME (fetch took $(( $(date +%s) - started )) s)"
      return 0
    fi
    log "Cassandra $version did not resolve; trying an older one"
    [[ -n "${EVENTSTORE_CASSANDRA_HOME:-}" ]] || rm -rf "$CASS_HOME"
  done
  die "could not fetch any of: $candidates"
}

# ---------------------------------------------------------------- configuration

find_java() {
  if [[ -n "${JAVA:-}" ]]; then echo "$JAVA"; return 0; fi
  local candidate major
  for candidate in "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)" \
                   /usr/lib/jvm/java-17-openjdk-*/bin/java /usr/lib/jvm/java-11-openjdk-*/bin/java; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    major="$("$candidate" -XshowSettings:properties -version 2>&1 \
              | sed -nE 's/^ *java\.specification\.version = ([0-9]+).*/\1/p')"
    if [[ "$major" == "17" || "$major" == "11" ]]; then echo "$candidate"; return; fi
  done
  return 1
}

java_17() {
  find_java && return 0
  apt_install openjdk-17-jre-headless >&2 && find_java && return 0
  die "Cassandra 5.0 needs Java 17 (or 11); none found (set JAVA=/path/to/java)"
}

commitlog_sync_config() {
  # batch: a write is acknowledged only once its commit log entry is on disk, so a node
  # killed with -9 keeps every acknowledged write. (periodic, Cassandra's default, acknowledges
  # before the entry is synced: a crash loses the writes of the last sync period.)
  case "$COMMITLOG_SYNC" in
    batch) echo "commitlog_sync: batch" ;;
    group) printf 'commitlog_sync: group\ncommitlog_sync_group_window: 2ms\n' ;;
    periodic) printf 'commitlog_sync: periodic\ncommitlog_sync_period: 10000ms\n' ;;
    *) die "EVENTSTORE_CASSANDRA_COMMITLOG_SYNC=$COMMITLOG_SYNC: use batch, group or periodic" ;;
  esac
}

write_config() {
  mkdir -p "$CONF_DIR" "$LOG_DIR" "$NODE_DIR/triggers" "$DATA_DIR"/{data,commitlog,saved_caches,hints,cdc_raw}
  cat >"$CONF_DIR/cassandra.yaml" <<EOF
# Written by scripts/servers/$(basename "$0"): a test node on a loopback address.
cluster_name: ${CLUSTER_NAME:-eventstore-test}
num_tokens: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "${SEEDS:-$HOST:$STORAGE_PORT}"
listen_address: $HOST
rpc_address: $HOST
storage_port: $STORAGE_PORT
native_transport_port: $PORT
start_native_transport: true
$(commitlog_sync_config)
data_file_directories:
  - $DATA_DIR/data
commitlog_directory: $DATA_DIR/commitlog
saved_caches_directory: $DATA_DIR/saved_caches
hints_directory: $DATA_DIR/hints
cdc_raw_directory: $DATA_DIR/cdc_raw
auto_snapshot: false
snapshot_before_compaction: false
${EXTRA_YAML:-}
EOF
  cat >"$CONF_DIR/logback.xml" <<EOF
<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>$LOG_DIR/system.log</file>
    <append>true</append>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
EOF
}

jvm_flags() {
  # From Cassandra 5.0's conf/jvm-server.options and conf/jvm17-server.options, plus what
  # bin/cassandra.in.sh and cassandra-env.sh add (jamm agent, config and log locations).
  local jamm
  jamm="$(ls "$CASS_HOME"/lib/jamm-*.jar | head -n1)"
  # shellcheck disable=SC2206
  FLAGS=($HEAP -Xss256k -ea -da:net.openhft... -XX:+UseThreadPriorities
    -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath="$LOG_DIR" -XX:+CrashOnOutOfMemoryError
    -XX:+UseTLAB -XX:+ResizeTLAB -XX:+PerfDisableSharedMem -Djava.net.preferIPv4Stack=true
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1
    -XX:G1HeapRegionSize=16m -XX:G1RSetUpdatingPauseTimePercent=5 -XX:MaxGCPauseMillis=300
    -XX:InitiatingHeapOccupancyPercent=70
    -Djdk.attach.allowAttachSelf=true
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports java.sql/java.sql=ALL-UNNAMED
    --add-exports java.base/java.lang.ref=ALL-UNNAMED
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
    --add-opens java.base/java.lang.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.io=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED
    --add-opens java.base/java.util=ALL-UNNAMED
    -Dio.netty.tryReflectionSetAccessible=true
    -Dio.netty.allocator.useCacheForAllThreads=true -Dio.netty.allocator.maxOrder=11
    -javaagent:"$jamm"
    -Dcassandra.config="file://$CONF_DIR/cassandra.yaml"
    -Dlogback.configurationFile="file://$CONF_DIR/logback.xml"
    -Dcassandra.logdir="$LOG_DIR" -Dcassandra.storagedir="$DATA_DIR"
    -Dcassandra.triggers_dir="$NODE_DIR/triggers"
    -Dcassandra-foreground=yes
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.ring_delay_ms=1000
    -Dcassandra.superuser_setup_delay_ms=0
    -Deventstore.cassandra.home="$NODE_DIR")
}

# ---------------------------------------------------------------- process control

running_pid() {
  # The pid of our Cassandra if it runs (from the pid file, else by its unique marker).
  local pid=""
  [[ -f "$PID_FILE" ]] && pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
      && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "eventstore.cassandra.home=$NODE_DIR "; then
    echo "$pid"; return 0
  fi
  pid="$(pgrep -f -- "-Deventstore.cassandra.home=$NODE_DIR( |$)" | head -n1 || true)"
  [[ -n "$pid" ]] && { echo "$pid"; return 0; }
  return 1
}

cql_answers() {
  "$(python_bin)" "$HERE/cql_probe.py" "$HOST" "$PORT" "${1:-5}"
}

log_tail() {
  log "----- last lines of $LOG_DIR/system.log -----"
  tail -n "${1:-40}" "$LOG_DIR/system.log" 2>/dev/null >&2 || true
  log "----- last lines of $LOG_DIR/stdout.log -----"
  tail -n 20 "$LOG_DIR/stdout.log" 2>/dev/null >&2 || true
}

do_start() {
  local pid
  resolve_layout
  set_paths
  if [[ -n "${VERSION:-}" && -f "$CASS_HOME/.fetched" ]] && pid="$(running_pid)"; then
    if cql_answers >/dev/null; then
      log "already running (pid $pid) and answering on $HOST:$PORT"; return 0
    fi
    log "running (pid $pid) but not answering yet; waiting"
  else
    if cql_answers 2 >/dev/null; then
      die "something else already answers CQL on $HOST:$PORT; stop it or set CASSANDRA_PORT"
    fi
    ensure_fetched
    local java started
    java="$(java_17)"
    write_config
    jvm_flags
    started=$(date +%s)
    log "starting Cassandra $VERSION on $HOST:$PORT with $java ($HEAP)"
    echo "----- start $(date -Is) -----" >>"$LOG_DIR/system.log"
    (cd "$NODE_DIR" && exec setsid "$java" "${FLAGS[@]}" -cp "$CASS_HOME/lib/*" \
        org.apache.cassandra.service.CassandraDaemon \
        </dev/null >>"$LOG_DIR/stdout.log" 2>&1 9>&-) &
    pid=$!
    echo "$pid" >"$PID_FILE"
    START_TIME=$started
  fi
  local deadline=$(( $(date +%s) + TIMEOUT ))
  until cql_answers >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "Cassandra exited during start-up"; log_tail; exit 1
    fi
    if (( $(date +%s) >= deadline )); then
      log "Cassandra did not answer CQL on $HOST:$PORT within ${TIMEOUT}s"; log_tail; exit 1
    fi
    sleep 1
  done
  log "Cassandra $(cql_answers) answers on $HOST:$PORT (pid $pid${START_TIME:+, start took $(( $(date +%s) - START_TIME )) s})"
}

do_stop() {
  resolve_layout
  set_paths
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"; log "not running"; return 0
  fi
  log "stopping Cassandra (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(( $(date +%s) + 60 ))
  while kill -0 "$pid" 2>/dev/null; do
    if (( $(date +%s) >= deadline )); then
      log "still running after 60 s; sending KILL"; kill -KILL "$pid" 2>/dev/null || true
      sleep 1; break
    fi
    sleep 1
  done
  rm -f "$PID_FILE"
  log "stopped"
}

do_status() {
  resolve_layout
  set_paths
  local pid version
  if pid="$(running_pid)"; then
    if version="$(cql_answers)"; then
      echo "running: Cassandra $version, pid $pid, $HOST:$PORT, home $CASS_HOME"; return 0
    fi
    echo "starting or unhealthy: pid $pid runs but CQL on $HOST:$PORT does not answer"; return 1
  fi
  if [[ -f "$CASS_HOME/.fetched" ]]; then
    echo "stopped (Cassandra ${VERSION} fetched in $CASS_HOME)"
  else
    echo "stopped (not fetched yet)"
  fi
  return 1
}

