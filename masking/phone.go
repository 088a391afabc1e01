package masking

// ValidMobile reports whether b is a mainland mobile number: 1[3-9] + 9 digits.
func ValidMobile(b []byte) bool {
	return len(b) == 11 && b[0] == '1' && b[1] >= '3' && b[1] <= '9' && allDigits(b)
}

// ValidLandline reports whether b is a landline number with area code:
// 0 + 2–3 digits, optional '-', 7–8 digits.
func ValidLandline(b []byte) bool {
	if len(b) < 10 || b[0] != '0' {
		return false
	}
	digits, dashes := 0, 0
	for i, c := range b {
		switch {
		case isDigit(c):
			digits++
		case c == '-' && i >= 3 && i <= 4 && dashes == 0:
			dashes++
		default:
			return false
		}
	}
	local := digits - areaCodeLen(b)
	return local >= 7 && local <= 8
}

// areaCodeLen is 3 for 010 and 02x (Beijing and the big cities), else 4.
func areaCodeLen(digits []byte) int {
	if len(digits) > 1 && (digits[1] == '1' || digits[1] == '2') {
		return 3
	}
	return 4
}

// phoneMasker masks mobiles keeping keep_first + keep_last digits (3 + 4),
// landlines keeping the area code + landline_keep_last digits (2). A country
// prefix (+86, 0086, 86) and separators pass through.
type phoneMasker struct {
	mobile       keepRule
	landlineLast int
	maskRune     rune
}

// Mask implements Masker.
func (m *phoneMasker) Mask(dst, src []byte) []byte {
	if len(src) == 11 && ValidMobile(src) { // the common case: no allocation, no decoding
		first, last := m.mobile.shrink(11)
		return appendFixedMask(dst, src, first, last, m.maskRune)
	}
	prefix := countryPrefixLen(src)
	dst = append(dst, src[:prefix]...)
	rest := src[prefix:]
	n := countRunes(rest, notSeparator)
	if n >= 10 && n <= 12 && rest[0] == '0' {
		area := areaCodeLen(rest)
		last := m.landlineLast
		if n-area-last < 3 {
			last = 0
		}
		return appendKeepExact(dst, rest, area, n-last, m.maskRune, notSeparator)
	}
	return appendKeep(dst, rest, m.mobile, m.maskRune, notSeparator)
}

// countryPrefixLen recognises +86 / 0086 / 86 (followed by a separator or an
// 11-digit mobile) and returns its length including the following separators.
func countryPrefixLen(src []byte) int {
	n := 0
	switch {
	case hasPrefixString(src, "+86"):
		n = 3
	case hasPrefixString(src, "0086"):
		n = 4
	case hasPrefixString(src, "86") && countRunes(src, notSeparator) == 13:
		n = 2
	default:
		return 0
	}
	for n < len(src) && (src[n] == ' ' || src[n] == '-') {
		n++
	}
	if countRunes(src[n:], notSeparator) < 7 { // no number after it: mask it like any value
		return 0
	}
	return n
}
