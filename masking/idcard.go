package masking

// IDCardInfo is what ParseIDCard learns from a 居民身份证号 (GB 11643-1999) or
// a 港澳台居民居住证 number, which shares the format.
type IDCardInfo struct {
	// Valid is true when the length, birth date, province code and (for
	// 18-character numbers) the check character are all correct.
	Valid bool
	// Legacy marks a 15-digit number (before 1999: YYMMDD, no check char).
	Legacy bool
	// ResidencePermit marks the region codes 810000, 820000 and 830000 of
	// residence permits for Hong Kong, Macao and Taiwan residents.
	ResidencePermit bool
	// CountyKnown is true when the 6-digit region code is in the shipped
	// GB/T 2260 table (current or historical). The historical list is
	// incomplete, so an unknown county does not make a number invalid.
	CountyKnown bool
	// BirthYear, BirthMonth and BirthDay are set when Valid.
	BirthYear, BirthMonth, BirthDay int
	// Male is the parity of the sequence number (odd = male).
	Male bool
}

var idCardWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCardCheckChars = "10X98765432"

// ParseIDCard validates an identity card number. It does not allocate.
func ParseIDCard(b []byte) IDCardInfo {
	var info IDCardInfo
	switch len(b) {
	case 18:
		sum := 0
		for i := 0; i < 17; i++ {
			if !isDigit(b[i]) {
				return info
			}
			sum += int(b[i]-'0') * idCardWeights[i]
		}
		check := b[17]
		if check == 'x' {
			check = 'X'
		}
		if check != idCardCheckChars[sum%11] {
			return info
		}
		info.BirthYear = atoiDigits(b[6:10])
		info.BirthMonth = atoiDigits(b[10:12])
		info.BirthDay = atoiDigits(b[12:14])
		info.Male = (b[16]-'0')%2 == 1
	case 15:
		for i := 0; i < 15; i++ {
			if !isDigit(b[i]) {
				return info
			}
		}
		info.Legacy = true
		info.BirthYear = 1900 + atoiDigits(b[6:8])
		info.BirthMonth = atoiDigits(b[8:10])
		info.BirthDay = atoiDigits(b[10:12])
		info.Male = (b[14]-'0')%2 == 1
	default:
		return info
	}
	if info.BirthYear < 1850 || !validDate(info.BirthYear, info.BirthMonth, info.BirthDay) {
		return IDCardInfo{}
	}
	region := int32(atoiDigits(b[:6]))
	t := divisions()
	if !t.provinces[region/10000] {
		return IDCardInfo{}
	}
	info.ResidencePermit = region == 810000 || region == 820000 || region == 830000
	info.CountyKnown = info.ResidencePermit || t.region(region) != regionUnknown
	info.Valid = true
	return info
}

// ValidIDCard reports whether b is a valid identity card number.
func ValidIDCard(b []byte) bool { return ParseIDCard(b).Valid }

func atoiDigits(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(year, month int) int {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func validDate(year, month, day int) bool {
	return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month)
}

// idCardMasker keeps keep_first/keep_last characters (default 6 + 4:
// region + sequence and check char, hiding the birth date). A 15-digit number
// keeps at most 3 at the end so its YYMMDD is hidden too. Anything else is
// masked by the same rule after shrinking, separators kept.
type idCardMasker struct {
	keep     keepRule
	maskRune rune
}

// Mask implements Masker.
func (m *idCardMasker) Mask(dst, src []byte) []byte {
	switch len(src) {
	case 18:
		if allDigits(src[:17]) && (isDigit(src[17]) || src[17] == 'X' || src[17] == 'x') {
			first, last := m.keep.shrink(18)
			return appendFixedMask(dst, src, first, last, m.maskRune)
		}
	case 15:
		if allDigits(src) {
			k := m.keep
			k.last = min(k.last, 3)
			first, last := k.shrink(15)
			return appendFixedMask(dst, src, first, last, m.maskRune)
		}
	}
	return appendKeep(dst, src, m.keep, m.maskRune, notSeparator)
}

// appendFixedMask is the fast path for an ASCII value: keep first bytes and
// last bytes, mask the middle.
func appendFixedMask(dst, src []byte, first, last int, maskRune rune) []byte {
	dst = append(dst, src[:first]...)
	dst = appendMaskRunes(dst, maskRune, len(src)-first-last)
	return append(dst, src[len(src)-last:]...)
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}
