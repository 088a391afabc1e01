package audit

import (
	"slices"
	"time"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// jsonPlain marks the bytes appendJSONString copies as they are: printable
// ASCII other than '"' and '\\'.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string. Control characters are
// escaped and invalid UTF-8 becomes U+FFFD, so every record is valid JSON
// whatever the client sent.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
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

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendTime appends t formatted with timeLayout; the bytes are those of
// t.AppendFormat(dst, timeLayout) (TestAppendTimeMatchesFormat), computed
// with one zone lookup instead of the general layout interpreter.
func appendTime(dst []byte, t time.Time) []byte {
	_, offset := t.Zone()
	secs := t.Unix() + int64(offset)
	days := secs / 86400
	sod := secs - days*86400
	if sod < 0 {
		days--
		sod += 86400
	}
	year, month, day := civilFromDays(days)
	zone := offset / 60 // minutes, truncated as AppendFormat does
	if year < 0 || year > 9999 || zone <= -100*60 || zone >= 100*60 {
		return t.AppendFormat(dst, timeLayout)
	}
	dst = appendDigits(dst, uint64(year), 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, uint64(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, uint64(day), 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, uint64(sod/3600), 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, uint64(sod/60%60), 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, uint64(sod%60), 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, uint64(t.Nanosecond()), 9)
	if offset == 0 {
		return append(dst, 'Z')
	}
	if zone < 0 {
		dst = append(dst, '-')
		zone = -zone
	} else {
		dst = append(dst, '+')
	}
	dst = appendDigits(dst, uint64(zone/60), 2)
	dst = append(dst, ':')
	return appendDigits(dst, uint64(zone%60), 2)
}

// appendDigits appends the last width decimal digits of v, zero-padded.
func appendDigits(dst []byte, v uint64, width int) []byte {
	n := len(dst)
	dst = append(dst, "000000000"[:width]...)
	for i := len(dst) - 1; i >= n; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
	return dst
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian
// date (Howard Hinnant's civil_from_days algorithm).
func civilFromDays(z int64) (year int64, month, day int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11]
	day = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		month = int(mp + 3)
	} else {
		month = int(mp - 9)
	}
	year = yoe + era*400
	if month <= 2 {
		year++
	}
	return year, month, day
}
