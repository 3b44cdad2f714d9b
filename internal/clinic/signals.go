package clinic

import "fmt"

// Signals between visits (DOMAIN.md): what makes a physician reassess
// beyond the relief durations — infusions coming closer together, more
// breakthrough medication, less ability to get through the day.

// The flags of the signals between visits.
const (
	FlagTreatmentsMoreFrequent = "TREATMENTS_MORE_FREQUENT"
	FlagBreakthroughRising     = "BREAKTHROUGH_RISING"
	FlagFunctionDeclining      = "FUNCTION_DECLINING"
)

// The journal windows: the last RecentDays (today included) against the
// BeforeDays before them, each holding at least WindowEntries entries.
const (
	RecentDays    = 14
	BeforeDays    = 28
	WindowEntries = 4
)

// windows splits dated values into the recent window and the one before.
type window struct {
	n   int
	sum int // in the unit the caller chose
}

func inWindows(today, on Date, v int, recent, before *window) {
	switch age := today.DaysSince(on); {
	case age < 0:
	case age < RecentDays:
		recent.n, recent.sum = recent.n+1, recent.sum+v
	case age < RecentDays+BeforeDays:
		before.n, before.sum = before.n+1, before.sum+v
	}
}

// tenths writes sum/n with one decimal.
func tenths(sum, n, unit int) string {
	t := (sum*10 + unit*n/2) / (unit * n)
	return fmt.Sprintf("%d.%d", t/10, t%10)
}

// BreakthroughRising is the BREAKTHROUGH_RISING flag, or nil: both windows
// hold at least 4 entries with breakthrough doses and the recent mean is
// at least 1.5 times the mean before, and at least 1.
func BreakthroughRising(journal []JournalEntry, today Date) *Flag {
	var recent, before window
	for _, e := range journal {
		if e.BreakthroughDoses != nil {
			inWindows(today, e.On, *e.BreakthroughDoses, &recent, &before)
		}
	}
	if recent.n < WindowEntries || before.n < WindowEntries {
		return nil
	}
	// recent/rn ≥ 1.5 × before/bn and recent/rn ≥ 1, in whole numbers.
	if 2*recent.sum*before.n < 3*before.sum*recent.n || recent.sum < recent.n {
		return nil
	}
	return &Flag{FlagBreakthroughRising, fmt.Sprintf(
		"More breakthrough medication: %s doses a day over the last %d days against %s in the %d days before.",
		tenths(recent.sum, recent.n, 1), RecentDays, tenths(before.sum, before.n, 1), BeforeDays)}
}

// FunctionScore is an entry's function: the mean of its sleep, mobility
// and mood (those given), in sixths of a point so that it is whole; ok is
// false when none is given.
func (e JournalEntry) FunctionScore() (sixths int, ok bool) {
	sum, n := 0, 0
	for _, v := range []*int{e.Sleep, e.Mobility, e.Mood} {
		if v != nil {
			sum, n = sum+*v, n+1
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum * 6 / n, true
}

// FunctionDeclining is the FUNCTION_DECLINING flag, or nil: both windows
// hold at least 4 scored entries and the recent mean is at least 2.0
// below the mean before.
func FunctionDeclining(journal []JournalEntry, today Date) *Flag {
	var recent, before window
	for _, e := range journal {
		if s, ok := e.FunctionScore(); ok {
			inWindows(today, e.On, s, &recent, &before)
		}
	}
	if recent.n < WindowEntries || before.n < WindowEntries {
		return nil
	}
	// before/bn − recent/rn ≥ 2 (in sixths: 12), in whole numbers.
	if before.sum*recent.n-recent.sum*before.n < 12*before.n*recent.n {
		return nil
	}
	return &Flag{FlagFunctionDeclining, fmt.Sprintf(
		"Daily function is declining: sleep, mobility and mood average %s over the last %d days against %s in the %d days before (0–10, higher is better).",
		tenths(recent.sum, recent.n, 6), RecentDays, tenths(before.sum, before.n, 6), BeforeDays)}
}

// TreatmentsMoreFrequent is the TREATMENTS_MORE_FREQUENT flag, or nil:
// the newest three intervals between consecutive relevant infusions
// (oldest first) strictly decrease.
func TreatmentsMoreFrequent(relevant []InfusionHistory) *Flag {
	n := len(relevant)
	if n < 4 {
		return nil
	}
	gaps := make([]int, 3)
	for i := range gaps {
		gaps[i] = relevant[n-3+i].GivenOn.DaysSince(relevant[n-4+i].GivenOn)
	}
	if !(gaps[0] > gaps[1] && gaps[1] > gaps[2]) {
		return nil
	}
	return &Flag{FlagTreatmentsMoreFrequent, fmt.Sprintf(
		"Infusions are coming closer together: %s d between the last four.", joinInts(gaps, " → "))}
}

// Signals are the flags of the signals between visits, in the order of
// DOMAIN.md.
func Signals(relevant []InfusionHistory, journal []JournalEntry, today Date) []Flag {
	var out []Flag
	for _, f := range []*Flag{TreatmentsMoreFrequent(relevant), BreakthroughRising(journal, today), FunctionDeclining(journal, today)} {
		if f != nil {
			out = append(out, *f)
		}
	}
	return out
}
