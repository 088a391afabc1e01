package audit

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"
)

const testTopic = "dbfence.audit"

// kafkaCluster is a one-broker kfake cluster that can be stopped and
// restarted on the same port with its data (DataDir), or made to fail
// produce requests while failing is set.
type kafkaCluster struct {
	t       *testing.T
	opts    []kfake.Opt
	dataDir string
	port    int
	c       *kfake.Cluster
	addr    string
	// failing: nil passes produce requests through; otherwise the control
	// function answers them with it (see failProduce).
	failing atomic.Pointer[func(*kmsg.ProduceRequest) (kmsg.Response, error)]
}

func newKafkaCluster(t *testing.T, partitions int32, opts ...kfake.Opt) *kafkaCluster {
	k := &kafkaCluster{t: t, opts: opts, dataDir: t.TempDir()}
	k.start(kfake.SeedTopics(partitions, testTopic))
	t.Cleanup(k.stop)
	return k
}

func (k *kafkaCluster) start(extra ...kfake.Opt) {
	k.t.Helper()
	opts := append([]kfake.Opt{kfake.NumBrokers(1), kfake.DataDir(k.dataDir)}, k.opts...)
	if k.port != 0 {
		opts = append(opts, kfake.Ports(k.port))
	}
	opts = append(opts, extra...)
	var c *kfake.Cluster
	var err error
	for range 250 { // the port may linger briefly after a stop
		if c, err = kfake.NewCluster(opts...); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		k.t.Fatal(err)
	}
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fail := k.failing.Load()
		if fail == nil {
			return nil, nil, false // handled by the cluster as usual
		}
		c.KeepControl()
		resp, err := (*fail)(req.(*kmsg.ProduceRequest))
		return resp, err, true
	})
	k.c, k.addr = c, c.ListenAddrs()[0]
	_, port, _ := net.SplitHostPort(k.addr)
	k.port, _ = strconv.Atoi(port)
}

func (k *kafkaCluster) stop() {
	if k.c != nil {
		k.c.Close()
		k.c = nil
	}
}

// failProduce answers every partition of a produce request with code.
func failProduce(code int16) func(*kmsg.ProduceRequest) (kmsg.Response, error) {
	return func(req *kmsg.ProduceRequest) (kmsg.Response, error) {
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil
	}
}

// consumeKafka reads the topic from the start until it has at least want
// records, then briefly for any extra ones.
func consumeKafka(t *testing.T, addr string, want int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumeTopics(testTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	deadline := time.Now().Add(10 * time.Second)
	for extra := false; ; {
		wait := time.Until(deadline)
		if extra {
			wait = 300 * time.Millisecond
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("consume: %v", err)
			}
		})
		recs = append(recs, fs.Records()...)
		switch {
		case extra && ctx.Err() != nil:
			return recs
		case len(recs) >= want:
			extra = true
		case time.Now().After(deadline):
			t.Fatalf("consumed %d records, want %d", len(recs), want)
		}
	}
}

type localRecord struct {
	seq     uint64
	typ     string
	session string
	line    []byte
}

// localLog returns the records of dir as the forwarder must send them.
func localLog(t *testing.T, dir string) []localRecord {
	t.Helper()
	r, err := NewReader(dir, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []localRecord
	for {
		rec, line, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, localRecord{rec.Seq, string(rec.Type), rec.SessionID, bytes.Clone(line)})
	}
}

func headerSeq(t *testing.T, r *kgo.Record) uint64 {
	t.Helper()
	for _, h := range r.Headers {
		if h.Key == KafkaHeaderSeq {
			seq, err := strconv.ParseUint(string(h.Value), 10, 64)
			if err != nil {
				t.Fatalf("seq header %q", h.Value)
			}
			return seq
		}
	}
	t.Fatalf("record without %s header: %s", KafkaHeaderSeq, r.Value)
	return 0
}

// checkDelivered asserts that got (consumed from one partition, in offset
// order) holds every record of dir, byte for byte, in seq order, once
// duplicates are dropped. It returns the number of duplicates.
func checkDelivered(t *testing.T, dir string, got []*kgo.Record) (dups int) {
	t.Helper()
	want := localLog(t, dir)
	seen := map[uint64]bool{}
	var firsts []*kgo.Record
	for _, r := range got {
		seq := headerSeq(t, r)
		if seen[seq] {
			dups++
			continue
		}
		seen[seq] = true
		firsts = append(firsts, r)
	}
	if len(firsts) != len(want) {
		t.Fatalf("delivered %d distinct records, the log holds %d", len(firsts), len(want))
	}
	for i, r := range firsts {
		w := want[i]
		if seq := headerSeq(t, r); seq != w.seq || !bytes.Equal(r.Value, w.line) {
			t.Fatalf("record %d: seq %d value\n%s\nwant seq %d\n%s", i, seq, r.Value, w.seq, w.line)
		}
		if string(r.Key) != w.session || (w.session == "" && r.Key != nil) {
			t.Errorf("seq %d: key %q, want the session id %q", w.seq, r.Key, w.session)
		}
		if len(r.Headers) != 2 || r.Headers[1].Key != KafkaHeaderType || string(r.Headers[1].Value) != w.typ {
			t.Errorf("seq %d: headers %v", w.seq, r.Headers)
		}
	}
	return dups
}

func testKafkaConfig(k *kafkaCluster) KafkaConfig {
	return KafkaConfig{Brokers: []string{k.addr}, Topic: testTopic,
		RetryInterval: 20 * time.Millisecond, DeliveryTimeout: time.Second}
}

func startKafka(t *testing.T, dir string, cfg KafkaConfig, logger *zap.Logger) *KafkaForwarder {
	t.Helper()
	f, err := StartKafka(dir, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// waitCaughtUp waits until the forwarder acknowledged the whole log.
func waitCaughtUp(t *testing.T, f *KafkaForwarder) {
	t.Helper()
	waitFor(t, "forwarder caught up", func() bool {
		s := f.Stats()
		return s.Lag == 0 && s.LastSeq > 0 && s.LastSeq == headSeq(f.dir)
	})
}

// TestKafkaForwarderDelivers: every record of a log (across a rotation)
// arrives once, in order, with its exact bytes, the session id as key and
// the seq/type headers; the cursor ends at the last seq.
func TestKafkaForwarderDelivers(t *testing.T) {
	k := newKafkaCluster(t, 1)
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.RotateBytes = 8192 // a few rotations: the forwarder follows them
	l := openTestLog(t, cfg)
	f := startKafka(t, dir, testKafkaConfig(k), nil)
	writeN(t, l, 1, 60)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(logFiles(t, dir)); n < 3 {
		t.Fatalf("%d files, want rotations", n)
	}
	waitCaughtUp(t, f)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := localLog(t, dir)
	last := want[len(want)-1].seq
	if dups := checkDelivered(t, dir, consumeKafka(t, k.addr, len(want))); dups != 0 {
		t.Errorf("%d duplicates without any failure", dups)
	}
	if s := f.Stats(); s.Sent != uint64(len(want)) || s.Failures != 0 || s.Rejected != 0 || s.LastSeq != last || s.Lag != 0 || s.Down {
		t.Errorf("stats %+v, want %d sent up to seq %d", s, len(want), last)
	}
	if cur, err := readCursorFile(filepath.Join(dir, "kafka.cursor"), "kafka"); err != nil || cur != last {
		t.Errorf("cursor %d (%v), want %d", cur, err, last)
	}
}

// TestKafkaForwarderOutage: the broker goes away mid-way (stopped and
// restarted on the same port with its data; or refusing produce requests
// with a retriable error; or dropping the connection of every produce
// request). Records written meanwhile reach the log at once and the topic
// once the broker is back: none is lost, the log stays healthy and
// verifies, and the forwarder logs one warning and one info.
func TestKafkaForwarderOutage(t *testing.T) {
	tests := []struct {
		desc       string
		down, back func(k *kafkaCluster)
		// needsAttempts: the broker answers with a retriable error, so the
		// records time out and the outage must show as failed attempts,
		// retried. (Records in flight when a connection drops are never
		// failed by an idempotent producer: the forwarder waits for them,
		// and the delivery_timeout watchdog marks the broker down.)
		needsAttempts bool
	}{
		{
			desc: "broker restart",
			down: func(k *kafkaCluster) { k.stop() },
			back: func(k *kafkaCluster) { k.start() },
		},
		{
			desc: "produce refused",
			down: func(k *kafkaCluster) {
				fail := failProduce(kerr.NotEnoughReplicas.Code)
				k.failing.Store(&fail)
			},
			back:          func(k *kafkaCluster) { k.failing.Store(nil) },
			needsAttempts: true,
		},
		{
			desc: "connection dropped",
			down: func(k *kafkaCluster) {
				fail := func(*kmsg.ProduceRequest) (kmsg.Response, error) { return nil, errors.New("dropped") }
				k.failing.Store(&fail)
			},
			back: func(k *kafkaCluster) { k.failing.Store(nil) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			t.Parallel()
			k := newKafkaCluster(t, 1)
			dir := t.TempDir()
			l := openTestLog(t, testConfig(t, dir))
			core, logs := observer.New(zapcore.InfoLevel)
			f := startKafka(t, dir, testKafkaConfig(k), zap.New(core))
			writeN(t, l, 1, 10)
			waitCaughtUp(t, f)

			tc.down(k)
			start := time.Now()
			writeN(t, l, 11, 15)
			if time.Since(start) > 2*time.Second || !l.Health().OK {
				t.Fatalf("the outage reached the local log: %v, health %+v", time.Since(start), l.Health())
			}
			waitFor(t, "outage noticed", func() bool {
				s := f.Stats()
				return s.Down && (!tc.needsAttempts || s.Failures >= 2)
			})
			downAt := f.Stats()
			if downAt.LastSeq >= headSeq(dir) || downAt.Lag == 0 {
				t.Fatalf("records acknowledged during the outage: %+v", downAt)
			}
			writeN(t, l, 26, 5)
			time.Sleep(100 * time.Millisecond)

			tc.back(k)
			waitCaughtUp(t, f)
			if f.Stats().Down {
				t.Error("still down after catching up")
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			mustVerify(t, dir)
			waitCaughtUp(t, f)
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			want := localLog(t, dir)
			dups := checkDelivered(t, dir, consumeKafka(t, k.addr, len(want)))
			t.Logf("stats %+v, %d duplicates", f.Stats(), dups)

			warns := logs.FilterLevelExact(zapcore.WarnLevel).All()
			infos := logs.FilterMessageSnippet("brokers back").All()
			if len(warns) != 1 || len(infos) != 1 {
				for _, e := range logs.All() {
					t.Logf("%s %s %v", e.Level, e.Message, e.ContextMap())
				}
				t.Errorf("logged %d warnings and %d back-infos, want one each", len(warns), len(infos))
			}
		})
	}
}

// TestKafkaCloseWhileDown: Close does not wait for an unreachable broker
// (nor does Log.Close), and the cursor keeps the last acknowledged seq, so
// the next forwarder sends the rest.
func TestKafkaCloseWhileDown(t *testing.T) {
	k := newKafkaCluster(t, 1)
	dir := t.TempDir()
	l := openTestLog(t, testConfig(t, dir))
	f := startKafka(t, dir, testKafkaConfig(k), nil)
	writeN(t, l, 1, 5)
	waitCaughtUp(t, f)
	acked := f.Stats().LastSeq
	k.stop()
	writeN(t, l, 6, 5)
	waitFor(t, "outage noticed", func() bool { return f.Stats().Down })
	start := time.Now()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
	if cur, _ := readCursorFile(filepath.Join(dir, "kafka.cursor"), "kafka"); cur != acked {
		t.Errorf("cursor %d, want the last acknowledged seq %d", cur, acked)
	}
	l.Close()
	k.start()
	f = startKafka(t, dir, testKafkaConfig(k), nil)
	waitCaughtUp(t, f)
	f.Close()
	checkDelivered(t, dir, consumeKafka(t, k.addr, len(localLog(t, dir))))
}

// TestKafkaForwarderResumesFromCursor: a restarted forwarder sends only
// what follows the cursor; a cursor left behind by a crash (older than the
// last acknowledgement) re-sends exactly the records after it.
func TestKafkaForwarderResumesFromCursor(t *testing.T) {
	k := newKafkaCluster(t, 1)
	dir := t.TempDir()
	l := openTestLog(t, testConfig(t, dir))
	kc := testKafkaConfig(k)
	f := startKafka(t, dir, kc, nil)
	writeN(t, l, 1, 20)
	waitCaughtUp(t, f)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	first := f.Stats().Sent

	// Written while no forwarder runs (e.g. during a proxy restart).
	writeN(t, l, 21, 10)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	f2 := startKafka(t, dir, kc, nil)
	waitCaughtUp(t, f2)
	if err := f2.Close(); err != nil {
		t.Fatal(err)
	}
	want := localLog(t, dir)
	if s := f2.Stats(); s.Sent+first != uint64(len(want)) {
		t.Errorf("restart sent %d records, want %d", s.Sent, uint64(len(want))-first)
	}
	if dups := checkDelivered(t, dir, consumeKafka(t, k.addr, len(want))); dups != 0 {
		t.Errorf("restart re-sent %d acknowledged records", dups)
	}

	// Crash boundary: the cursor on disk is older than what was acknowledged.
	cursor := filepath.Join(dir, "kafka.cursor")
	last := want[len(want)-1].seq
	if err := writeCursorFile(cursor, last-5); err != nil {
		t.Fatal(err)
	}
	f3 := startKafka(t, dir, kc, nil)
	waitCaughtUp(t, f3)
	f3.Close()
	if s := f3.Stats(); s.Sent != 5 {
		t.Errorf("after a crash re-sent %d records, want the 5 after the cursor", s.Sent)
	}
	got := consumeKafka(t, k.addr, len(want)+5)
	if dups := checkDelivered(t, dir, got); dups != 5 {
		t.Errorf("%d duplicates, want 5", dups)
	}
	if seq := headerSeq(t, got[len(got)-5]); seq != last-4 {
		t.Errorf("re-sent from seq %d, want %d", seq, last-4)
	}
	if cur, _ := readCursorFile(cursor, "kafka"); cur != last {
		t.Errorf("cursor %d, want %d", cur, last)
	}
}

// TestKafkaFromConfig: Open starts the forwarder from Config.Kafka and
// Close stops it; records of a session share a key, hence a partition, in
// seq order, on a topic with several partitions.
func TestKafkaFromConfig(t *testing.T) {
	k := newKafkaCluster(t, 4)
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	kc := testKafkaConfig(k)
	cfg.Kafka = &kc
	l := openTestLog(t, cfg)
	writeN(t, l, 1, 28)
	waitCaughtUp(t, l.kafka)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	s := l.kafka.Stats()
	if s.Sent < 29 {
		t.Fatalf("stats %+v", s)
	}
	got := consumeKafka(t, k.addr, int(s.Sent))
	partition := map[string]int32{}
	lastSeq := map[string]uint64{}
	for _, r := range got {
		seq := headerSeq(t, r)
		if len(r.Key) == 0 {
			continue
		}
		key := string(r.Key)
		if p, ok := partition[key]; ok && p != r.Partition {
			t.Errorf("session %s in partitions %d and %d", key, p, r.Partition)
		}
		if seq <= lastSeq[key] {
			t.Errorf("session %s: seq %d after %d", key, seq, lastSeq[key])
		}
		partition[key], lastSeq[key] = r.Partition, seq
	}
	if len(partition) != 7 {
		t.Errorf("%d sessions, want 7", len(partition))
	}
	parts := map[int32]bool{}
	for _, p := range partition {
		parts[p] = true
	}
	if len(parts) < 2 {
		t.Errorf("7 sessions all in partition %v", parts)
	}
}

// TestKafkaTLSAndSASL: TLS with a private CA and a server name, and SASL
// PLAIN / SCRAM; a wrong password is a failing sink that retries, not a
// dead one, and delivers once the credentials are right.
func TestKafkaTLSAndSASL(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	tlsCfg := srv.TLS.Clone()
	tlsCfg.NextProtos = nil
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			t.Parallel()
			k := newKafkaCluster(t, 1, kfake.TLS(tlsCfg), kfake.EnableSASL(), kfake.Superuser(mech, "dbfence", "s3cret"))
			pwFile := filepath.Join(t.TempDir(), "pw")
			os.WriteFile(pwFile, []byte("wrong\n"), 0o600)
			dir := t.TempDir()
			l := openTestLog(t, testConfig(t, dir))
			writeN(t, l, 1, 5)
			kc := testKafkaConfig(k)
			kc.TLS = &KafkaTLSConfig{CAFile: ca, ServerName: "example.com"}
			kc.SASL = &KafkaSASLConfig{Mechanism: strings.ToLower(mech), User: "dbfence", PasswordFile: pwFile}
			f := startKafka(t, dir, kc, nil)
			waitFor(t, "authentication failures", func() bool { s := f.Stats(); return s.Down && s.Failures > 0 })
			f.Close()

			os.WriteFile(pwFile, []byte("s3cret\n"), 0o600)
			f = startKafka(t, dir, kc, nil)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			waitCaughtUp(t, f)
			f.Close()
			want := localLog(t, dir)
			clientTLS, err := kafkaTLS(kc.TLS)
			if err != nil {
				t.Fatal(err)
			}
			got := consumeKafka(t, k.addr, len(want), kgo.DialTLSConfig(clientTLS), kgo.SASL(mustSASL(t, kc.SASL)))
			checkDelivered(t, dir, got)
		})
	}
}

func mustSASL(t *testing.T, c *KafkaSASLConfig) sasl.Mechanism {
	m, err := kafkaSASL(c)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestKafkaSkipsTooLargeRecord: a record over the producer's 1 MB limit
// is skipped and counted, and the records after it are delivered.
func TestKafkaSkipsTooLargeRecord(t *testing.T) {
	k := newKafkaCluster(t, 1)
	dir := t.TempDir()
	l := openTestLog(t, testConfig(t, dir))
	writeN(t, l, 1, 3)
	big := statementEvent(4)
	big.Normalized = "SELECT '" + strings.Repeat("x", 1100<<10) + "'"
	if err := l.Record(big); err != nil {
		t.Fatal(err)
	}
	writeN(t, l, 5, 3)
	f := startKafka(t, dir, testKafkaConfig(k), nil)
	waitCaughtUp(t, f)
	f.Close()
	s := f.Stats()
	if s.Rejected != 1 {
		t.Fatalf("stats %+v, want 1 rejected", s)
	}
	got := consumeKafka(t, k.addr, int(s.Sent))
	var seqs []uint64
	for _, r := range got {
		seqs = append(seqs, headerSeq(t, r))
	}
	// seq 1 anchor, 2 audit_start, 3-5 statements, 6 the big one, 7-9.
	want := []uint64{1, 2, 3, 4, 5, 7, 8, 9}
	if !slices.Equal(seqs, want) {
		t.Errorf("delivered seqs %v, want %v", seqs, want)
	}
	l.Close()
}

func TestKafkaConfigCheck(t *testing.T) {
	k := testKeys(t)
	ok := KafkaConfig{Brokers: []string{"kafka-1:9092", "10.0.0.7:9093"}, Topic: "dbfence.audit"}
	with := func(mod func(*KafkaConfig)) *KafkaConfig {
		c := ok
		mod(&c)
		return &c
	}
	tests := []struct {
		desc    string
		kafka   *KafkaConfig
		wantErr []string
	}{
		{desc: "valid", kafka: &ok},
		{desc: "valid with TLS and SASL", kafka: with(func(c *KafkaConfig) {
			c.TLS = &KafkaTLSConfig{CertFile: "c.pem", KeyFile: "k.pem"}
			c.SASL = &KafkaSASLConfig{Mechanism: "SCRAM-SHA-512", User: "u", PasswordFile: "p"}
		})},
		{desc: "empty block", kafka: &KafkaConfig{}, wantErr: []string{
			"kafka.brokers is required", "kafka.topic is required"}},
		{desc: "bad brokers", kafka: with(func(c *KafkaConfig) { c.Brokers = []string{"kafka-1", ":9092", "h:0", "h:x"} }), wantErr: []string{
			`kafka.brokers[0] "kafka-1": want host:port`, `kafka.brokers[1]`, `kafka.brokers[2]`, `kafka.brokers[3]`}},
		{desc: "bad topic", kafka: with(func(c *KafkaConfig) { c.Topic = "audit log" }), wantErr: []string{`kafka.topic "audit log"`}},
		{desc: "topic ..", kafka: with(func(c *KafkaConfig) { c.Topic = ".." }), wantErr: []string{`kafka.topic ".."`}},
		{desc: "half a client certificate", kafka: with(func(c *KafkaConfig) { c.TLS = &KafkaTLSConfig{CertFile: "c.pem"} }), wantErr: []string{
			"kafka.tls.cert_file and kafka.tls.key_file must be set together"}},
		{desc: "empty sasl", kafka: with(func(c *KafkaConfig) { c.SASL = &KafkaSASLConfig{} }), wantErr: []string{
			"kafka.sasl.mechanism is required", "kafka.sasl.user is required", "kafka.sasl.password_file is required"}},
		{desc: "bad mechanism", kafka: with(func(c *KafkaConfig) {
			c.SASL = &KafkaSASLConfig{Mechanism: "gssapi", User: "u", PasswordFile: "p"}
		}), wantErr: []string{`kafka.sasl.mechanism "gssapi": want plain, scram-sha-256 or scram-sha-512`}},
		{desc: "bad durations", kafka: with(func(c *KafkaConfig) { c.RetryInterval, c.DeliveryTimeout = -1, 500*time.Millisecond }), wantErr: []string{
			"kafka.retry_interval -1ns: must be positive", "kafka.delivery_timeout 500ms: want at least 1s"}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := Config{Dir: "/x", Keys: k, Kafka: tc.kafka}
			err := cfg.CheckAndSetDefaults()
			_, startErr := StartKafka(t.TempDir(), *tc.kafka, nil)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			for _, e := range []error{err, startErr} {
				if e == nil {
					t.Fatalf("no error, want %q", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(e.Error(), w) {
						t.Errorf("error %q does not mention %q", e, w)
					}
				}
			}
		})
	}

	// Files named in the configuration are read by StartKafka (and so Open).
	pw := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(pw, []byte("\n"), 0o600)
	for _, c := range []*KafkaConfig{
		with(func(c *KafkaConfig) { c.TLS = &KafkaTLSConfig{CAFile: "/nonexistent/ca.pem"} }),
		with(func(c *KafkaConfig) {
			c.SASL = &KafkaSASLConfig{Mechanism: "plain", User: "u", PasswordFile: "/nonexistent/pw"}
		}),
		with(func(c *KafkaConfig) { c.SASL = &KafkaSASLConfig{Mechanism: "plain", User: "u", PasswordFile: pw} }),
	} {
		if _, err := StartKafka(t.TempDir(), *c, nil); err == nil {
			t.Errorf("StartKafka(%+v %+v %+v) did not fail", c, c.TLS, c.SASL)
		}
	}
}

// TestKafkaConfigYAML: the kafka block decodes strictly, like the rest of
// Config.
func TestKafkaConfigYAML(t *testing.T) {
	src := `
dir: /var/lib/dbfence/audit
hmac_key_file: /etc/dbfence/audit-hmac.key
sm2_private_key_file: /etc/dbfence/audit-sm2.pem
kafka:
  brokers: [kafka-1.example.gov.cn:9093, kafka-2.example.gov.cn:9093]
  topic: dbfence.audit
  client_id: dbfence-proxy-1
  tls:
    ca_file: /etc/dbfence/kafka-ca.pem
    cert_file: /etc/dbfence/kafka-client.pem
    key_file: /etc/dbfence/kafka-client.key
    server_name: kafka.example.gov.cn
  sasl:
    mechanism: scram-sha-512
    user: dbfence
    password_file: /etc/dbfence/kafka-password
  cursor_file: /var/lib/dbfence/kafka.cursor
  retry_interval: 2s
  delivery_timeout: 1m
`
	var cfg Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckAndSetDefaults(); err != nil {
		t.Fatal(err)
	}
	kc := cfg.Kafka
	if kc == nil || len(kc.Brokers) != 2 || kc.Topic != "dbfence.audit" || kc.ClientID != "dbfence-proxy-1" ||
		kc.TLS == nil || kc.TLS.ServerName != "kafka.example.gov.cn" || kc.TLS.KeyFile == "" ||
		kc.SASL == nil || kc.SASL.Mechanism != "scram-sha-512" || kc.SASL.PasswordFile == "" ||
		kc.CursorFile == "" || kc.RetryInterval != 2*time.Second || kc.DeliveryTimeout != time.Minute {
		t.Fatalf("decoded %+v", kc)
	}

	bad := strings.Replace(src, "  topic:", "  topics:", 1)
	dec = yaml.NewDecoder(strings.NewReader(bad))
	dec.KnownFields(true)
	if err := dec.Decode(new(Config)); err == nil || !strings.Contains(err.Error(), "topics") {
		t.Errorf("unknown key accepted: %v", err)
	}
}

// TestKafkaCursorAhead: a cursor beyond the log (a replaced log directory)
// is reported instead of silently holding every record back.
func TestKafkaCursorAhead(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, testConfig(t, dir))
	writeN(t, l, 1, 3)
	if err := writeCursorFile(filepath.Join(dir, "kafka.cursor"), 1000); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.WarnLevel)
	f := startKafka(t, dir, KafkaConfig{Brokers: []string{"127.0.0.1:1"}, Topic: testTopic}, zap.New(core))
	f.Close()
	l.Close()
	if n := len(logs.FilterMessageSnippet("cursor is ahead of the log").All()); n != 1 {
		t.Errorf("%d warnings about the cursor, want 1", n)
	}
}
