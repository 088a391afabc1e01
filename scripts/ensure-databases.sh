#!/usr/bin/env bash
# ensure-databases.sh: make sure the MariaDB and PostgreSQL servers that the
# dbfence tests and demo use are installed, running, reachable over TCP, and
# carry the accounts and databases the tests expect.
#
# Called by `make test` and `make demo`, and by CI on a clean checkout (as root,
# no stdin). Idempotent: when everything is already in place it only checks and
# returns in well under a second.
set -euo pipefail

readonly MYSQL_HOST=127.0.0.1
readonly MYSQL_PORT="${DBFENCE_MYSQL_PORT:-3306}"
readonly PG_HOST=127.0.0.1
readonly PG_PORT="${DBFENCE_PG_PORT:-5432}"
readonly PG_CLUSTER="${DBFENCE_PG_CLUSTER:-main}"
readonly WAIT_SECONDS="${DBFENCE_DB_WAIT_SECONDS:-60}"
readonly SKIP_APT="${DBFENCE_SKIP_APT:-0}"
readonly MARIADBD=/usr/sbin/mariadbd
# Optional my.cnf for a MariaDB other than the system one (used to test this
# script on a scratch server); empty means the system configuration.
readonly MYSQL_DEFAULTS_FILE="${DBFENCE_MYSQL_DEFAULTS_FILE:-}"
readonly MARKER='dbfence ensure-databases.sh'

# Accounts shared by both servers: name and password.
readonly -a ACCOUNTS=(
  "officer:officer-pass"
  "clerk:clerk-pass"
  "analyst:analyst-pass"
  "dbfence_meta:dbfence-meta-pass"
  "dbfence_test:dbfence-test-pass"
  "nativeuser:native-pass"
)
# Accounts that read the gov database.
readonly -a GOV_READERS=(officer clerk analyst dbfence_meta)

usage() {
  cat <<'EOF'
Usage: scripts/ensure-databases.sh [--check] [--help]

Makes sure the databases the dbfence tests and demo need are there:

  MariaDB    on 127.0.0.1:3306, root with an empty password over TCP
  PostgreSQL on 127.0.0.1:5432, user postgres with trust auth over TCP

and that they hold these accounts (same names and passwords on both servers):

  officer/officer-pass, clerk/clerk-pass, analyst/analyst-pass
                    SELECT on gov (MariaDB: host '%' and 'localhost')
  dbfence_meta/dbfence-meta-pass
                    SELECT and SHOW VIEW on gov (metadata reader)
  dbfence_test/dbfence-test-pass
                    MariaDB: ALL on `dbfence_test%`.*; PostgreSQL: CREATEDB
  nativeuser/native-pass
                    MariaDB: mysql_native_password explicitly

plus an empty database `gov` on both servers (PostgreSQL: owned by postgres,
with a schema `gov` first in the database's search_path; SELECT granted to
the gov readers on schemas gov and public, also on tables created later).

What it does, only where needed:
  1. installs missing packages with one apt-get call (servers: mariadb-server,
     postgresql; tools: mariadb-client, postgresql-client, sysbench, pgbouncer,
     python3-pymysql, python3-psycopg2, libmariadb-java, libpostgresql-jdbc-java,
     chromium).
     A server that fails to install is an error; a tool, a warning.
  2. starts the servers without systemd and waits until they accept connections.
  3. lets root (MariaDB) and postgres (PostgreSQL) in over TCP without a password.
  4. creates the accounts, grants and databases above.

Options:
  --check   only check; exit 1 if anything is missing, change nothing
  --help    show this help

Environment:
  DBFENCE_SKIP_APT=1            never call apt-get (missing servers are an error)
  DBFENCE_DB_WAIT_SECONDS=N     how long to wait for a server to start (default 60)
  DBFENCE_MYSQL_PORT, DBFENCE_PG_PORT, DBFENCE_PG_CLUSTER
                                other port / PostgreSQL cluster (default 3306, 5432, main)
  DBFENCE_MYSQL_DEFAULTS_FILE   my.cnf of another MariaDB instance (default: the system one)

Needs root (or password-less sudo) only when something has to be installed,
started or fixed.

For test, CI and development machines only: it gives the database
superusers an empty password on 127.0.0.1.
EOF
}

CHECK_ONLY=0
while (($#)); do
  case "$1" in
    --check) CHECK_ONLY=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "ensure-databases: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf 'ensure-databases: %s\n' "$*" >&2; }
warn() { printf 'ensure-databases: WARNING: %s\n' "$*" >&2; }
die() { printf 'ensure-databases: ERROR: %s\n' "$*" >&2; exit 1; }

# as_root runs a command as root: directly when we are root, through
# password-less sudo otherwise.
as_root() {
  if ((EUID == 0)); then
    "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    die "need root to run: $* (re-run as root or with password-less sudo)"
  fi
}

# need_change reports that something must change, or fails in --check mode.
need_change() {
  if ((CHECK_ONLY)); then
    die "$* (run without --check to fix)"
  fi
  log "$*"
}

# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------

# package_present tells whether the thing a package provides is usable. It
# probes files and commands rather than dpkg state, so metapackages
# (postgresql-client) and hand-installed servers count.
package_present() {
  case "$1" in
    mariadb-server) [[ -x $MARIADBD ]] ;;
    postgresql) compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && command -v pg_ctlcluster >/dev/null ;;
    mariadb-client) command -v mariadb >/dev/null || command -v mysql >/dev/null ;;
    postgresql-client) command -v psql >/dev/null ;; # pgbench comes with the server package
    sysbench) command -v sysbench >/dev/null ;;
    pgbouncer) command -v pgbouncer >/dev/null || [[ -x /usr/sbin/pgbouncer ]] ;;
    python3-pymysql) ((${PYTHON_MODULES_OK:-0})) || { [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import pymysql' 2>/dev/null; } ;;
    python3-psycopg2) ((${PYTHON_MODULES_OK:-0})) || { [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import psycopg2' 2>/dev/null; } ;;
    libmariadb-java) [[ -e /usr/share/java/mariadb-java-client.jar ]] ;;
    libpostgresql-jdbc-java) [[ -e /usr/share/java/postgresql.jar ]] ;;
    chromium) command -v chromium >/dev/null ;; # the approval console's browser test
    *) return 1 ;;
  esac
}

APT_UPDATED=0
apt_install() {
  if ((!APT_UPDATED)); then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null || warn "apt-get update failed"
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" </dev/null
}

ensure_packages() {
  local -a servers=() tools=()
  local p
  # One interpreter start for both Python modules in the common case.
  PYTHON_MODULES_OK=0
  [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import pymysql, psycopg2' 2>/dev/null && PYTHON_MODULES_OK=1
  for p in mariadb-server postgresql; do
    package_present "$p" || servers+=("$p")
  done
  for p in mariadb-client postgresql-client sysbench pgbouncer python3-pymysql python3-psycopg2 \
    libmariadb-java libpostgresql-jdbc-java chromium; do
    package_present "$p" || tools+=("$p")
  done
  ((${#servers[@]} + ${#tools[@]})) || return 0

  if ((CHECK_ONLY)) || [[ $SKIP_APT == 1 ]]; then
    ((${#tools[@]})) && warn "missing tools: ${tools[*]}"
    ((${#servers[@]})) && die "missing servers: ${servers[*]}"
    return 0
  fi

  log "installing: ${servers[*]} ${tools[*]}"
  if apt_install "${servers[@]}" "${tools[@]}"; then
    return 0
  fi
  # One package may be unavailable: retry the servers alone (fatal), then each
  # tool alone (warning).
  if ((${#servers[@]})); then
    apt_install "${servers[@]}" || die "could not install ${servers[*]}"
  fi
  for p in "${tools[@]}"; do
    package_present "$p" && continue
    apt_install "$p" || warn "could not install optional tool $p; tests that need it will be skipped or fail"
  done
}

# ---------------------------------------------------------------------------
# MariaDB
# ---------------------------------------------------------------------------

mariadb_client() {
  if command -v mariadb >/dev/null; then echo mariadb; else echo mysql; fi
}

# mysql_tcp runs SQL as root over TCP with an empty password.
mysql_tcp() {
  "$(mariadb_client)" --no-defaults --protocol=TCP -h"$MYSQL_HOST" -P"$MYSQL_PORT" -uroot --password= \
    --connect-timeout=3 --batch --skip-column-names "$@"
}

# mysql_socket runs SQL from stdin as root over the unix socket (unix_socket
# auth).
mysql_socket() {
  as_root "$(mariadb_client)" --no-defaults --protocol=SOCKET -S "$(mariadb_socket)" -uroot \
    --batch --skip-column-names
}

# mariadbd_defaults prints the --defaults-file option, if one was given; it
# must come first on mariadbd's and mariadb-install-db's command lines.
mariadbd_defaults() {
  [[ -z $MYSQL_DEFAULTS_FILE ]] || echo "--defaults-file=$MYSQL_DEFAULTS_FILE"
}

# mariadb_option NAME DEFAULT prints the server's setting of --NAME.
mariadb_option() {
  local v
  # shellcheck disable=SC2046
  v=$("$MARIADBD" $(mariadbd_defaults) --print-defaults 2>/dev/null | tr ' ' '\n' | sed -n "s/^--$1=//p" | tail -n1 || true)
  echo "${v:-$2}"
}

mariadb_socket() { mariadb_option socket /run/mysqld/mysqld.sock; }
mariadb_datadir() { mariadb_option datadir /var/lib/mysql; }

# mysql_tcp_state prints "ok", "denied" or "down" for root over TCP.
mysql_tcp_state() {
  local out
  if out=$(mysql_tcp -e 'SELECT 1' 2>&1); then
    echo ok
  elif [[ $out == *"Access denied"* || $out == *"ERROR 1045"* || $out == *"ERROR 1698"* ]]; then
    echo denied
  else
    echo down
  fi
}

start_mariadb() {
  need_change "MariaDB is not answering on $MYSQL_HOST:$MYSQL_PORT: starting it"
  local datadir
  datadir=$(mariadb_datadir)
  as_root install -d -o mysql -g mysql -m 0755 /run/mysqld
  as_root install -d -o mysql -g mysql -m 0750 /var/log/mysql 2>/dev/null || true
  if [[ ! -d $datadir/mysql ]]; then
    log "initialising an empty MariaDB datadir $datadir"
    as_root install -d -o mysql -g mysql -m 0750 "$datadir"
    local installer
    installer=$(command -v mariadb-install-db || command -v mysql_install_db) || die "mariadb-install-db not found"
    # shellcheck disable=SC2046
    as_root "$installer" $(mariadbd_defaults) --user=mysql --datadir="$datadir" --skip-test-db >/dev/null ||
      die "$installer failed for $datadir"
  fi
  # With the pid file, start-stop-daemon tells this server from another
  # mariadbd on the machine; --oknodo: already running is fine.
  local pidfile
  pidfile=$(mariadb_option pid-file "")
  # shellcheck disable=SC2046
  as_root start-stop-daemon --start --oknodo --background ${pidfile:+--pidfile "$pidfile"} --exec "$MARIADBD" -- \
    $(mariadbd_defaults) --user=mysql ||
    die "could not start $MARIADBD"
}

# wait_for NAME CMD...: runs CMD every second until it succeeds, at most
# WAIT_SECONDS, printing progress.
wait_for() {
  local name=$1 i
  shift
  for ((i = 1; i <= WAIT_SECONDS; i++)); do
    if "$@" >/dev/null 2>&1; then
      log "$name is up after ${i}s"
      return 0
    fi
    if ((i % 5 == 0)); then log "waiting for $name (${i}/${WAIT_SECONDS}s)"; fi
    sleep 1
  done
  return 1
}

mysql_answers() { [[ $(mysql_tcp_state) != down ]]; }

# fix_mariadb_root lets root in over TCP with an empty password. On a fresh
# Debian install root@localhost uses unix_socket auth only.
fix_mariadb_root() {
  need_change "MariaDB refuses root over TCP with an empty password: allowing it"
  mysql_socket <<'SQL' || die "could not fix MariaDB root over the socket $(mariadb_socket)"
ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('');
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
}

# mysql_missing prints one line per missing account, password or grant.
mysql_missing() {
  local -a rows=()
  local acct name pass host
  for acct in "${ACCOUNTS[@]}"; do
    name=${acct%%:*} pass=${acct#*:}
    for host in % localhost; do
      rows+=("SELECT 'account $name@$host' AS missing FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM mysql.user u WHERE u.User='$name' AND u.Host='$host' AND u.authentication_string=PASSWORD('$pass') AND u.plugin='mysql_native_password')")
    done
  done
  for name in "${GOV_READERS[@]}"; do
    for host in % localhost; do
      rows+=("SELECT 'grant SELECT on gov to $name@$host' FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM mysql.db d WHERE d.User='$name' AND d.Host='$host' AND d.Db='gov' AND d.Select_priv='Y')")
    done
  done
  for host in % localhost; do
    rows+=("SELECT 'grant SHOW VIEW on gov to dbfence_meta@$host' FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM mysql.db d WHERE d.User='dbfence_meta' AND d.Host='$host' AND d.Db='gov' AND d.Show_view_priv='Y')")
    rows+=("SELECT 'grant CONNECTION ADMIN to dbfence_meta@$host' FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM information_schema.USER_PRIVILEGES p WHERE p.GRANTEE=\"'dbfence_meta'@'$host'\" AND p.PRIVILEGE_TYPE='CONNECTION ADMIN')")
    rows+=("SELECT 'grant ALL on dbfence_test% to dbfence_test@$host' FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM mysql.db d WHERE d.User='dbfence_test' AND d.Host='$host' AND d.Db='dbfence\\\\_test%' AND d.Create_priv='Y' AND d.Drop_priv='Y' AND d.Create_view_priv='Y' AND d.Grant_priv='N')")
  done
  rows+=("SELECT 'database gov' FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='gov')")
  local IFS=$'\n'
  local sql
  sql=$(printf '%s\nUNION ALL\n' "${rows[@]}")
  mysql_tcp -e "${sql%UNION ALL*}"
}

provision_mariadb() {
  local sql="" acct name pass host
  for acct in "${ACCOUNTS[@]}"; do
    name=${acct%%:*} pass=${acct#*:}
    for host in % localhost; do
      sql+="CREATE USER IF NOT EXISTS '$name'@'$host' IDENTIFIED VIA mysql_native_password USING PASSWORD('$pass');"$'\n'
      sql+="ALTER USER '$name'@'$host' IDENTIFIED VIA mysql_native_password USING PASSWORD('$pass');"$'\n'
    done
  done
  for host in % localhost; do
    for name in "${GOV_READERS[@]}"; do
      sql+="GRANT SELECT ON gov.* TO '$name'@'$host';"$'\n'
    done
    # information_schema needs no grant: it shows what the account can see.
    sql+="GRANT SHOW VIEW ON gov.* TO 'dbfence_meta'@'$host';"$'\n'
    # KILL QUERY of a client that left mid-result runs as dbfence_meta.
    sql+="GRANT CONNECTION ADMIN ON *.* TO 'dbfence_meta'@'$host';"$'\n'
    sql+="GRANT ALL PRIVILEGES ON \`dbfence\\_test%\`.* TO 'dbfence_test'@'$host';"$'\n'
  done
  sql+="CREATE DATABASE IF NOT EXISTS gov DEFAULT CHARACTER SET utf8mb4;"$'\n'
  mysql_tcp <<<"$sql" || die "could not create the MariaDB accounts"
}

ensure_mariadb() {
  local state
  state=$(mysql_tcp_state)
  if [[ $state == down ]]; then
    ((CHECK_ONLY)) && die "MariaDB is not answering on $MYSQL_HOST:$MYSQL_PORT"
    start_mariadb
    wait_for "MariaDB" mysql_answers ||
      die "MariaDB did not accept connections on $MYSQL_HOST:$MYSQL_PORT within ${WAIT_SECONDS}s (see $(mariadb_option log-error /var/log/mysql/error.log))"
    state=$(mysql_tcp_state)
  fi
  if [[ $state == denied ]]; then
    fix_mariadb_root
    [[ $(mysql_tcp_state) == ok ]] || die "MariaDB root still cannot log in over TCP with an empty password"
  fi

  local missing
  missing=$(mysql_missing) || die "could not read MariaDB accounts"
  if [[ -z $missing ]]; then
    log "MariaDB $MYSQL_HOST:$MYSQL_PORT: ok (accounts and grants already in place)"
    return 0
  fi
  need_change "MariaDB lacks: $(echo "$missing" | paste -sd, - | sed 's/,/, /g')"
  provision_mariadb
  missing=$(mysql_missing) || die "could not read MariaDB accounts"
  [[ -z $missing ]] || die "MariaDB still lacks: $missing"
  log "MariaDB $MYSQL_HOST:$MYSQL_PORT: ok (provisioned)"
}

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------

pg_version() {
  local v
  v=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -n | tail -n1 || true)
  [[ -n $v ]] || v=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -n | tail -n1 || true)
  [[ -n $v ]] || die "no PostgreSQL installation found under /usr/lib/postgresql"
  echo "$v"
}

# psql_tcp runs SQL as postgres over TCP, never prompting for a password.
psql_tcp() {
  PGCONNECT_TIMEOUT=3 psql -X -w -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres "$@"
}

# psql_socket runs SQL as the postgres OS user over the unix socket (peer auth).
psql_socket() {
  as_root runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@"
}

pg_tcp_state() {
  local out
  if out=$(psql_tcp -d postgres -tAc 'SELECT 1' 2>&1); then
    echo ok
  elif [[ $out == *"password"* || $out == *"authentication"* || $out == *"no pg_hba.conf entry"* ]]; then
    echo denied
  else
    echo down
  fi
}

pg_answers() { [[ $(pg_tcp_state) != down ]]; }

start_postgres() {
  need_change "PostgreSQL is not answering on $PG_HOST:$PG_PORT: starting cluster $(pg_version)/$PG_CLUSTER"
  local v
  v=$(pg_version)
  if [[ ! -d /etc/postgresql/$v/$PG_CLUSTER ]]; then
    log "creating PostgreSQL cluster $v/$PG_CLUSTER on port $PG_PORT"
    as_root pg_createcluster --port="$PG_PORT" "$v" "$PG_CLUSTER" >/dev/null || die "pg_createcluster failed"
  fi
  as_root install -d -o postgres -g postgres -m 2775 /run/postgresql
  local out
  if ! out=$(as_root pg_ctlcluster --skip-systemctl-redirect "$v" "$PG_CLUSTER" start 2>&1); then
    # "already running" is fine: it may still be starting up.
    [[ $out == *"already running"* ]] || die "pg_ctlcluster $v $PG_CLUSTER start failed: $out"
  fi
}

# fix_pg_hba puts trust lines for user postgres on local TCP first in
# pg_hba.conf (a fresh Debian cluster asks for a scram password on TCP).
fix_pg_hba() {
  need_change "PostgreSQL refuses postgres over TCP without a password: adding trust lines to pg_hba.conf"
  local hba
  hba=$(psql_socket -d postgres -tAc 'SHOW hba_file') || die "cannot reach PostgreSQL over its unix socket"
  if ! as_root grep -q "$MARKER" "$hba"; then
    as_root cp -p "$hba" "$hba.dbfence-backup"
    local tmp
    tmp=$(mktemp)
    {
      echo "# added by $MARKER: tests connect as postgres over TCP without a password"
      echo "host    all             postgres        127.0.0.1/32            trust"
      echo "host    all             postgres        ::1/128                 trust"
      as_root cat "$hba"
    } >"$tmp"
    as_root install -o postgres -g postgres -m 0640 "$tmp" "$hba"
    rm -f "$tmp"
  fi
  psql_socket -d postgres -tAc 'SELECT pg_reload_conf()' >/dev/null
  sleep 0.3
}

# pg_missing prints one line per missing role, database or grant.
pg_missing() {
  local names="" acct
  for acct in "${ACCOUNTS[@]}"; do names+="'${acct%%:*}',"; done
  names=${names%,}
  local readers="" r
  for r in "${GOV_READERS[@]}"; do readers+="'$r',"; done
  readers=${readers%,}
  local out
  out=$(psql_tcp -d postgres -tA <<SQL
SELECT 'role ' || n FROM unnest(ARRAY[$names]) AS n
 WHERE NOT EXISTS (SELECT 1 FROM pg_authid a WHERE a.rolname = n AND a.rolcanlogin
                     AND a.rolpassword LIKE 'SCRAM-SHA-256\$%');
SELECT 'database gov' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'gov');
SELECT 'role dbfence_test CREATEDB' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbfence_test' AND rolcreatedb);
SELECT 'CONNECT on gov for ' || n FROM unnest(ARRAY[$readers]) AS n
 WHERE EXISTS (SELECT 1 FROM pg_database WHERE datname = 'gov')
   AND NOT (EXISTS (SELECT 1 FROM pg_roles WHERE rolname = n) AND has_database_privilege(n, 'gov', 'CONNECT'));
SQL
) || return 1
  [[ -z $out ]] || echo "$out"
  # Schema-level grants and settings live inside gov: the demo's tables are
  # in schema gov (the policy's first name part is the schema on
  # PostgreSQL), which the database's search_path puts first.
  if [[ $out != *"database gov"* ]]; then
    psql_tcp -d gov -tA <<SQL
SELECT 'schema gov' WHERE NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'gov');
SELECT 'search_path of gov' WHERE NOT EXISTS (
  SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
   WHERE d.datname = 'gov' AND s.setrole = 0 AND 'search_path=gov, public' = ANY (s.setconfig));
SELECT 'SELECT on ' || sch || ' tables for ' || n
  FROM unnest(ARRAY[$readers]) AS n, unnest(ARRAY['public', 'gov']) AS sch
 WHERE EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = sch) AND (
       NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = n)
    OR NOT has_schema_privilege(n, sch, 'USAGE')
    OR NOT EXISTS (SELECT 1 FROM pg_default_acl d JOIN pg_namespace s ON s.oid = d.defaclnamespace
                    WHERE s.nspname = sch AND d.defaclobjtype = 'r'
                      AND d.defaclrole = 'postgres'::regrole
                      AND array_to_string(d.defaclacl, ',') LIKE '%' || n || '=r/%')
    OR EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
                WHERE s.nspname = sch AND c.relkind IN ('r', 'v', 'm', 'p')
                  AND NOT has_table_privilege(n, c.oid, 'SELECT')));
SQL
  fi
}

provision_postgres() {
  local sql="SET password_encryption = 'scram-sha-256';"$'\n' acct name pass
  for acct in "${ACCOUNTS[@]}"; do
    name=${acct%%:*} pass=${acct#*:}
    sql+="SELECT format('CREATE ROLE %I LOGIN', '$name') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$name') \\gexec"$'\n'
    sql+="ALTER ROLE \"$name\" LOGIN PASSWORD '$pass';"$'\n'
  done
  sql+="ALTER ROLE dbfence_test CREATEDB;"$'\n'
  sql+="SELECT 'CREATE DATABASE gov OWNER postgres' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'gov') \\gexec"$'\n'
  local readers
  readers=$(IFS=,; echo "${GOV_READERS[*]}")
  sql+="GRANT CONNECT ON DATABASE gov TO $readers;"$'\n'
  psql_tcp -d postgres <<<"$sql" >/dev/null || die "could not create the PostgreSQL roles and database gov"
  psql_tcp -d gov >/dev/null <<SQL || die "could not grant SELECT on gov"
GRANT USAGE ON SCHEMA public TO $readers;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO $readers;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON TABLES TO $readers;
CREATE SCHEMA IF NOT EXISTS gov AUTHORIZATION postgres;
GRANT USAGE ON SCHEMA gov TO $readers;
GRANT SELECT ON ALL TABLES IN SCHEMA gov TO $readers;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA gov GRANT SELECT ON TABLES TO $readers;
ALTER DATABASE gov SET search_path = gov, public;
SQL
}

ensure_postgres() {
  local state
  state=$(pg_tcp_state)
  if [[ $state == down ]]; then
    ((CHECK_ONLY)) && die "PostgreSQL is not answering on $PG_HOST:$PG_PORT"
    start_postgres
    wait_for "PostgreSQL" pg_answers || {
      # Running but not on TCP? Then listen_addresses is the culprit.
      if psql_socket -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
        need_change "PostgreSQL runs but not on $PG_HOST:$PG_PORT: setting listen_addresses = 'localhost'"
        psql_socket -d postgres -c "ALTER SYSTEM SET listen_addresses = 'localhost'" >/dev/null
        as_root pg_ctlcluster --skip-systemctl-redirect "$(pg_version)" "$PG_CLUSTER" restart
        wait_for "PostgreSQL" pg_answers || die "PostgreSQL still not on $PG_HOST:$PG_PORT"
      else
        die "PostgreSQL did not accept connections on $PG_HOST:$PG_PORT within ${WAIT_SECONDS}s (see /var/log/postgresql/)"
      fi
    }
    state=$(pg_tcp_state)
  fi
  if [[ $state == denied ]]; then
    fix_pg_hba
    [[ $(pg_tcp_state) == ok ]] || die "postgres still cannot log in over TCP without a password"
  fi

  local missing
  missing=$(pg_missing) || die "could not read PostgreSQL roles"
  if [[ -z $missing ]]; then
    log "PostgreSQL $PG_HOST:$PG_PORT: ok (roles, database gov and grants already in place)"
    return 0
  fi
  need_change "PostgreSQL lacks: $(echo "$missing" | paste -sd, - | sed 's/,/, /g')"
  provision_postgres
  missing=$(pg_missing) || die "could not read PostgreSQL roles"
  [[ -z $missing ]] || die "PostgreSQL still lacks: $missing"
  log "PostgreSQL $PG_HOST:$PG_PORT: ok (provisioned)"
}

main() {
  local start=$SECONDS
  ensure_packages
  ensure_mariadb
  ensure_postgres
  log "done in $((SECONDS - start))s"
}

main
