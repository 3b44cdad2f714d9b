package clinic

import (
	"reflect"
	"testing"
	"time"
)

// spread cuts an occupancy at local hour boundaries, in real elapsed time.
func TestSpread(t *testing.T) {
	at := func(y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, chicagoZone)
	}
	tests := []struct {
		name string
		iv   Interval
		want map[int]int
	}{
		{"half-hour start", Interval{at(2026, 3, 2, 9, 30), at(2026, 3, 2, 11, 0)}, map[int]int{9: 30, 10: 60}},
		{"inside one hour", Interval{at(2026, 3, 2, 9, 15), at(2026, 3, 2, 9, 45)}, map[int]int{9: 30}},
		{"spring forward: 02:00 does not exist", Interval{at(2026, 3, 8, 1, 30), at(2026, 3, 8, 3, 30)}, map[int]int{1: 30, 3: 30}},
		{"fall back: 01:00 happens twice", Interval{time.Date(2026, 11, 1, 0, 30, 0, 0, chicagoZone), time.Date(2026, 11, 1, 0, 30, 0, 0, chicagoZone).Add(150 * time.Minute)},
			map[int]int{0: 30, 1: 120}},
		{"empty", Interval{at(2026, 3, 2, 9, 0), at(2026, 3, 2, 9, 0)}, map[int]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[int]int{}
			spread(tt.iv, chicagoZone, func(h, m int) { got[h] += m })
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v; want %v", got, tt.want)
			}
		})
	}
}

func TestLateCancel(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		status Status
		at     time.Time
		want   bool
	}{
		{"an hour before", StatusCancelled, start.Add(-time.Hour), true},
		{"just under a day before", StatusCancelled, start.Add(-24*time.Hour + time.Minute), true},
		{"a day before: in good time", StatusCancelled, start.Add(-24 * time.Hour), false},
		{"a no-show is not a cancellation", StatusNoShow, time.Time{}, false},
		{"booked", StatusBooked, time.Time{}, false},
	}
	for _, tt := range tests {
		v := ReportVisit{Status: tt.status, Interval: Interval{start, start.Add(time.Hour)}, CancelledAt: tt.at}
		if got := v.LateCancel(); got != tt.want {
			t.Errorf("%s: %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestCheckPeriod(t *testing.T) {
	tests := []struct {
		from, to Date
		field    string
	}{
		{D(2026, 1, 1), D(2026, 12, 31), ""},
		{D(2026, 1, 1), D(2026, 1, 1), ""},
		{D(2026, 1, 2), D(2026, 1, 1), "to"},
		{D(2026, 1, 1), D(2027, 1, 1), ""}, // 366 days: a leap year's worth
		{D(2026, 1, 1), D(2027, 1, 2), "to"},
		{Date{}, D(2026, 1, 1), "from"},
	}
	for _, tt := range tests {
		err := CheckPeriod(tt.from, tt.to)
		if got := ErrorFields(err)[tt.field]; (tt.field == "") != (err == nil) || tt.field != "" && got == "" {
			t.Errorf("%s–%s: %v", tt.from, tt.to, err)
		}
	}
}

// reportSchedule is Monday to Friday 09:00–12:00 in Chicago, closed 2026-03-11.
func reportSchedule() Schedule {
	var h WeeklyHours
	for wd := time.Monday; wd <= time.Friday; wd++ {
		h[wd] = []Range{{Opens: 9 * 60, Closes: 12 * 60}}
	}
	return Schedule{Settings: Settings{Hours: h, Nursing: DefaultNursing}, Loc: chicagoZone, Closures: map[Date]string{D(2026, 3, 11): "Training"}}
}

func TestPlannedDay(t *testing.T) {
	s := reportSchedule()
	tests := []struct {
		name       string
		due, today Date
		want       Date
	}{
		{"an open due date", D(2026, 3, 10), D(2026, 3, 2), D(2026, 3, 10)},
		{"a closure: the day before", D(2026, 3, 11), D(2026, 3, 2), D(2026, 3, 10)},
		{"a Saturday: Friday", D(2026, 3, 14), D(2026, 3, 2), D(2026, 3, 13)},
		{"a Sunday: Friday, two days earlier", D(2026, 3, 15), D(2026, 3, 2), D(2026, 3, 13)},
		{"earlier would be before today: later", D(2026, 3, 8), D(2026, 3, 7), D(2026, 3, 9)},
	}
	for _, tt := range tests {
		if got, ok := s.PlannedDay(tt.due, tt.today); !ok || got != tt.want {
			t.Errorf("%s: %s, %v; want %s", tt.name, got, ok, tt.want)
		}
	}
}

// The forecast places plans and loading sessions, flags the days that
// overflow, and sends each patient of a problem day to the nearest day in
// their window with room, without promising one day's room twice.
func TestComputeForecast(t *testing.T) {
	s := reportSchedule()
	today := D(2026, 3, 4) // a Wednesday
	at := func(d Date, h int) time.Time { return d.At(Clock(h*60), chicagoZone) }
	// One chair: 180 minutes a day. Today has 90 minutes booked, 5 March
	// 120; 6 March's visit was cancelled.
	booked := []ReportVisit{{Kind: KindLoading, Status: StatusBooked, Interval: Interval{at(D(2026, 3, 5), 9), at(D(2026, 3, 5), 11)}},
		{Kind: KindConsult, Status: StatusCompleted, Interval: Interval{at(today, 9), at(today, 9).Add(90 * time.Minute)}},
		{Kind: KindLoading, Status: StatusCancelled, Interval: Interval{at(D(2026, 3, 6), 9), at(D(2026, 3, 6), 11)}}}
	due := func(id int64, d Date) DuePlan {
		return DuePlan{PatientID: id, Due: d, Last: d.AddDays(-35), MinInterval: 28, SelfBooking: DefaultSelfBooking, Minutes: 90}
	}
	f := ComputeForecast(ForecastFacts{Schedule: s, Today: today, Weeks: 2, Chairs: 1, Booked: booked,
		Due:     []DuePlan{due(1, D(2026, 3, 5)), due(2, D(2026, 3, 5)), due(3, D(2026, 3, 1)), due(4, D(2026, 3, 12))},
		Loading: []LoadingLeft{{PatientID: 5, SeriesID: 9, FirstNo: 5, Left: 2, After: D(2026, 3, 3), MinGap: 2, MaxGap: 3, Minutes: 60}}})
	if len(f.Weeks) != 2 || f.Weeks[0].Start != D(2026, 3, 2) || len(f.Weeks[0].Days) != 5 {
		t.Fatalf("weeks: %+v", f.Weeks)
	}
	if len(f.Overdue) != 1 || f.Overdue[0].PatientID != 3 || f.OverdueMinutes != 90 {
		t.Fatalf("overdue: %+v", f.Overdue)
	}
	day := func(d Date) ForecastDay {
		t.Helper()
		p, ok := f.Day(d)
		if !ok {
			t.Fatalf("no %s", d)
		}
		return *p
	}
	// Loading sessions 5 and 6: 2 days after 3 March (5 March), then 2
	// days after that (7 March, a Saturday: Monday 9 March).
	thu := day(D(2026, 3, 5))
	if thu.CapacityMinutes != 180 || thu.BookedMinutes != 120 || thu.PlannedMinutes != 240 || len(thu.Planned) != 3 {
		t.Fatalf("5 March: %+v", thu)
	}
	if thu.Problem == nil || thu.Problem.OverMinutes != 180 || len(thu.Problem.Patients) != 3 {
		t.Fatalf("5 March problem: %+v", thu.Problem)
	}
	// Patient 1 goes to the nearest day with room: 4 March (the earlier
	// wins a tie with 6 March); that takes today's last 90 minutes, so
	// patient 2 gets 6 March (the cancelled visit left it free), and the
	// loading session (window 5–6 March) the 90 minutes left there.
	got := map[int64]Date{}
	for _, p := range thu.Problem.Patients {
		got[p.PatientID] = p.Suggest
	}
	want := map[int64]Date{1: D(2026, 3, 4), 2: D(2026, 3, 6), 5: D(2026, 3, 6)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("suggestions %v; want %v", got, want)
	}
	if mon := day(D(2026, 3, 9)); mon.PlannedMinutes != 60 || mon.Planned[0].Session != 6 || mon.Problem != nil {
		t.Fatalf("9 March: %+v", mon)
	}
	if wed := day(D(2026, 3, 11)); wed.Open || wed.CapacityMinutes != 0 {
		t.Fatalf("the closure: %+v", wed)
	}
	if thu2 := day(D(2026, 3, 12)); thu2.PlannedMinutes != 90 {
		t.Fatalf("12 March: %+v", thu2)
	}
	w := f.Weeks[0]
	if w.CapacityMinutes != 3*180 || w.BookedMinutes != 210 || w.PlannedMinutes != 240 || w.ProblemDays != 1 {
		t.Fatalf("week 1: %+v", w)
	}
}

// A roster limits a day by its nurses too.
func TestForecastNurseLimit(t *testing.T) {
	s := reportSchedule()
	today := D(2026, 3, 2)
	shift := Shift{Date: today.AddDays(1), From: 9 * 60, To: 10 * 60} // 60 minutes × 3 patients
	f := ComputeForecast(ForecastFacts{Schedule: s, Today: today, Weeks: 1, Chairs: 4, Shifts: []Shift{shift},
		Due: []DuePlan{{PatientID: 1, Due: today.AddDays(1), Last: today.AddDays(-30), MinInterval: 28, Minutes: 90},
			{PatientID: 2, Due: today.AddDays(1), Last: today.AddDays(-30), MinInterval: 28, Minutes: 90},
			{PatientID: 3, Due: today.AddDays(1), Last: today.AddDays(-30), MinInterval: 28, Minutes: 90}}})
	d, _ := f.Day(today.AddDays(1))
	if !d.Rostered || d.NurseMinutes != 180 || d.Problem == nil || d.Problem.OverMinutes != 90 {
		t.Fatalf("%+v %+v", d, d.Problem)
	}
}

func TestSeriesState(t *testing.T) {
	today := D(2026, 3, 20)
	base := SeriesFacts{Sessions: 6, Started: D(2026, 3, 2), MaxGap: 3}
	with := func(f func(*SeriesFacts)) SeriesFacts { s := base; f(&s); return s }
	tests := []struct {
		name string
		s    SeriesFacts
		want SeriesState
	}{
		{"every session given", with(func(s *SeriesFacts) { s.Completed = 6 }), SeriesComplete},
		{"sessions still booked", with(func(s *SeriesFacts) { s.Completed, s.Booked = 3, 3 }), SeriesOnTrack},
		{"nothing booked, the gap not over", with(func(s *SeriesFacts) { s.Completed, s.LastGiven = 3, D(2026, 3, 18) }), SeriesAtRisk},
		{"nothing booked, the last day of the gap", with(func(s *SeriesFacts) { s.Completed, s.LastGiven = 3, D(2026, 3, 17) }), SeriesAtRisk},
		{"nothing booked, the gap over", with(func(s *SeriesFacts) { s.Completed, s.LastGiven = 3, D(2026, 3, 16) }), SeriesStopped},
		{"missed the first session long ago", with(func(s *SeriesFacts) {}), SeriesStopped},
		{"cancelled as a whole", with(func(s *SeriesFacts) { s.Completed, s.Booked, s.Cancelled = 1, 0, true }), SeriesStopped},
	}
	for _, tt := range tests {
		if got := tt.s.State(today); got != tt.want {
			t.Errorf("%s: %s; want %s", tt.name, got, tt.want)
		}
	}
}

func TestComputeCompletion(t *testing.T) {
	today := D(2026, 3, 30)
	s := func(protocol string, c Condition, completed, booked int, last Date) SeriesFacts {
		return SeriesFacts{Protocol: protocol, Condition: c, Sessions: 6, Started: D(2026, 3, 2), Completed: completed, Booked: booked, LastGiven: last, MaxGap: 3}
	}
	c := ComputeCompletion(D(2026, 3, 1), D(2026, 3, 31), today, []SeriesFacts{
		s("Standard", ConditionCRPS, 6, 0, D(2026, 3, 13)),
		s("Standard", ConditionCRPS, 1, 0, D(2026, 3, 2)),      // stopped after the first
		s("Standard", ConditionOther, 3, 0, D(2026, 3, 28)),    // at risk
		s("Short", ConditionOther, 2, 1, D(2026, 3, 27)),       // on track
		s("Short", ConditionFibromyalgia, 1, 0, D(2026, 3, 3)), // stopped after the first
	})
	if c.Total != (CompletionRow{Key: "All", Started: 5, Complete: 1, Stopped: 2, Active: 2}) {
		t.Fatalf("total %+v", c.Total)
	}
	if !reflect.DeepEqual(c.StoppedAfter, []int{0, 2}) {
		t.Fatalf("stopped after %v", c.StoppedAfter)
	}
	if len(c.ByProtocol) != 2 || c.ByProtocol[1] != (CompletionRow{Key: "Standard", Started: 3, Complete: 1, Stopped: 1, Active: 1}) {
		t.Fatalf("by protocol %+v", c.ByProtocol)
	}
	if len(c.Work) != 3 || c.Work[0].State(today) != SeriesAtRisk {
		t.Fatalf("work %+v", c.Work)
	}
}

func TestComputeOutcomes(t *testing.T) {
	inf := func(n int, given Date, relief, before, after int) OutcomeInfusion {
		return OutcomeInfusion{Condition: ConditionCRPS, Number: n, Given: given, ReliefDays: relief, PainBefore: before, PainAfter: after}
	}
	os := ComputeOutcomes(OutcomeFacts{From: D(2026, 2, 1), To: D(2026, 3, 31),
		Infusions: []OutcomeInfusion{inf(1, D(2026, 1, 5), 30, -1, -1), inf(1, D(2026, 2, 5), 40, 7, 3), inf(1, D(2026, 2, 6), -1, 8, 4),
			inf(14, D(2026, 3, 1), 50, 6, 2), inf(12, D(2026, 3, 2), 60, -1, -1)},
		PEG:   []OutcomePEG{{Condition: ConditionCRPS, On: D(2026, 3, 3), Tenths: 63}, {Condition: ConditionCRPS, On: D(2026, 3, 10), Tenths: 50}},
		Plans: []OutcomePlan{{ConditionCRPS, true}, {ConditionCRPS, false}, {ConditionOther, false}}})
	if len(os) != 2 || os[0].Condition != ConditionCRPS || os[1].Condition != ConditionOther {
		t.Fatalf("%+v", os)
	}
	crps := os[0]
	if r := crps.Relief[0]; r.N != 2 || r.Median != 35 {
		t.Fatalf("after the first: %+v", r)
	}
	if r := crps.Relief[OutcomeInfusions-1]; r.N != 2 || r.Median != 55 {
		t.Fatalf("the twelfth and later: %+v", r)
	}
	if len(crps.Months) != 2 {
		t.Fatalf("months %+v", crps.Months)
	}
	if feb := crps.Months[0]; feb.PainBefore != 75 || feb.PainAfter != 35 || feb.Infusions != 2 || feb.PEG != -1 {
		t.Fatalf("February %+v", feb)
	}
	if mar := crps.Months[1]; mar.PEG != 57 || mar.PEGAnswers != 2 || mar.Infusions != 2 || mar.PainBefore != 60 {
		t.Fatalf("March %+v", mar)
	}
	if crps.FlaggedShare() != 0.5 || os[1].Plans != 1 {
		t.Fatalf("flags %+v", crps)
	}
}
