# Helpers shared by postgres.sh and mariadb.sh. Sourced, never run.
# Expects the caller to set LOG_NAME (the prefix of every progress line).

log() { printf '%s: %s\n' "$LOG_NAME" "$*"; }
die() { printf '%s: ERROR: %s\n' "$LOG_NAME" "$*" >&2; exit 1; }

require_root() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and starts a server); try: sudo bash $0"
}

# True when systemd manages this machine (then services are started through it).
have_systemd() { [ -d /run/systemd/system ]; }

is_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

# apt_install PKG...: install the missing ones, non-interactively, from Debian's archive.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do is_installed "$pkg" || missing+=("$pkg"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "apt-get not found: this script supports Debian/Ubuntu only"
  local apt=(apt-get -q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  export DEBIAN_FRONTEND=noninteractive
  # Both scripts may run at once (and DPkg::Lock::Timeout does not cover apt-get update's
  # lock): take turns.
  exec 9>/var/lock/eventstore-servers-apt.lock
  flock -w 900 9 || die "another installation held /var/lock/eventstore-servers-apt.lock for 15 minutes"
  log "installing ${missing[*]} (apt-get, 10-30 s)"
  local attempt
  for attempt in 1 2 3 4 5 6; do
    "${apt[@]}" update </dev/null >/tmp/"$LOG_NAME"-apt-update.log 2>&1 && break
    [ "$attempt" -lt 6 ] || { tail -n 20 /tmp/"$LOG_NAME"-apt-update.log >&2; die "apt-get update failed"; }
    log "apt-get update failed (another apt running?), retrying in 10s"
    sleep 10
  done
  "${apt[@]}" install --no-install-recommends "${missing[@]}" </dev/null >/tmp/"$LOG_NAME"-apt-install.log 2>&1 \
    || { tail -n 40 /tmp/"$LOG_NAME"-apt-install.log >&2; die "apt-get install ${missing[*]} failed (full log: /tmp/$LOG_NAME-apt-install.log)"; }
  exec 9>&-
}

# install_file_if_changed DEST MODE: write stdin to DEST unless identical.
# Returns 0 when the file was (re)written, 1 when it was already up to date.
install_file_if_changed() {
  local dest=$1 mode=$2 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$dest" ] && cmp -s "$tmp" "$dest"; then
    rm -f "$tmp"
    return 1
  fi
  install -D -m "$mode" "$tmp" "$dest"
  rm -f "$tmp"
  return 0
}

# wait_until SECONDS COMMAND...: poll COMMAND every half second; 1 on timeout.
wait_until() {
  local seconds=$1 deadline
  shift
  deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

# show_log_tail FILE: the end of a server log, on stderr, for failure reports.
show_log_tail() {
  if [ -r "$1" ]; then
    printf '%s: --- last lines of %s ---\n' "$LOG_NAME" "$1" >&2
    tail -n 30 "$1" >&2
    printf '%s: --- end of %s ---\n' "$LOG_NAME" "$1" >&2
  else
    printf '%s: (no log file at %s)\n' "$LOG_NAME" "$1" >&2
  fi
}
