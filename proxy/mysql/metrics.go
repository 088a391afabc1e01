package mysql

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbfence/dbfence/proxy"
)

const protocolName = "mysql"

// engineMetrics holds the collectors with the protocol label applied, and the
// per-command children resolved once, so the hot path does no label lookups.
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

func newEngineMetrics(m *proxy.Metrics) engineMetrics {
	em := engineMetrics{
		all:        m,
		open:       m.ConnectionsOpen.WithLabelValues(protocolName),
		rowsPlain:  m.Rows.WithLabelValues(protocolName, "plain"),
		rowsMasked: m.Rows.WithLabelValues(protocolName, "masked"),
		bytesIn:    m.Bytes.WithLabelValues(protocolName, "client_to_backend"),
		bytesOut:   m.Bytes.WithLabelValues(protocolName, "backend_to_client"),
	}
	for code := 0; code < 256; code++ {
		name := commandName(byte(code))
		em.commands[code] = commandMetrics{
			ok:      m.Statements.WithLabelValues(protocolName, name, "ok"),
			failed:  m.Statements.WithLabelValues(protocolName, name, "error"),
			denied:  m.Statements.WithLabelValues(protocolName, name, "denied"),
			latency: m.Latency.WithLabelValues(protocolName, name),
		}
	}
	return em
}

func (m *engineMetrics) proxyError(kind string) {
	m.all.Errors.WithLabelValues(protocolName, kind).Inc()
}

func (m *engineMetrics) connection(outcome string) {
	m.all.Connections.WithLabelValues(protocolName, outcome).Inc()
}
