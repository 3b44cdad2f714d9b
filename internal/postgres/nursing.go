package postgres

import (
	"context"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
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
	shifts, watches, err := nursing(ctx, q, from, to, sched.Loc, except)
	for _, s := range shifts {
		cal.AddShift(s)
	}
	for _, w := range watches {
		cal.HoldWatch(w)
	}
	return cal, err
}

// nursing reads, in one round trip, the shifts of the dates from..to and
// the infusions nurses watch on them (leaving out except).
func nursing(ctx context.Context, q querier, from, to clinic.Date, loc *time.Location, except []int64) ([]clinic.Shift, []clinic.Watch, error) {
	var shifts []clinic.Shift
	var watches []clinic.Watch
	b := &pgx.Batch{}
	b.Queue(shiftsSQL, from, to).Query(func(rows pgx.Rows) error {
		var err error
		shifts, err = pgx.CollectRows(rows, scanShift(loc))
		return err
	})
	b.Queue(watchesSQL, from, to, append([]int64{}, except...)).Query(func(rows pgx.Rows) error {
		var err error
		watches, err = pgx.CollectRows(rows, scanWatch)
		return err
	})
	err := q.SendBatch(ctx, b).Close()
	return shifts, watches, err
}

// kindCalendar is the calendar a visit of kind is placed on: with nursing
// for an infusion, without for a consultation.
func kindCalendar(ctx context.Context, q querier, kind clinic.AppointmentKind, sched clinic.Schedule, from, to clinic.Date) (*clinic.Calendar, error) {
	if kind.Infusion() {
		return nursedCalendar(ctx, q, sched, from, to)
	}
	return calendar(ctx, q, sched, from, to)
}

// Floor is the nursing of one date of the clinic's schedule: its shifts,
// the infusions nurses watch, the limits.
func (db *DB) Floor(ctx context.Context, sched clinic.Schedule, d clinic.Date) (clinic.Floor, error) {
	f, err := dayFloor(ctx, db.q(ctx), sched, d, 0)
	return f, mapError(err)
}

// dayFloor is the nursing of one date, leaving out except.
func dayFloor(ctx context.Context, q querier, sched clinic.Schedule, d clinic.Date, except int64) (clinic.Floor, error) {
	f := clinic.Floor{Nursing: sched.Settings.Nursing, Loc: sched.Loc, Style: sched.Settings.Style}
	var err error
	f.Shifts, f.Watches, err = nursing(ctx, q, d, d, sched.Loc, []int64{except})
	return f, err
}

// nurseFor finds the nurse for an infusion at iv on its date (none needed
// on a date without shifts): ECONFLICT, as a slot taken, naming what
// stops each nurse, when none can watch it.
func nurseFor(ctx context.Context, q querier, sched clinic.Schedule, kind clinic.AppointmentKind, iv clinic.Interval, except, asked int64) (clinic.Assignment, error) {
	if !kind.Infusion() {
		return clinic.Assignment{}, nil
	}
	floor, err := dayFloor(ctx, q, sched, clinic.DateOf(iv.Start, sched.Loc), except)
	if err != nil {
		return clinic.Assignment{}, err
	}
	nurse, ok, why := floor.AssignTo(iv, except, asked)
	if !ok {
		return nurse, &clinic.Error{Code: clinic.ECONFLICT, Reason: clinic.ReasonSlotTaken, Message: why}
	}
	return nurse, nil
}

const shiftSelect = `
	SELECT s.id, s.nurse_id, u.name, s.on_date, s.starts_at, s.ends_at
	FROM nurse_shifts s JOIN users u ON u.id = s.nurse_id`

const shiftsSQL = shiftSelect + ` WHERE s.on_date BETWEEN $1 AND $2 ORDER BY s.starts_at, s.nurse_id, s.id`

const watchesSQL = `
	SELECT a.id, a.nurse_id, a.nurse_place, a.starts_at, a.ends_at, p.first_name || ' ' || p.last_name
	FROM appointments a JOIN patients p ON p.id = a.patient_id
	WHERE a.nurse_id IS NOT NULL AND a.status IN ('booked', 'checked_in', 'completed')
	  AND a.local_date BETWEEN $1 AND $2 AND NOT (a.id = ANY ($3::bigint[]))
	ORDER BY a.starts_at, a.id`

// queryShifts reads the shifts of the dates from..to, by start then nurse.
func queryShifts(ctx context.Context, q querier, from, to clinic.Date, loc *time.Location) ([]clinic.Shift, error) {
	rows, err := q.Query(ctx, shiftsSQL, from, to)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanShift(loc))
}

func scanShift(loc *time.Location) pgx.RowToFunc[clinic.Shift] {
	return func(r pgx.CollectableRow) (clinic.Shift, error) {
		var s clinic.Shift
		var starts, ends time.Time
		err := r.Scan(&s.ID, &s.NurseID, &s.NurseName, &s.Date, &starts, &ends)
		s.From, s.To = clinic.ClockOf(starts, loc), clinic.ClockOf(ends, loc)
		return s, err
	}
}

func scanWatch(r pgx.CollectableRow) (clinic.Watch, error) {
	var w clinic.Watch
	err := r.Scan(&w.AppointmentID, &w.NurseID, &w.Place, &w.Start, &w.End, &w.Patient)
	return w, err
}

// ShiftChange is what adding or removing a shift did to the date's
// infusions: those given a nurse, and those no nurse can watch now (they
// are listed on Appointments to move).
type ShiftChange struct {
	Shift    clinic.Shift
	Assigned []int64
	ToMove   []int64
}

// AddShift puts a nurse on duty. The nurse is an enabled account with the
// nurse role; one nurse's shifts never overlap (the database refuses it).
// Infusions of the date without a nurse are then given one where the
// limits allow.
func (db *DB) AddShift(ctx context.Context, s clinic.Shift) (ShiftChange, error) {
	if err := s.Validate(); err != nil {
		return ShiftChange{}, err
	}
	var out ShiftChange
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out = ShiftChange{}
		if err := activeNurse(ctx, tx, s.NurseID, &s.NurseName); err != nil {
			return err
		}
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		if s.ID, out.Assigned, out.ToMove, err = addShift(ctx, tx, sched, s); err != nil {
			return err
		}
		out.Shift = s
		return audit(ctx, tx, clinic.AuditEntry{Action: "nurse_shift.add", Entity: "nurse_shift", EntityID: &s.ID,
			After: map[string]any{"nurse_id": s.NurseID, "date": s.Date.String(), "from": s.From.String(), "to": s.To.String(), "assigned": out.Assigned}})
	})
	return out, err
}

// ApplyPattern puts a nurse on duty by a weekly pattern over a range of
// dates, in one transaction: every shift of it or none (a shift
// overlapping one the nurse has is refused with its date). It returns what
// the shifts did to their dates' infusions.
func (db *DB) ApplyPattern(ctx context.Context, p clinic.ShiftPattern) (ShiftChange, error) {
	var out ShiftChange
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out = ShiftChange{}
		if err := activeNurse(ctx, tx, p.NurseID, nil); err != nil {
			return err
		}
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		shifts, err := p.Shifts(sched)
		if err != nil {
			return err
		}
		for _, s := range shifts {
			_, assigned, left, err := addShift(ctx, tx, sched, s)
			if clinic.ErrorFields(mapError(err))["from"] != "" { // the overlap constraint: say on which date
				return clinic.Invalid(map[string]string{"from": "The nurse already has a shift on " + sched.DayText(s.Date, i18n.ShortYear) + " at these hours; nothing was added."})
			}
			if err != nil {
				return err
			}
			out.Assigned, out.ToMove = append(out.Assigned, assigned...), append(out.ToMove, left...)
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "nurse_shift.pattern", Entity: "nurse_shift",
			After: map[string]any{"nurse_id": p.NurseID, "first_day": p.FirstDay.String(), "last_day": p.LastDay.String(),
				"from": p.From.String(), "to": p.To.String(), "shifts": len(shifts), "assigned": out.Assigned}})
	})
	return out, err
}

// addShift stores a shift (the database refuses one overlapping the
// nurse's others) under its day's lock and gives the date's infusions
// without a nurse one where the limits allow (assignDay).
func addShift(ctx context.Context, tx pgx.Tx, sched clinic.Schedule, s clinic.Shift) (id int64, assigned, left []int64, err error) {
	iv := s.Interval(sched.Loc)
	if err := lockDays(ctx, tx, sched.Loc, iv.Start); err != nil {
		return 0, nil, nil, err
	}
	if err := tx.QueryRow(ctx, `INSERT INTO nurse_shifts (nurse_id, on_date, starts_at, ends_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		s.NurseID, s.Date, iv.Start, iv.End).Scan(&id); err != nil {
		return 0, nil, nil, err
	}
	assigned, left, err = assignDay(ctx, tx, sched, s.Date)
	return id, assigned, left, err
}

// activeNurse refuses an id that is not an enabled account with the nurse
// role; name, when not nil, gets the nurse's name.
func activeNurse(ctx context.Context, tx pgx.Tx, id int64, name *string) error {
	var role clinic.Role
	var n string
	var disabled bool
	err := tx.QueryRow(ctx, `SELECT role, name, disabled_at IS NOT NULL FROM users WHERE id = $1`, id).Scan(&role, &n, &disabled)
	if isNoRows(err) || err == nil && (role != clinic.RoleNurse || disabled) {
		return clinic.Invalid(map[string]string{"nurse_id": "Choose a nurse with an active account."})
	}
	if name != nil {
		*name = n
	}
	return err
}

// RemoveShift takes a shift off the roster. Nothing is cancelled: the
// infusions its nurse watched in it are given another nurse on shift
// where the limits allow; the rest are listed to move.
func (db *DB) RemoveShift(ctx context.Context, id int64) (ShiftChange, error) {
	var out ShiftChange
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out = ShiftChange{}
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, shiftSelect+` WHERE s.id = $1`, id)
		if err != nil {
			return err
		}
		s, err := pgx.CollectExactlyOneRow(rows, scanShift(sched.Loc))
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such shift.")
		}
		if err != nil {
			return err
		}
		out.Shift = s
		span := s.Interval(sched.Loc)
		starts, ends := span.Start, span.End
		if err := lockDays(ctx, tx, sched.Loc, starts); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM nurse_shifts WHERE id = $1`, id); err != nil {
			return err
		}
		// Its nurse's infusions inside it lose their nurse, to be given another.
		if _, err := tx.Exec(ctx, `UPDATE appointments SET nurse_id = NULL, nurse_place = NULL, nurse_window = NULL,
			version = version + 1, updated_at = now()
			WHERE nurse_id = $1 AND starts_at >= $2 AND starts_at < $3 AND status IN ('booked', 'checked_in')`, s.NurseID, starts, ends); err != nil {
			return err
		}
		if out.Assigned, out.ToMove, err = assignDay(ctx, tx, sched, s.Date); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "nurse_shift.remove", Entity: "nurse_shift", EntityID: &id,
			Before: map[string]any{"nurse_id": s.NurseID, "date": s.Date.String(), "from": s.From.String(), "to": s.To.String()},
			After:  map[string]any{"assigned": out.Assigned, "to_move": out.ToMove}})
	})
	return out, err
}

// Shifts lists the shifts of the dates from..to.
func (db *DB) Shifts(ctx context.Context, from, to clinic.Date) ([]clinic.Shift, error) {
	sched, err := db.schedule(ctx, db.q(ctx))
	if err != nil {
		return nil, mapError(err)
	}
	shifts, err := queryShifts(ctx, db.q(ctx), from, to, sched.Loc)
	return shifts, mapError(err)
}

// assignDay gives every booked or checked-in infusion of the date that has
// no nurse one, in start order, where the limits allow (a date without
// shifts needs none). It returns the ones given a nurse and the ones left
// without.
func assignDay(ctx context.Context, tx pgx.Tx, sched clinic.Schedule, d clinic.Date) (assigned, left []int64, err error) {
	floor, err := dayFloor(ctx, tx, sched, d, 0)
	if err != nil || !floor.Rostered() {
		return nil, nil, err
	}
	waiting, err := queryAppointments(ctx, tx, `WHERE local_date = $1 AND nurse_id IS NULL AND kind <> 'consult'
		AND status IN ('booked', 'checked_in') ORDER BY starts_at, id`, d)
	if err != nil {
		return nil, nil, err
	}
	for _, a := range waiting {
		iv := clinic.Interval{Start: a.Start, End: a.End}
		nurse, ok, _ := floor.Assign(iv, 0)
		if !ok {
			left = append(left, a.ID)
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE appointments SET nurse_id = $2, nurse_place = $3, nurse_window = `+nurseWindow("$2", "$4")+`,
			version = version + 1, updated_at = now() WHERE id = $1`, a.ID, nurse.NurseID, nurse.Place, a.Start); err != nil {
			return nil, nil, err
		}
		floor.Watches = append(floor.Watches, clinic.Watch{AppointmentID: a.ID, NurseID: nurse.NurseID, Place: nurse.Place, Interval: iv})
		assigned = append(assigned, a.ID)
	}
	return assigned, left, nil
}
