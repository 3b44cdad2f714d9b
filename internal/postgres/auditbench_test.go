package postgres_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// BenchmarkVerifyAuditLog verifies a sealed log of AUDIT_BENCH_ROWS rows
// (default 20,000; make bench-audit uses 1,000,000): every leaf recomputed
// from the rows, compared with the tiles, the tree against the signed
// head. Target for 1,000,000 rows: under 60 s. It reports the sealing
// rate too (rows sealed per second while building the log).
func BenchmarkVerifyAuditLog(b *testing.B) {
	rows := 20000
	if n, err := strconv.Atoi(os.Getenv("AUDIT_BENCH_ROWS")); err == nil && n > 0 {
		rows = n
	}
	ctx := context.Background()
	db, url := pgtest.Open(b)
	su, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer su.Close(ctx)
	// Rows shaped like a day's reads and writes: an actor, a patient, a request.
	for done := 0; done < rows; done += 100000 {
		n := min(100000, rows-done)
		if _, err := su.Exec(ctx, `
			INSERT INTO audit_log (actor_role, action, entity, entity_id, patient_id, request_id, address, after)
			SELECT 'front_desk', 'appointment.book', 'appointment', g, g % 5000, md5(g::text), '10.0.0.' || (g % 250),
			       jsonb_build_object('chair_id', g % 12, 'start', '2026-12-02T09:00:00-07:00', 'kind', 'maintenance')
			FROM generate_series(1, $1::int) g`, n); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	if err := db.NewSealer("", nil).Flush(ctx); err != nil {
		b.Fatal(err)
	}
	sealRate := float64(rows) / time.Since(start).Seconds()
	b.ResetTimer()
	for b.Loop() {
		c, err := db.VerifyAuditLog(ctx, postgres.AuditVerify{})
		if err != nil || !c.OK || c.Rows != int64(rows) {
			b.Fatalf("%+v %v", c, err)
		}
	}
	b.ReportMetric(sealRate, "sealed_rows/s")
	b.ReportMetric(float64(rows), "rows")
}
