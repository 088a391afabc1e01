package masking

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestForCharset(t *testing.T) {
	name, _ := New("name", nil)
	address, _ := New("address", nil)
	tests := []struct {
		desc    string
		charset string
		masker  Masker
		in      string // UTF-8; encoded into the charset for the test
		want    string // UTF-8
	}{
		{desc: "gbk name", charset: "gbk", masker: name, in: "欧阳娜娜", want: "欧阳**"},
		{desc: "GBK upper case", charset: "GBK", masker: name, in: "张三", want: "张*"},
		{desc: "gb2312 as gbk", charset: "gb2312", masker: name, in: "王小明", want: "王**"},
		{desc: "gb18030 address", charset: "gb18030", masker: address, in: "四川省成都市武侯区玉林路", want: "四川省成都市武侯区***"},
		{desc: "gb18030 rare character", charset: "gb18030", masker: name, in: "王𠀀𠀁", want: "王**"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			m, err := ForCharset(tc.masker, tc.charset)
			if err != nil {
				t.Fatal(err)
			}
			enc := simplifiedchinese.GBK
			if strings.EqualFold(tc.charset, "gb18030") {
				enc = simplifiedchinese.GB18030
			}
			src, err := enc.NewEncoder().Bytes([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			out := m.Mask([]byte("x"), src)
			got, err := enc.NewDecoder().Bytes(out[1:])
			if err != nil || string(got) != tc.want || out[0] != 'x' {
				t.Errorf("got %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

func TestForCharsetPassThroughAndErrors(t *testing.T) {
	m, _ := New("phone", nil)
	for _, cs := range []string{"utf8", "utf8mb4", "UTF8", "utf-8", "ascii", "utf8mb3"} {
		got, err := ForCharset(m, cs)
		if err != nil || got != m {
			t.Errorf("ForCharset(%q) = %v, %v; want the masker itself", cs, got, err)
		}
	}
	for _, cs := range []string{"latin1", "big5", "", "binary", "sql_ascii"} {
		if _, err := ForCharset(m, cs); err == nil || !strings.Contains(err.Error(), "unsupported charset") {
			t.Errorf("ForCharset(%q) error = %v", cs, err)
		}
	}
}

func TestForCharsetInvalidBytesStayMasked(t *testing.T) {
	keep, _ := New("keep", nil)
	m, _ := ForCharset(keep, "gbk")
	// 0x81 0x20 is not a GBK character; every character must still be hidden.
	out := m.Mask(nil, []byte{0xd5, 0xc5, 0x81, 0x20, 'a'})
	for _, c := range out {
		if c != '*' {
			t.Fatalf("unmasked byte in %q", out)
		}
	}
	typed, ok := MaskTyped(m, nil, []byte("12345"), Integer)
	if !ok || string(typed) != "00000" {
		t.Errorf("typed through charset wrapper = %q, %v", typed, ok)
	}
	null, _ := New("null", nil)
	nm, _ := ForCharset(null, "gbk")
	if _, ok := MaskTyped(nm, nil, []byte("x"), String); ok {
		t.Errorf("null through charset wrapper must stay NULL")
	}
}
