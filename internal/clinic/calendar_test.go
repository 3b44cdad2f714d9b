package clinic

import (
	"testing"
	"time"
)

func clk(s string) Clock {
	c, err := ParseClock(s)
	if err != nil {
		panic(err)
	}
	return c
}

// demoSettings are the hours of README.md's example clinic.
func demoSettings() Settings {
	var h WeeklyHours
	for _, wd := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday} {
		h[wd] = []Range{{clk("07:00"), clk("16:30")}}
	}
	h[time.Friday] = []Range{{clk("08:00"), clk("12:00")}}
	return Settings{Name: "Test", TimeZone: "America/Phoenix", SlotMinutes: 15, Hours: h}
}

func newTestCalendar(t *testing.T, chairs int) *Calendar {
	t.Helper()
	loc, err := time.LoadLocation("America/Phoenix")
	if err != nil {
		t.Fatal(err)
	}
	var cs []Chair
	for i := 1; i <= chairs; i++ {
		cs = append(cs, Chair{ID: int64(i * 10), Name: "Chair", Position: i, Active: true})
	}
	return NewCalendar(demoSettings(), loc, map[Date]string{D(2026, 3, 5): "Staff training"}, cs)
}

func TestStartsOn(t *testing.T) {
	c := newTestCalendar(t, 1)
	tests := []struct {
		name    string
		d       Date
		minutes int
		first   string
		last    string
		count   int
	}{
		{"Monday, 90 min", D(2026, 3, 2), 90, "07:00", "15:00", 33},
		{"Friday, 90 min ends by noon", D(2026, 3, 6), 90, "08:00", "10:30", 11},
		{"Friday too short for 270 min", D(2026, 3, 6), 270, "", "", 0},
		{"Monday fits 270 min", D(2026, 3, 2), 270, "07:00", "12:00", 21},
		{"closure", D(2026, 3, 5), 90, "", "", 0},
		{"Saturday", D(2026, 3, 7), 30, "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.StartsOn(tt.d, tt.minutes)
			if len(got) != tt.count {
				t.Fatalf("%d starts %v; want %d", len(got), got, tt.count)
			}
			if tt.count > 0 && (got[0].String() != tt.first || got[len(got)-1].String() != tt.last) {
				t.Fatalf("starts %s…%s; want %s…%s", got[0], got[len(got)-1], tt.first, tt.last)
			}
		})
	}

	// A range opening off the grid starts at the next grid time; a lunch
	// break splits the day into two ranges.
	c.Settings.Hours[time.Monday] = []Range{{clk("07:10"), clk("12:00")}, {clk("13:00"), clk("14:30")}}
	got := c.StartsOn(D(2026, 3, 2), 90)
	want := []string{"07:15", "07:30", "07:45", "08:00", "08:15", "08:30", "08:45", "09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "13:00"}
	if len(got) != len(want) {
		t.Fatalf("starts %v; want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Fatalf("starts %v; want %v", got, want)
		}
	}
}

func TestNearest(t *testing.T) {
	mon := D(2026, 3, 2)
	c := newTestCalendar(t, 2)
	past := time.Time{}
	at := func(s string, minutes int) Interval { return c.Interval(mon, clk(s), minutes) }

	// Empty calendar: the preferred time on the first chair.
	s, ok := c.Nearest(mon, clk("09:00"), 90, 1, past)
	if !ok || s.ChairID != 10 || s.Start.Format("15:04") != "09:00" {
		t.Fatalf("empty calendar: %+v %v", s, ok)
	}
	// First chair busy at 09:00: the second chair at 09:00.
	c.Hold(10, 2, at("08:30", 90))
	s, _ = c.Nearest(mon, clk("09:00"), 90, 1, past)
	if s.ChairID != 20 || s.Start.Format("15:04") != "09:00" {
		t.Fatalf("first chair busy: %+v", s)
	}
	// Both chairs busy 08:30–10:00: nearest free is 10:00 on chair 1
	// (07:00 ends 08:30 and is 2 h away; 10:00 is 1 h away).
	c.Hold(20, 3, at("08:30", 90))
	s, _ = c.Nearest(mon, clk("09:00"), 90, 1, past)
	if s.ChairID != 10 || s.Start.Format("15:04") != "10:00" {
		t.Fatalf("both busy: %+v", s)
	}
	// Equal distance: the earlier wins. Preferred 09:15 with 08:30–10:00
	// busy: 07:00 (2h15 away) vs 10:00 (45 min) → 10:00; make 10:00 busy too
	// so that 07:00 and 11:30 are equally near 09:15 (2h15).
	c.Hold(10, 4, at("10:00", 90))
	c.Hold(20, 5, at("10:00", 90))
	s, _ = c.Nearest(mon, clk("09:15"), 90, 1, past)
	if s.Start.Format("15:04") != "07:00" {
		t.Fatalf("tie: %+v; want the earlier, 07:00", s)
	}
	// The patient's own appointment blocks a time even on a free chair.
	c2 := newTestCalendar(t, 2)
	c2.Hold(10, 1, c2.Interval(mon, clk("09:00"), 90))
	s, _ = c2.Nearest(mon, clk("09:00"), 90, 1, past)
	if s.Start.Format("15:04") != "07:30" {
		t.Fatalf("patient busy: %+v; want 07:30 (as near as 10:30, and earlier)", s)
	}
	// Back-to-back is allowed.
	c3 := newTestCalendar(t, 1)
	c3.Hold(10, 2, c3.Interval(mon, clk("07:00"), 120))
	s, _ = c3.Nearest(mon, clk("09:00"), 60, 1, past)
	if s.Start.Format("15:04") != "09:00" {
		t.Fatalf("back-to-back: %+v", s)
	}
	// Nothing in the past.
	s, _ = c3.Nearest(mon, clk("09:00"), 60, 1, mon.At(clk("13:05"), c3.Loc))
	if s.Start.Format("15:04") != "13:15" {
		t.Fatalf("not before 13:05: %+v", s)
	}
	// A closed day has nothing.
	if _, ok := c3.Nearest(D(2026, 3, 5), clk("09:00"), 60, 1, past); ok {
		t.Fatal("slot found on a closure")
	}
}

func TestFreeIsHalfOpen(t *testing.T) {
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	h := func(a, b int) Interval {
		return Interval{base.Add(time.Duration(a) * time.Hour), base.Add(time.Duration(b) * time.Hour)}
	}
	list := []Interval{h(0, 1), h(2, 3)}
	for _, tt := range []struct {
		iv   Interval
		want bool
	}{
		{h(1, 2), true}, {h(-1, 0), true}, {h(3, 4), true},
		{h(0, 1), false}, {h(-1, 5), false}, {h(2, 4), false},
		{Interval{base.Add(30 * time.Minute), base.Add(90 * time.Minute)}, false},
	} {
		if got := free(list, tt.iv); got != tt.want {
			t.Errorf("free(%v–%v) = %v; want %v", tt.iv.Start.Format("15:04"), tt.iv.End.Format("15:04"), got, tt.want)
		}
	}
}
