package masking

// Span is a recognised value inside free text: text[Start:End] validates as
// Class.
type Span struct {
	Start, End int
	Class      Class
}

// FindAll appends to dst the spans of text (UTF-8) that validate as one of
// the strongly checkable classes: identity card numbers (18 characters with
// check digit, or 15 digits with a valid date and province), mobile numbers,
// bank cards (16–19 digits passing Luhn, also written in groups separated by
// spaces or hyphens), USCC codes and e-mail addresses. A candidate must stand
// alone: it is not part of a longer run of ASCII letters and digits. Spans
// are in text order and do not overlap. FindAll allocates only when dst has to
// grow.
func FindAll(text []byte, dst []Span) []Span {
	for i := 0; ; {
		s, ok := nextSpan(text, i)
		if !ok {
			return dst
		}
		dst = append(dst, s)
		i = s.End
	}
}

// RedactDetected appends src to dst with every span FindAll would report
// masked by the default masker of its class (id_card 6+4, phone 3+4,
// bank_card 6+4, uscc 8+2, email first character + domain). It is the
// content safety net for text that no policy classified. It does not
// allocate beyond growing dst.
func RedactDetected(dst, src []byte) []byte {
	last := 0
	for {
		s, ok := nextSpan(src, last)
		if !ok {
			return append(dst, src[last:]...)
		}
		dst = append(dst, src[last:s.Start]...)
		dst = defaultMaskers.forClass(s.Class).Mask(dst, src[s.Start:s.End])
		last = s.End
	}
}

// classMaskers holds the default maskers RedactDetected uses.
type classMaskers struct {
	idCard, phone, bankCard, uscc, email, fallback Masker
}

var defaultMaskers = classMaskers{
	idCard:   &idCardMasker{keep: keepRule{6, 4}, maskRune: DefaultMaskRune},
	phone:    &phoneMasker{mobile: keepRule{3, 4}, landlineLast: 2, maskRune: DefaultMaskRune},
	bankCard: &bankCardMasker{keep: keepRule{6, 4}, maskRune: DefaultMaskRune},
	uscc:     &keepMasker{keep: keepRule{8, 2}, maskRune: DefaultMaskRune, alnumOnly: true},
	email:    &emailMasker{keepFirst: 1, maskRune: DefaultMaskRune},
	fallback: &keepMasker{maskRune: DefaultMaskRune},
}

func (c *classMaskers) forClass(class Class) Masker {
	switch class {
	case ClassIDCard:
		return c.idCard
	case ClassMobile:
		return c.phone
	case ClassBankCard:
		return c.bankCard
	case ClassUSCC:
		return c.uscc
	case ClassEmail:
		return c.email
	}
	return c.fallback
}

// nextSpan finds the first span starting at or after from.
func nextSpan(text []byte, from int) (Span, bool) {
	n := len(text)
	for i := from; i < n; {
		c := text[i]
		if !isEmailLocalByte(c) || i > 0 && isTokenByte(text[i-1]) {
			i++
			continue
		}
		// E-mail: local part, '@', domain.
		j := i
		for j < n && isEmailLocalByte(text[j]) {
			j++
		}
		if j < n && text[j] == '@' && j-i <= 64 {
			k := j + 1
			for k < n && isDomainByte(text[k]) {
				k++
			}
			for k > j+1 && (text[k-1] == '.' || text[k-1] == '-') {
				k--
			}
			if validDomain(text[j+1 : k]) {
				return Span{Start: i, End: k, Class: ClassEmail}, true
			}
		}
		if !isASCIIAlnum(c) {
			i++
			continue
		}
		// Alphanumeric token; digit groups joined by one space or hyphen
		// stay together (6225 8827 0896 5808, 138-1234-5678).
		j = i
		firstSep := -1
		for j < n {
			if isASCIIAlnum(text[j]) {
				j++
				continue
			}
			if (text[j] == ' ' || text[j] == '-') && j+1 < n && isDigit(text[j+1]) && isDigit(text[j-1]) && allDigitsOrSep(text[i:j]) {
				if firstSep < 0 {
					firstSep = j
				}
				j++
				continue
			}
			break
		}
		// A token glued to more letters/digits by '_' or '@' is not a value.
		if j < n && (text[j] == '_' || text[j] == '@') {
			i = j + 1
			continue
		}
		if class, ok := classifyToken(text[i:j]); ok {
			return Span{Start: i, End: j, Class: class}, true
		}
		if firstSep < 0 {
			i = j
			continue
		}
		if class, ok := classifyToken(text[i:firstSep]); ok {
			return Span{Start: i, End: firstSep, Class: class}, true
		}
		i = firstSep + 1
	}
	return Span{}, false
}

// isTokenByte is a byte that would make a candidate part of a larger token.
func isTokenByte(c byte) bool { return isASCIIAlnum(c) || c == '_' }

func allDigitsOrSep(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) && c != ' ' && c != '-' {
			return false
		}
	}
	return true
}

// classifyToken validates one token (possibly with digit-group separators).
func classifyToken(tok []byte) (Class, bool) {
	var buf [20]byte
	digits := buf[:0]
	separated := false
	for _, c := range tok {
		switch {
		case c == ' ' || c == '-':
			separated = true
		case len(digits) == len(buf):
			return "", false
		default:
			digits = append(digits, c)
		}
	}
	if !separated {
		switch {
		case ValidIDCard(digits):
			return ClassIDCard, true
		case ValidBankCard(digits):
			return ClassBankCard, true
		case ValidUSCC(digits):
			return ClassUSCC, true
		case ValidMobile(digits):
			return ClassMobile, true
		}
		return "", false
	}
	switch {
	case ValidMobile(digits), len(digits) == 13 && digits[0] == '8' && digits[1] == '6' && ValidMobile(digits[2:]):
		return ClassMobile, true
	case ValidBankCard(digits):
		return ClassBankCard, true
	}
	return "", false
}
