package masking

import (
	"strings"
	"testing"
	"unicode/utf8"
)

const testKey = "0123456789abcdef-test-key"

func TestMaskers(t *testing.T) {
	tests := []struct {
		desc      string
		algorithm string
		params    map[string]string
		in        string
		want      string
	}{
		{desc: "id_card 18 digits keeps region and sequence", algorithm: "id_card", in: "11010519491231002X", want: "110105********002X"},
		{desc: "id_card lower-case x check char", algorithm: "id_card", in: "11010519491231002x", want: "110105********002x"},
		{desc: "id_card invalid checksum still masked", algorithm: "id_card", in: "110105194912310021", want: "110105********0021"},
		{desc: "id_card 15 digits hides YYMMDD", algorithm: "id_card", in: "110105491231002", want: "110105******002"},
		{desc: "id_card keep 1+1", algorithm: "id_card", params: map[string]string{"keep_first": "1", "keep_last": "1"}, in: "11010519491231002X", want: "1****************X"},
		{desc: "id_card keep 3+4", algorithm: "id_card", params: map[string]string{"keep_first": "3", "keep_last": "4"}, in: "11010519491231002X", want: "110***********002X"},
		{desc: "id_card rule too generous shrinks", algorithm: "id_card", params: map[string]string{"keep_first": "10", "keep_last": "8"}, in: "11010519491231002X", want: "1101**********002X"},
		{desc: "id_card garbage short value", algorithm: "id_card", in: "12345", want: "1***5"},
		{desc: "id_card empty", algorithm: "id_card", in: "", want: ""},
		{desc: "id_card custom mask char", algorithm: "id_card", params: map[string]string{"mask_char": "＊"}, in: "11010519491231002X", want: "110105＊＊＊＊＊＊＊＊002X"},
		{desc: "mobile 3+4", algorithm: "phone", in: "13812345678", want: "138****5678"},
		{desc: "mobile with +86 and spaces", algorithm: "phone", in: "+86 138 1234 5678", want: "+86 138 **** 5678"},
		{desc: "mobile with 86 prefix", algorithm: "phone", in: "8613812345678", want: "86138****5678"},
		{desc: "landline 4-digit area code", algorithm: "phone", in: "0915-1234579", want: "0915-*****79"},
		{desc: "landline without hyphen", algorithm: "phone", in: "09151234579", want: "0915*****79"},
		{desc: "landline Beijing 010", algorithm: "phone", in: "010-12345678", want: "010-******78"},
		{desc: "phone local number only", algorithm: "phone", in: "12345678", want: "12****78"},
		{desc: "bank card 6+4", algorithm: "bank_card", in: "6225882708965808", want: "622588******5808"},
		{desc: "bank card grouped", algorithm: "bank_card", in: "6225 8827 0896 5808", want: "6225 88** **** 5808"},
		{desc: "bank card failing Luhn still masked", algorithm: "bank_card", in: "6225882708965809", want: "622588******5809"},
		{desc: "bank card 19 digits", algorithm: "bank_card", in: "6217000010012345678", want: "621700*********5678"},
		{desc: "name two characters", algorithm: "name", in: "张三", want: "张*"},
		{desc: "name three characters", algorithm: "name", in: "王小明", want: "王**"},
		{desc: "name compound surname", algorithm: "name", in: "欧阳娜娜", want: "欧阳**"},
		{desc: "name compound surname only two chars", algorithm: "name", in: "欧阳", want: "欧*"},
		{desc: "name 司马 compound", algorithm: "name", in: "司马相如", want: "司马**"},
		{desc: "name minority with middle dot", algorithm: "name", in: "阿卜杜·热合曼", want: "阿卜杜·***"},
		{desc: "name three parts", algorithm: "name", in: "爱新觉罗·溥仪·某", want: "爱新觉罗·**·*"},
		{desc: "name keep last", algorithm: "name", params: map[string]string{"keep_last": "1"}, in: "张三丰", want: "张*丰"},
		{desc: "name keep last on two chars", algorithm: "name", params: map[string]string{"keep_last": "1"}, in: "张三", want: "张*"},
		{desc: "name latin", algorithm: "name", in: "John Smith", want: "J*** *****"},
		{desc: "name one character", algorithm: "name", in: "张", want: "*"},
		{desc: "address province city district", algorithm: "address", in: "四川省成都市武侯区人民南路四段1号", want: "四川省成都市武侯区********"},
		{desc: "address municipality", algorithm: "address", in: "北京市朝阳区建国路88号", want: "北京市朝阳区******"},
		{desc: "address autonomous prefecture", algorithm: "address", in: "四川省凉山彝族自治州西昌市长安路1号", want: "四川省凉山彝族自治州西昌市*****"},
		{desc: "address without province", algorithm: "address", in: "成都市武侯区玉林路2号", want: "成都市武侯区*****"},
		{desc: "address short forms", algorithm: "address", in: "成都武侯玉林路2号", want: "成都武侯*****"},
		{desc: "address one-character province abbreviation", algorithm: "address", in: "川成都市武侯区玉林路", want: "川成都市武侯区***"},
		{desc: "address league and banner", algorithm: "address", in: "内蒙古自治区阿拉善盟阿拉善左旗巴彦浩特镇", want: "内蒙古自治区阿拉善盟阿拉善左旗*****"},
		{desc: "address county under province", algorithm: "address", in: "湖北省仙桃市沔阳大道1号", want: "湖北省仙桃市******"},
		{desc: "address municipality short form", algorithm: "address", in: "上海浦东新区世纪大道", want: "上海浦东新区****"},
		{desc: "address autonomous region short form", algorithm: "address", in: "新疆伊犁哈萨克自治州伊宁市解放路", want: "新疆伊犁哈萨克自治州伊宁市***"},
		{desc: "address spaces between levels", algorithm: "address", in: "四川省 成都市 武侯区 玉林路", want: "四川省 成都市 武侯区 ***"},
		{desc: "address level city", algorithm: "address", params: map[string]string{"level": "city"}, in: "四川省成都市武侯区玉林路", want: "四川省成都市******"},
		{desc: "address level province", algorithm: "address", params: map[string]string{"level": "province"}, in: "四川省成都市武侯区玉林路", want: "四川省*********"},
		{desc: "address unmatched keeps short prefix", algorithm: "address", in: "玉林路2号附3号", want: "玉林******"},
		{desc: "address unconfirmed short province", algorithm: "address", in: "四川北路一二三号楼", want: "四川北******"},
		{desc: "address empty", algorithm: "address", in: "", want: ""},
		{desc: "email keeps first char and domain", algorithm: "email", in: "zhangsan@example.cn", want: "z*******@example.cn"},
		{desc: "email one-char local part", algorithm: "email", in: "z@example.cn", want: "*@example.cn"},
		{desc: "email mask domain", algorithm: "email", params: map[string]string{"mask_domain": "true"}, in: "zhangsan@mail.example.cn", want: "z*******@****.*******.cn"},
		{desc: "email without at", algorithm: "email", in: "zhangsan", want: "z*******"},
		{desc: "uscc", algorithm: "uscc", in: "91350100M000100Y43", want: "91350100********43"},
		{desc: "passport", algorithm: "passport", in: "E12345678", want: "E1*****78"},
		{desc: "HK Macao permit", algorithm: "passport", in: "H1234567890", want: "H1*******90"},
		{desc: "plate", algorithm: "license_plate", in: "苏D4A5B0", want: "苏D4***0"},
		{desc: "plate new energy", algorithm: "license_plate", in: "粤BD12345", want: "粤BD****5"},
		{desc: "plate with middle dot", algorithm: "license_plate", in: "苏D·4A5B0", want: "苏D·4***0"},
		{desc: "birthday to year", algorithm: "birthday", in: "1987-06-15", want: "1987"},
		{desc: "birthday compact", algorithm: "birthday", in: "19870615", want: "1987"},
		{desc: "date to month", algorithm: "date", params: map[string]string{"precision": "month"}, in: "1987年6月15日", want: "1987-06"},
		{desc: "date with time", algorithm: "date", in: "1987/06/15 12:30:00", want: "1987"},
		{desc: "date invalid day masked", algorithm: "date", in: "1987-02-30", want: "**********"},
		{desc: "keep 2+2", algorithm: "keep", params: map[string]string{"keep_first": "2", "keep_last": "2"}, in: "abcdefgh", want: "ab****gh"},
		{desc: "keep default hides all", algorithm: "keep", in: "秘密", want: "**"},
		{desc: "keep Han per character", algorithm: "keep", params: map[string]string{"keep_first": "1"}, in: "四川省成都", want: "四****"},
		{desc: "mask_range middle", algorithm: "mask_range", params: map[string]string{"from": "3", "to": "5"}, in: "abcdefgh", want: "ab***fgh"},
		{desc: "mask_range to end", algorithm: "mask_range", params: map[string]string{"from": "2"}, in: "张三丰", want: "张**"},
		{desc: "mask_range beyond value", algorithm: "mask_range", params: map[string]string{"from": "9"}, in: "abc", want: "***"},
		{desc: "redact default", algorithm: "redact", in: "anything", want: "***"},
		{desc: "redact custom", algorithm: "redact", params: map[string]string{"replacement": "[已脱敏]"}, in: "x", want: "[已脱敏]"},
		{desc: "null appends nothing", algorithm: "null", in: "x", want: ""},
		{desc: "generalize integer", algorithm: "generalize", in: "37", want: "30~40"},
		{desc: "generalize negative decimal", algorithm: "generalize", in: "-37.5", want: "-40~-30"},
		{desc: "generalize step 1000", algorithm: "generalize", params: map[string]string{"step": "1000"}, in: "12345.67", want: "12000~13000"},
		{desc: "generalize not a number", algorithm: "generalize", in: "abc", want: "***"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			m, err := New(tc.algorithm, tc.params)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			prefix := []byte("prefix|")
			got := m.Mask(append([]byte(nil), prefix...), []byte(tc.in))
			if !strings.HasPrefix(string(got), string(prefix)) {
				t.Fatalf("Mask overwrote dst: %q", got)
			}
			if string(got[len(prefix):]) != tc.want {
				t.Errorf("Mask(%q) = %q, want %q", tc.in, got[len(prefix):], tc.want)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		desc      string
		algorithm string
		params    map[string]string
		wantInErr string
	}{
		{desc: "unknown algorithm", algorithm: "rot13", wantInErr: `"rot13"`},
		{desc: "unknown parameter", algorithm: "phone", params: map[string]string{"keep_frist": "3"}, wantInErr: `"keep_frist"`},
		{desc: "not an integer", algorithm: "id_card", params: map[string]string{"keep_first": "six"}, wantInErr: "keep_first"},
		{desc: "negative keep", algorithm: "keep", params: map[string]string{"keep_last": "-1"}, wantInErr: "keep_last"},
		{desc: "two-character mask", algorithm: "name", params: map[string]string{"mask_char": "**"}, wantInErr: "mask_char"},
		{desc: "bad bool", algorithm: "email", params: map[string]string{"mask_domain": "maybe"}, wantInErr: "mask_domain"},
		{desc: "bad choice", algorithm: "address", params: map[string]string{"level": "street"}, wantInErr: "level"},
		{desc: "range reversed", algorithm: "mask_range", params: map[string]string{"from": "5", "to": "2"}, wantInErr: "to=2"},
		{desc: "pseudonym without key", algorithm: "pseudonym", wantInErr: "key"},
		{desc: "short key", algorithm: "sm4_token", params: map[string]string{"key": "short"}, wantInErr: "at least 16"},
		{desc: "bad hex key", algorithm: "sm4_token", params: map[string]string{"key": "hex:zz"}, wantInErr: "hex"},
		{desc: "missing env key", algorithm: "pseudonym", params: map[string]string{"key": "env:DBFENCE_TEST_NO_SUCH_VAR"}, wantInErr: "DBFENCE_TEST_NO_SUCH_VAR"},
		{desc: "mask_char where nothing is masked per character", algorithm: "redact", params: map[string]string{"mask_char": "#"}, wantInErr: `"mask_char"`},
		{desc: "step zero", algorithm: "generalize", params: map[string]string{"step": "0"}, wantInErr: "step"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			m, err := New(tc.algorithm, tc.params)
			if err == nil {
				t.Fatalf("New succeeded with %T, want error", m)
			}
			if !strings.Contains(err.Error(), tc.wantInErr) {
				t.Errorf("error %q does not mention %q", err, tc.wantInErr)
			}
			if strings.Contains(err.Error(), "short") && tc.params["key"] == "short" {
				t.Errorf("error echoes the key: %q", err)
			}
		})
	}
}

func TestEveryAlgorithmBuildsWithDefaults(t *testing.T) {
	for _, name := range Algorithms() {
		params := map[string]string(nil)
		if name == "pseudonym" || name == "sm4_token" {
			params = map[string]string{"key": testKey}
		}
		m, err := New(name, params)
		if err != nil {
			t.Errorf("New(%q): %v", name, err)
			continue
		}
		long := strings.Repeat("四川省成都市武侯区13812345678", 20000) // ~0.8 MB
		out := m.Mask(nil, []byte(long))
		if !utf8.Valid(out) {
			t.Errorf("%s: invalid UTF-8 for a long value", name)
		}
		if name != "redact" && name != "null" && name != "pseudonym" && name != "sm4_token" && name != "generalize" && name != "birthday" && name != "date" && string(out) == long {
			t.Errorf("%s: long value returned unmasked", name)
		}
	}
}

func TestKeyFromEnvironment(t *testing.T) {
	t.Setenv("DBFENCE_TEST_KEY", "hex:000102030405060708090a0b0c0d0e0f")
	fromEnv, err := New("pseudonym", map[string]string{"key": "env:DBFENCE_TEST_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := New("pseudonym", map[string]string{"key": "hex:000102030405060708090a0b0c0d0e0f"})
	if err != nil {
		t.Fatal(err)
	}
	in := []byte("13812345678")
	if a, b := fromEnv.Mask(nil, in), direct.Mask(nil, in); string(a) != string(b) {
		t.Errorf("env key gives %q, hex key %q", a, b)
	}
}

func TestPseudonym(t *testing.T) {
	hexM, _ := New("pseudonym", map[string]string{"key": testKey})
	digitsM, _ := New("pseudonym", map[string]string{"key": testKey, "format": "digits"})
	otherKey, _ := New("pseudonym", map[string]string{"key": testKey + "2"})
	tests := []struct {
		desc string
		in   string
	}{
		{desc: "mobile", in: "13812345678"},
		{desc: "id number", in: "11010519491231002X"},
		{desc: "long text needing several HMAC blocks", in: strings.Repeat("数据", 40)},
		{desc: "empty", in: ""},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			in := []byte(tc.in)
			a, b := hexM.Mask(nil, in), hexM.Mask(nil, in)
			if string(a) != string(b) {
				t.Errorf("not deterministic: %q vs %q", a, b)
			}
			if len(a) != 16 {
				t.Errorf("hex length %d, want 16", len(a))
			}
			if string(otherKey.Mask(nil, in)) == string(a) {
				t.Errorf("different keys give the same pseudonym")
			}
			d := digitsM.Mask(nil, in)
			if len(d) != utf8.RuneCountInString(tc.in) || (len(d) > 0 && !allDigits(d)) {
				t.Errorf("digits output %q for %d characters", d, utf8.RuneCountInString(tc.in))
			}
			if len(in) > 0 && string(d) == tc.in {
				t.Errorf("digits output equals input")
			}
		})
	}
}

func TestSM4TokenRoundTrip(t *testing.T) {
	m, err := New("sm4_token", map[string]string{"key": testKey})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc string
		in   string
	}{
		{desc: "id number", in: "11010519491231002X"},
		{desc: "Han text", in: "四川省成都市武侯区人民南路"},
		{desc: "empty", in: ""},
		{desc: "binary bytes", in: "\x00\xff\xfe"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			tok := m.Mask(nil, []byte(tc.in))
			if !strings.HasPrefix(string(tok), TokenPrefix) || strings.Contains(string(tok), tc.in) && tc.in != "" {
				t.Fatalf("token %q", tok)
			}
			if again := m.Mask(nil, []byte(tc.in)); string(again) != string(tok) {
				t.Errorf("not deterministic")
			}
			plain, err := Unmask(tok, testKey)
			if err != nil || string(plain) != tc.in {
				t.Fatalf("Unmask = %q, %v; want %q", plain, err, tc.in)
			}
			if _, err := Unmask(tok, testKey+"x"); err != ErrBadToken {
				t.Errorf("wrong key: err = %v, want ErrBadToken", err)
			}
			tampered := append([]byte(nil), tok...)
			tampered[len(tampered)-1] ^= 1
			if p, err := Unmask(tampered, testKey); err == nil && string(p) == tc.in {
				t.Errorf("tampered token accepted")
			}
		})
	}
	for _, bad := range []string{"", "sm4:", "sm4:!!!", "xyz:abc", "sm4:AAAA"} {
		if _, err := Unmask([]byte(bad), testKey); err == nil {
			t.Errorf("Unmask(%q) succeeded", bad)
		}
	}
	if _, err := Unmask([]byte("sm4:AAAA"), "short"); err == nil || strings.Contains(err.Error(), "short\"") {
		t.Errorf("short key: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	ms := allMaskers(t)
	gbk, _ := ForCharset(ms["name"], "gb18030")
	ms["name_gb18030"] = gbk
	inputs := []string{"11010519491231002X", "13812345678", "四川省成都市武侯区玉林路", "欧阳娜娜", "1987-06-15", "37"}
	for name, m := range ms {
		want := make([]string, len(inputs))
		for i, in := range inputs {
			want[i] = string(m.Mask(nil, []byte(in)))
		}
		done := make(chan string, 4)
		for range 4 {
			go func() {
				var buf []byte
				for range 200 {
					for i, in := range inputs {
						buf = m.Mask(buf[:0], []byte(in))
						if string(buf) != want[i] {
							done <- name + ": " + in + " → " + string(buf) + ", want " + want[i]
							return
						}
					}
				}
				done <- ""
			}()
		}
		for range 4 {
			if msg := <-done; msg != "" {
				t.Error(msg)
			}
		}
	}
}
