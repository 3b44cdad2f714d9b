package postgres

import (
	"context"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// insertAppointment stores an appointment as given (status included) and
// returns its id. The exclusion constraints refuse any overlap.
func insertAppointment(ctx context.Context, tx pgx.Tx, a clinic.Appointment, cancelReason string) (int64, error) {
	var id int64
	actor := clinic.ActorFrom(ctx).UserID()
	var reason *string
	var cancelledBy *int64
	var cancelledAt, checkedInAt, completedAt *time.Time
	switch a.Status {
	case clinic.StatusCancelled:
		reason, cancelledAt, cancelledBy = &cancelReason, &a.Start, actor
	case clinic.StatusCheckedIn:
		checkedInAt = &a.Start
	case clinic.StatusCompleted:
		checkedInAt, completedAt = &a.Start, &a.End
	}
	err := tx.QueryRow(ctx, `
		INSERT INTO appointments (patient_id, chair_id, kind, status, starts_at, ends_at, course_id, series_id,
			session_no, checked_in_at, completed_at, cancelled_at, cancelled_by, cancel_reason, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		RETURNING id`,
		a.PatientID, a.ChairID, a.Kind, a.Status, a.Start, a.End, a.CourseID, a.SeriesID,
		a.SessionNo, checkedInAt, completedAt, cancelledAt, cancelledBy, reason, actor).Scan(&id)
	return id, err
}

// Visits returns the appointments starting in [from, to), every status, in
// start then chair order. It reads patient names, so it is audited.
func (db *DB) Visits(ctx context.Context, from, to time.Time) ([]clinic.Visit, error) {
	var out []clinic.Visit
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, visitSelect+`
			WHERE a.starts_at >= $1 AND a.starts_at < $2
			ORDER BY a.starts_at, c.position, a.id`, from, to)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, scanVisit)
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "appointment.list", Entity: "appointment",
			After: map[string]any{"from": from.UTC(), "to": to.UTC(), "count": len(out)}})
	})
	return out, err
}

// PatientVisits returns one patient's appointments starting at or after
// from, every status, in start order. Audited as a read of that patient.
func (db *DB) PatientVisits(ctx context.Context, patientID int64, from time.Time) ([]clinic.Visit, error) {
	var out []clinic.Visit
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, visitSelect+`
			WHERE a.patient_id = $1 AND a.starts_at >= $2
			ORDER BY a.starts_at, a.id`, patientID, from)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, scanVisit)
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "appointment.list", Entity: "appointment", PatientID: &patientID})
	})
	return out, err
}

const visitSelect = `
	SELECT a.id, a.patient_id, a.chair_id, a.kind, a.status, a.starts_at, a.ends_at, a.course_id,
	       a.series_id, a.session_no, a.version, p.first_name || ' ' || p.last_name, c.name, p.mrn
	FROM appointments a JOIN patients p ON p.id = a.patient_id JOIN chairs c ON c.id = a.chair_id`

func scanVisit(r pgx.CollectableRow) (clinic.Visit, error) {
	var v clinic.Visit
	err := r.Scan(&v.ID, &v.PatientID, &v.ChairID, &v.Kind, &v.Status, &v.Start, &v.End, &v.CourseID,
		&v.SeriesID, &v.SessionNo, &v.Version, &v.PatientName, &v.ChairName, &v.MRN)
	return v, err
}
