package masking

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are starting inputs shared by the fuzzers.
var fuzzSeeds = []string{
	"", "11010519491231002X", "110105491231002", "13812345678", "+86 138 1234 5678", "0915-1234579",
	"6225 8827 0896 5808", "张三", "欧阳娜娜", "阿卜杜·热合曼", "四川省凉山彝族自治州西昌市长安路1号",
	"北京市朝阳区建国路88号", "z@example.cn", "91350100M000100Y43", "苏D·4A5B0", "1987-06-15 12:00:00+08",
	"\xff\xfe\x00", "川成都武侯", "-12345.67e+10", "sm4:AAAA", "a@b@c.cn", "·", "1987年6月15日",
}

// lengthPreserving algorithms replace characters one for one.
var lengthPreserving = map[string]bool{
	"id_card": true, "phone": true, "bank_card": true, "name": true, "address": true, "email": true,
	"uscc": true, "passport": true, "license_plate": true, "keep": true, "mask_range": true,
}

// alwaysHides are algorithms that hide at least one character of any value
// that has a non-separator character.
var alwaysHides = map[string]bool{
	"id_card": true, "phone": true, "bank_card": true, "uscc": true, "passport": true,
	"license_plate": true, "keep": true, "name": true,
}

func allMaskers(t testing.TB) map[string]Masker {
	ms := map[string]Masker{}
	for _, name := range Algorithms() {
		var params map[string]string
		if name == "pseudonym" || name == "sm4_token" {
			params = map[string]string{"key": testKey}
		}
		m, err := New(name, params)
		if err != nil {
			t.Fatal(err)
		}
		ms[name] = m
	}
	return ms
}

func FuzzMask(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	ms := allMaskers(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		for name, m := range ms {
			out := m.Mask(nil, in)
			if utf8.Valid(in) && !utf8.Valid(out) {
				t.Fatalf("%s: valid UTF-8 %q gave invalid %q", name, in, out)
			}
			if lengthPreserving[name] && utf8.Valid(in) && utf8.RuneCount(out) != utf8.RuneCount(in) {
				t.Fatalf("%s: %q → %q changes the character count", name, in, out)
			}
			if alwaysHides[name] && countRunes(in, notSeparator) > 0 && !bytes.ContainsRune(in, '*') && bytes.Equal(in, out) {
				t.Fatalf("%s: %q returned unmasked", name, in)
			}
			if _, ok := MaskTyped(m, nil, in, Integer); ok && name != "pseudonym" && name != "generalize" && name != "birthday" && name != "date" && len(in) > 0 {
				// generic integer treatment never lengthens
				if o, _ := MaskTyped(m, nil, in, Integer); len(o) > len(in) {
					t.Fatalf("%s: integer %q → %q grew", name, in, o)
				}
			}
		}
	})
}

func FuzzMaskTyped(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), uint8(0))
	}
	ms := allMaskers(f)
	f.Fuzz(func(t *testing.T, in []byte, typ uint8) {
		for name, m := range ms {
			dst := []byte("keep")
			out, ok := MaskTyped(m, dst, in, ValueType(typ%11))
			if !bytes.HasPrefix(out, []byte("keep")) {
				t.Fatalf("%s: dst prefix lost", name)
			}
			if !ok && len(out) != 4 {
				t.Fatalf("%s: ok=false but output %q", name, out)
			}
		}
	})
}

func FuzzFindAll(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte("文本 " + s + " 结束"))
	}
	f.Add([]byte("身份证11010519491231002X，手机138-1234-5678 卡号 6225 8827 0896 5808 z@x.cn"))
	f.Fuzz(func(t *testing.T, text []byte) {
		spans := FindAll(text, nil)
		prevEnd := 0
		for _, s := range spans {
			if s.Start < prevEnd || s.End <= s.Start || s.End > len(text) {
				t.Fatalf("bad span %+v after %d in %q", s, prevEnd, text)
			}
			prevEnd = s.End
			v := text[s.Start:s.End]
			if c, ok := classifyToken(v); s.Class != ClassEmail && (!ok || c != s.Class) {
				t.Fatalf("span %q reported as %s does not validate", v, s.Class)
			}
			if s.Class == ClassEmail && !ValidEmail(v) {
				t.Fatalf("span %q is not an e-mail", v)
			}
		}
		out := RedactDetected(nil, text)
		if utf8.Valid(text) && !utf8.Valid(out) {
			t.Fatalf("RedactDetected broke UTF-8: %q", out)
		}
		if len(spans) == 0 && !bytes.Equal(out, text) {
			t.Fatalf("RedactDetected changed text without detections")
		}
		for _, s := range spans {
			if s.Class != ClassEmail && bytes.Contains(out, text[s.Start:s.End]) {
				t.Fatalf("redacted output still contains %q", text[s.Start:s.End])
			}
		}
	})
}

func FuzzDetect(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		classes := Detect(v)
		if ValidIDCard(bytes.TrimSpace(v)) && (len(classes) == 0 || classes[0] != ClassIDCard) {
			t.Fatalf("valid ID %q not detected first: %v", v, classes)
		}
		_ = ParseIDCard(v)
		_, _ = parseDate(v)
	})
}

func FuzzUnmask(f *testing.F) {
	m, _ := New("sm4_token", map[string]string{"key": testKey})
	f.Add(m.Mask(nil, []byte("11010519491231002X")))
	f.Add([]byte("sm4:"))
	f.Fuzz(func(t *testing.T, token []byte) {
		plain, err := Unmask(token, testKey)
		if err == nil && !bytes.Equal(m.Mask(nil, plain), token) {
			t.Fatalf("token %q verified but does not re-encrypt to itself", token)
		}
	})
}

func FuzzCharset(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	name, _ := New("name", nil)
	gbk, _ := ForCharset(name, "gbk")
	gb18030, _ := ForCharset(name, "gb18030")
	f.Fuzz(func(t *testing.T, in []byte) {
		_ = gbk.Mask(nil, in)
		_ = gb18030.Mask(nil, in)
	})
}

// TestHiddenPartNeverShown generates valid identifiers and checks that every
// hidden position of the output is the mask character.
func TestHiddenPartNeverShown(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var counties []int32
	for code, current := range divisions().regions {
		if current && code%100 != 0 {
			counties = append(counties, code)
		}
	}
	idMasker, _ := New("id_card", nil)
	phoneMasker, _ := New("phone", nil)
	cardMasker, _ := New("bank_card", nil)
	tests := []struct {
		desc        string
		masker      Masker
		generate    func() string
		first, last int
		valid       func([]byte) bool
	}{
		{desc: "18-digit id numbers", masker: idMasker, first: 6, last: 4, valid: ValidIDCard, generate: func() string {
			first17 := strconv.Itoa(int(counties[rng.IntN(len(counties))])) +
				strconv.Itoa(1930+rng.IntN(90)) + pad2(1+rng.IntN(12)) + pad2(1+rng.IntN(28)) + strconv.Itoa(100+rng.IntN(900))
			return withCheckChar(first17)
		}},
		{desc: "mobiles", masker: phoneMasker, first: 3, last: 4, valid: ValidMobile, generate: func() string {
			return "1" + strconv.Itoa(3+rng.IntN(7)) + strconv.Itoa(100000000+rng.IntN(900000000))
		}},
		{desc: "bank cards", masker: cardMasker, first: 6, last: 4, valid: ValidBankCard, generate: func() string {
			return withLuhn("62" + strconv.Itoa(1000000000000+rng.IntN(9000000000000)))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			for range 5000 {
				v := tc.generate()
				if !tc.valid([]byte(v)) {
					t.Fatalf("generator made invalid %q", v)
				}
				out := tc.masker.Mask(nil, []byte(v))
				if len(out) != len(v) || string(out[:tc.first]) != v[:tc.first] || string(out[len(v)-tc.last:]) != v[len(v)-tc.last:] {
					t.Fatalf("%q → %q: kept parts wrong", v, out)
				}
				for i := tc.first; i < len(v)-tc.last; i++ {
					if out[i] != '*' {
						t.Fatalf("%q → %q: position %d shown", v, out, i)
					}
				}
			}
		})
	}
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// withLuhn appends the Luhn check digit.
func withLuhn(body string) string {
	for d := byte('0'); d <= '9'; d++ {
		if c := body + string(d); LuhnValid([]byte(c)) {
			return c
		}
	}
	panic("unreachable")
}
