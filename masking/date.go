package masking

// dateParts is a parsed calendar date; month and day are 0 when absent.
type dateParts struct {
	year, month, day int
}

// parseDate reads the date at the start of b: YYYYMMDD, YYYY-M-D with '-',
// '/', '.' or 年/月/日 separators, YYYY-MM, or YYYY; a following time part
// (after ' ' or 'T') is ignored. Dates must exist in the calendar.
func parseDate(b []byte) (dateParts, bool) {
	var p dateParts
	if len(b) < 4 || !allDigits(b[:4]) {
		return p, false
	}
	p.year = atoiDigits(b[:4])
	rest := b[4:]
	if len(rest) >= 4 && allDigits(rest[:4]) { // YYYYMMDD
		p.month, p.day = atoiDigits(rest[:2]), atoiDigits(rest[2:4])
		rest = rest[4:]
	} else if len(rest) > 0 {
		var ok bool
		if p.month, rest, ok = datePart(rest, "年"); !ok {
			return p, false
		}
		if len(rest) > 0 && rest[0] != ' ' && rest[0] != 'T' {
			if p.day, rest, ok = datePart(rest, "月"); !ok {
				return p, false
			}
			rest = trimPrefix(rest, "日")
		}
	}
	if len(rest) > 0 && rest[0] != ' ' && rest[0] != 'T' {
		return p, false
	}
	if p.year < 1 || p.month > 12 || p.month == 0 && p.day != 0 {
		return p, false
	}
	if p.day != 0 && !validDate(p.year, p.month, p.day) {
		return p, false
	}
	return p, true
}

// datePart reads a separator ('-', '/', '.' or cjk) followed by 1–2 digits.
func datePart(b []byte, cjk string) (int, []byte, bool) {
	switch {
	case len(b) > 0 && (b[0] == '-' || b[0] == '/' || b[0] == '.'):
		b = b[1:]
	case hasPrefixString(b, cjk):
		b = b[len(cjk):]
	default:
		return 0, b, false
	}
	n := 0
	for n < len(b) && n < 2 && isDigit(b[n]) {
		n++
	}
	if n == 0 {
		return 0, b, false
	}
	v := atoiDigits(b[:n])
	if v == 0 {
		return 0, b, false
	}
	return v, b[n:], true
}

func trimPrefix(b []byte, prefix string) []byte {
	if hasPrefixString(b, prefix) {
		return b[len(prefix):]
	}
	return b
}

// dateMasker generalises a date (birthday, date) to its year ("1987") or,
// with precision=month, to year and month ("1987-06"). A value that is not a
// date is masked entirely.
type dateMasker struct {
	keepMonth bool
	maskRune  rune
}

func newDateMasker(p *paramReader, maskRune rune) (Masker, error) {
	precision := p.choiceParam("precision", "year", "year", "month")
	return &dateMasker{keepMonth: precision == "month", maskRune: maskRune}, p.err
}

// Mask implements Masker.
func (m *dateMasker) Mask(dst, src []byte) []byte {
	d, ok := parseDate(src)
	if !ok {
		return appendAllMasked(dst, src, m.maskRune)
	}
	dst = appendPadded(dst, d.year, 4)
	if m.keepMonth && d.month != 0 {
		dst = append(dst, '-')
		dst = appendPadded(dst, d.month, 2)
	}
	return dst
}

// maskTyped writes the generalised date in the column's own type: DATE
// 1987-01-01 (or 1987-06-01), DATETIME/TIMESTAMP with 00:00:00, YEAR 1987,
// an integer column holding YYYYMMDD as 19870101.
func (m *dateMasker) maskTyped(dst, src []byte, t ValueType) ([]byte, bool) {
	d, ok := parseDate(src)
	if !ok {
		return dst, false
	}
	month := 1
	if m.keepMonth && d.month != 0 {
		month = d.month
	}
	switch t {
	case String, Binary:
		return m.Mask(dst, src), true
	case Year:
		return appendPadded(dst, d.year, 4), true
	case Integer:
		if len(src) != 8 { // only the YYYYMMDD integer form keeps its meaning
			return dst, false
		}
		dst = appendPadded(dst, d.year, 4)
		dst = appendPadded(dst, month, 2)
		return append(dst, '0', '1'), true
	case Date, DateTime:
		dst = appendPadded(dst, d.year, 4)
		dst = append(dst, '-')
		dst = appendPadded(dst, month, 2)
		dst = append(dst, "-01"...)
		if t == DateTime {
			dst = append(dst, " 00:00:00"...)
		}
		return dst, true
	}
	return dst, false
}

// appendPadded appends non-negative v in decimal, zero-padded to width.
func appendPadded(dst []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v > 0 || i == len(buf) {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	for len(buf)-i < width {
		i--
		buf[i] = '0'
	}
	return append(dst, buf[i:]...)
}
