package postgres_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// appendRows writes n audit rows from each of g goroutines at once.
func appendRows(t *testing.T, db *postgres.DB, g, n int) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			actx := clinic.WithActor(ctx, clinic.Actor{RequestID: fmt.Sprintf("req-%d", i), Address: "10.0.0.1"})
			for j := range n {
				if err := db.Audit(actx, clinic.AuditEntry{Action: "test.event", Entity: "test", EntityID: clinic.ID(int64(i)),
					After: map[string]int{"n": j}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func verify(t *testing.T, db *postgres.DB, o postgres.AuditVerify) clinic.AuditCheck {
	t.Helper()
	c, err := db.VerifyAuditLog(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func countRows(t *testing.T, su *pgx.Conn) int64 {
	t.Helper()
	var n int64
	if err := su.QueryRow(context.Background(), `SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Rows appended by 50 goroutines while a sealer runs are all sealed, each
// once, in seq order, and the log verifies.
func TestSealConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	db, url := pgtest.Open(t)
	su := superuser(t, url)
	sealer := db.NewSealer("", nil)
	stop := make(chan struct{})
	sealed := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				sealed <- sealer.Flush(ctx)
				return
			default:
			}
			if _, err := sealer.SealOnce(ctx); err != nil {
				sealed <- err
				return
			}
		}
	}()
	appendRows(t, db, 50, 20)
	close(stop)
	if err := <-sealed; err != nil {
		t.Fatal(err)
	}
	total := countRows(t, su)
	c := verify(t, db, postgres.AuditVerify{})
	if !c.OK || c.Rows != total || c.Pending != 0 || c.Head.Size != total || !c.KeysFromDatabase {
		t.Fatalf("verify after 50 writers: %+v; want all %d rows sealed and OK", c, total)
	}
	// One order: leaf i is the i-th row by seq, each row once.
	var dupes, outOfOrder int
	if err := su.QueryRow(ctx, `
		SELECT count(*) - count(DISTINCT seq), count(*) FILTER (WHERE seq <= prev)
		FROM (SELECT seq, lag(seq, 1, 0::bigint) OVER (ORDER BY seq) AS prev FROM audit_log) r`).Scan(&dupes, &outOfOrder); err != nil {
		t.Fatal(err)
	}
	if dupes != 0 || outOfOrder != 0 {
		t.Fatalf("%d duplicate and %d out-of-order seqs", dupes, outOfOrder)
	}
	// Each row's inclusion proof checks against the signed root.
	for _, seq := range []int64{1, total / 2, total} {
		p, err := db.AuditProof(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if p.Index != seq-1 || tlog.CheckRecord(p.Proof, p.TreeSize, p.Root, p.Index, tlog.RecordHash(p.Leaf)) != nil {
			t.Fatalf("proof for seq %d: index %d, does not check", seq, p.Index)
		}
	}
}

// A row whose transaction rolls back leaves a gap in seq; a row committed
// after a later one was sealed is still sealed, after it; nothing waits
// for ever.
func TestSealWaitsForTransactionsInFlight(t *testing.T) {
	ctx := context.Background()
	db, url := pgtest.Open(t)
	su := superuser(t, url)
	sealer := db.NewSealer("", nil)
	appendRows(t, db, 1, 3)
	// (Any transaction in the cluster holds sealing back, other tests'
	// too: Flush waits for them.)
	if err := sealer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if c := verify(t, db, postgres.AuditVerify{}); !c.OK || c.Rows != 3 {
		t.Fatalf("three committed rows with nothing in flight: %+v; want them sealed", c)
	}
	// A transaction takes seq 4 and stays open; seq 5 commits. Neither is
	// sealed while it is open: the sealer cannot tell seq 5 is not ahead
	// of a row it cannot see.
	slow, err := su.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slow.Exec(ctx, `INSERT INTO audit_log (action, entity) VALUES ('test.slow', 'test')`); err != nil {
		t.Fatal(err)
	}
	appendRows(t, db, 1, 1)
	for range 3 {
		if _, err := sealer.SealOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if c := verify(t, db, postgres.AuditVerify{}); !c.OK || c.Head.LastSeq != 3 || c.Pending != 1 {
		t.Fatalf("with seq 4 in flight: %+v; want sealed to seq 3, seq 5 waiting", c)
	}
	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// An aborted row leaves a gap (seq 6).
	aborted, _ := su.Begin(ctx)
	aborted.Exec(ctx, `INSERT INTO audit_log (action, entity) VALUES ('test.aborted', 'test')`)
	aborted.Rollback(ctx)
	appendRows(t, db, 1, 1)
	if err := sealer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if c := verify(t, db, postgres.AuditVerify{}); !c.OK || c.Rows != 6 || c.Head.LastSeq != 7 || c.Pending != 0 {
		t.Fatalf("after the commit: %+v; want six rows sealed to seq 7", c)
	}
}

// Tampering with sealed rows is caught and named: an altered field, a
// removed row, a row inserted in the middle, the tiles or the head.
func TestAuditTamperingCaught(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*postgres.DB, *pgx.Conn) {
		db, url := pgtest.Open(t)
		su := superuser(t, url)
		appendRows(t, db, 1, 5)
		// seq 6 is an aborted transaction's: a gap an insert could fill.
		tx, _ := su.Begin(ctx)
		tx.Exec(ctx, `INSERT INTO audit_log (action, entity) VALUES ('test.aborted', 'test')`)
		tx.Rollback(ctx)
		appendRows(t, db, 4, 5)
		if err := db.NewSealer("", nil).Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if c := verify(t, db, postgres.AuditVerify{}); !c.OK || c.Rows != 25 {
			t.Fatalf("untouched log: %+v", c)
		}
		for _, stmt := range []string{`ALTER TABLE audit_log DISABLE TRIGGER audit_no_change`,
			`ALTER TABLE audit_log DISABLE TRIGGER audit_stamp`, `ALTER TABLE audit_tiles DISABLE TRIGGER audit_tiles_grow`} {
			if _, err := su.Exec(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		return db, su
	}
	for _, tt := range []struct {
		name, tamper string
		at           int64
		problem      string
	}{
		{"a field altered", `UPDATE audit_log SET after = '{"n": 99}' WHERE seq = 7`, 7, "altered"},
		{"the time altered", `UPDATE audit_log SET at = at - interval '1 day' WHERE seq = 3`, 3, "altered"},
		{"the actor altered", `UPDATE audit_log SET address = '10.9.9.9' WHERE seq = 12`, 12, "altered"},
		{"a row removed", `DELETE FROM audit_log WHERE seq = 12`, 13, "removed"},
		{"the last rows removed", `DELETE FROM audit_log WHERE seq >= 25`, 26, "end"},
		{"a row inserted in the middle", `INSERT INTO audit_log (seq, at, action, entity) VALUES (6, now() - interval '1 hour', 'patient.read', 'patient')`, 6, "inserted"},
		// The row now numbered 9 is not the one sealed as 9.
		{"a row removed and the rest renumbered", `DELETE FROM audit_log WHERE seq = 9; UPDATE audit_log SET seq = 1 - seq WHERE seq > 9; UPDATE audit_log SET seq = -seq WHERE seq < 0`, 9, "altered"},
		{"a sealed leaf overwritten", `UPDATE audit_tiles SET hashes = overlay(hashes PLACING decode(repeat('ab', 32), 'hex') FROM 1 FOR 32) WHERE level = 0 AND n = 0`, 1, "altered"},
		{"the head replaced", `UPDATE audit_seal SET head = replace(head, 'infusiondesk-audit', 'someone-else')`, 0, "head"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, su := setup(t)
			if _, err := su.Exec(ctx, tt.tamper); err != nil {
				t.Fatal(err)
			}
			c := verify(t, db, postgres.AuditVerify{})
			if c.OK || c.BrokenAt != tt.at || !strings.Contains(c.Problem, tt.problem) {
				t.Fatalf("verify = %+v; want broken at seq %d (%s)", c, tt.at, tt.problem)
			}
		})
	}
}

// A superuser who rewrites a row and rebuilds the whole tree and head
// consistently (with the key the database keeps) passes a plain verify;
// a head saved outside the database before catches it.
func TestAuditRewriteCaughtBySavedHead(t *testing.T) {
	ctx := context.Background()
	db, url := pgtest.Open(t)
	su := superuser(t, url)
	appendRows(t, db, 3, 5)
	if err := db.NewSealer("", nil).Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := db.AuditStatus(ctx)
	if err != nil || st.Signed == "" || !st.KeyInDatabase {
		t.Fatalf("status %+v %v", st, err)
	}
	saved := []byte(st.Signed) // kept outside the database
	appendRows(t, db, 1, 3)
	if err := db.NewSealer("", nil).Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if c := verify(t, db, postgres.AuditVerify{Saved: saved}); !c.OK || c.Saved == nil || c.Saved.Size != 15 || c.Rows != 18 {
		t.Fatalf("a log that only grew: %+v", c)
	}
	// The rewrite: change a row, throw the tree away, seal it all again.
	for _, stmt := range []string{
		`ALTER TABLE audit_log DISABLE TRIGGER audit_no_change`,
		`UPDATE audit_log SET after = '{"n": 0, "rewritten": true}' WHERE seq = 4`,
		`DELETE FROM audit_tiles`,
		`ALTER TABLE audit_seal DISABLE TRIGGER audit_seal_grows`,
		`UPDATE audit_seal SET size = 0, last_seq = 0, root = decode(repeat('00', 32), 'hex'), head = ''`,
	} {
		if _, err := su.Exec(ctx, stmt); err != nil {
			t.Fatal(stmt, err)
		}
	}
	if err := db.NewSealer("", nil).Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if c := verify(t, db, postgres.AuditVerify{}); !c.OK || c.Rows != 18 {
		t.Fatalf("the consistent rewrite should pass a plain verify: %+v", c)
	}
	c := verify(t, db, postgres.AuditVerify{Saved: saved})
	if c.OK || !strings.Contains(c.Problem, "rewritten") || !strings.Contains(c.Problem, "first 15 rows") {
		t.Fatalf("verify --head after a rewrite: %+v; want it caught", c)
	}
}

// With the key outside the database (AUDIT_SIGNING_KEY), a rebuilt log
// cannot be signed again: a plain verify against the trusted key catches
// it.
func TestAuditRewriteCaughtByTrustedKey(t *testing.T) {
	ctx := context.Background()
	db, url := pgtest.Open(t)
	su := superuser(t, url)
	skey, vkey, err := note.GenerateKey(rand.Reader, "clinic-audit")
	if err != nil {
		t.Fatal(err)
	}
	appendRows(t, db, 2, 4)
	if err := db.NewSealer(skey, nil).Flush(ctx); err != nil {
		t.Fatal(err)
	}
	trusted := postgres.AuditVerify{Keys: []string{vkey}}
	if c := verify(t, db, trusted); !c.OK || c.KeysFromDatabase || c.Head.Origin != "clinic-audit" {
		t.Fatalf("verify with the trusted key: %+v", c)
	}
	if st, _ := db.AuditStatus(ctx); st.KeyInDatabase || st.VerifierKey != vkey {
		t.Fatalf("status with AUDIT_SIGNING_KEY: %+v", st)
	}
	for _, stmt := range []string{
		`DELETE FROM audit_tiles`,
		`ALTER TABLE audit_seal DISABLE TRIGGER audit_seal_grows`,
		`UPDATE audit_seal SET size = 0, last_seq = 0, root = decode(repeat('00', 32), 'hex'), head = ''`,
	} {
		if _, err := su.Exec(ctx, stmt); err != nil {
			t.Fatal(stmt, err)
		}
	}
	if err := db.NewSealer("", nil).Flush(ctx); err != nil { // signed with a key the attacker made
		t.Fatal(err)
	}
	if c := verify(t, db, trusted); c.OK || !strings.Contains(c.Problem, "not signed by a trusted key") {
		t.Fatalf("a head re-signed with another key: %+v; want it refused", c)
	}
}

// A sealer killed in the middle of a batch leaves the log as it was (it
// verifies), and the next one seals the rest.
func TestSealerKilledMidBatch(t *testing.T) {
	ctx := context.Background()
	db, url := pgtest.Open(t)
	su := superuser(t, url)
	appendRows(t, db, 2, 5)
	if err := db.NewSealer("", nil).Flush(ctx); err != nil {
		t.Fatal(err)
	}
	appendRows(t, db, 5, 10)
	doomed := db.NewSealer("", nil)
	var pid int
	postgres.SealerBeforeCommitForTest(doomed, func(ctx context.Context, tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			return err
		}
		// Its connection dies with the batch written but not committed.
		_, err := su.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid)
		return err
	})
	if err := doomed.Flush(ctx); err == nil {
		t.Fatal("a sealer whose connection was killed mid-batch reported success")
	}
	// The killed backend is gone (pg_terminate_backend only signals it)
	// before the next sealer starts.
	for gone := false; !gone; time.Sleep(5 * time.Millisecond) {
		var n int
		if err := su.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		gone = n == 0
	}
	if c := verify(t, db, postgres.AuditVerify{}); !c.OK || c.Rows != 10 || c.Pending != 50 {
		t.Fatalf("after the killed batch: %+v; want the 10 rows sealed before, 50 waiting", c)
	}
	if err := db.NewSealer("", nil).Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if c := verify(t, db, postgres.AuditVerify{}); !c.OK || c.Rows != 60 || c.Pending != 0 {
		t.Fatalf("after a restart: %+v; want all 60 sealed", c)
	}
}

// Two servers' sealers take turns: while one is inside a sealing
// transaction the other seals nothing and does not wait; running side by
// side, they are never both inside one, and every row is sealed once.
func TestTwoSealersNeverBothSeal(t *testing.T) {
	ctx := context.Background()
	db, url := pgtest.Open(t)
	other, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var inside, most, batches atomic.Int32
	hook := func(ctx context.Context, tx pgx.Tx) error {
		n := inside.Add(1)
		defer inside.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		batches.Add(1)
		time.Sleep(2 * time.Millisecond) // hold the turn long enough for the other to try
		return nil
	}
	a, b := db.NewSealer("", nil), other.NewSealer("", nil)
	postgres.SealerBeforeCommitForTest(b, hook)

	// One sealer inside its transaction: the other's turn finds the log
	// taken, seals nothing and returns at once.
	appendRows(t, db, 2, 5)
	var during int
	var duringErr error
	postgres.SealerBeforeCommitForTest(a, func(ctx context.Context, tx pgx.Tx) error {
		during, duringErr = b.SealOnce(ctx)
		return nil
	})
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if during != 0 || duringErr != nil || batches.Load() != 0 {
		t.Fatalf("the other sealer, while one sealed: %d rows, %v, %d batches; want none", during, duringErr, batches.Load())
	}

	// Side by side, with rows coming from both servers.
	postgres.SealerBeforeCommitForTest(a, hook)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, s := range []*postgres.Sealer{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.SealOnce(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	appendRows(t, db, 10, 20)
	appendRows(t, other, 10, 20)
	close(stop)
	wg.Wait()
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if most.Load() != 1 || batches.Load() < 1 {
		t.Fatalf("%d sealers inside at once (%d batches); want one at a time", most.Load(), batches.Load())
	}
	if c := verify(t, db, postgres.AuditVerify{}); !c.OK || c.Rows != 410 || c.Pending != 0 {
		t.Fatalf("after two sealers: %+v; want 410 rows sealed once each", c)
	}
}
