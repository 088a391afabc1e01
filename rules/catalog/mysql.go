package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// LoadOptions tune LoadMySQL.
type LoadOptions struct {
	// Databases limits loading to these schemas; empty loads every schema
	// except the system ones (mysql, information_schema, performance_schema, sys).
	Databases []string
}

// systemSchemas are not loaded: the analysers treat them apart.
var systemSchemas = []string{"mysql", "information_schema", "performance_schema", "sys"}

// LoadMySQL reads a snapshot from information_schema through a metadata
// account (it needs SELECT on the schemas it should see, or SHOW VIEW for
// view definitions). dsn is a go-sql-driver/mysql DSN.
func LoadMySQL(ctx context.Context, dsn string, opts LoadOptions) (*Catalog, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("catalog: bad DSN: %w", err)
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	return loadFrom(ctx, db, opts)
}

// MySQLLoader returns a Loader that calls LoadMySQL.
func MySQLLoader(dsn string, opts LoadOptions) Loader {
	return func(ctx context.Context) (*Catalog, error) { return LoadMySQL(ctx, dsn, opts) }
}

// schemaFilter builds the WHERE condition selecting the schemas to load.
func schemaFilter(opts LoadOptions) (string, []any) {
	list := opts.Databases
	cond := "TABLE_SCHEMA IN"
	if len(list) == 0 {
		list = systemSchemas
		cond = "TABLE_SCHEMA NOT IN"
	}
	args := make([]any, len(list))
	for i, d := range list {
		args[i] = d
	}
	return cond + " (" + strings.TrimSuffix(strings.Repeat("?,", len(list)), ",") + ")", args
}

func loadFrom(ctx context.Context, db *sql.DB, opts LoadOptions) (*Catalog, error) {
	var lctn int
	if err := db.QueryRowContext(ctx, "SELECT @@lower_case_table_names").Scan(&lctn); err != nil {
		return nil, fmt.Errorf("catalog: reading lower_case_table_names: %w", err)
	}
	cond, args := schemaFilter(opts)
	tables := map[string]*Table{}
	var order []*Table
	rows, err := db.QueryContext(ctx, "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE "+cond+
		" ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION", args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: reading columns: %w", err)
	}
	for rows.Next() {
		var schema, table, column, typ string
		if err := rows.Scan(&schema, &table, &column, &typ); err != nil {
			rows.Close()
			return nil, fmt.Errorf("catalog: reading columns: %w", err)
		}
		key := schema + "\x00" + table
		t, ok := tables[key]
		if !ok {
			t = &Table{Database: schema, Name: table}
			tables[key] = t
			order = append(order, t)
		}
		t.Columns = append(t.Columns, Column{Name: column, Type: typ})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: reading columns: %w", err)
	}
	rows, err = db.QueryContext(ctx, "SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE "+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: reading views: %w", err)
	}
	for rows.Next() {
		var schema, table string
		var def sql.NullString
		if err := rows.Scan(&schema, &table, &def); err != nil {
			rows.Close()
			return nil, fmt.Errorf("catalog: reading views: %w", err)
		}
		if t, ok := tables[schema+"\x00"+table]; ok {
			// An empty definition (no SHOW VIEW privilege) stays empty: the
			// analyser then treats the view's columns as unknown.
			t.View = &View{Definition: def.String}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: reading views: %w", err)
	}
	var extra []string
	rows, err = db.QueryContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
	if err != nil {
		return nil, fmt.Errorf("catalog: reading schemas: %w", err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, fmt.Errorf("catalog: reading schemas: %w", err)
		}
		extra = append(extra, s)
	}
	rows.Close()
	return New(Options{LowerCaseTableNames: lctn}, order, extra...), rows.Err()
}
