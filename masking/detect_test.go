package masking

import (
	"slices"
	"testing"
)

// withCheckChar completes 17 digits with the GB 11643 check character.
func withCheckChar(first17 string) string {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * idCardWeights[i]
	}
	return first17 + string(idCardCheckChars[sum%11])
}

func TestParseIDCard(t *testing.T) {
	tests := []struct {
		desc            string
		in              string
		valid           bool
		legacy          bool
		residencePermit bool
		countyKnown     bool
		male            bool
	}{
		{desc: "guide example Beijing X check", in: "11010519491231002X", valid: true, countyKnown: true},
		{desc: "guide example abolished county 潮阳县", in: "440524188001010014", valid: true, countyKnown: true, male: true},
		{desc: "guide example county missing from the table", in: "34052419800101001X", valid: true, male: true},
		{desc: "lower-case x", in: "11010519491231002x", valid: true, countyKnown: true},
		{desc: "generated 武侯区", in: withCheckChar("51010719870615123"), valid: true, countyKnown: true, male: true},
		{desc: "Hong Kong residence permit", in: withCheckChar("81000019900101002"), valid: true, residencePermit: true, countyKnown: true},
		{desc: "Taiwan residence permit", in: withCheckChar("83000019900101001"), valid: true, residencePermit: true, countyKnown: true, male: true},
		{desc: "wrong check digit", in: "110105194912310021"},
		{desc: "leap day valid", in: withCheckChar("11010520000229002"), valid: true, countyKnown: true},
		{desc: "non-leap Feb 29", in: withCheckChar("11010519000229002")},
		{desc: "month 13", in: withCheckChar("11010519871315002")},
		{desc: "province 99 does not exist", in: withCheckChar("99010519870615002")},
		{desc: "15 digits legacy", in: "110105491231002", valid: true, legacy: true, countyKnown: true},
		{desc: "15 digits bad date", in: "110105491331002"},
		{desc: "17 digits", in: "11010519491231002"},
		{desc: "letters inside", in: "1101051949123100AX"},
		{desc: "empty", in: ""},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			info := ParseIDCard([]byte(tc.in))
			if info.Valid != tc.valid || info.Legacy != tc.legacy || info.ResidencePermit != tc.residencePermit || info.CountyKnown != tc.countyKnown {
				t.Fatalf("ParseIDCard(%q) = %+v", tc.in, info)
			}
			if tc.valid && info.Male != tc.male {
				t.Errorf("Male = %v, want %v", info.Male, tc.male)
			}
		})
	}
}

func TestValidators(t *testing.T) {
	tests := []struct {
		desc  string
		check func([]byte) bool
		in    string
		want  bool
	}{
		{desc: "uscc guide example 1", check: ValidUSCC, in: "91350100M000100Y43", want: true},
		{desc: "uscc guide example 2", check: ValidUSCC, in: "91512081MA62K0260E", want: true},
		{desc: "uscc wrong check", check: ValidUSCC, in: "91350100M000100Y44"},
		{desc: "uscc forbidden letter I", check: ValidUSCC, in: "91350100I000100Y43"},
		{desc: "uscc lower case", check: ValidUSCC, in: "91512081ma62k0260e"},
		{desc: "luhn guide example", check: ValidBankCard, in: "6225882708965808", want: true},
		{desc: "luhn wrong", check: ValidBankCard, in: "6225882708965809"},
		{desc: "bank card too short", check: ValidBankCard, in: "4111111111111"},
		{desc: "mobile", check: ValidMobile, in: "13812345678", want: true},
		{desc: "mobile 12 prefix", check: ValidMobile, in: "12812345678"},
		{desc: "mobile 10 digits", check: ValidMobile, in: "1381234567"},
		{desc: "landline with hyphen", check: ValidLandline, in: "0915-1234579", want: true},
		{desc: "landline Beijing", check: ValidLandline, in: "01012345678", want: true},
		{desc: "landline local only", check: ValidLandline, in: "12345678"},
		{desc: "passport E", check: ValidPassport, in: "E12345678", want: true},
		{desc: "passport EA", check: ValidPassport, in: "EA1234567", want: true},
		{desc: "passport G", check: ValidPassport, in: "G12345678", want: true},
		{desc: "passport EI", check: ValidPassport, in: "EI1234567"},
		{desc: "permit 8 digits", check: ValidHKMacaoPermit, in: "H12345678", want: true},
		{desc: "permit 10 digits", check: ValidHKMacaoPermit, in: "M1234567890", want: true},
		{desc: "permit 9 digits", check: ValidHKMacaoPermit, in: "M123456789"},
		{desc: "plate", check: ValidLicensePlate, in: "苏D4A5B0", want: true},
		{desc: "plate new energy", check: ValidLicensePlate, in: "粤BD12345", want: true},
		{desc: "plate with dot", check: ValidLicensePlate, in: "京A·12345", want: true},
		{desc: "plate coach", check: ValidLicensePlate, in: "川A1234学", want: true},
		{desc: "plate letter O", check: ValidLicensePlate, in: "苏D4O5B0"},
		{desc: "plate unknown province", check: ValidLicensePlate, in: "中D4A5B0"},
		{desc: "email", check: ValidEmail, in: "zhang.san+x@example.com.cn", want: true},
		{desc: "email no tld", check: ValidEmail, in: "a@localhost"},
		{desc: "email double dot", check: ValidEmail, in: "a@example..cn"},
		{desc: "email empty local", check: ValidEmail, in: "@example.cn"},
		{desc: "name", check: LooksLikeName, in: "王小明", want: true},
		{desc: "name compound", check: LooksLikeName, in: "欧阳娜娜", want: true},
		{desc: "name dot", check: LooksLikeName, in: "阿卜杜·热合曼", want: true},
		{desc: "name rare surname", check: LooksLikeName, in: "啊啊啊"},
		{desc: "name too long", check: LooksLikeName, in: "王一二三四五"},
		{desc: "address", check: LooksLikeAddress, in: "四川省成都市武侯区人民南路四段1号", want: true},
		{desc: "address county and street", check: LooksLikeAddress, in: "朝阳区建国路88号", want: true},
		{desc: "address only a city", check: LooksLikeAddress, in: "成都市"},
		{desc: "not an address", check: LooksLikeAddress, in: "今天天气很好"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := tc.check([]byte(tc.in)); got != tc.want {
				t.Errorf("%q: got %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		want []Class
	}{
		{desc: "id number", in: "11010519491231002X", want: []Class{ClassIDCard}},
		{desc: "id number with CHAR padding", in: " 11010519491231002X  ", want: []Class{ClassIDCard}},
		{desc: "bank card", in: "6225882708965808", want: []Class{ClassBankCard}},
		{desc: "uscc", in: "91512081MA62K0260E", want: []Class{ClassUSCC}},
		{desc: "mobile", in: "13812345678", want: []Class{ClassMobile}},
		{desc: "landline", in: "0915-1234579", want: []Class{ClassLandline}},
		{desc: "email", in: "z@example.cn", want: []Class{ClassEmail}},
		{desc: "passport", in: "E12345678", want: []Class{ClassPassport}},
		{desc: "permit", in: "H12345678", want: []Class{ClassHKMacaoPermit}},
		{desc: "plate", in: "苏D4A5B0", want: []Class{ClassLicensePlate}},
		{desc: "date", in: "1987-06-15", want: []Class{ClassDate}},
		{desc: "name", in: "张三", want: []Class{ClassName}},
		{desc: "address", in: "四川省凉山彝族自治州西昌市长安路1号", want: []Class{ClassAddress}},
		{desc: "empty", in: ""},
		{desc: "plain number", in: "12345"},
		{desc: "free text", in: "今天天气很好"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := Detect([]byte(tc.in)); !slices.Equal(got, tc.want) {
				t.Errorf("Detect(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestClassAlgorithmsAndLevels(t *testing.T) {
	for _, c := range []Class{ClassIDCard, ClassBankCard, ClassUSCC, ClassMobile, ClassLandline, ClassEmail, ClassPassport,
		ClassHKMacaoPermit, ClassLicensePlate, ClassName, ClassAddress, ClassDate, ClassBirthday, ClassPhone} {
		if !slices.Contains(Algorithms(), c.Algorithm()) {
			t.Errorf("class %s maps to unknown algorithm %q", c, c.Algorithm())
		}
		if l := c.Level(); l < 1 || l > 4 {
			t.Errorf("class %s level %d", c, l)
		}
	}
	if ClassMobile.PolicyClass() != ClassPhone || ClassLandline.PolicyClass() != ClassPhone || ClassHKMacaoPermit.PolicyClass() != ClassPassport || ClassIDCard.PolicyClass() != ClassIDCard {
		t.Errorf("policy classes wrong")
	}
	if ClassIDCard.Level() != 4 || ClassBankCard.Level() != 4 || ClassMobile.Level() != 3 {
		t.Errorf("sensitive classes must be level 4, contacts level 3")
	}
}

func TestFindAll(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		want []string // "class:value"
	}{
		{desc: "mixed Chinese text", in: "张三 身份证11010519491231002X，手机138-1234-5678 卡号 6225 8827 0896 5808 邮箱 zhang.san@example.cn 代码91350100M000100Y43",
			want: []string{"id_card:11010519491231002X", "mobile:138-1234-5678", "bank_card:6225 8827 0896 5808", "email:zhang.san@example.cn", "uscc:91350100M000100Y43"}},
		{desc: "adjacent values split by space", in: "13812345678 6225882708965808", want: []string{"mobile:13812345678", "bank_card:6225882708965808"}},
		{desc: "mobile with country code", in: "tel:86 138 1234 5678.", want: []string{"mobile:86 138 1234 5678"}},
		{desc: "legacy id", in: "旧证110105491231002号", want: []string{"id_card:110105491231002"}},
		{desc: "mobile inside a longer number is not one", in: "订单 1381234567890"},
		{desc: "id with trailing letters is not one", in: "11010519491231002Xabc"},
		{desc: "invalid check digit", in: "身份证110105194912310021"},
		{desc: "email at end with dot", in: "mail z@example.cn.", want: []string{"email:z@example.cn"}},
		{desc: "identifier with underscore", in: "key_13812345678_x"},
		{desc: "empty", in: ""},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			var got []string
			for _, s := range FindAll([]byte(tc.in), nil) {
				got = append(got, string(s.Class)+":"+tc.in[s.Start:s.End])
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("FindAll = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRedactDetected(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		want string
	}{
		{desc: "id and mobile", in: "身份证11010519491231002X，手机13812345678。", want: "身份证110105********002X，手机138****5678。"},
		{desc: "grouped card", in: "卡号 6225 8827 0896 5808 ok", want: "卡号 6225 88** **** 5808 ok"},
		{desc: "email and uscc", in: "z.s@example.cn 91350100M000100Y43", want: "z**@example.cn 91350100********43"},
		{desc: "nothing to redact", in: "订单号 20240101 金额 12.5", want: "订单号 20240101 金额 12.5"},
		{desc: "empty", in: "", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := RedactDetected(nil, []byte(tc.in)); string(got) != tc.want {
				t.Errorf("RedactDetected(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
