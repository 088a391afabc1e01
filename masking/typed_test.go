package masking

import (
	"testing"
)

func TestMaskTyped(t *testing.T) {
	tests := []struct {
		desc      string
		algorithm string
		params    map[string]string
		in        string
		typ       ValueType
		want      string
		wantOK    bool
	}{
		{desc: "integer phone hides digits as zero", algorithm: "phone", in: "13812345678", typ: Integer, want: "13800005678", wantOK: true},
		{desc: "string phone", algorithm: "phone", in: "13812345678", typ: String, want: "138****5678", wantOK: true},
		{desc: "negative integer keeps sign", algorithm: "keep", params: map[string]string{"keep_first": "2"}, in: "-12345", typ: Integer, want: "-10000", wantOK: true},
		{desc: "decimal keeps point", algorithm: "keep", params: map[string]string{"keep_first": "2"}, in: "12345.67", typ: Decimal, want: "12000.00", wantOK: true},
		{desc: "float with exponent", algorithm: "keep", params: map[string]string{"keep_first": "3"}, in: "1.2345e+06", typ: Float, want: "1.2000e+00", wantOK: true},
		{desc: "float NaN hidden letters", algorithm: "keep", in: "NaN", typ: Float, wantOK: false},
		{desc: "birthday DATE to year", algorithm: "birthday", in: "1987-06-15", typ: Date, want: "1987-01-01", wantOK: true},
		{desc: "birthday DATE to month", algorithm: "birthday", params: map[string]string{"precision": "month"}, in: "1987-06-15", typ: Date, want: "1987-06-01", wantOK: true},
		{desc: "birthday DATETIME", algorithm: "birthday", in: "1987-06-15 08:30:00", typ: DateTime, want: "1987-01-01 00:00:00", wantOK: true},
		{desc: "birthday YEAR", algorithm: "birthday", in: "1987-06-15", typ: Year, want: "1987", wantOK: true},
		{desc: "birthday integer YYYYMMDD", algorithm: "birthday", in: "19870615", typ: Integer, want: "19870101", wantOK: true},
		{desc: "birthday invalid date is NULL", algorithm: "birthday", in: "1987-02-30", typ: Date, wantOK: false},
		{desc: "keep on DATE resets month and day", algorithm: "keep", params: map[string]string{"keep_first": "4"}, in: "1987-06-15", typ: Date, want: "1987-01-01", wantOK: true},
		{desc: "keep on DATETIME with zone", algorithm: "keep", params: map[string]string{"keep_first": "7"}, in: "1987-06-15 12:13:14+08", typ: DateTime, want: "1987-06-01 00:00:00+00", wantOK: true},
		{desc: "hidden year is NULL", algorithm: "keep", in: "1987-06-15", typ: Date, wantOK: false},
		{desc: "partially hidden year", algorithm: "mask_range", params: map[string]string{"from": "3", "to": "4"}, in: "1987-06-15", typ: Date, want: "1900-06-15", wantOK: true},
		{desc: "time", algorithm: "keep", params: map[string]string{"keep_first": "2"}, in: "12:34:56", typ: Time, want: "12:00:00", wantOK: true},
		{desc: "year column", algorithm: "keep", params: map[string]string{"keep_first": "2"}, in: "1987", typ: Year, want: "1900", wantOK: true},
		{desc: "generalize integer lower bound", algorithm: "generalize", in: "37", typ: Integer, want: "30", wantOK: true},
		{desc: "generalize negative toward zero", algorithm: "generalize", in: "-37", typ: Integer, want: "-30", wantOK: true},
		{desc: "generalize decimal", algorithm: "generalize", params: map[string]string{"step": "100"}, in: "1234.5", typ: Decimal, want: "1200", wantOK: true},
		{desc: "generalize string range", algorithm: "generalize", in: "37", typ: String, want: "30~40", wantOK: true},
		{desc: "redact length changes on integer", algorithm: "redact", params: map[string]string{"replacement": "[x]"}, in: "12", typ: Integer, wantOK: false},
		{desc: "null is NULL for strings too", algorithm: "null", in: "abc", typ: String, wantOK: false},
		{desc: "null is NULL for integers", algorithm: "null", in: "1", typ: Integer, wantOK: false},
		{desc: "sm4 token on integer is NULL", algorithm: "sm4_token", params: map[string]string{"key": testKey}, in: "12", typ: Integer, wantOK: false},
		{desc: "other type is NULL", algorithm: "keep", in: "POINT(1 2)", typ: Other, wantOK: false},
		{desc: "binary masked as text", algorithm: "keep", params: map[string]string{"keep_first": "1"}, in: "abcd", typ: Binary, want: "a***", wantOK: true},
		{desc: "non-ASCII integer text is NULL", algorithm: "keep", in: "１２", typ: Integer, wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			m, err := New(tc.algorithm, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			dst := []byte("p:")
			out, ok := MaskTyped(m, dst, []byte(tc.in), tc.typ)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v (out %q), want %v", ok, out, tc.wantOK)
			}
			if string(out[:2]) != "p:" {
				t.Fatalf("dst prefix clobbered: %q", out)
			}
			if ok && string(out[2:]) != tc.want {
				t.Errorf("MaskTyped(%q, %v) = %q, want %q", tc.in, tc.typ, out[2:], tc.want)
			}
			if !ok && len(out) != 2 {
				t.Errorf("ok=false but dst grew: %q", out)
			}
		})
	}
}

func TestMaskTypedPseudonymInteger(t *testing.T) {
	m, err := New("pseudonym", map[string]string{"key": testKey, "format": "digits"})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"13812345678", "127", "9", "9223372036854775807"} {
		out, ok := MaskTyped(m, nil, []byte(in), Integer)
		if !ok || !allDigits(out) {
			t.Fatalf("MaskTyped(%q) = %q, %v", in, out, ok)
		}
		if len(out) >= len(in) && len(in) > 1 {
			t.Errorf("pseudonym %q of %q not shorter: would not fit the column type", out, in)
		}
		again, _ := MaskTyped(m, nil, []byte(in), Integer)
		if string(again) != string(out) {
			t.Errorf("not deterministic")
		}
	}
}

func TestValueTypeString(t *testing.T) {
	for typ := String; typ <= Other+1; typ++ {
		if typ.String() == "" {
			t.Errorf("type %d has no name", typ)
		}
	}
}
