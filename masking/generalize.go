package masking

import "strconv"

// generalizeMasker replaces a number by the range of width `step` holding it:
// 37 with step 10 → "30~40" (lower bound included, upper excluded; "~" keeps
// negative bounds readable: -37 → "-40~-30"). Decimals are floored first.
// Typed numeric columns get the bound nearer to zero (30). A value that is not a
// number is masked entirely.
type generalizeMasker struct {
	step     int64
	maskRune rune
}

func newGeneralizeMasker(p *paramReader, maskRune rune) (Masker, error) {
	step := p.intParam("step", 10, 1, 1<<62)
	return &generalizeMasker{step: int64(step), maskRune: maskRune}, p.err
}

// parseFloorInt reads [-+]digits[.digits] (at most 18 integer digits) and
// returns its floor.
func parseFloorInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	i := 0
	var v int64
	for i < len(b) && isDigit(b[i]) {
		if i >= 18 {
			return 0, false
		}
		v = v*10 + int64(b[i]-'0')
		i++
	}
	if i == 0 {
		return 0, false
	}
	fraction := false
	if i < len(b) {
		if b[i] != '.' || i+1 == len(b) {
			return 0, false
		}
		for _, c := range b[i+1:] {
			if !isDigit(c) {
				return 0, false
			}
			if c != '0' {
				fraction = true
			}
		}
	}
	if neg {
		v = -v
		if fraction {
			v--
		}
	}
	return v, true
}

func (m *generalizeMasker) lowerBound(v int64) int64 {
	lo := v / m.step * m.step
	if v < 0 && lo != v {
		lo -= m.step
	}
	return lo
}

// Mask implements Masker.
func (m *generalizeMasker) Mask(dst, src []byte) []byte {
	v, ok := parseFloorInt(src)
	if !ok {
		return appendAllMasked(dst, src, m.maskRune)
	}
	lo := m.lowerBound(v)
	dst = strconv.AppendInt(dst, lo, 10)
	dst = append(dst, '~')
	return strconv.AppendInt(dst, lo+m.step, 10)
}

// maskTyped gives numeric columns the bound of the range nearer to zero (30
// for 37, -30 for -37), which never exceeds the input's magnitude and so fits
// the column; strings get the range.
func (m *generalizeMasker) maskTyped(dst, src []byte, t ValueType) ([]byte, bool) {
	switch t {
	case String, Binary:
		return m.Mask(dst, src), true
	case Integer, Decimal, Float:
		v, ok := parseFloorInt(src)
		if !ok {
			return dst, false
		}
		bound := m.lowerBound(v)
		if v < 0 { // the bound toward zero, so the magnitude never grows
			bound = min(bound+m.step, 0)
		}
		return strconv.AppendInt(dst, bound, 10), true
	}
	return dst, false
}
