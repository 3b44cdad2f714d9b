// Package postgres stores the clinic in PostgreSQL with pgx v5: hand-written
// SQL, one file per aggregate. Each action the server asks for is one
// method and one transaction that loads the facts, lets the domain
// (package clinic) decide, and writes what it decided together with its
// audit row; the database's constraints have the last word on overlaps.
// Constraint violations are turned into *clinic.Error here (errors.go).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// AppRole is the database role the server acts as after connecting. Its
// grants (see the migrations) leave out DELETE on clinical tables and any
// change to the audit log.
const AppRole = "infusiondesk_app"

// DB is the clinic's database.
type DB struct {
	pool          *pgxpool.Pool
	schemaVersion uint // the migration version this binary needs
	// jobs enqueues River jobs in the store's transactions; it works none
	// (StartDelivery runs the workers).
	jobs *river.Client[pgx.Tx]
	// The clinic's schedule and active chairs as last read, by settings
	// version (byVersion).
	cachedSchedule byVersion[clinic.Schedule]
	cachedChairs   byVersion[[]clinic.Chair]
}

// Options tune the connection pool.
type Options struct {
	MaxConns int32 // 0: 20
}

// Open creates a connection pool. It does not wait for the database: a
// database that is down now is connected to when it comes up.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	cfg.MaxConns = 20
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "infusiondesk"
	// No wait may outlast a request: a lock not granted within
	// LockTimeout, a statement running past StatementTimeout or a
	// transaction left idle fails, and the request answers at once.
	cfg.ConnConfig.RuntimeParams["lock_timeout"] = LockTimeout
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = StatementTimeout
	cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = StatementTimeout
	// A transaction waits for nothing outside its own connection: a second
	// connection taken from the pool inside one is refused (txGuard).
	cfg.ConnConfig.Tracer = txGuard{}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	// In a replicated formation (a multi-host DATABASE_URL with
	// target_session_attrs=read-write) a node that stops taking writes — a
	// demoted primary, a promoted standby still fenced — keeps its open
	// connections. One that reports itself read-only is closed on release,
	// so the pool's next connection finds the node that is primary now.
	cfg.AfterRelease = func(c *pgx.Conn) bool { return !readOnlyNode(c.PgConn()) }
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		if _, err := c.Exec(ctx, "SET ROLE "+AppRole); err != nil {
			return fmt.Errorf("switching to role %s (has `infusiondesk migrate up` run?): %w", AppRole, err)
		}
		return nil
	}
	want, err := LatestVersion()
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: RiverSchema})
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &DB{pool: pool, schemaVersion: want, jobs: jobs}, nil
}

// Close closes every connection.
func (db *DB) Close() { db.pool.Close() }

// readOnlyNode reports whether the server behind conn said (in the
// parameters PostgreSQL 14 and later report on every change) that it is a
// standby or refuses writes.
func readOnlyNode(conn *pgconn.PgConn) bool {
	return conn.ParameterStatus("in_hot_standby") == "on" || conn.ParameterStatus("default_transaction_read_only") == "on"
}

// Ping checks that the database answers, takes writes, and is migrated to
// the version this binary was built with. It returns the node it reached
// (address:port as the server sees itself), which in a replicated formation
// says which one is primary.
func (db *DB) Ping(ctx context.Context) (node string, err error) {
	var version int64
	var dirty, readOnly bool
	err = db.pool.QueryRow(ctx, `
		SELECT version, dirty, coalesce(host(inet_server_addr()) || ':' || inet_server_port(), 'local socket'),
		       pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'
		FROM schema_migrations`).Scan(&version, &dirty, &node, &readOnly)
	if err != nil {
		return "", mapError(err)
	}
	if readOnly {
		return node, unavailable(fmt.Errorf("the database node %s does not take writes (a standby, or a failover in progress)", node))
	}
	if dirty || uint(version) != db.schemaVersion {
		return node, fmt.Errorf("database schema is at version %d (dirty=%v), this binary needs %d: run `infusiondesk migrate up`", version, dirty, db.schemaVersion)
	}
	return node, nil
}

// The bounds on every wait inside the database (see Open).
const (
	LockTimeout      = "5s"
	StatementTimeout = "10s"
)

// inTx runs fn in a transaction, committing when fn returns nil. Reads of
// patient data use it too: they write an audit row.
//
// fn gets a context marked as inside the transaction: everything it does
// goes through tx, and taking another connection from the pool with that
// context fails at once (txGuard) instead of waiting for one while the
// transaction holds its locks.
//
// A transaction that Postgres fails as a deadlock or serialization victim
// is run again, up to five times; fn must therefore start from scratch
// each time it is called. Bookings take their day locks (lockDays) before
// they write, so two bookings of one day never wait inside an overlap
// check for each other.
//
// Called inside another inTx (its context), fn joins that transaction:
// so a page's reads compose into one transaction (see View), and an
// error is the outer transaction's to handle.
func (db *DB) inTx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	if tx, ok := txOf(ctx); ok {
		return fn(ctx, tx)
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = db.pipelined(ctx, fn)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "40P01" && pgErr.Code != "40001") || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond)
	}
	return mapError(err)
}

// pipelined runs fn in one transaction on a connection of its own: its
// BEGIN goes with its first statement, its audit rows (held until fn is
// done) go with its COMMIT, so neither costs a round trip of its own
// (pipelinedTx).
func (db *DB) pipelined(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release() // a connection left inside a transaction is closed, not reused
	tx := &pipelinedTx{conn: conn}
	inTx := context.WithValue(ctx, inTxKey{}, pgx.Tx(tx))
	later := &auditLater{}
	if err := fn(context.WithValue(inTx, auditLaterKey{}, later), tx); err != nil {
		tx.Rollback(inTx)
		return err
	}
	if len(later.entries) == 0 {
		return tx.Commit(inTx)
	}
	sql, args, err := auditInsert(later.entries)
	if err != nil {
		tx.Rollback(inTx)
		return err
	}
	return tx.finish(inTx, sql, args...)
}

// isNoRows reports whether err is pgx's "no rows".
func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// inTxKey marks a context handed to a transaction's function; its value
// is the transaction.
type inTxKey struct{}

// q is the transaction ctx runs in, else the pool: for reads that need no
// transaction of their own but join one when there is one.
func (db *DB) q(ctx context.Context) querier {
	if tx, ok := txOf(ctx); ok {
		return tx
	}
	return db.pool
}

// txOf is the transaction ctx runs in, if any.
func txOf(ctx context.Context) (pgx.Tx, bool) {
	tx, ok := ctx.Value(inTxKey{}).(pgx.Tx)
	return tx, ok
}

// errNestedAcquire is the cause of a pool acquisition refused by txGuard.
var errNestedAcquire = errors.New("postgres: a connection was taken from the pool inside a transaction; use the transaction")

// txGuard refuses to hand out a pool connection to code running inside a
// transaction (a context from inTx). Such code would hold the
// transaction's locks while it waits for a free connection: with the pool
// exhausted, a wait Postgres cannot see and no deadlock detector breaks.
type txGuard struct{}

func (txGuard) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	if ctx.Value(inTxKey{}) == nil {
		return ctx
	}
	refused, cancel := context.WithCancelCause(ctx)
	cancel(errNestedAcquire)
	return refused
}

func (txGuard) TraceAcquireEnd(context.Context, *pgxpool.Pool, pgxpool.TraceAcquireEndData) {}

func (txGuard) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if t, ok := ctx.Value(tripsKey{}).(*Trips); ok {
		t.count(ctx, data.SQL)
	}
	return ctx
}

func (txGuard) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	if t, ok := ctx.Value(tripsKey{}).(*Trips); ok {
		first := "batch"
		if data.Batch != nil && len(data.Batch.QueuedQueries) > 0 {
			first = data.Batch.QueuedQueries[0].SQL
		}
		t.count(ctx, first)
	}
	return ctx
}

func (txGuard) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (txGuard) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// Trips counts the round trips to the database made with a context (see
// CountTrips), and the transactions among them: each BEGIN, and each
// statement outside a transaction (a transaction of its own).
type Trips struct {
	RoundTrips   atomic.Int64
	Transactions atomic.Int64
}

type tripsKey struct{}

// CountTrips returns a context whose round trips to the database are
// counted in the Trips returned (the request log shows them).
func CountTrips(ctx context.Context) (context.Context, *Trips) {
	t := &Trips{}
	return context.WithValue(ctx, tripsKey{}, t), t
}

// TripsOf returns the counter CountTrips put in ctx, or nil.
func TripsOf(ctx context.Context) *Trips {
	t, _ := ctx.Value(tripsKey{}).(*Trips)
	return t
}

func (t *Trips) count(ctx context.Context, sql string) {
	t.RoundTrips.Add(1)
	head := strings.ToLower(strings.TrimSpace(sql))
	switch {
	case strings.HasPrefix(head, "begin"):
		t.Transactions.Add(1)
	case strings.HasPrefix(head, "commit"), strings.HasPrefix(head, "rollback"):
	case ctx.Value(inTxKey{}) == nil:
		t.Transactions.Add(1)
	}
}

func (txGuard) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// View runs load in one transaction: whatever store methods load calls
// join it, so a page's reads cost one transaction (one BEGIN/COMMIT, its
// audit rows written together) and see one snapshot of the clinic.
//
// It is for reads: their audit rows are written at the end, together.
//
// Its BEGIN travels with the first read and its COMMIT with the audit rows
// (pipelinedTx): a view of three reads is three round trips. Inside
// another transaction, it joins that one.
func (db *DB) View(ctx context.Context, load func(ctx context.Context) error) error {
	return db.inTx(ctx, func(ctx context.Context, _ pgx.Tx) error { return load(ctx) })
}
