package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/dbfence/dbfence/admin"
	"github.com/dbfence/dbfence/audit"
	"github.com/dbfence/dbfence/config"
	"github.com/dbfence/dbfence/proxy"
	pgproxy "github.com/dbfence/dbfence/proxy/postgres"
	"github.com/dbfence/dbfence/rules"
	"github.com/dbfence/dbfence/rules/catalog"
)

// catalogRefreshEvery is how often the catalog is reloaded even without DDL
// seen through the proxy (DDL can come from elsewhere).
const catalogRefreshEvery = time.Minute

// buildRuntime builds the rules engine, the audit log and the masking hooks
// from the configuration.
func buildRuntime(ctx context.Context, cfg *config.Config, log *zap.Logger, reg prometheus.Registerer, adm *admin.Server) (*runtimeParts, error) {
	policy, err := loadPolicy(cfg)
	if err != nil {
		return nil, err
	}
	eng, err := rules.NewEngine(policy, nil, maskerFactory, log.Named("rules"))
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	parts := &runtimeParts{gate: eng, pgGate: eng, auditor: proxy.NopAuditor{}, onSchemaChange: eng.MarkCatalogStale, maskType: mysqlMaskTyped}
	store, err := openApprovals(cfg)
	if err != nil {
		return nil, fmt.Errorf("approval: %w", err)
	}
	alog, err := openAudit(cfg, log, reg, adm, parts)
	if err != nil {
		return nil, err
	}
	if store != nil {
		gate := approvalGate{store: store}
		if cfg.Approval.Webhook != "" {
			gate.webhook = newWebhook(cfg.Approval.Webhook, log.Named("approval"))
		}
		parts.approvals = gate
		tokens := map[string]string{}
		for _, name := range cfg.Approval.Approvers {
			if tok := cfg.Approval.ApproverTokens[name]; tok != "" {
				tokens[name] = tok
			}
		}
		(&approvalAPI{store: store, tokens: tokens, alog: alog, strict: strictAudit(parts), log: log.Named("approval")}).mount(adm)
		adm.MountConsole()
	}
	if cfg.Path != "" {
		token, err := config.Secret(cfg.Admin.Token, cfg.Admin.TokenFile)
		if err != nil {
			return nil, err
		}
		r := &reloader{path: cfg.Path, engine: eng, alog: alog, strict: strictAudit(parts), started: cfg, log: log.Named("reload")}
		r.mount(adm, token)
		go r.watchSIGHUP(ctx)
	}
	pgConn, err := postgresMetadataConnString(cfg)
	if err != nil {
		return nil, err
	}
	if pgConn != "" {
		loader, err := catalog.PostgresCatalogLoader(pgConn)
		if err != nil {
			return nil, err
		}
		eng.SetPostgresCatalogLoader(loader)
		if parts.pgOrigins, err = pgproxy.NewOrigins(pgConn); err != nil {
			return nil, fmt.Errorf("postgres.metadata: %w", err)
		}
		origins := parts.pgOrigins
		parts.closers = append(parts.closers, func() error { origins.Close(); return nil })
	} else if policy != nil && cfg.Listen.Postgres != "" {
		log.Warn("no postgres.metadata account: PostgreSQL catalogs are empty and restricted roles are refused what they would resolve")
	}
	if dsn, err := metadataDSN(cfg); err != nil {
		return nil, err
	} else if dsn != "" {
		eng.SetCatalogLoader(catalog.MySQLLoader(dsn, catalog.LoadOptions{}))
		if err := eng.RefreshCatalog(ctx); err != nil {
			// Restricted roles are refused what the catalog cannot resolve;
			// the refresher keeps trying.
			log.Warn("catalog not loaded; retrying in the background", zap.Error(err))
		} else {
			log.Info("catalog loaded", zap.Int("tables", len(eng.Catalog().Tables())))
		}
		adm.AddCheck("catalog", func() error {
			if eng.Catalog() == nil || len(eng.Catalog().Tables()) == 0 {
				return errors.New("catalog not loaded")
			}
			return nil
		})
	} else if policy != nil {
		log.Warn("no mysql.metadata account: the catalog is empty and restricted roles are refused what it would resolve")
	}
	if pgConn != "" || cfg.MySQL.Metadata.User != "" {
		go eng.KeepCatalogFresh(ctx, catalogRefreshEvery)
	}
	return parts, nil
}

// strictAudit reports whether the audit log runs in strict mode.
func strictAudit(parts *runtimeParts) bool {
	sink, ok := parts.auditor.(*auditSink)
	return ok && sink.strict
}

// postgresMetadataConnString is the pgx connection string of the
// PostgreSQL metadata account ("" when none).
func postgresMetadataConnString(cfg *config.Config) (string, error) {
	acct := cfg.Postgres.Metadata
	if acct.User == "" {
		return "", nil
	}
	pass, err := config.Secret(acct.Password, acct.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("postgres.metadata.password_file: %w", err)
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(acct.User, pass), Host: cfg.Postgres.Backend, Path: "/postgres"}
	q := url.Values{"connect_timeout": {"5"}, "application_name": {"dbfence-metadata"}}
	tlsCfg := cfg.Postgres.BackendTLS
	switch {
	case !tlsCfg.Enabled:
		q.Set("sslmode", "disable")
	case tlsCfg.InsecureSkipVerify:
		q.Set("sslmode", "require")
	default:
		q.Set("sslmode", "verify-full")
		if tlsCfg.CAFile != "" {
			q.Set("sslrootcert", tlsCfg.CAFile)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// metadataDSN is the go-sql-driver DSN of the metadata account ("" when none).
func metadataDSN(cfg *config.Config) (string, error) {
	acct := cfg.MySQL.Metadata
	if acct.User == "" {
		return "", nil
	}
	pass, err := config.Secret(acct.Password, acct.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("mysql.metadata.password_file: %w", err)
	}
	return fmt.Sprintf("%s:%s@tcp(%s)/?timeout=5s&readTimeout=30s", acct.User, pass, cfg.MySQL.Backend), nil
}

// loadPolicy decodes the policy section (nil when absent: every user is
// unrestricted and dbfence only parses, audits and relays).
func loadPolicy(cfg *config.Config) (*rules.Policy, error) {
	if cfg.Policy.Kind == 0 {
		return nil, nil
	}
	return rules.LoadPolicy(&cfg.Policy, cfg.Path)
}

// openAudit opens the audit log the configuration names and mounts its
// health check and live stream. Without an audit section statements are not
// audited, and the log says so at every start.
func openAudit(cfg *config.Config, log *zap.Logger, reg prometheus.Registerer, adm *admin.Server, parts *runtimeParts) (*audit.Log, error) {
	ac, ok, err := auditConfig(cfg)
	if err != nil {
		return nil, err
	}
	if !ok {
		log.Warn("no audit section in the configuration: statements are NOT being audited")
		return nil, nil
	}
	ac.Registerer = reg
	alog, err := audit.Open(ac, log.Named("audit"))
	if err != nil {
		return nil, fmt.Errorf("%s: audit (line %d): %s", cfg.Path, cfg.Audit.Line, strings.ReplaceAll(err.Error(), "audit: ", ""))
	}
	parts.closers = append(parts.closers, alog.Close)
	parts.auditor = &auditSink{log: alog, strict: ac.Mode == audit.ModeStrict, l: log.Named("audit")}
	adm.AddCheck("audit", func() error {
		if h := alog.Health(); !h.OK {
			return fmt.Errorf("audit log %s since %s: %s", h.Status, h.Since.Format(time.RFC3339), h.LastError)
		}
		return nil
	})
	token, err := config.Secret(cfg.Admin.Token, cfg.Admin.TokenFile)
	if err != nil {
		return nil, err
	}
	adm.Handle("GET /audit/stream", alog.StreamHandler(token))
	log.Info("audit log open", zap.String("dir", ac.Dir), zap.String("mode", string(ac.Mode)))
	return alog, nil
}
