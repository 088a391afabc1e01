package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/dbfence/dbfence/rules"
)

// Origins resolves the origin a RowDescription reports for a column (table
// OID and attribute number) to schema, table and column names, through a
// metadata connection per database (OIDs are per database). Lookups are
// cached per table; Forget drops the cache after DDL. Safe for concurrent use.
type Origins struct {
	// connConfig is the metadata account's connection; Database is replaced per lookup.
	connConfig *pgx.ConnConfig

	mu     sync.Mutex
	conns  map[string]*pgx.Conn
	tables map[originKey]*tableNames
}

type originKey struct {
	database string
	oid      uint32
}

// tableNames are the names of one table and its columns by attribute number.
type tableNames struct {
	schema, table string
	columns       map[int16]string
}

// NewOrigins prepares a resolver that connects with connString (a pgx
// connection string for the metadata account) on first use.
func NewOrigins(connString string) (*Origins, error) {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	return &Origins{connConfig: cfg, conns: map[string]*pgx.Conn{}, tables: map[originKey]*tableNames{}}, nil
}

// Column returns the schema, table and column of attribute attnum of the
// table with OID tableOID in database. ok=false when the table or column
// does not exist.
func (o *Origins) Column(ctx context.Context, database string, tableOID uint32, attnum int16) (schema, table, column string, ok bool, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := originKey{database, tableOID}
	t, cached := o.tables[k]
	if !cached {
		if t, err = o.load(ctx, database, tableOID); err != nil {
			return "", "", "", false, err
		}
		o.tables[k] = t
	}
	if t == nil {
		return "", "", "", false, nil
	}
	c, ok := t.columns[attnum]
	return t.schema, t.table, c, ok, nil
}

// load reads one table's names; nil when the OID names no table.
func (o *Origins) load(ctx context.Context, database string, oid uint32) (*tableNames, error) {
	conn := o.conns[database]
	if conn == nil || conn.IsClosed() {
		cfg := o.connConfig.Copy()
		cfg.Database = database
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("metadata connection to %s: %w", database, err)
		}
		o.conns[database] = c
		conn = c
	}
	rows, err := conn.Query(ctx, `SELECT n.nspname, c.relname, a.attnum, a.attname
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
		WHERE c.oid = $1 AND a.attnum > 0 AND NOT a.attisdropped`, oid)
	if err != nil {
		conn.Close(ctx)
		delete(o.conns, database)
		return nil, err
	}
	var t *tableNames
	for rows.Next() {
		var schema, table, column string
		var attnum int16
		if err := rows.Scan(&schema, &table, &attnum, &column); err != nil {
			rows.Close()
			return nil, err
		}
		if t == nil {
			t = &tableNames{schema: schema, table: table, columns: map[int16]string{}}
		}
		t.columns[attnum] = column
	}
	return t, rows.Err()
}

// Forget drops every cached table (call after DDL).
func (o *Origins) Forget() {
	o.mu.Lock()
	clear(o.tables)
	o.mu.Unlock()
}

// Close closes the metadata connections.
func (o *Origins) Close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for db, c := range o.conns {
		c.Close(context.Background())
		delete(o.conns, db)
	}
}

// checkOrigins compares the columns' reported origins with the plan's
// predictions. Predicted origins are compared; a predicted base column
// reported as computed (table OID 0) is a mismatch, and so is a column
// predicted computed that the server reports as a base column hidden says
// the role may not see in clear. It returns the 1-based column that
// disagrees, 0 when all agree.
func checkOrigins(ctx context.Context, o *Origins, database string, plan []rules.ColumnPlan, cols []column,
	hidden func(schema, table, column string) bool) (int, error) {
	for i, cp := range plan {
		if i >= len(cols) {
			continue
		}
		c := cols[i]
		if cp.OrgTable == "" && cp.OrgColumn == "" {
			if c.tableOID == 0 || cp.Masker != nil {
				continue
			}
			schema, table, column, ok, err := o.Column(ctx, database, c.tableOID, c.attnum)
			if err != nil {
				return 0, err
			}
			if ok && hidden(schema, table, column) {
				return i + 1, nil
			}
			continue
		}
		if c.tableOID == 0 {
			return i + 1, nil
		}
		schema, table, column, ok, err := o.Column(ctx, database, c.tableOID, c.attnum)
		if err != nil {
			return 0, err
		}
		if !ok || (cp.OrgDatabase != "" && cp.OrgDatabase != schema) ||
			(cp.OrgTable != "" && !strings.EqualFold(cp.OrgTable, table)) ||
			(cp.OrgColumn != "" && !strings.EqualFold(cp.OrgColumn, column)) {
			return i + 1, nil
		}
	}
	return 0, nil
}
