package clinic

import (
	"strings"
	"testing"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// The worked examples' numbers: first 28, min 28, max 84, lead 7, step 7.
var domainIntervals = Intervals{First: 28, Min: 28, Max: 84, Lead: 7, Step: 7}

// history builds a course from the last loading infusion on, each
// maintenance infusion given the day the previous relief ended (or a week
// after the loading), with the given relief durations in days.
func history(lastLoading Date, durations ...int) []InfusionHistory {
	h := []InfusionHistory{{ID: 1, GivenOn: lastLoading.AddDays(-2), Phase: PhaseLoading, DoseRate: 0.3},
		{ID: 2, GivenOn: lastLoading, Phase: PhaseLoading, DoseRate: 0.3}}
	on := lastLoading
	for i, d := range durations {
		if i > 0 {
			on = on.AddDays(durations[i-1])
			h = append(h, InfusionHistory{ID: int64(3 + i), GivenOn: on, Phase: PhaseMaintenance, DoseRate: 0.3})
		}
		h[len(h)-1].Relief = &Relief{Status: ReliefEnded, On: on.AddDays(d)}
	}
	return h
}

func TestPlanMaintenance(t *testing.T) {
	d := D
	fixed := func(n int) *int { return &n }
	tests := []struct {
		name      string
		intervals Intervals
		history   []InfusionHistory
		today     Date
		booked    bool
		interval  int
		due       Date
		flags     string // the flag codes, space-separated, in order
		rationale string // a part of the rationale
	}{
		{name: "E1: loading ended 2026-03-13, no reports",
			history: []InfusionHistory{{ID: 1, GivenOn: d(2026, 3, 11), Phase: PhaseLoading}, {ID: 2, GivenOn: d(2026, 3, 13), Phase: PhaseLoading}},
			today:   d(2026, 3, 14), interval: 28, due: d(2026, 4, 10), rationale: "No relief has ended yet: first interval 28 d"},
		{name: "E2: durations 42, 42, 41; L = 2026-05-01 ended",
			history: func() []InfusionHistory {
				h := history(d(2026, 2, 6), 42, 42, 41) // L on 6 Feb + 42 + 42 = 1 May
				return h
			}(),
			today: d(2026, 6, 11), booked: true, interval: 35, due: d(2026, 6, 5),
			rationale: "Median relief 42 d over the last 3 infusions (42, 42, 41 d) − 7 d lead = 35 d"},
		{name: "E3: durations 56, 49, 40: shortening",
			history: history(d(2026, 1, 5), 56, 49, 40), today: d(2026, 5, 1), booked: true,
			interval: 33, due: d(2026, 1, 5).AddDays(56 + 49 + 33), flags: FlagReliefShortening,
			rationale: "newest relief 40 d − 7 d lead = 33 d"},
		{name: "E4: P holding on the day L was given",
			history: []InfusionHistory{
				{ID: 1, GivenOn: d(2026, 4, 10), Phase: PhaseLoading, Relief: &Relief{ReliefHolding, d(2026, 5, 15)}},
				{ID: 2, GivenOn: d(2026, 5, 15), Phase: PhaseMaintenance}},
			today: d(2026, 5, 20), interval: 42, due: d(2026, 6, 26),
			rationale: "35 d + 7 d step = 42 d"},
		{name: "E5: durations 30, 31, 30: raised to the minimum",
			history: history(d(2026, 1, 5), 30, 31, 30), today: d(2026, 4, 1), booked: true,
			interval: 28, due: d(2026, 1, 5).AddDays(30 + 31 + 28), flags: FlagIntervalAtMinimum,
			rationale: "raised to the minimum interval 28 d"},
		{name: "E6: durations 100, 120, 110: lowered to the maximum",
			history: history(d(2025, 6, 2), 100, 120, 110), today: d(2026, 4, 1), booked: true,
			interval: 84, due: d(2025, 6, 2).AddDays(100 + 120 + 84),
			rationale: "median relief 110 d over the last 3 infusions (100, 120, 110 d) − 7 d lead = 103 d, lowered to the maximum interval 84 d"},
		{name: "two durations: the mean, rounded down",
			history: history(d(2026, 1, 5), 40, 45), today: d(2026, 4, 1), booked: true,
			interval: 35, due: d(2026, 1, 5).AddDays(40 + 35), rationale: "mean relief 42 d over the last 2 infusions"},
		{name: "one duration",
			history: history(d(2026, 1, 5), 50), today: d(2026, 2, 25), booked: true,
			interval: 43, due: d(2026, 1, 5).AddDays(43), rationale: "relief 50 d after the one infusion with a reported end"},
		{name: "only the newest three durations count",
			history: history(d(2025, 6, 2), 20, 60, 61, 62), today: d(2026, 4, 1), booked: true,
			interval: 54, due: d(2025, 6, 2).AddDays(20 + 60 + 61 + 54)},
		{name: "L still holding, earlier durations known: estimate from them (case 4)",
			history: func() []InfusionHistory {
				h := history(d(2026, 1, 5), 42, 42)
				last := h[len(h)-1].GivenOn.AddDays(42)
				return append(h, InfusionHistory{ID: 99, GivenOn: last, Phase: PhaseMaintenance, Relief: &Relief{ReliefHolding, last.AddDays(20)}})
			}(),
			today: d(2026, 3, 30), booked: true, interval: 35, due: d(2026, 1, 5).AddDays(42 + 42 + 35)},
		{name: "P holding, but only until before L was given: no extension",
			history: []InfusionHistory{
				{ID: 1, GivenOn: d(2026, 4, 10), Phase: PhaseLoading, Relief: &Relief{ReliefHolding, d(2026, 5, 1)}},
				{ID: 2, GivenOn: d(2026, 5, 15), Phase: PhaseMaintenance}},
			today: d(2026, 5, 20), interval: 28, due: d(2026, 6, 12)},
		{name: "a fixed interval inside the range",
			intervals: Intervals{Fixed: fixed(42), First: 28, Min: 28, Max: 84, Lead: 7, Step: 7},
			history:   history(d(2026, 1, 5), 30, 31, 30), today: d(2026, 4, 1), booked: true,
			interval: 42, due: d(2026, 1, 5).AddDays(30 + 31 + 42), rationale: "Fixed interval 42 d set by the physician"},
		{name: "a fixed interval outside the range: kept, flagged",
			intervals: Intervals{Fixed: fixed(21), First: 28, Min: 28, Max: 84, Lead: 7, Step: 7},
			history:   history(d(2026, 1, 5), 30), today: d(2026, 2, 20), booked: true,
			interval: 21, due: d(2026, 1, 26), flags: FlagOverrideOutsideRange},
		{name: "relief masked: an earlier loading infusion's report does not count",
			history: []InfusionHistory{
				{ID: 1, GivenOn: d(2026, 3, 11), Phase: PhaseLoading, Relief: &Relief{ReliefEnded, d(2026, 3, 12)}},
				{ID: 2, GivenOn: d(2026, 3, 13), Phase: PhaseLoading}},
			today: d(2026, 3, 20), interval: 28, due: d(2026, 4, 10)},
		{name: "dose escalating over the last three",
			history: []InfusionHistory{
				{ID: 1, GivenOn: d(2026, 1, 5), Phase: PhaseLoading, DoseRate: 0.2, Relief: &Relief{ReliefEnded, d(2026, 2, 16)}},
				{ID: 2, GivenOn: d(2026, 2, 9), Phase: PhaseMaintenance, DoseRate: 0.3, Relief: &Relief{ReliefEnded, d(2026, 3, 23)}},
				{ID: 3, GivenOn: d(2026, 3, 16), Phase: PhaseMaintenance, DoseRate: 0.4, Relief: &Relief{ReliefEnded, d(2026, 4, 27)}}},
			today: d(2026, 4, 27), booked: true, interval: 35, due: d(2026, 4, 20), flags: FlagDoseEscalating},
		{name: "report missing from day 14, due not booked",
			history: []InfusionHistory{{ID: 2, GivenOn: d(2026, 3, 13), Phase: PhaseLoading}},
			today:   d(2026, 3, 27), interval: 28, due: d(2026, 4, 10), flags: FlagReportMissing + " " + FlagDueNotBooked},
		{name: "day 13: no report yet is no flag yet; booked: not flagged either",
			history: []InfusionHistory{{ID: 2, GivenOn: d(2026, 3, 13), Phase: PhaseLoading}},
			today:   d(2026, 3, 26), booked: true, interval: 28, due: d(2026, 4, 10)},
		{name: "overdue, not booked",
			history: []InfusionHistory{{ID: 2, GivenOn: d(2026, 3, 13), Phase: PhaseLoading, Relief: &Relief{ReliefHolding, d(2026, 3, 20)}}},
			today:   d(2026, 4, 15), interval: 28, due: d(2026, 4, 10), flags: FlagDueNotBooked},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iv := tc.intervals
			if iv.Min == 0 {
				iv = domainIntervals
			}
			var next *NextVisit
			if tc.booked {
				next = &NextVisit{AppointmentID: 1, On: tc.today.AddDays(1)}
			}
			p := PlanMaintenance(PlanInput{Intervals: iv, Infusions: tc.history, Today: tc.today, Next: next})
			if !p.HasDue || p.IntervalDays != tc.interval || p.DueDate != tc.due {
				t.Fatalf("interval %d due %s; want %d due %s\n%s", p.IntervalDays, p.DueDate, tc.interval, tc.due, p.Rationale)
			}
			var codes []string
			for _, f := range p.Flags {
				codes = append(codes, f.Code)
				if f.Message == "" {
					t.Errorf("flag %s without a reason", f.Code)
				}
			}
			if got := strings.Join(codes, " "); got != tc.flags {
				t.Errorf("flags %q; want %q (%v)", got, tc.flags, p.Flags)
			}
			if !strings.Contains(strings.ToLower(p.Rationale), strings.ToLower(tc.rationale)) {
				t.Errorf("rationale %q lacks %q", p.Rationale, tc.rationale)
			}
		})
	}
}

func TestPlanWithoutInfusions(t *testing.T) {
	p := PlanMaintenance(PlanInput{Intervals: domainIntervals, Today: D(2026, 3, 1)})
	if p.HasDue || p.Rationale == "" {
		t.Fatalf("%+v", p)
	}
}

func TestSuggestSlot(t *testing.T) {
	c := seriesCalendar(t, "America/Phoenix", 1, map[Date]string{D(2026, 4, 9): "Inspection"})
	now := D(2026, 4, 1).At(clk("12:00"), c.Loc)
	at := func(d Date, s string) time.Time { return d.At(clk(s), c.Loc) }
	tests := []struct {
		name string
		due  Date
		busy func()
		want time.Time
	}{
		{"due on an open free day", D(2026, 4, 7), nil, at(D(2026, 4, 7), "10:00")},
		{"due on a Saturday: Friday before, nearest time that ends by noon", D(2026, 4, 11), nil, at(D(2026, 4, 10), "10:00")},
		{"due on a closure: the day before", D(2026, 4, 9), nil, at(D(2026, 4, 8), "10:00")},
		{"due on a Sunday, Friday full, Thursday closed: the next open day after", D(2026, 4, 12), func() {
			c.Hold(1, 7, Interval{at(D(2026, 4, 10), "08:00"), at(D(2026, 4, 10), "12:00")})
		}, at(D(2026, 4, 13), "10:00")},
		{"due already past: the first free slot from tomorrow", D(2026, 3, 20), nil, at(D(2026, 4, 2), "10:00")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.busy != nil {
				tc.busy()
			}
			s, ok := c.SuggestSlot(tc.due, clk("10:00"), 90, 1, now)
			if !ok || !s.Start.Equal(tc.want) {
				t.Fatalf("got %s (%v); want %s", s.Start.In(c.Loc), ok, tc.want.In(c.Loc))
			}
		})
	}
}

func TestInfusionRecordValidate(t *testing.T) {
	n := func(x int) *int { return &x }
	ok := InfusionRecord{Minutes: 60, Route: "iv", DoseRate: 0.3, WeightKg: 70, Before: Vitals{Systolic: n(120), Diastolic: n(80), HeartRate: n(70), SpO2: n(98)}}
	if err := ok.Validate(0.1, 0.5); err != nil {
		t.Fatal(err)
	}
	if got := TotalMg(0.3, 70, 60); got != 21 {
		t.Fatalf("total %v", got)
	}
	for name, tc := range map[string]struct {
		change func(r *InfusionRecord)
		field  string
	}{
		"above the range, unconfirmed": {func(r *InfusionRecord) { r.DoseRate = 0.7 }, "dose_confirmed"},
		"confirmed without a reason":   {func(r *InfusionRecord) { r.DoseRate = 0.7; r.DoseConfirmed = true }, "dose_confirmed"},
		"above 1 mg/kg/h":              {func(r *InfusionRecord) { r.DoseRate = 1.2; r.DoseConfirmed = true; r.DoseReason = "x" }, "dose_mg_per_kg_h"},
		"no minutes":                   {func(r *InfusionRecord) { r.Minutes = 0 }, "minutes"},
		"diastolic above systolic":     {func(r *InfusionRecord) { r.After = Vitals{Systolic: n(90), Diastolic: n(95)} }, "after_bp_diastolic"},
		"pain 11":                      {func(r *InfusionRecord) { r.PainAfter = n(11) }, "pain_after"},
		"unknown side effect":          {func(r *InfusionRecord) { r.SideEffects = []SideEffect{{"itch", "mild"}} }, "side_effects"},
	} {
		r := ok
		tc.change(&r)
		if err := r.Validate(0.1, 0.5); ErrorFields(err)[tc.field] == "" {
			t.Errorf("%s: %v", name, ErrorFields(err))
		}
	}
	below := ok
	below.DoseRate, below.DoseConfirmed, below.DoseReason = 0.05, true, "first infusion, cautious"
	if err := below.Validate(0.1, 0.5); err != nil {
		t.Fatalf("confirmed with a reason: %v", err)
	}
	if err := ReliefDate(D(2026, 3, 1), D(2026, 3, 2), D(2026, 3, 10), i18n.Style{}); ErrorFields(err)["date"] == "" {
		t.Fatal("relief before the infusion accepted")
	}
	if err := ReliefDate(D(2026, 3, 11), D(2026, 3, 2), D(2026, 3, 10), i18n.Style{}); ErrorFields(err)["date"] == "" {
		t.Fatal("relief in the future accepted")
	}
}

// BenchmarkPlanMaintenance plans from a course of 40 infusions (6 loading,
// 34 maintenance, each with its relief report). Target: under 100 µs.
func BenchmarkPlanMaintenance(b *testing.B) {
	durations := make([]int, 36)
	for i := range durations {
		durations[i] = 35 + i%9
	}
	h := history(D(2022, 1, 10), durations...)
	h = append([]InfusionHistory{{ID: 100, GivenOn: D(2022, 1, 3), Phase: PhaseLoading}, {ID: 101, GivenOn: D(2022, 1, 5), Phase: PhaseLoading},
		{ID: 102, GivenOn: D(2022, 1, 7), Phase: PhaseLoading}}, h...)
	if len(h) != 40 {
		b.Fatalf("%d infusions", len(h))
	}
	in := PlanInput{Intervals: domainIntervals, Infusions: h, Today: D(2026, 1, 1)}
	for b.Loop() {
		if p := PlanMaintenance(in); !p.HasDue {
			b.Fatal("no plan")
		}
	}
}
