package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
)

// A transaction must wait for nothing outside its own connection. Code in
// a transaction that asks the pool for a second connection is refused at
// once, even with the pool exhausted, instead of waiting while it holds
// the transaction's locks (the 30-second stalls of make load).
func TestNoPoolConnectionInsideATransaction(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.Open(t)
	started := time.Now()
	err := postgres.InTxForTest(ctx, db, func(ctx context.Context) error {
		_, err := db.Schedule(ctx) // reads through the pool, not the transaction
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a pool read inside a transaction: err = %v, want it refused", err)
	}
	if d := time.Since(started); d > 5*time.Second {
		t.Fatalf("refused only after %s", d)
	}
	// Outside a transaction the same read works.
	if _, err := db.Schedule(ctx); err != nil {
		t.Fatal(err)
	}
}
