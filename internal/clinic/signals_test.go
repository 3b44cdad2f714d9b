package clinic

import (
	"strings"
	"testing"
)

// days returns journal entries dated today − age for each age, each
// filled in by set.
func days(today Date, set func(e *JournalEntry, i int), ages ...int) []JournalEntry {
	out := make([]JournalEntry, len(ages))
	for i, age := range ages {
		out[i] = JournalEntry{On: today.AddDays(-age), Pain: 5}
		set(&out[i], i)
	}
	return out
}

func doses(values ...int) func(e *JournalEntry, i int) {
	return func(e *JournalEntry, i int) { e.BreakthroughDoses = &values[i] }
}

func TestBreakthroughRising(t *testing.T) {
	today := D(2026, 12, 3)
	// The recent window is ages 0–13, the one before 14–41.
	recent4, before4 := []int{0, 3, 7, 13}, []int{14, 20, 30, 41}
	ages := func(a ...[]int) []int {
		var out []int
		for _, x := range a {
			out = append(out, x...)
		}
		return out
	}
	tests := []struct {
		name    string
		journal []JournalEntry
		want    bool
	}{
		{"recent 3.0 against 2.0 before: exactly 1.5×", days(today, doses(3, 3, 3, 3, 2, 2, 2, 2), ages(recent4, before4)...), true},
		{"recent 2.75 against 2.0: under 1.5×", days(today, doses(3, 3, 3, 2, 2, 2, 2, 2), ages(recent4, before4)...), false},
		{"recent 1.0 against 0: 1.5× and exactly 1", days(today, doses(1, 1, 1, 1, 0, 0, 0, 0), ages(recent4, before4)...), true},
		{"recent 0.75 against 0: rising but under 1 a day", days(today, doses(1, 1, 1, 0, 0, 0, 0, 0), ages(recent4, before4)...), false},
		{"only 3 recent entries", days(today, doses(5, 5, 5, 0, 0, 0, 0), ages([]int{0, 3, 13}, before4)...), false},
		{"only 3 entries before", days(today, doses(5, 5, 5, 5, 0, 0, 0), ages(recent4, []int{14, 20, 41})...), false},
		{"an entry 42 days back is outside both windows", days(today, doses(5, 5, 5, 5, 0, 0, 0, 0), ages(recent4, []int{14, 20, 30, 42})...), false},
		{"the recent window ends 13 days back: day 14 counts before", days(today, doses(5, 5, 5, 5, 0, 0, 0, 0), ages([]int{0, 3, 7, 14}, before4)...), false},
		{"entries without doses are not counted", append(days(today, doses(4, 4, 4, 4, 1, 1, 1, 1), ages(recent4, before4)...),
			days(today, func(*JournalEntry, int) {}, 1, 2, 15, 16)...), true},
		{"falling", days(today, doses(0, 0, 0, 0, 3, 3, 3, 3), ages(recent4, before4)...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := BreakthroughRising(tt.journal, today)
			if (f != nil) != tt.want {
				t.Fatalf("flag = %v; want %v", f, tt.want)
			}
			if f != nil && (f.Code != FlagBreakthroughRising || !strings.Contains(f.Message, "last 14 days")) {
				t.Errorf("flag = %+v", f)
			}
		})
	}
	f := BreakthroughRising(days(today, doses(3, 3, 3, 3, 2, 2, 2, 2), 0, 3, 7, 13, 14, 20, 30, 41), today)
	if want := "More breakthrough medication: 3.0 doses a day over the last 14 days against 2.0 in the 28 days before."; f == nil || f.Message != want {
		t.Errorf("reason = %v; want %q", f, want)
	}
}

func scores(sleep, mobility, mood []*int) func(e *JournalEntry, i int) {
	return func(e *JournalEntry, i int) { e.Sleep, e.Mobility, e.Mood = sleep[i], mobility[i], mood[i] }
}

func ints(v ...int) []*int {
	out := make([]*int, len(v))
	for i := range v {
		if v[i] >= 0 {
			out[i] = &v[i]
		}
	}
	return out
}

func TestFunctionDeclining(t *testing.T) {
	today := D(2026, 12, 3)
	at := []int{0, 3, 7, 13, 14, 20, 30, 41}
	none := ints(-1, -1, -1, -1, -1, -1, -1, -1)
	tests := []struct {
		name    string
		journal []JournalEntry
		want    bool
	}{
		{"sleep 5 against 7: exactly 2.0 below", days(today, scores(ints(5, 5, 5, 5, 7, 7, 7, 7), none, none), at...), true},
		{"5.1 against 7: 1.9 below", days(today, scores(ints(5, 5, 5, 5, 7, 7, 7, 7), ints(-1, -1, -1, 6, -1, -1, -1, -1), ints(-1, -1, -1, 5, -1, -1, -1, -1)), at...), false},
		{"means of those present: (4+6)/2 = 5 against (7+7+7)/3 = 7", days(today,
			scores(ints(4, 4, 4, 4, 7, 7, 7, 7), ints(6, 6, 6, 6, 7, 7, 7, 7), ints(-1, -1, -1, -1, 7, 7, 7, 7)), at...), true},
		{"thirds: 16/3 against 22/3 is exactly 2.0", days(today,
			scores(ints(5, 5, 5, 5, 7, 7, 7, 7), ints(5, 5, 5, 5, 7, 7, 7, 7), ints(6, 6, 6, 6, 8, 8, 8, 8)), at...), true},
		{"an entry with none of the three is not scored", days(today, scores(ints(5, 5, 5, -1, 7, 7, 7, 7), none, none), at...), false},
		{"only 3 scored before", days(today, scores(ints(5, 5, 5, 5, 7, 7, 7, -1), none, none), at...), false},
		{"improving", days(today, scores(ints(8, 8, 8, 8, 5, 5, 5, 5), none, none), at...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := FunctionDeclining(tt.journal, today)
			if (f != nil) != tt.want {
				t.Fatalf("flag = %v; want %v", f, tt.want)
			}
		})
	}
	f := FunctionDeclining(days(today, scores(ints(5, 5, 5, 5, 7, 7, 7, 7), none, none), at...), today)
	if want := "Daily function is declining: sleep, mobility and mood average 5.0 over the last 14 days against 7.0 in the 28 days before (0–10, higher is better)."; f == nil || f.Message != want {
		t.Errorf("reason = %v; want %q", f, want)
	}
}

func TestTreatmentsMoreFrequent(t *testing.T) {
	at := func(gaps ...int) []InfusionHistory {
		on := D(2026, 1, 9)
		h := []InfusionHistory{{ID: 1, GivenOn: on.AddDays(-2), Phase: PhaseLoading}, {ID: 2, GivenOn: on, Phase: PhaseLoading}}
		for i, g := range gaps {
			on = on.AddDays(g)
			h = append(h, InfusionHistory{ID: int64(3 + i), GivenOn: on, Phase: PhaseMaintenance})
		}
		return h
	}
	tests := []struct {
		name    string
		history []InfusionHistory
		want    string
	}{
		{"42, 35, 28", at(42, 35, 28), "Infusions are coming closer together: 42 → 35 → 28 d between the last four."},
		{"the newest three of four: 28, 42, 35, 30", at(28, 42, 35, 30), "Infusions are coming closer together: 42 → 35 → 30 d between the last four."},
		{"level: 35, 35, 28", at(35, 35, 28), ""},
		{"two intervals only", at(42, 35), ""},
		{"lengthening", at(28, 35, 42), ""},
		// The loading sessions before the last are masked: their gaps do not count.
		{"loading gaps are not relevant", append([]InfusionHistory{{ID: 9, GivenOn: D(2026, 1, 1), Phase: PhaseLoading}}, at(30, 29)...), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, got := TreatmentsMoreFrequent(Relevant(tt.history)), ""
			if f != nil {
				got = f.Message
			}
			if got != tt.want {
				t.Errorf("flag = %q; want %q", got, tt.want)
			}
		})
	}
	p := PlanMaintenance(PlanInput{Intervals: domainIntervals, Infusions: at(42, 35, 28), Today: D(2026, 6, 1)})
	if !p.HasFlag(FlagTreatmentsMoreFrequent) {
		t.Errorf("the plan's flags %v lack %s", p.Flags, FlagTreatmentsMoreFrequent)
	}
}

func TestJournalValidate(t *testing.T) {
	today := D(2026, 12, 3)
	n := func(v int) *int { return &v }
	tests := []struct {
		name  string
		entry JournalEntry
		field string // "" when valid
	}{
		{"60 days back", JournalEntry{On: today.AddDays(-60), Pain: 4}, ""},
		{"61 days back", JournalEntry{On: today.AddDays(-61), Pain: 4}, "date"},
		{"tomorrow", JournalEntry{On: today.AddDays(1), Pain: 4}, "date"},
		{"doses 0", JournalEntry{On: today, Pain: 4, BreakthroughDoses: n(0)}, ""},
		{"doses −1", JournalEntry{On: today, Pain: 4, BreakthroughDoses: n(-1)}, "breakthrough_doses"},
		{"PEG 0–10", JournalEntry{On: today, Pain: 4, PEG: &PEG{0, 10, 5}}, ""},
		{"PEG 11", JournalEntry{On: today, Pain: 4, PEG: &PEG{3, 11, 5}}, "peg_enjoyment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.entry.Validate(today)
			if got := ErrorFields(err); (tt.field == "") != (err == nil) || tt.field != "" && got[tt.field] == "" {
				t.Errorf("Validate() = %v; want a problem with %q", err, tt.field)
			}
		})
	}
	if got := (PEG{7, 6, 6}).ScoreText(); got != "6.3" {
		t.Errorf("PEG 7, 6, 6 scores %s; want 6.3", got)
	}
}
