package audit

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Errors returned by Record and Close.
var (
	// ErrClosed is returned by Record after Close.
	ErrClosed = errors.New("audit: log is closed")
	// ErrDropped is returned by Record in buffered mode when the queue is
	// full. The drop is counted and an audit_dropped record summarizes it;
	// callers that chose buffered mode normally carry on.
	ErrDropped = errors.New("audit: queue full, record dropped")
	// ErrInvalidEvent is returned for a nil event, an empty type, or a type
	// reserved to the log itself.
	ErrInvalidEvent = errors.New("audit: invalid event")
)

// Log is an open audit directory with its single writer goroutine.
//
// Record is safe for concurrent use by any number of sessions. Subscribe,
// Health and Stats are safe at any time. Close must be called exactly once;
// it waits for queued records and returns the final write error, if any.
type Log struct {
	cfg     Config
	logger  *zap.Logger
	sealer  *literalSealer
	litMode literalMode

	queue chan *pending
	quit  chan struct{}
	done  chan struct{}

	// mu orders Record's enqueue against Close, so that no record is sent
	// after the writer drained the queue for the last time.
	mu       sync.RWMutex
	closed   bool
	closeErr error

	pool sync.Pool // of *pending

	health atomic.Pointer[Health]
	stats  counters
	// fsyncSeconds is how long each fsync of an audit file took, failed
	// ones included: on a slow or virtual disk it is what strict latency
	// and buffered mode's CPU follow.
	fsyncSeconds prometheus.Histogram

	subMu sync.Mutex
	subs  atomic.Pointer[[]*subscriber]

	syslog *SyslogForwarder // nil unless Config.Syslog
	kafka  *KafkaForwarder  // nil unless Config.Kafka
}

// counters are the log's statistics; see Stats.
type counters struct {
	records, bytes, fsyncs, writeErrors atomic.Uint64
	droppedQueue, droppedWrite          atomic.Uint64 // totals
	// unreported drops, written as an audit_dropped record when possible
	pendingDropQueue, pendingDropWrite atomic.Uint64
	subscriberDrops                    atomic.Uint64
}

// pending is one encoded record on its way to the writer.
type pending struct {
	body []byte // JSON members after `"seq":N,`
	// litAt is where in body the writer inserts literals_enc, the sealed
	// form of plain (-1: no literals to seal). Sealing in the writer's
	// batch loop, where the SM4 and GHASH tables stay in cache, costs about
	// a third of what it costs between a session's socket calls.
	litAt int
	plain []byte     // JSON array of the literals to seal
	meta  recordMeta // for subscriber filters
	done  chan error // strict mode: the writer sends the outcome
}

// recordMeta is what subscriber filters match on.
type recordMeta struct {
	typ                     EventType
	user, decision, session string
}

// Health is the writer's state.
type Health struct {
	// OK is false after a write, fsync or file creation error until a later
	// write succeeds.
	OK bool
	// Status is "ok" or "degraded".
	Status string
	// LastError is the most recent write error ("" when none yet).
	LastError string
	// Since is when the current status began.
	Since time.Time
}

// Stats are cumulative counters since Open.
type Stats struct {
	Records         uint64 // records written (including the log's own)
	Bytes           uint64 // bytes written
	Fsyncs          uint64 // successful fsyncs
	WriteErrors     uint64 // failed writes, fsyncs and file creations
	DroppedQueue    uint64 // buffered mode: records refused because the queue was full
	DroppedWrite    uint64 // buffered mode: records lost to write errors
	SubscriberDrops uint64 // lines not delivered to slow subscribers
	QueueDepth      int    // records waiting for the writer now
}

// Open validates cfg, loads the keys, recovers the directory (see the
// package documentation) and starts the writer. logger may be nil.
func Open(cfg Config, logger *zap.Logger) (*Log, error) {
	if err := cfg.CheckAndSetDefaults(); err != nil {
		return nil, err
	}
	keys, err := cfg.loadKeys()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	l := &Log{
		cfg:    cfg,
		logger: logger.Named("audit"),
		queue:  make(chan *pending, cfg.QueueSize),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		fsyncSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "dbfence", Subsystem: "audit", Name: "fsync_duration_seconds",
			Help:    "Time each fsync of an audit file took, failed ones included.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16), // 100 µs to 3.3 s
		}),
	}
	switch {
	case keys.SM4 != nil:
		if l.sealer, err = newLiteralSealer(keys.SM4); err != nil {
			return nil, err
		}
		l.litMode = literalsSealed
	case cfg.PlaintextLiterals:
		l.litMode = literalsPlain
	}
	l.pool.New = func() any { return &pending{done: make(chan error, 1), body: make([]byte, 0, 1024)} }
	l.health.Store(&Health{OK: true, Status: "ok", Since: cfg.Now()})
	w := newWriter(l, keys)
	if err := w.openDir(); err != nil {
		w.unlockDir()
		return nil, err
	}
	w.applyRetention(cfg.Now())
	l.logger.Info("audit log open", zap.String("dir", cfg.Dir), zap.String("file", w.name),
		zap.Uint64("seq", w.state.seq), zap.String("mode", string(cfg.Mode)))
	go w.run()
	if cfg.Syslog != nil {
		if l.syslog, err = StartSyslog(cfg.Dir, *cfg.Syslog, logger); err != nil {
			return nil, errors.Join(err, l.Close())
		}
	}
	if cfg.Kafka != nil {
		if l.kafka, err = StartKafka(cfg.Dir, *cfg.Kafka, logger); err != nil {
			return nil, errors.Join(err, l.Close())
		}
	}
	if cfg.Registerer != nil {
		if err := l.registerMetrics(cfg.Registerer); err != nil {
			// Stop cleanly (audit_stop, close checkpoint) rather than leave
			// an unclean tail behind.
			return nil, errors.Join(fmt.Errorf("audit: register metrics: %w", err), l.Close())
		}
	}
	return l, nil
}

// Record encodes e and hands it to the writer. e is not retained.
//
// Strict mode: Record returns nil only once the record is fsynced; an error
// means it is not in the log (the proxy must refuse the statement).
// Buffered mode: Record returns nil once the record is queued, ErrDropped if
// the queue was full.
func (l *Log) Record(e *Event) error {
	if e == nil || e.Type == "" {
		return ErrInvalidEvent
	}
	if e.Type.internal() {
		return fmt.Errorf("%w: type %q is written by the log itself", ErrInvalidEvent, e.Type)
	}
	p := l.pool.Get().(*pending)
	if err := l.encode(p, e); err != nil {
		l.putPending(p)
		return err
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		l.putPending(p)
		return ErrClosed
	}
	if l.cfg.Mode == ModeStrict {
		l.queue <- p
		l.mu.RUnlock()
		err := <-p.done
		l.putPending(p)
		return err
	}
	select {
	case l.queue <- p:
		l.mu.RUnlock()
		return nil
	default:
		l.mu.RUnlock()
		l.stats.droppedQueue.Add(1)
		l.stats.pendingDropQueue.Add(1)
		l.putPending(p)
		return ErrDropped
	}
}

// encode fills p from e in the caller's goroutine, so the writer only seals
// the literals and frames.
func (l *Log) encode(p *pending, e *Event) error {
	ev := *e
	if ev.Time.IsZero() {
		ev.Time = l.cfg.Now()
	}
	p.plain = p.plain[:0]
	if l.litMode == literalsSealed && len(ev.Literals) > 0 {
		var err error
		if p.plain, err = appendLiteralsPlain(p.plain, ev.Literals); err != nil {
			return fmt.Errorf("audit: encrypt literals: %w", err)
		}
	}
	p.body, p.litAt = appendEventBody(p.body[:0], &ev, l.litMode)
	p.meta = recordMeta{typ: ev.Type, user: ev.User, decision: ev.Decision, session: ev.SessionID}
	return nil
}

const maxPooledBody = 64 << 10

func (l *Log) putPending(p *pending) {
	if cap(p.body)+cap(p.plain) > maxPooledBody {
		return
	}
	p.meta = recordMeta{}
	l.pool.Put(p)
}

// Close stops accepting records, writes everything queued, an audit_stop
// record and a final checkpoint, fsyncs and closes the file, and closes all
// subscriptions. It returns the first error that prevented this.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	<-l.done
	l.closeSubscribers()
	// Records the forwarders have not forwarded yet are sent by the next
	// ones, which resume from their cursors.
	err := l.closeErr
	if l.syslog != nil {
		err = errors.Join(err, l.syslog.Close())
	}
	if l.kafka != nil {
		err = errors.Join(err, l.kafka.Close())
	}
	return err
}

// Health returns the writer's current state.
func (l *Log) Health() Health { return *l.health.Load() }

func (l *Log) setHealthy(now time.Time) {
	if h := l.health.Load(); !h.OK {
		l.health.Store(&Health{OK: true, Status: "ok", LastError: h.LastError, Since: now})
		l.logger.Info("audit log recovered", zap.String("last_error", h.LastError))
	}
}

func (l *Log) setDegraded(now time.Time, err error) {
	l.stats.writeErrors.Add(1)
	since := now
	if h := l.health.Load(); !h.OK {
		since = h.Since
	}
	l.health.Store(&Health{OK: false, Status: "degraded", LastError: err.Error(), Since: since})
	l.logger.Error("audit log write failed", zap.Error(err))
}

// Stats returns the counters.
func (l *Log) Stats() Stats {
	s := &l.stats
	return Stats{
		Records:         s.records.Load(),
		Bytes:           s.bytes.Load(),
		Fsyncs:          s.fsyncs.Load(),
		WriteErrors:     s.writeErrors.Load(),
		DroppedQueue:    s.droppedQueue.Load(),
		DroppedWrite:    s.droppedWrite.Load(),
		SubscriberDrops: s.subscriberDrops.Load(),
		QueueDepth:      len(l.queue),
	}
}

var pid = os.Getpid()
