package audit

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"go.uber.org/zap"
)

// KafkaConfig configures the Kafka forwarder.
type KafkaConfig struct {
	// Brokers are the bootstrap brokers, host:port each. Required.
	Brokers []string `yaml:"brokers"`
	// Topic receives the records. Required. It must exist unless the
	// brokers create topics automatically.
	Topic string `yaml:"topic"`
	// ClientID is the Kafka client.id. Default "dbfence-audit".
	ClientID string `yaml:"client_id"`
	// TLS, when set (even empty: `tls: {}`), connects with TLS.
	TLS *KafkaTLSConfig `yaml:"tls"`
	// SASL, when set, authenticates with SASL.
	SASL *KafkaSASLConfig `yaml:"sasl"`
	// CursorFile records the seq of the last record the brokers
	// acknowledged, so that a restarted forwarder resumes after it.
	// Default <dir>/kafka.cursor.
	CursorFile string `yaml:"cursor_file"`
	// RetryInterval is the first wait after a failed produce; it doubles on
	// each further failure up to 30 times itself. The client's own retries
	// scale with it: it waits a quarter of it, doubling up to 5 times it,
	// before it retries a request or a connection, and refreshes metadata
	// at most every 5 times it (at most 5s). Default 1s.
	RetryInterval time.Duration `yaml:"retry_interval"`
	// DeliveryTimeout is how long records may wait for an acknowledgement
	// before the broker is considered down (and, if they were not sent yet,
	// the attempt fails and is retried). Default 30s, minimum 1s.
	DeliveryTimeout time.Duration `yaml:"delivery_timeout"`
}

// KafkaTLSConfig configures TLS towards the brokers.
type KafkaTLSConfig struct {
	// CAFile is a PEM bundle to verify the brokers; empty uses the system pool.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// brokers that require TLS client authentication. Both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the brokers' certificates;
	// empty checks each broker's host name.
	ServerName string `yaml:"server_name"`
}

// KafkaSASLConfig configures SASL authentication.
type KafkaSASLConfig struct {
	// Mechanism is plain, scram-sha-256 or scram-sha-512 (case does not
	// matter). PLAIN sends the password as is: use it with TLS.
	Mechanism string `yaml:"mechanism"`
	// User is the SASL user name.
	User string `yaml:"user"`
	// PasswordFile holds the password (one trailing newline is ignored).
	PasswordFile string `yaml:"password_file"`
}

// Kafka SASL mechanisms accepted in KafkaSASLConfig.Mechanism.
const (
	KafkaSASLPlain       = "plain"
	KafkaSASLScramSHA256 = "scram-sha-256"
	KafkaSASLScramSHA512 = "scram-sha-512"
)

// Kafka record headers set by the forwarder.
const (
	KafkaHeaderSeq  = "dbfence-seq"  // the record's seq, decimal
	KafkaHeaderType = "dbfence-type" // the record's type
)

const (
	defaultKafkaClientID        = "dbfence-audit"
	defaultKafkaRetryInterval   = time.Second
	defaultKafkaDeliveryTimeout = 30 * time.Second
	// A batch is what is read from the files without waiting, at most this
	// many records or bytes; it is produced and acknowledged as a whole.
	kafkaBatchRecords = 1000
	kafkaBatchBytes   = 4 << 20
	// While records flow the cursor is saved at most this often; it is
	// also saved whenever the forwarder has caught up, and on Close.
	kafkaCursorInterval = time.Second
)

// check validates c without changing it. Every problem is reported.
func (c *KafkaConfig) check() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("audit: kafka.brokers is required when kafka is configured (a list of host:port)"))
	}
	for i, b := range c.Brokers {
		host, port, err := net.SplitHostPort(b)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("audit: kafka.brokers[%d] %q: want host:port", i, b))
		}
	}
	switch {
	case c.Topic == "":
		errs = append(errs, errors.New("audit: kafka.topic is required when kafka is configured"))
	case !validKafkaTopic(c.Topic):
		errs = append(errs, fmt.Errorf("audit: kafka.topic %q: want 1 to 249 of the characters a-z A-Z 0-9 . _ - (not . or ..)", c.Topic))
	}
	if c.RetryInterval < 0 {
		errs = append(errs, fmt.Errorf("audit: kafka.retry_interval %v: must be positive", c.RetryInterval))
	}
	if c.DeliveryTimeout != 0 && c.DeliveryTimeout < time.Second {
		errs = append(errs, fmt.Errorf("audit: kafka.delivery_timeout %v: want at least 1s", c.DeliveryTimeout))
	}
	if t := c.TLS; t != nil && (t.CertFile == "") != (t.KeyFile == "") {
		errs = append(errs, errors.New("audit: kafka.tls.cert_file and kafka.tls.key_file must be set together"))
	}
	if s := c.SASL; s != nil {
		switch strings.ToLower(s.Mechanism) {
		case KafkaSASLPlain, KafkaSASLScramSHA256, KafkaSASLScramSHA512:
		case "":
			errs = append(errs, errors.New("audit: kafka.sasl.mechanism is required when sasl is configured (plain, scram-sha-256 or scram-sha-512)"))
		default:
			errs = append(errs, fmt.Errorf("audit: kafka.sasl.mechanism %q: want plain, scram-sha-256 or scram-sha-512", s.Mechanism))
		}
		if s.User == "" {
			errs = append(errs, errors.New("audit: kafka.sasl.user is required when sasl is configured"))
		}
		if s.PasswordFile == "" {
			errs = append(errs, errors.New("audit: kafka.sasl.password_file is required when sasl is configured"))
		}
	}
	return errors.Join(errs...)
}

// validKafkaTopic applies Kafka's rules for topic names.
func validKafkaTopic(t string) bool {
	if len(t) > 249 || t == "." || t == ".." {
		return false
	}
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return t != ""
}

// KafkaForwarder sends the records of an audit directory to a Kafka topic.
// Like SyslogForwarder it follows the files, not the writer's queue, so it
// can never slow the writer down or lose a local record: while the brokers
// are unreachable it retries with backoff, then catches up from the files.
//
// Each record is one Kafka record whose value is the JSON line exactly as
// written (without the newline), whose key is the record's session_id (no
// key for records without one: checkpoints, audit_start, ...), so that the
// records of a session stay in one partition and in order, and whose
// headers are dbfence-seq and dbfence-type. Across partitions, order by seq.
// The Kafka timestamp is the time of sending, not the record's time, so
// that a late catch-up is neither refused by brokers that bound timestamps
// nor deleted at once by the topic's retention.
//
// The producer is idempotent and waits for all in-sync replicas (acks=all).
// The cursor file advances only over records the brokers acknowledged.
// Delivery is at least once: after a failed attempt, records of the batch
// that other partitions had accepted are sent again, and after a crash
// (not a Close) the records acknowledged since the cursor was last saved,
// about a second's worth, are sent again. Consumers deduplicate by seq.
// A record Kafka refuses as too large (over about 1 MB) can never be
// delivered: it is skipped, logged and counted in KafkaStats.Rejected; it stays
// in the local log.
type KafkaForwarder struct {
	dir    string
	cfg    KafkaConfig
	logger *zap.Logger
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
	err    error

	sent     atomic.Uint64
	failures atomic.Uint64
	rejected atomic.Uint64
	lastSeq  atomic.Uint64

	mu        sync.Mutex // guards down and downSince
	down      bool
	downSince time.Time
}

// KafkaStats are the forwarder's counters.
type KafkaStats struct {
	Sent     uint64 // records the brokers acknowledged (including re-sends)
	Failures uint64 // failed produce attempts, each retried after a backoff
	Rejected uint64 // records skipped because Kafka refuses them as too large
	LastSeq  uint64 // seq of the last acknowledged record (or the cursor's at start)
	// Lag is the number of records in the log after LastSeq (from the
	// newest file's last complete line; 0 when it cannot be read).
	Lag uint64
	// Down is true from a failed or overdue produce until the next
	// acknowledgement.
	Down bool
}

// StartKafka starts forwarding dir to cfg.Topic from the seq after the one
// in the cursor file (from the beginning of the log if there is none).
// Close stops it.
func StartKafka(dir string, cfg KafkaConfig, logger *zap.Logger) (*KafkaForwarder, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		cfg.ClientID = defaultKafkaClientID
	}
	if cfg.CursorFile == "" {
		cfg.CursorFile = filepath.Join(dir, "kafka.cursor")
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = defaultKafkaRetryInterval
	}
	if cfg.DeliveryTimeout == 0 {
		cfg.DeliveryTimeout = defaultKafkaDeliveryTimeout
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	f := &KafkaForwarder{dir: dir, cfg: cfg, logger: logger.Named("audit-kafka"), done: make(chan struct{})}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(cfg.ClientID),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), // the default, and required by idempotence
		kgo.RecordDeliveryTimeout(cfg.DeliveryTimeout),
		kgo.RetryBackoffFn(kafkaBackoff(cfg.RetryInterval)),
		// After an error the client refreshes metadata before it retries,
		// but not sooner than this after the last refresh.
		kgo.MetadataMinAge(min(5*cfg.RetryInterval, 5*time.Second)),
	}
	if cfg.TLS != nil {
		tc, err := kafkaTLS(cfg.TLS)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if cfg.SASL != nil {
		mech, err := kafkaSASL(cfg.SASL)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(mech))
		if cfg.TLS == nil && strings.EqualFold(cfg.SASL.Mechanism, KafkaSASLPlain) {
			f.logger.Warn("audit kafka: SASL PLAIN without TLS sends the password in clear")
		}
	}
	from, err := readCursorFile(cfg.CursorFile, "kafka")
	if err != nil {
		return nil, err
	}
	// The client connects lazily: nothing here needs a broker.
	if f.cl, err = kgo.NewClient(opts...); err != nil {
		return nil, fmt.Errorf("audit: kafka client: %w", err)
	}
	if head := headSeq(dir); head > 0 && from > head {
		f.logger.Warn("audit kafka: the cursor is ahead of the log, records up to it will not be sent; "+
			"if the log directory was replaced, delete the cursor file",
			zap.String("cursor_file", cfg.CursorFile), zap.Uint64("cursor", from), zap.Uint64("log_seq", head))
	}
	f.lastSeq.Store(from)
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	go f.run(ctx, from)
	return f, nil
}

// kafkaBackoff is the client's wait before it retries a request or a
// connection: a quarter of the retry interval, doubling up to 5 times it,
// ±20% (with the default 1s, kgo's own default: 250ms to 5s).
func kafkaBackoff(interval time.Duration) func(int) time.Duration {
	return func(fails int) time.Duration {
		d := interval / 4
		for i := 1; i < fails && d < 5*interval; i++ {
			d *= 2
		}
		d = min(d, 5*interval)
		return d - d/5 + time.Duration(rand.Int64N(int64(d/5)*2+1))
	}
}

func kafkaTLS(c *KafkaTLSConfig) (*tls.Config, error) {
	tc := &tls.Config{ServerName: c.ServerName, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("audit: kafka CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("audit: kafka CA %s: no certificates", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("audit: kafka client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func kafkaSASL(c *KafkaSASLConfig) (sasl.Mechanism, error) {
	data, err := os.ReadFile(c.PasswordFile)
	if err != nil {
		return nil, fmt.Errorf("audit: kafka SASL password: %w", err)
	}
	pass := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if pass == "" {
		return nil, fmt.Errorf("audit: kafka SASL password file %s is empty", c.PasswordFile)
	}
	switch strings.ToLower(c.Mechanism) {
	case KafkaSASLPlain:
		return plain.Auth{User: c.User, Pass: pass}.AsMechanism(), nil
	case KafkaSASLScramSHA256:
		return scram.Auth{User: c.User, Pass: pass}.AsSha256Mechanism(), nil
	default: // KafkaSASLScramSHA512; check rejected the rest
		return scram.Auth{User: c.User, Pass: pass}.AsSha512Mechanism(), nil
	}
}

// Close stops the forwarder and saves the cursor. Records read but not yet
// acknowledged are abandoned; the next forwarder sends them again.
func (f *KafkaForwarder) Close() error {
	f.cancel()
	<-f.done
	return f.err
}

// Stats returns the counters. Lag reads the tail of the newest file.
func (f *KafkaForwarder) Stats() KafkaStats {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	s := KafkaStats{
		Sent: f.sent.Load(), Failures: f.failures.Load(), Rejected: f.rejected.Load(),
		LastSeq: f.lastSeq.Load(), Down: down,
	}
	if head := headSeq(f.dir); head > s.LastSeq {
		s.Lag = head - s.LastSeq
	}
	return s
}

// kafkaItem is one record on its way to Kafka.
type kafkaItem struct {
	seq   uint64
	key   []byte // session_id, nil when empty
	typ   string
	value []byte // the line, copied
}

func (it *kafkaItem) record() *kgo.Record {
	return &kgo.Record{
		Key:   it.key,
		Value: it.value,
		Headers: []kgo.RecordHeader{
			{Key: KafkaHeaderSeq, Value: strconv.AppendUint(nil, it.seq, 10)},
			{Key: KafkaHeaderType, Value: []byte(it.typ)},
		},
	}
}

// kafkaRun is the state of run.
type kafkaRun struct {
	acked     uint64 // every record with seq <= acked is acknowledged (or rejected)
	saved     uint64 // cursor on disk
	savedAt   time.Time
	backoff   time.Duration
	warnedDir bool
}

// run forwards records with seq > after until ctx ends.
func (f *KafkaForwarder) run(ctx context.Context, after uint64) {
	defer close(f.done)
	// Closing the client fails what it still holds, so that Close does not
	// wait for an unreachable broker.
	closeClient := sync.OnceFunc(f.cl.Close)
	stop := context.AfterFunc(ctx, closeClient)
	st := &kafkaRun{acked: after, saved: after, savedAt: time.Now(), backoff: f.cfg.RetryInterval}
	defer func() {
		stop()
		closeClient()
		if err := writeCursorFile(f.cfg.CursorFile, st.acked); err != nil {
			f.err = fmt.Errorf("audit: kafka cursor: %w", err)
		}
	}()
	for ctx.Err() == nil {
		r, err := NewReader(f.dir, ReadOptions{Follow: true, AfterSeq: st.acked})
		if err != nil {
			if !st.warnedDir {
				f.logger.Error("audit kafka: open log", zap.Error(err))
				st.warnedDir = true
			}
			if !sleepCtx(ctx, f.cfg.RetryInterval) {
				return
			}
			continue
		}
		st.warnedDir = false
		for ctx.Err() == nil {
			batch, err := f.readBatch(ctx, r, st)
			if err != nil {
				if ctx.Err() == nil {
					f.logger.Warn("audit kafka: read log; reopening", zap.Error(err))
					sleepCtx(ctx, f.cfg.RetryInterval)
				}
				break
			}
			if !f.deliver(ctx, batch, st) {
				break
			}
			if st.acked != st.saved && time.Since(st.savedAt) >= kafkaCursorInterval {
				f.saveCursor(st)
			}
		}
		r.Close()
	}
}

// readBatch returns the records that follow st.acked and can be read
// without waiting (at least one: it waits for the first, saving the cursor
// first since the forwarder has caught up then).
func (f *KafkaForwarder) readBatch(ctx context.Context, r *Reader, st *kafkaRun) ([]kafkaItem, error) {
	var batch []kafkaItem
	last, size := st.acked, 0
	r.SetFollow(false)
	for len(batch) < kafkaBatchRecords && size < kafkaBatchBytes {
		rec, line, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			if len(batch) > 0 {
				return batch, nil
			}
			if st.acked != st.saved {
				f.saveCursor(st)
			}
			r.SetFollow(true)
			rec, line, err = r.Next(ctx)
			r.SetFollow(false)
		}
		var le *LineError
		if errors.As(err, &le) {
			continue // not a record; Verify reports it
		}
		if err != nil {
			if len(batch) > 0 && ctx.Err() == nil {
				return batch, nil
			}
			return nil, err
		}
		if rec.Seq <= last {
			continue
		}
		it := kafkaItem{seq: rec.Seq, typ: string(rec.Type), value: bytes.Clone(line)}
		if rec.SessionID != "" {
			it.key = []byte(rec.SessionID)
		}
		batch = append(batch, it)
		last, size = rec.Seq, size+len(line)
	}
	return batch, nil
}

// deliver produces batch until every record is acknowledged (true) or ctx
// ends (false).
func (f *KafkaForwarder) deliver(ctx context.Context, batch []kafkaItem, st *kafkaRun) bool {
	for len(batch) > 0 {
		n, err := f.produce(ctx, batch, st)
		batch = batch[n:]
		if ctx.Err() != nil {
			return false
		}
		if err == nil {
			f.markUp()
			st.backoff = f.cfg.RetryInterval
			continue
		}
		f.failures.Add(1)
		f.markDown(err)
		if !sleepCtx(ctx, st.backoff) {
			return false
		}
		st.backoff = min(2*st.backoff, 30*f.cfg.RetryInterval)
	}
	return true
}

var errKafkaOverdue = errors.New("records not acknowledged within delivery_timeout")

// produce sends batch and waits for the outcome. It returns how many
// leading records are done (acknowledged, or rejected as too large) and,
// when that is not all of them, why.
func (f *KafkaForwarder) produce(ctx context.Context, batch []kafkaItem, st *kafkaRun) (int, error) {
	recs := make([]*kgo.Record, len(batch))
	index := make(map[*kgo.Record]int, len(batch))
	for i := range batch {
		recs[i] = batch[i].record()
		index[recs[i]] = i
	}
	// In-flight records of an idempotent producer are never failed (the
	// client cannot know whether the broker wrote them): a broker that dies
	// holding them blocks ProduceSync until it is back. Say so.
	fired := make(chan struct{})
	overdue := time.AfterFunc(f.cfg.DeliveryTimeout, func() {
		f.markDown(errKafkaOverdue)
		close(fired)
	})
	results := f.cl.ProduceSync(ctx, recs...)
	if !overdue.Stop() {
		<-fired // so that a late markDown cannot follow our markUp
	}
	errs := make([]error, len(batch))
	for _, res := range results {
		errs[index[res.Record]] = res.Err
	}
	for i := range batch {
		switch err := errs[i]; {
		case err == nil:
			f.ack(st, batch[i].seq, true)
		case !kafkaTooLarge(err):
			return i, err
		case len(batch) > 1:
			// The broker may refuse a whole batch as too large: only a
			// record refused on its own is skipped.
			if n, err := f.produce(ctx, batch[i:i+1], st); n == 0 {
				return i, err
			}
		default:
			f.rejected.Add(1)
			f.logger.Error("audit kafka: record refused as too large; skipped (it stays in the local log)",
				zap.Uint64("seq", batch[i].seq), zap.Int("bytes", len(batch[i].value)), zap.Error(err))
			f.ack(st, batch[i].seq, false)
		}
	}
	return len(batch), nil
}

func (f *KafkaForwarder) ack(st *kafkaRun, seq uint64, sent bool) {
	if sent {
		f.sent.Add(1)
	}
	st.acked = seq
	f.lastSeq.Store(seq)
}

func kafkaTooLarge(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge)
}

func (f *KafkaForwarder) saveCursor(st *kafkaRun) {
	if err := writeCursorFile(f.cfg.CursorFile, st.acked); err != nil {
		f.logger.Warn("audit kafka: save cursor", zap.Error(err))
		return
	}
	st.saved, st.savedAt = st.acked, time.Now()
}

// markDown logs one warning when the brokers stop acknowledging.
func (f *KafkaForwarder) markDown(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return
	}
	f.down, f.downSince = true, time.Now()
	f.logger.Warn("audit kafka: brokers unreachable or not acknowledging; records stay in the local log and are sent when they are back",
		zap.Strings("brokers", f.cfg.Brokers), zap.String("topic", f.cfg.Topic),
		zap.Uint64("acknowledged_seq", f.lastSeq.Load()), zap.Error(err))
}

// markUp logs one info when the brokers acknowledge again.
func (f *KafkaForwarder) markUp() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.down {
		return
	}
	f.down = false
	f.logger.Info("audit kafka: brokers back; catching up from the files",
		zap.Duration("down_for", time.Since(f.downSince).Round(time.Millisecond)),
		zap.Uint64("acknowledged_seq", f.lastSeq.Load()))
}

// readCursorFile reads a forwarder cursor: the seq of the last record
// handed over. A missing file is seq 0.
func readCursorFile(path, what string) (uint64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("audit: %s cursor: %w", what, err)
	}
	seq, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("audit: %s cursor %s: %w (fix or delete it; deleting re-sends the whole log)", what, path, err)
	}
	return seq, nil
}

// writeCursorFile replaces the cursor atomically; the new content is synced
// before the rename so that a crash leaves the old or the new cursor.
func writeCursorFile(path string, seq uint64) error {
	tmp := path + ".tmp"
	fd, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = fd.Write(strconv.AppendUint(nil, seq, 10))
	if err == nil {
		_, err = fd.Write([]byte{'\n'})
	}
	if err == nil {
		err = fd.Sync()
	}
	if cerr := fd.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// headSeq returns the seq of the last complete record of the log (0 if
// there is none or it cannot be read), from the tail of the newest files.
func headSeq(dir string) uint64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	files := listLogFiles(entries)
	// A file just started may not hold a complete line yet.
	for i := len(files) - 1; i >= 0 && i >= len(files)-2; i-- {
		if seq, ok := lastSeqOf(filepath.Join(dir, files[i].name)); ok {
			return seq
		}
	}
	return 0
}

func lastSeqOf(path string) (uint64, bool) {
	fd, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer fd.Close()
	fi, err := fd.Stat()
	if err != nil {
		return 0, false
	}
	size := fi.Size()
	for window := int64(64 << 10); window <= 64<<20; window *= 4 {
		off := max(size-window, 0)
		buf := make([]byte, size-off)
		if _, err := fd.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return 0, false
		}
		end := bytes.LastIndexByte(buf, '\n')
		if end < 0 && off == 0 {
			return 0, false
		}
		start := bytes.LastIndexByte(buf[:max(end, 0)], '\n') + 1
		if end < 0 || (start == 0 && off > 0) {
			continue // the last line starts before the window
		}
		rest, ok := bytes.CutPrefix(buf[start:end], []byte(`{"seq":`))
		if !ok {
			return 0, false
		}
		digits, _, _ := bytes.Cut(rest, []byte{','})
		seq, err := strconv.ParseUint(string(digits), 10, 64)
		return seq, err == nil
	}
	return 0, false
}

var _ io.Closer = (*KafkaForwarder)(nil)
