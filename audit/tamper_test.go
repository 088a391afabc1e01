package audit

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	fixtureOnce sync.Once
	fixtureDir  string
)

// tamperFixture builds, once, a closed log of several small files with
// periodic checkpoints, and returns a fresh copy of it.
func tamperFixture(t *testing.T) string {
	t.Helper()
	fixtureOnce.Do(func() {
		dir, err := os.MkdirTemp("", "audit-fixture-")
		if err != nil {
			panic(err)
		}
		cfg := testConfig(t, dir)
		cfg.RotateBytes = 4096
		cfg.CheckpointEvery = 3
		l, err := Open(cfg, nil)
		if err != nil {
			panic(err)
		}
		for i := range 40 {
			if err := l.Record(statementEvent(i)); err != nil {
				panic(err)
			}
		}
		if err := l.Close(); err != nil {
			panic(err)
		}
		fixtureDir = dir
	})
	dst := t.TempDir()
	entries, _ := os.ReadDir(fixtureDir)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(fixtureDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// fileLines returns the lines of the i'th file (negative: from the end).
func fileLines(t *testing.T, dir string, i int) (string, []string) {
	t.Helper()
	files := logFiles(t, dir)
	if i < 0 {
		i += len(files)
	}
	data, err := os.ReadFile(files[i])
	if err != nil {
		t.Fatal(err)
	}
	return files[i], strings.SplitAfter(string(data), "\n")
}

func writeLines(t *testing.T, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

func seqOf(t *testing.T, line string) uint64 {
	t.Helper()
	r, err := ParseRecord([]byte(line))
	if err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	return r.Seq
}

// TestVerifyDetectsTampering changes the fixture in every way an attacker
// with write access could, and checks that Verify names the first place the
// change shows, with the right kind.
func TestVerifyDetectsTampering(t *testing.T) {
	pubOnly := func(t *testing.T) VerifyOptions { return VerifyOptions{PublicKey: &testKeys(t).SM2.PublicKey} }
	tests := []struct {
		desc string
		opts func(t *testing.T) VerifyOptions // default: both keys
		// tamper changes dir and returns the expected first problem.
		tamper func(t *testing.T, dir string) Problem
	}{
		{
			desc: "edit one byte of a field",
			tamper: func(t *testing.T, dir string) Problem {
				path, lines := fileLines(t, dir, 1)
				lines[2] = strings.Replace(lines[2], `"rows":1`, `"rows":9`, 1)
				writeLines(t, path, lines)
				return Problem{File: filepath.Base(path), Line: 3, Seq: seqOf(t, lines[2]), Kind: ProblemMAC}
			},
		},
		{
			desc: "edit the mac field",
			tamper: func(t *testing.T, dir string) Problem {
				path, lines := fileLines(t, dir, 1)
				i := strings.LastIndex(lines[3], `"mac":"`) + 7
				c := byte('0')
				if lines[3][i] == '0' {
					c = '1'
				}
				lines[3] = lines[3][:i] + string(c) + lines[3][i+1:]
				writeLines(t, path, lines)
				return Problem{File: filepath.Base(path), Line: 4, Seq: seqOf(t, lines[3]), Kind: ProblemMAC}
			},
		},
		{
			desc: "delete a line",
			tamper: func(t *testing.T, dir string) Problem {
				path, lines := fileLines(t, dir, 1)
				want := Problem{File: filepath.Base(path), Line: 3, Seq: seqOf(t, lines[3]), Kind: ProblemSeqGap}
				writeLines(t, path, append(lines[:2:2], lines[3:]...))
				return want
			},
		},
		{
			desc: "insert a copy of an earlier line",
			tamper: func(t *testing.T, dir string) Problem {
				path, lines := fileLines(t, dir, 1)
				out := append(append(append([]string{}, lines[:3]...), lines[1]), lines[3:]...)
				writeLines(t, path, out)
				return Problem{File: filepath.Base(path), Line: 4, Seq: seqOf(t, lines[1]), Kind: ProblemSeqOrder}
			},
		},
		{
			desc: "insert a fabricated line with the next seq",
			tamper: func(t *testing.T, dir string) Problem {
				path, lines := fileLines(t, dir, 1)
				seq := seqOf(t, lines[2]) + 1
				fake := strings.Replace(lines[3], `"user":"alice"`, `"user":"mallory"`, 1)
				out := append(append(append([]string{}, lines[:3]...), fake), lines[3:]...)
				writeLines(t, path, out)
				return Problem{File: filepath.Base(path), Line: 4, Seq: seq, Kind: ProblemMAC}
			},
		},
		{
			desc: "swap two lines",
			tamper: func(t *testing.T, dir string) Problem {
				path, lines := fileLines(t, dir, 1)
				lines[2], lines[3] = lines[3], lines[2]
				writeLines(t, path, lines)
				return Problem{File: filepath.Base(path), Line: 3, Seq: seqOf(t, lines[2]), Kind: ProblemSeqGap}
			},
		},
		{
			desc: "truncate the last line",
			tamper: func(t *testing.T, dir string) Problem {
				path, lines := fileLines(t, dir, -1)
				last := len(lines) - 2 // SplitAfter leaves "" after the final newline
				lines[last] = lines[last][:len(lines[last])/2]
				writeLines(t, path, lines)
				return Problem{File: filepath.Base(path), Line: last + 1, Kind: ProblemTornTail}
			},
		},
		{
			desc: "truncate a middle file at a line boundary",
			tamper: func(t *testing.T, dir string) Problem {
				path, lines := fileLines(t, dir, 1)
				writeLines(t, path, lines[:2])
				next, nextLines := fileLines(t, dir, 2)
				return Problem{File: filepath.Base(next), Line: 1, Seq: seqOf(t, nextLines[0]), Kind: ProblemChainBreak}
			},
		},
		{
			desc: "delete a whole middle file",
			tamper: func(t *testing.T, dir string) Problem {
				files := logFiles(t, dir)
				os.Remove(files[2])
				return Problem{File: filepath.Base(files[3]), Kind: ProblemMissingFile}
			},
		},
		{
			desc: "delete the newest file",
			tamper: func(t *testing.T, dir string) Problem {
				files := logFiles(t, dir)
				os.Remove(files[len(files)-1])
				path, lines := fileLines(t, dir, -1)
				return Problem{File: filepath.Base(path), Line: len(lines) - 1, Seq: seqOf(t, lines[len(lines)-2]), Kind: ProblemMissingFile}
			},
		},
		{
			desc: "delete the oldest file without a retention record",
			tamper: func(t *testing.T, dir string) Problem {
				files := logFiles(t, dir)
				os.Remove(files[0])
				_, lines := fileLines(t, dir, 0)
				return Problem{File: filepath.Base(files[1]), Line: 1, Seq: seqOf(t, lines[0]), Kind: ProblemMissingOldest}
			},
		},
		{
			desc: "forged checkpoint signature, public key only",
			opts: pubOnly,
			tamper: func(t *testing.T, dir string) Problem {
				path, lines := fileLines(t, dir, 1)
				for i, line := range lines {
					r, err := ParseRecord([]byte(line))
					if err != nil || r.Checkpoint == nil || r.Checkpoint.Anchor {
						continue
					}
					other, _ := GenerateKeys()
					sig, _ := other.SM2.Sign(nil, checkpointMessage(r.Seq, r.Time.Format(timeLayout), r.Checkpoint), nil)
					lines[i] = strings.Replace(line, r.Checkpoint.Sig, base64.StdEncoding.EncodeToString(sig), 1)
					writeLines(t, path, lines)
					return Problem{File: filepath.Base(path), Line: i + 1, Seq: r.Seq, Kind: ProblemSignature}
				}
				t.Fatal("no periodic checkpoint in file 1")
				return Problem{}
			},
		},
		{
			desc: "checkpoint head changed, public key only",
			opts: pubOnly,
			tamper: func(t *testing.T, dir string) Problem {
				path, lines := fileLines(t, dir, 1)
				for i, line := range lines {
					r, err := ParseRecord([]byte(line))
					if err != nil || r.Checkpoint == nil || r.Checkpoint.Anchor {
						continue
					}
					lines[i] = strings.Replace(line, `"head_mac":"`+r.Checkpoint.HeadMAC, `"head_mac":"`+zeroMACHex, 1)
					writeLines(t, path, lines)
					return Problem{File: filepath.Base(path), Line: i + 1, Seq: r.Seq, Kind: ProblemChainBreak}
				}
				t.Fatal("no periodic checkpoint in file 1")
				return Problem{}
			},
		},
		{
			desc: "file renamed to a later index",
			tamper: func(t *testing.T, dir string) Problem {
				files := logFiles(t, dir)
				last := files[len(files)-1]
				f, _ := parseFileName(filepath.Base(last))
				renamed := fileName(f.created, f.index+1)
				os.Rename(last, filepath.Join(dir, renamed))
				return Problem{File: renamed, Kind: ProblemMissingFile}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			dir := tamperFixture(t)
			opts := verifyOpts(t)
			if tc.opts != nil {
				opts = tc.opts(t)
			}
			if rep, err := Verify(dir, opts); err != nil {
				t.Fatalf("untouched fixture does not verify: %v %v", err, rep.Problems)
			}
			want := tc.tamper(t, dir)
			rep, err := Verify(dir, opts)
			if err == nil || rep.OK() {
				t.Fatalf("Verify passed after tampering; notes %q", rep.Notes)
			}
			got := rep.Problems[0]
			if got.File != want.File || got.Line != want.Line || got.Kind != want.Kind || (want.Seq != 0 && got.Seq != want.Seq) {
				t.Fatalf("first problem\n got %s (seq %d)\nwant %s (seq %d)\nall: %v", got, got.Seq, want, want.Seq, rep.Problems)
			}
			if len(rep.Problems) > 3 {
				t.Errorf("one change cascaded into %d problems: %v", len(rep.Problems), rep.Problems)
			}
		})
	}
}

// TestVerifyPublicKeyOnly documents the limit: without the HMAC key a content
// edit is not detected, and the report says contents were not verified.
func TestVerifyPublicKeyOnly(t *testing.T) {
	dir := tamperFixture(t)
	path, lines := fileLines(t, dir, 1)
	lines[2] = strings.Replace(lines[2], `"rows":1`, `"rows":9`, 1)
	writeLines(t, path, lines)
	rep, err := Verify(dir, VerifyOptions{PublicKey: &testKeys(t).SM2.PublicKey})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if rep.MACsChecked || rep.SignaturesValid == 0 || !strings.Contains(strings.Join(rep.Notes, "\n"), "NOT verified") {
		t.Fatalf("report does not say what was not verified: %+v", rep)
	}
}

func TestVerifyWrongKeys(t *testing.T) {
	dir := tamperFixture(t)
	other, err := GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc string
		opts VerifyOptions
		kind string
	}{
		{desc: "wrong HMAC key", opts: VerifyOptions{HMACKey: other.HMAC}, kind: ProblemMAC},
		{desc: "wrong public key", opts: VerifyOptions{PublicKey: &other.SM2.PublicKey}, kind: ProblemSignature},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			rep, err := Verify(dir, tc.opts)
			if err == nil || rep.Problems[0].Kind != tc.kind {
				t.Fatalf("got %v, %v", err, rep.Problems)
			}
		})
	}
}
