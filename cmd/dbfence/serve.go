package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/dbfence/dbfence/admin"
	"github.com/dbfence/dbfence/config"
	"github.com/dbfence/dbfence/proxy"
	mysqlproxy "github.com/dbfence/dbfence/proxy/mysql"
	pgproxy "github.com/dbfence/dbfence/proxy/postgres"
)

func init() {
	register("serve", "run the proxy (MySQL, PostgreSQL, admin HTTP) in the foreground", runServe)
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "configs/dbfence.yaml", "configuration file")
	drain := fs.Duration("drain-timeout", 30*time.Second, "on SIGINT/SIGTERM, how long sessions may finish their current command")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dbfence serve --config FILE [--drain-timeout 30s]\n\n"+
			"Runs the proxy in the foreground until SIGINT or SIGTERM, then stops accepting,\n"+
			"lets sessions finish their current command and exits.\n\nFlags:\n")
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
	log, err := newLogger(cfg.Log)
	if err != nil {
		fmt.Fprintf(stderr, "dbfence: %v\n", err)
		return 2
	}
	defer log.Sync()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log, *drain, nil); err != nil {
		log.Error("dbfence stopped", zap.Error(err))
		fmt.Fprintf(stderr, "dbfence: %v\n", err)
		return 1
	}
	return 0
}

func newLogger(c config.Log) (*zap.Logger, error) {
	var zc zap.Config
	if c.Format == "json" {
		zc = zap.NewProductionConfig()
	} else {
		zc = zap.NewDevelopmentConfig()
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		zc.DisableStacktrace = true
	}
	lvl, err := zapcore.ParseLevel(c.Level)
	if err != nil {
		return nil, err
	}
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.EncoderConfig.TimeKey = "time"
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	return zc.Build()
}

// runtimeParts are what serve builds from the configuration.
type runtimeParts struct {
	gate           mysqlproxy.Gate
	pgGate         pgproxy.Gate
	auditor        proxy.Auditor
	closers        []func() error
	maskType       mysqlproxy.TypedMasker
	onSchemaChange func()
	approvals      proxy.Approvals
	// pgOrigins resolves PostgreSQL result column origins (nil without a
	// postgres.metadata account).
	pgOrigins *pgproxy.Origins
}

// serve runs every configured listener until ctx is cancelled, then drains.
// listenersReady receives the bound addresses once every listener is up
// (tests bind port 0 and learn the ports here).
type listenersReady func(listenAddrs)

// listenAddrs are the addresses the listeners are bound to ("" when off).
type listenAddrs struct{ mysql, postgres, admin string }

func serve(ctx context.Context, cfg *config.Config, log *zap.Logger, drain time.Duration, ready listenersReady) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := proxy.NewMetrics(reg)
	adm := admin.New(reg)

	token, err := config.Secret(cfg.Admin.Token, cfg.Admin.TokenFile)
	if err != nil {
		return fmt.Errorf("admin.token_file: %w", err)
	}
	adm.MountProfiling(token)
	parts, err := buildRuntime(ctx, cfg, log, reg, adm)
	if err != nil {
		return err
	}
	defer func() {
		for i := len(parts.closers) - 1; i >= 0; i-- {
			if err := parts.closers[i](); err != nil {
				log.Warn("closing", zap.Error(err))
			}
		}
	}()

	// One set of budget counters for every listener: a user's budget spans
	// all their connections.
	budgets := proxy.NewBudgets()
	var servers []*proxy.Server
	var mysqlAddr string
	errc := make(chan error, 4)
	if cfg.Listen.MySQL != "" {
		clientTLS, err := cfg.MySQL.ClientTLSConfig()
		if err != nil {
			return err
		}
		backendTLS, err := cfg.MySQL.BackendTLSConfig()
		if err != nil {
			return err
		}
		kill, closeKill, err := killQueryFunc(cfg, log)
		if err != nil {
			return err
		}
		parts.closers = append(parts.closers, closeKill)
		eng := mysqlproxy.NewEngine(mysqlproxy.Config{
			Backend: cfg.MySQL.Backend, BackendTLS: backendTLS, ClientTLS: clientTLS,
			RequireClientTLS: cfg.MySQL.ClientTLS.Require, MaxPacket: cfg.MySQL.MaxPacket,
			Gate: parts.gate, MaskTyped: parts.maskType, MaskerForCharset: maskerForCharset, KillQuery: kill, OnSchemaChange: parts.onSchemaChange, Approvals: parts.approvals, Budgets: budgets,
			Audit: parts.auditor, Metrics: metrics, Log: log.Named("mysql"),
		})
		ln, err := net.Listen("tcp", cfg.Listen.MySQL)
		if err != nil {
			return fmt.Errorf("listen for MySQL clients: %w", err)
		}
		srv := &proxy.Server{Handler: eng, Log: log}
		servers = append(servers, srv)
		go func() { errc <- srv.Serve(ln) }()
		mysqlAddr = ln.Addr().String()
		log.Info("MySQL listener ready", zap.String("listen", mysqlAddr), zap.String("backend", cfg.MySQL.Backend))
	}
	var pgAddr string
	if cfg.Listen.Postgres != "" {
		clientTLS, err := cfg.Postgres.ClientTLSConfig()
		if err != nil {
			return err
		}
		backendTLS, err := cfg.Postgres.BackendTLSConfig()
		if err != nil {
			return err
		}
		eng := pgproxy.NewEngine(pgproxy.Config{
			Backend: cfg.Postgres.Backend, BackendTLS: backendTLS, ClientTLS: clientTLS,
			RequireClientTLS: cfg.Postgres.ClientTLS.Require, MaxMessage: cfg.Postgres.MaxMessage,
			Gate: parts.pgGate, MaskTyped: pgMaskTyped, Origins: parts.pgOrigins, OnSchemaChange: parts.onSchemaChange,
			Approvals: parts.approvals, Budgets: budgets,
			Audit: parts.auditor, Metrics: metrics, Log: log.Named("postgres"),
		})
		ln, err := net.Listen("tcp", cfg.Listen.Postgres)
		if err != nil {
			return fmt.Errorf("listen for PostgreSQL clients: %w", err)
		}
		srv := &proxy.Server{Handler: eng, Log: log}
		servers = append(servers, srv)
		go func() { errc <- srv.Serve(ln) }()
		pgAddr = ln.Addr().String()
		log.Info("PostgreSQL listener ready", zap.String("listen", pgAddr), zap.String("backend", cfg.Postgres.Backend))
	}
	admLn, err := net.Listen("tcp", cfg.Listen.Admin)
	if err != nil {
		return fmt.Errorf("listen for admin HTTP: %w", err)
	}
	go func() { errc <- adm.Serve(admLn) }()
	log.Info("admin listener ready", zap.String("listen", admLn.Addr().String()))
	if ready != nil {
		ready(listenAddrs{mysql: mysqlAddr, postgres: pgAddr, admin: admLn.Addr().String()})
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: draining sessions", zap.Duration("timeout", drain))
	case err := <-errc:
		if !errors.Is(err, proxy.ErrServerClosed) {
			runErr = err
		}
	}
	dctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	// A second SIGINT or SIGTERM ends the drain at once.
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	go func() {
		select {
		case <-again:
			log.Warn("second signal: closing the remaining sessions now")
			cancel()
		case <-dctx.Done():
		}
	}()
	// All listeners stop at once: one draining a long query must not leave
	// another accepting new sessions meanwhile.
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Shutdown(dctx); err != nil {
				log.Warn("drain timed out; remaining sessions closed", zap.Error(err))
			}
		}()
	}
	wg.Wait()
	_ = adm.Shutdown(dctx)
	log.Info("stopped")
	return runErr
}

// killQueryFunc returns the function that stops a departed client's backend
// query through the metadata account (nil when none is configured).
func killQueryFunc(cfg *config.Config, log *zap.Logger) (func(context.Context, uint32) error, func() error, error) {
	db, err := metadataDB(cfg)
	if err != nil || db == nil {
		return nil, func() error { return nil }, err
	}
	return func(ctx context.Context, id uint32) error {
		_, err := db.ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", id))
		return err
	}, db.Close, nil
}

// metadataDB opens the metadata account's connection pool (nil when no
// account is configured).
func metadataDB(cfg *config.Config) (*sql.DB, error) {
	dsn, err := metadataDSN(cfg)
	if err != nil || dsn == "" {
		return nil, err
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	return db, nil
}
