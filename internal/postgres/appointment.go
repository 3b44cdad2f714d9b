package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// insertAppointment stores an appointment as given (status included) and
// returns its id. The exclusion constraints refuse any overlap; key, when
// not nil, is the booking's idempotency key.
func insertAppointment(ctx context.Context, tx pgx.Tx, a clinic.Appointment, cancelReason string, key *string) (int64, error) {
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
			session_no, checked_in_at, completed_at, cancelled_at, cancelled_by, cancel_reason, created_by,
			idempotency_key, additional_reason, nurse_id, nurse_place, nurse_window, placed_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, nullif($17, ''),
			nullif($18, 0), nullif($19, 0), `+nurseWindow("$18", "$5")+`, coalesce(nullif($20, ''), 'desk'))
		RETURNING id`,
		a.PatientID, a.ChairID, a.Kind, a.Status, a.Start, a.End, a.CourseID, a.SeriesID,
		a.SessionNo, checkedInAt, completedAt, cancelledAt, cancelledBy, reason, actor, key, a.AdditionalReason,
		a.Nurse.NurseID, a.Nurse.Place, string(a.PlacedBy)).Scan(&id)
	return id, err
}

// infusionGates applies the safety gates (clinic.CheckInfusionGates) to a
// visit about to be booked or moved, against the patient's booked visits
// and whatever holds a chair on the visit's day.
func infusionGates(ctx context.Context, tx pgx.Tx, patientID int64, v clinic.NewVisit, sched clinic.Schedule) error {
	others, err := queryAppointments(ctx, tx, `
		WHERE patient_id = $1 AND status IN ('booked', 'checked_in', 'completed')
		  AND (status = 'booked' OR local_date = $2)
		ORDER BY starts_at`, patientID, clinic.DateOf(v.Start, sched.Loc))
	if err != nil {
		return err
	}
	return clinic.CheckInfusionGates(v, others, clinic.ActorFrom(ctx).Role(), sched)
}

// AppointmentFilter selects appointments by start time and patient.
type AppointmentFilter struct {
	From, To  time.Time // starts in [From, To)
	PatientID *int64
}

// Visits returns the appointments the filter selects, every status, in
// start then chair order. It reads patient names, so it is audited.
func (db *DB) Visits(ctx context.Context, f AppointmentFilter) ([]clinic.Visit, error) {
	var out []clinic.Visit
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, visitSelect+`
			WHERE a.starts_at >= $1 AND a.starts_at < $2 AND ($3::bigint IS NULL OR a.patient_id = $3)
			ORDER BY a.starts_at, c.position, a.id`, f.From, f.To, f.PatientID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, scanVisit)
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "appointment.list", Entity: "appointment", PatientID: f.PatientID,
			After: map[string]any{"from": f.From.UTC(), "to": f.To.UTC(), "count": len(out)}})
	})
	return out, err
}

// PatientVisits returns one patient's appointments, every status, in start
// order. Audited as a read of that patient.
func (db *DB) PatientVisits(ctx context.Context, patientID int64) ([]clinic.Visit, error) {
	var out []clinic.Visit
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, visitSelect+`
			WHERE a.patient_id = $1
			ORDER BY a.starts_at, a.id`, patientID)
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

// Visit returns one appointment with its names. Audited as a read.
func (db *DB) Visit(ctx context.Context, id int64) (clinic.Visit, error) {
	var v clinic.Visit
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, visitSelect+` WHERE a.id = $1`, id)
		if err != nil {
			return err
		}
		v, err = pgx.CollectExactlyOneRow(rows, scanVisit)
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment.")
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "appointment.read", Entity: "appointment", EntityID: &v.ID, PatientID: &v.PatientID})
	})
	return v, err
}

const visitSelect = `
	SELECT a.id, a.patient_id, a.chair_id, a.kind, a.status, a.starts_at, a.ends_at, a.course_id,
	       a.series_id, a.session_no, a.version, coalesce(a.additional_reason, ''), coalesce(a.cancel_reason, ''),
	       p.first_name || ' ' || p.last_name, c.name, p.mrn,
	       coalesce(a.driver_name, ''), coalesce(a.driver_phone, ''), p.driver_name, p.driver_phone, a.confirmed_at,
	       coalesce(a.nurse_id, 0), coalesce(a.nurse_place, 0), coalesce(n.name, ''), CASE a.placed_by WHEN 'desk' THEN '' ELSE a.placed_by END,
	       a.bp_systolic, a.bp_diastolic, a.screening, a.holds, a.cleared_at, coalesce(a.cleared_by, 0), coalesce(a.clear_reason, ''),
	       coalesce(cu.name, '')
	FROM appointments a JOIN patients p ON p.id = a.patient_id JOIN chairs c ON c.id = a.chair_id
	LEFT JOIN users n ON n.id = a.nurse_id LEFT JOIN users cu ON cu.id = a.cleared_by`

func scanVisit(r pgx.CollectableRow) (clinic.Visit, error) {
	var v clinic.Visit
	var sc screenColumns
	var clearedBy string
	err := r.Scan(&v.ID, &v.PatientID, &v.ChairID, &v.Kind, &v.Status, &v.Start, &v.End, &v.CourseID,
		&v.SeriesID, &v.SessionNo, &v.Version, &v.AdditionalReason, &v.CancelReason, &v.PatientName, &v.ChairName, &v.MRN,
		&v.Driver.Name, &v.Driver.Phone, &v.DriverOnFile.Name, &v.DriverOnFile.Phone, &v.ConfirmedAt,
		&v.Nurse.NurseID, &v.Nurse.Place, &v.NurseName, &v.PlacedBy,
		&sc.systolic, &sc.diastolic, &sc.answers, &sc.holds, &sc.clearedAt, &sc.clearedBy, &sc.reason, &clearedBy)
	v.Screen = sc.screening()
	if v.Screen != nil && v.Screen.Cleared != nil {
		v.Screen.Cleared.By = clearedBy
	}
	return v, err
}

// screenColumns are an appointment's screen as stored.
type screenColumns struct {
	systolic, diastolic *int
	answers             *clinic.Answers
	holds               []string
	clearedAt           *time.Time
	clearedBy           int64
	reason              string
}

func (c screenColumns) screening() *clinic.Screening {
	if c.systolic == nil || c.diastolic == nil || c.answers == nil {
		return nil
	}
	s := &clinic.Screening{Systolic: *c.systolic, Diastolic: *c.diastolic, Answers: *c.answers, Holds: c.holds}
	if c.clearedAt != nil {
		s.Cleared = &clinic.Clearance{At: *c.clearedAt, ByID: c.clearedBy, Reason: c.reason}
	}
	return s
}

const appointmentColumns = `id, patient_id, chair_id, kind, status, starts_at, ends_at, course_id, series_id, session_no, version,
	coalesce(additional_reason, ''), confirmed_at, coalesce(nurse_id, 0), coalesce(nurse_place, 0), CASE placed_by WHEN 'desk' THEN '' ELSE placed_by END,
	bp_systolic, bp_diastolic, screening, holds, cleared_at, coalesce(cleared_by, 0), coalesce(clear_reason, '')`

// nurseWindow is the SQL for a watched infusion's start window, [start,
// start + the clinic's spacing), from the nurse and start parameters; NULL
// without a nurse.
func nurseWindow(nurse, start string) string {
	return `CASE WHEN nullif(` + nurse + `::bigint, 0) IS NULL THEN NULL ELSE tstzrange(` + start + `::timestamptz, ` + start +
		`::timestamptz + make_interval(mins => (SELECT start_spacing_minutes FROM clinic)), '[)') END`
}

// queryAppointments reads the appointments that rest (WHERE …, ORDER BY …,
// perhaps FOR UPDATE) selects.
func queryAppointments(ctx context.Context, q querier, rest string, args ...any) ([]clinic.Appointment, error) {
	rows, err := q.Query(ctx, `SELECT `+appointmentColumns+` FROM appointments `+rest, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, collectAppointment)
}

// collectAppointment is scanAppointment for pgx.CollectRows.
func collectAppointment(r pgx.CollectableRow) (clinic.Appointment, error) { return scanAppointment(r) }

func scanAppointment(r pgx.Row) (clinic.Appointment, error) {
	var a clinic.Appointment
	var sc screenColumns
	err := r.Scan(&a.ID, &a.PatientID, &a.ChairID, &a.Kind, &a.Status, &a.Start, &a.End, &a.CourseID,
		&a.SeriesID, &a.SessionNo, &a.Version, &a.AdditionalReason, &a.ConfirmedAt, &a.Nurse.NurseID, &a.Nurse.Place, &a.PlacedBy,
		&sc.systolic, &sc.diastolic, &sc.answers, &sc.holds, &sc.clearedAt, &sc.clearedBy, &sc.reason)
	a.Screen = sc.screening()
	return a, err
}

// Misfits lists the booked appointments from now on that no longer fit
// the clinic's days and hours, or sit in a chair taken out of service, each
// with why. Nothing is moved or cancelled: the desk decides.
func (db *DB) Misfits(ctx context.Context, now time.Time) ([]clinic.Misfit, error) {
	var out []clinic.Misfit
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = db.misfits(ctx, tx, now)
		return err
	})
	return out, err
}

func (db *DB) misfits(ctx context.Context, tx pgx.Tx, now time.Time) ([]clinic.Misfit, error) {
	sched, err := db.schedule(ctx, tx)
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, visitSelect+`
		WHERE a.status = 'booked' AND a.starts_at >= $1
		ORDER BY a.starts_at, c.position, a.id`, now)
	if err != nil {
		return nil, err
	}
	visits, err := pgx.CollectRows(rows, scanVisit)
	if err != nil {
		return nil, err
	}
	active, err := activeChairs(ctx, tx)
	if err != nil {
		return nil, err
	}
	inService := map[int64]bool{}
	for _, c := range active {
		inService[c.ID] = true
	}
	unwatched, err := unwatchedInfusions(ctx, tx, now)
	if err != nil {
		return nil, err
	}
	var out []clinic.Misfit
	for _, v := range visits {
		reason := sched.Misfit(clinic.Interval{Start: v.Start, End: v.End})
		if reason == "" && !inService[v.ChairID] {
			reason = fmt.Sprintf("%s is out of service.", v.ChairName)
		}
		if reason == "" && unwatched[v.ID] {
			reason = "No nurse on shift can watch it."
		}
		if reason != "" {
			out = append(out, clinic.Misfit{Visit: v, Reason: reason})
		}
	}
	if len(out) == 0 {
		return nil, nil // nothing about a patient was shown
	}
	return out, audit(ctx, tx, clinic.AuditEntry{Action: "appointment.misfits", Entity: "appointment",
		After: map[string]int{"count": len(out)}})
}

// unwatchedInfusions are the booked infusions from now on, on dates with
// nurses on shift, that no nurse watches (a shift removed, or added after
// they were booked, left no room).
func unwatchedInfusions(ctx context.Context, tx pgx.Tx, now time.Time) (map[int64]bool, error) {
	rows, err := tx.Query(ctx, `SELECT a.id FROM appointments a WHERE a.status = 'booked' AND a.starts_at >= $1
		AND a.kind <> 'consult' AND a.nurse_id IS NULL AND EXISTS (SELECT 1 FROM nurse_shifts s WHERE s.on_date = a.local_date)`, now)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	out := map[int64]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}
