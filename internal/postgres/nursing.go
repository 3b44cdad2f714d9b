package postgres

import (
	"context"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// nursedCalendar is calendar with the nursing of its days: the clinic's
// limits, the nurses' shifts and the infusions they watch (leaving out
// except, the appointments being moved). An infusion is placed on it only
// where a nurse can watch it (clinic.Floor).
func nursedCalendar(ctx context.Context, q querier, sched clinic.Schedule, from, to clinic.Date, except ...int64) (*clinic.Calendar, error) {
	cal, err := calendar(ctx, q, sched, from, to, except...)
	if err != nil {
		return nil, err
	}
	cal.SetNursing(sched.Settings.Nursing)
	shifts, err := queryShifts(ctx, q, from, to, sched.Loc)
	if err != nil {
		return nil, err
	}
	for _, s := range shifts {
		cal.AddShift(s)
	}
	watches, err := queryWatches(ctx, q, from, to, except)
	for _, w := range watches {
		cal.HoldWatch(w)
	}
	return cal, err
}

// kindCalendar is the calendar a visit of kind is placed on: with nursing
// for an infusion, without for a consultation.
func kindCalendar(ctx context.Context, q querier, kind clinic.AppointmentKind, sched clinic.Schedule, from, to clinic.Date) (*clinic.Calendar, error) {
	if kind.Infusion() {
		return nursedCalendar(ctx, q, sched, from, to)
	}
	return calendar(ctx, q, sched, from, to)
}

// dayFloor is the nursing of one date, leaving out except.
func dayFloor(ctx context.Context, q querier, sched clinic.Schedule, d clinic.Date, except int64) (clinic.Floor, error) {
	f := clinic.Floor{Nursing: sched.Settings.Nursing, Loc: sched.Loc}
	var err error
	if f.Shifts, err = queryShifts(ctx, q, d, d, sched.Loc); err != nil || len(f.Shifts) == 0 {
		return f, err
	}
	f.Watches, err = queryWatches(ctx, q, d, d, []int64{except})
	return f, err
}

// nurseFor finds the nurse for an infusion at iv on its date (none needed
// on a date without shifts): ECONFLICT, as a slot taken, naming what
// stops each nurse, when none can watch it.
func nurseFor(ctx context.Context, q querier, sched clinic.Schedule, kind clinic.AppointmentKind, iv clinic.Interval, except int64) (clinic.Assignment, error) {
	if !kind.Infusion() {
		return clinic.Assignment{}, nil
	}
	floor, err := dayFloor(ctx, q, sched, clinic.DateOf(iv.Start, sched.Loc), except)
	if err != nil {
		return clinic.Assignment{}, err
	}
	nurse, ok, why := floor.Assign(iv, except)
	if !ok {
		return nurse, &clinic.Error{Code: clinic.ECONFLICT, Reason: clinic.ReasonSlotTaken, Message: why}
	}
	return nurse, nil
}

// queryShifts reads the shifts of the dates from..to, by start then nurse.
func queryShifts(ctx context.Context, q querier, from, to clinic.Date, loc *time.Location) ([]clinic.Shift, error) {
	rows, err := q.Query(ctx, `
		SELECT s.id, s.nurse_id, u.name, s.on_date, s.starts_at, s.ends_at
		FROM nurse_shifts s JOIN users u ON u.id = s.nurse_id
		WHERE s.on_date BETWEEN $1 AND $2 ORDER BY s.starts_at, s.nurse_id, s.id`, from, to)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.Shift, error) {
		var s clinic.Shift
		var starts, ends time.Time
		err := r.Scan(&s.ID, &s.NurseID, &s.NurseName, &s.Date, &starts, &ends)
		s.From, s.To = clinic.ClockOf(starts, loc), clinic.ClockOf(ends, loc)
		return s, err
	})
}

// queryWatches reads the active infusions nurses watch on the dates
// from..to, leaving out except.
func queryWatches(ctx context.Context, q querier, from, to clinic.Date, except []int64) ([]clinic.Watch, error) {
	rows, err := q.Query(ctx, `
		SELECT a.id, a.nurse_id, a.nurse_place, a.starts_at, a.ends_at, p.first_name || ' ' || p.last_name
		FROM appointments a JOIN patients p ON p.id = a.patient_id
		WHERE a.nurse_id IS NOT NULL AND a.status IN ('booked', 'checked_in', 'completed')
		  AND a.local_date BETWEEN $1 AND $2 AND NOT (a.id = ANY ($3::bigint[]))
		ORDER BY a.starts_at, a.id`, from, to, append([]int64{}, except...))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.Watch, error) {
		var w clinic.Watch
		err := r.Scan(&w.AppointmentID, &w.NurseID, &w.Place, &w.Start, &w.End, &w.Patient)
		return w, err
	})
}
