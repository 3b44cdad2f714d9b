package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/demo"
	"github.com/jackc/pgx/v5"
)

// DemoSummary counts what LoadDemo stored.
type DemoSummary struct {
	AlreadyLoaded bool
	Patients      int
	Appointments  int
	Infusions     int
	Reliefs       int
}

// LoadDemo stores the demo clinic in one transaction. It is idempotent: when
// the demo is already there it changes nothing. It refuses a database that
// holds anything else, so that demo accounts with a published password can
// never be added to a real clinic. passwordHash is used for every account.
func (db *DB) LoadDemo(ctx context.Context, c *demo.Clinic, passwordHash string) (DemoSummary, error) {
	var sum DemoSummary
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('infusiondesk-demo'))`); err != nil {
			return err
		}
		var demoUsers, users, patients int
		err := tx.QueryRow(ctx, `
			SELECT (SELECT count(*) FROM users WHERE email = $1), (SELECT count(*) FROM users), (SELECT count(*) FROM patients)`,
			c.Accounts[0].Email).Scan(&demoUsers, &users, &patients)
		if err != nil {
			return err
		}
		if demoUsers > 0 {
			sum.AlreadyLoaded = true
			return nil
		}
		if users > 0 || patients > 0 {
			return clinic.Errorf(clinic.ECONFLICT,
				"this database already holds a clinic (%d users, %d patients); the demo loads only into an empty database", users, patients)
		}
		return loadDemo(ctx, tx, c, passwordHash, &sum)
	})
	return sum, err
}

func loadDemo(ctx context.Context, tx pgx.Tx, c *demo.Clinic, passwordHash string, sum *DemoSummary) error {
	if _, err := tx.Exec(ctx, `UPDATE clinic SET name = $1, timezone = $2, slot_minutes = $3, phone = $4, address = $5,
		updated_at = now(), version = version + 1`,
		c.Settings.Name, c.Settings.TimeZone, c.Settings.SlotMinutes, c.Settings.Phone, c.Settings.Address); err != nil {
		return err
	}
	if err := replaceHours(ctx, tx, c.Settings.Hours); err != nil {
		return err
	}
	for d, reason := range c.Closures {
		if _, err := tx.Exec(ctx, `INSERT INTO closures (on_date, reason) VALUES ($1, $2)`, d, reason); err != nil {
			return err
		}
	}
	chairIDs := make([]int64, len(c.Chairs))
	for i, name := range c.Chairs {
		if err := tx.QueryRow(ctx, `INSERT INTO chairs (name, position) VALUES ($1, $2) RETURNING id`, name, i+1).Scan(&chairIDs[i]); err != nil {
			return err
		}
	}
	protocolIDs := make([]int64, len(c.Protocols))
	for i, p := range c.Protocols {
		id, err := insertProtocol(ctx, tx, p)
		if err != nil {
			return err
		}
		protocolIDs[i] = id
	}

	patientIDs := make([]int64, len(c.Patients))
	for i, dp := range c.Patients {
		p, err := insertPatient(ctx, tx, dp.Patient)
		if err != nil {
			return fmt.Errorf("demo patient %d: %w", i, err)
		}
		patientIDs[i] = p.ID
		if err := loadHistory(ctx, tx, dp, p.ID, chairIDs, protocolIDs, sum); err != nil {
			return fmt.Errorf("demo patient %d: %w", i, err)
		}
		sum.Patients++
	}

	for _, a := range c.Accounts {
		var patientID *int64
		if a.Patient >= 0 {
			patientID = &patientIDs[a.Patient]
		}
		n := clinic.NewUser{Email: a.Email, Name: a.Name, Role: string(a.Role), Password: demo.Password, PatientID: patientID}
		if err := n.Validate(); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO users (email, name, role, password_hash, patient_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			n.Email, n.Name, n.Role, passwordHash, patientID).Scan(&id); err != nil {
			return err
		}
		if err := audit(ctx, tx, clinic.AuditEntry{Action: "user.create", Entity: "user", EntityID: &id, PatientID: patientID,
			After: map[string]any{"email": n.Email, "name": n.Name, "role": n.Role}}); err != nil {
			return err
		}
	}
	// Every course's plan, as the work lists read it.
	sched, err := schedule(ctx, tx)
	if err != nil {
		return err
	}
	if _, err := refreshMissingPlans(ctx, tx, time.Now(), sched.Loc); err != nil {
		return err
	}
	return audit(ctx, tx, clinic.AuditEntry{Action: "demo.load", Entity: "clinic", After: sum})
}

// loadHistory stores one patient's course, series, visits, infusions and
// relief reports.
func loadHistory(ctx context.Context, tx pgx.Tx, dp demo.Patient, patientID int64, chairIDs, protocolIDs []int64, sum *DemoSummary) error {
	var courseID, seriesID *int64
	if dp.Course != nil {
		id, err := insertCourse(ctx, tx, patientID, protocolIDs[dp.Course.Protocol], dp.Course.Phase,
			dp.Course.StartedOn, dp.Course.EndedOn, dp.Course.FixedIntervalDays)
		if err != nil {
			return err
		}
		courseID = &id
		for _, v := range dp.Visits {
			if v.SessionNo > 0 {
				var sid int64
				if err := tx.QueryRow(ctx, `INSERT INTO loading_series (course_id, patient_id, protocol_id) VALUES ($1, $2, $3) RETURNING id`,
					id, patientID, protocolIDs[dp.Course.Protocol]).Scan(&sid); err != nil {
					return err
				}
				seriesID = &sid
				break
			}
		}
	}
	storeInfusion := func(inf *demo.Infusion, appointmentID *int64, source string) error {
		infID, err := insertInfusion(ctx, tx, clinic.Infusion{PatientID: patientID, CourseID: *courseID, AppointmentID: appointmentID,
			GivenOn: inf.GivenOn, StartedAt: inf.StartedAt, Phase: inf.Phase, DoseMgPerKgH: inf.DoseMgPerKgH,
			WeightKg: dp.WeightKg, Minutes: &inf.Minutes}, source)
		if err != nil {
			return err
		}
		sum.Infusions++
		for _, r := range inf.Reliefs {
			if _, err := insertRelief(ctx, tx, clinic.ReliefReport{InfusionID: infID, Status: r.Status, OnDate: r.OnDate, Source: r.Source}); err != nil {
				return err
			}
			sum.Reliefs++
		}
		return nil
	}
	for _, inf := range dp.Imported {
		if err := storeInfusion(inf, nil, "imported"); err != nil {
			return err
		}
	}
	for _, v := range dp.Visits {
		a := clinic.Appointment{PatientID: patientID, ChairID: chairIDs[v.Chair], Kind: v.Kind, Status: v.Status,
			Start: v.Start, End: v.End}
		if v.Kind != clinic.KindConsult {
			a.CourseID = courseID
		}
		if v.SessionNo > 0 {
			n := v.SessionNo
			a.SeriesID, a.SessionNo = seriesID, &n
		}
		id, err := insertAppointment(ctx, tx, a, v.CancelReason, nil)
		if err != nil {
			return err
		}
		sum.Appointments++
		if v.Infusion != nil {
			if err := storeInfusion(v.Infusion, &id, "recorded"); err != nil {
				return err
			}
		}
	}
	return nil
}
