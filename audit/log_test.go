package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestWriteCloseVerify(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, testConfig(t, dir))
	writeN(t, l, 0, 10)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep := mustVerify(t, dir)
	// genesis anchor + audit_start + 10 + audit_stop + close checkpoint
	if rep.Records != 14 || rep.FirstSeq != 1 || rep.LastSeq != 14 || !rep.Closed || rep.SignaturesValid != 2 {
		t.Fatalf("report %+v", rep)
	}
	files := logFiles(t, dir)
	fi, err := os.Stat(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(files[0])
	if bytes.Contains(data, []byte("11010519491231002X")) {
		t.Errorf("literal written in plaintext")
	}
	first, _, _ := strings.Cut(string(data[bytes.Index(data, []byte(`{"seq":3,`)):]), "\n")
	rec, err := ParseRecord([]byte(first))
	if err != nil {
		t.Fatal(err)
	}
	lits, err := OpenLiterals(testKeys(t).SM4, rec.LiteralsEnc)
	if err != nil || len(lits) != 1 || lits[0] != "11010519491231002X" {
		t.Fatalf("OpenLiterals = %q, %v", lits, err)
	}
}

// TestWriterSealsEachRecordsLiterals runs records with and without literals
// through pooled pendings in buffered mode: each record's literals_enc opens
// to its own literals (none left over from a reused pending), records
// without literals have none, and the chain verifies.
func TestWriterSealsEachRecordsLiterals(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Mode = ModeBuffered
	l := openTestLog(t, cfg)
	want := [][]string{
		{"11010519491231002X"}, nil, {"张三", "a\"b\\c\n", ""}, {}, {strings.Repeat("x", 3000)}, nil, {"5021"},
	}
	for i, lits := range want {
		e := statementEvent(i)
		e.Literals = lits
		if err := l.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, dir)
	data, err := os.ReadFile(logFiles(t, dir)[0])
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		rec, err := ParseRecord([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		if rec.Type != TypeStatement {
			continue
		}
		if len(want[i]) == 0 {
			if rec.LiteralsEnc != "" {
				t.Errorf("record %d has no literals but literals_enc %q", i, rec.LiteralsEnc)
			}
		} else if got, err := OpenLiterals(testKeys(t).SM4, rec.LiteralsEnc); err != nil || !slices.Equal(got, want[i]) {
			t.Errorf("record %d: literals %q, %v; want %q", i, got, err, want[i])
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("%d statement records, want %d", i, len(want))
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := testConfig(t, t.TempDir())
	cfg.Registerer = reg
	l := openTestLog(t, cfg)
	writeN(t, l, 0, 3)
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		switch {
		case m.GetCounter() != nil:
			got[mf.GetName()] = m.GetCounter().GetValue()
		case m.GetHistogram() != nil:
			got[mf.GetName()+"_count"] = float64(m.GetHistogram().GetSampleCount())
			got[mf.GetName()+"_sum"] = m.GetHistogram().GetSampleSum()
		default:
			got[mf.GetName()] = m.GetGauge().GetValue()
		}
	}
	if got["dbfence_audit_records_total"] != 5 || got["dbfence_audit_fsyncs_total"] < 2 || got["dbfence_audit_healthy"] != 1 {
		t.Fatalf("metrics %v", got)
	}
	// Every fsync of a file is timed (strict mode: each one succeeded).
	if n := got["dbfence_audit_fsync_duration_seconds_count"]; n != got["dbfence_audit_fsyncs_total"] || got["dbfence_audit_fsync_duration_seconds_sum"] <= 0 {
		t.Errorf("fsync histogram: %v observations, sum %v; want one per fsync (%v)", n,
			got["dbfence_audit_fsync_duration_seconds_sum"], got["dbfence_audit_fsyncs_total"])
	}
	// A second log on the same registry fails to register and stops cleanly.
	cfg2 := testConfig(t, t.TempDir())
	cfg2.Registerer = reg
	if _, err := Open(cfg2, nil); err == nil || !strings.Contains(err.Error(), "register metrics") {
		t.Fatalf("duplicate registration: %v", err)
	}
	mustVerify(t, cfg2.Dir)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRecordRejects(t *testing.T) {
	l := openTestLog(t, testConfig(t, t.TempDir()))
	tests := []struct {
		desc string
		e    *Event
		want error
	}{
		{desc: "nil event", e: nil, want: ErrInvalidEvent},
		{desc: "no type", e: &Event{User: "x"}, want: ErrInvalidEvent},
		{desc: "forged own event", e: &Event{Type: TypeRetentionDelete}, want: ErrInvalidEvent},
		{desc: "forged checkpoint", e: &Event{Type: TypeCheckpoint}, want: ErrInvalidEvent},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if err := l.Record(tc.e); !errors.Is(err, tc.want) {
				t.Fatalf("Record = %v, want %v", err, tc.want)
			}
		})
	}
	l.Close()
	if err := l.Record(statementEvent(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Record after Close = %v", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close = %v", err)
	}
}

// TestCheckpointTriggers: checkpoints come every CheckpointEvery records and,
// on a quiet log, after CheckpointInterval.
func TestCheckpointTriggers(t *testing.T) {
	tests := []struct {
		desc     string
		every    int
		interval time.Duration
		wait     time.Duration
		min, max int // periodic checkpoints after 10 records
	}{
		{desc: "by count", every: 3, interval: time.Hour, min: 3, max: 3},
		// At least one after the quiet period; more if writing took longer
		// than the interval on a busy machine.
		{desc: "by time", every: 1000, interval: 20 * time.Millisecond, wait: 300 * time.Millisecond, min: 1, max: 10},
		{desc: "neither", every: 1000, interval: time.Hour, min: 0, max: 0},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(t, dir)
			cfg.CheckpointEvery, cfg.CheckpointInterval = tc.every, tc.interval
			l := openTestLog(t, cfg)
			writeN(t, l, 0, 10)
			time.Sleep(tc.wait)
			l.Close()
			rep := mustVerify(t, dir)
			periodic := 0
			for _, r := range readAll(t, dir) {
				if r.Checkpoint != nil && r.Checkpoint.Reason == ReasonPeriodic {
					periodic++
				}
			}
			if periodic < tc.min || periodic > tc.max {
				t.Fatalf("%d periodic checkpoints, want %d..%d (report %+v)", periodic, tc.min, tc.max, rep)
			}
		})
	}
}

// TestBufferedFsyncFollowsLingeredWrite: in buffered mode a batch gathers
// for up to FsyncInterval before it is written, and its fsync then starts at
// once: the deadline counts from when the batch began to gather, not from
// the write (which would leave a record unsynced for another interval).
func TestBufferedFsyncFollowsLingeredWrite(t *testing.T) {
	fs := &timingFS{}
	cfg := testConfig(t, t.TempDir())
	cfg.Mode, cfg.FsyncInterval, cfg.FS = ModeBuffered, lingerMax, fs
	l := openTestLog(t, cfg)
	time.Sleep(50 * time.Millisecond) // let the opening records settle
	best := time.Hour
	for i := range 5 {
		if err := l.Record(statementEvent(i)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(4 * lingerMax)
		fs.mu.Lock()
		if fs.syncAt.After(fs.writeAt) {
			best = min(best, fs.syncAt.Sub(fs.writeAt))
		}
		fs.mu.Unlock()
	}
	// Counting from the write, the fsync would wait a whole interval.
	if best >= lingerMax/2 {
		t.Errorf("the fsync started %v after the lingered write at best; want at once (interval %v)", best, cfg.FsyncInterval)
	}
}

// timingFS notes when its files were last written and synced.
type timingFS struct {
	OSFS
	mu              sync.Mutex
	writeAt, syncAt time.Time
}

func (f *timingFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	file, err := f.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &timingFile{File: file, fs: f}, nil
}

type timingFile struct {
	File
	fs *timingFS
}

func (f *timingFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	f.fs.mu.Lock()
	f.fs.writeAt = time.Now()
	f.fs.mu.Unlock()
	return n, err
}

func (f *timingFile) Sync() error {
	f.fs.mu.Lock()
	f.fs.syncAt = time.Now()
	f.fs.mu.Unlock()
	return f.File.Sync()
}

// Verify reports its progress after each file, ending with the totals of
// its report.
func TestVerifyProgress(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.RotateBytes = 4096
	l := openTestLog(t, cfg)
	writeN(t, l, 0, 40)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var seen []VerifyProgress
	opts := verifyOpts(t)
	opts.Progress = func(p VerifyProgress) { seen = append(seen, p) }
	rep, err := Verify(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files < 3 || len(seen) != rep.Files {
		t.Fatalf("%d progress reports for %d files", len(seen), rep.Files)
	}
	for i, p := range seen {
		if p.FilesDone != i+1 || p.Files != rep.Files || p.Bytes <= 0 || (i > 0 && p.Records <= seen[i-1].Records) {
			t.Errorf("report %d: %+v", i, p)
		}
	}
	if last := seen[len(seen)-1]; last.Records != rep.Records {
		t.Errorf("last report %+v, report counts %d records", last, rep.Records)
	}
}

// Verify reads files as streams of lines: a record longer than its read
// buffer verifies, and a long torn last line is reported with its length.
func TestVerifyLongLines(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, testConfig(t, dir))
	e := statementEvent(1)
	e.Normalized = "SELECT '" + strings.Repeat("x", 600<<10) + "'"
	if err := l.Record(e); err != nil {
		t.Fatal(err)
	}
	writeN(t, l, 2, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep := mustVerify(t, dir)
	if rep.Records < 4 {
		t.Fatalf("%d records verified", rep.Records)
	}
	files := logFiles(t, dir)
	f, err := os.OpenFile(files[len(files)-1], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	torn := `{"seq":` + strings.Repeat("9", 400<<10)
	f.WriteString(torn)
	f.Close()
	rep, err = Verify(dir, verifyOpts(t))
	if err == nil || len(rep.Problems) != 1 || rep.Problems[0].Kind != ProblemTornTail ||
		!strings.Contains(rep.Problems[0].Msg, fmt.Sprintf("(%d bytes, no newline)", len(torn))) {
		t.Fatalf("Verify: %v, problems %v; want the torn line of %d bytes", err, rep.Problems, len(torn))
	}
}
