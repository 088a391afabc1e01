package audit

import (
	"bytes"
	mrand "math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // real zones with historic offsets, whatever the host has
	"unicode/utf8"
)

// TestAppendTimeMatchesFormat compares appendTime with AppendFormat over
// random instants of years 0-9999 (and beyond, the fallback) in zones with
// odd offsets, including local mean times with seconds.
func TestAppendTimeMatchesFormat(t *testing.T) {
	zones := []*time.Location{time.UTC, time.Local,
		time.FixedZone("CST", 8*3600), time.FixedZone("NPT", 5*3600+45*60), time.FixedZone("NST", -(3*3600 + 30*60)),
		time.FixedZone("", 30), time.FixedZone("", -30), time.FixedZone("", -59), time.FixedZone("", 60),
		time.FixedZone("", 8*3600+5*60+43), time.FixedZone("", -(4*3600 + 56*60 + 2)),
		time.FixedZone("", 14*3600), time.FixedZone("", -12*3600), time.FixedZone("", 99*3600+59*60), time.FixedZone("", -100*3600),
	}
	for _, name := range []string{"Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu", "Africa/Monrovia", "Pacific/Kiritimati"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, loc)
	}
	lo := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Add(-48 * time.Hour).Unix()
	hi := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Add(48 * time.Hour).Unix()
	instants := []time.Time{{}, time.Unix(0, 0), time.Unix(-1, 999999999), time.Unix(951782400, 0), // 2000-02-29
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 2, 28, 23, 59, 59, 0, time.UTC), time.Now()}
	rng := mrand.New(mrand.NewPCG(3, 4))
	for range 20000 {
		instants = append(instants, time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9)))
	}
	for range 2000 { // around day boundaries of recent years
		day := time.Date(1960+rng.IntN(150), time.Month(1+rng.IntN(12)), 1+rng.IntN(31), 0, 0, 0, 0, time.UTC)
		instants = append(instants, day.Add(time.Duration(rng.Int64N(int64(2*time.Minute)))-time.Minute))
	}
	var got, want []byte
	for _, loc := range zones {
		for _, at := range instants {
			at = at.In(loc)
			got = appendTime(got[:0], at)
			want = at.AppendFormat(want[:0], timeLayout)
			if !bytes.Equal(got, want) {
				t.Fatalf("%v (%s): appendTime %s, AppendFormat %s", at.UTC(), loc, got, want)
			}
		}
	}
}

func BenchmarkAppendTime(b *testing.B) {
	at := time.Now()
	buf := make([]byte, 0, 64)
	b.Run("appendTime", func(b *testing.B) {
		for b.Loop() {
			buf = appendTime(buf[:0], at)
		}
	})
	b.Run("AppendFormat", func(b *testing.B) {
		for b.Loop() {
			buf = at.AppendFormat(buf[:0], timeLayout)
		}
	})
}

// appendJSONStringRef is the byte-by-byte encoder appendJSONString replaced;
// records must keep exactly its bytes.
func appendJSONStringRef(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// TestAppendJSONStringSameBytes: every byte value alone and in context, and
// random strings biased towards special bytes, encode as before.
func TestAppendJSONStringSameBytes(t *testing.T) {
	var cases []string
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"中\xe4\xb8")
	}
	rng := mrand.New(mrand.NewPCG(5, 6))
	alphabet := []byte("ab\"\\\n\r\t\x00\x1f\x7f\x80\xbf\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\xff ")
	for range 20000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			if rng.IntN(4) == 0 {
				b[i] = byte(rng.Uint32())
			} else {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got, want := appendJSONString(nil, s), appendJSONStringRef(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONStringSameBytes(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\"back\\slash", "\x00\x1f\x7f", "中文", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := appendJSONString(nil, s), appendJSONStringRef(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	})
}
