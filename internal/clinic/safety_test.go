package clinic

import (
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"
)

var phoenix, _ = time.LoadLocation("America/Phoenix")

func TestCheckInfusionGates(t *testing.T) {
	at := func(d, h int) time.Time { return D(2026, 12, d).At(Clock(h*60), phoenix) }
	booked := Appointment{ID: 1, Kind: KindMaintenance, Status: StatusBooked, Start: at(2, 8), End: at(2, 9)}
	extra := Appointment{ID: 2, Kind: KindMaintenance, Status: StatusBooked, Start: at(9, 8), End: at(9, 9), AdditionalReason: "flare"}
	done := Appointment{ID: 3, Kind: KindLoading, Status: StatusCompleted, Start: at(1, 8), End: at(1, 9)}
	consult := Appointment{ID: 4, Kind: KindConsult, Status: StatusBooked, Start: at(3, 8), End: at(3, 9)}
	cancelled := Appointment{ID: 5, Kind: KindMaintenance, Status: StatusCancelled, Start: at(4, 8), End: at(4, 9)}
	tests := []struct {
		name   string
		v      NewVisit
		others []Appointment
		by     Role
		code   string
		reason Reason
	}{
		{"the first next infusion", NewVisit{Kind: KindMaintenance, Start: at(2, 8)}, nil, RoleFrontDesk, "", ""},
		{"a second next infusion", NewVisit{Kind: KindMaintenance, Start: at(5, 8)}, []Appointment{booked}, RoleFrontDesk, ECONFLICT, ReasonNextInfusionBooked},
		{"an additional one by the desk", NewVisit{Kind: KindMaintenance, Start: at(5, 8), Additional: "flare"}, []Appointment{booked}, RoleFrontDesk, EFORBIDDEN, ""},
		{"an additional one by a physician", NewVisit{Kind: KindMaintenance, Start: at(5, 8), Additional: "flare"}, []Appointment{booked}, RolePhysician, "", ""},
		{"an additional consultation", NewVisit{Kind: KindConsult, Start: at(5, 8), Additional: "flare"}, nil, RolePhysician, EINVALID, ""},
		{"an additional one does not count as the next", NewVisit{Kind: KindMaintenance, Start: at(5, 8)}, []Appointment{extra}, RoleFrontDesk, "", ""},
		{"moving the next one itself", NewVisit{ID: 1, Kind: KindMaintenance, Start: at(6, 8)}, []Appointment{booked}, RoleFrontDesk, "", ""},
		{"the desk moving an additional one", NewVisit{ID: 2, Kind: KindMaintenance, Start: at(10, 8), Additional: "flare"}, []Appointment{booked, extra}, RoleFrontDesk, "", ""},
		{"two infusions one day, other times", NewVisit{Kind: KindLoading, Start: at(1, 15)}, []Appointment{done}, RoleFrontDesk, EINVALID, ReasonInfusionThatDay},
		{"an infusion on a consultation's day", NewVisit{Kind: KindMaintenance, Start: at(3, 13)}, []Appointment{consult}, RoleFrontDesk, "", ""},
		{"a consultation on an infusion's day", NewVisit{Kind: KindConsult, Start: at(2, 13)}, []Appointment{booked}, RoleFrontDesk, "", ""},
		{"a cancelled visit frees its day", NewVisit{Kind: KindLoading, Start: at(4, 13)}, []Appointment{cancelled}, RoleFrontDesk, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckInfusionGates(tc.v, tc.others, tc.by, Schedule{Loc: phoenix})
			if ErrorCode(err) != tc.code || ErrorReason(err) != tc.reason {
				t.Fatalf("got %v (%s); want %s %s", err, ErrorReason(err), tc.code, tc.reason)
			}
		})
	}
	err := CheckInfusionGates(NewVisit{Kind: KindLoading, Start: at(2, 14)}, []Appointment{booked}, RoleFrontDesk, Schedule{Loc: phoenix})
	if !strings.Contains(ErrorFields(err)["start"], "maintenance infusion on Wed, Dec 2, 2026 at 8:00 AM") {
		t.Fatalf("the refusal does not name the other visit: %v", ErrorFields(err))
	}
}

func TestConsultationFirst(t *testing.T) {
	now := D(2026, 12, 1).At(8*60, phoenix)
	c := func(d, h int, s Status) Appointment {
		start := D(2026, 12, d).At(Clock(h*60), phoenix)
		return Appointment{Kind: KindConsult, Status: s, Start: start, End: start.Add(30 * time.Minute)}
	}
	tests := []struct {
		name     string
		earliest Date
		consults []Appointment
		want     Date
		moved    bool
	}{
		{"none", D(2026, 12, 2), nil, D(2026, 12, 2), false},
		{"the day after the consultation", D(2026, 12, 2), []Appointment{c(3, 10, StatusBooked)}, D(2026, 12, 4), true},
		{"the latest of two", D(2026, 12, 2), []Appointment{c(3, 10, StatusBooked), c(7, 9, StatusBooked)}, D(2026, 12, 8), true},
		{"already after it", D(2026, 12, 10), []Appointment{c(3, 10, StatusBooked)}, D(2026, 12, 10), false},
		{"a cancelled one", D(2026, 12, 2), []Appointment{c(3, 10, StatusCancelled)}, D(2026, 12, 2), false},
		{"one already over", D(2026, 12, 2), []Appointment{c(1, 7, StatusBooked)}, D(2026, 12, 2), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, why := ConsultationFirst(tc.earliest, tc.consults, now, Schedule{Loc: phoenix})
			if got != tc.want || (why != "") != tc.moved {
				t.Fatalf("got %s %q; want %s moved=%v", got, why, tc.want, tc.moved)
			}
		})
	}
}

func TestCheckDriver(t *testing.T) {
	onFile := Driver{"Ana Ruiz", "602-555-0100"}
	tests := []struct {
		name     string
		kind     AppointmentKind
		entered  Driver
		onFile   Driver
		want     Driver
		problems string // the fields refused, comma-separated
	}{
		{"on file", KindMaintenance, Driver{}, onFile, onFile, ""},
		{"entered", KindLoading, Driver{" Bo Li ", "602-555-0199"}, Driver{}, Driver{"Bo Li", "602-555-0199"}, ""},
		{"entered beats the file", KindLoading, Driver{"Bo Li", "602-555-0199"}, onFile, Driver{"Bo Li", "602-555-0199"}, ""},
		{"none for an infusion", KindMaintenance, Driver{}, Driver{}, Driver{}, "driver_name,driver_phone"},
		{"a name on file, no phone", KindMaintenance, Driver{}, Driver{Name: "Ana"}, Driver{}, "driver_name,driver_phone"},
		{"a name without a phone", KindMaintenance, Driver{Name: "Bo"}, Driver{}, Driver{}, "driver_phone"},
		{"a consultation needs none", KindConsult, Driver{}, Driver{}, Driver{}, ""},
		{"a direction mark in the name", KindMaintenance, Driver{"Bo\u202eiL", "602"}, Driver{}, Driver{}, "driver_name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckDriver(tc.kind, tc.entered, tc.onFile)
			var fields []string
			for _, f := range []string{"driver_name", "driver_phone"} {
				if ErrorFields(err)[f] != "" {
					fields = append(fields, f)
				}
			}
			if strings.Join(fields, ",") != tc.problems || err == nil && got != tc.want {
				t.Fatalf("got %+v %v; want %+v, problems on %q", got, err, tc.want, tc.problems)
			}
		})
	}
}

func TestBookingHorizon(t *testing.T) {
	s := Schedule{Settings: Settings{BookingHorizonDays: 30}, Loc: phoenix}
	now := D(2026, 12, 1).At(23*60, phoenix)
	for _, tc := range []struct {
		d  Date
		ok bool
	}{{D(2026, 11, 30), false}, {D(2026, 12, 1), true}, {D(2026, 12, 31), true}, {D(2027, 1, 1), false}, {D(3001, 1, 1), false}} {
		if err := s.CheckHorizon("start", tc.d, now); (err == nil) != tc.ok || err != nil && ErrorFields(err)["start"] == "" {
			t.Errorf("%s: %v; want ok=%v", tc.d, err, tc.ok)
		}
	}
	// Without a horizon set, the default of 540 days.
	if _, last := (Schedule{Loc: phoenix}).Horizon(now); last != D(2026, 12, 1).AddDays(540) {
		t.Errorf("default horizon ends %s", last)
	}
}

func TestTextProblem(t *testing.T) {
	for _, tc := range []struct {
		s         string
		multiline bool
		bad       bool
	}{
		{"Álvarez-O'Brien", false, false},
		{"José\u202eoJ", false, true}, // right-to-left override
		{"Ann\u2066a", false, true},
		{"tab\there", false, true},
		{"line\nbreak", false, true},
		{"line\nbreak\tand tab", true, false},
		{"bell\a", true, true},
		{"C1 \u0085", true, true},
		{"emoji 🙂", false, false},
	} {
		if got := TextProblem(tc.s, tc.multiline) != ""; got != tc.bad {
			t.Errorf("%q (multiline %v): unfit=%v; want %v", tc.s, tc.multiline, got, tc.bad)
		}
	}
}

// The clocks jump over 02:00–02:59 on Sunday 14 March 2027 in Chicago: none
// of it is a start, and a typed 02:30 is refused, not moved to 03:30.
func TestTimesThatDoNotExist(t *testing.T) {
	chicago, _ := time.LoadLocation("America/Chicago")
	d := D(2027, 3, 14)
	s := Schedule{Settings: Settings{SlotMinutes: 15}, Loc: chicago}
	s.Settings.Hours[time.Sunday] = []Range{{Opens: 0, Closes: 5 * 60}}
	for _, c := range s.StartsOn(d, 15) {
		if c >= 2*60 && c < 3*60 {
			t.Fatalf("offered %s, which does not exist that night", c)
		}
	}
	if len(s.StartsOn(d, 15)) != 16 { // 00:00–01:45 and 03:00–04:45
		t.Fatalf("starts %v", s.StartsOn(d, 15))
	}
	if _, err := LocalStart(d, 2*60+30, chicago); ErrorFields(err)["time"] == "" {
		t.Fatalf("02:30 accepted: %v", err)
	}
	if got, err := LocalStart(d, 3*60, chicago); err != nil || got.UTC().Format("15:04") != "08:00" {
		t.Fatalf("03:00: %v %v", got, err)
	}
	// The hour that repeats in November exists (twice): it is accepted.
	if _, err := LocalStart(D(2027, 11, 7), 60+30, chicago); err != nil {
		t.Fatal(err)
	}
}

// Two visits in the hour repeated on 2027-11-07 in Chicago (01:30 CDT and
// 01:30 CST) are written in UTC, so that every parser reads the same two
// instants; the others keep the clinic's zone.
func TestICSRepeatedHourInUTC(t *testing.T) {
	chicago, _ := time.LoadLocation("America/Chicago")
	first := time.Date(2027, 11, 7, 6, 30, 0, 0, time.UTC)  // 01:30 CDT
	second := time.Date(2027, 11, 7, 7, 30, 0, 0, time.UTC) // 01:30 CST
	normal := time.Date(2027, 11, 8, 15, 0, 0, 0, time.UTC) // 09:00 CST
	stamp := time.Date(2027, 11, 1, 0, 0, 0, 0, time.UTC)
	doc := ICS("Visits", chicago, []CalendarEvent{
		{UID: "a@x", Start: first, End: first.Add(20 * time.Minute), Summary: "A", Stamp: stamp},
		{UID: "b@x", Start: second, End: second.Add(20 * time.Minute), Summary: "B", Stamp: stamp},
		{UID: "c@x", Start: normal, End: normal.Add(time.Hour), Summary: "C", Stamp: stamp},
	})
	if strings.Count(doc, "DTSTART;TZID=America/Chicago:20271107T013000") != 0 {
		t.Fatalf("an ambiguous local time was written:\n%s", doc)
	}
	for _, want := range []string{"DTSTART:20271107T063000Z", "DTSTART:20271107T073000Z", "DTSTART;TZID=America/Chicago:20271108T090000"} {
		if !strings.Contains(doc, want) {
			t.Fatalf("missing %s:\n%s", want, doc)
		}
	}
	cal, err := ical.NewDecoder(strings.NewReader(doc)).Decode()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range cal.Events() {
		start, err := e.DateTimeStart(nil)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, start.UTC().Format(time.RFC3339))
	}
	if strings.Join(got, " ") != "2027-11-07T06:30:00Z 2027-11-07T07:30:00Z 2027-11-08T15:00:00Z" {
		t.Fatalf("parsed back as %v", got)
	}
}

func TestPlanWithTheNextVisitBooked(t *testing.T) {
	history := []InfusionHistory{{ID: 1, GivenOn: D(2026, 3, 13), Phase: PhaseLoading}}
	iv := domainIntervals
	iv.First = 42 // due 24 Apr
	for _, tc := range []struct {
		name string
		on   Date
		note string
	}{
		{"on the due date", D(2026, 4, 24), "Booked on the due date."},
		{"after it", D(2026, 5, 3), "Booked 9 days after the due date."},
		{"before it", D(2026, 4, 20), "Booked 4 days before the due date."},
		{"sooner than the shortest interval", D(2026, 4, 1), "Booked 19 days after the last infusion: sooner than the shortest interval (28 d)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanMaintenance(PlanInput{Intervals: iv, Infusions: history, Today: D(2026, 4, 20),
				Next: &NextVisit{AppointmentID: 7, On: tc.on}})
			if p.NextNote != tc.note || p.HasFlag(FlagDueNotBooked) || p.Next == nil || p.Next.AppointmentID != 7 {
				t.Fatalf("note %q flags %v next %+v", p.NextNote, p.Flags, p.Next)
			}
		})
	}
	if p := PlanMaintenance(PlanInput{Intervals: iv, Infusions: history, Today: D(2026, 4, 20)}); !p.HasFlag(FlagDueNotBooked) || p.NextNote != "" {
		t.Fatalf("nothing booked: flags %v note %q", p.Flags, p.NextNote)
	}
}
