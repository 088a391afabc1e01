package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dbfence/dbfence/config"
	"github.com/dbfence/dbfence/discover"
	"github.com/dbfence/dbfence/masking"
	"github.com/dbfence/dbfence/rules"
	"github.com/dbfence/dbfence/rules/catalog"
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
	if _, err := config.Load(*cfgPath); err != nil {
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

func runExplain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "configs/dbfence.yaml", "configuration file")
	user := fs.String("user", "", "database user the statement is decided for (required)")
	db := fs.String("database", "", "current database (default: none)")
	addr := fs.String("client-addr", "127.0.0.1", "client address, for network allowlists")
	sqlMode := fs.String("sql-mode", "", "session sql_mode (default: the server's, as read with the metadata account)")
	offline := fs.Bool("offline", false, "do not read the catalog from the backend (names resolve to unknown)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dbfence explain --config FILE --user U [--database DB] \"SQL\"\n\nPrints the decision, the rule and the lineage of each output column for\nthe statement as that user would send it. Nothing is executed. The catalog\nis read through the configured metadata account unless --offline.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *user == "" || fs.NArg() != 1 {
		fs.Usage()
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
	var cat *catalog.Catalog
	version, mariaDB := uint32(101100), true
	if dsn, err := metadataDSN(cfg); err == nil && dsn != "" && !*offline {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if cat, err = catalog.LoadMySQL(ctx, dsn, catalog.LoadOptions{}); err != nil {
			fmt.Fprintf(stderr, "dbfence explain: catalog not loaded (%v); use --offline to explain without it\n", err)
			return 1
		}
	}
	eng, err := rules.NewEngine(policy, cat, maskerFactory, nil)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	ip, err := netip.ParseAddr(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "dbfence explain: --client-addr: %v\n", err)
		return 2
	}
	sess := &rules.Session{Protocol: rules.ProtocolMySQL, User: *user, ClientAddr: ip, Database: *db,
		SQLMode: rules.ParseSQLMode(*sqlMode), ServerVersion: version, MariaDB: mariaDB, Charset: "utf8mb4"}
	if fe := eng.Admit(*user, ip); fe != nil {
		fmt.Fprintf(stdout, "connection refused at the handshake: %s\n", fe.Message)
	}
	if err := rules.Explain(stdout, eng, sess, fs.Arg(0)); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	return 0
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
