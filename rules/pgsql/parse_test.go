package pgsql

import (
	"errors"
	"testing"

	"github.com/dbfence/dbfence/fault"
)

func TestParse(t *testing.T) {
	tests := []struct {
		desc  string
		text  string
		kinds []string
		err   bool
	}{
		{"one select", "SELECT name FROM person WHERE id = 1", []string{"select"}, false},
		{"multi-statement", "SET search_path = gov; SELECT 1; COPY person TO STDOUT", []string{"set", "select", "copy"}, false},
		{"whole-row reference parses", "SELECT p FROM person p", []string{"select"}, false},
		{"DO block", "DO $$ BEGIN PERFORM 1; END $$", []string{"do"}, false},
		{"syntax error", "SELEC 1", nil, true},
		{"empty", "", nil, false},
	}
	for _, tc := range tests {
		got, err := Parse(tc.text)
		if tc.err {
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.ParseError {
				t.Errorf("%s: got %v", tc.desc, err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.kinds) {
			t.Errorf("%s: got %v, %v", tc.desc, got, err)
			continue
		}
		for i, k := range tc.kinds {
			if got[i].Kind != k {
				t.Errorf("%s: statement %d kind %s, want %s", tc.desc, i, got[i].Kind, k)
			}
		}
	}
	if n := Normalized("SELECT * FROM person WHERE id_card = '110105194912310021'"); n != "SELECT * FROM person WHERE id_card = $1" {
		t.Errorf("normalized: %q", n)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("SELECT 1; SELECT p FROM person p")
	f.Fuzz(func(t *testing.T, text string) {
		stmts, err := Parse(text)
		if err != nil {
			return
		}
		for _, s := range stmts {
			if s.Kind == "" {
				t.Fatal("statement without a kind")
			}
		}
	})
}
