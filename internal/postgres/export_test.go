package postgres

import (
	"context"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/jackc/pgx/v5"
)

// ExecForTest runs a statement as the application role.
//
// A fixture of tens of thousands of rows is not bound by the server's
// statement_timeout (10 s), which a loaded machine can exceed while
// inserting it.
func ExecForTest(ctx context.Context, db *DB, sql string) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, sql)
		return err
	})
}

// InTxForTest runs fn inside a transaction of the store, with the context
// a transaction's code gets.
func InTxForTest(ctx context.Context, db *DB, fn func(ctx context.Context) error) error {
	return db.inTx(ctx, func(ctx context.Context, _ pgx.Tx) error { return fn(ctx) })
}

// PoolReadForTest reads through the pool itself, as code that bypassed the
// transaction in its context would.
func PoolReadForTest(ctx context.Context, db *DB) error {
	var one int
	return db.pool.QueryRow(ctx, `SELECT 1`).Scan(&one)
}

// TxStartForTest reads when the transaction ctx's reads run in began
// (each read outside a transaction is one of its own).
func TxStartForTest(ctx context.Context, db *DB) (time.Time, error) {
	var t time.Time
	err := db.q(ctx).QueryRow(ctx, `SELECT transaction_timestamp()`).Scan(&t)
	return t, err
}

// SealerBeforeCommitForTest sets the hook a sealing transaction runs, with
// the lock held and its rows appended, just before it commits.
func SealerBeforeCommitForTest(s *Sealer, fn func(ctx context.Context, tx pgx.Tx) error) {
	s.beforeCommit = fn
}

// TxForTest runs fn in a transaction of the store, handing it the
// transaction.
func TxForTest(ctx context.Context, db *DB, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return db.inTx(ctx, fn)
}

// OfferLinkForTest mints a claim link of an offer for one of its patients,
// as sending its message does, and returns the token.
func OfferLinkForTest(ctx context.Context, db *DB, offerID, patientID int64) (string, error) {
	token, hash := auth.NewToken()
	_, err := db.pool.Exec(ctx, `INSERT INTO fill_offer_links (token_hash, offer_id, patient_id) VALUES ($1, $2, $3)`, hash, offerID, patientID)
	return token, err
}
