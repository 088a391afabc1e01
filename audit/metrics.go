package audit

import (
	"github.com/prometheus/client_golang/prometheus"
)

// registerMetrics exposes the counters as dbfence_audit_* metrics.
func (l *Log) registerMetrics(reg prometheus.Registerer) error {
	s := &l.stats
	counter := func(name, help string, v func() uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "dbfence", Subsystem: "audit", Name: name, Help: help},
			func() float64 { return float64(v()) })
	}
	gauge := func(name, help string, v func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "dbfence", Subsystem: "audit", Name: name, Help: help}, v)
	}
	collectors := []prometheus.Collector{
		counter("records_total", "Records written, including the log's own.", s.records.Load),
		counter("bytes_total", "Bytes written to audit files.", s.bytes.Load),
		counter("fsyncs_total", "Successful fsyncs of audit files.", s.fsyncs.Load),
		counter("write_errors_total", "Failed writes, fsyncs and file creations.", s.writeErrors.Load),
		counter("dropped_queue_total", "Buffered mode: records refused because the queue was full.", s.droppedQueue.Load),
		counter("dropped_write_total", "Buffered mode: records lost to write errors.", s.droppedWrite.Load),
		counter("subscriber_drops_total", "Lines not delivered to slow live subscribers.", s.subscriberDrops.Load),
		l.fsyncSeconds,
		gauge("queue_depth", "Records waiting for the writer.", func() float64 { return float64(len(l.queue)) }),
		gauge("healthy", "1 when the last write succeeded, 0 when degraded.", func() float64 {
			if l.health.Load().OK {
				return 1
			}
			return 0
		}),
	}
	for i, c := range collectors {
		if err := reg.Register(c); err != nil {
			for _, done := range collectors[:i] {
				reg.Unregister(done)
			}
			return err
		}
	}
	return nil
}
