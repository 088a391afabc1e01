package auditcmd

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbfence/dbfence/audit"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixture generates keys with keygen and writes a small log with a fixed
// clock, through the key files as the proxy would.
func fixture(t *testing.T) (keyDir, logDir string) {
	t.Helper()
	keyDir, logDir = t.TempDir(), t.TempDir()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"keygen", "--out", keyDir}, &out, &errb); code != 0 {
		t.Fatalf("keygen exit %d: %s", code, errb.String())
	}
	at := time.Date(2026, 11, 23, 19, 40, 0, 0, time.FixedZone("CST", 8*3600))
	var mu sync.Mutex
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		at = at.Add(time.Millisecond)
		return at
	}
	l, err := audit.Open(audit.Config{
		Dir: logDir, Now: clock,
		HMACKeyFile:       filepath.Join(keyDir, audit.HMACKeyFileName),
		SM4KeyFile:        filepath.Join(keyDir, audit.SM4KeyFileName),
		SM2PrivateKeyFile: filepath.Join(keyDir, audit.SM2PrivateKeyFileName),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	events := []audit.Event{
		{Type: audit.TypeConnectionOpen, User: "alice", ClientAddr: "10.0.0.8:53211", Protocol: "mysql", SessionID: "s1"},
		{Type: audit.TypeStatement, User: "alice", ClientAddr: "10.0.0.8:53211", Database: "hukou", SessionID: "s1",
			StatementKind: "select", Normalized: "SELECT name, id_card FROM person WHERE id_card = ?", Literals: []string{"11010519491231002X"},
			Decision: "mask", Rule: "mask-id-card", Rows: 1, DurationUS: 850},
		{Type: audit.TypeStatement, User: "bob", ClientAddr: "10.0.0.9:40000", Database: "hukou", SessionID: "s2",
			StatementKind: "select", Normalized: "SELECT * FROM person", Decision: "deny", Reason: "bulk export needs approval", DurationUS: 40},
		{Type: audit.TypeAuthFail, User: "mallory", ClientAddr: "10.6.6.6:1", Protocol: "postgres", ErrorCode: "28P01"},
	}
	for i := range events {
		if err := l.Record(&events[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return keyDir, logDir
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestKeygen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	code, out, errs := runCmd(t, "keygen", "--out", dir)
	if code != 0 || strings.Count(out, "wrote") != 4 || !strings.Contains(out, "hmac_key_file: ") {
		t.Fatalf("exit %d out %q err %q", code, out, errs)
	}
	for _, name := range []string{audit.HMACKeyFileName, audit.SM4KeyFileName, audit.SM2PrivateKeyFileName, audit.SM2PublicKeyFileName} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", name, fi.Mode(), err)
		}
	}
	if code, _, errs := runCmd(t, "keygen", "--out", dir); code != 2 || !strings.Contains(errs, "refusing to overwrite") {
		t.Fatalf("second keygen: exit %d %q", code, errs)
	}
}

func TestVerifyCommand(t *testing.T) {
	keyDir, logDir := fixture(t)
	hmacKey := filepath.Join(keyDir, audit.HMACKeyFileName)
	pub := filepath.Join(keyDir, audit.SM2PublicKeyFileName)
	tests := []struct {
		desc     string
		args     []string
		tamper   bool
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{desc: "both keys", args: []string{"verify", logDir, "--key-file", hmacKey, "--pubkey", pub, "--expect-closed"}, wantOut: "OK: 8 records in 1 files"},
		{desc: "flags first", args: []string{"verify", "--pubkey", pub, logDir}, wantOut: "record MACs NOT verified"},
		{desc: "no keys warns", args: []string{"verify", logDir}, wantErr: "only the structure"},
		{desc: "json", args: []string{"verify", logDir, "--key-file", hmacKey, "--json"}, wantOut: `"macs_checked": true`},
		{desc: "tampered", args: []string{"verify", logDir, "--key-file", hmacKey}, tamper: true, wantCode: 1, wantOut: ".jsonl:4 seq 4: mac_mismatch"},
		{desc: "missing dir argument", args: []string{"verify"}, wantCode: 2, wantErr: "exactly one DIR"},
		{desc: "bad key file", args: []string{"verify", logDir, "--key-file", pub}, wantCode: 2, wantErr: "not hex"},
		{desc: "no such dir", args: []string{"verify", "/nonexistent/audit"}, wantCode: 2, wantErr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if tc.tamper {
				files, _ := filepath.Glob(filepath.Join(logDir, "audit-*.jsonl"))
				data, _ := os.ReadFile(files[0])
				os.WriteFile(files[0], bytes.Replace(data, []byte(`"rows":1`), []byte(`"rows":0`), 1), 0o600)
			}
			code, out, errs := runCmd(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(out, tc.wantOut) || !strings.Contains(errs, tc.wantErr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant out %q err %q", code, tc.wantCode, out, errs, tc.wantOut, tc.wantErr)
			}
		})
	}
}

func TestTailAndShow(t *testing.T) {
	keyDir, logDir := fixture(t)
	sm4 := filepath.Join(keyDir, audit.SM4KeyFileName)
	tests := []struct {
		desc     string
		args     []string
		golden   string // compare stdout with testdata/<golden>
		wantOut  string
		wantCode int
		wantErr  string
	}{
		{desc: "tail text", args: []string{"tail", "--dir", logDir}, golden: "tail.golden"},
		{desc: "tail filtered json", args: []string{"tail", logDir, "--user", "bob", "--json"}, wantOut: `"user":"bob"`},
		{desc: "tail last 1 decision", args: []string{"tail", logDir, "-n", "1", "--decision", "mask"}, wantOut: "alice@10.0.0.8:53211 hukou mask select"},
		{desc: "tail since future", args: []string{"tail", logDir, "--since", "2030-01-01T00:00:00Z"}, wantOut: ""},
		{desc: "tail none", args: []string{"tail", logDir, "-n", "0"}, wantOut: ""},
		{desc: "tail negative n", args: []string{"tail", logDir, "-n", "-1"}, wantCode: 2, wantErr: "-n -1"},
		{desc: "tail bad since", args: []string{"tail", logDir, "--since", "yesterday"}, wantCode: 2, wantErr: "--since"},
		{desc: "show encrypted", args: []string{"show", logDir, "--type", "statement", "--user", "alice"}, wantOut: `"literals_enc":"`},
		{desc: "show decrypted", args: []string{"show", logDir, "--type", "statement", "--decrypt", "--sm4-key-file", sm4}, wantOut: `"literals":["11010519491231002X"]`},
		{desc: "decrypt needs key", args: []string{"show", logDir, "--decrypt"}, wantCode: 2, wantErr: "--sm4-key-file"},
		{desc: "no dir", args: []string{"tail"}, wantCode: 2, wantErr: "--dir is required"},
		{desc: "help", args: []string{"tail", "--help"}, wantErr: "usage: audit tail"},
		{desc: "unknown command", args: []string{"rm"}, wantCode: 2, wantErr: `unknown command "rm"`},
		{desc: "no command", args: nil, wantCode: 2, wantErr: "usage: audit <command>"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			code, out, errs := runCmd(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(out, tc.wantOut) || !strings.Contains(errs, tc.wantErr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.wantCode, out, errs)
			}
			if tc.golden == "" {
				return
			}
			path := filepath.Join("testdata", tc.golden)
			if *update {
				os.WriteFile(path, []byte(out), 0o644)
			}
			want, err := os.ReadFile(path)
			if err != nil || string(want) != out {
				t.Fatalf("output differs from %s (-update to accept):\n%s", path, out)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the follow goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestTailFollow(t *testing.T) {
	keyDir, logDir := fixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	since := time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	go func() {
		// --since rather than -n 0: the records must be followed whether tail
		// starts before or after the writer (a race on a loaded machine).
		done <- run(ctx, []string{"tail", "-f", "--since", since, "--dir", logDir, "--user", "carol"}, &out, &errb)
	}()
	l, err := audit.Open(audit.Config{Dir: logDir,
		HMACKeyFile:       filepath.Join(keyDir, audit.HMACKeyFileName),
		SM2PrivateKeyFile: filepath.Join(keyDir, audit.SM2PrivateKeyFileName),
		RotateBytes:       4096}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 { // enough to rotate
		if err := l.Record(&audit.Event{Type: audit.TypeStatement, User: "carol", Database: "db", Decision: "allow",
			StatementKind: "select", Normalized: strings.Repeat("SELECT ? ", 40), StatementID: uint64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.String(), " carol db ") < 12 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if n := strings.Count(out.String(), " carol db "); n != 12 {
		t.Fatalf("followed %d records, want 12:\n%s", n, out.String())
	}
}

// TestTailWidensAcrossFiles: -n larger than the newest files hold reads
// further back, and never more than asked.
func TestTailWidensAcrossFiles(t *testing.T) {
	keyDir, logDir := fixture(t)
	l, err := audit.Open(audit.Config{Dir: logDir,
		HMACKeyFile:       filepath.Join(keyDir, audit.HMACKeyFileName),
		SM2PrivateKeyFile: filepath.Join(keyDir, audit.SM2PrivateKeyFileName),
		RotateBytes:       4096}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if err := l.Record(&audit.Event{Type: audit.TypeStatement, User: "dave", Normalized: strings.Repeat("SELECT ? ", 30), StatementID: uint64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	tests := []struct {
		desc string
		n    string
		want int
	}{
		{desc: "fewer than one file holds", n: "2", want: 2},
		{desc: "more than two files hold", n: "35", want: 35},
		{desc: "more than exist", n: "1000", want: 40},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			code, out, errs := runCmd(t, "tail", logDir, "--user", "dave", "-n", tc.n)
			if code != 0 || strings.Count(out, "\n") != tc.want || !strings.Contains(out, "seq=") {
				t.Fatalf("exit %d, %d lines (want %d): %s %s", code, strings.Count(out, "\n"), tc.want, out, errs)
			}
		})
	}
}

// A long verify says how far it has come, at most once per interval; a
// short one says nothing.
func TestVerifyProgress(t *testing.T) {
	var out bytes.Buffer
	clock := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	report := verifyProgress(&out, now, 5*time.Second)
	steps := []struct {
		at    time.Duration
		files int
	}{{1 * time.Second, 1}, {4 * time.Second, 2}, {6 * time.Second, 3}, {7 * time.Second, 4}, {12 * time.Second, 5}}
	start := clock
	for _, s := range steps {
		clock = start.Add(s.at)
		report(audit.VerifyProgress{FilesDone: s.files, Files: 9, Records: uint64(s.files) * 120000,
			Bytes: int64(s.files) * 64 << 20, File: fmt.Sprintf("f%d", s.files)})
	}
	want := "audit verify: 3/9 files, 360000 records, 192 MiB, 60000 records/s (f3)\n" +
		"audit verify: 5/9 files, 600000 records, 320 MiB, 50000 records/s (f5)\n"
	if out.String() != want {
		t.Errorf("progress:\n%s\nwant:\n%s", out.String(), want)
	}
}
