package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenWriter frames records with a fixed key so output is reproducible.
func goldenWriter() *writer {
	l := &Log{}
	return newWriter(l, &Keys{HMAC: []byte("0123456789abcdef0123456789abcdef")})
}

func TestRecordEncodingGolden(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 11, 23, 19, 40, 0, 123456789, loc)
	tests := []struct {
		desc string
		mode literalMode
		e    Event
	}{
		{desc: "minimal", e: Event{Type: TypeConnectionOpen, Time: at, Protocol: "postgres", SessionID: "pg-1", ClientAddr: "[::1]:5000"}},
		{desc: "full statement, literals dropped", e: *statementEvent(7)},
		{desc: "plaintext literals and detail", mode: literalsPlain, e: Event{Type: TypeAdminAction, Time: at, User: "secadmin",
			Literals: []string{"张三", "a\"b\\c\n\t\x01", "\xff invalid"}, Detail: map[string]string{"z": "last", "a": "first", "中": "文"}}},
		{desc: "denied with error", e: Event{Type: TypeStatement, Time: at, User: "bob", Decision: "deny", Reason: "bulk export needs approval",
			ErrorCode: "1142", ApprovalID: "ap-9", Rows: -1, DurationUS: 12}},
	}
	w := goldenWriter()
	var out bytes.Buffer
	for _, tc := range tests {
		e := tc.e
		if e.Time.IsZero() {
			e.Time = at
		}
		w.buf = w.buf[:0]
		w.frame(eventBody(&e, tc.mode))
		out.WriteString("# " + tc.desc + "\n")
		out.Write(w.buf)
		line := bytes.TrimSuffix(w.buf, []byte{'\n'})
		rec, err := ParseRecord(line)
		if err != nil {
			t.Fatalf("%s: written record does not parse: %v\n%s", tc.desc, err, line)
		}
		if !json.Valid(line) || rec.Type != e.Type || !rec.Time.Equal(e.Time) || rec.User != e.User || rec.Reason != e.Reason {
			t.Fatalf("%s: round trip lost data: %+v", tc.desc, rec)
		}
		if tc.mode == literalsPlain && len(rec.Literals) != len(e.Literals) {
			t.Fatalf("%s: literals %q", tc.desc, rec.Literals)
		}
	}
	golden := filepath.Join("testdata", "records.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("encoding changed; diff against %s (run with -update if intended):\n%s", golden, out.String())
	}
}

// FuzzAppendJSONString checks the hand-written string encoder against
// encoding/json: always valid JSON, and the same string back for valid UTF-8.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\"back\\slash", "\x00\x1f\x7f", "中文", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("invalid JSON %q for %q: %v", enc, s, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("round trip %q -> %q", s, back)
		}
	})
}

// FuzzParseRecord feeds arbitrary lines to the record decoder: it must never
// panic, and whatever it accepts must have a seq, a type and a MAC frame.
func FuzzParseRecord(f *testing.F) {
	w := goldenWriter()
	w.frame(eventBody(statementEvent(3), literalsPlain))
	f.Add(bytes.TrimSuffix(w.buf, []byte{'\n'}))
	f.Add([]byte(`{"seq":1,"type":"checkpoint","checkpoint":{},"mac":"` + zeroMACHex + `"}`))
	f.Add([]byte(`{"mac":"` + zeroMACHex + `"}`))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := ParseRecord(line)
		if err != nil {
			return
		}
		if rec.Seq == 0 || rec.Type == "" {
			t.Fatalf("accepted record without seq/type: %q", line)
		}
		if _, _, err := SplitLine(line); err != nil {
			t.Fatalf("accepted record with bad frame: %q", line)
		}
	})
}

// FuzzVerify writes arbitrary bytes as an audit file (alone, and after a
// valid file) and checks that Verify and analyzeTail never panic and that
// Verify never accepts garbage as a valid log.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("not json\n"))
	f.Add([]byte(`{"seq":1,"type":"checkpoint","time":"2026-11-23T11:40:00Z","checkpoint":{"reason":"genesis","anchor":true,"head_seq":0,"head_mac":"` + zeroMACHex + `","file":"x","sig":""},"mac":"` + zeroMACHex + `"}` + "\n"))
	f.Add([]byte("{\"seq\":2,\n\x00\x00"))
	keys := VerifyOptions{HMACKey: []byte("0123456789abcdef"), MaxProblems: 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		tail := analyzeTail(data)
		if tail.validEnd > int64(len(data)) || int64(len(tail.debris))+tail.validEnd != int64(len(data)) {
			t.Fatalf("analyzeTail: valid %d debris %d of %d", tail.validEnd, len(tail.debris), len(data))
		}
		dir := t.TempDir()
		name := fileName(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), 1)
		os.WriteFile(filepath.Join(dir, name), data, 0o600)
		rep, err := Verify(dir, keys)
		if err == nil && len(data) > 0 && !strings.Contains(string(data), `"mac"`) {
			t.Fatalf("garbage verified: %+v", rep)
		}
	})
}

// FuzzReader runs the line reader over arbitrary file contents split across
// two files: it must terminate without panicking and only return records
// that ParseRecord accepts.
func FuzzReader(f *testing.F) {
	w := goldenWriter()
	w.frame(eventBody(statementEvent(3), literalsPlain))
	f.Add(w.buf, []byte("torn"))
	f.Add([]byte("\n\n\n"), []byte{})
	f.Add(bytes.Repeat([]byte("x"), 70<<10), w.buf) // longer than the read buffer
	f.Fuzz(func(t *testing.T, first, second []byte) {
		dir := t.TempDir()
		at := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
		os.WriteFile(filepath.Join(dir, fileName(at, 1)), first, 0o600)
		os.WriteFile(filepath.Join(dir, fileName(at, 2)), second, 0o600)
		r, err := NewReader(dir, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for range len(first) + len(second) + 2 {
			rec, line, err := r.Next(context.Background())
			if err == io.EOF {
				return
			}
			var le *LineError
			if errors.As(err, &le) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, perr := ParseRecord(line); perr != nil || rec == nil {
				t.Fatalf("returned a line ParseRecord rejects: %q", line)
			}
		}
		t.Fatal("reader did not reach the end")
	})
}

// FuzzLeadingSeqType holds the framing reader Verify uses for records whose
// MAC chains to what it claims: when it accepts a prefix, the prefix starts
// with exactly the seq and type it returned, as the writer frames them; on
// the writer's own lines it agrees with ParseRecord.
func FuzzLeadingSeqType(f *testing.F) {
	w := goldenWriter()
	for i, e := range []*Event{statementEvent(3), {Type: TypeConnectionOpen, Protocol: "postgres", SessionID: "9"}} {
		w.buf = w.buf[:0]
		w.frame(eventBody(e, literalsPlain))
		line := bytes.TrimSuffix(w.buf, []byte{'\n'})
		prefix, _, err := SplitLine(line)
		if err != nil {
			f.Fatal(err)
		}
		rec, err := ParseRecord(line)
		if err != nil {
			f.Fatal(err)
		}
		if seq, typ, ok := leadingSeqType(prefix); !ok || seq != rec.Seq || typ != rec.Type {
			f.Fatalf("record %d: leadingSeqType = %d %q %v, ParseRecord %d %q", i, seq, typ, ok, rec.Seq, rec.Type)
		}
		f.Add(prefix)
	}
	f.Add([]byte(`{"seq":007,"type":"statement",`))
	f.Add([]byte(`{"seq":18446744073709551616,"type":"x",`))
	f.Add([]byte(`{"seq":1,"type":"Statement",`))
	f.Fuzz(func(t *testing.T, prefix []byte) {
		seq, typ, ok := leadingSeqType(prefix)
		if !ok {
			return
		}
		want := `{"seq":` + strconv.FormatUint(seq, 10) + `,"type":"` + string(typ) + `"`
		if !strings.HasPrefix(string(prefix), want) || seq == 0 {
			t.Fatalf("leadingSeqType(%q) = %d %q: the prefix does not start with %s", prefix, seq, typ, want)
		}
	})
}
