package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/jackc/pgx/v5"
)

// SeriesRequest asks for a loading series for one patient.
type SeriesRequest struct {
	PatientID  int64
	ProtocolID int64
	StartDate  clinic.Date  // the earliest first date
	Preferred  clinic.Clock // the preferred local start time
	// Sessions, when given, are the slots the desk confirmed (the proposal,
	// perhaps with a session's time or chair changed). They are checked
	// against every rule again and booked as they are. Without them the
	// planner's proposal is booked.
	Sessions       []clinic.Slot
	IdempotencyKey string
}

// SeriesProposal is a planned series with what it was planned from.
type SeriesProposal struct {
	Plan     clinic.SeriesPlan
	Protocol clinic.Protocol
	Course   *clinic.Course // the open course whose numbers were used; nil: a new one is opened
	Checks   []clinic.SessionCheck
	OK       bool // every session passes every rule
	// Note says why the first date is later than asked (a consultation
	// booked first); "" when it is not.
	Note string
}

// Sessions are the proposal's slots in session order.
func (p SeriesProposal) Sessions() []clinic.Slot {
	out := make([]clinic.Slot, len(p.Checks))
	for i, c := range p.Checks {
		out[i] = c.Slot
	}
	return out
}

// seriesPlan finds the numbers a new series follows: the patient's open
// course (which must be loading, under this protocol, with no series under
// way) or, without one, the protocol.
func seriesPlan(ctx context.Context, tx pgx.Tx, patientID, protocolID int64) (clinic.SeriesPlan, *clinic.Course, clinic.Protocol, error) {
	var plan clinic.SeriesPlan
	course, err := patientCourse(ctx, tx, patientID)
	if err != nil {
		return plan, nil, clinic.Protocol{}, err
	}
	protocol, err := scanFullProtocol(tx.QueryRow(ctx, `SELECT `+protocolColumns+`, active, version FROM protocols WHERE id = $1`, protocolID))
	if isNoRows(err) || err == nil && !protocol.Active && course == nil {
		return plan, nil, protocol, clinic.Invalid(map[string]string{"protocol_id": "Choose a protocol in use."})
	}
	if err != nil {
		return plan, nil, protocol, err
	}
	if course == nil {
		return clinic.PlanOf(protocol), nil, protocol, nil
	}
	switch {
	case course.ProtocolID != protocolID:
		var name string
		tx.QueryRow(ctx, `SELECT name FROM protocols WHERE id = $1`, course.ProtocolID).Scan(&name)
		return plan, nil, protocol, clinic.Invalid(map[string]string{"protocol_id": "The patient's open course follows " + name + "; its series uses that protocol."})
	case course.Phase != clinic.PhaseLoading:
		return plan, nil, protocol, clinic.Errorf(clinic.ECONFLICT, "The patient's course is in its %s phase; a loading series belongs to a course in its loading phase.", course.Phase)
	}
	var underWay bool
	if err := tx.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM appointments WHERE course_id = $1 AND series_id IS NOT NULL
		               AND status IN ('booked', 'checked_in'))`, course.ID).Scan(&underWay); err != nil {
		return plan, nil, protocol, err
	}
	if underWay {
		return plan, nil, protocol, clinic.Errorf(clinic.ECONFLICT, "The patient already has a loading series booked; move or cancel it instead.")
	}
	return clinic.PlanOf(course.Numbers), course, protocol, nil
}

// seriesWindow is the days a series from start could touch.
func seriesWindow(plan clinic.SeriesPlan, start clinic.Date) (clinic.Date, clinic.Date) {
	return start, start.AddDays(clinic.FirstDateWindow + plan.MaxSpanDays)
}

// propose plans (or, with req.Sessions, checks) a series inside tx.
func propose(ctx context.Context, tx pgx.Tx, req SeriesRequest, now time.Time) (SeriesProposal, *clinic.Calendar, error) {
	var out SeriesProposal
	var err error
	out.Plan, out.Course, out.Protocol, err = seriesPlan(ctx, tx, req.PatientID, req.ProtocolID)
	if err != nil {
		return out, nil, err
	}
	sched, err := schedule(ctx, tx)
	if err != nil {
		return out, nil, err
	}
	from, to := seriesWindow(out.Plan, req.StartDate)
	for _, s := range req.Sessions {
		if d := clinic.DateOf(s.Start, sched.Loc); d.Before(from) {
			from = d
		} else if d.After(to) {
			to = d
		}
	}
	cal, err := calendar(ctx, tx, sched, from, to)
	if err != nil {
		return out, nil, err
	}
	consults, err := bookedConsultations(ctx, tx, req.PatientID)
	if err != nil {
		return out, nil, err
	}
	sessions := req.Sessions
	if sessions == nil {
		if err := sched.CheckHorizon("start_date", req.StartDate, now); err != nil {
			return out, cal, err
		}
		earliest := req.StartDate
		earliest, out.Note = clinic.ConsultationFirst(earliest, consults, now, sched.Loc)
		if sessions, err = cal.ProposeSeries(out.Plan, req.PatientID, earliest, req.Preferred, now, nil); err != nil {
			return out, cal, err
		}
	}
	out.Checks, out.OK = cal.CheckSeries(out.Plan, req.PatientID, sessions, now)
	if len(sessions) > 0 {
		first := clinic.DateOf(sessions[0].Start, sched.Loc)
		if after, why := clinic.ConsultationFirst(first, consults, now, sched.Loc); why != "" && out.Checks[0].Problem == "" {
			out.Checks[0].Problem = fmt.Sprintf("The series starts after the patient's consultation: on %s at the earliest.", after.Format("Mon 2 Jan"))
			out.OK = false
		}
	}
	return out, cal, nil
}

// bookedConsultations lists the patient's consultations still booked.
func bookedConsultations(ctx context.Context, tx pgx.Tx, patientID int64) ([]clinic.Appointment, error) {
	return queryAppointments(ctx, tx, `WHERE patient_id = $1 AND kind = 'consult' AND status = 'booked' ORDER BY starts_at`, patientID)
}

// ProposeSeries plans a loading series (or checks the sessions given)
// without booking anything.
func (db *DB) ProposeSeries(ctx context.Context, req SeriesRequest, now time.Time) (SeriesProposal, error) {
	var p SeriesProposal
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		p, _, err = propose(ctx, tx, req, now)
		return err
	})
	return p, err
}

// BookedSeries is a booked loading series.
type BookedSeries struct {
	ID       int64
	CourseID int64
	Sessions []clinic.Appointment // in session order
}

// BookSeries books a whole loading series in one transaction: every
// session or none. It plans afresh (or checks the sessions the desk
// confirmed) inside the transaction; a slot taken meanwhile, here or by a
// racing booking the exclusion constraints catch, refuses the lot with
// ECONFLICT and a fresh proposal as the error's alternatives. A patient
// without an open course gets one, copying the protocol's numbers.
func (db *DB) BookSeries(ctx context.Context, req SeriesRequest, now time.Time) (BookedSeries, bool, error) {
	var out BookedSeries
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
	err = db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out = BookedSeries{} // a retried transaction starts afresh
		var openedCourse *int64
		p, _, err := propose(ctx, tx, req, now)
		if err != nil {
			return err
		}
		if !p.OK {
			return seriesRefusal(p)
		}
		sched, err := schedule(ctx, tx)
		if err != nil {
			return err
		}
		sessions := p.Sessions()
		starts := make([]time.Time, len(sessions))
		for i, s := range sessions {
			starts[i] = s.Start
		}
		if err := lockDays(ctx, tx, sched.Loc, starts...); err != nil {
			return err
		}
		if p.Course == nil {
			id, err := insertCourse(ctx, tx, req.PatientID, req.ProtocolID, clinic.PhaseLoading,
				clinic.DateOf(sessions[0].Start, sched.Loc), clinic.Date{}, nil)
			if err != nil {
				return err
			}
			out.CourseID = id
			// Audited last, with the series: the audit chain's lock is
			// taken at the end of every transaction, so no transaction
			// holds it while it waits for another (a deadlock).
			openedCourse = &id
		} else {
			out.CourseID = p.Course.ID
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO loading_series (course_id, patient_id, protocol_id, created_by, preferred_time)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			out.CourseID, req.PatientID, req.ProtocolID, clinic.ActorFrom(ctx).UserID(), req.Preferred.String()).Scan(&out.ID); err != nil {
			return err
		}
		for i, s := range sessions {
			no := i + 1
			a := clinic.Appointment{PatientID: req.PatientID, ChairID: s.ChairID, Kind: clinic.KindLoading,
				Status: clinic.StatusBooked, Start: s.Start, End: s.End, CourseID: &out.CourseID, SeriesID: &out.ID,
				SessionNo: &no, Version: 1}
			var k *string
			if key != nil && no == 1 {
				k = key
			}
			if a.ID, err = insertAppointment(ctx, tx, a, "", k); err != nil {
				return err
			}
			out.Sessions = append(out.Sessions, a)
		}
		// One confirmation lists every session; each has its reminders.
		if err := db.notifyVisits(ctx, tx, clinic.MessageConfirmation, out.Sessions, nil, sched, now); err != nil {
			return err
		}
		if openedCourse != nil {
			if err := audit(ctx, tx, clinic.AuditEntry{Action: "course.open", Entity: "course", EntityID: openedCourse,
				PatientID: &req.PatientID, After: map[string]any{"protocol_id": req.ProtocolID}}); err != nil {
				return err
			}
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "series.book", Entity: "loading_series", EntityID: &out.ID,
			PatientID: &req.PatientID, After: out.Sessions})
	})
	if err != nil && key != nil {
		if prev, found, e := db.seriesByKey(ctx, *key); e == nil && found {
			return prev, true, nil
		}
	}
	if clinic.ErrorCode(mapError(err)) == clinic.ECONFLICT {
		err = db.withFreshProposal(ctx, err, req, now)
	}
	return out, false, mapError(err)
}

// seriesRefusal turns the sessions that break a rule into an error: a slot
// taken meanwhile is a conflict; anything else is invalid input, each
// session's problem on its own field ("session.3").
func seriesRefusal(p SeriesProposal) error {
	fields := map[string]string{}
	onlyTaken := true // every problem is a slot taken since the proposal
	for i, c := range p.Checks {
		if c.Problem != "" {
			fields["session."+strconv.Itoa(i+1)] = c.Problem
			if !c.Taken {
				onlyTaken = false
			}
		}
	}
	if len(p.Checks) != p.Plan.Sessions {
		fields["sessions"] = fmt.Sprintf("The protocol has %d sessions.", p.Plan.Sessions)
		onlyTaken = false
	}
	if onlyTaken {
		return &clinic.Error{Code: clinic.ECONFLICT, Reason: clinic.ReasonSlotTaken, Message: "A slot of the series was taken meanwhile; nothing was booked. Here is a fresh proposal.", Fields: fields}
	}
	return &clinic.Error{Code: clinic.EINVALID, Message: "Some sessions break the protocol's rules; nothing was booked.", Fields: fields}
}

// withFreshProposal attaches a new proposal to a conflict, as its
// alternatives, planned after the failed transaction.
func (db *DB) withFreshProposal(ctx context.Context, err error, req SeriesRequest, now time.Time) error {
	fresh := req
	fresh.Sessions = nil
	p, perr := db.ProposeSeries(ctx, fresh, now)
	if perr != nil || !p.OK {
		return err
	}
	var e *clinic.Error
	if !errors.As(mapError(err), &e) {
		return err
	}
	c := *e
	if c.Reason == clinic.ReasonSlotTaken {
		c.Message = "A slot of the series was taken meanwhile; nothing was booked. Here is a fresh proposal."
	}
	c.Alternatives = p.Sessions()
	return &c
}

// seriesByKey finds the series whose first session was booked with key.
func (db *DB) seriesByKey(ctx context.Context, key string) (BookedSeries, bool, error) {
	var out BookedSeries
	err := db.pool.QueryRow(ctx, `SELECT series_id, course_id FROM appointments WHERE idempotency_key = $1`, key).Scan(&out.ID, &out.CourseID)
	if isNoRows(err) {
		return out, false, nil
	}
	if err != nil {
		return out, false, mapError(err)
	}
	out.Sessions, err = seriesSessions(ctx, db.pool, out.ID, false)
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

// ReflowRequest moves session From of a series and re-plans the sessions
// after it. Start is where session From goes (nil: wherever the planner
// puts it, as after that session was cancelled); Version is the version of
// session From's appointment the person saw (0 when it was cancelled).
type ReflowRequest struct {
	SeriesID int64
	From     int
	Start    *time.Time
	ChairID  int64
	Version  int
}

// ReflowSession is one session of a re-flowed series: where it was (nil
// when it has no active appointment) and where it goes.
type ReflowSession struct {
	No   int
	Old  *clinic.Appointment
	New  clinic.SessionCheck
	Kept bool // sessions before From stay as they are
}

// Moved reports whether the session changes.
func (s ReflowSession) Moved() bool {
	return s.Old == nil || !s.Old.Start.Equal(s.New.Start) || s.Old.ChairID != s.New.ChairID
}

// Reflow is a re-flowed series: every session, and whether all pass.
type Reflow struct {
	SeriesID  int64
	PatientID int64
	Sessions  []ReflowSession
	OK        bool
	Note      string // why the first date moved (a consultation first)
}

// planReflow re-plans a series inside tx: sessions before From stay;
// session From goes to Start (its own chair if free, else the one asked
// for or the first free); the later ones are planned as early as the gaps
// allow, nearest to the series' preferred time. The series' own moving
// sessions do not count as busy.
func planReflow(ctx context.Context, tx pgx.Tx, r ReflowRequest, now time.Time, lock bool) (Reflow, error) {
	out := Reflow{SeriesID: r.SeriesID}
	var courseID int64
	var pref string
	err := tx.QueryRow(ctx, `SELECT patient_id, course_id, preferred_time FROM loading_series WHERE id = $1 AND cancelled_at IS NULL`,
		r.SeriesID).Scan(&out.PatientID, &courseID, &pref)
	if isNoRows(err) {
		return out, clinic.Errorf(clinic.ENOTFOUND, "There is no such series under way.")
	}
	if err != nil {
		return out, err
	}
	lockClause := ""
	if lock {
		if err := lockPatient(ctx, tx, out.PatientID); err != nil {
			return out, err
		}
		lockClause = " FOR UPDATE"
	}
	all, err := queryAppointments(ctx, tx, `WHERE series_id = $1 ORDER BY session_no, starts_at DESC, id DESC`+lockClause, r.SeriesID)
	if err != nil {
		return out, err
	}
	var plan clinic.SeriesPlan
	var numbers clinic.Protocol
	if err := tx.QueryRow(ctx, `SELECT sessions, min_gap_days, max_gap_days, max_span_days, infusion_minutes, recovery_minutes
		FROM courses WHERE id = $1`, courseID).Scan(&numbers.Sessions, &numbers.MinGapDays, &numbers.MaxGapDays,
		&numbers.MaxSpanDays, &numbers.InfusionMinutes, &numbers.RecoveryMinutes); err != nil {
		return out, err
	}
	plan = clinic.PlanOf(numbers)
	if r.From < 1 || r.From > plan.Sessions {
		return out, clinic.Invalid(map[string]string{"session": fmt.Sprintf("Choose a session from 1 to %d.", plan.Sessions)})
	}
	// Each session's current appointment: the active one, else none.
	current := make([]*clinic.Appointment, plan.Sessions+1)
	var moving []int64
	for i := range all {
		a := &all[i]
		if a.SessionNo == nil || *a.SessionNo > plan.Sessions || !a.Status.Active() || current[*a.SessionNo] != nil {
			continue
		}
		current[*a.SessionNo] = a
		if *a.SessionNo >= r.From {
			if a.Status != clinic.StatusBooked {
				return out, clinic.Errorf(clinic.ECONFLICT, "Session %d is already %s; only sessions still to come can move.", *a.SessionNo, a.Status.Label())
			}
			moving = append(moving, a.ID)
		}
	}
	from := current[r.From]
	if r.Start != nil && (from == nil) {
		return out, clinic.Errorf(clinic.ECONFLICT, "Session %d is not booked; re-flow the series from it instead.", r.From)
	}
	if from != nil && r.Version != 0 && from.Version != r.Version {
		return out, clinic.Errorf(clinic.ECONFLICT, "This session was changed by someone else meanwhile. It is shown as it stands now; nothing was changed.")
	}
	var fixed []clinic.Slot
	for no := 1; no < r.From; no++ {
		if current[no] == nil {
			return out, clinic.Errorf(clinic.ECONFLICT, "Session %d has no appointment; re-flow from session %d first.", no, no)
		}
		fixed = append(fixed, clinic.Slot{ChairID: current[no].ChairID, Interval: clinic.Interval{Start: current[no].Start, End: current[no].End}})
	}
	sched, err := schedule(ctx, tx)
	if err != nil {
		return out, err
	}
	first := clinic.DateOf(now, sched.Loc)
	if len(fixed) > 0 {
		first = clinic.DateOf(fixed[0].Start, sched.Loc)
	}
	cal, err := calendar(ctx, tx, sched, first.AddDays(-1), first.AddDays(clinic.FirstDateWindow+plan.MaxSpanDays), moving...)
	if err != nil {
		return out, err
	}
	prefClock, _ := clinic.ParseClock(pref)
	if r.Start != nil {
		iv := clinic.Interval{Start: *r.Start, End: r.Start.Add(time.Duration(plan.Minutes) * time.Minute)}
		chair := r.ChairID
		if chair == 0 {
			if from != nil && cal.ChairFree(from.ChairID, iv) {
				chair = from.ChairID
			} else if c, ok := cal.FirstFreeChair(iv); ok {
				chair = c
			} else {
				chair = from.ChairID // the check below names the problem
			}
		}
		fixed = append(fixed, clinic.Slot{ChairID: chair, Interval: iv})
	}
	earliest := clinic.DateOf(now, sched.Loc)
	if len(fixed) > 0 {
		earliest = clinic.DateOf(fixed[0].Start, sched.Loc)
	}
	if r.From == 1 { // the series starts again: after a consultation booked first
		consults, err := bookedConsultations(ctx, tx, out.PatientID)
		if err != nil {
			return out, err
		}
		after, why := clinic.ConsultationFirst(earliest, consults, now, sched.Loc)
		if why != "" && r.Start != nil {
			return out, clinic.Invalid(map[string]string{"start": why})
		}
		earliest, out.Note = after, why
	}
	sessions, err := cal.ProposeSeries(plan, out.PatientID, earliest, prefClock, now, fixed)
	if err != nil {
		// The move itself may already break a rule: say so on the session.
		if checks, ok := cal.CheckSeries(clinic.SeriesPlan{Sessions: len(fixed), MinGapDays: plan.MinGapDays,
			MaxGapDays: plan.MaxGapDays, MaxSpanDays: plan.MaxSpanDays, Minutes: plan.Minutes}, out.PatientID, fixed, now); !ok {
			for _, c := range checks[r.From-1:] {
				if c.Problem != "" {
					return out, clinic.Invalid(map[string]string{"start": c.Problem})
				}
			}
		}
		return out, clinic.Invalid(map[string]string{"start": clinic.ErrorMessage(err)})
	}
	// Sessions before From are not checked again against the clock: they
	// may be in the past or done.
	checks, _ := cal.CheckSeries(plan, out.PatientID, sessions, time.Time{})
	out.OK = true
	for i, c := range checks {
		no := i + 1
		rs := ReflowSession{No: no, Old: current[no], New: c, Kept: no < r.From}
		if !rs.Kept && rs.Moved() && c.Start.Before(now) {
			rs.New.Problem = "That time has already passed."
		}
		if !rs.Kept && rs.New.Problem != "" {
			out.OK = false
		}
		out.Sessions = append(out.Sessions, rs)
	}
	return out, nil
}

// PlanReflow previews a re-flow without changing anything.
func (db *DB) PlanReflow(ctx context.Context, r ReflowRequest, now time.Time) (Reflow, error) {
	var out Reflow
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = planReflow(ctx, tx, r, now, false)
		return err
	})
	return out, err
}

// ApplyReflow re-plans and applies a re-flow in one transaction: every
// moved session or none. want is the preview the person confirmed; when
// the plan came out differently (the calendar changed meanwhile), nothing
// changes and ECONFLICT says so.
func (db *DB) ApplyReflow(ctx context.Context, r ReflowRequest, want []clinic.Slot, now time.Time) (Reflow, error) {
	var out Reflow
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if out, err = planReflow(ctx, tx, r, now, true); err != nil {
			return err
		}
		if !out.OK {
			return clinic.Errorf(clinic.EINVALID, "The re-flowed series breaks a rule; nothing was changed.")
		}
		if want != nil && !sameSlots(out, want) {
			return clinic.Errorf(clinic.ECONFLICT, "The calendar changed since the preview; nothing was changed. Here is the new preview.")
		}
		// Sessions may move onto each other's old times. Park every moving
		// session a thousand years ahead first (keeping their spacing, so
		// the parked ones cannot overlap each other), then place each:
		// the overlap constraints stay immediate and judge every step.
		var parked []int64
		var days []time.Time
		for _, s := range out.Sessions {
			if !s.Kept && s.Moved() && s.Old != nil {
				parked = append(parked, s.Old.ID)
			}
			if !s.Kept && s.Moved() {
				days = append(days, s.New.Start)
			}
		}
		sched, err := schedule(ctx, tx)
		if err != nil {
			return err
		}
		if err := lockDays(ctx, tx, sched.Loc, days...); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE appointments SET starts_at = starts_at + interval '1000 years',
			ends_at = ends_at + interval '1000 years' WHERE id = ANY ($1)`, parked); err != nil {
			return err
		}
		var before, after []clinic.Appointment
		for _, s := range out.Sessions {
			if s.Kept || !s.Moved() {
				continue
			}
			if s.Old != nil {
				before = append(before, *s.Old)
				moved := *s.Old
				moved.Start, moved.End, moved.ChairID, moved.Version = s.New.Start, s.New.End, s.New.ChairID, s.Old.Version+1
				if _, err := tx.Exec(ctx, `UPDATE appointments SET starts_at = $2, ends_at = $3, chair_id = $4,
					version = version + 1, updated_at = now() WHERE id = $1`, moved.ID, moved.Start, moved.End, moved.ChairID); err != nil {
					return err
				}
				after = append(after, moved)
				continue
			}
			// A cancelled session gets a new appointment.
			var courseID int64
			if err := tx.QueryRow(ctx, `SELECT course_id FROM loading_series WHERE id = $1`, r.SeriesID).Scan(&courseID); err != nil {
				return err
			}
			no := s.No
			a := clinic.Appointment{PatientID: out.PatientID, ChairID: s.New.ChairID, Kind: clinic.KindLoading, Status: clinic.StatusBooked,
				Start: s.New.Start, End: s.New.End, CourseID: &courseID, SeriesID: &r.SeriesID, SessionNo: &no, Version: 1}
			if a.ID, err = insertAppointment(ctx, tx, a, "", nil); err != nil {
				return err
			}
			after = append(after, a)
		}
		if err := db.afterMove(ctx, tx, after, before, sched, now); err != nil {
			return err
		}
		return audit(ctx, tx, clinic.AuditEntry{Action: "series.reflow", Entity: "loading_series", EntityID: &r.SeriesID,
			PatientID: &out.PatientID, Before: before, After: after})
	})
	return out, err
}

func sameSlots(r Reflow, want []clinic.Slot) bool {
	if len(want) != len(r.Sessions) {
		return false
	}
	for i, s := range r.Sessions {
		if !s.New.Start.Equal(want[i].Start) || s.New.ChairID != want[i].ChairID {
			return false
		}
	}
	return true
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
		sched, err := schedule(ctx, tx)
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

// CreateCourse opens a treatment course under a protocol, copying its
// numbers. A patient has at most one open course.
func (db *DB) CreateCourse(ctx context.Context, patientID, protocolID int64, startedOn clinic.Date) (clinic.Course, error) {
	var c clinic.Course
	if startedOn.IsZero() {
		return c, clinic.Invalid(map[string]string{"started_on": "Give the date the course starts (YYYY-MM-DD)."})
	}
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var exists, active bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM patients WHERE id = $1)`, patientID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return clinic.Errorf(clinic.ENOTFOUND, "There is no such patient.")
		}
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
