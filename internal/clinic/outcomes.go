package clinic

import (
	"slices"
)

// Outcomes (issue 20), per condition: how long relief lasted after the
// first, second, … infusion of a course (the median of the observed
// durations), pain before and after the infusions and the PEG score month
// by month, and the share of patients whose plan carries a flag.

// OutcomeInfusions is how many infusion numbers the report shows; later
// infusions count with the last.
const OutcomeInfusions = 12

// OutcomeInfusion is one infusion as the outcomes read it.
type OutcomeInfusion struct {
	Condition  Condition
	Number     int  // its place in the course: 1 for the first
	Given      Date // its day
	ReliefDays int  // observed duration; -1 when relief has not been reported ended
	PainBefore int  // -1 when not recorded
	PainAfter  int
}

// OutcomePEG is one PEG answer.
type OutcomePEG struct {
	Condition Condition
	On        Date
	Tenths    int // score in tenths
}

// OutcomePlan is one maintenance plan: flagged or not.
type OutcomePlan struct {
	Condition Condition
	Flagged   bool
}

// OutcomeFacts is what the outcomes report is computed from.
type OutcomeFacts struct {
	From, To  Date // the months shown
	Infusions []OutcomeInfusion
	PEG       []OutcomePEG
	Plans     []OutcomePlan
}

// ReliefCell is the median relief after one infusion number (Median in
// days; N durations; 0 when none).
type ReliefCell struct {
	Number, N int
	Median    float64
}

// MonthRow is one month's means, in tenths (-1 when none).
type MonthRow struct {
	Month                      Date // its first day
	PainBefore, PainAfter, PEG int
	Infusions, PEGAnswers      int
}

// ConditionOutcome is one condition's outcomes.
type ConditionOutcome struct {
	Condition      Condition
	Relief         []ReliefCell // by infusion number, 1..OutcomeInfusions
	Months         []MonthRow
	Plans, Flagged int
}

// FlaggedShare is the share of plans with a flag.
func (c ConditionOutcome) FlaggedShare() float64 {
	if c.Plans == 0 {
		return 0
	}
	return float64(c.Flagged) / float64(c.Plans)
}

// ComputeOutcomes groups the facts by condition.
func ComputeOutcomes(f OutcomeFacts) []ConditionOutcome {
	byC := map[Condition]*ConditionOutcome{}
	get := func(c Condition) *ConditionOutcome {
		if byC[c] == nil {
			byC[c] = &ConditionOutcome{Condition: c}
		}
		return byC[c]
	}
	relief := map[Condition]map[int][]int{}
	type sums struct{ infusions, before, beforeN, after, afterN, peg, pegN int }
	months := map[Condition]map[Date]*sums{}
	month := func(c Condition, d Date) *sums {
		if months[c] == nil {
			months[c] = map[Date]*sums{}
		}
		m := D(d.Year, d.Month, 1)
		if months[c][m] == nil {
			months[c][m] = &sums{}
		}
		return months[c][m]
	}
	in := func(d Date) bool { return !d.Before(f.From) && !d.After(f.To) }
	for _, i := range f.Infusions {
		get(i.Condition)
		if i.ReliefDays >= 0 {
			n := min(i.Number, OutcomeInfusions)
			if relief[i.Condition] == nil {
				relief[i.Condition] = map[int][]int{}
			}
			relief[i.Condition][n] = append(relief[i.Condition][n], i.ReliefDays)
		}
		if !in(i.Given) {
			continue
		}
		s := month(i.Condition, i.Given)
		s.infusions++
		if i.PainBefore >= 0 {
			s.before, s.beforeN = s.before+i.PainBefore*10, s.beforeN+1
		}
		if i.PainAfter >= 0 {
			s.after, s.afterN = s.after+i.PainAfter*10, s.afterN+1
		}
	}
	for _, g := range f.PEG {
		get(g.Condition)
		if in(g.On) {
			s := month(g.Condition, g.On)
			s.peg, s.pegN = s.peg+g.Tenths, s.pegN+1
		}
	}
	for _, p := range f.Plans {
		c := get(p.Condition)
		c.Plans++
		if p.Flagged {
			c.Flagged++
		}
	}
	mean := func(sum, n int) int {
		if n == 0 {
			return -1
		}
		return (sum + n/2) / n
	}
	var out []ConditionOutcome
	for c, co := range byC {
		for n := 1; n <= OutcomeInfusions; n++ {
			ds := relief[c][n]
			co.Relief = append(co.Relief, ReliefCell{Number: n, N: len(ds), Median: median(ds)})
		}
		for m := D(f.From.Year, f.From.Month, 1); !m.After(f.To); m = D(m.Year, m.Month+1, 1) {
			row := MonthRow{Month: m, PainBefore: -1, PainAfter: -1, PEG: -1}
			if s := months[c][m]; s != nil {
				row.PainBefore, row.PainAfter, row.PEG = mean(s.before, s.beforeN), mean(s.after, s.afterN), mean(s.peg, s.pegN)
				row.Infusions, row.PEGAnswers = s.infusions, s.pegN
			}
			co.Months = append(co.Months, row)
		}
		out = append(out, *co)
	}
	slices.SortFunc(out, func(a, b ConditionOutcome) int { return cmpCondition(a.Condition, b.Condition) })
	return out
}

// median of whole days (the mean of the middle two for an even count).
func median(ds []int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return float64(s[len(s)/2])
	}
	return float64(s[len(s)/2-1]+s[len(s)/2]) / 2
}

func cmpCondition(a, b Condition) int {
	order := []Condition{ConditionCRPS, ConditionNeuropathic, ConditionFibromyalgia, ConditionOther}
	return slices.Index(order, a) - slices.Index(order, b)
}
