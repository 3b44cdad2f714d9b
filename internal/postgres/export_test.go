package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ExecForTest runs a statement as the application role.
func ExecForTest(ctx context.Context, db *DB, sql string) error {
	_, err := db.pool.Exec(ctx, sql)
	return err
}

// InTxForTest runs fn inside a transaction of the store, with the context
// a transaction's code gets.
func InTxForTest(ctx context.Context, db *DB, fn func(ctx context.Context) error) error {
	return db.inTx(ctx, func(ctx context.Context, _ pgx.Tx) error { return fn(ctx) })
}
