package audit

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkRecordBuffered measures sustained throughput in buffered mode:
// all GOMAXPROCS goroutines record as fast as they can (retrying on a full
// queue, so nothing is lost), and the clock stops when the writer has
// written every record. Real files, fsync every 5ms/256 records.
func BenchmarkRecordBuffered(b *testing.B) {
	dir := b.TempDir()
	cfg := testConfig(b, dir)
	cfg.Mode, cfg.QueueSize = ModeBuffered, 8192
	l := openTestLog(b, cfg)
	base := l.Stats().Records
	var retries atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		e := statementEvent(1)
		for pb.Next() {
			for errors.Is(l.Record(e), ErrDropped) {
				retries.Add(1)
				runtime.Gosched()
			}
		}
	})
	for l.Stats().Records-base < uint64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(retries.Load())/float64(b.N), "full-queue-retries/op")
	l.Close()
}

// BenchmarkRecordStrict8 measures Record latency in strict mode (each call
// returns after fsync) with 8 concurrent writers, the group-commit case.
func BenchmarkRecordStrict8(b *testing.B) {
	dir := b.TempDir()
	l := openTestLog(b, testConfig(b, dir))
	const writers = 8
	lat := make([][]time.Duration, writers)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for g := range writers {
		n := b.N / writers
		if g < b.N%writers {
			n++
		}
		wg.Go(func() {
			e := statementEvent(g)
			for range n {
				t0 := time.Now()
				if err := l.Record(e); err != nil {
					b.Error(err)
					return
				}
				lat[g] = append(lat[g], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	s := l.Stats()
	b.ReportMetric(float64(b.N)/float64(max(s.Fsyncs, 1)), "records/fsync")
	l.Close()
}

// BenchmarkEncode is the caller-side cost of Record: encoding the event and
// sealing its literals with SM4-GCM.
func BenchmarkEncode(b *testing.B) {
	l := &Log{cfg: Config{Now: time.Now}}
	sealer, err := newLiteralSealer(testKeys(b).SM4)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		desc   string
		mode   literalMode
		sealer *literalSealer
	}{
		{desc: "literals sealed", mode: literalsSealed, sealer: sealer},
		{desc: "literals dropped", mode: literalsDrop},
	} {
		b.Run(tc.desc, func(b *testing.B) {
			l.litMode, l.sealer = tc.mode, tc.sealer
			p := &pending{}
			e := statementEvent(1)
			b.ReportAllocs()
			for b.Loop() {
				if err := l.encode(p, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFrame is the writer-side cost per record: seq, HMAC-SM3, hex.
func BenchmarkFrame(b *testing.B) {
	w := goldenWriter()
	body, _ := appendEventBody(nil, statementEvent(1), literalsDrop)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		w.buf = w.buf[:0]
		w.frame(body)
	}
}

// BenchmarkVerify measures verification speed with both keys.
func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	cfg := testConfig(b, dir)
	cfg.Mode = ModeBuffered
	l := openTestLog(b, cfg)
	const n = 20000
	for i := range n {
		for errors.Is(l.Record(statementEvent(i)), ErrDropped) {
			runtime.Gosched()
		}
	}
	l.Close()
	opts := verifyOpts(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Verify(dir, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReader measures reading and decoding records.
func BenchmarkReader(b *testing.B) {
	dir := b.TempDir()
	cfg := testConfig(b, dir)
	cfg.Mode = ModeBuffered
	l := openTestLog(b, cfg)
	for i := range 5000 {
		for errors.Is(l.Record(statementEvent(i)), ErrDropped) {
			runtime.Gosched()
		}
	}
	l.Close()
	b.ReportAllocs()
	for b.Loop() {
		r, _ := NewReader(dir, ReadOptions{})
		for {
			if _, _, err := r.Next(context.Background()); err == io.EOF {
				break
			}
		}
		r.Close()
	}
}

// BenchmarkCheckpointSign is the writer's cost of one SM2-signed checkpoint
// (paid every CheckpointEvery records).
func BenchmarkCheckpointSign(b *testing.B) {
	w := goldenWriter()
	w.sign = testKeys(b).SM2
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		w.buf = w.buf[:0]
		if err := w.frameCheckpoint(now, Checkpoint{Reason: ReasonPeriodic}); err != nil {
			b.Fatal(err)
		}
	}
}

// pointSelectEvent mirrors the record cmd/dbfence's audit sink writes in
// buffered mode for one sysbench point_select (one record per statement, at
// completion, one literal).
func pointSelectEvent(i int) *Event {
	return &Event{
		Type: TypeStatement, Time: time.Now(), Protocol: "mysql", SessionID: "17", StatementID: uint64(i),
		User: "sbtest", ClientAddr: "127.0.0.1:53422", Database: "sbtest", StatementKind: "select",
		Normalized: "SELECT c FROM sbtest1 WHERE id = ?", Literals: []string{"5021"},
		Decision: "allow", Objects: []string{"sbtest.sbtest1"}, Rows: 1, Bytes: 190, DurationUS: 312,
		PolicyVersion: "2026-11-01",
	}
}

// BenchmarkStatementRecord is the whole CPU cost of one typical statement
// record, on one goroutine: encoding, sealing the literal with SM4-GCM and
// framing it into the HMAC-SM3 chain (no I/O, no hand-off).
func BenchmarkStatementRecord(b *testing.B) {
	l := &Log{cfg: Config{Now: time.Now}, litMode: literalsSealed}
	var err error
	if l.sealer, err = newLiteralSealer(testKeys(b).SM4); err != nil {
		b.Fatal(err)
	}
	w := goldenWriter()
	w.l.sealer = l.sealer
	p := &pending{}
	e := pointSelectEvent(1)
	b.ReportAllocs()
	for b.Loop() {
		if err := l.encode(p, e); err != nil {
			b.Fatal(err)
		}
		w.buf = w.buf[:0]
		w.framePending(p)
	}
	b.SetBytes(int64(len(w.buf)))
}

// sinkEvent mirrors what cmd/dbfence's audit sink does per statement in
// buffered mode: it fills an Event on the session goroutine's stack from the
// proxy's statement event, formatting the session id and client address.
func sinkEvent(rec *Event, session, statement uint64, addr netip.AddrPort, start time.Time, lits, objects []string) {
	*rec = Event{
		Type: TypeStatement, Time: start, Protocol: "mysql", SessionID: strconv.FormatUint(session, 10),
		StatementID: statement, User: "sbtest", ClientAddr: addr.String(), Database: "sbtest",
		StatementKind: "select", Normalized: "SELECT c FROM sbtest1 WHERE id = ?", Literals: lits, Decision: "allow",
		Objects: objects, PolicyVersion: "2026-11-01",
	}
	rec.Rows, rec.Bytes, rec.DurationUS = 1, 190, 312
}

// BenchmarkSessionRecordBuffered is what one point-select statement costs
// the proxy's session goroutine in buffered mode: the sink's conversion,
// Record (encoding, sealing the literal, enqueueing). The writer is replaced
// by taking the record back out of the queue on the same goroutine, so the
// writer's framing is not counted (BenchmarkFrame is).
func BenchmarkSessionRecordBuffered(b *testing.B) {
	l := &Log{cfg: Config{Now: time.Now, Mode: ModeBuffered}, litMode: literalsSealed, queue: make(chan *pending, 1)}
	l.pool.New = func() any { return &pending{done: make(chan error, 1), body: make([]byte, 0, 1024)} }
	var err error
	if l.sealer, err = newLiteralSealer(testKeys(b).SM4); err != nil {
		b.Fatal(err)
	}
	addr := netip.MustParseAddrPort("127.0.0.1:53422")
	lits, objects := []string{"5021"}, []string{"sbtest.sbtest1"}
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		i++
		var rec Event
		sinkEvent(&rec, 1017, i, addr, time.Now(), lits, objects)
		if err := l.Record(&rec); err != nil {
			b.Fatal(err)
		}
		l.putPending(<-l.queue)
	}
}

// BenchmarkWriterBuffered is the writer goroutine's own capacity in
// buffered mode: one feeder enqueues copies of an already encoded
// point-select record (blocking when the queue is full), so the writer
// (framing, HMAC-SM3, write(2), background fsync) is the bottleneck rather
// than the sessions' encoding. Real files, default fsync settings.
func BenchmarkWriterBuffered(b *testing.B) {
	dir := b.TempDir()
	cfg := testConfig(b, dir)
	cfg.Mode, cfg.QueueSize = ModeBuffered, 8192
	l := openTestLog(b, cfg)
	proto := &pending{}
	l.litMode = literalsSealed
	if err := l.encode(proto, pointSelectEvent(1)); err != nil {
		b.Fatal(err)
	}
	base := l.Stats().Records
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		p := l.pool.Get().(*pending)
		p.body = append(p.body[:0], proto.body...)
		p.litAt, p.plain = proto.litAt, append(p.plain[:0], proto.plain...)
		p.meta = proto.meta
		l.queue <- p
	}
	for l.Stats().Records-base < uint64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	l.Close()
}
