package audit

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// snapshot copies dir as a crash would leave it: the records that were
// fsynced, with no close checkpoint.
func snapshot(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		copyFile(t, filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
	}
	return dst
}

func appendBytes(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(s)
	f.Close()
}

// TestRestart covers every state Open can find the directory in.
func TestRestart(t *testing.T) {
	tests := []struct {
		desc string
		// crash turns a directory with a running writer's fsynced records into
		// the state to recover from, returning the directory to reopen.
		crash        func(t *testing.T, live string) string
		wantFiles    int    // files after reopen and close
		wantShutdown string // previous_shutdown in audit_start
		wantProblem  string // kind of the first Verify problem, "" for none
		wantNote     string // substring of a Verify note
	}{
		{
			desc:         "clean close: the chain continues in the same file",
			crash:        nil,
			wantFiles:    1,
			wantShutdown: "clean",
		},
		{
			desc:         "crash with a clean tail: appends to the same file",
			crash:        func(t *testing.T, live string) string { return snapshot(t, live) },
			wantFiles:    1,
			wantShutdown: "unclean",
		},
		{
			desc: "crash with a torn last line: new file declares the debris",
			crash: func(t *testing.T, live string) string {
				dir := snapshot(t, live)
				files := logFiles(t, dir)
				appendBytes(t, files[len(files)-1], `{"seq":99,"type":"statement","ti`)
				return dir
			},
			wantFiles:    2,
			wantShutdown: "unclean",
			wantNote:     "discarded (torn)",
		},
		{
			desc: "crash left an empty new file",
			crash: func(t *testing.T, live string) string {
				dir := snapshot(t, live)
				os.WriteFile(filepath.Join(dir, fileName(time.Now(), 2)), nil, 0o600)
				return dir
			},
			wantFiles:    3,
			wantShutdown: "unclean",
		},
		{
			desc: "crash between the rotate checkpoint and the next file",
			crash: func(t *testing.T, live string) string {
				dir := snapshot(t, live)
				files := logFiles(t, dir)
				// Make the last file end with a rotate checkpoint by rotating a copy.
				l := openTestLog(t, Config{Dir: dir, Keys: testKeys(t), RotateBytes: 4096})
				writeN(t, l, 100, 8)
				l.Close()
				after := logFiles(t, dir)
				if len(after) < 2 {
					t.Fatal("no rotation happened")
				}
				for _, f := range after[len(files):] {
					if f != after[len(files)] {
						os.Remove(f)
					}
				}
				os.Remove(after[len(files)])
				return dir
			},
			wantFiles:    2,
			wantShutdown: "unclean",
		},
		{
			desc: "crash after the rotate checkpoint left a torn line",
			crash: func(t *testing.T, live string) string {
				dir := snapshot(t, live)
				files := logFiles(t, dir)
				l := openTestLog(t, Config{Dir: dir, Keys: testKeys(t), RotateBytes: 4096})
				writeN(t, l, 100, 8)
				l.Close()
				after := logFiles(t, dir)
				for _, f := range after[len(files):] {
					os.Remove(f)
				}
				appendBytes(t, after[len(files)-1], `{"seq":`)
				return dir
			},
			wantFiles:    2,
			wantShutdown: "unclean",
			wantNote:     "discarded (torn)",
		},
		{
			desc: "a complete invalid line at the tail is declared but reported",
			crash: func(t *testing.T, live string) string {
				dir := snapshot(t, live)
				files := logFiles(t, dir)
				appendBytes(t, files[len(files)-1], "this is not a record\n")
				return dir
			},
			wantFiles:    2,
			wantShutdown: "unclean",
			wantProblem:  ProblemDiscard,
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			live := t.TempDir()
			l := openTestLog(t, testConfig(t, live))
			writeN(t, l, 0, 5)
			dir := live
			if tc.crash != nil {
				dir = tc.crash(t, live)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l2 := openTestLog(t, testConfig(t, dir))
			writeN(t, l2, 5, 5)
			if err := l2.Close(); err != nil {
				t.Fatal(err)
			}
			if got := len(logFiles(t, dir)); got != tc.wantFiles {
				t.Errorf("%d files, want %d", got, tc.wantFiles)
			}
			rep, err := Verify(dir, verifyOpts(t))
			switch {
			case tc.wantProblem == "" && err != nil:
				t.Fatalf("Verify: %v %v", err, rep.Problems)
			case tc.wantProblem != "" && (err == nil || rep.Problems[0].Kind != tc.wantProblem):
				t.Fatalf("Verify = %v %v, want a %s problem", err, rep.Problems, tc.wantProblem)
			}
			if tc.wantNote != "" && !strings.Contains(strings.Join(rep.Notes, "\n"), tc.wantNote) {
				t.Errorf("notes %q lack %q", rep.Notes, tc.wantNote)
			}
			var starts []string
			for _, r := range readAllSkippingDebris(t, dir) {
				if r.Type == TypeAuditStart {
					starts = append(starts, r.Detail["previous_shutdown"])
				}
			}
			if len(starts) < 2 || starts[len(starts)-1] != tc.wantShutdown {
				t.Errorf("audit_start previous_shutdown = %q, want last %q", starts, tc.wantShutdown)
			}
		})
	}
}

// TestTornTailDebrisIsProtected: the debris a restart anchor declares cannot
// be changed afterwards.
func TestTornTailDebrisIsProtected(t *testing.T) {
	live := t.TempDir()
	l := openTestLog(t, testConfig(t, live))
	writeN(t, l, 0, 3)
	dir := snapshot(t, live)
	l.Close()
	files := logFiles(t, dir)
	appendBytes(t, files[0], `{"seq":7,"type":"statement","user":"alice"`)
	l2 := openTestLog(t, testConfig(t, dir))
	l2.Close()
	mustVerify(t, dir)
	pristine, _ := os.ReadFile(files[0])
	tests := []struct {
		desc   string
		change func(b []byte) []byte
	}{
		{desc: "byte appended", change: func(b []byte) []byte { return append(b, 'x') }},
		{desc: "debris byte changed", change: func(b []byte) []byte { b[len(b)-2] = 'X'; return b }},
		{desc: "debris removed", change: func(b []byte) []byte { return b[:len(b)-len(`{"seq":7,"type":"statement","user":"alice"`)] }},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			os.WriteFile(files[0], tc.change(append([]byte(nil), pristine...)), 0o600)
			rep, err := Verify(dir, verifyOpts(t))
			if err == nil || rep.Problems[0].Kind != ProblemDiscard || rep.Problems[0].File != filepath.Base(files[0]) {
				t.Fatalf("modified debris not reported: %v", rep.Problems)
			}
		})
	}
}

// TestConcurrentWriters checks that seq and chain stay intact with many
// sessions recording at once, in both modes, across rotations.
func TestConcurrentWriters(t *testing.T) {
	for _, mode := range []Mode{ModeStrict, ModeBuffered} {
		t.Run(string(mode), func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(t, dir)
			cfg.Mode, cfg.RotateBytes, cfg.CheckpointEvery = mode, 256<<10, 500
			l := openTestLog(t, cfg)
			const writers, each = 8, 400
			var wg sync.WaitGroup
			for g := range writers {
				wg.Go(func() {
					for i := range each {
						if err := l.Record(statementEvent(g*each + i)); err != nil {
							t.Errorf("Record: %v", err)
							return
						}
					}
				})
			}
			wg.Wait()
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			rep := mustVerify(t, dir)
			if rep.Files < 2 {
				t.Errorf("expected rotation, got %d file(s)", rep.Files)
			}
			seen := map[uint64]bool{}
			for _, r := range readAll(t, dir) {
				if r.Type == TypeStatement {
					seen[r.StatementID] = true
				}
			}
			if len(seen) < writers*each-1 { // statement 0 has no statement_id
				t.Fatalf("%d distinct statements, want %d", len(seen), writers*each)
			}
		})
	}
}

// TestRotationAndRetention drives the clock through several days: files
// rotate by age, and files older than the retention are deleted with a
// retention_delete record, after which the log still verifies.
func TestRotationAndRetention(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	cfg := testConfig(t, dir)
	cfg.Now, cfg.RotateAge, cfg.Retention, cfg.AllowShortRetention = clock.Now, 24*time.Hour, 48*time.Hour, true
	l := openTestLog(t, cfg)
	for day := range 6 {
		writeN(t, l, day*10, 10)
		clock.Advance(25 * time.Hour)
	}
	writeN(t, l, 60, 1) // rotates, then applies retention
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep := mustVerify(t, dir)
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "deleted by retention") {
		t.Errorf("notes %q", rep.Notes)
	}
	files := logFiles(t, dir)
	if len(files) != 3 {
		t.Errorf("%d files left, want 3 (two within 48h + the current one)", len(files))
	}
	deleted := 0
	for _, r := range readAll(t, dir) {
		if r.Type == TypeRetentionDelete {
			deleted += len(r.Objects)
		}
	}
	// Four files were deleted; the record of the first deletion was itself in
	// a file deleted later, so the surviving records name three.
	if deleted != 3 {
		t.Errorf("surviving retention records name %d files, want 3", deleted)
	}
}

func TestConfigYAML(t *testing.T) {
	src := `
dir: /var/lib/dbfence/audit
mode: buffered
fsync_interval: 10ms
fsync_records: 128
queue_size: 1024
rotate_bytes: 1048576
rotate_age: 12h
retention: 4320h
hmac_key_file: /etc/dbfence/audit-hmac.key
sm4_key_file: /etc/dbfence/audit-sm4.key
sm2_private_key_file: /etc/dbfence/audit-sm2.pem
checkpoint_every: 5000
plaintext_literals: false
syslog:
  address: siem.example.gov.cn:6514
  tls: true
`
	var cfg Config
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckAndSetDefaults(); err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != ModeBuffered || cfg.FsyncInterval != 10*time.Millisecond || cfg.RotateAge != 12*time.Hour ||
		cfg.Retention != MinRetention || cfg.CheckpointEvery != 5000 || cfg.Syslog == nil || !cfg.Syslog.TLS {
		t.Fatalf("decoded %+v", cfg)
	}
}

func TestConfigCheckAndSetDefaults(t *testing.T) {
	k := testKeys(t)
	tests := []struct {
		desc    string
		cfg     Config
		wantErr string
	}{
		{desc: "defaults", cfg: Config{Dir: "/x", Keys: k}},
		{desc: "dir required", cfg: Config{Keys: k}, wantErr: "dir is required"},
		{desc: "bad mode", cfg: Config{Dir: "/x", Keys: k, Mode: "async"}, wantErr: `mode "async"`},
		{desc: "short retention refused", cfg: Config{Dir: "/x", Keys: k, Retention: 24 * time.Hour}, wantErr: "legal minimum"},
		{desc: "short retention forced", cfg: Config{Dir: "/x", Keys: k, Retention: time.Hour, AllowShortRetention: true}},
		{desc: "key files required", cfg: Config{Dir: "/x"}, wantErr: "hmac_key_file is required"},
		{desc: "negative queue", cfg: Config{Dir: "/x", Keys: k, QueueSize: -1}, wantErr: "queue_size"},
		{desc: "tiny rotation", cfg: Config{Dir: "/x", Keys: k, RotateBytes: 10}, wantErr: "rotate_bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			err := tc.cfg.CheckAndSetDefaults()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				c := tc.cfg
				if c.Mode != ModeStrict || c.FsyncInterval != DefaultFsyncInterval || c.FsyncRecords != DefaultFsyncRecords ||
					c.QueueSize != DefaultQueueSize || c.CheckpointEvery != DefaultCheckpointEvery || c.FS == nil || c.Now == nil {
					t.Fatalf("defaults not set: %+v", c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestCrashRightAfterRotationCreatedTheNextFile: the previous file ends
// with a rotate checkpoint naming a next file that exists but is empty (the
// writer died between creating it and writing its anchor). Restarting must
// continue the chain so that the log verifies.
func TestCrashRightAfterRotationCreatedTheNextFile(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.RotateBytes = 4096
	l := openTestLog(t, cfg)
	writeN(t, l, 1, 40)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files := logFiles(t, dir)
	if len(files) < 3 {
		t.Fatalf("want several files, got %d", len(files))
	}
	// The file before the newest ends with a rotate checkpoint naming the
	// newest: empty the newest, as if the writer died right after creating it.
	if err := os.WriteFile(files[len(files)-1], nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l = openTestLog(t, cfg)
	writeN(t, l, 100, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep := mustVerify(t, dir)
	if len(rep.Problems) != 0 {
		t.Fatalf("problems: %+v", rep.Problems)
	}
}

// Open finds the last record by reading the end of the newest file, not
// all of it: with a window far smaller than the records and a torn tail
// longer than the window, it still continues the chain from the last
// record and declares exactly the torn bytes.
func TestRestartReadsOnlyTheTail(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	l := openTestLog(t, cfg)
	writeN(t, l, 0, 30)
	crashed := snapshot(t, dir)
	l.Close()
	files := logFiles(t, crashed)
	live := files[len(files)-1]
	st, err := os.Stat(live)
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(live)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(before), "\n"), "\n")
	lastRec, err := ParseRecord([]byte(lines[len(lines)-1]))
	if err != nil {
		t.Fatal(err)
	}
	torn := `{"seq":31,"type":"statement","normalized":"` + strings.Repeat("x", 5000)
	appendBytes(t, live, torn)

	cfg = testConfig(t, crashed)
	cfg.tailWindow = 64
	l = openTestLog(t, cfg)
	writeN(t, l, 31, 2)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var anchor *Record
	for _, f := range logFiles(t, crashed) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		line, _, _ := strings.Cut(string(data), "\n")
		if r, err := ParseRecord([]byte(line)); err == nil && r.Checkpoint != nil && r.Checkpoint.Discard != nil {
			anchor = r
		}
	}
	if anchor == nil {
		t.Fatal("no file declares the torn tail")
	}
	d := anchor.Checkpoint.Discard
	if d.File != filepath.Base(live) || d.ValidBytes != st.Size() || d.Bytes != int64(len(torn)) || d.Cause != "torn" {
		t.Fatalf("discard %+v, want %d valid bytes and %d torn", d, st.Size(), len(torn))
	}
	if anchor.Checkpoint.HeadSeq != lastRec.Seq || anchor.Checkpoint.HeadMAC != lastRec.MAC {
		t.Errorf("anchor head %d %s, want the last record before the torn line (%d %s)",
			anchor.Checkpoint.HeadSeq, anchor.Checkpoint.HeadMAC, lastRec.Seq, lastRec.MAC)
	}
	mustVerify(t, crashed)
}
