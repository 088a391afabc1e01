package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"go.uber.org/zap"
	"gopkg.in/yaml.v3"

	"github.com/dbfence/dbfence/audit"
	"github.com/dbfence/dbfence/audit/auditcmd"
	"github.com/dbfence/dbfence/config"
	"github.com/dbfence/dbfence/proxy"
)

func init() {
	register("audit", "verify, tail and read the audit log; generate audit keys", func(args []string, stdout, stderr io.Writer) int {
		return auditcmd.Main(args, stdout, stderr)
	})
}

// auditConfig decodes the audit section strictly (unknown keys are errors
// with their line). ok is false when the section is absent.
func auditConfig(cfg *config.Config) (ac audit.Config, ok bool, err error) {
	if cfg.Audit.Kind == 0 {
		return ac, false, nil
	}
	raw, err := yaml.Marshal(&cfg.Audit)
	if err != nil {
		return ac, false, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&ac); err != nil {
		return ac, false, fmt.Errorf("%s: audit (line %d): %w", cfg.Path, cfg.Audit.Line, err)
	}
	return ac, true, nil
}

// auditSink adapts the proxy's events to the audit log.
//
// Strict mode writes a statement's decision before it is forwarded (the
// engine waits until it is durable and refuses the statement if it cannot
// be written) and a second record with its outcome; buffered mode writes one
// record per statement, when it completes, with decision and outcome.
type auditSink struct {
	log    *audit.Log
	strict bool
	l      *zap.Logger
}

var _ proxy.Auditor = (*auditSink)(nil)

func (a *auditSink) Connection(ev *proxy.ConnectionEvent) {
	rec := &audit.Event{
		Type: audit.EventType(ev.Type), Time: ev.Time, Protocol: ev.Protocol,
		SessionID: strconv.FormatUint(ev.SessionID, 10), User: ev.User, ClientAddr: ev.ClientAddr.String(),
		Database: ev.Database, ErrorCode: ev.ErrorCode, Reason: ev.Detail,
	}
	if err := a.log.Record(rec); err != nil {
		a.l.Error("audit record of a connection event failed", zap.String("type", ev.Type), zap.Error(err))
	}
}

func (a *auditSink) Statement(ev *proxy.StatementEvent) error {
	if !a.strict && ev.ErrorCode == "" {
		return nil // written once, complete, by StatementDone
	}
	var rec audit.Event // on the stack: Record does not retain it
	a.event(&rec, ev, false)
	return a.log.Record(&rec)
}

func (a *auditSink) StatementDone(ev *proxy.StatementEvent) {
	var rec audit.Event
	a.event(&rec, ev, true)
	if err := a.log.Record(&rec); err != nil {
		a.l.Error("audit record of a statement outcome failed", zap.Uint64("session", ev.SessionID), zap.Error(err))
	}
}

// event fills rec from a statement event; done marks the outcome record.
// It fills the caller's Event rather than returning a new one so that the
// Event (about 400 bytes) stays on the session goroutine's stack instead of
// being allocated for every statement.
func (a *auditSink) event(rec *audit.Event, ev *proxy.StatementEvent, done bool) {
	typ := audit.TypeStatement
	if ev.Command == "execute" {
		typ = audit.TypeExecute
	}
	*rec = audit.Event{
		Type: typ, Time: ev.Start, Protocol: ev.Protocol, SessionID: strconv.FormatUint(ev.SessionID, 10),
		StatementID: ev.StatementID, User: ev.User, ClientAddr: ev.ClientAddr.String(), Database: ev.Database,
		StatementKind: ev.Kind, Normalized: ev.Normalized, Literals: ev.Literals, Decision: ev.Decision,
		Rule: ev.Rule, Reason: ev.Reason, Objects: ev.Objects, MaskedColumns: ev.MaskedColumns,
		ErrorCode: ev.ErrorCode, PolicyVersion: ev.PolicyVersion, ApprovalID: ev.ApprovalID,
	}
	phase := "decision"
	if done {
		phase = "outcome"
		rec.Rows, rec.Bytes, rec.DurationUS = ev.Rows, ev.Bytes, ev.Duration.Microseconds()
	}
	if a.strict {
		// Two records per statement: say which one this is.
		rec.Detail = map[string]string{"phase": phase, "command": ev.Command}
	}
}

// ensureAuditKeys creates the audit key files in dir if none exist yet (the
// demo's first run); existing keys are never replaced.
func ensureAuditKeys(dir string) (created bool, err error) {
	if _, err := os.Stat(filepath.Join(dir, audit.HMACKeyFileName)); err == nil {
		return false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	k, err := audit.GenerateKeys()
	if err != nil {
		return false, err
	}
	_, err = audit.WriteKeyFiles(k, dir)
	return err == nil, err
}
