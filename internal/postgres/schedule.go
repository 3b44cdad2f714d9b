package postgres

import (
	"context"
	"fmt"
	"maps"
	"sync/atomic"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// schedule reads when the clinic takes appointments: settings, zone and
// closure dates.
func schedule(ctx context.Context, q querier) (clinic.Schedule, error) {
	sched, _, err := versionedSchedule(ctx, q)
	return sched, err
}

func versionedSchedule(ctx context.Context, q querier) (clinic.Schedule, int64, error) {
	s, closures, version, err := versionedSettings(ctx, q)
	if err != nil {
		return clinic.Schedule{}, 0, err
	}
	loc, err := s.Location()
	if err != nil {
		// No guessed zone: a request that needs the clinic's time fails.
		return clinic.Schedule{}, 0, unavailable(fmt.Errorf("the clinic's time zone %q: %w", s.TimeZone, err))
	}
	return clinic.Schedule{Settings: s, Loc: loc, Closures: closures}, version, nil
}

// byVersion caches one value as of a settings version: the clinic's
// schedule (DB.schedule) and its active chairs (DB.Chairs). Triggers bump
// clinic.settings_version on any change to the clinic row, its hours, its
// closures or its chairs, and the session check reads it (Session), so a
// request uses the value only while it is the one committed when the
// request began, whichever server changed it.
type byVersion[T any] struct{ p atomic.Pointer[versioned[T]] }

type versioned[T any] struct {
	version int64
	value   T
}

// get returns the value cached as of the version ctx's request began
// with, if that is the one held.
func (c *byVersion[T]) get(ctx context.Context) (T, bool) {
	v, known := ctx.Value(settingsVersionKey{}).(int64)
	if cur := c.p.Load(); known && cur != nil && cur.version == v {
		return cur.value, true
	}
	var none T
	return none, false
}

// put holds value as of version, unless a newer one is held.
func (c *byVersion[T]) put(version int64, value T) {
	if cur := c.p.Load(); cur == nil || cur.version < version {
		c.p.CompareAndSwap(cur, &versioned[T]{version, value})
	}
}

func (c *byVersion[T]) drop() { c.p.Store(nil) }

// schedule is the clinic's schedule, from the process's cache when the
// request's settings version is current (byVersion), else read through q
// — and then cached.
func (db *DB) schedule(ctx context.Context, q querier) (clinic.Schedule, error) {
	sched, ok := db.cachedSchedule.get(ctx)
	if !ok {
		var version int64
		var err error
		if sched, version, err = versionedSchedule(ctx, q); err != nil {
			return sched, err
		}
		db.cachedSchedule.put(version, sched)
	}
	sched.Closures = maps.Clone(sched.Closures) // the caller's to change
	return sched, nil
}

// settingsVersionKey marks a context with the clinic's settings version
// current when its request began.
type settingsVersionKey struct{}

// Schedule returns the clinic's schedule.
func (db *DB) Schedule(ctx context.Context) (clinic.Schedule, error) {
	s, err := db.schedule(ctx, db.q(ctx))
	return s, mapError(err)
}

func activeChairs(ctx context.Context, q querier) ([]clinic.Chair, error) {
	rows, err := q.Query(ctx, `SELECT id, name, position, active, version FROM chairs WHERE active ORDER BY position, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (clinic.Chair, error) { return scanChair(r) })
}

// scanChair scans a chair's columns, then any more the query selects into
// more.
func scanChair(r pgx.Row, more ...any) (clinic.Chair, error) {
	var c clinic.Chair
	err := r.Scan(append([]any{&c.ID, &c.Name, &c.Position, &c.Active, &c.Version}, more...)...)
	return c, err
}

// longestVisit bounds how long before a window an appointment overlapping
// it can have started (the longest occupancy a protocol allows, 16 hours).
const longestVisit = 16 * time.Hour

// calendar reads the active chairs and every active appointment
// overlapping the clinic-local days from..to (inclusive) into a Calendar,
// leaving out the appointments in except (those about to move).
func calendar(ctx context.Context, q querier, sched clinic.Schedule, fromDay, toDay clinic.Date, except ...int64) (*clinic.Calendar, error) {
	from, to := fromDay.At(0, sched.Loc), toDay.AddDays(1).At(0, sched.Loc)
	chairs, err := activeChairs(ctx, q)
	if err != nil {
		return nil, err
	}
	cal := clinic.NewCalendar(sched.Settings, sched.Loc, sched.Closures, chairs)
	rows, err := q.Query(ctx, `
		SELECT chair_id, patient_id, starts_at, ends_at, kind <> 'consult' FROM appointments
		WHERE status IN ('booked', 'checked_in', 'completed')
		  AND starts_at >= $1 AND starts_at < $2 AND ends_at > $3 AND NOT (id = ANY ($4::bigint[]))
		ORDER BY starts_at`, // in order, each hold appends
		from.Add(-longestVisit), to, from, append([]int64{}, except...))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var chair, patient int64
	var iv clinic.Interval
	var infusion bool
	_, err = pgx.ForEachRow(rows, []any{&chair, &patient, &iv.Start, &iv.End, &infusion}, func() error {
		cal.Hold(chair, patient, iv)
		if infusion {
			cal.HoldInfusion(patient, iv.Start)
		}
		return nil
	})
	return cal, err
}

// Availability lists the free grid starts per chair for each day from..to
// (clinic-local dates, inclusive) for an occupancy of minutes, leaving out
// starts before now. The calendar returned names the chairs and the zone.
// Days before today or beyond the booking horizon are refused.
// They are the starts of an infusion: on dates with nurses on shift, a
// start is free only where a nurse can watch it too (AvailabilityOf for a
// consultation).
func (db *DB) Availability(ctx context.Context, from, to clinic.Date, minutes int, now time.Time) (*clinic.Calendar, []clinic.DayStarts, error) {
	return db.AvailabilityOf(ctx, clinic.KindMaintenance, from, to, minutes, now)
}

// AvailabilityOf is Availability for a visit of kind: a consultation
// needs no nurse.
func (db *DB) AvailabilityOf(ctx context.Context, kind clinic.AppointmentKind, from, to clinic.Date, minutes int, now time.Time) (*clinic.Calendar, []clinic.DayStarts, error) {
	sched, err := schedule(ctx, db.q(ctx))
	if err != nil {
		return nil, nil, mapError(err)
	}
	p := clinic.Problems{}
	for field, d := range map[string]clinic.Date{"from": from, "to": to} {
		for k, v := range clinic.ErrorFields(sched.CheckHorizon(field, d, now)) {
			p.Add(k, v)
		}
	}
	if err := p.Err(); err != nil {
		return nil, nil, err
	}
	cal, err := kindCalendar(ctx, db.q(ctx), kind, sched, from, to)
	if err != nil {
		return nil, nil, mapError(err)
	}
	return cal, cal.FreeStarts(from, to, minutes, now), nil
}

// alternatives offers up to n free slots near a start that was just taken,
// read after the failed booking's transaction has ended.
func (db *DB) alternatives(ctx context.Context, kind clinic.AppointmentKind, start time.Time, minutes int, patientID int64, now time.Time, n int) []clinic.Slot {
	sched, err := schedule(ctx, db.q(ctx))
	if err != nil {
		return nil
	}
	d := clinic.DateOf(start, sched.Loc)
	cal, err := kindCalendar(ctx, db.q(ctx), kind, sched, d, d.AddDays(8))
	if err != nil {
		return nil // offering alternatives is a courtesy; the refusal stands
	}
	return cal.Alternatives(start, minutes, patientID, now, n)
}
