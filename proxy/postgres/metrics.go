package postgres

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbfence/dbfence/proxy"
)

const protocolName = "postgres"

// engineMetrics holds the collectors with the protocol label applied, and the
// per-message children resolved once, so the hot path does no label lookups.
type engineMetrics struct {
	all               *proxy.Metrics
	open              prometheus.Gauge
	rowsPlain         prometheus.Counter
	rowsMasked        prometheus.Counter
	bytesIn, bytesOut prometheus.Counter
	commands          [256]commandMetrics
}

type commandMetrics struct {
	ok, failed, denied prometheus.Counter
	latency            prometheus.Observer
}

// messageName is the metrics label of a frontend message type.
func messageName(typ byte) string {
	switch typ {
	case msgQuery:
		return "query"
	case msgParse:
		return "parse"
	case msgBind:
		return "bind"
	case msgDescribe:
		return "describe"
	case msgExecute:
		return "execute"
	case msgClose:
		return "close"
	case msgSync:
		return "sync"
	case msgFlush:
		return "flush"
	case msgTerminate:
		return "terminate"
	case msgFunctionCall:
		return "function_call"
	case msgCopyData, msgCopyDone, msgCopyFail:
		return "copy"
	}
	return "other"
}

func newEngineMetrics(m *proxy.Metrics) engineMetrics {
	em := engineMetrics{
		all:        m,
		open:       m.ConnectionsOpen.WithLabelValues(protocolName),
		rowsPlain:  m.Rows.WithLabelValues(protocolName, "plain"),
		rowsMasked: m.Rows.WithLabelValues(protocolName, "masked"),
		bytesIn:    m.Bytes.WithLabelValues(protocolName, "client_to_backend"),
		bytesOut:   m.Bytes.WithLabelValues(protocolName, "backend_to_client"),
	}
	byName := map[string]commandMetrics{}
	for code := 0; code < 256; code++ {
		name := messageName(byte(code))
		cm, ok := byName[name]
		if !ok {
			cm = commandMetrics{
				ok:      m.Statements.WithLabelValues(protocolName, name, "ok"),
				failed:  m.Statements.WithLabelValues(protocolName, name, "error"),
				denied:  m.Statements.WithLabelValues(protocolName, name, "denied"),
				latency: m.Latency.WithLabelValues(protocolName, name),
			}
			byName[name] = cm
		}
		em.commands[code] = cm
	}
	return em
}

func (m *engineMetrics) proxyError(kind string) {
	m.all.Errors.WithLabelValues(protocolName, kind).Inc()
}

func (m *engineMetrics) connection(outcome string) {
	m.all.Connections.WithLabelValues(protocolName, outcome).Inc()
}
