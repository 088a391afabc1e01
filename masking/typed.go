package masking

import "unicode/utf8"

// ValueType is the type family of a column, as far as masking cares: it
// decides which masked forms a driver can still decode.
type ValueType uint8

// Column type families. Text protocol values of MySQL and PostgreSQL.
const (
	// String is CHAR, VARCHAR, TEXT, ENUM, SET, JSON treated as text.
	String ValueType = iota
	// Integer is TINYINT … BIGINT, INT2/4/8, with optional sign.
	Integer
	// Decimal is DECIMAL/NUMERIC: digits with an optional '.' and sign.
	Decimal
	// Float is FLOAT/DOUBLE/REAL, possibly with an exponent.
	Float
	// Date is YYYY-MM-DD.
	Date
	// DateTime is DATETIME/TIMESTAMP[TZ]: YYYY-MM-DD hh:mm:ss[.frac][zone].
	DateTime
	// Time is TIME: [-]hh:mm:ss[.frac].
	Time
	// Year is MySQL YEAR: four digits.
	Year
	// Binary is BINARY/VARBINARY/BLOB/BYTEA (as sent in text form).
	Binary
	// Other is any type with no safe masked form (geometry, arrays, ...):
	// MaskTyped always answers ok=false for it.
	Other
)

var valueTypeNames = [...]string{"string", "integer", "decimal", "float", "date", "datetime", "time", "year", "binary", "other"}

// String returns the lower-case name of the type.
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return "other"
}

// typedMasker is implemented by maskers that know a better type-correct form
// than the generic treatment (dates generalise to 1987-01-01, numbers to the
// lower bound of their range, pseudonyms to shorter digit strings).
type typedMasker interface {
	maskTyped(dst, src []byte, t ValueType) ([]byte, bool)
}

// MaskTyped masks src (the column's text form as MySQL/PostgreSQL text
// protocol sends it) for a column of type t. ok=false means "no type-correct
// masked form exists: send NULL"; out is then dst unchanged in content.
//
// Treatments (see doc.go for the full table):
//   - String, Binary: m.Mask as is.
//   - Integer, Decimal, Float, Time, Year: each digit that m changed
//     becomes 0 (13812345678 → 13800005678), so the
//     result never exceeds the input in magnitude and fits the column.
//   - Date, DateTime: as above, then a month or day with any hidden digit
//     becomes 01 and time fields with a hidden digit become 00
//     (1987-**-** → 1987-01-01); a wholly hidden year gives NULL.
//   - Hidden punctuation of the layout ('-', '+', '.', ':', ' ', 'T', exponent 'e') is
//     put back; m that changes the length or hides a letter, and the null
//     algorithm: ok=false.
func MaskTyped(m Masker, dst, src []byte, t ValueType) (out []byte, ok bool) {
	if _, isNull := m.(nullMasker); isNull {
		return dst, false
	}
	if tm, has := m.(typedMasker); has {
		return tm.maskTyped(dst, src, t)
	}
	switch t {
	case String, Binary:
		return m.Mask(dst, src), true
	case Integer, Decimal, Float, Time, Year, Date, DateTime:
		return maskNumericText(m, dst, src, t)
	}
	return dst, false
}

// maskNumericText runs m and zeroes the digits it hid, in place in dst.
func maskNumericText(m Masker, dst, src []byte, t ValueType) ([]byte, bool) {
	for _, c := range src {
		if c >= utf8.RuneSelf {
			return dst, false
		}
	}
	start := len(dst)
	dst = m.Mask(dst, src)
	masked := dst[start:]
	// Each masked rune maps to one output byte at a position ≤ its own, so
	// rewriting in place is safe.
	w, i := start, 0
	anyHidden := false
	for off := 0; off < len(masked); i++ {
		r, size := utf8.DecodeRune(masked[off:])
		off += size
		if i >= len(src) {
			return dst[:start], false
		}
		c := src[i]
		if r != rune(c) {
			switch {
			case isDigit(c):
				c = '0'
				anyHidden = true
			case !isLayoutByte(c): // a hidden letter (NaN, e, BC): no safe form
				return dst[:start], false
			} // hidden layout punctuation is restored: it carries no data
		}
		dst[w] = c
		w++
	}
	if i != len(src) {
		return dst[:start], false
	}
	dst = dst[:w]
	if anyHidden && (t == Date || t == DateTime) {
		if !fixDateFields(dst[start:], src) {
			return dst[:start], false
		}
	}
	return dst, true
}

// fixDateFields turns partially hidden date/time fields of out (same layout
// as src) into their minimum: month and day 01, hours/minutes/seconds 00.
func fixDateFields(out, src []byte) bool {
	if len(out) < 10 || out[4] != '-' || out[7] != '-' {
		return false
	}
	if string(out[:4]) == "0000" {
		return false
	}
	fix := func(lo, hi int, minimum string) {
		if string(out[lo:hi]) != string(src[lo:hi]) {
			copy(out[lo:hi], minimum)
		}
	}
	fix(5, 7, "01")
	fix(8, 10, "01")
	if len(out) >= 19 && (out[10] == ' ' || out[10] == 'T') {
		fix(11, 13, "00")
		fix(14, 16, "00")
		fix(17, 19, "00")
	}
	return true
}

// isLayoutByte is punctuation of numeric and temporal text forms.
func isLayoutByte(c byte) bool {
	switch c {
	case '-', '+', '.', ':', ' ', 'T', 'e', 'E':
		return true
	}
	return false
}
