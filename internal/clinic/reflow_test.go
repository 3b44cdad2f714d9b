package clinic

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// reflowSeries is a CRPS series (5 sessions, 1–4 days apart, within 10,
// 270 minutes) booked Mon 2, Tue 3, Wed 4, Thu 5 and Mon 9 March at 09:00
// on chair 1 in README.md's clinic, whose Friday is too short for it.
func reflowSeries(loc *time.Location) SeriesUnderWay {
	s := SeriesUnderWay{ID: 7, PatientID: 1, CourseID: 3, Plan: crps, Preferred: clk("09:00")}
	for i, day := range []int{2, 3, 4, 5, 9} {
		no := i + 1
		start := D(2026, 3, day).At(clk("09:00"), loc)
		s.Appointments = append(s.Appointments, Appointment{ID: int64(100 + no), PatientID: 1, ChairID: 1, Kind: KindLoading,
			Status: StatusBooked, Start: start, End: start.Add(270 * time.Minute), SessionNo: &no, Version: 1})
	}
	return s
}

// reflowOn runs a re-flow as the store does: the calendar holds every
// active appointment of the series except the moving ones, and busy.
func reflowOn(t *testing.T, cal *Calendar, s SeriesUnderWay, r ReflowRequest, now time.Time, busy func(*Calendar)) (Reflow, error) {
	t.Helper()
	b, err := s.PrepareReflow(r, now, cal.Loc)
	if err != nil {
		return Reflow{}, err
	}
	moving := map[int64]bool{}
	for _, id := range b.Moving {
		moving[id] = true
	}
	for _, a := range append(s.Appointments, s.Consults...) {
		if a.Status.Active() && !moving[a.ID] {
			cal.Hold(a.ChairID, a.PatientID, Interval{a.Start, a.End})
			if a.Kind.Infusion() {
				cal.HoldInfusion(a.PatientID, a.Start)
			}
		}
	}
	if busy != nil {
		busy(cal)
	}
	return cal.Reflow(b, now)
}

// describeReflow writes every session as "Tue 3 09:00 #1", a moved one
// with "*", a kept one with "=", and each problem after it.
func describeReflow(rf Reflow, loc *time.Location) string {
	var parts []string
	for _, s := range rf.Sessions {
		mark := ""
		switch {
		case s.Kept:
			mark = "="
		case s.Old == nil:
			mark = "+"
		case s.Moved():
			mark = "*"
		}
		p := fmt.Sprintf("%s%s %s #%d", mark, DateOf(s.New.Start, loc).Format("Mon 2"), ClockOf(s.New.Start, loc), s.New.ChairID)
		if s.New.Problem != "" && !s.Kept {
			p += " (" + s.New.Problem + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

func TestReflow(t *testing.T) {
	loc, _ := time.LoadLocation("America/Phoenix")
	at := func(day int, c string) *time.Time { t := D(2026, 3, day).At(clk(c), loc); return &t }
	sunday := D(2026, 3, 1).At(clk("06:00"), loc)
	with := func(change func(s *SeriesUnderWay)) SeriesUnderWay {
		s := reflowSeries(loc)
		change(&s)
		return s
	}
	cancel := func(no int) func(s *SeriesUnderWay) {
		return func(s *SeriesUnderWay) { s.Appointments[no-1].Status = StatusCancelled }
	}
	fillChair1 := func(days ...int) func(*Calendar) {
		return func(c *Calendar) {
			for _, d := range days {
				c.Hold(1, 99, Interval{D(2026, 3, d).At(clk("07:00"), loc), D(2026, 3, d).At(clk("16:30"), loc)})
			}
		}
	}
	consult := func(day int) func(s *SeriesUnderWay) {
		return func(s *SeriesUnderWay) {
			start := *at(day, "10:00")
			s.Consults = []Appointment{{ID: 500, PatientID: 1, ChairID: 2, Kind: KindConsult, Status: StatusBooked,
				Start: start, End: start.Add(30 * time.Minute)}}
		}
	}
	tests := []struct {
		name   string
		series SeriesUnderWay
		chairs int
		busy   func(*Calendar)
		req    ReflowRequest
		now    time.Time
		want   string // the sessions; or "error CODE: words"
		ok     bool
		note   bool // a consultation moved the first date
	}{
		{name: "session 2 onto session 3's day: the later ones follow, Friday too short",
			series: reflowSeries(loc), req: ReflowRequest{From: 2, Start: at(4, "09:00"), Version: 1},
			want: "=Mon 2 09:00 #1, *Wed 4 09:00 #1, *Thu 5 09:00 #1, *Mon 9 09:00 #1, *Tue 10 09:00 #1", ok: true},
		{name: "the moved session keeps its own chair when it is free",
			series: reflowSeries(loc), chairs: 2, req: ReflowRequest{From: 5, Start: at(9, "10:00")},
			want: "=Mon 2 09:00 #1, =Tue 3 09:00 #1, =Wed 4 09:00 #1, =Thu 5 09:00 #1, *Mon 9 10:00 #1", ok: true},
		{name: "its own chair taken: the first free one",
			series: reflowSeries(loc), chairs: 2, busy: fillChair1(9), req: ReflowRequest{From: 5, Start: at(9, "10:00")},
			want: "=Mon 2 09:00 #1, =Tue 3 09:00 #1, =Wed 4 09:00 #1, =Thu 5 09:00 #1, *Mon 9 10:00 #2", ok: true},
		{name: "the chair asked for",
			series: reflowSeries(loc), chairs: 3, req: ReflowRequest{From: 5, Start: at(9, "10:00"), ChairID: 3},
			want: "=Mon 2 09:00 #1, =Tue 3 09:00 #1, =Wed 4 09:00 #1, =Thu 5 09:00 #1, *Mon 9 10:00 #3", ok: true},
		{name: "no chair free at the new time: its own, with the problem",
			series: reflowSeries(loc), busy: fillChair1(9), req: ReflowRequest{From: 5, Start: at(9, "10:00")},
			want: "=Mon 2 09:00 #1, =Tue 3 09:00 #1, =Wed 4 09:00 #1, =Thu 5 09:00 #1, *Mon 9 10:00 #1 (That chair is taken then.)"},
		{name: "a move past closing is shown on its session",
			series: reflowSeries(loc), req: ReflowRequest{From: 4, Start: at(6, "09:00")},
			want: "=Mon 2 09:00 #1, =Tue 3 09:00 #1, =Wed 4 09:00 #1, *Fri 6 09:00 #1 (9:00 AM–1:30 PM is outside the opening hours on Fridays (8:00 AM–12:00 PM).), Mon 9 09:00 #1"},
		{name: "a move too far from the session before shows the gap rule",
			series: reflowSeries(loc), req: ReflowRequest{From: 4, Start: at(11, "09:00")},
			want: "=Mon 2 09:00 #1, =Tue 3 09:00 #1, =Wed 4 09:00 #1, *Wed 11 09:00 #1 (7 days after the previous session; the protocol allows 1–4.), *Thu 12 09:00 #1"},
		{name: "a move that leaves no room for the rest is refused with the reason",
			series: reflowSeries(loc), busy: fillChair1(9), req: ReflowRequest{From: 3, Start: at(5, "09:00")},
			want: "error invalid: No loading series fits: session 4 would need a day from Fri, Mar 6 to Mon, Mar 9"},
		{name: "a move that itself breaks a rule and leaves no room names the move's problem",
			series: reflowSeries(loc), busy: fillChair1(9), req: ReflowRequest{From: 3, Start: at(5, "16:00")},
			want: "error invalid: 4:00 PM–8:30 PM is outside the opening hours on Thursdays (7:00 AM–4:30 PM)."},
		{name: "a cancelled session re-flowed without a time is booked anew where it fits",
			series: with(cancel(3)), req: ReflowRequest{From: 3},
			want: "=Mon 2 09:00 #1, =Tue 3 09:00 #1, +Wed 4 09:00 #1, Thu 5 09:00 #1, Mon 9 09:00 #1", ok: true},
		{name: "a cancelled session cannot be moved to a time",
			series: with(cancel(3)), req: ReflowRequest{From: 3, Start: at(4, "10:00")},
			want: "error conflict: Session 3 is not booked; re-flow the series from it instead."},
		{name: "a session before From without an appointment",
			series: with(cancel(2)), req: ReflowRequest{From: 3},
			want: "error conflict: Session 2 has no appointment; re-flow from session 2 first."},
		{name: "a stale version is refused",
			series: reflowSeries(loc), req: ReflowRequest{From: 2, Start: at(4, "09:00"), Version: 7},
			want: "error conflict: This session was changed by someone else meanwhile."},
		{name: "a session done cannot move",
			series: with(func(s *SeriesUnderWay) { s.Appointments[1].Status = StatusCompleted }), req: ReflowRequest{From: 2},
			want: "error conflict: Session 2 is already Completed; only sessions still to come can move."},
		{name: "no such session",
			series: reflowSeries(loc), req: ReflowRequest{From: 6},
			want: "error invalid: Choose a session from 1 to 5."},
		{name: "the newest active appointment of a session counts, not a cancelled earlier one",
			series: with(func(s *SeriesUnderWay) {
				no, start := 2, *at(3, "13:00")
				old := Appointment{ID: 90, PatientID: 1, ChairID: 1, Kind: KindLoading, Status: StatusCancelled,
					Start: start, End: start.Add(270 * time.Minute), SessionNo: &no, Version: 2}
				s.Appointments = append(s.Appointments[:2], append([]Appointment{old}, s.Appointments[2:]...)...)
			}), req: ReflowRequest{From: 2},
			want: "=Mon 2 09:00 #1, Tue 3 09:00 #1, Wed 4 09:00 #1, Thu 5 09:00 #1, Mon 9 09:00 #1", ok: true},
		{name: "from session 1 after a consultation: the day after it, with a note",
			series: with(consult(3)), chairs: 2, req: ReflowRequest{From: 1},
			want: "*Wed 4 09:00 #1, *Thu 5 09:00 #1, *Mon 9 09:00 #1, *Tue 10 09:00 #1, *Wed 11 09:00 #1", ok: true, note: true},
		{name: "from session 1 to a time before a consultation: refused",
			series: with(consult(3)), chairs: 2, req: ReflowRequest{From: 1, Start: at(2, "09:00")},
			want: "error invalid: The series starts after the patient's consultation"},
		{name: "a moved session already past",
			series: reflowSeries(loc), req: ReflowRequest{From: 2, Start: at(3, "07:00")}, now: *at(3, "12:00"),
			want: "=Mon 2 09:00 #1, *Tue 3 07:00 #1 (That time has already passed.), Wed 4 09:00 #1, Thu 5 09:00 #1, Mon 9 09:00 #1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = sunday
			}
			tt.req.SeriesID = tt.series.ID
			cal := seriesCalendar(t, "America/Phoenix", max(tt.chairs, 1), nil)
			rf, err := reflowOn(t, cal, tt.series, tt.req, now, tt.busy)
			got := describeReflow(rf, loc)
			if err != nil {
				got = "error " + ErrorCode(err) + ": " + ErrorMessage(err)
				if f := ErrorFields(err); len(f) > 0 {
					got = "error " + ErrorCode(err) + ": " + f["start"] + f["session"]
				}
			}
			if !strings.HasPrefix(got, tt.want) || err == nil && got != tt.want {
				t.Errorf("re-flow\n got %s\nwant %s", got, tt.want)
			}
			if err == nil && (rf.OK != tt.ok || (rf.Note != "") != tt.note) {
				t.Errorf("OK = %v, note %q; want OK %v, a note %v", rf.OK, rf.Note, tt.ok, tt.note)
			}
			if err == nil && (rf.SeriesID != 7 || rf.PatientID != 1 || rf.CourseID != 3) {
				t.Errorf("re-flow of series %d, patient %d, course %d", rf.SeriesID, rf.PatientID, rf.CourseID)
			}
		})
	}
}

func TestReflowChangesAndConfirm(t *testing.T) {
	loc, _ := time.LoadLocation("America/Phoenix")
	now := D(2026, 3, 1).At(clk("06:00"), loc)
	wed := D(2026, 3, 4).At(clk("09:00"), loc)
	moved, err := reflowOn(t, seriesCalendar(t, "America/Phoenix", 1, nil), reflowSeries(loc), ReflowRequest{SeriesID: 7, From: 2, Start: &wed, Version: 1}, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := moved.Changes()
	var got []string
	for i, a := range ch.After {
		got = append(got, fmt.Sprintf("%d:%d v%d→%s", *a.SessionNo, a.ID, a.Version, DateOf(a.Start, loc).Format("Mon 2")))
		if ch.Before[i].ID != a.ID || ch.Before[i].Version != a.Version-1 {
			t.Errorf("session %d before: %+v", *a.SessionNo, ch.Before[i])
		}
	}
	if s := strings.Join(got, ", "); s != "2:102 v2→Wed 4, 3:103 v2→Thu 5, 4:104 v2→Mon 9, 5:105 v2→Tue 10" {
		t.Errorf("changes %s", s)
	}

	s := reflowSeries(loc)
	s.Appointments[2].Status = StatusCancelled
	anew, err := reflowOn(t, seriesCalendar(t, "America/Phoenix", 1, nil), s, ReflowRequest{SeriesID: 7, From: 3}, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch = anew.Changes()
	if len(ch.Before) != 0 || len(ch.After) != 1 {
		t.Fatalf("a cancelled session re-flowed: %+v", ch)
	}
	if a := ch.After[0]; a.ID != 0 || *a.SessionNo != 3 || *a.SeriesID != 7 || *a.CourseID != 3 || a.PatientID != 1 ||
		a.Status != StatusBooked || a.Kind != KindLoading || a.Version != 1 || !a.Start.Equal(s.Appointments[2].Start) {
		t.Errorf("the new session 3: %+v", a)
	}

	want := make([]Slot, len(moved.Sessions))
	for i, rs := range moved.Sessions {
		want[i] = rs.New.Slot
	}
	other := append([]Slot(nil), want...)
	other[4].Start = other[4].Start.Add(time.Hour)
	broken := moved
	broken.OK = false
	for _, c := range []struct {
		name string
		rf   Reflow
		want []Slot
		code string
	}{
		{"no preview", moved, nil, ""},
		{"the preview confirmed", moved, want, ""},
		{"another preview", moved, other, ECONFLICT},
		{"a shorter preview", moved, want[:4], ECONFLICT},
		{"a rule broken", broken, want, EINVALID},
	} {
		if got := ErrorCode(c.rf.Confirm(c.want)); got != c.code {
			t.Errorf("%s: Confirm = %q, want %q", c.name, got, c.code)
		}
	}
}
