package clinic

import (
	"fmt"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

func TestFloorAssign(t *testing.T) {
	loc, _ := time.LoadLocation("America/Phoenix")
	day := D(2026, 3, 2)
	at := func(c string) time.Time { return day.At(clk(c), loc) }
	iv := func(from, to string) Interval { return Interval{at(from), at(to)} }
	lee := Shift{NurseID: 1, NurseName: "Nurse Lee", Date: day, From: clk("07:00"), To: clk("16:30")}
	kim := Shift{NurseID: 2, NurseName: "Nurse Kim", Date: day, From: clk("08:00"), To: clk("12:00")}
	watch := func(appt, nurse int64, place int, from, to, who string) Watch {
		return Watch{AppointmentID: appt, NurseID: nurse, Place: place, Interval: iv(from, to), Patient: who}
	}
	three := Nursing{PatientsPerNurse: 3, StartSpacingMinutes: 15}
	one := Nursing{PatientsPerNurse: 1, StartSpacingMinutes: 15}
	tests := []struct {
		name   string
		floor  Floor
		iv     Interval
		except int64
		want   string // "nurse/place", "unlimited", or the refusal
	}{
		{name: "a date without shifts is not limited by nursing",
			floor: Floor{Nursing: one, Watches: []Watch{watch(9, 1, 1, "09:00", "10:30", "Maria Alvarez")}},
			iv:    iv("09:00", "10:30"), want: "unlimited"},
		{name: "the first nurse on shift, place 1",
			floor: Floor{Nursing: three, Shifts: []Shift{lee}}, iv: iv("09:00", "10:30"), want: "1/1"},
		{name: "no nurse on shift for the whole occupancy",
			floor: Floor{Nursing: three, Shifts: []Shift{kim}}, iv: iv("11:00", "12:30"),
			want: "No nurse is free to start then: no nurse is on shift for the whole of 11:00–12:30."},
		{name: "an occupancy ending as the shift ends fits (half-open)",
			floor: Floor{Nursing: three, Shifts: []Shift{kim}}, iv: iv("10:30", "12:00"), want: "2/1"},
		{name: "the nurse watching fewest that day is chosen",
			floor: Floor{Nursing: three, Shifts: []Shift{lee, kim}, Watches: []Watch{watch(9, 1, 1, "08:00", "09:30", "Maria Alvarez")}},
			iv:    iv("10:00", "11:30"), want: "2/1"},
		{name: "a start within the spacing of the nurse's other start",
			floor: Floor{Nursing: three, Shifts: []Shift{lee}, Watches: []Watch{watch(9, 1, 1, "09:00", "10:30", "Maria Alvarez")}},
			iv:    iv("09:10", "10:40"), want: "No nurse is free to start then: Nurse Lee starts Maria Alvarez at 09:00."},
		{name: "a start exactly the spacing after is free",
			floor: Floor{Nursing: three, Shifts: []Shift{lee}, Watches: []Watch{watch(9, 1, 1, "09:00", "10:30", "Maria Alvarez")}},
			iv:    iv("09:15", "10:45"), want: "1/2"},
		{name: "a start within the spacing before the other start",
			floor: Floor{Nursing: three, Shifts: []Shift{lee}, Watches: []Watch{watch(9, 1, 1, "09:00", "10:30", "Maria Alvarez")}},
			iv:    iv("08:50", "10:20"), want: "No nurse is free to start then: Nurse Lee starts Maria Alvarez at 09:00."},
		{name: "the other nurse takes a start the first cannot",
			floor: Floor{Nursing: three, Shifts: []Shift{lee, kim}, Watches: []Watch{watch(9, 1, 1, "09:00", "10:30", "Maria Alvarez")}},
			iv:    iv("09:00", "10:30"), want: "2/1"},
		{name: "at the limit: every place taken then",
			floor: Floor{Nursing: one, Shifts: []Shift{lee}, Watches: []Watch{watch(9, 1, 1, "09:00", "10:30", "Maria Alvarez")}},
			iv:    iv("10:00", "11:30"), want: "No nurse is free to start then: Nurse Lee already watches 1 patients then."},
		{name: "every nurse stopped: each one's reason",
			floor: Floor{Nursing: one, Shifts: []Shift{lee, kim}, Watches: []Watch{watch(9, 1, 1, "09:00", "10:30", "Maria Alvarez"), watch(10, 2, 1, "08:00", "09:30", "Ana Ruiz")}},
			iv:    iv("09:05", "10:35"), want: "No nurse is free to start then: Nurse Lee starts Maria Alvarez at 09:00; Nurse Kim already watches 1 patients then."},
		{name: "a patient leaving at 10:30 frees the place for a 10:30 start",
			floor: Floor{Nursing: one, Shifts: []Shift{lee}, Watches: []Watch{watch(9, 1, 1, "09:00", "10:30", "Maria Alvarez")}},
			iv:    iv("10:30", "12:00"), want: "1/1"},
		{name: "three places: the lowest free one",
			floor: Floor{Nursing: three, Shifts: []Shift{lee}, Watches: []Watch{
				watch(9, 1, 1, "09:00", "10:30", "A"), watch(10, 1, 3, "09:30", "11:00", "B")}},
			iv: iv("10:00", "11:30"), want: "1/2"},
		{name: "the appointment being moved does not hold its own place",
			floor: Floor{Nursing: one, Shifts: []Shift{lee}, Watches: []Watch{watch(9, 1, 1, "09:00", "10:30", "Maria Alvarez")}},
			iv:    iv("09:05", "10:35"), except: 9, want: "1/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.floor.Loc, tt.floor.Style = loc, i18n.Style{Clock24: true} // a 24-hour clinic writes its reasons so
			a, ok, why := tt.floor.Assign(tt.iv, tt.except)
			got := why
			switch {
			case ok && a == (Assignment{}):
				got = "unlimited"
			case ok:
				got = fmt.Sprintf("%d/%d", a.NurseID, a.Place)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNursingAndShiftValidate(t *testing.T) {
	for _, c := range []struct {
		n  Nursing
		ok bool
	}{{DefaultNursing, true}, {Nursing{1, 0}, true}, {Nursing{10, 120}, true}, {Nursing{0, 15}, false}, {Nursing{11, 15}, false}, {Nursing{3, -1}, false}, {Nursing{3, 121}, false}} {
		if err := c.n.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v: %v", c.n, err)
		}
	}
	good := Shift{NurseID: 1, Date: D(2026, 3, 2), From: clk("07:00"), To: clk("16:30")}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []Shift{{Date: good.Date, From: good.From, To: good.To}, {NurseID: 1, From: good.From, To: good.To},
		{NurseID: 1, Date: good.Date, From: clk("12:00"), To: clk("12:00")}} {
		if s.Validate() == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}

// The planner with nursing: one nurse, one patient at a time, another
// patient at 09:00 every day (on another chair) → each session takes the
// nearest time the nurse is free, the earlier of two equally near.
func TestProposeSeriesWithNursing(t *testing.T) {
	cal := seriesCalendar(t, "America/Phoenix", 2, nil)
	cal.SetNursing(Nursing{PatientsPerNurse: 1, StartSpacingMinutes: 15})
	for d := 2; d <= 20; d++ {
		date := D(2026, 3, d)
		if len(cal.OpenOn(date)) == 0 {
			continue
		}
		cal.AddShift(Shift{NurseID: 7, NurseName: "Nurse Lee", Date: date, From: clk("07:00"), To: clk("16:30")})
		other := Interval{date.At(clk("09:00"), cal.Loc), date.At(clk("10:30"), cal.Loc)}
		cal.Hold(2, 99, other)
		cal.HoldWatch(Watch{AppointmentID: int64(100 + d), NurseID: 7, Place: 1, Interval: other, Patient: "Maria Alvarez"})
	}
	slots, err := cal.ProposeSeries(standard, 1, D(2026, 3, 2), clk("09:00"), time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Fri 6 closes at noon: 07:30 is before opening (08:00), 10:30 ends at noon.
	want := "Mon 2 Mar 07:30 #1, Wed 4 Mar 07:30 #1, Fri 6 Mar 10:30 #1, Mon 9 Mar 07:30 #1, Wed 11 Mar 07:30 #1, Fri 13 Mar 10:30 #1"
	if got := describe(slots, cal.Loc); got != want {
		t.Fatalf("series\n got %s\nwant %s", got, want)
	}
	for _, s := range slots {
		if s.Nurse != (Assignment{NurseID: 7, Place: 1}) {
			t.Fatalf("session at %v watched by %+v", s.Start, s.Nurse)
		}
	}
	// The desk moving session 1 onto the other patient's time: the check
	// names the nurse, as a slot taken.
	moved := append([]Slot(nil), slots...)
	moved[0].Interval = Interval{D(2026, 3, 2).At(clk("09:00"), cal.Loc), D(2026, 3, 2).At(clk("10:30"), cal.Loc)}
	checks, ok := cal.CheckSeries(standard, 1, moved, time.Time{})
	if ok || checks[0].Problem != "No nurse is free to start then: Nurse Lee starts Maria Alvarez at 9:00 AM." || !checks[0].Taken {
		t.Fatalf("the moved session: %+v", checks[0])
	}
	// On a date without shifts nursing limits nothing: the planner's
	// answer is the one without nurses (every other series test).
	plain := seriesCalendar(t, "America/Phoenix", 2, nil)
	plain.SetNursing(Nursing{PatientsPerNurse: 1, StartSpacingMinutes: 15})
	if slots, _ := plain.ProposeSeries(standard, 1, D(2026, 3, 2), clk("09:00"), time.Time{}, nil); describe(slots, plain.Loc) !=
		"Mon 2 Mar 09:00 #1, Wed 4 Mar 09:00 #1, Fri 6 Mar 09:00 #1, Mon 9 Mar 09:00 #1, Wed 11 Mar 09:00 #1, Fri 13 Mar 09:00 #1" {
		t.Fatalf("unrostered: %s", describe(slots, plain.Loc))
	}
	// Availability offers only starts with a chair and a nurse.
	days := cal.FreeStarts(D(2026, 3, 2), D(2026, 3, 2), 90, time.Time{})
	for _, cs := range days[0].Chairs {
		for _, s := range cs.Starts {
			if s > clk("07:30") && s < clk("10:30") {
				t.Fatalf("chair %d offered %s, while the nurse watches 09:00–10:30 alone", cs.ChairID, s)
			}
		}
	}
}

func TestShiftPattern(t *testing.T) {
	cal := seriesCalendar(t, "America/Phoenix", 1, map[Date]string{D(2026, 3, 4): "Staff training"})
	mon, wed := time.Monday, time.Wednesday
	p := ShiftPattern{NurseID: 3, Weekdays: []time.Weekday{mon, wed, time.Saturday}, From: clk("07:00"), To: clk("16:30"),
		FirstDay: D(2026, 3, 1), LastDay: D(2026, 3, 14)}
	shifts, err := p.Shifts(cal.Schedule)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range shifts {
		got = append(got, s.Date.Format("Mon 2"))
	}
	// Wed 4 is closed, Saturdays have no hours.
	if fmt.Sprint(got) != "[Mon 2 Mon 9 Wed 11]" {
		t.Fatalf("pattern dates %v", got)
	}
	for _, bad := range []ShiftPattern{{}, {NurseID: 3, Weekdays: []time.Weekday{mon}, From: clk("09:00"), To: clk("08:00"), FirstDay: D(2026, 3, 1), LastDay: D(2026, 3, 1)},
		{NurseID: 3, Weekdays: []time.Weekday{mon}, From: clk("07:00"), To: clk("08:00"), FirstDay: D(2026, 3, 2), LastDay: D(2026, 3, 1)},
		{NurseID: 3, Weekdays: []time.Weekday{mon}, From: clk("07:00"), To: clk("08:00"), FirstDay: D(2026, 1, 1), LastDay: D(2027, 1, 2)}} {
		if _, err := bad.Shifts(cal.Schedule); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestNurseDays(t *testing.T) {
	loc, _ := time.LoadLocation("America/Phoenix")
	day := D(2026, 3, 2)
	at := func(c string) time.Time { return day.At(clk(c), loc) }
	lee := Shift{NurseID: 1, NurseName: "Nurse Lee", Date: day, From: clk("07:00"), To: clk("16:30")}
	kim := Shift{NurseID: 2, NurseName: "Nurse Kim", Date: day, From: clk("08:00"), To: clk("12:00")}
	w := func(nurse int64, from, to string) Watch {
		return Watch{NurseID: nurse, Interval: Interval{at(from), at(to)}}
	}
	f := Floor{Nursing: Nursing{PatientsPerNurse: 2, StartSpacingMinutes: 15}, Loc: loc, Shifts: []Shift{kim, lee},
		Watches: []Watch{w(1, "09:00", "10:30"), w(1, "09:30", "11:00"), w(1, "10:30", "12:00"), w(2, "08:00", "09:30")}}
	days := f.NurseDays()
	if len(days) != 2 || days[0].Shift.NurseID != 1 || days[1].Shift.NurseID != 2 {
		t.Fatalf("order %+v", days)
	}
	lees := days[0]
	// 09:30–10:30 two patients; at 10:30 one leaves as one arrives (half-open): still two until 11:00.
	if lees.Patients != 3 || lees.Peak != 2 || len(lees.AtLimit) != 2 ||
		!lees.AtLimit[0].Start.Equal(at("09:30")) || !lees.AtLimit[0].End.Equal(at("10:30")) ||
		!lees.AtLimit[1].Start.Equal(at("10:30")) || !lees.AtLimit[1].End.Equal(at("11:00")) {
		t.Fatalf("Lee's day %+v", lees)
	}
	if days[1].Patients != 1 || days[1].Peak != 1 || len(days[1].AtLimit) != 0 {
		t.Fatalf("Kim's day %+v", days[1])
	}
}
