package postgres_test

import (
	"fmt"
	"testing"
	"time"

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
	// A new patient: the busy clinic's own come daily (for consultations,
	// which a series would have to wait for).
	p, err := c.db.CreatePatient(c.ctx, clinic.Patient{FirstName: "New", LastName: "Series", DateOfBirth: clinic.D(1970, 1, 1),
		Condition: clinic.ConditionCRPS}, clinic.D(2026, 3, 2))
	if err != nil {
		b.Fatal(err)
	}
	req := clinic.SeriesRequest{PatientID: p.ID, ProtocolID: standard, StartDate: clinic.D(2026, 6, 1), Preferred: 10 * 60}
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
// 90-minute gap somewhere in each chair's day. (Visits of kind consult: a
// patient has one next maintenance infusion, and these patients come daily.)
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
		SELECT patient_id, chair_id, 'consult', 'booked', starts_at, starts_at + interval '60 minutes'
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

// BenchmarkPatientPlan reads a course of 40 infusions with their relief
// reports and computes the plan, with the suggested slot in a calendar of
// 12 chairs and 50,000 appointments. Target: under 2 ms.
func BenchmarkPatientPlan(b *testing.B) {
	c := busyClinic(b)
	standard := c.protocol(b, "Standard IV loading", 6, 2, 3, 14, 60)
	patient := c.patients[95]
	if _, err := c.db.CreateCourse(c.ctx, patient, standard, clinic.D(2023, 1, 2)); err != nil {
		b.Fatal(err)
	}
	// 6 loading and 34 maintenance infusions, each relief ended 40 days on.
	err := postgres.ExecForTest(c.ctx, c.db, fmt.Sprintf(`
		WITH inf AS (
			INSERT INTO infusions (patient_id, course_id, given_on, phase, dose_mg_per_kg_h, source)
			SELECT %d, (SELECT id FROM courses WHERE patient_id = %d),
			       CASE WHEN n < 6 THEN date '2022-01-03' + 2 * n ELSE date '2022-01-13' + 35 * (n - 5) END,
			       CASE WHEN n < 6 THEN 'loading' ELSE 'maintenance' END, 0.3, 'imported'
			FROM generate_series(0, 39) AS n
			RETURNING id, given_on)
		INSERT INTO relief_reports (infusion_id, status, on_date, source)
		SELECT id, 'ended', given_on + 40, 'desk' FROM inf`, patient, patient))
	if err == nil {
		err = postgres.ExecForTest(c.ctx, c.db, fmt.Sprintf(`UPDATE courses SET phase = 'maintenance' WHERE patient_id = %d`, patient))
	}
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for b.Loop() {
		v, err := c.db.PatientPlan(c.ctx, patient, now)
		if err != nil || !v.Plan.HasDue || len(v.History) != 40 {
			b.Fatalf("%+v %v", v.Plan, err)
		}
	}
}

// BenchmarkDueList reads the desk's "due within 14 days, not booked" list
// (first 200, by due date) and every list's count, over 100,000 patients in
// maintenance. Target: under 1 s.
func BenchmarkDueList(b *testing.B) {
	c := newTestClinic(b, 0)
	maintenancePatients(b, c, 100000)
	now := time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for b.Loop() {
		items, err := c.db.Work(c.ctx, postgres.ListDueSoon, "due", now, 200)
		if err != nil || len(items) != 200 {
			b.Fatalf("%d items, %v", len(items), err)
		}
		counts, err := c.db.Counts(c.ctx, now)
		if err != nil || counts.DueSoon == 0 || counts.Flagged == 0 {
			b.Fatalf("%+v %v", counts, err)
		}
	}
}

// rostered puts three nurses on shift 07:00–12:00 on every open day from
// 25 May to 15 July 2026 in the busy clinic.
func rostered(b *testing.B, c *testClinic) {
	sched, err := c.db.Schedule(c.ctx)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 3 {
		u, err := c.db.CreateUser(c.ctx, clinic.NewUser{Email: fmt.Sprintf("bench-nurse%d@example.org", i), Name: fmt.Sprintf("Nurse %d", i),
			Role: string(clinic.RoleNurse), Password: "a long enough password"}, "x")
		if err != nil {
			b.Fatal(err)
		}
		for d := clinic.D(2026, 5, 25); !d.After(clinic.D(2026, 7, 15)); d = d.AddDays(1) {
			if !sched.Open(d) {
				continue
			}
			if _, err := c.db.AddShift(c.ctx, clinic.Shift{NurseID: u.ID, Date: d, From: 7 * 60, To: 12 * 60}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkAvailabilityRostered is BenchmarkAvailability with a roster:
// every start needs a nurse too. Target: under 5 ms.
func BenchmarkAvailabilityRostered(b *testing.B) {
	c := busyClinic(b)
	rostered(b, c)
	from := clinic.D(2026, 6, 1)
	b.ResetTimer()
	for b.Loop() {
		_, days, err := c.db.Availability(c.ctx, from, from.AddDays(13), 90, c.now)
		if err != nil || len(days) != 14 {
			b.Fatalf("%v, %d days", err, len(days))
		}
	}
}

// BenchmarkProposeSeriesRostered is BenchmarkProposeSeries with a roster.
// Target: under 10 ms.
func BenchmarkProposeSeriesRostered(b *testing.B) {
	c := busyClinic(b)
	rostered(b, c)
	standard := c.protocol(b, "Standard IV loading", 6, 2, 3, 14, 60)
	p, err := c.db.CreatePatient(c.ctx, clinic.Patient{FirstName: "New", LastName: "Series", DateOfBirth: clinic.D(1970, 1, 1),
		Condition: clinic.ConditionCRPS}, clinic.D(2026, 3, 2))
	if err != nil {
		b.Fatal(err)
	}
	req := clinic.SeriesRequest{PatientID: p.ID, ProtocolID: standard, StartDate: clinic.D(2026, 6, 1), Preferred: 10 * 60}
	b.ResetTimer()
	for b.Loop() {
		p, err := c.db.ProposeSeries(c.ctx, req, c.now)
		if err != nil || !p.OK || len(p.Checks) != 6 || p.Checks[0].Nurse.NurseID == 0 {
			b.Fatalf("%+v %v", p, err)
		}
	}
}

// BenchmarkUtilisationYear reports a year of utilisation over 50,000
// appointments (24 chairs, eight 60-minute visits a chair every weekday of
// 2026; one in twenty a no-show, one in twenty cancelled late) with a
// roster on every day. Target: under 200 ms.
func BenchmarkUtilisationYear(b *testing.B) {
	c := newTestClinic(b, 192)
	for i := 4; i <= 24; i++ {
		if _, err := c.db.SaveChair(c.ctx, clinic.Chair{Name: fmt.Sprintf("Chair %d", i), Position: i, Active: true}); err != nil {
			b.Fatal(err)
		}
	}
	nurse, err := c.db.CreateUser(c.ctx, clinic.NewUser{Email: "bench-nurse@example.org", Name: "Nurse", Role: string(clinic.RoleNurse),
		Password: "a long enough password"}, "x")
	if err != nil {
		b.Fatal(err)
	}
	err = postgres.ExecForTest(c.ctx, c.db, fmt.Sprintf(`
		INSERT INTO nurse_shifts (nurse_id, on_date, starts_at, ends_at)
		SELECT %d, d::date, (d::date + time '07:00') AT TIME ZONE 'America/Chicago', (d::date + time '17:00') AT TIME ZONE 'America/Chicago'
		FROM generate_series(date '2026-01-01', date '2026-12-31', interval '1 day') AS d WHERE extract(isodow FROM d) <= 5;
		WITH days AS (
			SELECT d::date AS day FROM generate_series(date '2026-01-01', date '2026-12-31', interval '1 day') AS d
			WHERE extract(isodow FROM d) <= 5),
		chairs AS (SELECT id, row_number() OVER (ORDER BY position) - 1 AS k FROM chairs),
		patients AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM patients),
		slots AS (
			SELECT day, ch.id AS chair_id, p.id AS patient_id, s,
			       ((day + time '07:00' + s * interval '60 minutes') AT TIME ZONE 'America/Chicago') AS starts_at
			FROM days, chairs ch, generate_series(0, 7) AS s, patients p WHERE p.n = ch.k * 8 + s)
		INSERT INTO appointments (patient_id, chair_id, kind, status, starts_at, ends_at, cancelled_at)
		SELECT patient_id, chair_id, 'loading', CASE (extract(doy FROM day)::int + s) %% 20 WHEN 0 THEN 'no_show' WHEN 1 THEN 'cancelled' ELSE 'completed' END,
		       starts_at, starts_at + interval '60 minutes',
		       CASE WHEN (extract(doy FROM day)::int + s) %% 20 = 1 THEN starts_at - interval '2 hours' END
		FROM (SELECT * FROM slots ORDER BY day, chair_id, s LIMIT 50000) AS first50k`, nurse.ID))
	if err != nil {
		b.Fatal(err)
	}
	if err := postgres.ExecForTest(c.ctx, c.db, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	from, to := clinic.D(2026, 1, 1), clinic.D(2026, 12, 31)
	b.ResetTimer()
	for b.Loop() {
		u, err := c.db.Utilisation(c.ctx, from, to)
		if err != nil || u.Total.Booked == 0 || u.NoShowMinutes == 0 || u.Nurses.Days == 0 {
			b.Fatalf("%+v %v", u.Total, err)
		}
	}
}

// BenchmarkForecast lays out the 12-week forecast over 100,000 patients in
// maintenance (BenchmarkDueList's), none of them booked. Target: under
// 500 ms.
func BenchmarkForecast(b *testing.B) {
	c := newTestClinic(b, 0)
	maintenancePatients(b, c, 100000)
	now := time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for b.Loop() {
		f, err := c.db.Forecast(c.ctx, 12, now)
		if err != nil || len(f.Weeks) != 12 || f.Weeks[0].ProblemDays == 0 {
			b.Fatalf("%d weeks, %v", len(f.Weeks), err)
		}
	}
}

// maintenancePatients adds n patients in maintenance with their plans: due
// from 1 May 2026 over 120 days, one in ten flagged, one in three with
// the last infusion's relief not reported.
func maintenancePatients(b *testing.B, c *testClinic, n int) {
	standard := c.protocol(b, "Standard IV loading", 6, 2, 3, 14, 60)
	err := postgres.ExecForTest(c.ctx, c.db, fmt.Sprintf(`
		WITH p AS (
			INSERT INTO patients (first_name, last_name, date_of_birth, condition)
			SELECT 'Pat', 'Number' || n, date '1950-01-01' + n %% 20000, 'other' FROM generate_series(1, %d) AS n
			RETURNING id),
		c AS (
			INSERT INTO courses (patient_id, protocol_id, phase, started_on, sessions, min_gap_days, max_gap_days, max_span_days,
				infusion_minutes, recovery_minutes, dose_min_mg_per_kg_h, dose_max_mg_per_kg_h, first_interval_days,
				min_interval_days, max_interval_days, lead_days, step_days, maintenance_infusion_minutes, maintenance_recovery_minutes)
			SELECT id, %d, 'maintenance', date '2025-01-01', 6, 2, 3, 14, 60, 30, 0.1, 0.5, 28, 28, 84, 7, 7, 60, 30 FROM p
			RETURNING id, patient_id)
		INSERT INTO course_plans (course_id, patient_id, due_date, interval_days, last_infusion_on, last_reported, rationale, flags)
		SELECT id, patient_id, date '2026-05-01' + (patient_id %% 120)::int, 35, date '2026-04-01' + (patient_id %% 90)::int,
		       patient_id %% 3 <> 0, 'bench', CASE WHEN patient_id %% 10 = 0 THEN '[{"code":"DOSE_ESCALATING","message":"x"}]'::jsonb ELSE '[]'::jsonb END
		FROM c`, n, standard))
	if err != nil {
		b.Fatal(err)
	}
	if err := postgres.ExecForTest(c.ctx, c.db, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
}
