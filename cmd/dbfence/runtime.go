package main

import (
	"context"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/dbfence/dbfence/admin"
	"github.com/dbfence/dbfence/config"
	"github.com/dbfence/dbfence/fault"
	"github.com/dbfence/dbfence/proxy"
	"github.com/dbfence/dbfence/rules"
)

// buildRuntime builds the rules gate, the audit log and the masking hooks
// from the configuration.
func buildRuntime(ctx context.Context, cfg *config.Config, log *zap.Logger, reg prometheus.Registerer, adm *admin.Server) (*runtimeParts, error) {
	return &runtimeParts{gate: devGate{}, auditor: proxy.NopAuditor{}}, nil
}

// devGate is a temporary pass-through used until the rules engine lands.
type devGate struct{}

func (devGate) Admit(string, netip.Addr) *fault.Error { return nil }
func (devGate) CheckMySQL(_ *rules.Session, text string) *rules.Verdict {
	return &rules.Verdict{Forward: text, Statements: []rules.StatementVerdict{{Kind: "unknown", Outcome: rules.Allow}}}
}
