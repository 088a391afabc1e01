# bench/lib.sh: helpers shared by the bench scripts (sourced, not run).
# shellcheck shell=bash

# log prints a progress line to stderr, prefixed with the script's name.
log() { printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; }

# die prints an error and exits 1.
die() { printf '%s: ERROR: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; exit 1; }

# need_cmd fails with an install hint when a command is missing.
need_cmd() {
  command -v "$1" >/dev/null || die "$1 not found (install it: ${2:-apt-get install -y $1}, or run scripts/ensure-databases.sh)"
}

# split_addr HOST:PORT prints "HOST PORT".
split_addr() {
  local addr=$1
  [[ $addr == *:* ]] || die "address '$addr' is not HOST:PORT"
  printf '%s %s\n' "${addr%:*}" "${addr##*:}"
}

# port_open HOST PORT succeeds when something accepts TCP connections there.
port_open() {
  timeout 2 bash -c ">/dev/tcp/$1/$2" 2>/dev/null
}

# cpu_ticks PID prints utime+stime of a process in clock ticks, or nothing
# when the process is gone. /proc/PID/stat fields 14 and 15; the command name
# (field 2) may contain spaces, so cut after the last ')'.
cpu_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  echo $((${12} + ${13}))
}

# machine_ticks prints the clock ticks all CPUs spent busy (user, nice,
# system, irq, softirq; not idle, iowait or steal) from /proc/stat: the
# whole machine's work, kernel threads such as writeback included.
machine_ticks() {
  awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat
}

# us_per_query TICKS QUERIES prints CPU microseconds per query ("-" if unknown).
us_per_query() {
  local ticks=$1 queries=$2 hz
  hz=$(getconf CLK_TCK)
  if [[ -z $ticks || -z $queries || $queries == 0 ]]; then
    echo "-"
  else
    awk -v t="$ticks" -v q="$queries" -v hz="$hz" 'BEGIN { printf "%.1f", t * 1e6 / hz / q }'
  fi
}

# ratio A B prints A/B with 3 decimals ("-" if B is empty or 0).
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b == "" || b + 0 == 0 || a == "") print "-"; else printf "%.3f", a / b }'
}

# median prints the median of its numeric arguments, ignoring "-".
median() {
  printf '%s\n' "$@" | grep -v '^-$' | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "-"; exit }
    if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# positive_int NAME VALUE fails unless VALUE is a positive integer.
positive_int() {
  [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, got '$2'"
}

# median_us is median with one decimal, for microseconds.
median_us() {
  local m
  m=$(median "$@")
  [[ $m == - ]] && { echo -; return; }
  awk -v m="$m" 'BEGIN { printf "%.1f\n", m }'
}

# load1 prints the 1-minute load average.
load1() { cut -d' ' -f1 /proc/loadavg; }

# load_note START_LOAD prints the load average measured before the script
# started its own work, with a warning when other work competed for the cores
# (the benchmark itself then pushes the load far higher: that is expected).
load_note() {
  local start=$1 cores
  cores=$(nproc)
  echo "load average before the benchmark: $start ($cores cores)"
  if awk -v a="$start" -v c="$cores" 'BEGIN { exit !(a > c) }'; then
    echo "WARNING: other work was keeping the cores busy: per-round ratios are noisy; use more rounds or a quieter moment"
  fi
}

# ensure_pgbench_tables HOST PORT USER DB SCALE creates database DB and the
# pgbench tables at SCALE unless pgbench_accounts already holds SCALE x 100,000
# rows.
ensure_pgbench_tables() {
  local host=$1 port=$2 user=$3 db=$4 scale=$5 accounts
  local psql_cmd=(psql -X -w -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U "$user")
  "${psql_cmd[@]}" -d postgres -tAc 'SELECT 1' >/dev/null 2>&1 ||
    die "cannot reach PostgreSQL at $host:$port as $user (run scripts/ensure-databases.sh)"
  if [[ $("${psql_cmd[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'") != 1 ]]; then
    log "creating database $db"
    "${psql_cmd[@]}" -d postgres -c "CREATE DATABASE $db" >/dev/null
  fi
  accounts=$("${psql_cmd[@]}" -d "$db" -tAc 'SELECT count(*) FROM pgbench_accounts' 2>/dev/null || echo 0)
  if [[ $accounts == $((scale * 100000)) ]]; then
    log "$db: pgbench tables at scale $scale already initialised"
  else
    log "$db: initialising pgbench tables at scale $scale"
    timeout 600 pgbench -i -q -s "$scale" -h "$host" -p "$port" -U "$user" "$db" >/dev/null 2>&1 ||
      die "pgbench -i failed"
  fi
}

# ensure_sbtest_tables HOST PORT ROOT_USER ROOT_PASS USER PASS TABLES SIZE
# creates (as the MariaDB admin) account USER/PASS with ALL on sbtest.*, the
# database sbtest, and prepares TABLES x SIZE rows unless exactly those are
# there.
ensure_sbtest_tables() {
  local host=$1 port=$2 root_user=$3 root_pass=$4 user=$5 pass=$6 tables=$7 size=$8 i n ok=1
  local root_cmd=(mariadb --no-defaults --protocol=TCP -h"$host" -P"$port" -u"$root_user" --password="$root_pass"
    --batch --skip-column-names)
  "${root_cmd[@]}" -e 'SELECT 1' >/dev/null 2>&1 ||
    die "cannot reach MariaDB at $host:$port as $root_user (run scripts/ensure-databases.sh)"
  "${root_cmd[@]}" <<SQL || die "could not create account $user and database sbtest"
CREATE DATABASE IF NOT EXISTS sbtest;
CREATE USER IF NOT EXISTS '$user'@'%' IDENTIFIED BY '$pass';
CREATE USER IF NOT EXISTS '$user'@'localhost' IDENTIFIED BY '$pass';
GRANT ALL PRIVILEGES ON sbtest.* TO '$user'@'%';
GRANT ALL PRIVILEGES ON sbtest.* TO '$user'@'localhost';
SQL
  for ((i = 1; i <= tables; i++)); do
    n=$("${root_cmd[@]}" -e "SELECT COUNT(*) FROM sbtest.sbtest$i" 2>/dev/null) || { ok=0; break; }
    [[ $n == "$size" ]] || { ok=0; break; }
  done
  if ((ok)); then
    log "sbtest: $tables tables x $size rows already prepared"
    return
  fi
  log "sbtest: preparing $tables tables x $size rows"
  local sb=(--tables="$tables" --table-size="$size" --mysql-db=sbtest --db-driver=mysql
    --mysql-host="$host" --mysql-port="$port" --mysql-user="$user" --mysql-password="$pass")
  sysbench oltp_common "${sb[@]}" cleanup >/dev/null
  timeout 300 sysbench oltp_common "${sb[@]}" --threads="$tables" prepare >/dev/null ||
    die "sysbench prepare failed"
  for ((i = 1; i <= tables; i++)); do
    n=$("${root_cmd[@]}" -e "SELECT COUNT(*) FROM sbtest.sbtest$i" 2>/dev/null) || n=""
    [[ $n == "$size" ]] || die "sbtest tables are not complete after prepare"
  done
}
