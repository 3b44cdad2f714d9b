package postgres

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// seriesProposal plans (or, with req.Sessions, checks) a series inside
// tx: it loads what the series is planned from and the calendar of the
// days it can touch, and lets the domain decide. It returns the schedule
// it read, for the writes that follow.
func (db *DB) seriesProposal(ctx context.Context, tx pgx.Tx, req clinic.SeriesRequest, now time.Time) (clinic.SeriesProposal, clinic.Schedule, error) {
	var sched clinic.Schedule
	basis, err := seriesBasis(ctx, tx, req.PatientID, req.ProtocolID)
	if err != nil {
		return clinic.SeriesProposal{}, sched, err
	}
	p, err := basis.Propose(req.ProtocolID)
	if err != nil {
		return p, sched, err
	}
	if sched, err = db.schedule(ctx, tx); err != nil {
		return p, sched, err
	}
	from, to := clinic.SeriesWindow(p.Plan, req, sched.Loc)
	cal, err := nursedCalendar(ctx, tx, sched, from, to)
	if err != nil {
		return p, sched, err
	}
	consults, err := bookedConsultations(ctx, tx, req.PatientID)
	if err != nil {
		return p, sched, err
	}
	p, err = cal.PlanSeries(p, req, consults, now)
	return p, sched, err
}

// bookedConsultations lists the patient's consultations still booked.
func bookedConsultations(ctx context.Context, tx pgx.Tx, patientID int64) ([]clinic.Appointment, error) {
	return queryAppointments(ctx, tx, `WHERE patient_id = $1 AND kind = 'consult' AND status = 'booked' ORDER BY starts_at`, patientID)
}

// ProposeSeries plans a loading series (or checks the sessions given)
// without booking anything.
func (db *DB) ProposeSeries(ctx context.Context, req clinic.SeriesRequest, now time.Time) (clinic.SeriesProposal, error) {
	var p clinic.SeriesProposal
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		p, _, err = db.seriesProposal(ctx, tx, req, now)
		return err
	})
	return p, err
}

// BookSeries books a whole loading series in one transaction: every
// session or none. It plans afresh (or checks the sessions the desk
// confirmed) inside the transaction. A session that breaks a rule refuses
// the lot (EINVALID), the checked sessions in the result's Refused; a slot
// taken meanwhile, here or by a racing booking the exclusion constraints
// catch, refuses it with ECONFLICT, a fresh proposal in Refused and as the
// error's alternatives. A patient without an open course gets one, copying
// the protocol's numbers. replayed is true when the idempotency key had
// already booked it.
func (db *DB) BookSeries(ctx context.Context, req clinic.SeriesRequest, now time.Time) (out clinic.BookedSeries, replayed bool, err error) {
	key, err := scopedKey(ctx, req.IdempotencyKey)
	if err != nil {
		return out, false, err
	}
	if key != nil {
		k := *key + "#series"
		key = &k
		if prev, found, err := db.seriesByKey(ctx, *key); err != nil || found {
			return prev, found, err
		}
	}
	var checked clinic.SeriesProposal
	err = db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out = clinic.BookedSeries{} // a retried transaction starts afresh
		var err error
		var sched clinic.Schedule
		if checked, sched, err = db.seriesProposal(ctx, tx, req, now); err != nil {
			return err
		}
		if !checked.OK {
			return checked.Refusal()
		}
		out, err = db.bookSeries(ctx, tx, sched, req, checked, key, now)
		return err
	})
	if err != nil && key != nil {
		if prev, found, e := db.seriesByKey(ctx, *key); e == nil && found {
			return prev, true, nil
		}
	}
	if err == nil {
		return out, false, nil
	}
	return db.refused(ctx, mapError(err), req, checked, now)
}

// refused says what a refused series shows: for a rule broken, the
// sessions checked; after a slot was taken meanwhile, a fresh proposal
// (also the error's alternatives), else the sessions sent as they check
// now.
func (db *DB) refused(ctx context.Context, err error, req clinic.SeriesRequest, checked clinic.SeriesProposal, now time.Time) (clinic.BookedSeries, bool, error) {
	var out clinic.BookedSeries
	switch clinic.ErrorCode(err) {
	case clinic.ECONFLICT:
		err = db.withFreshProposal(ctx, err, req, now, &out)
		if out.Refused == nil && req.Sessions != nil {
			if p, perr := db.ProposeSeries(ctx, req, now); perr == nil {
				out.Refused = &p
			}
		}
	case clinic.EINVALID:
		if checked.Checks != nil {
			out.Refused = &checked
		}
	}
	return out, false, err
}

// bookSeries writes a checked series: its course (opened when the patient
// has none), the series, every session, their messages and the audit.
func (db *DB) bookSeries(ctx context.Context, tx pgx.Tx, sched clinic.Schedule, req clinic.SeriesRequest, p clinic.SeriesProposal, key *string, now time.Time) (clinic.BookedSeries, error) {
	var out clinic.BookedSeries
	var err error
	sessions := p.Sessions()
	starts := make([]time.Time, len(sessions))
	for i, s := range sessions {
		starts[i] = s.Start
	}
	if err := lockDays(ctx, tx, sched.Loc, starts...); err != nil {
		return out, err
	}
	opened := p.Course == nil
	if opened {
		if out.CourseID, err = insertCourse(ctx, tx, req.PatientID, req.ProtocolID, clinic.PhaseLoading,
			clinic.DateOf(sessions[0].Start, sched.Loc), clinic.Date{}, nil); err != nil {
			return out, err
		}
	} else {
		out.CourseID = p.Course.ID
	}
	if err := tx.QueryRow(ctx, `
		INSERT INTO loading_series (course_id, patient_id, protocol_id, created_by, preferred_time)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		out.CourseID, req.PatientID, req.ProtocolID, clinic.ActorFrom(ctx).UserID(), req.Preferred.String()).Scan(&out.ID); err != nil {
		return out, err
	}
	out.Sessions = p.Appointments(req.PatientID, out.CourseID, out.ID)
	for i := range out.Sessions {
		var k *string
		if i == 0 {
			k = key
		}
		if out.Sessions[i].ID, err = insertAppointment(ctx, tx, out.Sessions[i], "", k); err != nil {
			return out, err
		}
	}
	// One confirmation lists every session; each has its reminders.
	if err := db.notifyVisits(ctx, tx, clinic.MessageConfirmation, out.Sessions, nil, sched, now); err != nil {
		return out, err
	}
	// Audited last, with the series: the audit chain's lock is taken at
	// the end of every transaction, so no transaction holds it while it
	// waits for another (a deadlock).
	if opened {
		if err := audit(ctx, tx, clinic.AuditEntry{Action: "course.open", Entity: "course", EntityID: &out.CourseID,
			PatientID: &req.PatientID, After: map[string]any{"protocol_id": req.ProtocolID}}); err != nil {
			return out, err
		}
	}
	return out, audit(ctx, tx, clinic.AuditEntry{Action: "series.book", Entity: "loading_series", EntityID: &out.ID,
		PatientID: &req.PatientID, After: out.Sessions})
}

// withFreshProposal plans a new proposal after a conflict (outside the
// failed transaction) and attaches it: to the result, to show, and to the
// error, as its alternatives.
func (db *DB) withFreshProposal(ctx context.Context, err error, req clinic.SeriesRequest, now time.Time, out *clinic.BookedSeries) error {
	fresh := req
	fresh.Sessions = nil
	p, perr := db.ProposeSeries(ctx, fresh, now)
	var e *clinic.Error
	if perr != nil || !p.OK || !errors.As(err, &e) {
		return err
	}
	c := *e
	if c.Reason == clinic.ReasonSlotTaken {
		c.Message = clinic.SlotTakenMessage
	}
	c.Alternatives = p.Sessions()
	out.Refused, out.Fresh = &p, true
	return &c
}

// seriesByKey finds the series whose first session was booked with key.
func (db *DB) seriesByKey(ctx context.Context, key string) (clinic.BookedSeries, bool, error) {
	var out clinic.BookedSeries
	err := db.q(ctx).QueryRow(ctx, `SELECT series_id, course_id FROM appointments WHERE idempotency_key = $1`, key).Scan(&out.ID, &out.CourseID)
	if isNoRows(err) {
		return out, false, nil
	}
	if err != nil {
		return out, false, mapError(err)
	}
	out.Sessions, err = seriesSessions(ctx, db.q(ctx), out.ID, false)
	return out, true, mapError(err)
}

// seriesSessions returns a series' appointments in session order: the
// active ones only, or every one (cancelled too, by session then time).
func seriesSessions(ctx context.Context, q querier, seriesID int64, all bool) ([]clinic.Appointment, error) {
	return queryAppointments(ctx, q, `WHERE series_id = $1 AND ($2 OR status IN ('booked', 'checked_in', 'completed'))
		ORDER BY session_no, starts_at, id`, seriesID, all)
}

// Series is a loading series as the patient page shows it.
type Series struct {
	ID            int64
	Protocol      string
	Sessions      int // the protocol's number of sessions
	Done          int // completed
	Cancelled     bool
	CancelReason  string
	Appointments  []clinic.Visit // every appointment of the series, cancelled ones too
	PreferredTime clinic.Clock
}

// PatientSeries lists a patient's loading series, newest first.
func (db *DB) PatientSeries(ctx context.Context, patientID int64) ([]Series, error) {
	var out []Series
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT ls.id, p.name, c.sessions, ls.cancelled_at IS NOT NULL, coalesce(ls.cancel_reason, ''), ls.preferred_time
			FROM loading_series ls JOIN protocols p ON p.id = ls.protocol_id JOIN courses c ON c.id = ls.course_id
			WHERE ls.patient_id = $1 ORDER BY ls.id DESC`, patientID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Series, error) {
			var s Series
			var pref string
			err := r.Scan(&s.ID, &s.Protocol, &s.Sessions, &s.Cancelled, &s.CancelReason, &pref)
			s.PreferredTime, _ = clinic.ParseClock(pref)
			return s, err
		})
		if err != nil {
			return err
		}
		for i := range out {
			rows, err := tx.Query(ctx, visitSelect+` WHERE a.series_id = $1 ORDER BY a.session_no, a.starts_at, a.id`, out[i].ID)
			if err != nil {
				return err
			}
			if out[i].Appointments, err = pgx.CollectRows(rows, scanVisit); err != nil {
				return err
			}
			for _, v := range out[i].Appointments {
				if v.Status == clinic.StatusCompleted {
					out[i].Done++
				}
			}
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "series.list", Entity: "loading_series", PatientID: &patientID})
	})
	return out, err
}

// planReflow re-plans a series inside tx: it loads the series, lets the
// domain decide what stays and what moves, reads the calendar without the
// moving sessions and re-plans them on it (clinic.Calendar.Reflow). lock
// takes the patient's lock and the series' rows first (to apply it). It
// returns the schedule it read, for the writes that follow.
func (db *DB) planReflow(ctx context.Context, tx pgx.Tx, r clinic.ReflowRequest, now time.Time, lock bool) (clinic.Reflow, clinic.Schedule, error) {
	var sched clinic.Schedule
	series, err := seriesUnderWay(ctx, tx, r.SeriesID, lock)
	if err != nil {
		return clinic.Reflow{SeriesID: r.SeriesID}, sched, err
	}
	if sched, err = db.schedule(ctx, tx); err != nil {
		return clinic.Reflow{}, sched, err
	}
	basis, err := series.PrepareReflow(r, now, sched.Loc)
	if err != nil {
		return clinic.Reflow{SeriesID: r.SeriesID, PatientID: series.PatientID}, sched, err
	}
	cal, err := nursedCalendar(ctx, tx, sched, basis.From, basis.To, basis.Moving...)
	if err != nil {
		return clinic.Reflow{}, sched, err
	}
	rf, err := cal.Reflow(basis, now)
	return rf, sched, err
}

// seriesUnderWay loads a series not cancelled, with every appointment, its
// course's plan and the patient's booked consultations; lock takes the
// patient's lock and the series' appointment rows.
func seriesUnderWay(ctx context.Context, tx pgx.Tx, seriesID int64, lock bool) (clinic.SeriesUnderWay, error) {
	s := clinic.SeriesUnderWay{ID: seriesID}
	var pref string
	err := tx.QueryRow(ctx, `SELECT patient_id, course_id, preferred_time FROM loading_series WHERE id = $1 AND cancelled_at IS NULL`,
		seriesID).Scan(&s.PatientID, &s.CourseID, &pref)
	if isNoRows(err) {
		return s, clinic.Errorf(clinic.ENOTFOUND, "There is no such series under way.")
	}
	if err != nil {
		return s, err
	}
	s.Preferred, _ = clinic.ParseClock(pref)
	lockClause := ""
	if lock {
		if err := lockPatient(ctx, tx, s.PatientID); err != nil {
			return s, err
		}
		lockClause = " FOR UPDATE"
	}
	if s.Appointments, err = queryAppointments(ctx, tx, `WHERE series_id = $1 ORDER BY session_no, starts_at DESC, id DESC`+lockClause, seriesID); err != nil {
		return s, err
	}
	course, err := courseByID(ctx, tx, s.CourseID)
	if err != nil {
		return s, err
	}
	s.Plan = clinic.PlanOf(course.Numbers)
	s.Consults, err = bookedConsultations(ctx, tx, s.PatientID)
	return s, err
}

// PlanReflow previews a re-flow without changing anything.
func (db *DB) PlanReflow(ctx context.Context, r clinic.ReflowRequest, now time.Time) (clinic.Reflow, error) {
	var out clinic.Reflow
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, _, err = db.planReflow(ctx, tx, r, now, false)
		return err
	})
	return out, err
}

// ApplyReflow re-plans and applies a re-flow in one transaction: every
// moved session or none. want is the preview the person confirmed; when
// the plan came out differently (the calendar changed meanwhile), nothing
// changes, ECONFLICT says so and the re-flow returned is the new preview.
func (db *DB) ApplyReflow(ctx context.Context, r clinic.ReflowRequest, want []clinic.Slot, now time.Time) (clinic.Reflow, error) {
	var out clinic.Reflow
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		var sched clinic.Schedule
		if out, sched, err = db.planReflow(ctx, tx, r, now, true); err != nil {
			return err
		}
		if err := out.Confirm(want); err != nil {
			return err
		}
		return db.writeReflow(ctx, tx, sched, out, now)
	})
	if clinic.ErrorCode(err) == clinic.ECONFLICT {
		// The calendar or the series changed: the re-flow as it would be
		// now, to preview again (none when the series itself refuses it).
		out, _ = db.PlanReflow(ctx, r, now)
	}
	return out, err
}

// writeReflow moves (or, for a cancelled session, books anew) every
// session a re-flow changes, with their messages and the audit.
func (db *DB) writeReflow(ctx context.Context, tx pgx.Tx, sched clinic.Schedule, rf clinic.Reflow, now time.Time) error {
	ch := rf.Changes()
	var err error
	days := make([]time.Time, len(ch.After))
	for i, a := range ch.After {
		days[i] = a.Start
	}
	if err := lockDays(ctx, tx, sched.Loc, days...); err != nil {
		return err
	}
	// Sessions may move onto each other's old times. Park every moving
	// session a thousand years ahead first (keeping their spacing, so the
	// parked ones cannot overlap each other), then place each: the overlap
	// constraints stay immediate and judge every step.
	parked := make([]int64, len(ch.Before))
	for i, a := range ch.Before {
		parked[i] = a.ID
	}
	if _, err := tx.Exec(ctx, `UPDATE appointments SET starts_at = starts_at + interval '1000 years',
		ends_at = ends_at + interval '1000 years',
		nurse_window = CASE WHEN nurse_window IS NULL THEN NULL
			ELSE tstzrange(lower(nurse_window) + interval '1000 years', upper(nurse_window) + interval '1000 years', '[)') END
		WHERE id = ANY ($1)`, parked); err != nil {
		return err
	}
	for i, a := range ch.After {
		if a.ID != 0 {
			_, err = tx.Exec(ctx, `UPDATE appointments SET starts_at = $2, ends_at = $3, chair_id = $4,
				nurse_id = nullif($5, 0), nurse_place = nullif($6, 0), nurse_window = `+nurseWindow("$5", "$2")+`,
				placed_by = 'desk', version = version + 1, updated_at = now() WHERE id = $1`, a.ID, a.Start, a.End, a.ChairID, a.Nurse.NurseID, a.Nurse.Place)
		} else {
			ch.After[i].ID, err = insertAppointment(ctx, tx, a, "", nil)
		}
		if err != nil {
			return err
		}
	}
	if err := db.afterMove(ctx, tx, ch.After, ch.Before, sched, now); err != nil {
		return err
	}
	return audit(ctx, tx, clinic.AuditEntry{Action: "series.reflow", Entity: "loading_series", EntityID: &rf.SeriesID,
		PatientID: &rf.PatientID, Before: ch.Before, After: ch.After})
}

// CancelSeries cancels every session of a series still to come, with one
// reason, and marks the series cancelled.
func (db *DB) CancelSeries(ctx context.Context, seriesID int64, reason string, now time.Time) ([]clinic.Appointment, error) {
	reason, err := clinic.CancelReason(reason)
	if err != nil {
		return nil, err
	}
	var cancelled []clinic.Appointment
	err = db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var patientID int64
		err := tx.QueryRow(ctx, `UPDATE loading_series SET cancelled_at = $2, cancel_reason = $3
			WHERE id = $1 AND cancelled_at IS NULL RETURNING patient_id`, seriesID, now, reason).Scan(&patientID)
		if isNoRows(err) {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such series under way.")
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			UPDATE appointments SET status = 'cancelled', cancelled_at = $2, cancelled_by = $3, cancel_reason = $4,
				version = version + 1, updated_at = now()
			WHERE series_id = $1 AND status = 'booked'
			RETURNING `+appointmentColumns, seriesID, now, clinic.ActorFrom(ctx).UserID(), reason)
		if err != nil {
			return err
		}
		if cancelled, err = pgx.CollectRows(rows, collectAppointment); err != nil {
			return err
		}
		sort.Slice(cancelled, func(i, j int) bool { return *cancelled[i].SessionNo < *cancelled[j].SessionNo })
		sched, err := db.schedule(ctx, tx)
		if err != nil {
			return err
		}
		if err := db.afterCancel(ctx, tx, cancelled, sched, now); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "series.cancel", Entity: "loading_series", EntityID: &seriesID,
			PatientID: &patientID, After: map[string]any{"reason": reason, "cancelled": cancelled}})
	})
	return cancelled, err
}

// SeriesSetting is what the series pages show around the desk's input:
// the patient, the protocols in use, the chairs in service and the
// schedule.
type SeriesSetting struct {
	Patient   clinic.Patient
	Protocols []clinic.Protocol
	Chairs    []clinic.Chair
	Schedule  clinic.Schedule
}

// SeriesSetting reads a series page's setting for the patient in one
// transaction; reading the patient is audited.
func (db *DB) SeriesSetting(ctx context.Context, patientID int64) (SeriesSetting, error) {
	var out SeriesSetting
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if out.Patient, err = readPatient(ctx, tx, patientID); err != nil {
			return err
		}
		if out.Protocols, err = activeProtocols(ctx, tx); err != nil {
			return err
		}
		if out.Chairs, err = activeChairs(ctx, tx); err != nil {
			return err
		}
		out.Schedule, err = db.schedule(ctx, tx)
		return err
	})
	return out, err
}
