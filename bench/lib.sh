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
