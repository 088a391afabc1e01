package audit

import (
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
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
	body := appendEventBody(nil, statementEvent(1), literalsDrop, nil)
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
