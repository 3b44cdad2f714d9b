package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
	"github.com/jackc/pgx/v5"
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
		return postgres.PoolReadForTest(ctx, db) // reads through the pool, not the transaction
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a pool read inside a transaction: err = %v, want it refused", err)
	}
	if d := time.Since(started); d > 5*time.Second {
		t.Fatalf("refused only after %s", d)
	}
	// Outside a transaction the same read works.
	if err := postgres.PoolReadForTest(ctx, db); err != nil {
		t.Fatal(err)
	}
	// A store read inside a transaction joins it instead (a page's reads
	// in one View), and works.
	if err := postgres.InTxForTest(ctx, db, func(ctx context.Context) error {
		_, err := db.Schedule(ctx)
		return err
	}); err != nil {
		t.Fatalf("a store read inside a transaction: %v", err)
	}
}

// A View's reads are one transaction: they see one snapshot, and their
// audit rows are written at its end, in order, all or none.
func TestViewIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	db, url := pgtest.Open(t)
	su := superuser(t, url)
	var before int
	if err := su.QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	var starts []time.Time
	err := db.View(ctx, func(ctx context.Context) error {
		for range 3 {
			if _, err := db.Protocols(ctx); err != nil {
				return err
			}
			if _, err := db.OpenCourses(ctx); err != nil { // audited
				return err
			}
			start, err := postgres.TxStartForTest(ctx, db)
			if err != nil {
				return err
			}
			starts = append(starts, start)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !starts[0].Equal(starts[1]) || !starts[1].Equal(starts[2]) {
		t.Fatalf("the view's reads ran in transactions begun at %v, want one", starts)
	}
	// Outside a view, two reads are two transactions.
	a, _ := postgres.TxStartForTest(ctx, db)
	b, _ := postgres.TxStartForTest(ctx, db)
	if a.Equal(b) {
		t.Fatalf("two reads outside a view in one transaction (%v)", a)
	}
	var after int
	su.QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&after)
	if after-before != 3 {
		t.Fatalf("%d audit rows for three audited reads in one view", after-before)
	}
	// A view that fails writes none of its audit rows.
	failed := errors.New("the page could not be shown")
	if err := db.View(ctx, func(ctx context.Context) error {
		if _, err := db.OpenCourses(ctx); err != nil {
			return err
		}
		return failed
	}); !errors.Is(err, failed) {
		t.Fatalf("a failed view: %v", err)
	}
	var last int
	su.QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&last)
	if last != after {
		t.Fatalf("a failed view wrote %d audit rows", last-after)
	}
}

// A store transaction sends BEGIN with its first statement and its audit
// rows with COMMIT, and is a full transaction for all that: savepoints
// roll back on their own, an aborted transaction does not commit, and its
// audit rows go with it or not at all.
func TestPipelinedTransactions(t *testing.T) {
	ctx := context.Background()
	db, url := pgtest.Open(t)
	su := superuser(t, url)
	count := func(sql string) int {
		var n int
		if err := su.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	auditRows := count(`SELECT count(*) FROM audit_log`)
	err := postgres.TxForTest(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO login_failures (email, address) VALUES ('kept@example.com', '10.0.0.1')`); err != nil {
			return err
		}
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := sp.Exec(ctx, `INSERT INTO login_failures (email, address) VALUES ('undone@example.com', '10.0.0.1')`); err != nil {
			return err
		}
		if err := sp.Rollback(ctx); err != nil {
			return err
		}
		if err := sp.Rollback(ctx); !errors.Is(err, pgx.ErrTxClosed) {
			return fmt.Errorf("a second rollback of a savepoint: %v", err)
		}
		return db.Audit(ctx, clinic.AuditEntry{Action: "test.event", Entity: "test"}) // joins, held until COMMIT
	})
	if err != nil {
		t.Fatal(err)
	}
	if kept, undone := count(`SELECT count(*) FROM login_failures WHERE email = 'kept@example.com'`),
		count(`SELECT count(*) FROM login_failures WHERE email = 'undone@example.com'`); kept != 1 || undone != 0 {
		t.Fatalf("after a savepoint rolled back: %d kept, %d undone; want 1 and 0", kept, undone)
	}
	if n := count(`SELECT count(*) FROM audit_log`); n != auditRows+1 {
		t.Fatalf("%d audit rows written with the commit; want 1", n-auditRows)
	}
	// A failed statement whose error is swallowed aborts the transaction:
	// the commit says so, and neither the write nor the audit row stays.
	err = postgres.TxForTest(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		tx.Exec(ctx, `INSERT INTO login_failures (email, address) VALUES ('lost@example.com', '10.0.0.1')`)
		tx.Exec(ctx, `SELECT 1/0`)
		return db.Audit(ctx, clinic.AuditEntry{Action: "test.event", Entity: "test"})
	})
	if err == nil {
		t.Fatal("an aborted transaction committed")
	}
	if lost := count(`SELECT count(*) FROM login_failures WHERE email = 'lost@example.com'`); lost != 0 {
		t.Fatal("an aborted transaction's write stayed")
	}
	if n := count(`SELECT count(*) FROM audit_log`); n != auditRows+1 {
		t.Fatalf("an aborted transaction left %d audit rows", n-auditRows-1)
	}
	// The connection it left is not handed out inside a transaction.
	if _, err := db.Chairs(ctx); err != nil {
		t.Fatalf("the next read after an aborted transaction: %v", err)
	}
}
