package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// VisitLink is what a visit link's page shows, without signing in:
// the clinic, the visit's kind, date, time and place. Nothing clinical.
type VisitLink struct {
	AppointmentID int64
	Kind          clinic.AppointmentKind
	Status        clinic.Status
	Start, End    time.Time
	ConfirmedAt   *time.Time
	// CancelAsked is true when the patient has asked the desk to cancel
	// (a loading session, whose series the desk re-flows).
	CancelAsked bool
	Clinic      clinic.Settings
	Loc         *time.Location
	Lang        i18n.Lang // the patient's language, for the page
}

// CancelByLinkReason is the reason a visit cancelled by its link is given.
const CancelByLinkReason = "patient, by link"

var errLinkInvalid = clinic.Errorf(clinic.ENOTFOUND,
	"This link is no longer valid: the visit is over, or the address is incomplete. Please call the clinic.")

// visitLink finds the visit behind a link's token hash; a link works until
// its visit ends.
func (db *DB) visitLink(ctx context.Context, tx pgx.Tx, hash []byte, now time.Time, lock bool) (VisitLink, int64, error) {
	var v VisitLink
	var patientID int64
	q := `
		SELECT a.id, a.patient_id, a.kind, a.status, a.starts_at, a.ends_at, a.confirmed_at,
		       EXISTS (SELECT 1 FROM requests r WHERE r.appointment_id = a.id AND r.kind = 'cancel' AND r.answered_at IS NULL),
		       (SELECT p.language FROM patients p WHERE p.id = a.patient_id)
		FROM visit_links l JOIN appointments a ON a.id = l.appointment_id
		WHERE l.token_hash = $1`
	if lock {
		q += ` FOR UPDATE OF a`
	}
	err := tx.QueryRow(ctx, q, hash).Scan(&v.AppointmentID, &patientID, &v.Kind, &v.Status, &v.Start, &v.End, &v.ConfirmedAt, &v.CancelAsked, &v.Lang)
	if isNoRows(err) || (err == nil && !now.Before(v.End)) {
		return v, 0, errLinkInvalid
	}
	if err != nil {
		return v, 0, err
	}
	sched, err := db.schedule(ctx, tx)
	if err != nil {
		return v, 0, err
	}
	v.Clinic, v.Loc = sched.Settings, sched.Loc
	return v, patientID, nil
}

// OpenVisitLink returns the visit behind a link. Audited as a read.
func (db *DB) OpenVisitLink(ctx context.Context, hash []byte, now time.Time) (VisitLink, error) {
	var v VisitLink
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var patientID int64
		var err error
		if v, patientID, err = db.visitLink(ctx, tx, hash, now, false); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "visit_link.open", Entity: "appointment", EntityID: &v.AppointmentID, PatientID: &patientID})
	})
	return v, err
}

// ConfirmByLink records that the patient will come.
func (db *DB) ConfirmByLink(ctx context.Context, hash []byte, now time.Time) (VisitLink, error) {
	var v VisitLink
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var patientID int64
		var err error
		if v, patientID, err = db.visitLink(ctx, tx, hash, now, true); err != nil {
			return err
		}
		return confirmVisit(ctx, tx, &v.ConfirmedAt, v.AppointmentID, patientID, v.Status, "visit_link", now)
	})
	return v, err
}

// confirmVisit sets a booked visit's confirmed_at (once) and audits how.
func confirmVisit(ctx context.Context, tx pgx.Tx, confirmedAt **time.Time, id, patientID int64, status clinic.Status, how string, now time.Time) error {
	if status != clinic.StatusBooked {
		return clinic.Errorf(clinic.ECONFLICT, "This visit is %s; there is nothing to confirm. Please call the clinic if that is wrong.", strings.ToLower(status.Label()))
	}
	if *confirmedAt != nil {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE appointments SET confirmed_at = $2 WHERE id = $1`, id, now); err != nil {
		return err
	}
	*confirmedAt = &now
	return audit(ctx, tx, clinic.AuditEntry{Action: "appointment.confirm", Entity: "appointment", EntityID: &id, PatientID: &patientID,
		After: map[string]any{"confirmed_at": now.UTC(), "by": how}})
}

// CancelByLink is the patient saying "I can't come". A maintenance visit
// or a consultation is cancelled and its chair freed; a loading session
// becomes a request to the desk instead, since moving it re-flows the
// series.
func (db *DB) CancelByLink(ctx context.Context, hash []byte, now time.Time) (VisitLink, error) {
	var v VisitLink
	var patientID int64
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if v, patientID, err = db.visitLink(ctx, tx, hash, now, true); err != nil {
			return err
		}
		if v.Status != clinic.StatusBooked {
			return clinic.Errorf(clinic.ECONFLICT, "This visit is %s already; nothing was changed.", strings.ToLower(v.Status.Label()))
		}
		if v.Kind != clinic.KindLoading || v.CancelAsked {
			return nil
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO requests (patient_id, appointment_id, kind, message) VALUES ($1, $2, 'cancel', $3) RETURNING id`,
			patientID, v.AppointmentID, "I can't come to this session (sent from the link in a message). Please move it.").Scan(&id); err != nil {
			return err
		}
		v.CancelAsked = true
		return audit(ctx, tx, clinic.AuditEntry{Action: "request.create", Entity: "request", EntityID: &id, PatientID: &patientID,
			After: map[string]any{"by": "visit_link"}})
	})
	if err != nil || v.Kind == clinic.KindLoading {
		return v, err
	}
	a, err := db.Cancel(ctx, v.AppointmentID, 0, CancelByLinkReason, now)
	v.Status = a.Status
	return v, err
}

// phoneMatch finds patients by a number as a gateway writes it (E.164),
// whether the number on file is stored so or as typed before it was.
const phoneMatch = `(phone = $1 OR regexp_replace(phone, '\D', '', 'g') IN (ltrim($1, '+'), ltrim($1, '+1')))`

// SetTexting stores a patient's STOP (on false) or START (on true) sent
// from phone, for every patient with that number; it returns how many.
func (db *DB) SetTexting(ctx context.Context, phone string, on bool, now time.Time) (int, error) {
	var n int
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var at *time.Time
		if !on {
			at = &now
		}
		rows, err := tx.Query(ctx, `UPDATE patients SET sms_opted_out_at = $2 WHERE `+phoneMatch+` RETURNING id`, phone, at)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		n = len(ids)
		for _, id := range ids {
			if err := audit(ctx, tx, clinic.AuditEntry{Action: "patient.texting", Entity: "patient", EntityID: &id, PatientID: &id,
				After: map[string]any{"texts": on}}); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// ConfirmNextByText confirms the next booked visit of the patient with
// that number (C or CONFIRM texted back); false when there is none.
func (db *DB) ConfirmNextByText(ctx context.Context, phone string, now time.Time) (bool, error) {
	found := false
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var id, patientID int64
		var confirmed *time.Time
		err := tx.QueryRow(ctx, `
			SELECT a.id, a.patient_id, a.confirmed_at FROM appointments a
			WHERE a.status = 'booked' AND a.starts_at > $2
			  AND a.patient_id IN (SELECT id FROM patients WHERE `+phoneMatch+`)
			ORDER BY a.starts_at LIMIT 1 FOR UPDATE`, phone, now).Scan(&id, &patientID, &confirmed)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return confirmVisit(ctx, tx, &confirmed, id, patientID, clinic.StatusBooked, "text", now)
	})
	return found, err
}
