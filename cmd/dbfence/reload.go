package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"
	"gopkg.in/yaml.v3"

	"github.com/dbfence/dbfence/admin"
	"github.com/dbfence/dbfence/audit"
	"github.com/dbfence/dbfence/config"
	"github.com/dbfence/dbfence/rules"
)

// reloader swaps in the policy of the configuration file on SIGHUP or
// POST /admin/reload. Sessions finish their current decision under the old
// policy; a policy that does not load leaves the old one in force. Every
// attempt is logged and audited.
type reloader struct {
	path   string
	engine *rules.Engine
	alog   *audit.Log // nil when audit is off
	// started is the configuration the process started with (nil: do not
	// compare the sections a reload does not apply).
	started *config.Config
	strict  bool // strict audit: a policy is applied only once its record is durable
	log     *zap.Logger
}

// reload loads and applies the policy; via names the trigger for the audit record.
func (r *reloader) reload(via string) (version string, err error) {
	defer func() {
		ev := &audit.Event{Type: audit.TypePolicyReload, Time: time.Now(), Decision: "ok", PolicyVersion: version,
			Detail: map[string]string{"via": via, "file": r.path}}
		if err != nil {
			ev.Decision, ev.Reason = "failed", err.Error()
			r.log.Error("policy reload failed; the previous policy stays in force", zap.String("via", via), zap.Error(err))
		} else {
			r.log.Info("policy reloaded", zap.String("via", via), zap.String("version", version))
		}
		if r.alog != nil {
			if aerr := r.alog.Record(ev); aerr != nil {
				r.log.Error("audit record of a policy reload failed", zap.Error(aerr))
			}
		}
	}()
	cfg, err := config.Load(r.path)
	if err != nil {
		return "", err
	}
	r.warnRestartOnly(cfg)
	p, err := loadPolicy(cfg)
	if err != nil {
		return "", err
	}
	if r.strict && r.alog != nil {
		ev := &audit.Event{Type: audit.TypePolicyReload, Time: time.Now(), Decision: "applying",
			Detail: map[string]string{"via": via, "file": r.path, "phase": "intent"}}
		if p != nil {
			ev.PolicyVersion = p.Version
		}
		if aerr := r.alog.Record(ev); aerr != nil {
			return "", fmt.Errorf("the audit log cannot be written (strict mode), so the policy was not changed: %w", aerr)
		}
	}
	if err := r.engine.Reload(p); err != nil {
		return "", err
	}
	if p != nil {
		version = p.Version
	}
	return version, nil
}

// warnRestartOnly logs each section of the file, other than the policy,
// that differs from what the process started with: only the policy is
// reloaded, and a rotated token or a new audit mode that looks applied but
// is not would mislead the operator.
func (r *reloader) warnRestartOnly(cfg *config.Config) {
	if r.started == nil {
		return
	}
	for _, sec := range []struct {
		name     string
		was, now any
	}{
		{"listen", r.started.Listen, cfg.Listen}, {"mysql", r.started.MySQL, cfg.MySQL},
		{"postgres", r.started.Postgres, cfg.Postgres}, {"admin", r.started.Admin, cfg.Admin},
		{"log", r.started.Log, cfg.Log}, {"approval", r.started.Approval, cfg.Approval},
		{"audit", &r.started.Audit, &cfg.Audit},
	} {
		was, err1 := yaml.Marshal(sec.was)
		now, err2 := yaml.Marshal(sec.now)
		if err1 != nil || err2 != nil || !bytes.Equal(was, now) {
			r.log.Warn("configuration section changed but is read only at start: restart dbfence to apply it",
				zap.String("section", sec.name), zap.String("file", r.path))
		}
	}
}

// watchSIGHUP reloads on every SIGHUP until ctx ends.
func (r *reloader) watchSIGHUP(ctx context.Context) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			_, _ = r.reload("SIGHUP")
		}
	}
}

// mount serves POST /admin/reload behind the admin token.
func (r *reloader) mount(adm *admin.Server, token string) {
	adm.HandleProtected("POST /admin/reload", token, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		version, err := r.reload("admin API")
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_ = json.NewEncoder(w).Encode(map[string]string{"status": "failed", "error": err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok", "policy_version": fmt.Sprint(version)})
	}))
}
