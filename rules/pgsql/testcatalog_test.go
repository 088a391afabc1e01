package pgsql

import (
	"strings"

	"github.com/dbfence/dbfence/rules/catalog"
)

// cols builds columns from "name type" pairs separated by commas.
func cols(spec string) []catalog.Column {
	var out []catalog.Column
	for _, f := range strings.Split(spec, ",") {
		f = strings.TrimSpace(f)
		name, typ, _ := strings.Cut(f, " ")
		out = append(out, catalog.Column{Name: name, Type: strings.TrimSpace(typ)})
	}
	return out
}

// govCatalog is a snapshot modelled on the demo database as the PostgreSQL
// loader builds it: schema gov with the personal-data tables and views
// (definitions as pg_get_viewdef prints them under an empty search_path),
// schema public with unclassified data, an empty schema, and a few
// relations of pg_catalog and information_schema.
func govCatalog() *catalog.Catalog {
	return catalog.New(catalog.Options{LowerCaseTableNames: 0}, []*catalog.Table{
		{Database: "gov", Name: "person", Columns: cols("id integer, name text, id_card character varying(18), phone text, " +
			"address text, bank_card text, birthday date, dept integer, created_at timestamp with time zone")},
		{Database: "gov", Name: "household", Columns: cols("id integer, person_id integer, member_name text, " +
			"member_id_card character varying(18), relation text")},
		// PostgreSQL 16+ prints unambiguous columns unqualified.
		{Database: "gov", Name: "person_public", Columns: cols("id integer, name text, dept integer"),
			View: &catalog.View{Definition: " SELECT id,\n    name,\n    dept\n   FROM gov.person;"}},
		// Older servers qualify them; an expression and a WHERE of the definer.
		{Database: "gov", Name: "person_contact", Columns: cols("pid integer, contact text"),
			View: &catalog.View{Definition: " SELECT p.id AS pid,\n    ((p.phone || ' '::text) || p.address) AS contact\n   FROM gov.person p\n  WHERE (p.dept = 3);"}},
		{Database: "gov", Name: "person_cards", Columns: cols("id integer, card character varying(18)"),
			View: &catalog.View{Definition: " SELECT person.id,\n    person.id_card AS card\n   FROM gov.person;"}},
		{Database: "gov", Name: "nested_cards", Columns: cols("card character varying(18)"),
			View: &catalog.View{Definition: " SELECT card\n   FROM gov.person_cards;"}},
		{Database: "gov", Name: "masked_view", Columns: cols("id integer, card text"),
			View: &catalog.View{Definition: " SELECT id,\n    gov.mask(id_card) AS card\n   FROM gov.person;"}},
		{Database: "gov", Name: "broken_view", Columns: cols("a integer"), View: &catalog.View{Definition: "SELEC frobnicate FROM"}},
		{Database: "gov", Name: "household_2024", Columns: cols("id integer, person_id integer, member_name text, member_id_card character varying(18), relation text"),
			View: &catalog.View{Definition: `SELECT "id", "person_id", "member_name", "member_id_card", "relation" FROM "gov"."household"`}},
		{Database: "gov", Name: "Dept", Columns: cols("Id integer, Name text")},
		{Database: "public", Name: "items", Columns: cols("id integer, title text, price numeric")},
		{Database: "public", Name: "person", Columns: cols("id integer, nick text")},
		{Database: "public", Name: "audit", Columns: cols("id integer, note text")},
		{Database: "pg_catalog", Name: "pg_class", Columns: cols("oid oid, relname name, relnamespace oid, reltype oid, relowner oid, relkind \"char\"")},
		{Database: "pg_catalog", Name: "pg_namespace", Columns: cols("oid oid, nspname name, nspowner oid, nspacl aclitem[]")},
		{Database: "pg_catalog", Name: "pg_attribute", Columns: cols("attrelid oid, attname name, atttypid oid, attnum smallint, attnotnull boolean, attisdropped boolean")},
		{Database: "pg_catalog", Name: "pg_type", Columns: cols("oid oid, typname name, typnamespace oid")},
		{Database: "pg_catalog", Name: "pg_statistic", Columns: cols("starelid oid, staattnum smallint, stainherit boolean, stanullfrac real, stavalues1 anyarray")},
		{Database: "pg_catalog", Name: "pg_stats", Columns: cols("schemaname name, tablename name, attname name, inherited boolean, null_frac real, " +
			"avg_width integer, n_distinct real, most_common_vals anyarray, most_common_freqs real[], histogram_bounds anyarray")},
		{Database: "pg_catalog", Name: "pg_stat_activity", Columns: cols("datid oid, datname name, pid integer, usename name, application_name text, state text, query text")},
		{Database: "pg_catalog", Name: "pg_tables", Columns: cols("schemaname name, tablename name, tableowner name, tablespace name, hasindexes boolean, hasrules boolean, hastriggers boolean, rowsecurity boolean")},
		{Database: "information_schema", Name: "columns", Columns: cols("table_catalog information_schema.sql_identifier, " +
			"table_schema information_schema.sql_identifier, table_name information_schema.sql_identifier, " +
			"column_name information_schema.sql_identifier, ordinal_position information_schema.cardinal_number, data_type information_schema.character_data")},
		{Database: "information_schema", Name: "tables", Columns: cols("table_catalog information_schema.sql_identifier, " +
			"table_schema information_schema.sql_identifier, table_name information_schema.sql_identifier, table_type information_schema.character_data")},
	}, "evil", "empty")
}

// testEnv is a session of user clerk with the default search_path.
func testEnv() Env {
	return Env{Catalog: govCatalog(), SearchPath: []string{"$user", "gov", "public"}, SearchPathKnown: true, User: "clerk"}
}
