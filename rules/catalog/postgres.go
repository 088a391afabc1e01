package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// PostgresLoader loads one PostgreSQL database's snapshot.
type PostgresLoader func(ctx context.Context, database string) (*Catalog, error)

// PostgresCatalogLoader returns a loader that reads a database's relations
// through the account of connString (a pgx connection string; its database
// is replaced by the one asked for). It opens a connection per load: loads
// are rare (first use of a database, after DDL, once a minute).
//
// The snapshot names tables by schema: Table.Database is the schema (the
// PostgreSQL counterpart of a MySQL database), Table.Name the relation.
// Names are case-sensitive (Options.LowerCaseTableNames 0). It holds:
//   - tables, partitioned tables and foreign tables of every schema, and
//     the relations of pg_catalog and information_schema (whose columns the
//     analyser knows, but never treats as personal data);
//   - views and materialized views with their pg_get_viewdef text, read
//     under an empty search_path so that every name outside pg_catalog in
//     it is schema-qualified;
//   - partitions as views of their root ("SELECT columns FROM root"): a
//     partition holds the root's data, so it carries the root's
//     classification instead of escaping it under its own name.
//
// Temporary schemas (pg_temp_N) and TOAST schemas are left out: restricted
// roles cannot create temporary tables through the proxy.
func PostgresCatalogLoader(connString string) (PostgresLoader, error) {
	base, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("catalog: postgres metadata account: %w", err)
	}
	base.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	return func(ctx context.Context, database string) (*Catalog, error) {
		cfg := base.Copy()
		cfg.Database = database
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("catalog: connect to %s as %s: %w", database, cfg.User, err)
		}
		defer conn.Close(context.WithoutCancel(ctx))
		return loadPostgres(ctx, conn)
	}, nil
}

// loadPostgres reads the relations visible to conn's account.
func loadPostgres(ctx context.Context, conn *pgx.Conn) (*Catalog, error) {
	// Qualify every name outside pg_catalog in view definitions.
	if _, err := conn.Exec(ctx, "SET search_path = ''"); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT n.nspname, c.relname, c.relkind::text, c.relispartition,
	       COALESCE(root.nspname, ''), COALESCE(root.relname, ''),
	       CASE WHEN c.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
	            THEN pg_catalog.pg_get_viewdef(c.oid) ELSE '' END,
	       COALESCE(pg_catalog.array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attnum IS NOT NULL), '{}'),
	       COALESCE(pg_catalog.array_agg(pg_catalog.format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) FILTER (WHERE a.attnum IS NOT NULL), '{}')
	  FROM pg_catalog.pg_class c
	  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	  LEFT JOIN LATERAL (
	        SELECT rn.nspname, rc.relname FROM pg_catalog.pg_partition_root(c.oid) r(oid)
	          JOIN pg_catalog.pg_class rc ON rc.oid = r.oid
	          JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
	         WHERE c.relispartition) root ON true
	 WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm')
	   AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
	 GROUP BY n.nspname, c.relname, c.relkind, c.relispartition, c.oid, root.nspname, root.relname`)
	if err != nil {
		return nil, fmt.Errorf("catalog: read relations: %w", err)
	}
	defer rows.Close()
	var tables []*Table
	var schemas []string
	for rows.Next() {
		var schema, name, kind, rootSchema, rootName, def string
		var partition bool
		var cols, types []string
		if err := rows.Scan(&schema, &name, &kind, &partition, &rootSchema, &rootName, &def, &cols, &types); err != nil {
			return nil, fmt.Errorf("catalog: read relations: %w", err)
		}
		t := &Table{Database: schema, Name: name, Columns: make([]Column, len(cols))}
		for i, c := range cols {
			t.Columns[i] = Column{Name: c}
			if i < len(types) {
				t.Columns[i].Type = types[i]
			}
		}
		switch {
		case kind == "v" || kind == "m":
			if def != "" {
				t.View = &View{Definition: def}
			}
		case partition && rootName != "" && (rootSchema != schema || rootName != name):
			t.View = &View{Definition: partitionView(cols, rootSchema, rootName)}
		}
		tables = append(tables, t)
		schemas = append(schemas, schema)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: read relations: %w", err)
	}
	// Empty schemas exist too (a name resolved there is "no such table").
	srows, err := conn.Query(ctx, `SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname !~ '^pg_(toast|temp_|toast_temp_)'`)
	if err != nil {
		return nil, fmt.Errorf("catalog: read schemas: %w", err)
	}
	for srows.Next() {
		var s string
		if err := srows.Scan(&s); err != nil {
			srows.Close()
			return nil, fmt.Errorf("catalog: read schemas: %w", err)
		}
		schemas = append(schemas, s)
	}
	srows.Close()
	if err := srows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: read schemas: %w", err)
	}
	return New(Options{}, tables, schemas...), nil
}

// partitionView is the definition that makes a partition read as its root.
func partitionView(cols []string, schema, table string) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c))
	}
	b.WriteString(" FROM ")
	b.WriteString(quoteIdent(schema))
	b.WriteByte('.')
	b.WriteString(quoteIdent(table))
	return b.String()
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
