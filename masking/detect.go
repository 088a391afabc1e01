package masking

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Class is a kind of personal or identifying data that Detect recognises.
// Its value is the name used in policies' classification entries.
type Class string

// Classes recognised by Detect.
const (
	ClassIDCard        Class = "id_card"
	ClassBankCard      Class = "bank_card"
	ClassUSCC          Class = "uscc"
	ClassMobile        Class = "mobile"
	ClassLandline      Class = "landline"
	ClassEmail         Class = "email"
	ClassPassport      Class = "passport"
	ClassHKMacaoPermit Class = "hk_macao_permit"
	ClassLicensePlate  Class = "license_plate"
	ClassName          Class = "name"
	ClassAddress       Class = "address"
	// ClassDate is any calendar date; discovery turns it into ClassBirthday
	// only when the column name says so.
	ClassDate     Class = "date"
	ClassBirthday Class = "birthday"
	// ClassPhone is the policy-level class of mobile and landline numbers
	// (policies classify columns as phone; Detect tells the two apart).
	ClassPhone Class = "phone"
)

// PolicyClass is the class a policy's classification uses for c: mobile and
// landline are phone, HK/Macao permits are passport; others are themselves.
func (c Class) PolicyClass() Class {
	switch c {
	case ClassMobile, ClassLandline:
		return ClassPhone
	case ClassHKMacaoPermit:
		return ClassPassport
	}
	return c
}

// Algorithm is the masking algorithm (a name for New) suited to the class.
func (c Class) Algorithm() string {
	switch c {
	case ClassMobile, ClassLandline, ClassPhone:
		return "phone"
	case ClassHKMacaoPermit:
		return "passport"
	case ClassDate:
		return "date"
	}
	return string(c)
}

// Level is the classification level of the class on the 4-level scale of
// GB/T 43697 general data: 4 for sensitive personal information in the sense
// of GB/T 35273-2020 §3.2 (identity document numbers, bank accounts), 3 for
// other personal information (§3.1: names, contacts, addresses, birth
// dates, plates), 2 for organisation identifiers (USCC) and plain dates.
func (c Class) Level() int {
	switch c {
	case ClassIDCard, ClassBankCard, ClassPassport, ClassHKMacaoPermit:
		return 4
	case ClassUSCC, ClassDate:
		return 2
	}
	return 3
}

// Detect reports which classes the whole value validates as, most specific
// first (an 18-digit value can be both a valid ID number and pass Luhn).
// Leading and trailing ASCII spaces are ignored (CHAR padding). It allocates
// only the returned slice.
func Detect(value []byte) []Class {
	return AppendDetected(nil, value)
}

// AppendDetected is Detect appending into a caller's slice.
func AppendDetected(dst []Class, value []byte) []Class {
	v := bytes.TrimSpace(value)
	if len(v) == 0 {
		return dst
	}
	if ValidIDCard(v) {
		dst = append(dst, ClassIDCard)
	}
	if ValidBankCard(v) {
		dst = append(dst, ClassBankCard)
	}
	if ValidUSCC(v) {
		dst = append(dst, ClassUSCC)
	}
	if ValidMobile(v) {
		dst = append(dst, ClassMobile)
	}
	if ValidLandline(v) {
		dst = append(dst, ClassLandline)
	}
	if ValidEmail(v) {
		dst = append(dst, ClassEmail)
	}
	if ValidPassport(v) {
		dst = append(dst, ClassPassport)
	}
	if ValidHKMacaoPermit(v) {
		dst = append(dst, ClassHKMacaoPermit)
	}
	if ValidLicensePlate(v) {
		dst = append(dst, ClassLicensePlate)
	}
	if d, ok := parseDate(v); ok && d.day != 0 && d.year >= 1850 && d.year <= 2100 {
		dst = append(dst, ClassDate)
	}
	if LooksLikeName(v) {
		dst = append(dst, ClassName)
	}
	if LooksLikeAddress(v) {
		dst = append(dst, ClassAddress)
	}
	return dst
}

const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccValue maps a character to its value 0–30, or -1.
func usccValue(c byte) int {
	return strings.IndexByte(usccAlphabet, c)
}

// ValidUSCC reports whether b is a 统一社会信用代码 (GB 32100-2015) with a
// correct check character and an all-digit region part.
func ValidUSCC(b []byte) bool {
	if len(b) != 18 || !allDigits(b[2:8]) {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := usccValue(b[i])
		if v < 0 {
			return false
		}
		sum += v * usccWeights[i]
	}
	check := 31 - sum%31
	if check == 31 {
		check = 0
	}
	return usccValue(b[17]) == check
}

// ValidPassport reports a PRC ordinary passport number: E or G + 8 digits,
// or E + letter (not I/O) + 7 digits.
func ValidPassport(b []byte) bool {
	if len(b) != 9 {
		return false
	}
	switch {
	case (b[0] == 'E' || b[0] == 'G') && allDigits(b[1:]):
		return true
	case b[0] == 'E' && b[1] >= 'A' && b[1] <= 'Z' && b[1] != 'I' && b[1] != 'O' && allDigits(b[2:]):
		return true
	}
	return false
}

// ValidHKMacaoPermit reports a 往来港澳通行证 / 回乡证 number: H or M + 8 or
// 10 digits.
func ValidHKMacaoPermit(b []byte) bool {
	return (len(b) == 9 || len(b) == 11) && (b[0] == 'H' || b[0] == 'M') && allDigits(b[1:])
}

// plateProvinces are the province characters used on plates (GA 36-2018).
const plateProvinces = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新"

// ValidLicensePlate reports a motor vehicle plate: province character,
// letter, optional separator, then 5 characters (ordinary; the last may be
// 学/警/挂/港/澳/领) or 6 (new-energy), letters I and O excluded.
func ValidLicensePlate(b []byte) bool {
	r, size := utf8.DecodeRune(b)
	if size < 3 || !strings.ContainsRune(plateProvinces, r) {
		return false
	}
	b = b[size:]
	if len(b) == 0 || b[0] < 'A' || b[0] > 'Z' {
		return false
	}
	b = b[1:]
	if r, size := utf8.DecodeRune(b); r == '·' || r == ' ' || r == '-' {
		b = b[size:]
	}
	n := 0
	for len(b) > 0 {
		c := b[0]
		if c < utf8.RuneSelf {
			if !(isDigit(c) || c >= 'A' && c <= 'Z' && c != 'I' && c != 'O') {
				return false
			}
			b = b[1:]
			n++
			continue
		}
		r, size := utf8.DecodeRune(b)
		if n != 4 || len(b) != size || !strings.ContainsRune("学警挂港澳领", r) {
			return false
		}
		b = b[size:]
		n++
	}
	return n == 5 || n == 6
}

// commonSurnames are the single-character surnames of most of the
// population; LooksLikeName requires one of them (or a compound surname).
const commonSurnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"

// LooksLikeName reports a Chinese personal name: 2–4 Han characters starting
// with a common or compound surname, or Han parts joined by a middle dot
// (阿卜杜·热合曼). It is a heuristic: discovery uses it on whole columns.
func LooksLikeName(b []byte) bool {
	n, dots := 0, 0
	for off := 0; off < len(b); {
		r, size := utf8.DecodeRune(b[off:])
		off += size
		switch {
		case isNameDot(r):
			dots++
			if off == size || off == len(b) {
				return false
			}
		case unicode.Is(unicode.Han, r):
			n++
		default:
			return false
		}
	}
	if dots > 0 {
		return n >= 3 && n <= 20
	}
	if n < 2 || n > 4 {
		return false
	}
	first, _ := utf8.DecodeRune(b)
	return strings.ContainsRune(commonSurnames, first) || surnameLen(b) == 2 && n >= 3
}

// addressMarkers are words that appear below county level in addresses.
var addressMarkers = []string{"路", "街", "号", "村", "镇", "乡", "小区", "栋", "室", "弄", "巷", "大道", "组", "社区", "楼"}

// LooksLikeAddress reports a postal address: it starts with at least two
// levels of GB/T 2260 division names, or one level followed by a street-level
// word (路, 街, 号, 村, 镇 ...).
func LooksLikeAddress(b []byte) bool {
	if len(b) > 600 {
		return false
	}
	m := divisions().matchAddress(b)
	levels := 0
	for _, end := range m.end[1:] {
		if end > 0 {
			levels++
		}
	}
	if levels >= 2 {
		return true
	}
	if levels == 0 {
		return false
	}
	rest := b[m.keepEnd(levelCounty):]
	for _, w := range addressMarkers {
		if bytes.Contains(rest, []byte(w)) {
			return true
		}
	}
	return false
}
