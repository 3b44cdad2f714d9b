package clinic

import (
	"fmt"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// FirstDateWindow is how far after the earliest first date a loading
// series may begin.
const FirstDateWindow = 28

// DefaultPreferredTime is the start a series aims for when none is given.
const DefaultPreferredTime Clock = 9 * 60

// SeriesPlan is what a loading series needs from its protocol (or the
// patient's course): how many sessions, the gaps and span, the occupancy.
type SeriesPlan struct {
	Sessions    int
	MinGapDays  int
	MaxGapDays  int
	MaxSpanDays int
	Minutes     int // infusion + recovery
}

// PlanOf takes the loading numbers of a protocol or a course.
func PlanOf(p Numbers) SeriesPlan {
	return SeriesPlan{Sessions: p.Sessions, MinGapDays: p.MinGapDays, MaxGapDays: p.MaxGapDays,
		MaxSpanDays: p.MaxSpanDays, Minutes: p.InfusionMinutes + p.RecoveryMinutes}
}

// dayProblem says why no session of minutes fits on d for the patient, or ""
// when one does (and then the slot: nearest to pref, first free chair).
func (c *Calendar) dayProblem(d Date, pref Clock, minutes int, patientID int64, notBefore time.Time) (Slot, string) {
	if reason := c.ClosedReason(d); reason != "" {
		return Slot{}, reason
	}
	if _, last := c.Horizon(notBefore); !notBefore.IsZero() && d.After(last) {
		return Slot{}, "it is beyond the clinic's booking horizon"
	}
	longest := 0
	for _, r := range c.OpenOn(d) {
		longest = max(longest, r.Minutes())
	}
	if c.InfusionOn(patientID, d) {
		return Slot{}, "the patient has another infusion that day"
	}
	if longest < minutes {
		return Slot{}, fmt.Sprintf("%ss are too short for a %d-minute session (%s)", d.Weekday(), minutes, c.rangesText(c.OpenOn(d)))
	}
	if slot, ok := c.Nearest(d, pref, minutes, patientID, notBefore); ok {
		return slot, ""
	}
	starts := c.StartsOn(d, minutes)
	if len(starts) > 0 && c.Interval(d, starts[len(starts)-1], minutes).Start.Before(notBefore) {
		return Slot{}, "it is already past"
	}
	nurseless := false // a chair and the patient free, but no nurse
	for _, s := range starts {
		iv := c.Interval(d, s, minutes)
		_, chairFree := c.FirstFreeChair(iv)
		if iv.Start.Before(notBefore) || !chairFree {
			continue
		}
		if !c.PatientFree(patientID, iv) {
			return Slot{}, "the patient's other appointments leave no room"
		}
		nurseless = true
	}
	if nurseless {
		return Slot{}, fmt.Sprintf("no nurse is free to watch a %d-minute session", minutes)
	}
	return Slot{}, fmt.Sprintf("no chair is free for %d minutes", minutes)
}

// NoSeriesError explains why no series fits: the session that could not be
// placed and why each day it could have taken was refused.
type NoSeriesError struct {
	Session int
	Window  string          // the days that session could have taken
	Days    map[Date]string // each refused day and why
	Order   []Date          // the refused days in order
	Style   i18n.Style      // how Error writes the days
}

func (e *NoSeriesError) Error() string {
	var b strings.Builder
	if e.Session == 1 {
		fmt.Fprintf(&b, "No loading series fits: no day %s has room for the first session.", e.Window)
	} else {
		fmt.Fprintf(&b, "No loading series fits: session %d would need a day %s.", e.Session, e.Window)
	}
	shown := 0
	for _, d := range e.Order {
		if shown == 6 {
			fmt.Fprintf(&b, " (and %d more days)", len(e.Order)-shown)
			break
		}
		fmt.Fprintf(&b, " %s: %s.", DayText(e.Style, d, i18n.Short), e.Days[d])
		shown++
	}
	return b.String()
}

// ProposeSeries plans a loading series as README.md says: the
// lexicographically earliest feasible dates (the first as early as
// possible from earliest, within FirstDateWindow days; then each next one
// as early as possible), every gap within [MinGapDays, MaxGapDays] and the
// span within MaxSpanDays; on each date the feasible grid start nearest to
// pref, in the first free chair. fixed are sessions already placed (1…k);
// the rest are planned after them. A refusal is an EINVALID error whose
// message names the rule that could not be met.
func (c *Calendar) ProposeSeries(plan SeriesPlan, patientID int64, earliest Date, pref Clock, notBefore time.Time, fixed []Slot) ([]Slot, error) {
	p := &seriesSearch{cal: c, plan: plan, patient: patientID, pref: pref, notBefore: notBefore,
		days: map[Date]dayResult{}, deepest: &NoSeriesError{Days: map[Date]string{}}}
	out := append([]Slot(nil), fixed...)
	if len(fixed) >= plan.Sessions {
		return out, nil
	}
	if p.place(&out, earliest) {
		return out, nil
	}
	return nil, &Error{Code: EINVALID, Message: p.deepest.Error(), Fields: map[string]string{"start_date": p.deepest.Error()}}
}

type dayResult struct {
	slot    Slot
	problem string
}

type seriesSearch struct {
	cal       *Calendar
	plan      SeriesPlan
	patient   int64
	pref      Clock
	notBefore time.Time
	days      map[Date]dayResult
	deepest   *NoSeriesError
}

func (p *seriesSearch) day(d Date) dayResult {
	if r, ok := p.days[d]; ok {
		return r
	}
	slot, problem := p.cal.dayProblem(d, p.pref, p.plan.Minutes, p.patient, p.notBefore)
	r := dayResult{slot, problem}
	p.days[d] = r
	return r
}

// place fills out up to the plan's sessions, depth first, earliest date
// first, and reports whether it could.
func (p *seriesSearch) place(out *[]Slot, earliest Date) bool {
	k := len(*out) // sessions placed; the next is k+1
	if k == p.plan.Sessions {
		return true
	}
	var from, to Date
	var window string
	if k == 0 {
		from, to = earliest, earliest.AddDays(FirstDateWindow)
		window = fmt.Sprintf("from %s to %s", p.cal.DayText(from, i18n.Short), p.cal.DayText(to, i18n.Short))
	} else {
		first := DateOf((*out)[0].Start, p.cal.Loc)
		prev := DateOf((*out)[k-1].Start, p.cal.Loc)
		from, to = prev.AddDays(p.plan.MinGapDays), prev.AddDays(p.plan.MaxGapDays)
		if last := first.AddDays(p.plan.MaxSpanDays); last.Before(to) {
			to = last
		}
		window = fmt.Sprintf("from %s to %s (%d–%d days after session %d, and the series within %d days of %s)",
			p.cal.DayText(from, i18n.Short), p.cal.DayText(to, i18n.Short), p.plan.MinGapDays, p.plan.MaxGapDays, k,
			p.plan.MaxSpanDays, p.cal.DayText(first, i18n.Short))
	}
	var refused []Date
	refusedWhy := map[Date]string{}
	for d := from; !d.After(to); d = d.AddDays(1) {
		r := p.day(d)
		if r.problem != "" {
			refused = append(refused, d)
			refusedWhy[d] = r.problem
			continue
		}
		*out = append(*out, r.slot)
		if p.place(out, earliest) {
			return true
		}
		*out = (*out)[:k]
		refusedWhy[d] = "the sessions after it would not fit"
		refused = append(refused, d)
	}
	// Remember the failure that got furthest: that is the rule to name.
	if k+1 >= p.deepest.Session {
		if from.After(to) {
			window = fmt.Sprintf("by %s, but the series must end within %d days of its first session", p.cal.DayText(to, i18n.Short), p.plan.MaxSpanDays)
		}
		*p.deepest = NoSeriesError{Session: k + 1, Window: window, Days: refusedWhy, Order: refused, Style: p.cal.Settings.Style}
	}
	return false
}

// SessionCheck is one session of a series as the desk arranged it, checked.
type SessionCheck struct {
	Slot
	GapDays int    // days since the previous session; 0 for the first
	Problem string // why this session breaks a rule; "" when it is fine
	// Taken is set when every problem is a chair or the patient taken
	// since the proposal: a conflict, not a broken rule.
	Taken bool
}

// CheckSeries checks a series as arranged (by the planner, then perhaps
// changed by the desk): each session inside the hours, on the grid, not
// past, its chair and the patient free, each gap and the span within the
// plan. It returns every session with its problem; ok when none has one.
func (c *Calendar) CheckSeries(plan SeriesPlan, patientID int64, sessions []Slot, now time.Time) ([]SessionCheck, bool) {
	out := make([]SessionCheck, len(sessions))
	ok := len(sessions) == plan.Sessions
	var first Date
	for i, s := range sessions {
		out[i].Slot = s
		d := DateOf(s.Start, c.Loc)
		problems := []string{}
		taken := 0 // problems that are a chair or the patient taken meanwhile
		if err := c.Check(s.Start, plan.Minutes, now); err != nil {
			problems = append(problems, strings.TrimSuffix(ErrorFields(err)["start"], "."))
		} else {
			switch {
			case !c.chairActive(s.ChairID):
				problems = append(problems, "that chair is not in service")
			case !c.ChairFree(s.ChairID, s.Interval):
				problems = append(problems, "that chair is taken then")
				taken++
			}
			if !c.PatientFree(patientID, s.Interval) {
				problems = append(problems, "the patient has another appointment then")
				taken++
			} else if c.InfusionOn(patientID, d) {
				problems = append(problems, "the patient has another infusion that day")
			}
			if nurse, ok, why := c.Nursed(s.Interval, 0); ok {
				out[i].Nurse = nurse
			} else {
				problems = append(problems, strings.ToLower(why[:1])+strings.TrimSuffix(why[1:], "."))
				taken++ // a nurse's time, like a chair's, is taken by other bookings
			}
		}
		if i == 0 {
			first = d
		} else {
			prev := DateOf(sessions[i-1].Start, c.Loc)
			out[i].GapDays = d.DaysSince(prev)
			if g := out[i].GapDays; g < plan.MinGapDays || g > plan.MaxGapDays {
				problems = append(problems, fmt.Sprintf("%d days after the previous session; the protocol allows %d–%d", g, plan.MinGapDays, plan.MaxGapDays))
			}
			if span := d.DaysSince(first); span > plan.MaxSpanDays {
				problems = append(problems, fmt.Sprintf("%d days after the first session; the series must end within %d", span, plan.MaxSpanDays))
			}
		}
		// Two sessions of the series must not overlap each other either.
		for j := 0; j < i; j++ {
			if sessions[j].Overlaps(s.Interval) {
				problems = append(problems, fmt.Sprintf("it overlaps session %d", j+1))
			}
		}
		if len(problems) > 0 {
			ok = false
			out[i].Taken = taken == len(problems)
			out[i].Problem = strings.ToUpper(problems[0][:1]) + strings.Join(problems, "; ")[1:] + "."
		}
	}
	return out, ok
}

func (c *Calendar) chairActive(id int64) bool {
	for _, ch := range c.Chairs {
		if ch.ID == id {
			return true
		}
	}
	return false
}

// CheckSpacing checks only the dates of a series, in session order: every
// gap within [MinGapDays, MaxGapDays] and the span within MaxSpanDays. It
// says what breaks, or "" when nothing does.
func CheckSpacing(plan SeriesPlan, dates []Date) string {
	for i := 1; i < len(dates); i++ {
		if g := dates[i].DaysSince(dates[i-1]); g < plan.MinGapDays || g > plan.MaxGapDays {
			return fmt.Sprintf("Session %d would be %d days after session %d; the protocol allows %d–%d.", i+1, g, i, plan.MinGapDays, plan.MaxGapDays)
		}
		if span := dates[i].DaysSince(dates[0]); span > plan.MaxSpanDays {
			return fmt.Sprintf("Session %d would be %d days after the first; the series must end within %d.", i+1, span, plan.MaxSpanDays)
		}
	}
	return ""
}
