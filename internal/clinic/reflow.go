package clinic

import (
	"fmt"
	"slices"
	"time"
)

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
	Old  *Appointment
	New  SessionCheck
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
	CourseID  int64
	Sessions  []ReflowSession
	OK        bool
	Note      string // why the first date moved (a consultation first)
}

// SeriesUnderWay is a loading series as a re-flow reads it.
type SeriesUnderWay struct {
	ID        int64
	PatientID int64
	CourseID  int64
	Plan      SeriesPlan // the course's numbers
	Preferred Clock
	// Appointments are every appointment of the series, by session and,
	// within a session, newest first.
	Appointments []Appointment
	Consults     []Appointment // the patient's consultations still booked
}

// ReflowBasis is what a re-flow keeps and what it moves, decided from the
// series before the calendar is read.
type ReflowBasis struct {
	Request ReflowRequest
	Series  SeriesUnderWay
	// Moving are the appointments that move: the calendar must not count
	// them as busy.
	Moving []int64
	// From and To are the clinic-local days the re-plan can touch.
	From, To Date
	current  []*Appointment // each session's active appointment, by number
	fixed    []Slot         // the sessions before From, as they are
}

// PrepareReflow checks a re-flow request against the series: a session
// that exists; sessions from From on still to come; the version the person
// saw; every session before From booked. Each session's current
// appointment is its active one, the newest when there are several.
func (s SeriesUnderWay) PrepareReflow(r ReflowRequest, now time.Time, loc *time.Location) (ReflowBasis, error) {
	b := ReflowBasis{Request: r, Series: s}
	if r.From < 1 || r.From > s.Plan.Sessions {
		return b, Invalid(map[string]string{"session": fmt.Sprintf("Choose a session from 1 to %d.", s.Plan.Sessions)})
	}
	b.current = make([]*Appointment, s.Plan.Sessions+1)
	for i := range s.Appointments {
		a := &s.Appointments[i]
		if a.SessionNo == nil || *a.SessionNo > s.Plan.Sessions || !a.Status.Active() || b.current[*a.SessionNo] != nil {
			continue
		}
		b.current[*a.SessionNo] = a
		if *a.SessionNo >= r.From {
			if a.Status != StatusBooked {
				return b, Errorf(ECONFLICT, "Session %d is already %s; only sessions still to come can move.", *a.SessionNo, a.Status.Label())
			}
			b.Moving = append(b.Moving, a.ID)
		}
	}
	from := b.current[r.From]
	if r.Start != nil && from == nil {
		return b, Errorf(ECONFLICT, "Session %d is not booked; re-flow the series from it instead.", r.From)
	}
	if from != nil && r.Version != 0 && from.Version != r.Version {
		return b, Errorf(ECONFLICT, "This session was changed by someone else meanwhile. It is shown as it stands now; nothing was changed.")
	}
	for no := 1; no < r.From; no++ {
		a := b.current[no]
		if a == nil {
			return b, Errorf(ECONFLICT, "Session %d has no appointment; re-flow from session %d first.", no, no)
		}
		b.fixed = append(b.fixed, Slot{ChairID: a.ChairID, Interval: Interval{Start: a.Start, End: a.End}})
	}
	first := DateOf(now, loc)
	if len(b.fixed) > 0 {
		first = DateOf(b.fixed[0].Start, loc)
	}
	b.From, b.To = first.AddDays(-1), first.AddDays(FirstDateWindow+s.Plan.MaxSpanDays)
	return b, nil
}

// Reflow re-plans a series on the calendar (which leaves out the moving
// sessions): sessions before From stay; session From goes to Start (the
// chair asked for, else its own chair if free, else the first free); the
// later ones are planned as early as the gaps allow, nearest to the
// series' preferred time. Re-flowing from session 1 starts the series
// after a consultation still booked. Sessions that move must not be past.
func (c *Calendar) Reflow(b ReflowBasis, now time.Time) (Reflow, error) {
	r, s := b.Request, b.Series
	out := Reflow{SeriesID: s.ID, PatientID: s.PatientID, CourseID: s.CourseID}
	fixed := slices.Clone(b.fixed)
	if r.Start != nil {
		fixed = append(fixed, c.movedSession(r, b.current[r.From], s.Plan.Minutes))
	}
	earliest := DateOf(now, c.Loc)
	if len(fixed) > 0 {
		earliest = DateOf(fixed[0].Start, c.Loc)
	}
	if r.From == 1 { // the series starts again: after a consultation booked first
		after, why := ConsultationFirst(earliest, s.Consults, now, c.Schedule)
		if why != "" && r.Start != nil {
			return out, Invalid(map[string]string{"start": why})
		}
		earliest, out.Note = after, why
	}
	sessions, err := c.ProposeSeries(s.Plan, s.PatientID, earliest, s.Preferred, now, fixed)
	if err != nil {
		return out, c.moveProblem(s, fixed, r.From, err, now)
	}
	// Sessions before From are not checked again against the clock: they
	// may be in the past or done.
	checks, _ := c.CheckSeries(s.Plan, s.PatientID, sessions, time.Time{})
	out.OK = true
	for i, check := range checks {
		no := i + 1
		rs := ReflowSession{No: no, Old: b.current[no], New: check, Kept: no < r.From}
		if !rs.Kept && rs.Moved() && check.Start.Before(now) {
			rs.New.Problem = "That time has already passed."
		}
		if !rs.Kept && rs.New.Problem != "" {
			out.OK = false
		}
		out.Sessions = append(out.Sessions, rs)
	}
	return out, nil
}

// movedSession is where session From goes: at r.Start, on the chair asked
// for, else its own chair when free, else the first free one (else its
// own, whose check then names the problem).
func (c *Calendar) movedSession(r ReflowRequest, from *Appointment, minutes int) Slot {
	iv := Interval{Start: *r.Start, End: r.Start.Add(time.Duration(minutes) * time.Minute)}
	chair := r.ChairID
	if chair == 0 {
		if c.ChairFree(from.ChairID, iv) {
			chair = from.ChairID
		} else if free, ok := c.FirstFreeChair(iv); ok {
			chair = free
		} else {
			chair = from.ChairID
		}
	}
	return Slot{ChairID: chair, Interval: iv}
}

// moveProblem explains a re-flow that cannot be planned: the move itself
// may already break a rule (said on the session), else why no series fits.
func (c *Calendar) moveProblem(s SeriesUnderWay, fixed []Slot, from int, err error, now time.Time) error {
	partial := s.Plan
	partial.Sessions = len(fixed)
	if checks, ok := c.CheckSeries(partial, s.PatientID, fixed, now); !ok {
		for _, check := range checks[from-1:] {
			if check.Problem != "" {
				return Invalid(map[string]string{"start": check.Problem})
			}
		}
	}
	return Invalid(map[string]string{"start": ErrorMessage(err)})
}

// Confirm refuses a re-flow that breaks a rule, or that came out other
// than the preview the person confirmed (want; nil: no preview), because
// the calendar changed meanwhile.
func (r Reflow) Confirm(want []Slot) error {
	if !r.OK {
		return Errorf(EINVALID, "The re-flowed series breaks a rule; nothing was changed.")
	}
	if want != nil && !r.matches(want) {
		return Errorf(ECONFLICT, "The calendar changed since the preview; nothing was changed. Here is the new preview.")
	}
	return nil
}

func (r Reflow) matches(want []Slot) bool {
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

// ReflowChanges are the writes a re-flow makes.
type ReflowChanges struct {
	Before []Appointment // the moving sessions' appointments as they were
	// After are the sessions that change, as they become: a moved one
	// keeps its id (its version one up); a session that had none gets a
	// new appointment (id 0).
	After []Appointment
}

// Changes lists what a re-flow writes: every session from From on whose
// time or chair changes.
func (r Reflow) Changes() ReflowChanges {
	var out ReflowChanges
	for _, s := range r.Sessions {
		if s.Kept || !s.Moved() {
			continue
		}
		if s.Old != nil {
			out.Before = append(out.Before, *s.Old)
			moved := *s.Old
			moved.Start, moved.End, moved.ChairID, moved.Version = s.New.Start, s.New.End, s.New.ChairID, s.Old.Version+1
			moved.Nurse = s.New.Nurse
			out.After = append(out.After, moved)
			continue
		}
		no, course, series := s.No, r.CourseID, r.SeriesID
		out.After = append(out.After, Appointment{PatientID: r.PatientID, ChairID: s.New.ChairID, Kind: KindLoading,
			Status: StatusBooked, Start: s.New.Start, End: s.New.End, CourseID: &course, SeriesID: &series, SessionNo: &no, Version: 1,
			Nurse: s.New.Nurse})
	}
	return out
}
