package fault

import (
	"errors"
	"io"
	"testing"
)

func TestEveryKindHasDistinctNameAndWireForm(t *testing.T) {
	seen := map[string]Kind{}
	for _, k := range Kinds() {
		if prev, dup := seen[k.String()]; dup {
			t.Fatalf("kinds %d and %d share the name %q", prev, k, k.String())
		}
		seen[k.String()] = k
		code, state := k.MySQL()
		if code == 0 || len(state) != 5 || len(k.PostgresState()) != 5 {
			t.Fatalf("kind %s: incomplete wire form %d %q %q", k, code, state, k.PostgresState())
		}
	}
}

func TestWireFormsUsersRelyOn(t *testing.T) {
	tests := []struct {
		desc  string
		kind  Kind
		code  uint16
		state string
		pg    string
	}{
		{"unparseable SQL reads as a syntax error", ParseError, 1064, "42000", "42601"},
		{"denied column reads as a column privilege error", ColumnDenied, 1143, "42000", "42501"},
		{"denied table reads as a table privilege error", TableDenied, 1142, "42000", "42501"},
		{"unknown kind falls back to internal", Kind(250), 1105, "HY000", "XX000"},
	}
	for _, tc := range tests {
		code, state := tc.kind.MySQL()
		if code != tc.code || state != tc.state || tc.kind.PostgresState() != tc.pg {
			t.Errorf("%s: got %d %s %s", tc.desc, code, state, tc.kind.PostgresState())
		}
	}
}

func TestAsHidesForeignErrorText(t *testing.T) {
	fe := As(io.ErrUnexpectedEOF)
	if fe.Kind != Internal || fe.Message != "internal proxy error" || !errors.Is(fe, io.ErrUnexpectedEOF) {
		t.Fatalf("As(foreign) = %+v", fe)
	}
	orig := New(ColumnDenied, "column %q is denied", "id_card")
	if got := As(errors.Join(orig)); got != orig {
		t.Fatalf("As did not find the wrapped *Error")
	}
}
