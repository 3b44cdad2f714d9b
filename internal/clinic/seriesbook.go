package clinic

import (
	"fmt"
	"strconv"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// SeriesRequest asks for a loading series for one patient.
type SeriesRequest struct {
	PatientID  int64
	ProtocolID int64
	StartDate  Date  // the earliest first date
	Preferred  Clock // the preferred local start time
	// Sessions, when given, are the slots the desk confirmed (the proposal,
	// perhaps with a session's time or chair changed). Only their starts and
	// chairs count: each lasts the plan's minutes. They are checked against
	// every rule again and booked as they are. Without them the planner's
	// proposal is booked.
	Sessions       []Slot
	IdempotencyKey string
}

// SeriesProposal is a planned series with what it was planned from.
type SeriesProposal struct {
	Plan     SeriesPlan
	Protocol Protocol
	Course   *Course // the open course whose numbers were used; nil: a new one is opened
	Checks   []SessionCheck
	OK       bool // every session passes every rule
	// Note says why the first date is later than asked (a consultation
	// booked first); "" when it is not.
	Note string
}

// Sessions are the proposal's slots in session order.
func (p SeriesProposal) Sessions() []Slot {
	out := make([]Slot, len(p.Checks))
	for i, c := range p.Checks {
		out[i] = c.Slot
	}
	return out
}

// BookedSeries is a booked loading series.
type BookedSeries struct {
	ID       int64
	CourseID int64
	Sessions []Appointment // in session order
	// Refused is, when nothing was booked because a session breaks a rule
	// or was taken meanwhile, what to show instead: after a slot was taken,
	// a fresh proposal (Fresh); else the sessions as sent, each with its
	// problem. nil when booked, or when the refusal has no sessions to show.
	Refused *SeriesProposal
	Fresh   bool
}

// SeriesBasis is what a new series is planned from, as the store read it.
type SeriesBasis struct {
	Protocol       *Protocol // the protocol asked for; nil when there is none
	Course         *Course   // the patient's open course; nil when none
	CourseProtocol string    // the name of the open course's protocol
	UnderWay       bool      // the open course has a series booked or under way
}

// Propose chooses the numbers a new series under protocolID follows: the
// patient's open course (which must be loading, under this protocol, with
// no series under way) or, without one, the protocol, which must be in
// use.
func (b SeriesBasis) Propose(protocolID int64) (SeriesProposal, error) {
	var p SeriesProposal
	if b.Protocol != nil {
		p.Protocol = *b.Protocol
	}
	if b.Protocol == nil || !b.Protocol.Active && b.Course == nil {
		return p, Invalid(map[string]string{"protocol_id": "Choose a protocol in use."})
	}
	c := b.Course
	switch {
	case c == nil:
		p.Plan = PlanOf(b.Protocol.Numbers)
		return p, nil
	case c.ProtocolID != protocolID:
		return p, Invalid(map[string]string{"protocol_id": "The patient's open course follows " + b.CourseProtocol + "; its series uses that protocol."})
	case c.Phase != PhaseLoading:
		return p, Errorf(ECONFLICT, "The patient's course is in its %s phase; a loading series belongs to a course in its loading phase.", c.Phase)
	case b.UnderWay:
		return p, Errorf(ECONFLICT, "The patient already has a loading series booked; move or cancel it instead.")
	}
	p.Plan, p.Course = PlanOf(c.Numbers), c
	return p, nil
}

// SeriesWindow is the clinic-local days a series asked for can touch: from
// the earliest first date through the window and the span, widened to the
// sessions the desk sent.
func SeriesWindow(plan SeriesPlan, req SeriesRequest, loc *time.Location) (Date, Date) {
	from, to := req.StartDate, req.StartDate.AddDays(FirstDateWindow+plan.MaxSpanDays)
	for _, s := range req.Sessions {
		if d := DateOf(s.Start, loc); d.Before(from) {
			from = d
		} else if d.After(to) {
			to = d
		}
	}
	return from, to
}

// PlanSeries plans the series p was chosen for (or, with req.Sessions,
// checks the sessions sent): after any consultation still to come, inside
// the booking horizon, every session checked against every rule.
func (c *Calendar) PlanSeries(p SeriesProposal, req SeriesRequest, consults []Appointment, now time.Time) (SeriesProposal, error) {
	sessions := make([]Slot, len(req.Sessions))
	for i, s := range req.Sessions {
		sessions[i] = Slot{ChairID: s.ChairID, Interval: Interval{Start: s.Start, End: s.Start.Add(time.Duration(p.Plan.Minutes) * time.Minute)}}
	}
	if req.Sessions == nil {
		if err := c.CheckHorizon("start_date", req.StartDate, now); err != nil {
			return p, err
		}
		var earliest Date
		earliest, p.Note = ConsultationFirst(req.StartDate, consults, now, c.Schedule)
		var err error
		if sessions, err = c.ProposeSeries(p.Plan, req.PatientID, earliest, req.Preferred, now, nil); err != nil {
			return p, err
		}
	}
	p.Checks, p.OK = c.CheckSeries(p.Plan, req.PatientID, sessions, now)
	if len(sessions) > 0 {
		first := DateOf(sessions[0].Start, c.Loc)
		if after, why := ConsultationFirst(first, consults, now, c.Schedule); why != "" && p.Checks[0].Problem == "" {
			p.Checks[0].Problem = fmt.Sprintf("The series starts after the patient's consultation: on %s at the earliest.", c.DayText(after, i18n.Short))
			p.OK = false
		}
	}
	return p, nil
}

// SlotTakenMessage is what a series refused for a slot taken meanwhile says.
const SlotTakenMessage = "A slot of the series was taken meanwhile; nothing was booked. Here is a fresh proposal."

// Refusal turns the sessions that break a rule into an error: a slot
// taken meanwhile is a conflict; anything else is invalid input, each
// session's problem on its own field ("session.3").
func (p SeriesProposal) Refusal() error {
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
		return &Error{Code: ECONFLICT, Reason: ReasonSlotTaken, Message: SlotTakenMessage, Fields: fields}
	}
	return &Error{Code: EINVALID, Message: "Some sessions break the protocol's rules; nothing was booked.", Fields: fields}
}

// Appointments are the proposal's sessions as the appointments to book
// for the patient, in the course and series given.
func (p SeriesProposal) Appointments(patientID, courseID, seriesID int64) []Appointment {
	out := make([]Appointment, len(p.Checks))
	for i, s := range p.Checks {
		no := i + 1
		out[i] = Appointment{PatientID: patientID, ChairID: s.ChairID, Kind: KindLoading, Status: StatusBooked,
			Start: s.Start, End: s.End, CourseID: &courseID, SeriesID: &seriesID, SessionNo: &no, Version: 1, Nurse: s.Nurse}
	}
	return out
}

// CheckSessionMove refuses to move one session (id) of a loading series
// to start when that breaks the series' gaps or span; such a move goes
// through a re-flow, which moves the later sessions with it. sessions are
// the series' active appointments in session order.
func CheckSessionMove(plan SeriesPlan, sessions []Appointment, id int64, start time.Time, loc *time.Location) error {
	dates := make([]Date, len(sessions))
	for i, s := range sessions {
		if s.ID == id {
			s.Start = start
		}
		dates[i] = DateOf(s.Start, loc)
	}
	if problem := CheckSpacing(plan, dates); problem != "" {
		return Invalid(map[string]string{"start": problem + " Move it with a re-flow of the series instead."})
	}
	return nil
}
