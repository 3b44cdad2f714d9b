package postgres

import (
	"context"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// insertCourse opens a treatment course for a patient, copying the
// protocol's numbers onto it as they stand now.
func insertCourse(ctx context.Context, tx pgx.Tx, patientID, protocolID int64, phase clinic.Phase, startedOn, endedOn clinic.Date, fixedInterval *int) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO courses (patient_id, protocol_id, phase, started_on, ended_on, fixed_interval_days,
			sessions, min_gap_days, max_gap_days, max_span_days, infusion_minutes, recovery_minutes,
			dose_min_mg_per_kg_h, dose_max_mg_per_kg_h, first_interval_days, min_interval_days, max_interval_days,
			lead_days, step_days, maintenance_infusion_minutes, maintenance_recovery_minutes)
		SELECT $1, p.id, $3, $4, $5, $6,
			p.sessions, p.min_gap_days, p.max_gap_days, p.max_span_days, p.infusion_minutes, p.recovery_minutes,
			p.dose_min_mg_per_kg_h, p.dose_max_mg_per_kg_h, p.first_interval_days, p.min_interval_days, p.max_interval_days,
			p.lead_days, p.step_days, p.maintenance_infusion_minutes, p.maintenance_recovery_minutes
		FROM protocols p WHERE p.id = $2
		RETURNING id`, patientID, protocolID, phase, startedOn, endedOn, fixedInterval).Scan(&id)
	if isNoRows(err) {
		return 0, clinic.Invalid(map[string]string{"protocol_id": "There is no such protocol."})
	}
	return id, err
}

// OpenCourses lists every course not ended, by patient name. It reads
// patient data, so it is audited.
func (db *DB) OpenCourses(ctx context.Context) ([]clinic.CourseSummary, error) {
	var out []clinic.CourseSummary
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT p.id, p.first_name || ' ' || p.last_name, p.mrn, p.condition, c.phase, pr.name, c.started_on,
			       (SELECT count(*) FROM infusions i WHERE i.course_id = c.id),
			       (SELECT max(i.given_on) FROM infusions i WHERE i.course_id = c.id),
			       (SELECT min(a.starts_at) FROM appointments a
			        WHERE a.patient_id = p.id AND a.status = 'booked' AND a.starts_at > now())
			FROM courses c JOIN patients p ON p.id = c.patient_id JOIN protocols pr ON pr.id = c.protocol_id
			WHERE c.phase <> 'ended'
			ORDER BY lower(p.last_name), lower(p.first_name), p.id`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.CourseSummary, error) {
			var s clinic.CourseSummary
			err := r.Scan(&s.PatientID, &s.PatientName, &s.MRN, &s.Condition, &s.Phase, &s.Protocol, &s.StartedOn,
				&s.Infusions, &s.LastInfusion, &s.NextVisit)
			return s, err
		})
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "course.list", Entity: "course",
			After: map[string]int{"count": len(out)}})
	})
	return out, err
}
