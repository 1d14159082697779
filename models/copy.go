package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// CopyCount is the number of rows copied into one table.
type CopyCount struct {
	Table string
	Rows  int64
}

// copyBatchRows is the most rows one INSERT carries; copyMaxParams keeps a
// batch under SQLite's and PostgreSQL's limits on bound parameters.
const (
	copyBatchRows = 500
	copyMaxParams = 30000
)

// gooseTable is the migration bookkeeping table: each database keeps its own.
const gooseTable = "goose_db_version"

// copyTable is one table of the source schema.
type copyTable struct {
	name    string
	columns []copyColumn
	pk      []string // primary key columns, in key order
	refs    []string // tables its foreign keys point to
}

// copyColumn is one column; time marks SQLite's text timestamps, which are
// parsed so that the target gets a real time value.
type copyColumn struct {
	name string
	time bool
}

// CopyDatabase copies every row of the Margin database at fromURL, which
// must be SQLite, into the empty database at toURL (PostgreSQL, or another
// SQLite file). It migrates the target first and refuses one that holds any
// row. The tables are read from the source schema and copied in foreign-key
// order, streamed in batches within one transaction on the target, ids
// included; on PostgreSQL each identity sequence then restarts after the
// largest copied id. The source's rows are read in one snapshot and left as
// they are: stop the service first, as writes after the snapshot are not
// copied.
// report, when not nil, is called as each table is done.
func CopyDatabase(ctx context.Context, fromURL, toURL string, migrations fs.FS, report func(CopyCount)) ([]CopyCount, error) {
	from, err := copyEnds(fromURL, toURL)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(from.Path); err != nil {
		return nil, fmt.Errorf("copy: source database: %w", err)
	}
	srcDB, _, err := Open(fromURL, nil)
	if err != nil {
		return nil, fmt.Errorf("copy: source: %w", err)
	}
	src := NewStore(srcDB)
	defer src.Close()
	dstDB, dialect, err := Open(toURL, nil)
	if err != nil {
		return nil, fmt.Errorf("copy: target: %w", err)
	}
	dst := NewStore(dstDB)
	defer dst.Close()
	dstSQL, err := dst.SQLDB()
	if err != nil {
		return nil, err
	}
	// Refuse a database with rows before the migrations touch it, and
	// again after, when every table of the schema exists.
	if err := checkEmpty(ctx, dstSQL, dialect); err != nil {
		return nil, err
	}
	if err := Migrate(ctx, dstDB, dialect, migrations); err != nil {
		return nil, fmt.Errorf("copy: target: %w", err)
	}
	if err := checkEmpty(ctx, dstSQL, dialect); err != nil {
		return nil, err
	}
	srcSQL, err := src.SQLDB()
	if err != nil {
		return nil, err
	}
	// A deferred transaction on one connection reads a single WAL snapshot
	// without taking SQLite's write lock (the pool's own transactions are
	// BEGIN IMMEDIATE).
	conn, err := srcSQL.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy: source: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		return nil, fmt.Errorf("copy: source: %w", err)
	}
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") }()

	tables, err := sqliteTables(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("copy: source schema: %w", err)
	}
	if err := checkTarget(ctx, conn, dstSQL, dialect, tables); err != nil {
		return nil, err
	}

	tx, err := dstSQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("copy: target: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var counts []CopyCount
	for _, t := range tables {
		n, err := copyRows(ctx, conn, tx, dialect, t)
		if err != nil {
			return nil, fmt.Errorf("copy: %s: %w", t.name, err)
		}
		c := CopyCount{Table: t.name, Rows: n}
		counts = append(counts, c)
		if report != nil {
			report(c)
		}
	}
	if dialect == Postgres {
		if err := resetSequences(ctx, tx); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("copy: commit: %w", err)
	}
	return counts, nil
}

// copyEnds checks the direction (from SQLite, to PostgreSQL or SQLite, not
// onto itself) and returns the source.
func copyEnds(fromURL, toURL string) (DatabaseURL, error) {
	from, err := ParseDatabaseURL(fromURL)
	if err != nil {
		return from, fmt.Errorf("copy: --from: %w", err)
	}
	to, err := ParseDatabaseURL(toURL)
	if err != nil {
		return from, fmt.Errorf("copy: --to: %w", err)
	}
	if from.Dialect != SQLite {
		return from, fmt.Errorf("copy: copying from %s to %s is not supported: the source must be SQLite (sqlite://PATH); move PostgreSQL with pg_dump and pg_restore", from.Dialect, to.Dialect)
	}
	if to.Dialect == SQLite {
		a, errA := filepath.Abs(from.Path)
		b, errB := filepath.Abs(to.Path)
		if errA != nil || errB != nil || a == b {
			return from, errors.New("copy: --from and --to name the same SQLite file")
		}
	}
	return from, nil
}

// identPattern is what a table or column name must look like to be put into
// SQL text; names come from the schema, never from users.
var identPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func quoteIdent(name string) string { return `"` + name + `"` }

// sqliteTables reads the tables of a SQLite schema, in an order where every
// table comes after the tables its foreign keys point to.
func sqliteTables(ctx context.Context, conn *sql.Conn) ([]copyTable, error) {
	names, err := queryStrings(ctx, conn, `SELECT name FROM sqlite_master
		WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ? ORDER BY rowid`, gooseTable)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("no tables: not a Margin database")
	}
	var tables []copyTable
	for _, name := range names {
		if !identPattern.MatchString(name) {
			return nil, fmt.Errorf("table name %q: unexpected characters", name)
		}
		t := copyTable{name: name}
		if t.columns, t.pk, err = sqliteColumns(ctx, conn, name); err != nil {
			return nil, err
		}
		if t.refs, err = queryStrings(ctx, conn, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, name); err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return orderByForeignKeys(tables)
}

// sqliteColumns reads a table's columns and primary key.
func sqliteColumns(ctx context.Context, conn *sql.Conn, table string) ([]copyColumn, []string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var cols []copyColumn
	pk := map[int]string{}
	for rows.Next() {
		var col, typ string
		var pos int
		if err := rows.Scan(&col, &typ, &pos); err != nil {
			return nil, nil, err
		}
		if !identPattern.MatchString(col) {
			return nil, nil, fmt.Errorf("column name %s.%q: unexpected characters", table, col)
		}
		// go-sqlite3 treats these declared types as times.
		switch strings.ToLower(typ) {
		case "datetime", "timestamp", "date":
			cols = append(cols, copyColumn{name: col, time: true})
		default:
			cols = append(cols, copyColumn{name: col})
		}
		if pos > 0 {
			pk[pos] = col
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var keys []string
	for i := 1; i <= len(pk); i++ {
		keys = append(keys, pk[i])
	}
	return cols, keys, nil
}

// orderByForeignKeys sorts tables so that each follows those it refers to,
// keeping the schema's order otherwise. A table's references to itself are
// left to the row order (by primary key).
func orderByForeignKeys(tables []copyTable) ([]copyTable, error) {
	done := map[string]bool{}
	var out []copyTable
	for len(out) < len(tables) {
		progress := false
		for _, t := range tables {
			if done[t.name] {
				continue
			}
			ready := true
			for _, r := range t.refs {
				if r != t.name && !done[r] {
					ready = false
					break
				}
			}
			if ready {
				done[t.name] = true
				out = append(out, t)
				progress = true
			}
		}
		if !progress {
			var left []string
			for _, t := range tables {
				if !done[t.name] {
					left = append(left, t.name)
				}
			}
			return nil, fmt.Errorf("foreign keys form a cycle (or point to a missing table) among %s", strings.Join(left, ", "))
		}
	}
	return out, nil
}

// checkTarget makes sure the migrated target has the source's schema
// version, tables and columns.
func checkTarget(ctx context.Context, src *sql.Conn, dst *sql.DB, dialect Dialect, tables []copyTable) error {
	versionQ := `SELECT COALESCE(MAX(version_id), 0) FROM ` + gooseTable
	var sv, tv int64
	if err := src.QueryRowContext(ctx, versionQ).Scan(&sv); err != nil {
		return fmt.Errorf("copy: source schema version: %w", err)
	}
	if err := dst.QueryRowContext(ctx, versionQ).Scan(&tv); err != nil {
		return fmt.Errorf("copy: target schema version: %w", err)
	}
	switch {
	case sv < tv:
		return fmt.Errorf("copy: the source schema is at migration %d, this margin's at %d: run `margin migrate` on the source first (MARGIN_DATABASE_URL=<source>)", sv, tv)
	case sv > tv:
		return fmt.Errorf("copy: the source schema is at migration %d, newer than this margin's %d: use the margin release that wrote it", sv, tv)
	}

	tq := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ?`
	cq := `SELECT name FROM pragma_table_info(?)`
	if dialect == Postgres {
		tq = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> $1`
		cq = `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1`
	}
	have, err := queryStrings(ctx, dst, tq, gooseTable)
	if err != nil {
		return fmt.Errorf("copy: target schema: %w", err)
	}
	var want []string
	for _, t := range tables {
		want = append(want, t.name)
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		return fmt.Errorf("copy: the schemas differ: source tables %s, target tables %s", strings.Join(want, " "), strings.Join(have, " "))
	}
	for _, t := range tables {
		cols, err := queryStrings(ctx, dst, cq, t.name)
		if err != nil {
			return fmt.Errorf("copy: target schema: %w", err)
		}
		var srcCols []string
		for _, c := range t.columns {
			srcCols = append(srcCols, c.name)
		}
		slices.Sort(cols)
		slices.Sort(srcCols)
		if !slices.Equal(cols, srcCols) {
			return fmt.Errorf("copy: table %s differs: source columns %s, target columns %s", t.name, strings.Join(srcCols, " "), strings.Join(cols, " "))
		}
	}
	return nil
}

// checkEmpty refuses a target database in which any table has a row.
func checkEmpty(ctx context.Context, db *sql.DB, dialect Dialect) error {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ?`
	if dialect == Postgres {
		q = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> $1`
	}
	tables, err := queryStrings(ctx, db, q, gooseTable)
	if err != nil {
		return fmt.Errorf("copy: target: %w", err)
	}
	slices.Sort(tables)
	for _, t := range tables {
		if !identPattern.MatchString(t) {
			return fmt.Errorf("copy: the target database is not empty (it has a table %q)", t)
		}
		var one int
		// #nosec G202 -- the table name comes from the schema and matched identPattern
		err := db.QueryRowContext(ctx, `SELECT 1 FROM `+quoteIdent(t)+` LIMIT 1`).Scan(&one)
		switch {
		case err == nil:
			return fmt.Errorf("copy: the target database is not empty (table %s has rows): copy only into a new, empty database", t)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("copy: target: %w", err)
		}
	}
	return nil
}

// copyRows streams one table from the source snapshot into the target
// transaction, copyBatchRows rows per INSERT.
func copyRows(ctx context.Context, src *sql.Conn, dst *sql.Tx, dialect Dialect, t copyTable) (int64, error) {
	var sel, cols []string
	for _, c := range t.columns {
		q := quoteIdent(c.name)
		cols = append(cols, q)
		if c.time {
			// Read the stored text: go-sqlite3 would turn an unparsable
			// time into the zero time without a word.
			q = "CAST(" + q + " AS TEXT)"
		}
		sel = append(sel, q)
	}
	// #nosec G202 -- table and column names come from the schema and matched identPattern
	query := "SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(t.name)
	if len(t.pk) > 0 {
		var order []string
		for _, c := range t.pk {
			order = append(order, quoteIdent(c))
		}
		query += " ORDER BY " + strings.Join(order, ", ")
	}
	rows, err := src.QueryContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()

	batch := max(1, min(copyBatchRows, copyMaxParams/len(cols)))
	insert := func(n int) string {
		var b strings.Builder
		b.WriteString("INSERT INTO " + quoteIdent(t.name) + " (" + strings.Join(cols, ", ") + ") VALUES ")
		p := 0
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j := range cols {
				if j > 0 {
					b.WriteString(", ")
				}
				p++
				if dialect == Postgres {
					fmt.Fprintf(&b, "$%d", p)
				} else {
					b.WriteByte('?')
				}
			}
			b.WriteByte(')')
		}
		return b.String()
	}
	full := insert(batch)
	args := make([]any, 0, batch*len(cols))
	var total int64
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		n := len(args) / len(cols)
		stmt := full
		if n < batch {
			stmt = insert(n)
		}
		if _, err := dst.ExecContext(ctx, stmt, args...); err != nil {
			return fmt.Errorf("rows %d to %d: %w", total+1, total+int64(n), err)
		}
		total += int64(n)
		args = args[:0]
		return nil
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return total, err
		}
		for i, c := range t.columns {
			v := vals[i]
			if c.time && v != nil {
				if v, err = parseSQLiteTime(v); err != nil {
					return total, fmt.Errorf("row %d, %s: %w", total+int64(len(args)/len(cols))+1, c.name, err)
				}
			}
			args = append(args, v)
		}
		if len(args) == batch*len(cols) {
			if err := flush(); err != nil {
				return total, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return total, err
	}
	return total, flush()
}

// parseSQLiteTime parses a timestamp as SQLite stores it, in one of the
// layouts go-sqlite3 writes and reads.
func parseSQLiteTime(v any) (time.Time, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	case time.Time:
		return x.UTC(), nil
	default:
		return time.Time{}, fmt.Errorf("time stored as %T", v)
	}
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range sqlite3.SQLiteTimestampFormats {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable time %q", s)
}

// resetSequences sets each PostgreSQL identity sequence to the largest
// copied id, so that the next insert does not collide with a copied row.
func resetSequences(ctx context.Context, tx *sql.Tx) error {
	tables, err := queryStrings(ctx, tx, `SELECT table_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name = 'id'
		AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')`)
	if err != nil {
		return fmt.Errorf("copy: id sequences: %w", err)
	}
	for _, t := range tables {
		if !identPattern.MatchString(t) {
			return fmt.Errorf("copy: table name %q: unexpected characters", t)
		}
		q := quoteIdent(t)
		// #nosec G202 -- the table name comes from the schema and matched identPattern
		stmt := `SELECT setval(pg_get_serial_sequence($1, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM ` + q
		if _, err := tx.ExecContext(ctx, stmt, q); err != nil {
			return fmt.Errorf("copy: reset the id sequence of %s: %w", t, err)
		}
	}
	return nil
}

// queryer is what both *sql.DB and *sql.Conn offer.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryStrings returns the one string column of a query's rows.
func queryStrings(ctx context.Context, db queryer, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
