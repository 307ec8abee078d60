# shellcheck shell=bash
# The PostgreSQL cluster helpers shared by scripts/ioc-db (the project's cluster) and scripts/ioc-citus (a
# Citus coordinator and its workers): one copy of how a cluster is initialised, started on a free port,
# checked and stopped. Sourced, not run. When run as root, servers run as the `postgres` OS user
# (PostgreSQL refuses root).

PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"

as_pg() {
  if [ "$(id -u)" = "0" ]; then
    # runuser keeps no controlling terminal requirements; cd to / so the postgres user never needs the cwd.
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

can_enter() {  # can the server's OS user reach (and write under) this folder?
  local dir="$1"
  if [ "$(id -u)" = "0" ]; then
    (cd / && runuser -u postgres -- test -x "$dir" -a -w "$dir") 2>/dev/null
  else
    test -x "$dir" -a -w "$dir"
  fi
}

pg_owned_dir() {  # mkdir -p a folder the server's OS user owns
  mkdir -p "$1"
  if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$1"; fi
}

free_port() {  # the first port from $1 (default 54320) that nothing listens on
  python3 - "${1:-54320}" <<'PY'
import socket, sys
first = int(sys.argv[1])
for port in range(first, first + 100):
    with socket.socket() as s:
        # As PostgreSQL binds: a port whose last connections linger in TIME_WAIT is free to it.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break
PY
}

ensure_packages() {
  local missing=()
  [ -x "$PGBIN/initdb" ] || missing+=(postgresql-15)
  [ -f /usr/share/postgresql/15/extension/postgis.control ] || missing+=(postgresql-15-postgis-3)
  command -v ogr2ogr >/dev/null || missing+=(gdal-bin)
  [ -e /usr/lib/x86_64-linux-gnu/libgdal.so ] || [ -n "$(ls /usr/lib/*/libgdal.so 2>/dev/null)" ] || missing+=(libgdal-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != "0" ]; then
      echo "$(basename "$0"): missing Debian packages: ${missing[*]} (run as root, or install them)" >&2; exit 1
    fi
    echo "$(basename "$0"): installing ${missing[*]} ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

running() {
  # pg_ctl status only asks kill(pid, 0), which also succeeds for a postmaster killed a moment ago (a zombie
  # until something reaps it) and for an unrelated process that reused the pid after a reboot: both would
  # leave a stale postmaster.pid that we must not trust. Check the process is alive and is a postgres.
  local data="$1" pid state
  [ -f "$data/postmaster.pid" ] || return 1
  pid="$(head -n1 "$data/postmaster.pid" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/stat" ] || return 1
  state="$(sed -E 's/^.*\) ([A-Z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null || true)"
  [ "$state" != "Z" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "postgres" ]
}

pg_init() {  # pg_init DATA PASSWORD: initdb once (superuser `postgres` with that password)
  local data="$1" password="$2"
  [ -f "$data/PG_VERSION" ] && return 0
  local pwfile
  pwfile="$(mktemp)"; echo "$password" > "$pwfile"; chmod 644 "$pwfile"
  as_pg "$PGBIN/initdb" -D "$data" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
}

pg_launch() {  # pg_launch DATA PORT "OPTIONS": start a stopped cluster (sockets and log beside DATA)
  local data="$1" port="$2" extra="$3"
  # A killed run leaves postmaster.pid behind; running() said no server owns it, so drop it.
  rm -f "$data/postmaster.pid"
  local sockdir
  sockdir="$(dirname "$data")/run"
  as_pg mkdir -p "$sockdir"
  local opts="-p $port -k $sockdir -c listen_addresses=127.0.0.1 $extra"
  # Backends of a killed postmaster exit within a second or two but hold its shared memory meanwhile,
  # which makes a new postmaster refuse to start: retry a few times before giving up.
  local attempt
  for attempt in 1 2 3 4 5; do
    if as_pg "$PGBIN/pg_ctl" -D "$data" -l "$(dirname "$data")/postgres.log" -w -t 60 start -o "$opts" >/dev/null 2>&1; then
      return 0
    fi
    if [ "$attempt" = 5 ]; then
      echo "$(basename "$0"): PostgreSQL did not start; see $(dirname "$data")/postgres.log" >&2; exit 1
    fi
    sleep 2; rm -f "$data/postmaster.pid"
  done
}

pg_halt() {  # pg_halt DATA: fast shutdown; returns 1 when it was not running
  local data="$1"
  running "$data" || return 1
  as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
}

pg_psql() {  # pg_psql PORT ARGS...: psql as the superuser over TCP (PGPASSWORD set by the caller)
  local port="$1"; shift
  PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"
}

pg_ensure_db() {  # pg_ensure_db PORT DB USER PASSWORD EXTENSION...: the login role, the database, extensions
  local port="$1" db="$2" user="$3" password="$4"; shift 4
  export PGPASSWORD="$password"
  if [ "$(pg_psql "$port" -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname='$user'")" != "1" ]; then
    pg_psql "$port" -d postgres -c "CREATE ROLE $user LOGIN SUPERUSER PASSWORD '$password'"
  fi
  if [ "$(pg_psql "$port" -d postgres -c "SELECT 1 FROM pg_database WHERE datname='$db'")" != "1" ]; then
    pg_psql "$port" -d postgres -c "CREATE DATABASE $db OWNER $user"
  fi
  # Only the missing ones: a Citus worker refuses even a no-op CREATE EXTENSION batch once it holds metadata.
  local ext
  for ext in "$@"; do
    [ "$(pg_psql "$port" -d "$db" -c "SELECT 1 FROM pg_extension WHERE extname='$ext'")" = "1" ] && continue
    pg_psql "$port" -d "$db" -c "CREATE EXTENSION IF NOT EXISTS $ext"
  done
}
