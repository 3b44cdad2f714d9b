package clinic

import (
	"strings"
	"testing"
	"time"
)

func TestScheduleCheck(t *testing.T) {
	c := newTestCalendar(t, 1) // Phoenix; Mon–Thu 07:00–16:30, Fri 08:00–12:00; closure Thu 2026-03-05
	now := time.Date(2026, 3, 2, 6, 0, 0, 0, c.Loc)
	at := func(d Date, s string) time.Time { return d.At(clk(s), c.Loc) }
	tests := []struct {
		name    string
		start   time.Time
		minutes int
		want    string // part of the message; "" for accepted
	}{
		{"Monday 09:00, 90 min", at(D(2026, 3, 2), "09:00"), 90, ""},
		{"ends exactly at closing", at(D(2026, 3, 2), "15:00"), 90, ""},
		{"opens exactly", at(D(2026, 3, 2), "07:00"), 90, ""},
		{"Friday 10:30 ends at noon", at(D(2026, 3, 6), "10:30"), 90, ""},
		{"Friday 10:45 ends after noon", at(D(2026, 3, 6), "10:45"), 90, "outside the opening hours on Fridays (8:00 AM–12:00 PM)"},
		{"before opening", at(D(2026, 3, 2), "06:45"), 90, "outside the opening hours"},
		{"after closing", at(D(2026, 3, 2), "15:15"), 90, "outside the opening hours"},
		{"Saturday", at(D(2026, 3, 7), "09:00"), 90, "no opening hours on Saturdays"},
		{"closure", at(D(2026, 3, 5), "09:00"), 90, "Staff training"},
		{"off the grid", at(D(2026, 3, 2), "09:10"), 90, "15-minute grid"},
		{"seconds off the grid", at(D(2026, 3, 2), "09:00").Add(30 * time.Second), 90, "15-minute grid"},
		{"in the past", at(D(2026, 3, 2), "09:00"), 90, ""},
		{"Friday CRPS 270 min", at(D(2026, 3, 6), "08:00"), 270, "outside the opening hours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Check(tt.start, tt.minutes, now)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			msg := ErrorFields(err)["start"]
			if ErrorCode(err) != EINVALID || !strings.Contains(msg, tt.want) {
				t.Fatalf("got %v (%q); want a refusal mentioning %q", err, msg, tt.want)
			}
		})
	}
	later := time.Date(2026, 3, 2, 9, 5, 0, 0, c.Loc)
	if msg := ErrorFields(c.Check(at(D(2026, 3, 2), "09:00"), 90, later))["start"]; !strings.Contains(msg, "already passed") {
		t.Fatalf("past start: %q", msg)
	}
}

// README.md: 09:00 local stays 09:00 across the clock change.
func TestScheduleChicagoDST(t *testing.T) {
	chicago, _ := time.LoadLocation("America/Chicago")
	s := demoSettings()
	s.TimeZone = "America/Chicago"
	sched := Schedule{Settings: s, Loc: chicago}
	for _, tt := range []struct {
		d    Date
		want string
	}{{D(2026, 3, 6), "2026-03-06T15:00:00Z"}, {D(2026, 3, 9), "2026-03-09T14:00:00Z"}} {
		start := sched.Interval(tt.d, clk("09:00"), 90).Start
		if got := start.UTC().Format(time.RFC3339); got != tt.want {
			t.Errorf("%s 09:00: %s; want %s", tt.d, got, tt.want)
		}
		if err := sched.Check(start, 90, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Errorf("%s 09:00 refused: %v", tt.d, err)
		}
	}
	// On the day of the change itself (a Sunday here, so open it) the grid
	// is still wall-clock: 2026-03-08 has 23 hours.
	s.Hours[time.Sunday] = []Range{{clk("07:00"), clk("12:00")}}
	sched.Settings = s
	starts := sched.StartsOn(D(2026, 3, 8), 60)
	if len(starts) != 17 || starts[0] != clk("07:00") {
		t.Fatalf("starts on the change day: %v", starts)
	}
	if iv := sched.Interval(D(2026, 3, 8), clk("07:00"), 60); iv.Start.UTC().Hour() != 12 {
		t.Fatalf("07:00 CDT on 2026-03-08 = %v", iv.Start.UTC())
	}
}

func TestMisfitAfterHoursChange(t *testing.T) {
	c := newTestCalendar(t, 1)
	iv := c.Interval(D(2026, 3, 2), clk("15:00"), 90) // fits 07:00–16:30
	if m := c.Misfit(iv); m != "" {
		t.Fatalf("fits, yet: %s", m)
	}
	c.Settings.Hours[time.Monday] = []Range{{clk("07:00"), clk("12:00")}, {clk("13:00"), clk("16:00")}}
	if m := c.Misfit(iv); !strings.Contains(m, "3:00 PM–4:30 PM is outside the opening hours on Mondays (7:00 AM–12:00 PM, 1:00 PM–4:00 PM)") {
		t.Fatalf("after shortening Monday: %q", m)
	}
	c.Closures[D(2026, 3, 2)] = "Flooded"
	if m := c.Misfit(iv); !strings.Contains(m, "Closed on Mon, Mar 2, 2026: Flooded") {
		t.Fatalf("after a closure: %q", m)
	}
	// Across Monday's new lunch break does not fit; Tuesday is untouched.
	if m := c.Misfit(c.Interval(D(2026, 3, 9), clk("11:30"), 60)); !strings.Contains(m, "outside the opening hours") {
		t.Fatalf("across lunch: %q", m)
	}
	if m := c.Misfit(c.Interval(D(2026, 3, 3), clk("11:30"), 60)); m != "" {
		t.Fatalf("Tuesday: %s", m)
	}
}

func TestFreeStarts(t *testing.T) {
	c := newTestCalendar(t, 2)
	mon := D(2026, 3, 2)
	c.Hold(10, 1, c.Interval(mon, clk("09:00"), 90))
	c.Hold(20, 2, c.Interval(mon, clk("07:00"), 570)) // all day
	days := c.FreeStarts(mon, D(2026, 3, 7), 90, time.Time{})
	if len(days) != 6 {
		t.Fatalf("%d days", len(days))
	}
	monday := days[0]
	if len(monday.Chairs) != 2 || len(monday.Chairs[1].Starts) != 0 {
		t.Fatalf("chair 2 is busy all day: %+v", monday.Chairs)
	}
	for _, s := range monday.Chairs[0].Starts {
		if iv := c.Interval(mon, s, 90); iv.Overlaps(c.Interval(mon, clk("09:00"), 90)) {
			t.Fatalf("start %s overlaps the 09:00 booking", s)
		}
	}
	// 07:00…15:00 is 33 starts; 07:45…10:15 overlap 09:00–10:30 (11 starts).
	if got := len(monday.Chairs[0].Starts); got != 33-11 {
		t.Fatalf("chair 1 has %d free starts; want 22", got)
	}
	if days[3].Closed != "Staff training" || days[5].Closed == "" || len(days[5].Chairs[0].Starts) != 0 {
		t.Fatalf("closed days: %+v / %+v", days[3], days[5])
	}
	// Nothing before notBefore.
	late := c.FreeStarts(mon, mon, 90, mon.At(clk("14:00"), c.Loc))
	if s := late[0].Chairs[0].Starts; len(s) != 5 || s[0] != clk("14:00") {
		t.Fatalf("after 14:00: %v", s)
	}
}

func TestAlternatives(t *testing.T) {
	c := newTestCalendar(t, 1)
	fri := D(2026, 3, 6) // 08:00–12:00
	for _, s := range []string{"08:00", "09:30"} {
		c.Hold(10, 2, c.Interval(fri, clk(s), 90))
	}
	want := fri.At(clk("09:00"), c.Loc)
	alts := c.Alternatives(want, 90, 1, time.Time{}, 4)
	var got []string
	for _, a := range alts {
		got = append(got, a.Start.In(c.Loc).Format("Mon 15:04"))
	}
	// Every 90-minute start on Friday (08:00…10:30) overlaps one of the two
	// bookings; the weekend is closed; so Monday's starts nearest 09:00 follow.
	if strings.Join(got, ",") != "Mon 09:00,Mon 08:45,Mon 09:15,Mon 08:30" {
		t.Fatalf("alternatives %v", got)
	}
}
