package clinic

import (
	"cmp"
	"slices"
	"time"
)

// Loading completion (issue 20): about half of ketamine patients do not
// finish six loading infusions and a fifth leave after the first. Each
// series started in a period is complete, on track, at risk (a session
// missed or cancelled, nothing booked, the protocol's longest gap not yet
// over) or stopped (that gap is over, or the series was cancelled).

// SeriesState is where a loading series stands.
type SeriesState string

const (
	SeriesComplete SeriesState = "complete"
	SeriesOnTrack  SeriesState = "on_track"
	SeriesAtRisk   SeriesState = "at_risk"
	SeriesStopped  SeriesState = "stopped"
)

// Label is the state as the desk says it.
func (s SeriesState) Label() string {
	switch s {
	case SeriesComplete:
		return "Complete"
	case SeriesOnTrack:
		return "On track"
	case SeriesAtRisk:
		return "At risk: nothing booked"
	case SeriesStopped:
		return "Stopped"
	}
	return string(s)
}

// SeriesCall is the desk's latest note on a call about a series.
type SeriesCall struct {
	Note string
	By   string
	At   time.Time
}

// SeriesFacts is one loading series as the completion report reads it.
type SeriesFacts struct {
	SeriesID, PatientID int64
	Name                string
	Condition           Condition
	Protocol            string
	Sessions            int  // the course's number of sessions
	Started             Date // its first session's day
	Completed           int  // sessions given
	Booked              int  // sessions booked or checked in, still to give
	LastGiven           Date // zero when none was given
	NextMissing         int  // the first session with no active appointment and not given (0: none)
	Cancelled           bool // the series was cancelled as a whole
	MaxGap              int
	Call                *SeriesCall
}

// State is where the series stands today.
func (s SeriesFacts) State(today Date) SeriesState {
	switch {
	case s.Completed >= s.Sessions:
		return SeriesComplete
	case s.Cancelled:
		return SeriesStopped
	case s.Booked > 0:
		return SeriesOnTrack
	}
	if today.After(s.StoppedAfter()) {
		return SeriesStopped
	}
	return SeriesAtRisk
}

// StoppedAfter is the last day a session could still be booked within the
// protocol's longest gap: the last session given (or the first day) plus
// the gap.
func (s SeriesFacts) StoppedAfter() Date {
	ref := s.Started
	if !s.LastGiven.IsZero() {
		ref = s.LastGiven
	}
	return ref.AddDays(s.MaxGap)
}

// CompletionRow is one protocol's or condition's completion.
type CompletionRow struct {
	Key                                string
	Started, Complete, Stopped, Active int // Active: on track or at risk
}

// Rate is the share of series started that were completed.
func (r CompletionRow) Rate() float64 {
	if r.Started == 0 {
		return 0
	}
	return float64(r.Complete) / float64(r.Started)
}

// Completion is the report.
type Completion struct {
	From, To    Date
	Total       CompletionRow
	ByProtocol  []CompletionRow
	ByCondition []CompletionRow
	// StoppedAfter counts the stopped series by sessions given: [0] none,
	// [1] after the first, …
	StoppedAfter []int
	// Work is the series the desk should act on: at risk first, then
	// stopped, the longest waiting first.
	Work []SeriesFacts
}

// ComputeCompletion classifies the series and sums them up.
func ComputeCompletion(from, to, today Date, series []SeriesFacts) Completion {
	out := Completion{From: from, To: to, Total: CompletionRow{Key: "All"}}
	byP, byC := map[string]*CompletionRow{}, map[string]*CompletionRow{}
	row := func(m map[string]*CompletionRow, k string) *CompletionRow {
		if m[k] == nil {
			m[k] = &CompletionRow{Key: k}
		}
		return m[k]
	}
	for _, s := range series {
		st := s.State(today)
		for _, r := range []*CompletionRow{&out.Total, row(byP, s.Protocol), row(byC, s.Condition.Label())} {
			r.Started++
			switch st {
			case SeriesComplete:
				r.Complete++
			case SeriesStopped:
				r.Stopped++
			default:
				r.Active++
			}
		}
		if st == SeriesStopped {
			for len(out.StoppedAfter) <= s.Completed {
				out.StoppedAfter = append(out.StoppedAfter, 0)
			}
			out.StoppedAfter[s.Completed]++
		}
		if st == SeriesStopped || st == SeriesAtRisk {
			out.Work = append(out.Work, s)
		}
	}
	flatten := func(m map[string]*CompletionRow) []CompletionRow {
		var rs []CompletionRow
		for _, r := range m {
			rs = append(rs, *r)
		}
		slices.SortFunc(rs, func(a, b CompletionRow) int { return cmp.Compare(a.Key, b.Key) })
		return rs
	}
	out.ByProtocol, out.ByCondition = flatten(byP), flatten(byC)
	slices.SortStableFunc(out.Work, func(a, b SeriesFacts) int {
		ra, rb := a.State(today) == SeriesAtRisk, b.State(today) == SeriesAtRisk
		if ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		return a.StoppedAfter().Compare(b.StoppedAfter())
	})
	return out
}
