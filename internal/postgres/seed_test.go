package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/internal/postgres/pgtest"
)

func TestLoadDemoIsIdempotentAndGuarded(t *testing.T) {
	db, url := pgtest.Open(t)
	ctx := context.Background()
	c, err := demo.Generate(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sum, err := demo.Load(ctx, db, c, "$argon2id$placeholder")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %+v in %v", sum, time.Since(start))
	if sum.AlreadyLoaded || sum.Patients != 40 || sum.Appointments < 200 || sum.Infusions < 150 || sum.Reliefs < 100 {
		t.Fatalf("summary %+v", sum)
	}
	again, err := demo.Load(ctx, db, c, "x")
	if err != nil || !again.AlreadyLoaded {
		t.Fatalf("second load: %+v %v; want already loaded", again, err)
	}
	su := superuser(t, url)
	var patients, users, appts int
	su.QueryRow(ctx, `SELECT (SELECT count(*) FROM patients), (SELECT count(*) FROM users), (SELECT count(*) FROM appointments)`).Scan(&patients, &users, &appts)
	if patients != 40 || users != len(c.Accounts) || appts != sum.Appointments {
		t.Fatalf("after two loads: %d patients, %d users, %d appointments", patients, users, appts)
	}
	// The demo's roster holds: every infusion on a rostered date has a
	// nurse, within three patients at a time and 15-minute spacing.
	var shifts, unwatched, over, close int
	if err := su.QueryRow(ctx, `
		WITH w AS (SELECT id, nurse_id, starts_at, ends_at FROM appointments
		           WHERE nurse_id IS NOT NULL AND status IN ('booked', 'checked_in', 'completed'))
		SELECT (SELECT count(*) FROM nurse_shifts),
		       (SELECT count(*) FROM appointments a WHERE a.nurse_id IS NULL AND a.kind <> 'consult'
		            AND a.status IN ('booked', 'checked_in', 'completed')
		            AND EXISTS (SELECT 1 FROM nurse_shifts s WHERE s.on_date = a.local_date)),
		       (SELECT count(*) FROM w a WHERE (SELECT count(*) FROM w b WHERE b.nurse_id = a.nurse_id
		            AND b.starts_at <= a.starts_at AND b.ends_at > a.starts_at) > 3),
		       (SELECT count(*) FROM w a JOIN w b ON a.nurse_id = b.nurse_id AND a.id < b.id
		            AND abs(extract(epoch FROM a.starts_at - b.starts_at)) < 900)`).Scan(&shifts, &unwatched, &over, &close); err != nil {
		t.Fatal(err)
	}
	if shifts == 0 || unwatched != 0 || over != 0 || close != 0 {
		t.Fatalf("demo roster: %d shifts, %d infusions without a nurse, %d over the limit, %d starts too close", shifts, unwatched, over, close)
	}
	// Everything written is audited, sealed and verifies.
	if err := db.NewSealer("", nil).Flush(ctx); err != nil {
		t.Fatal(err)
	}
	check, err := db.VerifyAuditLog(ctx, postgres.AuditVerify{})
	if err != nil || !check.OK || check.Rows < 46 || check.Pending != 0 {
		t.Fatalf("audit after demo: %+v %v", check, err)
	}
	sched, err := db.Schedule(ctx)
	s := sched.Settings
	if err != nil || s.TimeZone != "America/Phoenix" || len(s.Hours[time.Friday]) != 1 || len(sched.Closures) == 0 {
		t.Fatalf("settings %+v closures %d err %v", s, len(sched.Closures), err)
	}
	if s.Hours[time.Friday][0].Closes.String() != "12:00" {
		t.Fatalf("Friday closes %s", s.Hours[time.Friday][0].Closes)
	}

	// No demo patient is offered a second booking: whoever has a next
	// infusion booked has no suggested slot, and nobody has two.
	rows, err := su.Query(ctx, `SELECT id FROM patients ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	var withNext int
	for _, id := range ids {
		v, err := db.PatientPlan(ctx, id, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if v.Plan.Next != nil {
			withNext++
			if v.Slot != nil || v.Plan.HasFlag(clinic.FlagDueNotBooked) {
				t.Errorf("patient %d has a next infusion booked and is offered %v (flags %v)", id, v.Slot, v.Plan.Flags)
			}
		}
	}
	var twice int
	su.QueryRow(ctx, `SELECT count(*) FROM (SELECT patient_id FROM appointments WHERE kind = 'maintenance' AND status = 'booked'
		GROUP BY patient_id HAVING count(*) > 1) x`).Scan(&twice)
	if withNext < 10 || twice != 0 {
		t.Fatalf("%d demo patients with a next infusion booked, %d with two", withNext, twice)
	}

	// A database that holds a real clinic is never given demo accounts.
	db2, _ := pgtest.Open(t)
	newUser(t, db2, "real@clinic.example", clinic.RoleAdmin)
	if _, err := demo.Load(ctx, db2, c, "x"); clinic.ErrorCode(err) != clinic.ECONFLICT {
		t.Fatalf("demo into a real clinic: %v; want conflict", err)
	}
}
