package demo

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultDatabase is the database (MySQL) or the database the connection must
// be on (PostgreSQL) that SeedMySQL and SeedPostgres fill.
const DefaultDatabase = "gov"

// defaultBatchSize is how many rows go into one multi-row INSERT.
const defaultBatchSize = 500

// Seeder fills a database with the demo data set: tables person and household
// and the view person_public. Seeding is idempotent: when the tables already
// hold exactly the rows the generator would write (same count, same
// checksum), nothing is written; otherwise the tables are recreated.
//
// Concurrent seeders of the same database serialize on a server-side lock
// (GET_LOCK in MySQL, an advisory lock in PostgreSQL).
type Seeder struct {
	// Database is the target database name; empty means DefaultDatabase.
	// MySQL: created if missing. PostgreSQL: the *sql.DB must already be
	// connected to it (see EnsurePostgresDatabase); tables go to schema gov.
	Database string
	// Seed is the generator seed; 0 means DefaultSeed.
	Seed int64
	// BatchSize is the number of rows per INSERT; 0 means 500.
	BatchSize int
	// Progress receives human-readable progress lines; nil discards them.
	Progress io.Writer
}

// SeedMySQL fills MySQL/MariaDB database gov with n people (and their
// households) from DefaultSeed, printing progress to progress (may be nil).
// The account needs CREATE, DROP, INSERT, SELECT and CREATE VIEW on gov; the
// DSN should name no database (gov may not exist yet). 10,000 people take
// well under a second on a local server.
func SeedMySQL(ctx context.Context, db *sql.DB, n int, progress io.Writer) error {
	return (&Seeder{Progress: progress}).SeedMySQL(ctx, db, n)
}

// SeedPostgres fills PostgreSQL database gov, schema gov, with n people
// from DefaultSeed. db must be connected to database gov (pgx stdlib driver).
func SeedPostgres(ctx context.Context, db *sql.DB, n int, progress io.Writer) error {
	return (&Seeder{Progress: progress}).SeedPostgres(ctx, db, n)
}

// validDatabaseName accepts the identifiers Seeder quotes without escaping.
var validDatabaseName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

func (s *Seeder) database() (string, error) {
	name := s.Database
	if name == "" {
		name = DefaultDatabase
	}
	if !validDatabaseName.MatchString(name) {
		return "", fmt.Errorf("demo: database name %q: use letters, digits and _ only", name)
	}
	return name, nil
}

func (s *Seeder) generator() *Generator {
	seed := s.Seed
	if seed == 0 {
		seed = DefaultSeed
	}
	return NewGenerator(seed)
}

func (s *Seeder) batchSize() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return defaultBatchSize
}

func (s *Seeder) logf(format string, args ...any) {
	if s.Progress != nil {
		fmt.Fprintf(s.Progress, format+"\n", args...)
	}
}

// fingerprint is what a seeded table must match to be left alone.
type fingerprint struct {
	persons, members int64
	personSum        uint64
	memberSum        uint64
}

// personRowText is the text both servers hash per person row:
// CONCAT_WS('|', id, name, id_card, phone, address, bank_card, birthday, dept).
func personRowText(p Person) string {
	return strings.Join([]string{strconv.FormatInt(p.ID, 10), p.Name, p.IDCard, p.Phone, p.Address,
		p.BankCard, p.Birthday.Format(time.DateOnly), p.Dept}, "|")
}

func memberRowText(m Member) string {
	return strings.Join([]string{strconv.FormatInt(m.ID, 10), strconv.FormatInt(m.PersonID, 10), m.Relation,
		m.Name, m.IDCard}, "|")
}

// expected computes the fingerprint of the n people the seeder writes, with
// rowHash (CRC32 for MySQL, the first 32 bits of MD5 for PostgreSQL, which
// has no CRC32). It streams: memory does not grow with n.
func (s *Seeder) expected(n int, rowHash func(string) uint32) fingerprint {
	g := s.generator()
	f := fingerprint{persons: int64(n)}
	for i := 0; i < n; i++ {
		p := g.Next()
		f.personSum += uint64(rowHash(personRowText(p)))
		for _, m := range g.Household(p) {
			f.members++
			f.memberSum += uint64(rowHash(memberRowText(m)))
		}
	}
	return f
}

// crc32String is MySQL's CRC32() of a UTF-8 string.
func crc32String(s string) uint32 { return crc32.ChecksumIEEE([]byte(s)) }

// md5Prefix32 is the first 32 bits of the MD5 of s, as PostgreSQL's
// ('x' || left(md5(s), 8))::bit(32)::bigint.
func md5Prefix32(s string) uint32 {
	sum := md5.Sum([]byte(s))
	return binary.BigEndian.Uint32(sum[:4])
}

// ---------------------------------------------------------------------------
// MySQL / MariaDB
// ---------------------------------------------------------------------------

// SeedMySQL fills the Seeder's database with n people. See Seeder.
func (s *Seeder) SeedMySQL(ctx context.Context, db *sql.DB, n int) (err error) {
	if n < 0 {
		return fmt.Errorf("demo: negative row count %d", n)
	}
	name, err := s.database()
	if err != nil {
		return err
	}
	start := time.Now()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("demo: connect to MySQL: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET NAMES utf8mb4"); err != nil {
		return fmt.Errorf("demo: SET NAMES utf8mb4: %w", err)
	}

	lock := "dbfence_demo_seed:" + name
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 120)", lock).Scan(&got); err != nil || got.Int64 != 1 {
		return fmt.Errorf("demo: could not take the seeding lock %q (another seeder running?): %v", lock, err)
	}
	defer func() {
		// Use a fresh context: the lock must go even if ctx is cancelled.
		_, _ = conn.ExecContext(context.Background(), "DO RELEASE_LOCK(?)", lock)
	}()

	want := s.expected(n, crc32String)
	if have, ok := s.mysqlFingerprint(ctx, conn, name); ok && have == want {
		s.logf("demo: %s.person already holds the %d expected people (%d household members): nothing to do",
			name, n, want.members)
		return nil
	}

	s.logf("demo: (re)creating %s.person, %s.household and view %s.person_public", name, name, name)
	q := "`" + name + "`"
	ddl := []string{
		"CREATE DATABASE IF NOT EXISTS " + q + " DEFAULT CHARACTER SET utf8mb4",
		"DROP VIEW IF EXISTS " + q + ".person_public",
		"DROP TABLE IF EXISTS " + q + ".household",
		"DROP TABLE IF EXISTS " + q + ".person",
		"CREATE TABLE " + q + `.person (
  id BIGINT PRIMARY KEY,
  name VARCHAR(64),
  id_card CHAR(18),
  phone VARCHAR(20),
  address VARCHAR(255),
  bank_card VARCHAR(19),
  birthday DATE,
  dept VARCHAR(64)
) ENGINE=InnoDB DEFAULT CHARSET utf8mb4 COMMENT='dbfence demo: synthetic people, every value fake'`,
		"CREATE TABLE " + q + `.household (
  id BIGINT PRIMARY KEY,
  person_id BIGINT NOT NULL,
  relation VARCHAR(16),
  member_name VARCHAR(64),
  member_id_card CHAR(18),
  KEY household_person (person_id)
) ENGINE=InnoDB DEFAULT CHARSET utf8mb4 COMMENT='dbfence demo: household members of gov.person'`,
		"CREATE VIEW " + q + ".person_public AS SELECT id, name, dept FROM " + q + ".person",
	}
	for _, stmt := range ddl {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("demo: %s: %w", firstLine(stmt), err)
		}
	}
	if err := s.insertAll(ctx, conn, n, mysqlPlaceholders, q+".person", q+".household"); err != nil {
		return err
	}
	if have, ok := s.mysqlFingerprint(ctx, conn, name); !ok || have != want {
		return fmt.Errorf("demo: %s.person does not read back as written (checksum mismatch: charset?)", name)
	}
	s.logf("demo: seeded %d people and %d household members into %s in %s",
		n, want.members, name, time.Since(start).Round(time.Millisecond))
	return nil
}

// mysqlFingerprint reads the fingerprint of the seeded tables; ok is false
// when they are missing or unreadable (then they are recreated).
func (s *Seeder) mysqlFingerprint(ctx context.Context, conn *sql.Conn, name string) (f fingerprint, ok bool) {
	q := "`" + name + "`"
	var views int
	err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'person_public'", name).Scan(&views)
	if err != nil || views != 1 {
		return f, false
	}
	err = conn.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', id, name, id_card, phone, address, bank_card, birthday, dept))), 0) FROM `+q+`.person`).
		Scan(&f.persons, &f.personSum)
	if err != nil {
		return f, false
	}
	err = conn.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', id, person_id, relation, member_name, member_id_card))), 0) FROM `+q+`.household`).
		Scan(&f.members, &f.memberSum)
	return f, err == nil
}

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

// EnsurePostgresDatabase creates database name (owned by the connected user)
// if it does not exist. admin may be connected to any database.
func EnsurePostgresDatabase(ctx context.Context, admin *sql.DB, name string) error {
	if !validDatabaseName.MatchString(name) {
		return fmt.Errorf("demo: database name %q: use letters, digits and _ only", name)
	}
	var exists bool
	if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("demo: look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		return fmt.Errorf("demo: create database %s: %w", name, err)
	}
	return nil
}

// pgPersonHash and pgMemberHash compute, in SQL, the per-row hash that
// md5Prefix32 computes in Go.
const (
	pgPersonHash = `('x' || left(md5(concat_ws('|', id, name, id_card, phone, address, bank_card, to_char(birthday, 'YYYY-MM-DD'), dept)), 8))::bit(32)::bigint`
	pgMemberHash = `('x' || left(md5(concat_ws('|', id, person_id, relation, member_name, member_id_card)), 8))::bit(32)::bigint`
)

// SeedPostgres fills schema gov (created if missing) of the database db is connected to (which
// must be the Seeder's database) with n people. See Seeder.
func (s *Seeder) SeedPostgres(ctx context.Context, db *sql.DB, n int) (err error) {
	if n < 0 {
		return fmt.Errorf("demo: negative row count %d", n)
	}
	name, err := s.database()
	if err != nil {
		return err
	}
	start := time.Now()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("demo: connect to PostgreSQL: %w", err)
	}
	defer conn.Close()
	var current string
	if err := conn.QueryRowContext(ctx, "SELECT current_database()").Scan(&current); err != nil {
		return fmt.Errorf("demo: connect to PostgreSQL: %w", err)
	}
	if current != name {
		return fmt.Errorf("demo: connected to database %q, want %q: connect to it (EnsurePostgresDatabase creates it)", current, name)
	}

	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext('dbfence_demo_seed'))"); err != nil {
		return fmt.Errorf("demo: take the seeding lock: %w", err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(hashtext('dbfence_demo_seed'))")
	}()

	want := s.expected(n, md5Prefix32)
	if have, ok := s.pgFingerprint(ctx, conn); ok && have == want {
		s.logf("demo: %s gov.person already holds the %d expected people (%d household members): nothing to do",
			name, n, want.members)
		return nil
	}

	s.logf("demo: (re)creating %s gov.person, gov.household and view gov.person_public", name)
	ddl := []string{
		// The policy names PostgreSQL tables schema.table.column: the demo's
		// live in schema gov, which the database's search_path puts first.
		"CREATE SCHEMA IF NOT EXISTS gov",
		"DROP VIEW IF EXISTS gov.person_public",
		"DROP TABLE IF EXISTS gov.household",
		"DROP TABLE IF EXISTS gov.person",
		`CREATE TABLE gov.person (
  id BIGINT PRIMARY KEY,
  name VARCHAR(64),
  id_card CHAR(18),
  phone VARCHAR(20),
  address VARCHAR(255),
  bank_card VARCHAR(19),
  birthday DATE,
  dept VARCHAR(64)
)`,
		`COMMENT ON TABLE gov.person IS 'dbfence demo: synthetic people, every value fake'`,
		`CREATE TABLE gov.household (
  id BIGINT PRIMARY KEY,
  person_id BIGINT NOT NULL,
  relation VARCHAR(16),
  member_name VARCHAR(64),
  member_id_card CHAR(18)
)`,
		`CREATE INDEX household_person ON gov.household (person_id)`,
		`CREATE VIEW gov.person_public AS SELECT id, name, dept FROM gov.person`,
	}
	// PostgreSQL DDL is transactional: readers see the old tables or the new
	// ones, never half a data set.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("demo: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, stmt := range ddl {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("demo: %s: %w", firstLine(stmt), err)
		}
	}
	if err := s.insertRows(ctx, tx, n, pgPlaceholders, "gov.person", "gov.household"); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("demo: commit: %w", err)
	}
	if have, ok := s.pgFingerprint(ctx, conn); !ok || have != want {
		return fmt.Errorf("demo: %s gov.person does not read back as written (checksum mismatch)", name)
	}
	s.logf("demo: seeded %d people and %d household members into %s in %s",
		n, want.members, name, time.Since(start).Round(time.Millisecond))
	return nil
}

func (s *Seeder) pgFingerprint(ctx context.Context, conn *sql.Conn) (f fingerprint, ok bool) {
	var views int
	err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pg_views WHERE schemaname = 'gov' AND viewname = 'person_public'").Scan(&views)
	if err != nil || views != 1 {
		return f, false
	}
	if err := conn.QueryRowContext(ctx, "SELECT count(*), COALESCE(sum("+pgPersonHash+"), 0) FROM gov.person").Scan(&f.persons, &f.personSum); err != nil {
		return f, false
	}
	err = conn.QueryRowContext(ctx, "SELECT count(*), COALESCE(sum("+pgMemberHash+"), 0) FROM gov.household").Scan(&f.members, &f.memberSum)
	return f, err == nil
}

// ---------------------------------------------------------------------------
// Batched inserts shared by both servers
// ---------------------------------------------------------------------------

// placeholders writes the VALUES list for rows×cols parameters.
type placeholders func(b *strings.Builder, rows, cols int)

func mysqlPlaceholders(b *strings.Builder, rows, cols int) {
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
}

func pgPlaceholders(b *strings.Builder, rows, cols int) {
	n := 1
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			n++
		}
		b.WriteByte(')')
	}
}

// execer is what insertRows needs from a transaction.
type execer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// insertAll runs insertRows in its own transaction on conn.
func (s *Seeder) insertAll(ctx context.Context, conn *sql.Conn, n int, ph placeholders, personTable, householdTable string) (err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("demo: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := s.insertRows(ctx, tx, n, ph, personTable, householdTable); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("demo: commit: %w", err)
	}
	return nil
}

// insertRows generates n people with their households and writes them with
// multi-row INSERTs of BatchSize rows. Rows stream from the generator to the
// server: memory does not grow with n.
func (s *Seeder) insertRows(ctx context.Context, tx preparer, n int, ph placeholders, personTable, householdTable string) error {
	persons := newBatcher(tx, ph, "INSERT INTO "+personTable+
		" (id, name, id_card, phone, address, bank_card, birthday, dept) VALUES ", 8, s.batchSize())
	defer persons.close()
	members := newBatcher(tx, ph, "INSERT INTO "+householdTable+
		" (id, person_id, relation, member_name, member_id_card) VALUES ", 5, s.batchSize())
	defer members.close()

	g := s.generator()
	step := max(n/10, 1)
	for i := 1; i <= n; i++ {
		p := g.Next()
		if err := persons.add(ctx, p.ID, p.Name, p.IDCard, p.Phone, p.Address, p.BankCard, p.Birthday, p.Dept); err != nil {
			return err
		}
		for _, m := range g.Household(p) {
			if err := members.add(ctx, m.ID, m.PersonID, m.Relation, m.Name, m.IDCard); err != nil {
				return err
			}
		}
		if i%step == 0 && i < n {
			s.logf("demo: %s: %d/%d people", strings.ReplaceAll(personTable, "`", ""), i, n)
		}
	}
	if err := persons.flush(ctx); err != nil {
		return err
	}
	return members.flush(ctx)
}

// preparer is what a batcher needs from a transaction.
type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// batcher accumulates rows and sends them as one multi-row INSERT per batch;
// each statement shape (number of rows) is prepared once.
type batcher struct {
	tx     preparer
	ph     placeholders
	prefix string // "INSERT INTO t (cols) VALUES "
	cols   int
	batch  int
	stmts  map[int]*sql.Stmt
	args   []any
	sent   int // rows already sent, for error messages
}

func newBatcher(tx preparer, ph placeholders, prefix string, cols, batch int) *batcher {
	return &batcher{tx: tx, ph: ph, prefix: prefix, cols: cols, batch: batch,
		stmts: map[int]*sql.Stmt{}, args: make([]any, 0, cols*batch)}
}

// add queues one row (cols values) and sends the batch when it is full.
func (b *batcher) add(ctx context.Context, values ...any) error {
	b.args = append(b.args, values...)
	if len(b.args) >= b.cols*b.batch {
		return b.flush(ctx)
	}
	return nil
}

// flush sends the queued rows, if any.
func (b *batcher) flush(ctx context.Context) error {
	rows := len(b.args) / b.cols
	if rows == 0 {
		return nil
	}
	st, ok := b.stmts[rows]
	if !ok {
		var sb strings.Builder
		sb.WriteString(b.prefix)
		b.ph(&sb, rows, b.cols)
		var err error
		if st, err = b.tx.PrepareContext(ctx, sb.String()); err != nil {
			return fmt.Errorf("demo: prepare %s…: %w", b.prefix, err)
		}
		b.stmts[rows] = st
	}
	if _, err := st.ExecContext(ctx, b.args...); err != nil {
		return fmt.Errorf("demo: %s… rows %d–%d: %w", b.prefix, b.sent+1, b.sent+rows, err)
	}
	b.sent += rows
	b.args = b.args[:0]
	return nil
}

// close releases the prepared statements.
func (b *batcher) close() {
	for _, st := range b.stmts {
		_ = st.Close()
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
