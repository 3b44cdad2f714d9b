package postgres

import (
	"cmp"
	"context"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/jackc/pgx/v5"
)

// Seeder writes a prepared clinic (the demo) into an empty database in one
// transaction: records with their history, which the booking rules would
// refuse today (visits in the past, infusions already given). It serves
// loaders run from the command line, never a request.
type Seeder struct {
	ctx context.Context
	tx  pgx.Tx
	loc *time.Location // the clinic's zone, read once after Clinic
}

// Seed runs load in one transaction on an empty database. It is
// idempotent: when a user with marker's e-mail already exists, nothing
// changes and loaded is false. It refuses a database that holds anything
// else, so that accounts with a published password can never be added to
// a real clinic. After load, every course's plan is computed.
func (db *DB) Seed(ctx context.Context, marker string, load func(*Seeder) error) (loaded bool, err error) {
	defer db.settingsChanged()
	err = db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		loaded = false
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('infusiondesk-demo'))`); err != nil {
			return err
		}
		var marked, users, patients int
		if err := tx.QueryRow(ctx, `
			SELECT (SELECT count(*) FROM users WHERE email = $1), (SELECT count(*) FROM users), (SELECT count(*) FROM patients)`,
			marker).Scan(&marked, &users, &patients); err != nil {
			return err
		}
		if marked > 0 {
			return nil
		}
		if users > 0 || patients > 0 {
			return clinic.Errorf(clinic.ECONFLICT,
				"this database already holds a clinic (%d users, %d patients); the demo loads only into an empty database", users, patients)
		}
		if err := load(&Seeder{ctx: ctx, tx: tx}); err != nil {
			return err
		}
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		loaded = true
		_, err = refreshMissingPlans(ctx, tx, time.Now(), sched)
		return err
	})
	return loaded, err
}

// Clinic sets the clinic's name, zone, grid, contact details and hours.
func (s *Seeder) Clinic(c clinic.Settings) error {
	n := cmp.Or(c.Nursing, clinic.DefaultNursing)
	if _, err := s.tx.Exec(s.ctx, `UPDATE clinic SET name = $1, timezone = $2, slot_minutes = $3, phone = $4, address = $5,
		patients_per_nurse = $6, start_spacing_minutes = $7, updated_at = now(), version = version + 1`,
		c.Name, c.TimeZone, c.SlotMinutes, c.Phone, c.Address, n.PatientsPerNurse, n.StartSpacingMinutes); err != nil {
		return err
	}
	s.loc = nil // the zone may have changed
	return replaceHours(s.ctx, s.tx, c.Hours)
}

// Closure closes the clinic on d.
func (s *Seeder) Closure(d clinic.Date, reason string) error {
	_, err := s.tx.Exec(s.ctx, `INSERT INTO closures (on_date, reason) VALUES ($1, $2)`, d, reason)
	return err
}

// Chair adds a chair at position.
func (s *Seeder) Chair(name string, position int) (int64, error) {
	var id int64
	err := s.tx.QueryRow(s.ctx, `INSERT INTO chairs (name, position) VALUES ($1, $2) RETURNING id`, name, position).Scan(&id)
	return id, err
}

// Protocol adds a protocol.
func (s *Seeder) Protocol(p clinic.Protocol) (int64, error) { return insertProtocol(s.ctx, s.tx, p) }

// Patient adds a patient.
func (s *Seeder) Patient(p clinic.Patient) (clinic.Patient, error) {
	return insertPatient(s.ctx, s.tx, p)
}

// Course opens a course under a protocol, copying its numbers.
func (s *Seeder) Course(patientID, protocolID int64, phase clinic.Phase, startedOn, endedOn clinic.Date, fixedInterval *int) (int64, error) {
	return insertCourse(s.ctx, s.tx, patientID, protocolID, phase, startedOn, endedOn, fixedInterval)
}

// Series adds a loading series to a course.
func (s *Seeder) Series(courseID, patientID, protocolID int64) (int64, error) {
	var id int64
	err := s.tx.QueryRow(s.ctx, `INSERT INTO loading_series (course_id, patient_id, protocol_id) VALUES ($1, $2, $3) RETURNING id`,
		courseID, patientID, protocolID).Scan(&id)
	return id, err
}

// Appointment adds an appointment as it stands, in any status.
func (s *Seeder) Appointment(a clinic.Appointment, cancelReason string) (int64, error) {
	return insertAppointment(s.ctx, s.tx, a, cancelReason, nil)
}

// Infusion adds an infusion given (source: recorded or imported).
func (s *Seeder) Infusion(inf clinic.Infusion, source string) (int64, error) {
	return insertInfusion(s.ctx, s.tx, inf, source)
}

// Relief adds a relief report.
func (s *Seeder) Relief(r clinic.ReliefReport) (int64, error) { return insertRelief(s.ctx, s.tx, r) }

// User adds a sign-in with a password hash, audited.
func (s *Seeder) User(n clinic.NewUser, passwordHash string) (int64, error) {
	if err := n.Validate(); err != nil {
		return 0, err
	}
	var id int64
	if err := s.tx.QueryRow(s.ctx, `INSERT INTO users (email, name, role, password_hash, patient_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		n.Email, n.Name, n.Role, passwordHash, n.PatientID).Scan(&id); err != nil {
		return 0, err
	}
	return id, audit(s.ctx, s.tx, clinic.AuditEntry{Action: "user.create", Entity: "user", EntityID: &id, PatientID: n.PatientID,
		After: map[string]any{"email": n.Email, "name": n.Name, "role": n.Role}})
}

// Shift puts a nurse on duty on a date, from–to clinic-local time.
func (s *Seeder) Shift(nurseID int64, d clinic.Date, from, to clinic.Clock) error {
	if s.loc == nil {
		sched, err := schedule(s.ctx, s.tx)
		if err != nil {
			return err
		}
		s.loc = sched.Loc
	}
	_, err := s.tx.Exec(s.ctx, `INSERT INTO nurse_shifts (nurse_id, on_date, starts_at, ends_at) VALUES ($1, $2, $3, $4)`,
		nurseID, d, d.At(from, s.loc), d.At(to, s.loc))
	return err
}

// Audit records an entry in the audit log.
func (s *Seeder) Audit(e clinic.AuditEntry) error { return audit(s.ctx, s.tx, e) }

// Journal stores one symptom journal entry of a patient.
func (s *Seeder) Journal(patientID int64, e clinic.JournalEntry) error {
	_, err := insertJournal(s.ctx, s.tx, patientID, e)
	return err
}

// ConsentForm stores a version of the consent form.
func (s *Seeder) ConsentForm(f clinic.ConsentForm) (clinic.ConsentForm, error) {
	err := s.tx.QueryRow(s.ctx, `INSERT INTO consent_forms (version, title, body, body_es) VALUES (1, $1, $2, $3) RETURNING id, version`,
		f.Title, f.Body, f.BodyES).Scan(&f.ID, &f.Version)
	return f, err
}

// Signature stores a patient's signature of form, in the portal in their
// language, at signedAt.
func (s *Seeder) Signature(patientID int64, f clinic.ConsentForm, lang i18n.Lang, name string, signedAt time.Time) error {
	_, lang = f.Text(lang)
	_, err := s.tx.Exec(s.ctx, `INSERT INTO consent_signatures (patient_id, form_id, version, lang, text_sha256, signed_name, signed_at, via)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'portal')`, patientID, f.ID, f.Version, lang, f.TextHash(lang), name, signedAt)
	return err
}

// Wish puts a patient on the waitlist.
func (s *Seeder) Wish(patientID int64, w clinic.Wish) error {
	_, err := s.tx.Exec(s.ctx, `INSERT INTO waitlist (patient_id, before, part_of_day) VALUES ($1, $2, $3)`, patientID, w.Before, w.Part)
	return err
}

// CancelledVisit stores a visit booked and then cancelled (before it
// happened): its chair is a freed slot, as when the desk cancels one.
func (s *Seeder) CancelledVisit(a clinic.Appointment, reason string) error {
	id, err := insertAppointment(s.ctx, s.tx, a, "", nil)
	if err != nil {
		return err
	}
	_, err = s.tx.Exec(s.ctx, `UPDATE appointments SET status = 'cancelled', cancelled_at = now(), cancel_reason = $2 WHERE id = $1`, id, reason)
	return err
}

// OpenCourse is the id of the patient's open course; nil for none.
func (s *Seeder) OpenCourse(patientID int64) (*int64, error) {
	c, err := courseOfPatient(s.ctx, s.tx, patientID)
	if err != nil || c == nil {
		return nil, err
	}
	return &c.ID, nil
}
