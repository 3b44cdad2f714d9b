package clinic

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// Flag codes, exactly as README.md names them.
const (
	FlagReliefShortening     = "RELIEF_SHORTENING"
	FlagIntervalAtMinimum    = "INTERVAL_AT_MINIMUM"
	FlagOverrideOutsideRange = "OVERRIDE_OUTSIDE_RANGE"
	FlagDoseEscalating       = "DOSE_ESCALATING"
	FlagReportMissing        = "REPORT_MISSING"
	FlagDueNotBooked         = "DUE_NOT_BOOKED"
)

// ReportMissingAfterDays is how long after an infusion a relief report is
// expected; DueSoonDays how far ahead of the due date a visit should be booked.
const (
	ReportMissingAfterDays = 14
	DueSoonDays            = 14
)

// Flag is something a physician or the desk should look at, and why.
type Flag struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Intervals are a course's maintenance numbers, which a physician may
// change for the patient.
type Intervals struct {
	Fixed *int `json:"fixed_interval_days"` // nil when the planner decides
	First int  `json:"first_interval_days"`
	Min   int  `json:"min_interval_days"`
	Max   int  `json:"max_interval_days"`
	Lead  int  `json:"lead_days"`
	Step  int  `json:"step_days"`
	SelfBooking
}

// Relief is the latest report after an infusion.
type Relief struct {
	Status ReliefStatus
	On     Date
}

// InfusionHistory is one infusion of a course as the planner sees it.
type InfusionHistory struct {
	ID        int64
	GivenOn   Date
	Phase     Phase // loading or maintenance
	StartedAt *time.Time
	DoseRate  float64 // mg/kg/h
	Relief    *Relief // the latest report; nil when none
}

// Duration is the observed relief of an infusion in days, when it ended.
func (h InfusionHistory) Duration() (int, bool) {
	if h.Relief == nil || h.Relief.Status != ReliefEnded {
		return 0, false
	}
	return h.Relief.On.DaysSince(h.GivenOn), true
}

// PlanInput is everything the maintenance plan depends on.
type PlanInput struct {
	Intervals Intervals
	Infusions []InfusionHistory // every infusion of the course, any order
	Today     Date
	// Next is the next maintenance infusion when it is booked; nil when not.
	Next *NextVisit
	// Style is how the rationale writes dates (the clinic's).
	Style i18n.Style
	// Journal is the patient's symptom journal of the last six weeks at
	// least (the signals between visits read it).
	Journal []JournalEntry
}

// NextVisit is the patient's next maintenance infusion, booked: the plan
// counts it as the next infusion.
type NextVisit struct {
	AppointmentID int64     `json:"appointment_id"`
	Start         time.Time `json:"start"`
	On            Date      `json:"-"` // Start's clinic-local date
}

// Plan is the maintenance plan of a course.
type Plan struct {
	HasDue       bool // false until the course has an infusion to plan from
	Last         *InfusionHistory
	DueDate      Date
	IntervalDays int
	Rationale    string
	Flags        []Flag
	Durations    []int // observed durations of the relevant infusions, newest last
	Case         int   // which rule of the planner (README.md) set the interval (1–5)
	// Next is the booked next infusion (nil: none), and NextNote how it
	// sits against the plan, in words.
	Next     *NextVisit
	NextNote string
}

// HasFlag reports whether the plan carries the flag.
func (p Plan) HasFlag(code string) bool {
	for _, f := range p.Flags {
		if f.Code == code {
			return true
		}
	}
	return false
}

// Relevant returns the infusions that count for the plan, oldest first: the
// last infusion of the loading series and every maintenance infusion after
// it (relief after earlier loading infusions is masked by the next one).
func Relevant(infusions []InfusionHistory) []InfusionHistory {
	all := append([]InfusionHistory(nil), infusions...)
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].GivenOn != all[j].GivenOn {
			return all[i].GivenOn.Before(all[j].GivenOn)
		}
		return all[i].ID < all[j].ID
	})
	lastLoading := -1
	for i, inf := range all {
		if inf.Phase == PhaseLoading {
			lastLoading = i
		}
	}
	if lastLoading < 0 {
		return all // imported maintenance only
	}
	return all[lastLoading:]
}

func plural(n int, unit string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, unit)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// PlanMaintenance computes the next maintenance infusion exactly as
// README.md's planner says: the interval (fixed; ended relief; holding
// when the next was given; any observed relief; the first interval),
// clamped to [min, max] except a fixed one, the due date, the rationale in
// words and the flags with their reasons. It reads nothing but its input.
func PlanMaintenance(in PlanInput) Plan {
	p := Plan{Next: in.Next}
	rel := Relevant(in.Infusions)
	if len(rel) == 0 {
		p.Rationale = "No infusion yet: the plan starts from the first one."
		return p
	}
	iv := in.Intervals
	L := rel[len(rel)-1]
	p.Last, p.HasDue = &L, true
	for _, inf := range rel {
		if d, ok := inf.Duration(); ok {
			p.Durations = append(p.Durations, d)
		}
	}
	newest := p.Durations
	if len(newest) > 3 {
		newest = newest[len(newest)-3:]
	}
	shortening := len(newest) == 3 && newest[0] > newest[1] && newest[1] > newest[2] && float64(newest[2]) <= 0.8*float64(newest[0])

	// The estimate: the newest duration when relief is shortening, else the
	// median of the newest three (two: the mean, rounded down).
	estimate := func() (int, string) {
		var r int
		var how string
		switch {
		case shortening:
			r = newest[2]
			how = fmt.Sprintf("relief is shortening (%s d): newest relief %d d", joinInts(newest, " → "), r)
		case len(newest) == 3:
			s := append([]int(nil), newest...)
			sort.Ints(s)
			r = s[1]
			how = fmt.Sprintf("median relief %d d over the last 3 infusions (%s d)", r, joinInts(newest, ", "))
		case len(newest) == 2:
			r = (newest[0] + newest[1]) / 2
			how = fmt.Sprintf("mean relief %d d over the last 2 infusions (%s d, rounded down)", r, joinInts(newest, ", "))
		default:
			r = newest[0]
			how = fmt.Sprintf("relief %d d after the one infusion with a reported end", r)
		}
		return r - iv.Lead, fmt.Sprintf("%s − %d d lead = %d d", how, iv.Lead, r-iv.Lead)
	}
	clamp := func(i int, why string, isEstimate bool) (int, string) {
		switch {
		case i < iv.Min:
			if isEstimate {
				p.Flags = append(p.Flags, Flag{FlagIntervalAtMinimum, fmt.Sprintf(
					"Pain is expected back before the next allowed infusion: the estimate %d d was raised to the minimum %d d.", i, iv.Min)})
			}
			return iv.Min, fmt.Sprintf("%s, raised to the minimum interval %d d", why, iv.Min)
		case i > iv.Max:
			return iv.Max, fmt.Sprintf("%s, lowered to the maximum interval %d d", why, iv.Max)
		}
		return i, why
	}

	var P *InfusionHistory
	if len(rel) >= 2 {
		P = &rel[len(rel)-2]
	}
	_, lEnded := L.Duration()
	switch {
	case iv.Fixed != nil:
		p.Case, p.IntervalDays = 1, *iv.Fixed
		p.Rationale = fmt.Sprintf("fixed interval %d d set by the physician", *iv.Fixed)
		if *iv.Fixed < iv.Min || *iv.Fixed > iv.Max {
			p.Flags = append(p.Flags, Flag{FlagOverrideOutsideRange, fmt.Sprintf(
				"The fixed interval %d d is outside the course's range of %d–%d d.", *iv.Fixed, iv.Min, iv.Max)})
		}
	case lEnded:
		p.Case = 2
		i, why := estimate()
		p.IntervalDays, p.Rationale = clamp(i, why, true)
	case P != nil && P.Relief != nil && P.Relief.Status == ReliefHolding && !P.Relief.On.Before(L.GivenOn):
		p.Case = 3
		prev := L.GivenOn.DaysSince(P.GivenOn)
		why := fmt.Sprintf("relief after the infusion of %s was still holding on %s, when the next was given: the interval was too short to see it end, so %d d + %d d step = %d d",
			DayText(in.Style, P.GivenOn, i18n.DayMonth), DayText(in.Style, P.Relief.On, i18n.DayMonth), prev, iv.Step, prev+iv.Step)
		p.IntervalDays, p.Rationale = clamp(prev+iv.Step, why, false)
	case len(p.Durations) > 0:
		p.Case = 4
		i, why := estimate()
		p.IntervalDays, p.Rationale = clamp(i, why, true)
	default:
		p.Case = 5
		p.IntervalDays, p.Rationale = clamp(iv.First, fmt.Sprintf("no relief has ended yet: first interval %d d", iv.First), false)
	}
	p.DueDate = L.GivenOn.AddDays(p.IntervalDays)
	p.Rationale = strings.ToUpper(p.Rationale[:1]) + p.Rationale[1:] + fmt.Sprintf("; due %s (%s + %d d).",
		DayText(in.Style, p.DueDate, i18n.ShortYear), DayText(in.Style, L.GivenOn, i18n.DayMonth), p.IntervalDays)

	if shortening {
		p.Flags = append(p.Flags, Flag{FlagReliefShortening, fmt.Sprintf(
			"Relief is getting shorter: %s d over the last three infusions.", joinInts(newest, " → "))})
	}
	// Dose rates of the newest three infusions of the course.
	all := append([]InfusionHistory(nil), in.Infusions...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].GivenOn.Before(all[j].GivenOn) })
	if n := len(all); n >= 3 && all[n-3].DoseRate < all[n-2].DoseRate && all[n-2].DoseRate < all[n-1].DoseRate {
		p.Flags = append(p.Flags, Flag{FlagDoseEscalating, fmt.Sprintf(
			"The dose rate rose at each of the last three infusions: %s mg/kg/h.", joinFloats([]float64{all[n-3].DoseRate, all[n-2].DoseRate, all[n-1].DoseRate}))})
	}
	if L.Relief == nil && !in.Today.Before(L.GivenOn.AddDays(ReportMissingAfterDays)) {
		p.Flags = append(p.Flags, Flag{FlagReportMissing, fmt.Sprintf(
			"No relief report for the infusion of %s, %s ago.", DayText(in.Style, L.GivenOn, i18n.DayMonth), plural(in.Today.DaysSince(L.GivenOn), "day"))})
	}
	p.Flags = append(p.Flags, Signals(rel, in.Journal, in.Today)...)
	p.NextNote = nextNote(in.Next, L.GivenOn, p.DueDate, iv.Min)
	if in.Next == nil && !in.Today.Before(p.DueDate.AddDays(-DueSoonDays)) {
		msg := fmt.Sprintf("Due %s and no maintenance visit is booked.", DayText(in.Style, p.DueDate, i18n.Short))
		if in.Today.After(p.DueDate) {
			msg = fmt.Sprintf("Overdue since %s (%s) and no maintenance visit is booked.", DayText(in.Style, p.DueDate, i18n.Short), plural(in.Today.DaysSince(p.DueDate), "day"))
		}
		p.Flags = append(p.Flags, Flag{FlagDueNotBooked, msg})
	}
	return p
}

func joinInts(xs []int, sep string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, sep)
}

func joinFloats(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%g", x)
	}
	return strings.Join(parts, " → ")
}

// SuggestSlot finds where the next maintenance visit goes: on the due date
// when it is open and has room; else the nearest earlier open day with
// room, up to 3 days earlier; else the nearest later day. The time is the
// one nearest pref (the last infusion's start time). Never in the past: a
// due date already past means the first free slot from tomorrow.
func (c *Calendar) SuggestSlot(due Date, pref Clock, minutes int, patientID int64, now time.Time) (Slot, bool) {
	today := DateOf(now, c.Loc)
	if !due.After(today) {
		for d := today.AddDays(1); d.Before(today.AddDays(120)); d = d.AddDays(1) {
			if s, ok := c.Nearest(d, pref, minutes, patientID, now); ok {
				return s, true
			}
		}
		return Slot{}, false
	}
	if s, ok := c.Nearest(due, pref, minutes, patientID, now); ok {
		return s, true
	}
	for back := 1; back <= 3; back++ {
		d := due.AddDays(-back)
		if !d.After(today) {
			break
		}
		if s, ok := c.Nearest(d, pref, minutes, patientID, now); ok {
			return s, true
		}
	}
	for d := due.AddDays(1); d.Before(due.AddDays(120)); d = d.AddDays(1) {
		if s, ok := c.Nearest(d, pref, minutes, patientID, now); ok {
			return s, true
		}
	}
	return Slot{}, false
}

// ValidateIntervals checks a physician's maintenance numbers and the note
// that must go with every change.
func ValidateIntervals(iv Intervals, note string) error {
	p := Problems{}
	in := func(field string, v, lo, hi int) bool {
		if v < lo || v > hi {
			p.Add(field, fmt.Sprintf("Enter %d to %d days.", lo, hi))
			return false
		}
		return true
	}
	minOK := in("min_interval_days", iv.Min, 1, 365)
	maxOK := in("max_interval_days", iv.Max, 1, 730)
	if minOK && maxOK && iv.Max < iv.Min {
		p.Add("max_interval_days", "The longest interval cannot be shorter than the shortest.")
	}
	if in("first_interval_days", iv.First, 1, 730) && minOK && maxOK && (iv.First < iv.Min || iv.First > iv.Max) {
		p.Add("first_interval_days", fmt.Sprintf("The first interval must lie between %d and %d days.", iv.Min, iv.Max))
	}
	in("lead_days", iv.Lead, 0, 60)
	in("step_days", iv.Step, 0, 60)
	if iv.Fixed != nil {
		in("fixed_interval_days", *iv.Fixed, 1, 730)
	}
	CheckSelfBooking(iv.SelfBooking, p)
	switch n := utf8.RuneCountInString(strings.TrimSpace(note)); {
	case n == 0:
		p.Add("note", "Say why the intervals change; the note is kept in the history.")
	case n > 2000:
		p.Add("note", "Use at most 2,000 characters.")
	}
	return p.Err()
}

// nextNote says how the booked next infusion sits against the plan: on the
// due date, before it, after it, or sooner after the last infusion than
// the shortest interval allows.
func nextNote(next *NextVisit, last, due Date, minInterval int) string {
	if next == nil {
		return ""
	}
	switch gap := next.On.DaysSince(last); {
	case gap < minInterval:
		return fmt.Sprintf("Booked %s after the last infusion: sooner than the shortest interval (%d d).", plural(gap, "day"), minInterval)
	case next.On.After(due):
		return fmt.Sprintf("Booked %s after the due date.", plural(next.On.DaysSince(due), "day"))
	case next.On.Before(due):
		return fmt.Sprintf("Booked %s before the due date.", plural(due.DaysSince(next.On), "day"))
	}
	return "Booked on the due date."
}
