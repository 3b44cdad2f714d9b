package postgres_test

import (
	"fmt"
	"testing"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// BenchmarkAvailability asks for a 14-day window of free 90-minute starts
// in a clinic of 12 chairs holding 50,000 appointments. Target: under 5 ms
// per call.
func BenchmarkAvailability(b *testing.B) {
	c := busyClinic(b)
	from := clinic.D(2026, 6, 1)
	b.ResetTimer()
	for b.Loop() {
		_, days, err := c.db.Availability(c.ctx, from, from.AddDays(13), 90, c.now)
		if err != nil || len(days) != 14 || len(days[0].Chairs) != 12 {
			b.Fatalf("%v, %d days", err, len(days))
		}
	}
}

// BenchmarkProposeSeries plans a Standard IV loading series (6 sessions,
// 2–3 days apart, within 14 days) in the same busy clinic, with the
// preferred time in the thick of the day. Target: under 10 ms.
func BenchmarkProposeSeries(b *testing.B) {
	c := busyClinic(b)
	standard := c.protocol(b, "Standard IV loading", 6, 2, 3, 14, 60)
	req := postgres.SeriesRequest{PatientID: c.patients[95], ProtocolID: standard, StartDate: clinic.D(2026, 6, 1), Preferred: 10 * 60}
	b.ResetTimer()
	for b.Loop() {
		p, err := c.db.ProposeSeries(c.ctx, req, c.now)
		if err != nil || !p.OK || len(p.Checks) != 6 {
			b.Fatalf("%+v %v", p, err)
		}
	}
}

// busyClinic is the test clinic with 12 chairs holding 50,000 appointments:
// two years of full days, seven 60-minute visits a chair a day with one
// 90-minute gap somewhere in each chair's day.
func busyClinic(b *testing.B) *testClinic {
	c := newTestClinic(b, 96)
	for i := 4; i <= 12; i++ {
		if _, err := c.db.SaveChair(c.ctx, clinic.Chair{Name: fmt.Sprintf("Chair %d", i), Position: i, Active: true}); err != nil {
			b.Fatal(err)
		}
	}
	// Weekdays from 2025-06-02 on; each chair k holds slot s (07:00 + 75 min
	// × s, 60 minutes) for patient number 8k+s, but one.
	err := postgres.ExecForTest(c.ctx, c.db, `
		WITH days AS (
			SELECT d::date AS day FROM generate_series(date '2025-06-02', date '2027-12-31', interval '1 day') AS d
			WHERE extract(isodow FROM d) <= 5),
		chairs AS (SELECT id, row_number() OVER (ORDER BY position) - 1 AS k FROM chairs),
		patients AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM patients),
		slots AS (
			SELECT day, ch.id AS chair_id, p.id AS patient_id,
			       ((day + time '07:00' + s * interval '75 minutes') AT TIME ZONE 'America/Chicago') AS starts_at
			FROM days, chairs ch, generate_series(0, 7) AS s, patients p
			-- Each chair keeps one slot a day free, at a time that moves
			-- from chair to chair and day to day: a 90-minute gap.
			WHERE p.n = ch.k * 8 + s AND s <> ((day - date '2025-06-02') + ch.k) % 8)
		INSERT INTO appointments (patient_id, chair_id, kind, status, starts_at, ends_at)
		SELECT patient_id, chair_id, 'maintenance', 'booked', starts_at, starts_at + interval '60 minutes'
		FROM (SELECT * FROM slots ORDER BY day LIMIT 50000) AS first50k`)
	if err != nil {
		b.Fatal(err)
	}
	if err := postgres.ExecForTest(c.ctx, c.db, `DO $$ BEGIN
		IF (SELECT count(*) FROM appointments) <> 50000 THEN RAISE EXCEPTION 'not 50,000 appointments'; END IF; END $$`); err != nil {
		b.Fatal(err)
	}
	if err := postgres.ExecForTest(c.ctx, c.db, `ANALYZE appointments`); err != nil {
		b.Fatal(err)
	}
	return c
}
