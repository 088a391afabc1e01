package proxy

import (
	"go.uber.org/zap"

	"github.com/dbfence/dbfence/rules"
)

// NoteMonitor makes the monitor-mode decisions of a verdict about to be
// forwarded visible: each statement the policy would have refused is counted
// in m.MonitorDecisions and logged at warn level. Monitor mode never refuses;
// this is how a trial of a policy shows what it would do.
func NoteMonitor(m *Metrics, log *zap.Logger, protocol string, v *rules.Verdict) {
	for i := range v.Statements {
		sv := &v.Statements[i]
		if sv.Monitor && sv.Outcome != rules.Allow {
			m.MonitorDecisions.WithLabelValues(protocol, sv.Outcome.String(), sv.Rule).Inc()
			log.Warn("monitor mode: statement forwarded that the policy would refuse",
				zap.String("outcome", sv.Outcome.String()), zap.String("rule", sv.Rule), zap.String("reason", sv.Reason),
				zap.String("normalized", sv.Normalized))
		}
	}
}
