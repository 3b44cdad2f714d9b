// Package postgres stores the clinic in PostgreSQL with pgx v5: hand-written
// SQL, one file per aggregate, every write in a transaction that also writes
// its audit row. Constraint violations are turned into *clinic.Error here.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AppRole is the database role the server acts as after connecting. Its
// grants (see the migrations) leave out DELETE on clinical tables and any
// change to the audit log.
const AppRole = "infusiondesk_app"

// DB is the clinic's database.
type DB struct {
	pool          *pgxpool.Pool
	schemaVersion uint // the migration version this binary needs
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
	// A stuck query or an abandoned transaction must not hold locks forever.
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "30s"
	cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = "60s"
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
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
	return &DB{pool: pool, schemaVersion: want}, nil
}

// Close closes every connection.
func (db *DB) Close() { db.pool.Close() }

// Ping checks that the database answers and the schema is migrated to the
// version this binary was built with.
func (db *DB) Ping(ctx context.Context) error {
	var version int64
	var dirty bool
	err := db.pool.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations`).Scan(&version, &dirty)
	if err != nil {
		return mapError(err)
	}
	if dirty || uint(version) != db.schemaVersion {
		return fmt.Errorf("database schema is at version %d (dirty=%v), this binary needs %d: run `infusiondesk migrate up`", version, dirty, db.schemaVersion)
	}
	return nil
}

// inTx runs fn in a transaction, committing when fn returns nil. Reads of
// patient data use it too: they write an audit row.
//
// Two transactions inserting into one slot at once can each wait for the
// other inside the exclusion constraints' check; Postgres ends that
// deadlock by failing one (as it does a serialization failure). Such a
// transaction is run again, up to five times: the second run sees the
// winner and refuses plainly ("that chair was just taken"). fn must
// therefore start from scratch each time it is called.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = pgx.BeginFunc(ctx, db.pool, fn)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "40P01" && pgErr.Code != "40001") || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond)
	}
	return mapError(err)
}

// isNoRows reports whether err is pgx's "no rows".
func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
