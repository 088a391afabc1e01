package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The PostgreSQL bypass suite plays the catalogue's classes that apply to
// PostgreSQL, and the PostgreSQL-specific ones (whole-row references,
// set_config, query_to_xml, COPY, statistics views, search_path, cursors,
// DO blocks, NOTIFY), against the demo as the clerk. As for MySQL, each
// technique that can leak is first run directly on the database to prove it
// does; through dbfence no hidden part of any value may come back: not in
// cells, errors, notices or notifications.

// pgTechnique is one technique; steps run in order on one connection
// (simple protocol unless args are given, which use the extended protocol
// with binary results where pgx chooses them).
type pgTechnique struct {
	class, desc   string
	steps         []string
	args          []any
	ids           []int
	expect        expectation
	leaksDirectly bool
	// directBelow, when set, is the server_version_num from which the
	// technique no longer leaks directly (the server reads it otherwise).
	directBelow int
}

func pgTechniques() []pgTechnique {
	one := []int{1}
	t := func(class, desc string, expect expectation, direct bool, steps ...string) pgTechnique {
		return pgTechnique{class: class, desc: desc, steps: steps, ids: one, expect: expect, leaksDirectly: direct}
	}
	return []pgTechnique{
		// A. Lineage evasion.
		t("1", "plain read", masked, true, "SELECT id_card, phone, bank_card, name, address FROM person WHERE id = 1"),
		t("1", "alias", masked, true, "SELECT id_card AS x, phone AS y FROM person WHERE id = 1"),
		t("1", "qualified and quoted", masked, true, `SELECT "id_card" FROM "gov"."person" WHERE "id" = 1`),
		t("1", "CTE", noLeak, true, "WITH c(x) AS (SELECT id_card FROM person WHERE id = 1) SELECT x FROM c"),
		t("1", "view", masked, true, "SELECT id, name FROM person_public WHERE id = 1"),
		t("2", "concatenation", noLeak, true, "SELECT id_card || '' FROM person WHERE id = 1"),
		t("2", "lower", noLeak, true, "SELECT lower(address) FROM person WHERE id = 1"),
		t("2", "substr", noLeak, true, "SELECT substr(id_card, 7, 8) FROM person WHERE id = 1"),
		t("2", "cast", noLeak, true, "SELECT id_card::text FROM person WHERE id = 1"),
		t("2", "reverse twice", noLeak, true, "SELECT reverse(reverse(bank_card)) FROM person WHERE id = 1"),
		t("2", "format", noLeak, true, "SELECT format('%s', id_card) FROM person WHERE id = 1"),
		t("2", "jsonb_build_object", noLeak, true, "SELECT jsonb_build_object('a', id_card) FROM person WHERE id = 1"),
		t("2", "CASE", noLeak, true, "SELECT CASE WHEN id = 1 THEN id_card END FROM person WHERE id = 1"),
		t("2", "coalesce", noLeak, true, "SELECT coalesce(id_card, 'x') FROM person WHERE id = 1"),
		t("2", "xmlelement", noLeak, true, "SELECT xmlelement(name x, id_card) FROM person WHERE id = 1"),
		t("3", "scalar subquery", noLeak, true, "SELECT (SELECT id_card FROM person WHERE id = 1) AS x"),
		t("3", "derived table", noLeak, true, "SELECT x FROM (SELECT id_card AS x FROM person WHERE id = 1) d"),
		t("3", "VALUES", noLeak, true, "VALUES ((SELECT id_card FROM person WHERE id = 1))"),
		t("4", "UNION", noLeak, true, "SELECT name FROM person WHERE id = 2 UNION SELECT id_card FROM person WHERE id = 1"),
		t("5", "alias star", masked, true, "SELECT p.* FROM person p WHERE p.id = 1"),
		t("5", "whole-row reference", noLeak, true, "SELECT p FROM person p WHERE p.id = 1"),
		t("5", "row_to_json", noLeak, true, "SELECT row_to_json(p) FROM person p WHERE p.id = 1"),
		t("5", "to_jsonb", noLeak, true, "SELECT to_jsonb(p) FROM person p WHERE p.id = 1"),
		t("5", "json_agg", noLeak, true, "SELECT json_agg(p) FROM person p WHERE p.id = 1"),
		t("5", "row cast to text", noLeak, true, "SELECT p::text FROM person p WHERE p.id = 1"),
		t("5", "ROW(p.*)", noLeak, true, "SELECT ROW(p.*) FROM person p WHERE p.id = 1"),
		t("5", "field selection", noLeak, true, "SELECT (p).id_card FROM person p WHERE p.id = 1"),
		t("5", "NATURAL JOIN", noLeak, true, "SELECT * FROM person_public NATURAL JOIN person WHERE id = 1"),
		t("6", "max", noLeak, true, "SELECT max(id_card) FROM person WHERE id = 1"),
		t("6", "string_agg", noLeak, true, "SELECT string_agg(phone, ',') FROM person WHERE id = 1"),
		t("6", "array_agg", noLeak, true, "SELECT array_agg(bank_card) FROM person WHERE id = 1"),
		t("6", "lag", noLeak, true, "SELECT lag(id_card) OVER (ORDER BY id) FROM person WHERE id IN (1, 2)"),
		// B. Inference and error channels.
		t("7", "LIKE oracle", refused, false, "SELECT id FROM person WHERE id_card LIKE '1%'"),
		t("7", "ORDER BY oracle", refused, false, "SELECT id FROM person ORDER BY id_card LIMIT 5"),
		t("7", "GROUP BY oracle", refused, false, "SELECT count(*) FROM person GROUP BY substr(id_card, 7, 1)"),
		t("7", "range oracle", refused, false, "SELECT id FROM person WHERE phone > '138' LIMIT 5"),
		t("7", "IN-list search over 11 candidates", refused, false, "SELECT id FROM person WHERE id_card IN ('1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11')"),
		t("7", "array search over 11 candidates", refused, false, "SELECT id FROM person WHERE id_card = ANY('{1,2,3,4,5,6,7,8,9,10,11}')"),
		t("7", "TABLESAMPLE percentage from a hidden value", refused, false, "SELECT count(*) FROM household TABLESAMPLE bernoulli((SELECT substr(id_card, 7, 2)::int FROM person WHERE id = 1)) REPEATABLE (0)"),
		t("7", "TABLESAMPLE seed from a hidden value", refused, false, "SELECT count(*) FROM household TABLESAMPLE bernoulli(1) REPEATABLE ((SELECT length(id_card) FROM person WHERE id = 1))"),
		t("8", "error oracle in EXISTS with an aggregate", refused, false, "SELECT EXISTS (SELECT max(CASE WHEN substr(id_card, 7, 1) = '1' THEN 1/(id*0) END) FROM person WHERE id = 1)"),
		t("8", "error oracle in an unreturned derived column", refused, false, "SELECT id FROM (SELECT id, CASE WHEN substr(id_card, 7, 1) = '1' THEN 1/(id*0) ELSE random() END AS x FROM person WHERE id = 1 OFFSET 0) d"),
		t("8", "error oracle in an unread materialized CTE column", refused, false, "WITH c AS MATERIALIZED (SELECT id, CASE WHEN substr(id_card, 7, 1) = '1' THEN 1/(id*0) END AS x FROM person WHERE id = 1) SELECT id FROM c"),
		t("7", "CYCLE as an equality search", refused, false, "WITH RECURSIVE r(g, v, n) AS (SELECT g, g, 1 FROM (SELECT '158' || lpad(i::text, 4, '0') || '7456' AS g FROM generate_series(0, 9999) i) t UNION ALL SELECT r.g, p.phone::text, r.n + 1 FROM r JOIN person p ON p.id = 1 WHERE r.n < 3) CYCLE v SET is_cycle USING path SELECT g FROM r GROUP BY g HAVING count(*) = 2"),
		t("7", "join on a masked column", refused, false, "SELECT a.id FROM person a JOIN person b ON a.id_card = b.id_card WHERE a.id = 1"),
		t("8", "cast error quotes the value", noLeak, true, "SELECT id_card::int FROM person WHERE id = 1"),
		t("8", "cast error in WHERE", noLeak, true, "SELECT 1 FROM person WHERE id = 1 AND id_card::int = 0"),
		// C. Laundering through settings, tables, code and files.
		t("9", "set_config", noLeak, true, "SELECT set_config('dbf.v', id_card, false) FROM person WHERE id = 1", "SELECT current_setting('dbf.v')"),
		t("10", "temporary table", noLeak, true, "CREATE TEMP TABLE person AS SELECT * FROM gov.person WHERE id = 1", "SELECT id_card FROM person"),
		t("10", "SELECT INTO", noLeak, true, "SELECT id_card INTO TEMP dbf_t FROM person WHERE id = 1", "SELECT * FROM dbf_t"),
		t("11", "COPY TO STDOUT", refused, false, "COPY (SELECT id_card FROM person WHERE id = 1) TO STDOUT"),
		t("11", "pg_read_file", refused, false, "SELECT pg_read_file('/etc/hostname')"),
		t("11", "large object", refused, false, "SELECT lo_from_bytea(0, id_card::bytea) FROM person WHERE id = 1"),
		t("12", "query_to_xml", noLeak, true, "SELECT query_to_xml('SELECT id_card FROM gov.person WHERE id = 1', true, true, '')"),
		t("12", "DO block", noLeak, true, "DO $$BEGIN RAISE NOTICE '%', (SELECT id_card FROM gov.person WHERE id = 1); END$$"),
		t("13", "PREPARE/EXECUTE", noLeak, true, "PREPARE s AS SELECT id_card FROM person WHERE id = 1", "EXECUTE s"),
		t("13", "cursor", masked, true, "BEGIN", "DECLARE c CURSOR FOR SELECT id_card FROM person WHERE id = 1", "FETCH ALL FROM c"),
		t("13", "cursor WITH HOLD, after COMMIT", masked, true, "BEGIN",
			"DECLARE c CURSOR WITH HOLD FOR SELECT id_card, phone FROM person WHERE id = 1", "COMMIT", "FETCH ALL FROM c"),
		t("13", "cursor closed and declared again in one text", masked, true, "BEGIN",
			"DECLARE c CURSOR FOR SELECT id FROM person WHERE id = 1; CLOSE c; DECLARE c CURSOR FOR SELECT id_card FROM person WHERE id = 1; FETCH ALL FROM c"),
		t("13", "cursor over a transformed column", noLeak, true, "BEGIN", "DECLARE c CURSOR FOR SELECT upper(address) FROM person WHERE id = 1", "FETCH ALL FROM c"),
		t("13", "cursor whose second DECLARE failed", noLeak, true, "BEGIN",
			"DECLARE c CURSOR FOR SELECT id_card FROM person WHERE id = 1", "SAVEPOINT s", "DECLARE c CURSOR FOR SELECT 1",
			"ROLLBACK TO SAVEPOINT s", "FETCH ALL FROM c"),
		t("23", "pg_notify", noLeak, true, "LISTEN dbf", "SELECT pg_notify('dbf', id_card) FROM person WHERE id = 1", "SELECT 1"),
		// D. Protocol and parser differentials.
		{class: "14", desc: "extended protocol, binary results", steps: []string{"SELECT id_card, phone, bank_card, name, address FROM person WHERE id = $1"}, args: []any{1}, ids: one, expect: masked, leaksDirectly: true},
		t("15", "multi-statement", noLeak, true, "SELECT 1; SELECT id_card FROM person WHERE id = 1"),
		t("19", "search_path changed, qualified read", masked, true, "SET search_path = public", "SELECT id_card FROM gov.person WHERE id = 1"),
		t("19", "search_path changed in the same text", noLeak, true, "SET search_path = gov; SELECT id_card || '' FROM person WHERE id = 1"),
		t("19", "search_path rolled back", masked, true, "BEGIN", "SET search_path = public", "ROLLBACK", "SELECT id_card FROM person WHERE id = 1"),
		t("17", "client_encoding change", refused, false, "SET client_encoding = 'GBK'"),
		// The grammar is PostgreSQL 17's, where SYSTEM_USER is a function;
		// PostgreSQL 15 reads the bare word as a name.
		{class: "16", desc: "SYSTEM_USER as a column alias (PostgreSQL < 16)", steps: []string{
			"SELECT system_user FROM (SELECT id_card AS system_user FROM person WHERE id = 1) t"},
			ids: one, expect: refused, leaksDirectly: true, directBelow: 160000},
		{class: "16", desc: "SYSTEM_USER as a whole-row alias (PostgreSQL < 16)", steps: []string{
			`SELECT system_user::text FROM (SELECT * FROM person WHERE id = 1) AS "system_user"`},
			ids: one, expect: refused, leaksDirectly: true, directBelow: 160000},
		// E. Catalog and statistics.
		{class: "21", desc: "pg_stats sample values", steps: []string{"SELECT most_common_vals::text, histogram_bounds::text FROM pg_stats WHERE tablename = 'person'"}, expect: refused, leaksDirectly: true},
		t("21", "pg_stat_activity", refused, false, "SELECT query FROM pg_stat_activity"),
		t("21", "EXPLAIN ANALYZE", refused, false, "EXPLAIN ANALYZE SELECT id FROM person WHERE id_card = '1'"),
		// F. Bulk.
		{class: "24", desc: "TABLE person", steps: []string{"TABLE person"}, expect: refused, leaksDirectly: true},
		{class: "24", desc: "LIMIT over the row cap", steps: []string{"SELECT id, id_card FROM person LIMIT 500"}, expect: refused, leaksDirectly: true},
		{class: "24", desc: "COPY a table", steps: []string{"COPY gov.person TO STDOUT"}, expect: refused, leaksDirectly: true},
	}
}

// pgRunSteps runs a technique on one connection and returns every text the
// client received (cells in whatever format, COPY data, error messages with
// detail and hint, notices, notifications) and the last step's error.
func pgRunSteps(ctx context.Context, connString string, tc pgTechnique) (received []string, lastErr error) {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		received = append(received, n.Message, n.Detail, n.Hint, n.Where)
		mu.Unlock()
	}
	cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) {
		mu.Lock()
		received = append(received, n.Payload)
		mu.Unlock()
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	addErr := func(err error) {
		var pe *pgconn.PgError
		mu.Lock()
		defer mu.Unlock()
		if errors.As(err, &pe) {
			received = append(received, pe.Message, pe.Detail, pe.Hint, pe.Where)
		} else {
			received = append(received, err.Error())
		}
	}
	for i, step := range tc.steps {
		if strings.HasPrefix(step, "COPY") {
			var b strings.Builder
			_, err := conn.PgConn().CopyTo(ctx, &b, step)
			received = append(received, b.String())
			lastErr = err
			if err != nil {
				addErr(err)
			}
			continue
		}
		if strings.Contains(step, "; ") {
			// Several statements in one Query message: read every result.
			results, err := conn.PgConn().Exec(ctx, step).ReadAll()
			for _, r := range results {
				for _, row := range r.Rows {
					for _, v := range row {
						received = append(received, string(v))
					}
				}
				if r.Err != nil && err == nil {
					err = r.Err
				}
			}
			lastErr = err
			if err != nil {
				addErr(err)
			}
			continue
		}
		args := []any{pgx.QueryExecModeSimpleProtocol}
		if i == len(tc.steps)-1 && tc.args != nil {
			args = tc.args
		}
		rows, err := conn.Query(ctx, step, args...)
		if err == nil {
			for rows.Next() {
				for _, v := range rows.RawValues() {
					mu.Lock()
					received = append(received, string(v))
					mu.Unlock()
				}
			}
			rows.Close()
			err = rows.Err()
		}
		lastErr = err
		if err != nil {
			addErr(err)
		}
	}
	return received, lastErr
}

// loadPGTruth reads the citizens directly from PostgreSQL.
func loadPGTruth(t *testing.T, ctx context.Context) groundTruth {
	conn, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// pg_stats must hold sample values for the statistics technique.
	if _, err := conn.Exec(ctx, "ANALYZE gov.person"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "SELECT id, name, id_card, phone, address, bank_card FROM gov.person")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	g := groundTruth{}
	for rows.Next() {
		var c citizen
		var id int64
		if err := rows.Scan(&id, &c.name, &c.idCard, &c.phone, &c.address, &c.bankCard); err != nil {
			t.Fatal(err)
		}
		c.id = int(id)
		g[c.id] = c
	}
	if rows.Err() != nil || len(g) == 0 {
		t.Fatalf("ground truth: %v, %d citizens", rows.Err(), len(g))
	}
	return g
}

func TestPostgresBypassCatalogueClerkGetsNoHiddenCharacter(t *testing.T) {
	p := startDemoProxy(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	truth := loadPGTruth(t, ctx)
	direct := "postgres://postgres@127.0.0.1:5432/gov?sslmode=disable"
	clerk := "postgres://clerk:clerk-pass@" + p.postgres + "/gov?sslmode=disable"
	version := pgServerVersion(t, ctx, direct)
	for _, tc := range pgTechniques() {
		t.Run(tc.class+" "+tc.desc, func(t *testing.T) {
			if tc.leaksDirectly && (tc.directBelow == 0 || version < tc.directBelow) {
				got, _ := pgRunSteps(ctx, direct, tc)
				if truth.leak(strings.Join(got, "\x00"), tc.ids) == "" {
					t.Fatalf("the exploit does not leak even directly (test is wrong): %q", got)
				}
			}
			got, err := pgRunSteps(ctx, clerk, tc)
			for _, text := range got {
				if l := truth.leak(text, tc.ids); l != "" {
					t.Fatalf("LEAK through dbfence: %s", l)
				}
			}
			var pe *pgconn.PgError
			switch tc.expect {
			case masked:
				if err != nil {
					t.Fatalf("a clerk's masked read was refused: %v", err)
				}
				if len(got) == 0 {
					t.Fatal("no rows")
				}
			case refused:
				// By dbfence, before the server ran anything: a server error
				// can itself be the oracle.
				if err == nil || !errors.As(err, &pe) || !strings.Contains(pe.Message, "dbfence") || strings.Contains(pe.Message, "withheld") {
					t.Fatalf("not refused by dbfence (%v); received %q", err, got)
				}
			}
		})
	}
}

// pgServerVersion is the server's server_version_num.
func pgServerVersion(t *testing.T, ctx context.Context, connString string) int {
	t.Helper()
	c, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var v int
	if err := c.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPostgresPreparedNameCannotBeRepointed: in one pipeline, SQL
// DEALLOCATE and PREPARE re-point a protocol statement name the proxy holds
// a no-rows plan for, then bind it. Before the fix this returned every
// citizen unmasked, past the row cap and the budget.
func TestPostgresPreparedNameCannotBeRepointed(t *testing.T) {
	p := startDemoProxy(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	truth := loadPGTruth(t, ctx)
	conn, err := pgconn.Connect(ctx, "postgres://clerk:clerk-pass@"+p.postgres+"/gov?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, harmless := range []string{"DEALLOCATE zz", "BEGIN"} {
		if _, err := conn.Prepare(ctx, "s1", harmless, nil); err != nil {
			t.Fatalf("prepare %q: %v", harmless, err)
		}
		pl := conn.StartPipeline(ctx)
		pl.SendQueryParams("DEALLOCATE s1", nil, nil, nil, nil)
		pl.SendQueryParams("PREPARE s1 AS SELECT name, id_card, phone, address, bank_card FROM gov.person WHERE id > 0", nil, nil, nil, nil)
		pl.SendQueryPrepared("s1", nil, nil, nil)
		if err := pl.Sync(); err != nil {
			t.Fatal(err)
		}
		var received []string
		rows := 0
		for {
			res, err := pl.GetResults()
			if err != nil {
				received = append(received, err.Error())
				continue
			}
			if res == nil {
				break
			}
			switch r := res.(type) {
			case *pgconn.ResultReader:
				for r.NextRow() {
					rows++
					for _, v := range r.Values() {
						received = append(received, string(v))
					}
				}
				if _, err := r.Close(); err != nil {
					received = append(received, err.Error())
				}
			case *pgconn.PipelineSync:
			}
		}
		pl.Close()
		for _, text := range received {
			if l := truth.leak(text, nil); l != "" {
				t.Fatalf("%s: LEAK through dbfence (%d rows): %s", harmless, rows, l)
			}
		}
		if rows > 0 {
			t.Fatalf("%s: the re-pointed statement returned %d rows", harmless, rows)
		}
		if _, err := conn.Exec(ctx, "ROLLBACK").ReadAll(); err != nil {
			t.Fatal(err)
		}
	}
}
