package mysqlsql

import (
	"strings"
	"testing"
)

// TestResolveLatin1NoBreakSpace: in latin1 the server reads byte 0xA0 as
// whitespace and the parser as part of a name; outside strings it is
// refused, inside them it is data.
func TestResolveLatin1NoBreakSpace(t *testing.T) {
	server := Server{Version: 101119, MariaDB: true}
	for _, tc := range []struct {
		text    string
		refused bool
	}{
		{"SELECT 'a' AS x\xa0UNION\xa0ALL\xa0SELECT\xa0id_card\xa0FROM\xa0person", true},
		{"SELECT dept FROM person WHERE id=1 --\xa0 '\n/*M! UNION ALL SELECT id_card FROM person */ -- '", true},
		{"/*!UNION\xa0SELECT 1 */", true},
		{"SELECT 'caf\xa0e', \"\xa0\", `a\xa0b` FROM t", false},
		{"SELECT 1 /* \xa0 */ # \xa0\n", false},
	} {
		_, err := Resolve(tc.text, ModeLatin1, server)
		if got := err != nil; got != tc.refused {
			t.Errorf("%q: error %v, want refused %v", tc.text, err, tc.refused)
		}
		if err != nil && !strings.Contains(err.Error(), "0xA0") {
			t.Errorf("%q: %v does not name the byte", tc.text, err)
		}
	}
}
