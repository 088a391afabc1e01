#!/usr/bin/env bash
# pgbench-proxy.sh: PostgreSQL select-only throughput direct, through a proxy
# and through PgBouncer, measured side by side (interleaved rounds), reported
# as median ratios.
set -euo pipefail

BENCH_NAME=pgbench-proxy
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIRECT=127.0.0.1:5432
PROXY=127.0.0.1:5433
BOUNCER_PORT=6432
ROUNDS=3
SECONDS_PER_RUN=10
CLIENTS=8
JOBS=2
MODES="simple extended prepared"
SCALE=5
DB_NAME=pgbench
DB_USER=postgres
WARMUP=2
PROXY_PID=""
USE_BOUNCER=1

usage() {
  cat <<'EOF_USAGE'
Usage: bench/pgbench-proxy.sh [options] [PROXY_HOST:PORT]

Runs `pgbench -S` (select only) with -c 8 -j 2 for each query mode
(-M simple, extended, prepared) against PostgreSQL directly, through a proxy
and through PgBouncer (session pooling, started by this script on
127.0.0.1:6432 and stopped at the end), one after the other in rotating order,
N rounds of T seconds each. Prints the TPS of every run (one SELECT per
transaction, so TPS = queries/s) and the median ratios proxy/direct,
pgbouncer/direct and proxy/pgbouncer per mode.

If nothing listens on the proxy address it says so and compares direct with
PgBouncer only.

It creates database pgbench (owner postgres) and initialises it with
`pgbench -i -s SCALE` unless pgbench_accounts already holds SCALE x 100,000 rows.

Arguments:
  PROXY_HOST:PORT        proxy address (default 127.0.0.1:5433)

Options:
  --proxy HOST:PORT      same as the argument
  --direct HOST:PORT     the database itself (default 127.0.0.1:5432)
  --rounds N             rounds per mode (default 3)
  --time T               seconds per run (default 10)
  --clients N            pgbench -c (default 8)
  --jobs N               pgbench -j (default 2)
  --modes "M..."         query modes (default "simple extended prepared")
  --scale S              pgbench scale factor (default 5: 500,000 accounts)
  --user U               database user, everywhere (default postgres; trust auth
                         on 127.0.0.1 expected, or set PGPASSWORD)
  --warmup S             untimed warm-up per target (default 2, 0 = none)
  --proxy-pid PID        report the proxy's CPU microseconds per query
                         (PgBouncer's is always reported)
  --pgbouncer-port P     where to start PgBouncer (default 6432)
  --no-pgbouncer         skip PgBouncer
  -h, --help             show this help

Runtime: about modes x rounds x targets x (T + 1) seconds, printed before
starting; every pgbench run is bounded by `timeout`.

Example (direct vs PgBouncer only, short):
  bench/pgbench-proxy.sh --rounds 2 --time 3
EOF_USAGE
}

while (($#)); do
  case "$1" in
    --proxy) PROXY=${2:?--proxy needs HOST:PORT}; shift ;;
    --direct) DIRECT=${2:?--direct needs HOST:PORT}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --time) SECONDS_PER_RUN=${2:?}; shift ;;
    --clients) CLIENTS=${2:?}; shift ;;
    --jobs) JOBS=${2:?}; shift ;;
    --modes) MODES=${2:?}; shift ;;
    --scale) SCALE=${2:?}; shift ;;
    --user) DB_USER=${2:?}; shift ;;
    --warmup) WARMUP=${2:?}; shift ;;
    --proxy-pid) PROXY_PID=${2:?}; shift ;;
    --pgbouncer-port) BOUNCER_PORT=${2:?}; shift ;;
    --no-pgbouncer) USE_BOUNCER=0 ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option '$1' (try --help)" ;;
    *) PROXY=$1 ;;
  esac
  shift
done

positive_int --rounds "$ROUNDS"
positive_int --time "$SECONDS_PER_RUN"
positive_int --clients "$CLIENTS"
positive_int --jobs "$JOBS"
positive_int --scale "$SCALE"
positive_int --pgbouncer-port "$BOUNCER_PORT"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "--warmup must be a number of seconds"
for m in $MODES; do
  [[ $m == simple || $m == extended || $m == prepared ]] || die "--modes: '$m' is not simple, extended or prepared"
done
if [[ -n $PROXY_PID && ! -r /proc/$PROXY_PID/stat ]]; then
  die "--proxy-pid $PROXY_PID: no such process"
fi
# Load from other work, before this script adds its own.
START_LOAD=$(load1)
need_cmd pgbench "apt-get install -y postgresql-client"
need_cmd psql "apt-get install -y postgresql-client"

read -r DIRECT_HOST DIRECT_PORT < <(split_addr "$DIRECT")
read -r PROXY_HOST PROXY_PORT < <(split_addr "$PROXY")

# --- setup: database and pgbench tables ------------------------------------
ensure_pgbench_tables "$DIRECT_HOST" "$DIRECT_PORT" "$DB_USER" "$DB_NAME" "$SCALE"

TARGETS=(direct)
if port_open "$PROXY_HOST" "$PROXY_PORT"; then
  psql -X -w -q -h "$PROXY_HOST" -p "$PROXY_PORT" -U "$DB_USER" -d "$DB_NAME" -tAc 'SELECT count(*) FROM pgbench_branches' >/dev/null 2>&1 ||
    die "the proxy at $PROXY does not let $DB_USER read $DB_NAME.pgbench_branches (check its rules and credentials)"
  TARGETS+=(proxy)
else
  log "nothing listens on the proxy address $PROXY: benchmarking direct vs PgBouncer only"
  [[ -n $PROXY_PID ]] && log "(ignoring --proxy-pid)"
fi

# --- PgBouncer ---------------------------------------------------------------
BOUNCER_DIR=""
BOUNCER_PID=""
stop_bouncer() {
  if [[ -n $BOUNCER_PID ]] && kill -0 "$BOUNCER_PID" 2>/dev/null; then
    kill "$BOUNCER_PID" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$BOUNCER_PID" 2>/dev/null || break
      sleep 0.2
    done
    log "PgBouncer (pid $BOUNCER_PID) stopped"
  fi
  [[ -n $BOUNCER_DIR ]] && rm -rf "$BOUNCER_DIR"
  BOUNCER_PID=""
  BOUNCER_DIR=""
}
trap stop_bouncer EXIT
trap 'exit 130' INT TERM

start_bouncer() {
  local bouncer
  bouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
  [[ -x $bouncer ]] || die "pgbouncer not found (apt-get install -y pgbouncer, or pass --no-pgbouncer)"
  port_open 127.0.0.1 "$BOUNCER_PORT" &&
    die "127.0.0.1:$BOUNCER_PORT is already in use (another PgBouncer?): pass --pgbouncer-port or --no-pgbouncer"
  BOUNCER_DIR=$(mktemp -d /tmp/dbfence-pgbouncer.XXXXXX)
  cat >"$BOUNCER_DIR/pgbouncer.ini" <<INI
; written by bench/pgbench-proxy.sh; removed when it exits
[databases]
$DB_NAME = host=$DIRECT_HOST port=$DIRECT_PORT dbname=$DB_NAME

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $BOUNCER_DIR/userlist.txt
pool_mode = session
max_client_conn = 200
default_pool_size = $((CLIENTS + 4))
logfile = $BOUNCER_DIR/pgbouncer.log
pidfile = $BOUNCER_DIR/pgbouncer.pid
INI
  printf '"%s" ""\n' "$DB_USER" >"$BOUNCER_DIR/userlist.txt"
  # PgBouncer refuses to run as root.
  local -a run_as=()
  if ((EUID == 0)); then
    chown -R postgres "$BOUNCER_DIR"
    run_as=(runuser -u postgres --)
  fi
  "${run_as[@]}" "$bouncer" -d "$BOUNCER_DIR/pgbouncer.ini" >/dev/null 2>&1 ||
    die "pgbouncer did not start: $(tail -n 5 "$BOUNCER_DIR/pgbouncer.log" 2>/dev/null)"
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $BOUNCER_DIR/pgbouncer.pid ]] && port_open 127.0.0.1 "$BOUNCER_PORT" && break
    sleep 0.1
  done
  BOUNCER_PID=$(cat "$BOUNCER_DIR/pgbouncer.pid" 2>/dev/null || true)
  [[ -n $BOUNCER_PID ]] || die "pgbouncer did not write its pid file: $(tail -n 5 "$BOUNCER_DIR/pgbouncer.log" 2>/dev/null)"
  psql -X -w -q -h 127.0.0.1 -p "$BOUNCER_PORT" -U "$DB_USER" -d "$DB_NAME" -tAc 'SELECT 1' >/dev/null ||
    die "cannot query $DB_NAME through PgBouncer: $(tail -n 5 "$BOUNCER_DIR/pgbouncer.log")"
  log "PgBouncer $($bouncer --version | head -n1) on 127.0.0.1:$BOUNCER_PORT (pid $BOUNCER_PID, session pooling)"
}

if ((USE_BOUNCER)); then
  start_bouncer
  TARGETS+=(pgbouncer)
fi
((${#TARGETS[@]} > 1)) || die "nothing to compare: no proxy at $PROXY and --no-pgbouncer"

# --- measuring ---------------------------------------------------------------
n_modes=$(wc -w <<<"$MODES")
estimate=$((n_modes * ROUNDS * ${#TARGETS[@]} * (SECONDS_PER_RUN + 1) + ${#TARGETS[@]} * WARMUP))
log "measuring: pgbench -S -c $CLIENTS -j $JOBS, modes $MODES, $ROUNDS rounds x ${SECONDS_PER_RUN}s, targets ${TARGETS[*]} (~${estimate}s)"

# target_addr TARGET prints "HOST PORT".
target_addr() {
  case "$1" in
    direct) echo "$DIRECT_HOST $DIRECT_PORT" ;;
    proxy) echo "$PROXY_HOST $PROXY_PORT" ;;
    pgbouncer) echo "127.0.0.1 $BOUNCER_PORT" ;;
  esac
}

# target_pid TARGET prints the pid whose CPU is measured, if any.
target_pid() {
  case "$1" in
    proxy) echo "$PROXY_PID" ;;
    pgbouncer) echo "$BOUNCER_PID" ;;
  esac
}

# run_pgbench TARGET MODE SECONDS: prints "TPS TRANSACTIONS CPU_TICKS".
run_pgbench() {
  local target=$1 mode=$2 secs=$3 host port pid out before="" after ticks="-"
  read -r host port < <(target_addr "$target")
  pid=$(target_pid "$target")
  [[ -n $pid ]] && before=$(cpu_ticks "$pid")
  out=$(timeout $((secs + 30)) pgbench -n -S -c "$CLIENTS" -j "$JOBS" -T "$secs" -M "$mode" \
    -h "$host" -p "$port" -U "$DB_USER" "$DB_NAME" 2>&1) ||
    die "pgbench -M $mode against $target ($host:$port) failed:
$(tail -n 20 <<<"$out")"
  if [[ -n $pid && -n $before ]]; then
    after=$(cpu_ticks "$pid")
    [[ -n $after ]] && ticks=$((after - before))
  fi
  # "number of transactions actually processed: 123456"
  # "tps = 12345.678901 (without initial connection time)"
  awk -v ticks="$ticks" '/^number of transactions actually processed:/ { n = $NF }
    /^tps = / { tps = $3 } END { if (tps == "") exit 1; printf "%.1f %s %s\n", tps, n, ticks }' <<<"$out" ||
    die "could not read the TPS from pgbench's output:
$(tail -n 20 <<<"$out")"
}

if ((WARMUP > 0)); then
  log "warm-up: ${WARMUP}s per target"
  for target in "${TARGETS[@]}"; do
    run_pgbench "$target" simple "$WARMUP" >/dev/null
  done
fi

declare -A TPS TXNS TICKS
for mode in $MODES; do
  for ((round = 1; round <= ROUNDS; round++)); do
    # Rotate the order so no target always runs first or last.
    n=${#TARGETS[@]}
    for ((k = 0; k < n; k++)); do
      target=${TARGETS[$(((k + round - 1) % n))]}
      read -r tps txns ticks < <(run_pgbench "$target" "$mode" "$SECONDS_PER_RUN")
      key="$mode|$round|$target"
      TPS[$key]=$tps TXNS[$key]=$txns TICKS[$key]=$ticks
      log "-M $mode round $round/$ROUNDS $target: $tps TPS"
    done
  done
done

# --- report ------------------------------------------------------------------
has() { [[ " ${TARGETS[*]} " == *" $1 "* ]]; }
col() { if has "$1"; then printf '%s' "$2"; else printf '%s' "-"; fi; }

echo
echo "pgbench -S -c $CLIENTS -j $JOBS, ${SECONDS_PER_RUN}s per run, scale $SCALE; direct $DIRECT, proxy $PROXY$(has proxy || echo ' (not running)'), pgbouncer 127.0.0.1:$BOUNCER_PORT$(has pgbouncer || echo ' (skipped)')"
printf '%-9s %5s %11s %11s %11s %9s %9s %9s %10s %10s\n' mode round direct_tps proxy_tps bouncer_tps px/direct pgb/direct px/pgb px_us/q pgb_us/q
declare -A R_PD R_BD R_PB C_P C_B
for mode in $MODES; do
  for ((round = 1; round <= ROUNDS; round++)); do
    d=${TPS[$mode|$round|direct]}
    p=${TPS[$mode|$round|proxy]:-} b=${TPS[$mode|$round|pgbouncer]:-}
    pd=$(ratio "$p" "$d") bd=$(ratio "$b" "$d") pb=$(ratio "$p" "$b")
    cp=$(us_per_query "${TICKS[$mode|$round|proxy]:-}" "${TXNS[$mode|$round|proxy]:-}")
    [[ ${TICKS[$mode|$round|proxy]:--} == - ]] && cp=-
    cb=$(us_per_query "${TICKS[$mode|$round|pgbouncer]:-}" "${TXNS[$mode|$round|pgbouncer]:-}")
    [[ ${TICKS[$mode|$round|pgbouncer]:--} == - ]] && cb=-
    R_PD[$mode]+="$pd " R_BD[$mode]+="$bd " R_PB[$mode]+="$pb " C_P[$mode]+="$cp " C_B[$mode]+="$cb "
    printf '%-9s %5s %11s %11s %11s %9s %9s %9s %10s %10s\n' "$mode" "$round" "$d" "$(col proxy "$p")" \
      "$(col pgbouncer "$b")" "$pd" "$bd" "$pb" "$cp" "$cb"
  done
done
echo
load_note "$START_LOAD"
echo "Medians over $ROUNDS rounds:"
printf '%-9s %12s %14s %15s %16s %18s\n' mode proxy/direct pgbouncer/direct proxy/pgbouncer proxy_cpu_us/q pgbouncer_cpu_us/q
for mode in $MODES; do
  # shellcheck disable=SC2086
  printf '%-9s %12s %14s %15s %16s %18s\n' "$mode" "$(median ${R_PD[$mode]})" "$(median ${R_BD[$mode]})" \
    "$(median ${R_PB[$mode]})" "$(median_us ${C_P[$mode]})" "$(median_us ${C_B[$mode]})"
done
