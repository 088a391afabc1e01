package mysqlsql

import (
	"testing"

	"github.com/dbfence/dbfence/fault"
)

func TestCharset(t *testing.T) {
	tests := []struct {
		desc     string
		charset  string
		raw      string
		wantText string
		wantKind fault.Kind // 0: accepted
	}{
		{desc: "utf8mb4 read directly", charset: "utf8mb4", raw: "SELECT '张三'", wantText: "SELECT '张三'"},
		{desc: "charset names are case-insensitive", charset: "UTF8MB4", raw: "SELECT 1", wantText: "SELECT 1"},
		{desc: "latin1 read directly", charset: "latin1", raw: "SELECT '\xe9'", wantText: "SELECT '\xe9'"},
		{desc: "gbk decoded to UTF-8", charset: "gbk", raw: "SELECT '\xd5\xc5\xc8\xfd'", wantText: "SELECT '张三'"},
		{desc: "class 18: gbk 0xbf5c is one character, not a backslash", charset: "gbk", raw: "SELECT '\xbf\x5c', id_card FROM person -- '", wantText: "SELECT '縗', id_card FROM person -- '"},
		{desc: "gb18030 decoded", charset: "gb18030", raw: "SELECT '\xd5\xc5'", wantText: "SELECT '张'"},
		{desc: "invalid gbk bytes refused", charset: "gbk", raw: "SELECT '\xff\xff'", wantKind: fault.UnsupportedCharset},
		{desc: "truncated gbk character refused", charset: "gbk", raw: "SELECT '\xd5", wantKind: fault.UnsupportedCharset},
		{desc: "big5 unsupported", charset: "big5", raw: "SELECT 1", wantKind: fault.UnsupportedCharset},
		{desc: "unknown charset refused", charset: "", raw: "SELECT 1", wantKind: fault.UnsupportedCharset},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			cs, ferr := LookupCharset(tc.charset)
			var text string
			if ferr == nil {
				text, ferr = cs.Decode(tc.raw)
			}
			if tc.wantKind != 0 {
				if ferr == nil || ferr.Kind != tc.wantKind {
					t.Fatalf("got %q, %v; want %v", text, ferr, tc.wantKind)
				}
				return
			}
			if ferr != nil {
				t.Fatalf("unexpected refusal: %v", ferr)
			}
			if text != tc.wantText {
				t.Errorf("decoded %q, want %q", text, tc.wantText)
			}
			back, ferr := cs.Encode(text)
			if ferr != nil || back != tc.raw {
				t.Errorf("round trip gave %q, %v; want %q", back, ferr, tc.raw)
			}
		})
	}
}
