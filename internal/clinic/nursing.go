package clinic

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// The nursing rules (README.md, "Nurses"): on a date with at
// least one shift, every infusion visit is watched by a nurse on shift for
// its whole occupancy; a nurse watches at most PatientsPerNurse patients at
// any instant and starts no two infusions less than StartSpacingMinutes
// apart. A date without shifts is not limited by nursing.

// Nursing is the clinic's nursing limits.
type Nursing struct {
	PatientsPerNurse    int `json:"patients_per_nurse"`
	StartSpacingMinutes int `json:"start_spacing_minutes"`
}

// DefaultNursing is three patients per nurse, starts 15 minutes apart.
var DefaultNursing = Nursing{PatientsPerNurse: 3, StartSpacingMinutes: 15}

// perNurse is how many patients a nurse may watch: the clinic's number,
// the default while unset.
func (n Nursing) perNurse() int {
	if n.PatientsPerNurse <= 0 {
		return DefaultNursing.PatientsPerNurse
	}
	return n.PatientsPerNurse
}

// Validate names a number out of range.
func (n Nursing) Validate() error {
	p := Problems{}
	if n.PatientsPerNurse < 1 || n.PatientsPerNurse > 10 {
		p.Add("nursing.patients_per_nurse", "Enter 1 to 10 patients per nurse.")
	}
	if n.StartSpacingMinutes < 0 || n.StartSpacingMinutes > 120 {
		p.Add("nursing.start_spacing_minutes", "Enter 0 to 120 minutes between one nurse's starts.")
	}
	return p.Err()
}

// Shift is one nurse on duty on one date, from–to clinic-local time.
type Shift struct {
	ID        int64
	NurseID   int64
	NurseName string
	Date      Date
	From, To  Clock
}

// Interval is the shift's span in time.
func (s Shift) Interval(loc *time.Location) Interval {
	return Interval{Start: s.Date.At(s.From, loc), End: s.Date.At(s.To, loc)}
}

// Validate checks the shift's own fields.
func (s Shift) Validate() error {
	p := Problems{}
	if s.NurseID == 0 {
		p.Add("nurse_id", "Choose the nurse.")
	}
	if s.Date.IsZero() {
		p.Add("date", "Give the date (YYYY-MM-DD).")
	}
	if s.To <= s.From {
		p.Add("to", "The shift must end after it starts.")
	}
	return p.Err()
}

// Watch is an infusion a nurse watches through its occupancy, on one of
// their numbered places (1…PatientsPerNurse).
type Watch struct {
	AppointmentID int64
	NurseID       int64
	Place         int
	Interval
	Patient string // the patient's name, to explain a refusal to staff
}

// of reports whether the watch is the nurse's, leaving out the appointment
// except (0: none).
func (w Watch) of(nurseID, except int64) bool {
	return w.NurseID == nurseID && (except == 0 || w.AppointmentID != except)
}

// Assignment is the nurse an infusion is given, and the place it takes.
type Assignment struct {
	NurseID int64
	Place   int
}

// Floor is the nursing of one date: its shifts, the watches already held,
// the limits.
type Floor struct {
	Nursing Nursing
	Shifts  []Shift
	Watches []Watch
	Loc     *time.Location
	Style   i18n.Style // how its reasons write times
}

// Rostered reports whether the date has a shift: only then does nursing
// limit bookings.
func (f Floor) Rostered() bool { return len(f.Shifts) > 0 }

// Assign finds a nurse for an infusion occupying iv. A date without shifts
// needs none (ok, with a zero assignment). Otherwise the nurse is on shift
// for the whole of iv, watches fewer than PatientsPerNurse patients at
// every instant of it, and starts no other infusion within the spacing of
// iv's start; among those, the one watching the fewest patients that day,
// then the earliest shift. The place is the lowest free for the whole of
// iv. except is an appointment to leave out (the one being moved). When no
// nurse fits, the reason names what stops each one.
func (f Floor) Assign(iv Interval, except int64) (Assignment, bool, string) {
	return f.AssignTo(iv, except, 0)
}

// AssignTo is Assign limited to one nurse (0: any).
func (f Floor) AssignTo(iv Interval, except, nurseID int64) (Assignment, bool, string) {
	if !f.Rostered() {
		return Assignment{}, true, ""
	}
	// The occupancy as clinic-local times of its date, compared with the
	// shifts' clocks (no instants built per shift).
	day, from, to := DateOf(iv.Start, f.Loc), ClockOf(iv.Start, f.Loc), ClockOf(iv.End, f.Loc)
	if DateOf(iv.End, f.Loc) != day {
		to = 24 * 60
	}
	var best *Assignment
	bestLoad, asked := 0, false
	var reasons []string // what stops each nurse, each said once
	stop := func(why string) {
		if !slices.Contains(reasons, why) {
			reasons = append(reasons, why)
		}
	}
	for _, s := range f.sorted() {
		if nurseID != 0 && s.NurseID != nurseID {
			continue
		}
		asked = true
		if s.Date != day || from < s.From || s.To < to {
			stop(fmt.Sprintf("no nurse is on shift for the whole of %s–%s", clockText(f.Style, ClockOf(iv.Start, f.Loc)), clockText(f.Style, ClockOf(iv.End, f.Loc))))
			continue
		}
		if w, ok := f.startClash(s.NurseID, except, iv.Start); ok {
			stop(fmt.Sprintf("%s starts %s at %s", s.NurseName, w.Patient, clockText(f.Style, ClockOf(w.Start, f.Loc))))
			continue
		}
		place, load, ok := f.freePlace(s.NurseID, except, iv)
		if !ok {
			stop(fmt.Sprintf("%s already watches %d patients then", s.NurseName, f.Nursing.PatientsPerNurse))
			continue
		}
		if best == nil || load < bestLoad {
			best, bestLoad = &Assignment{NurseID: s.NurseID, Place: place}, load
		}
	}
	if !asked {
		return Assignment{}, false, "That nurse is not on shift that day."
	}
	if best == nil {
		return Assignment{}, false, "No nurse is free to start then: " + strings.Join(reasons, "; ") + "."
	}
	return *best, true, ""
}

// sorted are the shifts by start, then nurse (as they are when the store
// reads them: then nothing is copied).
func (f Floor) sorted() []Shift {
	less := func(a, b Shift) int { return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.NurseID, b.NurseID)) }
	if slices.IsSortedFunc(f.Shifts, less) {
		return f.Shifts
	}
	shifts := slices.Clone(f.Shifts)
	slices.SortStableFunc(shifts, less)
	return shifts
}

func (f Floor) watchesOf(nurseID, except int64) []Watch {
	var out []Watch
	for _, w := range f.Watches {
		if w.of(nurseID, except) {
			out = append(out, w)
		}
	}
	return out
}

// startClash is a watch of the nurse (but except) that starts less than
// the spacing before or after start.
func (f Floor) startClash(nurseID, except int64, start time.Time) (Watch, bool) {
	spacing := time.Duration(f.Nursing.StartSpacingMinutes) * time.Minute
	for _, w := range f.Watches {
		if !w.of(nurseID, except) {
			continue
		}
		if d := w.Start.Sub(start); d < spacing && -d < spacing {
			return w, true
		}
	}
	return Watch{}, false
}

// freePlace is the nurse's lowest place no watch overlapping iv holds
// (ranges are half-open: a patient leaving at 10:30 frees the place for a
// 10:30 start), and how many patients the nurse watches that day. Places
// are numbered watch slots, as the database's exclusion constraints keep
// them: at most PatientsPerNurse overlap at any instant.
func (f Floor) freePlace(nurseID, except int64, iv Interval) (place, load int, ok bool) {
	var taken uint16 // bit p: place p is taken during iv (places 1…10)
	for _, w := range f.Watches {
		if !w.of(nurseID, except) {
			continue
		}
		load++
		if w.Overlaps(iv) && w.Place > 0 && w.Place < 16 {
			taken |= 1 << w.Place
		}
	}
	for p := 1; p <= f.Nursing.PatientsPerNurse; p++ {
		if taken&(1<<p) == 0 {
			return p, load, true
		}
	}
	return 0, load, false
}

// ShiftPattern is a nurse's weekly pattern applied to a range of dates:
// the same hours on the weekdays chosen.
type ShiftPattern struct {
	NurseID           int64
	Weekdays          []time.Weekday
	From, To          Clock
	FirstDay, LastDay Date
}

// MaxPatternDays is the longest range a pattern is applied to at once.
const MaxPatternDays = 366

// Shifts are the pattern's shifts: each date of the range on a weekday
// chosen, when the clinic is open that day (closures and closed weekdays
// are skipped). The pattern is checked first, each problem on its field.
func (p ShiftPattern) Shifts(s Schedule) ([]Shift, error) {
	pr := Problems{}
	if p.NurseID == 0 {
		pr.Add("nurse_id", "Choose the nurse.")
	}
	if len(p.Weekdays) == 0 {
		pr.Add("weekdays", "Choose at least one weekday.")
	}
	if p.To <= p.From {
		pr.Add("to", "The shift must end after it starts.")
	}
	switch {
	case p.FirstDay.IsZero():
		pr.Add("first_day", "Give the first date.")
	case p.LastDay.IsZero() || p.LastDay.Before(p.FirstDay):
		pr.Add("last_day", "Give a last date on or after the first.")
	case p.LastDay.DaysSince(p.FirstDay) >= MaxPatternDays:
		pr.Add("last_day", fmt.Sprintf("Apply a pattern to at most %d days at a time.", MaxPatternDays))
	}
	if err := pr.Err(); err != nil {
		return nil, err
	}
	var out []Shift
	for d := p.FirstDay; !d.After(p.LastDay); d = d.AddDays(1) {
		if slices.Contains(p.Weekdays, d.Weekday()) && s.Open(d) {
			out = append(out, Shift{NurseID: p.NurseID, Date: d, From: p.From, To: p.To})
		}
	}
	return out, nil
}

// NurseDay is one nurse's day as the day view shows it: the shift, how
// many patients they watch, the most at once, and when they are at their
// limit.
type NurseDay struct {
	Shift    Shift
	Patients int
	Peak     int
	AtLimit  []Interval // when they watch PatientsPerNurse patients
}

// NurseDays sums up each shift of the floor, in shift order.
func (f Floor) NurseDays() []NurseDay {
	var out []NurseDay
	for _, s := range f.sorted() {
		nd := NurseDay{Shift: s}
		watches := f.watchesOf(s.NurseID, 0)
		nd.Patients = len(watches)
		// Sweep the watches' edges in time order (an end before a start at
		// the same instant: ranges are half-open).
		type edge struct {
			at    time.Time
			delta int
		}
		var edges []edge
		for _, w := range watches {
			edges = append(edges, edge{w.Start, +1}, edge{w.End, -1})
		}
		slices.SortFunc(edges, func(a, b edge) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.delta, b.delta)) })
		n := 0
		for i, e := range edges {
			n += e.delta
			nd.Peak = max(nd.Peak, n)
			if n >= f.Nursing.PatientsPerNurse && i+1 < len(edges) && edges[i+1].at.After(e.at) {
				nd.AtLimit = append(nd.AtLimit, Interval{Start: e.at, End: edges[i+1].at})
			}
		}
		out = append(out, nd)
	}
	return out
}
