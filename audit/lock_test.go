package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecondOpenIsRefused: a second Open of a directory in use fails before
// it writes anything, so the first log's chain stays intact; once the first
// is closed the directory opens again, a stale lock file notwithstanding.
func TestSecondOpenIsRefused(t *testing.T) {
	dir := t.TempDir()
	// A crashed process leaves its lock file behind, but not its lock.
	if err := os.WriteFile(filepath.Join(dir, lockName), []byte("999999999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := openTestLog(t, testConfig(t, dir))
	writeN(t, l, 0, 5)
	before := dirContents(t, dir)

	l2, err := Open(testConfig(t, dir), nil)
	if err == nil {
		l2.Close()
		t.Fatal("second Open of a directory in use succeeded")
	}
	want := fmt.Sprintf("audit directory %s is in use by another dbfence process (pid %d)", dir, os.Getpid())
	if !errors.Is(err, ErrDirInUse) || err.Error() != want {
		t.Fatalf("second Open: %v, want %q wrapping ErrDirInUse", err, want)
	}
	if after := dirContents(t, dir); !bytes.Equal(before, after) {
		t.Fatalf("the refused Open changed the directory:\n%s\nthen:\n%s", before, after)
	}

	writeN(t, l, 5, 5)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, dir)
	l3 := openTestLog(t, testConfig(t, dir))
	if got, _ := os.ReadFile(filepath.Join(dir, lockName)); string(got) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("lock file holds %q, want this pid", got)
	}
	writeN(t, l3, 10, 5)
	if err := l3.Close(); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, dir)
	if fi, err := os.Stat(filepath.Join(dir, lockName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v, mode %v; want 0600", err, fi.Mode())
	}
}

// dirContents renders every file of dir with its contents.
func dirContents(t *testing.T, dir string) []byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "== %s\n%s", e.Name(), data)
	}
	return b.Bytes()
}

// TestLostLiveFile removes or replaces the file (or directory) under a
// running log: the writer reports it, continues in a new file whose anchor
// and audit_recover record declare the loss, keeps the directory locked,
// refuses strict records while it cannot write, and Verify explains the
// gap instead of seeing a log that starts over.
func TestLostLiveFile(t *testing.T) {
	tests := []struct {
		desc   string
		mode   Mode
		rotate bool // rotate first, so older files remain
		// lose takes the live file away; it returns a function that
		// undoes anything that keeps the writer from recovering.
		lose        func(t *testing.T, dir, live string) (unblock func())
		atClose     bool   // lose right before Close, without waiting for the check
		wantCause   string // Lost.Cause
		wantProblem string // "" when the log must verify
	}{
		{
			desc:        "live file removed",
			lose:        removeLive,
			wantCause:   LostRemoved,
			wantProblem: ProblemLostFile,
		},
		{
			desc:        "live file removed after rotations",
			rotate:      true,
			lose:        removeLive,
			wantCause:   LostRemoved,
			wantProblem: ProblemLostFile,
		},
		{
			desc:        "live file removed, buffered",
			mode:        ModeBuffered,
			lose:        removeLive,
			wantCause:   LostRemoved,
			wantProblem: ProblemLostFile,
		},
		{
			desc: "directory removed",
			lose: func(t *testing.T, dir, _ string) func() {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			wantCause:   LostDirRemoved,
			wantProblem: ProblemLostFile,
		},
		{
			desc: "directory removed and a file in its place",
			lose: func(t *testing.T, dir, _ string) func() {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dir, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return func() { os.Remove(dir) }
			},
			wantCause:   LostDirRemoved,
			wantProblem: ProblemLostFile,
		},
		{
			desc: "live file replaced by a copy",
			lose: func(t *testing.T, dir, live string) func() {
				copyFile(t, live, live+".tmp")
				if err := os.Rename(live+".tmp", live); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			wantCause: LostReplaced,
		},
		{
			desc:        "live file removed just before Close",
			lose:        removeLive,
			atClose:     true,
			wantCause:   LostRemoved,
			wantProblem: ProblemLostFile,
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "audit")
			cfg := testConfig(t, dir)
			if tc.mode != "" {
				cfg.Mode = tc.mode
			}
			if tc.rotate {
				cfg.RotateBytes = 4096
			}
			if !tc.atClose {
				cfg.checkEvery = time.Millisecond
			}
			l := openTestLog(t, cfg)
			writeN(t, l, 0, 20)
			files := logFiles(t, dir)
			if tc.rotate && len(files) < 2 {
				t.Fatal("no rotation happened")
			}
			live := files[len(files)-1]
			unblock := tc.lose(t, dir, live)
			if !tc.atClose {
				// Not !Health().OK: with records still arriving (buffered
				// mode) the writer recovers in the batch that found the
				// loss, and a poll can miss the degraded moment.
				waitFor(t, "the loss to be reported", func() bool { return l.Stats().WriteErrors > 0 })
				if h, s := l.Health(), l.Stats(); !containsAll(h.LastError, strings.Fields(tc.wantCause)) || s.WriteErrors != 1 {
					t.Errorf("health %+v, %d write errors; want the loss (%s) reported once", h, s.WriteErrors, tc.wantCause)
				}
				if unblock != nil {
					if err := l.Record(statementEvent(20)); err == nil {
						t.Error("strict Record succeeded while the log could not be written")
					}
					unblock()
				}
				writeN(t, l, 21, 5)
				waitFor(t, "recovery", func() bool { return l.Health().OK })
				if _, err := Open(testConfig(t, dir), nil); !errors.Is(err, ErrDirInUse) {
					t.Errorf("Open of the recovered directory: %v, want ErrDirInUse", err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}

			anchor, recov := newFileStart(t, dir)
			lost := anchor.Checkpoint.Lost
			if anchor.Checkpoint.Reason != ReasonRecovery || lost == nil || lost.File != filepath.Base(live) ||
				lost.Cause != tc.wantCause || lost.FirstSeq == 0 || lost.FirstSeq > anchor.Checkpoint.HeadSeq {
				t.Fatalf("new file anchor %+v, lost %+v", anchor.Checkpoint, lost)
			}
			if recov.Type != TypeAuditRecover || recov.Detail["lost"] != tc.wantCause || recov.Detail["file"] != lost.File {
				t.Errorf("second record %+v, want audit_recover stating the loss", recov)
			}
			if !tc.atClose {
				got := map[uint64]bool{}
				for _, r := range readAllSkippingDebris(t, dir) {
					if r.Type == TypeStatement && r.Seq > anchor.Seq {
						got[r.StatementID] = true
					}
				}
				for i := uint64(21); i < 26; i++ {
					if !got[i] {
						t.Errorf("statement %d recorded after the loss is missing from the new file", i)
					}
				}
			}

			rep, err := Verify(dir, verifyOpts(t))
			if tc.wantProblem == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if !strings.Contains(strings.Join(rep.Notes, "\n"), lost.File+" was replaced") {
					t.Errorf("notes %q do not mention the replacement", rep.Notes)
				}
				return
			}
			if len(rep.Problems) != 1 || rep.Problems[0].Kind != tc.wantProblem ||
				!strings.Contains(rep.Problems[0].Msg, "as the recovery anchor of") || strings.Contains(rep.Problems[0].Msg, "more is missing") {
				t.Fatalf("Verify problems %v, want one %s explaining the loss", rep.Problems, tc.wantProblem)
			}
			if !rep.Closed {
				t.Error("log does not end with a close checkpoint")
			}
		})
	}
}

func removeLive(t *testing.T, _, live string) func() {
	if err := os.Remove(live); err != nil {
		t.Fatal(err)
	}
	return nil
}

// newFileStart returns the first two records of the file that declares a
// lost file.
func newFileStart(t *testing.T, dir string) (anchor, next *Record) {
	t.Helper()
	for _, f := range logFiles(t, dir) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.SplitN(data, []byte{'\n'}, 3)
		if anchor, err = ParseRecord(lines[0]); err != nil || anchor.Checkpoint == nil || anchor.Checkpoint.Lost == nil {
			continue
		}
		if len(lines) < 3 {
			t.Fatalf("%s has fewer than two records:\n%s", f, data)
		}
		if next, err = ParseRecord(lines[1]); err != nil {
			t.Fatal(err)
		}
		return anchor, next
	}
	t.Fatal("no file declares a lost file")
	return nil, nil
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestStrictNeverAcknowledgesIntoALostFile removes or replaces the live file
// and records at once, long before the periodic check would look: strict
// mode must not acknowledge a record that went to a file no longer in the
// directory. The statement is refused, the log recovers into a new file,
// and every record that was acknowledged can be read back.
func TestStrictNeverAcknowledgesIntoALostFile(t *testing.T) {
	tests := []struct {
		desc      string
		lose      func(t *testing.T, dir, live string) func()
		wantCause string
	}{
		{"removed", removeLive, LostRemoved},
		{"replaced by a copy", func(t *testing.T, _, live string) func() {
			copyFile(t, live, live+".tmp")
			if err := os.Rename(live+".tmp", live); err != nil {
				t.Fatal(err)
			}
			return nil
		}, LostReplaced},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "audit")
			cfg := testConfig(t, dir)
			cfg.checkEvery = time.Hour // the periodic check never runs here
			l := openTestLog(t, cfg)
			writeN(t, l, 0, 5)
			files := logFiles(t, dir)
			tc.lose(t, dir, files[len(files)-1])

			acked := map[uint64]bool{}
			err := l.Record(statementEvent(5))
			if err == nil {
				t.Error("strict Record acknowledged a record written to a file that is no longer in the directory")
				acked[5] = true
			} else if !strings.Contains(err.Error(), tc.wantCause) {
				t.Errorf("Record: %v, want the loss (%s) named", err, tc.wantCause)
			}
			for i := 6; i < 9; i++ {
				if err := l.Record(statementEvent(i)); err != nil {
					t.Fatalf("Record %d after the loss: %v", i, err)
				}
				acked[uint64(i)] = true
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			got := map[uint64]bool{}
			for _, r := range readAllSkippingDebris(t, dir) {
				if r.Type == TypeStatement {
					got[r.StatementID] = true
				}
			}
			for id := range acked {
				if !got[id] {
					t.Errorf("statement %d was acknowledged but is not in the log", id)
				}
			}
			anchor, _ := newFileStart(t, dir)
			if lost := anchor.Checkpoint.Lost; lost == nil || lost.Cause != tc.wantCause {
				t.Errorf("recovery anchor %+v, want the loss (%s) declared", anchor.Checkpoint, tc.wantCause)
			}
		})
	}
}
