package postgres

import (
	"context"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// A course is one patient's treatment under a protocol, with its own copy
// of the protocol's numbers. Everything that reads or writes a course row
// is in this file; a course's numbers are read one way, by scanCourse.

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

// courseOfPatient returns the patient's open course (nil when none), whose
// numbers set how long an infusion holds its chair; ENOTFOUND for a
// patient there is not (one named in a URL).
func courseOfPatient(ctx context.Context, q querier, patientID int64) (*clinic.Course, error) {
	c, err := scanCourse(q.QueryRow(ctx, `SELECT `+courseColumns+` FROM courses WHERE patient_id = $1 AND phase <> 'ended'`, patientID))
	if err == nil {
		return &c, nil // a course means a patient: one round trip
	}
	if !isNoRows(err) {
		return nil, err
	}
	return nil, patientExists(ctx, q, patientID)
}

// patientCourse is courseOfPatient for a patient named in a request's
// body: an unknown patient is invalid input on patient_id.
func patientCourse(ctx context.Context, q querier, patientID int64) (*clinic.Course, error) {
	c, err := courseOfPatient(ctx, q, patientID)
	if clinic.ErrorCode(err) == clinic.ENOTFOUND {
		err = clinic.Invalid(map[string]string{"patient_id": "There is no such patient."})
	}
	return c, err
}

const courseColumns = `id, patient_id, protocol_id, phase, started_on, version, sessions, min_gap_days, max_gap_days,
	max_span_days, infusion_minutes, recovery_minutes, maintenance_infusion_minutes, maintenance_recovery_minutes,
	dose_min_mg_per_kg_h::float8, dose_max_mg_per_kg_h::float8, first_interval_days, min_interval_days,
	max_interval_days, lead_days, step_days, fixed_interval_days, self_booking_days_before, self_booking_days_after`

func scanCourse(r pgx.Row) (clinic.Course, error) {
	var c clinic.Course
	n := &c.Numbers
	err := r.Scan(&c.ID, &c.PatientID, &c.ProtocolID, &c.Phase, &c.StartedOn, &c.Version, &n.Sessions, &n.MinGapDays,
		&n.MaxGapDays, &n.MaxSpanDays, &n.InfusionMinutes, &n.RecoveryMinutes, &n.MaintenanceInfusionMinutes,
		&n.MaintenanceRecoveryMinutes, &n.DoseMinMgPerKgH, &n.DoseMaxMgPerKgH, &n.FirstIntervalDays, &n.MinIntervalDays,
		&n.MaxIntervalDays, &n.LeadDays, &n.StepDays, &c.FixedIntervalDays, &c.SelfBooking.DaysBefore, &c.SelfBooking.DaysAfter)
	return c, err
}

// courseByID reads one course.
func courseByID(ctx context.Context, q querier, id int64) (clinic.Course, error) {
	return scanCourse(q.QueryRow(ctx, `SELECT `+courseColumns+` FROM courses WHERE id = $1`, id))
}

// visitCourse is the course an infusion visit counts in: the one it was
// booked in, else the patient's open course; nil when there is none.
func visitCourse(ctx context.Context, tx pgx.Tx, a clinic.Appointment) (*clinic.Course, error) {
	if a.CourseID == nil {
		return patientCourse(ctx, tx, a.PatientID)
	}
	c, err := courseByID(ctx, tx, *a.CourseID)
	return &c, err
}

// seriesCourse is the course of a loading series.
func seriesCourse(ctx context.Context, q querier, seriesID int64) (clinic.Course, error) {
	return scanCourse(q.QueryRow(ctx, `SELECT `+courseColumns+` FROM courses
		WHERE id = (SELECT course_id FROM loading_series WHERE id = $1)`, seriesID))
}

// seriesBasis reads what a new series for the patient under protocolID is
// planned from (clinic.SeriesBasis).
func seriesBasis(ctx context.Context, tx pgx.Tx, patientID, protocolID int64) (clinic.SeriesBasis, error) {
	var b clinic.SeriesBasis
	course, err := courseOfPatient(ctx, tx, patientID)
	if err != nil {
		return b, err
	}
	protocol, err := scanFullProtocol(tx.QueryRow(ctx, `SELECT `+protocolColumns+`, active, version FROM protocols WHERE id = $1`, protocolID))
	switch {
	case err == nil:
		b.Protocol = &protocol
	case !isNoRows(err):
		return b, err
	}
	if b.Course = course; course == nil {
		return b, nil
	}
	err = tx.QueryRow(ctx, `
		SELECT (SELECT name FROM protocols WHERE id = $2),
		       EXISTS (SELECT 1 FROM appointments WHERE course_id = $1 AND series_id IS NOT NULL
		               AND status IN ('booked', 'checked_in'))`, course.ID, course.ProtocolID).Scan(&b.CourseProtocol, &b.UnderWay)
	return b, err
}

// finishLoading moves a course from loading to maintenance when session is
// its last loading session; it reports whether the course moved.
func finishLoading(ctx context.Context, tx pgx.Tx, courseID int64, session int) (bool, error) {
	tag, err := tx.Exec(ctx, `
		UPDATE courses SET phase = 'maintenance', version = version + 1, updated_at = now()
		WHERE id = $1 AND phase = 'loading' AND sessions = $2`, courseID, session)
	return tag.RowsAffected() > 0, err
}

// CreateCourse opens a treatment course under a protocol, copying its
// numbers. A patient has at most one open course.
func (db *DB) CreateCourse(ctx context.Context, patientID, protocolID int64, startedOn clinic.Date) (clinic.Course, error) {
	var c clinic.Course
	if startedOn.IsZero() {
		return c, clinic.Invalid(map[string]string{"started_on": "Give the date the course starts (YYYY-MM-DD)."})
	}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := patientExists(ctx, tx, patientID); err != nil {
			return err
		}
		var active bool
		err := tx.QueryRow(ctx, `SELECT active FROM protocols WHERE id = $1`, protocolID).Scan(&active)
		if isNoRows(err) || err == nil && !active {
			return clinic.Invalid(map[string]string{"protocol_id": "Choose a protocol in use."})
		}
		if err != nil {
			return err
		}
		id, err := insertCourse(ctx, tx, patientID, protocolID, clinic.PhaseLoading, startedOn, clinic.Date{}, nil)
		if err != nil {
			return err
		}
		open, err := patientCourse(ctx, tx, patientID)
		if err != nil {
			return err
		}
		c = *open
		return audit(ctx, tx, clinic.AuditEntry{Action: "course.open", Entity: "course", EntityID: &id, PatientID: &patientID, After: c})
	})
	return c, err
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
