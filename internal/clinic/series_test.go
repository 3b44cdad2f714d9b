package clinic

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var (
	standard = SeriesPlan{Sessions: 6, MinGapDays: 2, MaxGapDays: 3, MaxSpanDays: 14, Minutes: 60 + 30}
	short    = SeriesPlan{Sessions: 3, MinGapDays: 1, MaxGapDays: 3, MaxSpanDays: 7, Minutes: 45 + 30}
	crps     = SeriesPlan{Sessions: 5, MinGapDays: 1, MaxGapDays: 4, MaxSpanDays: 10, Minutes: 240 + 30}
)

// seriesCalendar is README.md's clinic (Phoenix, Mon–Thu 07:00–16:30,
// Fri 08:00–12:00) with the given chairs, closures and no appointments.
func seriesCalendar(t *testing.T, zone string, chairs int, closures map[Date]string) *Calendar {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	var cs []Chair
	for i := 1; i <= chairs; i++ {
		cs = append(cs, Chair{ID: int64(i), Name: fmt.Sprintf("Chair %d", i), Position: i, Active: true})
	}
	s := demoSettings()
	s.TimeZone = zone
	return NewCalendar(s, loc, closures, cs)
}

// describe writes a series as "Mon 2 Mar 09:00 #1, …" in the clinic's zone.
func describe(slots []Slot, loc *time.Location) string {
	var parts []string
	for _, s := range slots {
		parts = append(parts, fmt.Sprintf("%s %s #%d", DateOf(s.Start, loc).Format("Mon 2 Jan"), ClockOf(s.Start, loc), s.ChairID))
	}
	return strings.Join(parts, ", ")
}

func TestProposeSeries(t *testing.T) {
	march := func(d int) Date { return D(2026, 3, d) }
	tests := []struct {
		name     string
		zone     string
		chairs   int
		closures map[Date]string
		plan     SeriesPlan
		busy     func(c *Calendar) // other bookings, chair and patient
		start    Date
		pref     Clock
		want     string // the series, or the refusal's words after "error: "
	}{
		{name: "README.md example: Standard IV from Mon 2 Mar, empty calendar",
			plan: standard, start: march(2), pref: clk("09:00"),
			want: "Mon 2 Mar 09:00 #1, Wed 4 Mar 09:00 #1, Fri 6 Mar 09:00 #1, Mon 9 Mar 09:00 #1, Wed 11 Mar 09:00 #1, Fri 13 Mar 09:00 #1"},
		{name: "a closure inside the series moves the start to Tuesday",
			closures: map[Date]string{march(4): "Staff training"}, plan: standard, start: march(2), pref: clk("09:00"),
			want: "Tue 3 Mar 09:00 #1, Fri 6 Mar 09:00 #1, Mon 9 Mar 09:00 #1, Wed 11 Mar 09:00 #1, Fri 13 Mar 09:00 #1, Mon 16 Mar 09:00 #1"},
		{name: "Friday is too short for a CRPS session: Thursday, then Monday",
			plan: crps, start: march(2), pref: clk("09:00"),
			want: "Mon 2 Mar 09:00 #1, Tue 3 Mar 09:00 #1, Wed 4 Mar 09:00 #1, Thu 5 Mar 09:00 #1, Mon 9 Mar 09:00 #1"},
		{name: "CRPS on consecutive days only never fits a week with a short Friday",
			plan: SeriesPlan{Sessions: 5, MinGapDays: 1, MaxGapDays: 1, MaxSpanDays: 10, Minutes: 270}, start: march(2), pref: clk("09:00"),
			want: "error: Fridays are too short for a 270-minute session (8:00 AM–12:00 PM)"},
		{name: "a span that cannot be met: six sessions two days apart within ten days always meet a weekend",
			plan: SeriesPlan{Sessions: 6, MinGapDays: 2, MaxGapDays: 2, MaxSpanDays: 10, Minutes: 90}, start: march(2), pref: clk("09:00"),
			want: "error: No loading series fits"},
		{name: "a busy calendar forces later dates",
			chairs: 2, plan: standard, start: march(2), pref: clk("09:00"),
			busy: func(c *Calendar) {
				// Both chairs full on Monday 2 March.
				for _, ch := range c.Chairs {
					c.Hold(ch.ID, 99, Interval{march(2).At(clk("07:00"), c.Loc), march(2).At(clk("16:30"), c.Loc)})
				}
			},
			want: "Tue 3 Mar 09:00 #1, Fri 6 Mar 09:00 #1, Mon 9 Mar 09:00 #1, Wed 11 Mar 09:00 #1, Fri 13 Mar 09:00 #1, Mon 16 Mar 09:00 #1"},
		{name: "the first chair busy at 09:00: the second chair at 09:00",
			chairs: 2, plan: short, start: march(2), pref: clk("09:00"),
			busy: func(c *Calendar) {
				c.Hold(1, 99, Interval{march(2).At(clk("08:30"), c.Loc), march(2).At(clk("10:00"), c.Loc)})
			},
			want: "Mon 2 Mar 09:00 #2, Tue 3 Mar 09:00 #1, Wed 4 Mar 09:00 #1"},
		{name: "the patient's own appointment moves the time: the nearest start that ends before it",
			plan: short, start: march(2), pref: clk("09:00"),
			busy: func(c *Calendar) {
				// Patient 1 has a 09:00–10:30 visit elsewhere on Tuesday (another chair).
				c.Hold(7, 1, Interval{march(3).At(clk("09:00"), c.Loc), march(3).At(clk("10:30"), c.Loc)})
			},
			want: "Mon 2 Mar 09:00 #1, Tue 3 Mar 07:45 #1, Wed 4 Mar 09:00 #1"},
		{name: "two starts equally near the preferred time: the earlier",
			plan: standard, start: march(2), pref: clk("09:00"),
			busy: func(c *Calendar) {
				// 07:30 and 10:30 are both 90 minutes from 09:00.
				c.Hold(7, 1, Interval{march(4).At(clk("09:00"), c.Loc), march(4).At(clk("10:30"), c.Loc)})
			},
			want: "Mon 2 Mar 09:00 #1, Wed 4 Mar 07:30 #1, Fri 6 Mar 09:00 #1, Mon 9 Mar 09:00 #1, Wed 11 Mar 09:00 #1, Fri 13 Mar 09:00 #1"},
		{name: "America/Chicago across the 2026-03-08 clock change: 09:00 local throughout",
			zone: "America/Chicago", plan: standard, start: march(2), pref: clk("09:00"),
			want: "Mon 2 Mar 09:00 #1, Wed 4 Mar 09:00 #1, Fri 6 Mar 09:00 #1, Mon 9 Mar 09:00 #1, Wed 11 Mar 09:00 #1, Fri 13 Mar 09:00 #1"},
		{name: "a late preferred time on Friday takes the nearest start that ends by noon",
			plan: short, start: march(6), pref: clk("13:00"),
			want: "Fri 6 Mar 10:45 #1, Mon 9 Mar 13:00 #1, Tue 10 Mar 13:00 #1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			zone, chairs := tc.zone, tc.chairs
			if zone == "" {
				zone = "America/Phoenix"
			}
			if chairs == 0 {
				chairs = 1
			}
			c := seriesCalendar(t, zone, chairs, tc.closures)
			if tc.busy != nil {
				tc.busy(c)
			}
			now := D(2026, 3, 1).At(0, c.Loc)
			slots, err := c.ProposeSeries(tc.plan, 1, tc.start, tc.pref, now, nil)
			if want, ok := strings.CutPrefix(tc.want, "error: "); ok {
				if err == nil || ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), want) {
					t.Fatalf("got %s / %v; want a refusal saying %q", describe(slots, c.Loc), err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(slots, c.Loc); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			// Every proposal passes the checker it will be booked through.
			if checks, ok := c.CheckSeries(tc.plan, 1, slots, now); !ok {
				t.Fatalf("the proposal fails its own check: %+v", checks)
			}
		})
	}
}

// In Chicago the sessions before the change are at 15:00Z, after it 14:00Z.
func TestProposeSeriesChicagoInstants(t *testing.T) {
	c := seriesCalendar(t, "America/Chicago", 1, nil)
	slots, err := c.ProposeSeries(standard, 1, D(2026, 3, 2), clk("09:00"), D(2026, 3, 1).At(0, c.Loc), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range slots {
		got = append(got, s.Start.UTC().Format("02T15:04Z"))
	}
	if want := "[02T15:00Z 04T15:00Z 06T15:00Z 09T14:00Z 11T14:00Z 13T14:00Z]"; fmt.Sprint(got) != want {
		t.Fatalf("instants %v; want %s", got, want)
	}
}

// Re-flowing after session 2 moved keeps sessions 1–2 and plans the rest.
func TestProposeSeriesAfterFixedSessions(t *testing.T) {
	c := seriesCalendar(t, "America/Phoenix", 1, nil)
	now := D(2026, 3, 1).At(0, c.Loc)
	// A series from Tuesday 3 March; session 2 moves from Thursday to Friday 11:00.
	fixed := []Slot{
		{ChairID: 1, Interval: c.Interval(D(2026, 3, 3), clk("09:00"), 90)},
		{ChairID: 1, Interval: c.Interval(D(2026, 3, 6), clk("11:00"), 90)},
	}
	slots, err := c.ProposeSeries(standard, 1, D(2026, 3, 3), clk("09:00"), now, fixed)
	if err != nil {
		t.Fatal(err)
	}
	want := "Tue 3 Mar 09:00 #1, Fri 6 Mar 11:00 #1, Mon 9 Mar 09:00 #1, Wed 11 Mar 09:00 #1, Fri 13 Mar 09:00 #1, Mon 16 Mar 09:00 #1"
	if got := describe(slots, c.Loc); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// Session 2 on Thursday 5 leaves session 3 only the weekend: refused, and said why.
	fixed[1] = Slot{ChairID: 1, Interval: c.Interval(D(2026, 3, 5), clk("09:00"), 90)}
	_, err = c.ProposeSeries(standard, 1, D(2026, 3, 3), clk("09:00"), now, fixed)
	if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "session 3") || !strings.Contains(ErrorMessage(err), "Saturdays") {
		t.Fatalf("impossible re-flow: %v", err)
	}
}

func TestCheckSeries(t *testing.T) {
	c := seriesCalendar(t, "America/Phoenix", 2, map[Date]string{D(2026, 3, 11): "Training"})
	c.Hold(2, 99, c.Interval(D(2026, 3, 4), clk("09:00"), 90))
	now := D(2026, 3, 1).At(0, c.Loc)
	at := func(d int, s string, chair int64) Slot {
		return Slot{ChairID: chair, Interval: c.Interval(D(2026, 3, d), clk(s), 90)}
	}
	sessions := []Slot{at(2, "09:00", 1), at(4, "09:30", 2), at(6, "11:00", 1), at(9, "09:10", 1), at(11, "09:00", 1), at(17, "09:00", 1)}
	checks, ok := c.CheckSeries(standard, 1, sessions, now)
	if ok {
		t.Fatal("a broken series passed")
	}
	want := []string{
		"",
		"that chair is taken then",
		"outside the opening hours",
		"grid",
		"Closed on",
		"6 days after the previous session; the protocol allows 2–3; 15 days after the first session",
	}
	for i, w := range want {
		if w == "" && checks[i].Problem != "" || !strings.Contains(strings.ToLower(checks[i].Problem), strings.ToLower(w)) {
			t.Errorf("session %d: %q; want %q", i+1, checks[i].Problem, w)
		}
	}
	if checks[1].GapDays != 2 || checks[5].GapDays != 6 {
		t.Errorf("gaps %d, %d", checks[1].GapDays, checks[5].GapDays)
	}
}

func TestCheckSpacing(t *testing.T) {
	d := func(day int) Date { return D(2026, 3, day) }
	for _, tc := range []struct {
		dates []Date
		want  string
	}{
		{[]Date{d(2), d(4), d(6), d(9), d(11), d(13)}, ""},
		{[]Date{d(2), d(3)}, "Session 2 would be 1 days after session 1"},
		{[]Date{d(2), d(6)}, "Session 2 would be 4 days after session 1"},
		{[]Date{d(2), d(5), d(8), d(11), d(14), d(17)}, "Session 6 would be 15 days after the first"},
	} {
		if got := CheckSpacing(standard, tc.dates); tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%v: %q; want %q", tc.dates, got, tc.want)
		}
	}
}
