package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"go.uber.org/zap"

	"github.com/dbfence/dbfence/config"
	"github.com/dbfence/dbfence/demo"
)

func init() {
	register("demo", "seed the demo database gov and run the proxy with the demo roles", runDemo)
}

// demoAccounts are the backend accounts the demo roles map to. They are
// created (idempotently) with SELECT on gov; dbfence_meta reads the catalog.
var demoAccounts = []struct{ user, pass string }{
	{"officer", "officer-pass"}, {"clerk", "clerk-pass"}, {"analyst", "analyst-pass"}, {"dbfence_meta", "dbfence-meta-pass"},
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "configs/demo.yaml", "configuration file (the demo roles)")
	people := fs.Int("people", 10000, "how many synthetic citizens to seed")
	adminDSN := fs.String("mysql-admin-dsn", "root@tcp(127.0.0.1:3306)/", "MariaDB account that may create the gov database and the demo accounts")
	pgAdminDSN := fs.String("postgres-admin-dsn", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL account that may create the gov database and the demo roles (\"\" skips PostgreSQL)")
	seedOnly := fs.Bool("seed-only", false, "seed the database and exit without serving")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: dbfence demo [--config configs/demo.yaml] [--people 10000] [--seed-only]

Seeds MariaDB database gov with synthetic citizens (valid ID numbers, phones,
bank cards, addresses), creates the accounts officer/officer-pass,
clerk/clerk-pass and analyst/analyst-pass with SELECT on gov, then runs the
proxy in the foreground: MySQL on 127.0.0.1:3307, PostgreSQL on 127.0.0.1:5433
(database gov seeded there too), admin on 127.0.0.1:9400.
Re-running is safe. Try:

  mysql -h127.0.0.1 -P3307 -uofficer -pofficer-pass gov -e 'SELECT * FROM person LIMIT 3'

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "dbfence: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if ac, ok, err := auditConfig(cfg); err != nil {
		fmt.Fprintf(stderr, "dbfence demo: %v\n", err)
		return 2
	} else if ok && ac.HMACKeyFile != "" {
		dir := filepath.Dir(ac.HMACKeyFile)
		if created, err := ensureAuditKeys(dir); err != nil {
			fmt.Fprintf(stderr, "dbfence demo: audit keys: %v\n", err)
			return 1
		} else if created {
			fmt.Fprintf(stderr, "created audit keys in %s (keep audit-sm2.pub.pem for verification)\n", dir)
		}
	}
	if err := seedDemo(ctx, *adminDSN, *people, stderr); err != nil {
		fmt.Fprintf(stderr, "dbfence demo: %v\n", err)
		return 1
	}
	if *pgAdminDSN != "" && cfg.Listen.Postgres != "" {
		if err := seedDemoPostgres(ctx, *pgAdminDSN, *people, stderr); err != nil {
			fmt.Fprintf(stderr, "dbfence demo: %v\n", err)
			return 1
		}
	}
	if *seedOnly {
		return 0
	}
	log, err := newLogger(cfg.Log)
	if err != nil {
		fmt.Fprintf(stderr, "dbfence: %v\n", err)
		return 2
	}
	defer log.Sync()
	fmt.Fprintf(stderr, "\ndbfence demo ready:\n  mysql -h127.0.0.1 -P%s -uofficer -pofficer-pass gov   (sees everything)\n"+
		"  mysql -h127.0.0.1 -P%s -uclerk -pclerk-pass gov       (masked personal data, at most 100 rows)\n"+
		"  mysql -h127.0.0.1 -P%s -uanalyst -panalyst-pass gov   (no personal columns)\n"+
		"  PGPASSWORD=clerk-pass psql -h 127.0.0.1 -p %s -U clerk gov   (the same roles on PostgreSQL, schema gov)\n"+
		"  curl http://%s/metrics\n  bin/dbfence audit tail -f --dir var/demo/audit\nPress Ctrl-C to stop.\n\n",
		port(cfg.Listen.MySQL), port(cfg.Listen.MySQL), port(cfg.Listen.MySQL), port(cfg.Listen.Postgres), cfg.Listen.Admin)
	if err := serve(ctx, cfg, log, 10*time.Second, nil); err != nil {
		log.Error("dbfence stopped", zap.Error(err))
		return 1
	}
	return 0
}

func port(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[i+1:]
		}
	}
	return addr
}

// seedDemo seeds MariaDB and creates the demo accounts.
func seedDemo(ctx context.Context, dsn string, people int, progress io.Writer) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		return fmt.Errorf("MariaDB is not reachable with %q: %w (run scripts/ensure-databases.sh)", dsn, err)
	}
	fmt.Fprintf(progress, "seeding gov.person with %d people in MariaDB...\n", people)
	if err := demo.SeedMySQL(ctx, db, people, progress); err != nil {
		return fmt.Errorf("seeding MariaDB: %w", err)
	}
	for _, a := range demoAccounts {
		for _, host := range []string{"%", "localhost"} {
			for _, stmt := range []string{
				fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED BY '%s'", a.user, host, a.pass),
				fmt.Sprintf("GRANT SELECT ON gov.* TO '%s'@'%s'", a.user, host),
			} {
				if _, err := db.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("creating demo account %s: %w", a.user, err)
				}
			}
		}
	}
	if _, err := db.ExecContext(ctx, "GRANT SHOW VIEW ON gov.* TO 'dbfence_meta'@'%'"); err != nil {
		return fmt.Errorf("granting SHOW VIEW to dbfence_meta: %w", err)
	}
	// The proxy stops the query of a client that left mid-result with KILL
	// QUERY as dbfence_meta (MariaDB 10.5.2 and later; MySQL calls it
	// CONNECTION_ADMIN).
	if _, err := db.ExecContext(ctx, "GRANT CONNECTION ADMIN ON *.* TO 'dbfence_meta'@'%'"); err != nil {
		if _, err2 := db.ExecContext(ctx, "GRANT CONNECTION_ADMIN ON *.* TO 'dbfence_meta'@'%'"); err2 != nil {
			return fmt.Errorf("granting CONNECTION ADMIN to dbfence_meta: %w", err)
		}
	}
	return nil
}

// seedDemoPostgres seeds PostgreSQL database gov and creates the demo roles
// (LOGIN, SCRAM passwords, SELECT on gov's tables).
func seedDemoPostgres(ctx context.Context, adminDSN string, people int, progress io.Writer) error {
	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		return err
	}
	defer admin.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := admin.PingContext(pctx); err != nil {
		return fmt.Errorf("PostgreSQL is not reachable with %q: %w (run scripts/ensure-databases.sh)", adminDSN, err)
	}
	if err := demo.EnsurePostgresDatabase(ctx, admin, "gov"); err != nil {
		return err
	}
	for _, a := range demoAccounts {
		var exists bool
		if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", a.user).Scan(&exists); err != nil {
			return err
		}
		verb := "CREATE"
		if exists {
			verb = "ALTER"
		}
		if _, err := admin.ExecContext(ctx, fmt.Sprintf("%s ROLE %s LOGIN PASSWORD '%s'", verb, a.user, a.pass)); err != nil {
			return fmt.Errorf("demo role %s: %w", a.user, err)
		}
	}
	govDSN := strings.Replace(adminDSN, "/postgres?", "/gov?", 1)
	gov, err := sql.Open("pgx", govDSN)
	if err != nil {
		return err
	}
	defer gov.Close()
	fmt.Fprintf(progress, "seeding gov.person with %d people in PostgreSQL...\n", people)
	if err := demo.SeedPostgres(ctx, gov, people, progress); err != nil {
		return fmt.Errorf("seeding PostgreSQL: %w", err)
	}
	// The tables are in schema gov (a policy names PostgreSQL columns
	// schema.table.column), first in the database's search_path.
	if _, err := gov.ExecContext(ctx, "ALTER DATABASE gov SET search_path = gov, public"); err != nil {
		return fmt.Errorf("setting the search_path of gov: %w", err)
	}
	for _, a := range demoAccounts {
		for _, stmt := range []string{
			"GRANT CONNECT ON DATABASE gov TO " + a.user,
			"GRANT USAGE ON SCHEMA gov TO " + a.user,
			"GRANT SELECT ON ALL TABLES IN SCHEMA gov TO " + a.user,
		} {
			if _, err := gov.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("granting %s: %w", a.user, err)
			}
		}
	}
	return nil
}
