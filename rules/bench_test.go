package rules

import (
	"strconv"
	"testing"

	"github.com/dbfence/dbfence/rules/mysqlsql"
)

// benchStatements are the workloads of the performance budget.
var benchStatements = []struct {
	name string
	sql  string
}{
	{"PointSelect", "SELECT c FROM sbtest1 WHERE id=4711"},
	{"ReadWriteMix", "UPDATE sbtest1 SET k=k+1 WHERE id=4711"},
	{"FourWayJoin", "SELECT a.c, b.c, c.c, d.c FROM sbtest1 a JOIN sbtest2 b ON a.id = b.id JOIN sbtest3 c ON b.id = c.id JOIN sbtest4 d ON c.id = d.id WHERE a.id = 4711"},
	{"MaskedLookup", "SELECT name, id_card, phone FROM gov.person WHERE id = 4711"},
}

// readWriteMix is sysbench oltp_read_write's statement shapes.
var readWriteMix = []string{
	"SELECT c FROM sbtest1 WHERE id=4711",
	"SELECT c FROM sbtest1 WHERE id BETWEEN 4711 AND 4810",
	"SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN 4711 AND 4810",
	"SELECT c FROM sbtest1 WHERE id BETWEEN 4711 AND 4810 ORDER BY c",
	"SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 4711 AND 4810 ORDER BY c",
	"UPDATE sbtest1 SET k=k+1 WHERE id=4711",
	"UPDATE sbtest1 SET c='abc' WHERE id=4711",
	"DELETE FROM sbtest1 WHERE id=4711",
	"INSERT INTO sbtest1 (id, k, c, pad) VALUES (4711, 1, 'c', 'pad')",
}

func benchSession() *Session {
	s := mariaSession("officer")
	s.Database = "sbtest"
	return s
}

// BenchmarkCheckMySQLFirstSight measures a statement shape seen for the
// first time: resolve, parse, analyse, decide (the cache is bypassed).
func BenchmarkCheckMySQLFirstSight(b *testing.B) {
	e := newTestEngine(b)
	sess := benchSession()
	for _, bs := range benchStatements {
		b.Run(bs.name, func(b *testing.B) {
			b.ReportAllocs()
			st := e.state.Load()
			role := st.policy.roleFor(sess.User)
			for i := 0; i < b.N; i++ {
				resolved, err := mysqlsql.Resolve(bs.sql, 0, mysqlsql.Server{Version: sess.ServerVersion, MariaDB: true})
				if err != nil {
					b.Fatal(err)
				}
				_ = cacheKey(resolved, 0, sess.Database, role.name, st.policy.version)
				if entry := e.decide(st, role, sess.Database, 0, resolved); entry.refusal != nil {
					b.Fatal(entry.refusal)
				}
			}
		})
	}
}

// BenchmarkCheckMySQLCacheHit measures a repeated statement shape with a
// new literal each time (the decision comes from the cache).
func BenchmarkCheckMySQLCacheHit(b *testing.B) {
	e := newTestEngine(b)
	sess := benchSession()
	for _, bs := range benchStatements {
		b.Run(bs.name, func(b *testing.B) {
			texts := make([]string, 64)
			for i := range texts {
				texts[i] = bs.sql[:len(bs.sql)-4] + strconv.Itoa(1000+i)
			}
			e.CheckMySQL(sess, texts[0])
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if v := e.CheckMySQL(sess, texts[i%len(texts)]); v.Refusal != nil {
					b.Fatal(v.Refusal)
				}
			}
		})
	}
	b.Run("ReadWriteMix9", func(b *testing.B) {
		for _, q := range readWriteMix {
			e.CheckMySQL(sess, q)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if v := e.CheckMySQL(sess, readWriteMix[i%len(readWriteMix)]); v.Refusal != nil {
				b.Fatal(v.Refusal)
			}
		}
	})
}

// BenchmarkCheckMySQLUnrestricted is the path of a user without rules.
func BenchmarkCheckMySQLUnrestricted(b *testing.B) {
	e := newTestEngine(b)
	sess := benchSession()
	sess.User = "dba"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e.CheckMySQL(sess, "SELECT c FROM sbtest1 WHERE id=4711")
	}
}
