package clinic

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSeriesBasisPropose(t *testing.T) {
	std := &Protocol{ID: 1, Name: "Standard IV loading", Active: true, Numbers: Numbers{Sessions: 6, MinGapDays: 2, MaxGapDays: 3,
		MaxSpanDays: 14, InfusionMinutes: 60, RecoveryMinutes: 30}}
	retired := *std
	retired.Active = false
	course := func(phase Phase, protocol int64) *Course {
		return &Course{ID: 9, ProtocolID: protocol, Phase: phase, Numbers: Numbers{Sessions: 4, MinGapDays: 1, MaxGapDays: 2, MaxSpanDays: 8,
			InfusionMinutes: 40, RecoveryMinutes: 20}}
	}
	tests := []struct {
		name  string
		basis SeriesBasis
		want  string // "sessions minutes course?" or "error CODE: words"
	}{
		{"no course: the protocol's numbers, a course to open", SeriesBasis{Protocol: std}, "6 90 new"},
		{"the open course's own numbers", SeriesBasis{Protocol: std, Course: course(PhaseLoading, 1)}, "4 60 course 9"},
		{"a retired protocol still serves its open course", SeriesBasis{Protocol: &retired, Course: course(PhaseLoading, 1)}, "4 60 course 9"},
		{"a retired protocol opens no course", SeriesBasis{Protocol: &retired}, "error invalid: Choose a protocol in use."},
		{"no such protocol", SeriesBasis{Course: course(PhaseLoading, 1)}, "error invalid: Choose a protocol in use."},
		{"the course follows another protocol", SeriesBasis{Protocol: std, Course: course(PhaseLoading, 2), CourseProtocol: "CRPS extended"},
			"error invalid: The patient's open course follows CRPS extended; its series uses that protocol."},
		{"a course in maintenance", SeriesBasis{Protocol: std, Course: course(PhaseMaintenance, 1)},
			"error conflict: The patient's course is in its maintenance phase"},
		{"a series already under way", SeriesBasis{Protocol: std, Course: course(PhaseLoading, 1), UnderWay: true},
			"error conflict: The patient already has a loading series booked"},
	}
	for _, tt := range tests {
		p, err := tt.basis.Propose(1)
		var got string
		switch {
		case err != nil:
			got = "error " + ErrorCode(err) + ": " + ErrorMessage(err) + ErrorFields(err)["protocol_id"]
			got = strings.Replace(got, "Please correct the highlighted fields.", "", 1)
		case p.Course != nil:
			got = strings.Join([]string{strconv.Itoa(p.Plan.Sessions), strconv.Itoa(p.Plan.Minutes), "course", strconv.Itoa(int(p.Course.ID))}, " ")
		default:
			got = strings.Join([]string{strconv.Itoa(p.Plan.Sessions), strconv.Itoa(p.Plan.Minutes), "new"}, " ")
		}
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestPlanSeries(t *testing.T) {
	loc, _ := time.LoadLocation("America/Phoenix")
	at := func(day int, c string) time.Time { return D(2026, 3, day).At(clk(c), loc) }
	sunday := at(1, "06:00")
	consultOn := func(day int) []Appointment {
		return []Appointment{{ID: 50, PatientID: 1, ChairID: 1, Kind: KindConsult, Status: StatusBooked, Start: at(day, "10:00"), End: at(day, "10:30")}}
	}
	tests := []struct {
		name     string
		req      SeriesRequest
		consults []Appointment
		want     string // the sessions, problems after "!"; or "error: words"
		ok       bool
		note     bool
	}{
		{name: "the planner's proposal",
			req:  SeriesRequest{StartDate: D(2026, 3, 2), Preferred: clk("09:00")},
			want: "Mon 2 Mar 09:00 #1, Tue 3 Mar 09:00 #1, Wed 4 Mar 09:00 #1", ok: true},
		{name: "after a consultation, with a note",
			req: SeriesRequest{StartDate: D(2026, 3, 2), Preferred: clk("09:00")}, consults: consultOn(3),
			want: "Wed 4 Mar 09:00 #1, Thu 5 Mar 09:00 #1, Fri 6 Mar 09:00 #1", ok: true, note: true},
		{name: "the sessions the desk sent, each as long as the plan",
			req: SeriesRequest{Sessions: []Slot{{ChairID: 1, Interval: Interval{Start: at(2, "10:00")}},
				{ChairID: 1, Interval: Interval{Start: at(4, "10:00")}}, {ChairID: 1, Interval: Interval{Start: at(5, "10:00")}}}},
			want: "Mon 2 Mar 10:00 #1, Wed 4 Mar 10:00 #1, Thu 5 Mar 10:00 #1", ok: true},
		{name: "sent sessions before a consultation: the first says so",
			req: SeriesRequest{Sessions: []Slot{{ChairID: 1, Interval: Interval{Start: at(2, "10:00")}},
				{ChairID: 1, Interval: Interval{Start: at(4, "10:00")}}, {ChairID: 1, Interval: Interval{Start: at(5, "10:00")}}}},
			consults: consultOn(3),
			want:     "Mon 2 Mar 10:00 #1 !The series starts after the patient's consultation: on Wed, Mar 4 at the earliest."},
		{name: "a first date beyond the booking horizon",
			req:  SeriesRequest{StartDate: D(2027, 6, 1), Preferred: clk("09:00")},
			want: "error: The clinic books up to 90 days ahead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cal := seriesCalendar(t, "America/Phoenix", 1, nil)
			cal.Settings.BookingHorizonDays = 90
			tt.req.PatientID = 1
			p, err := cal.PlanSeries(SeriesProposal{Plan: short}, tt.req, tt.consults, sunday)
			got := describe(p.Sessions(), loc)
			if err != nil {
				got = "error: " + ErrorFields(err)["start_date"]
			} else if p.Checks[0].Problem != "" {
				got = describe(p.Sessions()[:1], loc) + " !" + p.Checks[0].Problem
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got %s\nwant %s", got, tt.want)
			}
			for _, c := range p.Checks {
				if c.End.Sub(c.Start) != 75*time.Minute {
					t.Errorf("a session of %v; the plan says 75 minutes", c.End.Sub(c.Start))
				}
			}
			if err == nil && (p.OK != tt.ok || (p.Note != "") != tt.note) {
				t.Errorf("OK %v, note %q; want OK %v, a note %v", p.OK, p.Note, tt.ok, tt.note)
			}
		})
	}
}

func TestSeriesRefusal(t *testing.T) {
	taken := SessionCheck{Problem: "That chair is taken then.", Taken: true}
	broken := SessionCheck{Problem: "3 days after the previous session."}
	fine := SessionCheck{}
	tests := []struct {
		name   string
		checks []SessionCheck
		code   string
		fields string
	}{
		{"only slots taken meanwhile: a conflict", []SessionCheck{fine, taken, fine}, ECONFLICT, "session.2"},
		{"a rule broken: invalid", []SessionCheck{fine, taken, broken}, EINVALID, "session.2 session.3"},
		{"a session missing: invalid", []SessionCheck{fine, fine}, EINVALID, "sessions"},
	}
	for _, tt := range tests {
		err := SeriesProposal{Plan: short, Checks: tt.checks}.Refusal()
		var fields []string
		for _, f := range []string{"session.1", "session.2", "session.3", "sessions"} {
			if ErrorFields(err)[f] != "" {
				fields = append(fields, f)
			}
		}
		if ErrorCode(err) != tt.code || strings.Join(fields, " ") != tt.fields {
			t.Errorf("%s: %s %v", tt.name, ErrorCode(err), fields)
		}
		if (ErrorReason(err) == ReasonSlotTaken) != (tt.code == ECONFLICT) {
			t.Errorf("%s: reason %q", tt.name, ErrorReason(err))
		}
	}
}

func TestSeriesWindow(t *testing.T) {
	loc, _ := time.LoadLocation("America/Phoenix")
	req := SeriesRequest{StartDate: D(2026, 3, 2)}
	if from, to := SeriesWindow(short, req, loc); from != D(2026, 3, 2) || to != D(2026, 4, 6) {
		t.Errorf("window %s–%s", from, to)
	}
	req.Sessions = []Slot{{Interval: Interval{Start: D(2026, 2, 27).At(clk("09:00"), loc)}}, {Interval: Interval{Start: D(2026, 4, 20).At(clk("09:00"), loc)}}}
	if from, to := SeriesWindow(short, req, loc); from != D(2026, 2, 27) || to != D(2026, 4, 20) {
		t.Errorf("window with the sessions sent %s–%s", from, to)
	}
}

func TestSeriesAppointments(t *testing.T) {
	loc, _ := time.LoadLocation("America/Phoenix")
	s := reflowSeries(loc)
	var checks []SessionCheck
	for _, a := range s.Appointments {
		checks = append(checks, SessionCheck{Slot: Slot{ChairID: 2, Interval: Interval{a.Start, a.End}}})
	}
	for i, a := range (SeriesProposal{Checks: checks}).Appointments(1, 3, 7) {
		if *a.SessionNo != i+1 || *a.CourseID != 3 || *a.SeriesID != 7 || a.PatientID != 1 || a.ChairID != 2 ||
			a.Kind != KindLoading || a.Status != StatusBooked || a.Version != 1 || !a.Start.Equal(checks[i].Start) {
			t.Errorf("session %d: %+v", i+1, a)
		}
	}
}

func TestCheckSessionMove(t *testing.T) {
	loc, _ := time.LoadLocation("America/Phoenix")
	s := reflowSeries(loc)
	at := func(day int, c string) time.Time { return D(2026, 3, day).At(clk(c), loc) }
	tests := []struct {
		name  string
		id    int64
		start time.Time
		want  string
	}{
		{"another time the same day", 102, at(3, "13:00"), ""},
		{"a day that keeps every gap", 105, at(6, "08:00"), ""},
		{"the day of the session before", 102, at(2, "13:00"), "Session 2 would be 0 days after session 1; the protocol allows 1–4. Move it with a re-flow of the series instead."},
		{"past the span", 105, at(13, "09:00"), "Session 5 would be 8 days after session 4; the protocol allows 1–4. Move it with a re-flow of the series instead."},
	}
	for _, tt := range tests {
		err := CheckSessionMove(crps, s.Appointments, tt.id, tt.start, loc)
		if got := ErrorFields(err)["start"]; got != tt.want || (err != nil) != (tt.want != "") {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestBookingAppointment(t *testing.T) {
	loc, _ := time.LoadLocation("America/Phoenix")
	cal := seriesCalendar(t, "America/Phoenix", 1, nil)
	sched := cal.Schedule
	now := D(2026, 3, 1).At(clk("06:00"), loc)
	mon := D(2026, 3, 2).At(clk("09:00"), loc)
	course := &Course{ID: 4, Numbers: Numbers{InfusionMinutes: 240, RecoveryMinutes: 30, MaintenanceInfusionMinutes: 90, MaintenanceRecoveryMinutes: 45}}
	tests := []struct {
		name    string
		b       Booking
		course  *Course
		minutes int
		course4 bool
		err     string
	}{
		{"a consultation: 30 minutes, no course", Booking{Kind: KindConsult, Start: mon}, course, 30, false, ""},
		{"maintenance without a course: the default", Booking{Kind: KindMaintenance, Start: mon}, nil, 90, false, ""},
		{"maintenance in the course: its numbers", Booking{Kind: KindMaintenance, Start: mon, AdditionalReason: "  flare  "}, course, 135, true, ""},
		{"a loading session in the course", Booking{Kind: KindLoading, Start: mon}, course, 270, true, ""},
		{"a loading session without a course", Booking{Kind: KindLoading, Start: mon}, nil, 0, false, "protocol_id"},
		{"in the past", Booking{Kind: KindConsult, Start: now.Add(-time.Hour)}, nil, 0, false, "start"},
		{"past closing", Booking{Kind: KindLoading, Start: D(2026, 3, 2).At(clk("15:00"), loc)}, course, 0, false, "start"},
	}
	for _, tt := range tests {
		tt.b.PatientID = 1
		a, err := tt.b.Appointment(tt.course, sched, now)
		if tt.err != "" {
			if ErrorFields(err)[tt.err] == "" {
				t.Errorf("%s: %v; want a problem with %s", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || a.Minutes() != tt.minutes || (a.CourseID != nil) != tt.course4 || a.Status != StatusBooked || a.Version != 1 || a.PatientID != 1 {
			t.Errorf("%s: %+v %v", tt.name, a, err)
		}
		if tt.b.AdditionalReason != "" && a.AdditionalReason != "flare" {
			t.Errorf("%s: reason %q", tt.name, a.AdditionalReason)
		}
	}
}

func TestBookingReplays(t *testing.T) {
	prev := Appointment{PatientID: 1, Kind: KindMaintenance, ChairID: 2}
	for _, c := range []struct {
		b    Booking
		code string
	}{
		{Booking{PatientID: 1, Kind: KindMaintenance}, ""},
		{Booking{PatientID: 1, Kind: KindMaintenance, ChairID: 2}, ""},
		{Booking{PatientID: 1, Kind: KindMaintenance, ChairID: 3}, ECONFLICT},
		{Booking{PatientID: 2, Kind: KindMaintenance}, ECONFLICT},
		{Booking{PatientID: 1, Kind: KindConsult}, ECONFLICT},
	} {
		if got := ErrorCode(c.b.Replays(prev)); got != c.code {
			t.Errorf("%+v: %q, want %q", c.b, got, c.code)
		}
	}
}
