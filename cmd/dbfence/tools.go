package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbfence/dbfence/audit"
	"github.com/dbfence/dbfence/config"
	"github.com/dbfence/dbfence/discover"
	"github.com/dbfence/dbfence/masking"
	"github.com/dbfence/dbfence/rules"
	"github.com/dbfence/dbfence/rules/catalog"
	"github.com/dbfence/dbfence/rules/pgsql"
)

func init() {
	register("check", "validate a configuration file (errors name file:line)", runCheck)
	register("explain", "show the decision, rule and column lineage for a statement, without running it", runExplain)
	register("discover", "sample a database and propose a classification of its personal-data columns", runDiscover)
	register("unmask", "reverse sm4_token values (for holders of the key)", runUnmask)
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "configs/dbfence.yaml", "configuration file")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dbfence check --config FILE\n\nValidates the whole file: listeners, backends, policy (and builds every masker it names).\nExits 0 and prints a summary when valid; prints each error with file:line and exits 1 otherwise.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	if err := checkAudit(cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	data, err := os.ReadFile(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	var report bytes.Buffer
	if err := rules.Check(&report, data, *cfgPath, maskerFactory); err != nil {
		stderr.Write(report.Bytes())
		return 1
	}
	stdout.Write(report.Bytes())
	return 0
}

// checkAudit validates the audit section as serve would open it: its
// values, the directory (a directory, if it exists) and the key files.
// Missing key files are a warning: `dbfence demo` and `audit keygen`
// create them, and serve refuses to start without them.
func checkAudit(cfg *config.Config, out io.Writer) error {
	ac, ok, err := auditConfig(cfg)
	if err != nil || !ok {
		return err
	}
	where := fmt.Sprintf("%s: audit (line %d)", cfg.Path, cfg.Audit.Line)
	if fi, err := os.Stat(ac.Dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("%s: dir %s is not a directory", where, ac.Dir)
	}
	if err := ac.CheckAndSetDefaults(); err != nil {
		return fmt.Errorf("%s: %s", where, strings.ReplaceAll(err.Error(), "audit: ", ""))
	}
	for _, f := range []struct{ key, path string }{
		{"hmac_key_file", ac.HMACKeyFile}, {"sm4_key_file", ac.SM4KeyFile}, {"sm2_private_key_file", ac.SM2PrivateKeyFile},
	} {
		if f.path == "" {
			continue
		}
		var err error
		switch f.key {
		case "hmac_key_file":
			_, err = audit.LoadHexKey(f.path, 16, 0)
		case "sm4_key_file":
			_, err = audit.LoadHexKey(f.path, 16, 16)
		default:
			_, err = audit.LoadSM2PrivateKey(f.path)
		}
		switch {
		case errors.Is(err, os.ErrNotExist):
			fmt.Fprintf(out, "warning: %s: %s %s does not exist yet (dbfence audit keygen creates the keys)\n", where, f.key, f.path)
		case err != nil:
			return fmt.Errorf("%s: %s: %v", where, f.key, err)
		}
	}
	return nil
}

func runExplain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "configs/dbfence.yaml", "configuration file")
	user := fs.String("user", "", "database user the statement is decided for (required)")
	db := fs.String("database", "", "current database (default: none)")
	addr := fs.String("client-addr", "127.0.0.1", "client address, for network allowlists")
	protocol := fs.String("protocol", "mysql", "the client's protocol and SQL dialect: mysql or postgres")
	sqlMode := fs.String("sql-mode", "", "MySQL: session sql_mode (default: the server's, as read with the metadata account)")
	searchPath := fs.String("search-path", "", "PostgreSQL: the session's search_path (default: what ALTER ROLE/DATABASE ... SET gives the user\nin that database, read with the metadata account, else the server's built-in \"$user\", public)")
	offline := fs.Bool("offline", false, "do not read the catalog from the backend (names resolve to unknown)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dbfence explain --config FILE --user U [--protocol postgres] [--database DB] \"SQL\"\n\n"+
			"Prints the decision, the rule and the lineage of each output column for\nthe statement as that user would send it. Nothing is executed. The catalog\n"+
			"is read through the configured metadata account of the protocol's backend\n(mysql.metadata or postgres.metadata) unless --offline.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *user == "" || fs.NArg() != 1 || *protocol != "mysql" && *protocol != "postgres" {
		fs.Usage()
		return 2
	}
	ip, err := netip.ParseAddr(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "dbfence explain: --client-addr: %v\n", err)
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	policy, err := loadPolicy(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var eng *rules.Engine
	var sess *rules.Session
	if *protocol == "postgres" {
		eng, sess, err = explainPostgres(ctx, cfg, policy, *user, *db, *searchPath, *offline)
	} else {
		eng, sess, err = explainMySQL(ctx, cfg, policy, *user, *db, *sqlMode, *offline)
	}
	if err != nil {
		fmt.Fprintf(stderr, "dbfence explain: %v\n", err)
		return 1
	}
	sess.ClientAddr = ip
	if sess.Protocol == rules.ProtocolPostgres {
		fmt.Fprintf(stdout, "database %s, search_path %s\n", sess.Database, strings.Join(sess.SearchPath, ", "))
	}
	if fe := eng.Admit(*user, ip); fe != nil {
		fmt.Fprintf(stdout, "connection refused at the handshake: %s\n", fe.Message)
	}
	if err := rules.Explain(stdout, eng, sess, fs.Arg(0)); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	return 0
}

// explainMySQL builds the engine and session of a MySQL explanation.
func explainMySQL(ctx context.Context, cfg *config.Config, policy *rules.Policy, user, db, sqlMode string, offline bool) (*rules.Engine, *rules.Session, error) {
	var cat *catalog.Catalog
	version, mariaDB := uint32(101100), true
	dsn, err := metadataDSN(cfg)
	if err != nil {
		return nil, nil, err
	}
	if dsn != "" && !offline {
		if cat, err = catalog.LoadMySQL(ctx, dsn, catalog.LoadOptions{}); err != nil {
			return nil, nil, fmt.Errorf("catalog not loaded (%v); use --offline to explain without it", err)
		}
	}
	eng, err := rules.NewEngine(policy, cat, maskerFactory, nil)
	if err != nil {
		return nil, nil, err
	}
	return eng, &rules.Session{Protocol: rules.ProtocolMySQL, User: user, Database: db,
		SQLMode: rules.ParseSQLMode(sqlMode), ServerVersion: version, MariaDB: mariaDB, Charset: "utf8mb4"}, nil
}

// explainPostgres builds the engine and session of a PostgreSQL
// explanation. The database defaults to the user's name, as for libpq.
func explainPostgres(ctx context.Context, cfg *config.Config, policy *rules.Policy, user, db, searchPath string, offline bool) (*rules.Engine, *rules.Session, error) {
	if db == "" {
		db = user
	}
	eng, err := rules.NewEngine(policy, nil, maskerFactory, nil)
	if err != nil {
		return nil, nil, err
	}
	conn, err := postgresMetadataConnString(cfg)
	if err != nil {
		return nil, nil, err
	}
	if searchPath == "" && conn != "" && !offline {
		if searchPath, err = postgresSearchPathFor(ctx, conn, user, db); err != nil {
			return nil, nil, fmt.Errorf("reading the search_path of %s in %s: %v (pass --search-path, or --offline)", user, db, err)
		}
	}
	if searchPath == "" {
		searchPath = `"$user", public`
	}
	if conn != "" && !offline {
		load, err := catalog.PostgresCatalogLoader(conn)
		if err != nil {
			return nil, nil, err
		}
		// Loaded here, so that a failure is reported rather than explained
		// as an empty catalog.
		cat, err := load(ctx, db)
		if err != nil {
			return nil, nil, fmt.Errorf("catalog of database %s not loaded (%v); use --offline to explain without it", db, err)
		}
		eng.SetPostgresCatalogLoader(func(context.Context, string) (*catalog.Catalog, error) { return cat, nil })
	}
	sess := &rules.Session{Protocol: rules.ProtocolPostgres, User: user, Database: db, Charset: "UTF8",
		SearchPath: pgsql.ParseSearchPath(searchPath), SearchPathKnown: true}
	if conn != "" && !offline {
		// The proxy knows it from the server's startup parameters.
		if sess.ServerVersion, err = postgresServerVersion(ctx, conn); err != nil {
			return nil, nil, fmt.Errorf("reading the server's version: %v (use --offline to explain without it)", err)
		}
	}
	return eng, sess, nil
}

// postgresServerVersion is the server's server_version_num.
func postgresServerVersion(ctx context.Context, connString string) (uint32, error) {
	c, err := pgx.Connect(ctx, connString)
	if err != nil {
		return 0, err
	}
	defer c.Close(ctx)
	var v uint32
	err = c.QueryRow(ctx, "SELECT pg_catalog.current_setting('server_version_num')::int4").Scan(&v)
	return v, err
}

// postgresSearchPathFor is the search_path ALTER ROLE / ALTER DATABASE
// settings give user in database db ("" when none does), with the server's
// precedence: role in database, then role, then database, then all roles.
func postgresSearchPathFor(ctx context.Context, connString, user, db string) (string, error) {
	c, err := pgx.Connect(ctx, connString)
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT s.setconfig, s.setrole <> 0, s.setdatabase <> 0 FROM pg_catalog.pg_db_role_setting s
		WHERE (s.setdatabase = 0 OR s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = $1))
		  AND (s.setrole = 0 OR s.setrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $2))`, db, user)
	if err != nil {
		return "", err
	}
	best, bestRank := "", -1
	for rows.Next() {
		var config []string
		var byRole, byDB bool
		if err := rows.Scan(&config, &byRole, &byDB); err != nil {
			return "", err
		}
		rank := 0
		if byRole {
			rank += 2
		}
		if byDB {
			rank++
		}
		for _, kv := range config {
			if v, ok := strings.CutPrefix(kv, "search_path="); ok && rank > bestRank {
				best, bestRank = v, rank
			}
		}
	}
	return best, rows.Err()
}

func runDiscover(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("discover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts discover.Options
	fs.StringVar(&opts.DSN, "dsn", "", "database to scan: mysql://user:pass@host:port/db or postgres://user:pass@host:port/db (required)")
	fs.IntVar(&opts.SampleRows, "sample", 1000, "rows sampled per table")
	fs.Float64Var(&opts.MinRatio, "min-ratio", 0.8, "share of sampled values that must validate for a proposal")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dbfence discover --dsn DSN [--sample 1000]\n\nSamples every column of every table, runs the personal-data detectors (ID\nnumbers with check digits and region codes, mobiles, Luhn bank cards, USCC,\nnames, addresses, ...) and prints a proposed `classification:` block for the\npolicy, with hit ratios as comments, for a DBA to review. Progress goes to\nstderr. Read-only.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if opts.DSN == "" {
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := discover.Run(ctx, opts, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "dbfence discover: %v\n", err)
		return 1
	}
	return 0
}

func runUnmask(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("unmask", flag.ContinueOnError)
	fs.SetOutput(stderr)
	key := fs.String("key", "", `the sm4_token key of the policy: "hex:...", "env:NAME" or the raw key (required)`)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dbfence unmask --key KEY [TOKEN ...]\n\nReverses sm4_token values produced by the policy's sm4_token masks. Tokens\ncome as arguments or one per line on stdin. A token that does not verify\nunder the key is reported and the exit status is 1.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *key == "" {
		fs.Usage()
		return 2
	}
	tokens := fs.Args()
	if len(tokens) == 0 {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if t := strings.TrimSpace(sc.Text()); t != "" {
				tokens = append(tokens, t)
			}
		}
	}
	status := 0
	for _, t := range tokens {
		plain, err := masking.Unmask([]byte(t), *key)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", t, err)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "%s\n", plain)
	}
	return status
}
