package masking

// LuhnValid reports whether digits (ASCII digits only) pass the Luhn check.
func LuhnValid(digits []byte) bool {
	if len(digits) < 2 {
		return false
	}
	sum, double := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		c := digits[i]
		if !isDigit(c) {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// ValidBankCard reports whether b is 16–19 digits passing Luhn. Some
// domestic account numbers fail Luhn; Detect treats Luhn as required so that
// free text is not over-matched.
func ValidBankCard(b []byte) bool {
	return len(b) >= 16 && len(b) <= 19 && LuhnValid(b)
}

// bankCardMasker keeps keep_first + keep_last digits (6 + 4: issuer BIN and
// the last group); separators (spaces, '-') pass through. A number that fails
// Luhn is masked by the same rule: the check only serves detection.
type bankCardMasker struct {
	keep     keepRule
	maskRune rune
}

// Mask implements Masker.
func (m *bankCardMasker) Mask(dst, src []byte) []byte {
	if len(src) >= 16 && len(src) <= 19 && allDigits(src) {
		first, last := m.keep.shrink(len(src))
		return appendFixedMask(dst, src, first, last, m.maskRune)
	}
	return appendKeep(dst, src, m.keep, m.maskRune, notSeparator)
}
