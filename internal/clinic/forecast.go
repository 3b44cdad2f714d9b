package clinic

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// The forecast (issue 20): the coming weeks' chair time, booked and
// planned. Planned is what the planner knows before anyone books it: every
// maintenance patient due on a day with nothing booked, and every loading
// session still to come. A day where booked and planned exceed what is
// open is a problem day; the forecast names the patients whose plans put
// it there and the nearest days inside their windows with room.

// DefaultForecastWeeks and MaxForecastWeeks bound ?weeks=.
const (
	DefaultForecastWeeks = 12
	MaxForecastWeeks     = 26
)

// ProblemPatientsShown is how many of a problem day's planned patients the
// forecast lists, with suggestions; the rest are counted.
const ProblemPatientsShown = 25

// PlannedVisit is one visit the plans expect and nobody has booked.
type PlannedVisit struct {
	PatientID int64
	Name      string
	Kind      AppointmentKind // maintenance or loading
	Due       Date            // the due date, or the loading session's earliest day
	Minutes   int             // its occupancy
	Window    Window          // the days it may take
	Session   int             // the loading session's number; 0 for maintenance
	SeriesID  int64           // the loading series (0 when none is booked yet)
}

// DuePlan is a maintenance course's plan with nothing booked.
type DuePlan struct {
	PatientID   int64
	Name        string
	Due, Last   Date
	MinInterval int
	SelfBooking SelfBooking
	Minutes     int
}

// LoadingLeft is a loading course with sessions still to come and not
// booked: Left sessions, each at least MinGap days after the one before,
// the first after After.
type LoadingLeft struct {
	PatientID      int64
	Name           string
	SeriesID       int64
	FirstNo, Left  int
	After          Date // the last session held or booked; zero when none
	MinGap, MaxGap int
	Minutes        int
}

// ForecastFacts is what the forecast is computed from.
type ForecastFacts struct {
	Schedule Schedule
	Today    Date
	Weeks    int
	Chairs   int // chairs in service
	Shifts   []Shift
	Booked   []ReportVisit // active visits from Today on
	Due      []DuePlan
	Loading  []LoadingLeft
}

// ForecastDay is one clinic day ahead.
type ForecastDay struct {
	Date            Date
	Open            bool
	CapacityMinutes int  // open minutes × chairs in service
	NurseMinutes    int  // shift minutes × patients per nurse; 0 without a roster
	Rostered        bool // a nurse is on shift
	BookedMinutes   int
	BookedInfusion  int // the booked infusion visits' part (what nurses watch)
	PlannedMinutes  int
	Planned         []PlannedVisit
	Problem         *ProblemDay
}

// Room is the chair time left once booked and planned visits are placed
// (negative on a problem day).
func (d ForecastDay) Room() int { return d.CapacityMinutes - d.BookedMinutes - d.PlannedMinutes }

// nurseRoom is the nursing left (large when no nurse is rostered: the
// day is not limited by nursing).
func (d ForecastDay) nurseRoom() int {
	if !d.Rostered {
		return 1 << 30
	}
	return d.NurseMinutes - d.BookedInfusion - d.PlannedMinutes
}

// ProblemDay says why a day overflows and what to do.
type ProblemDay struct {
	Reason      string
	OverMinutes int // how much chair (or nursing) time too much
	Patients    []ProblemPatient
	More        int // planned patients not listed
}

// ProblemPatient is a planned patient on a problem day and the nearest
// day in their window with room; Suggest is zero when none has.
type ProblemPatient struct {
	PlannedVisit
	Suggest Date
	Why     string
}

// ForecastWeek is seven days from a Monday.
type ForecastWeek struct {
	Start           Date
	Days            []ForecastDay // the week's days from Today on
	CapacityMinutes int
	NurseMinutes    int
	BookedMinutes   int
	PlannedMinutes  int
	ProblemDays     int
}

// Forecast is the report.
type Forecast struct {
	Today          Date
	Weeks          []ForecastWeek
	Overdue        []DuePlan // due before today and not booked: not placed on a day
	OverdueMinutes int
}

// Day finds a day of the forecast.
func (f *Forecast) Day(d Date) (*ForecastDay, bool) {
	for w := range f.Weeks {
		for i := range f.Weeks[w].Days {
			if f.Weeks[w].Days[i].Date == d {
				return &f.Weeks[w].Days[i], true
			}
		}
	}
	return nil, false
}

// Monday is the Monday of d's week.
func Monday(d Date) Date { return d.AddDays(-((int(d.Weekday()) + 6) % 7)) }

// PlannedDay is where a due date lands: the due date when the clinic is
// open; else the nearest earlier open day, up to 3 days earlier and not
// before today; else the nearest later open day (the planner's rule for
// its suggested slot, without looking for a free chair).
func (s Schedule) PlannedDay(due, today Date) (Date, bool) {
	if s.Open(due) {
		return due, true
	}
	for back := 1; back <= 3; back++ {
		if d := due.AddDays(-back); !d.Before(today) && s.Open(d) {
			return d, true
		}
	}
	for d := due.AddDays(1); d.Before(due.AddDays(60)); d = d.AddDays(1) {
		if s.Open(d) {
			return d, true
		}
	}
	return Date{}, false
}

// nextOpen is the first open day on or after d (zero within 60 days none).
func (s Schedule) nextOpen(d Date) Date {
	for i := 0; i < 60; i++ {
		if s.Open(d.AddDays(i)) {
			return d.AddDays(i)
		}
	}
	return Date{}
}

// ComputeForecast lays the weeks out, places the planned visits, and
// flags and explains the problem days.
func ComputeForecast(f ForecastFacts) Forecast {
	weeks := f.Weeks
	if weeks <= 0 {
		weeks = DefaultForecastWeeks
	}
	out := Forecast{Today: f.Today}
	start := Monday(f.Today)
	end := start.AddDays(7 * weeks) // exclusive
	days := forecastDays(f, end)
	at := func(d Date) *ForecastDay {
		if d.Before(f.Today) || !d.Before(end) {
			return nil
		}
		return &days[d.DaysSince(f.Today)]
	}
	for _, v := range f.Booked {
		if d := at(DateOf(v.Start, f.Schedule.Loc)); d != nil && v.Status.Active() {
			d.BookedMinutes += v.Minutes()
			if v.Kind != KindConsult {
				d.BookedInfusion += v.Minutes()
			}
		}
	}
	for _, p := range planned(f, &out, end) {
		if d := at(p.Due); d != nil {
			d.PlannedMinutes += p.Minutes
			d.Planned = append(d.Planned, p)
		}
	}
	for i := range days {
		slices.SortFunc(days[i].Planned, func(a, b PlannedVisit) int {
			if c := cmp.Compare(a.PatientID, b.PatientID); c != 0 {
				return c
			}
			return cmp.Compare(a.Session, b.Session)
		})
	}
	flagProblems(days, f.Schedule.Settings.Style)
	for i := 0; i < weeks; i++ {
		w := ForecastWeek{Start: start.AddDays(7 * i)}
		for _, d := range days {
			if d.Date.Before(w.Start) || !d.Date.Before(w.Start.AddDays(7)) {
				continue
			}
			w.Days = append(w.Days, d)
			w.CapacityMinutes += d.CapacityMinutes
			w.NurseMinutes += d.NurseMinutes
			w.BookedMinutes += d.BookedMinutes
			w.PlannedMinutes += d.PlannedMinutes
			if d.Problem != nil {
				w.ProblemDays++
			}
		}
		out.Weeks = append(out.Weeks, w)
	}
	return out
}

// forecastDays is every day from Today to end with its capacity.
func forecastDays(f ForecastFacts, end Date) []ForecastDay {
	loc := f.Schedule.Loc
	ppn := f.Schedule.Settings.Nursing.perNurse()
	var days []ForecastDay
	for d := f.Today; d.Before(end); d = d.AddDays(1) {
		day := ForecastDay{Date: d}
		for _, iv := range f.Schedule.OpenIntervals(d) {
			day.Open = true
			day.CapacityMinutes += iv.Minutes() * f.Chairs
		}
		days = append(days, day)
	}
	for _, s := range f.Shifts {
		if s.Date.Before(f.Today) || !s.Date.Before(end) {
			continue
		}
		d := &days[s.Date.DaysSince(f.Today)]
		d.Rostered = true
		d.NurseMinutes += s.Interval(loc).Minutes() * ppn
	}
	return days
}

// planned places every unbooked maintenance plan and loading session; a
// due date already past is counted as overdue, not placed.
func planned(f ForecastFacts, out *Forecast, end Date) []PlannedVisit {
	var ps []PlannedVisit
	for _, p := range f.Due {
		if p.Due.Before(f.Today) {
			out.Overdue = append(out.Overdue, p)
			out.OverdueMinutes += p.Minutes
			continue
		}
		if !p.Due.Before(end) {
			continue
		}
		day, ok := f.Schedule.PlannedDay(p.Due, f.Today)
		if !ok {
			continue
		}
		ps = append(ps, PlannedVisit{PatientID: p.PatientID, Name: p.Name, Kind: KindMaintenance, Due: day, Minutes: p.Minutes,
			Window: BookingWindow(p.Due, p.Last, p.MinInterval, p.SelfBooking, f.Today)})
	}
	for _, l := range f.Loading {
		prev := l.After
		for i := 0; i < l.Left; i++ {
			earliest := f.Today.AddDays(1)
			if !prev.IsZero() && prev.AddDays(l.MinGap).After(earliest) {
				earliest = prev.AddDays(l.MinGap)
			}
			day := f.Schedule.nextOpen(earliest)
			if day.IsZero() || !day.Before(end) {
				break
			}
			last := earliest.AddDays(max(l.MaxGap-l.MinGap, 0))
			if prev.IsZero() {
				last = earliest.AddDays(FirstDateWindow)
			}
			ps = append(ps, PlannedVisit{PatientID: l.PatientID, Name: l.Name, Kind: KindLoading, Due: day, Minutes: l.Minutes,
				Window: Window{From: earliest, To: last}, Session: l.FirstNo + i, SeriesID: l.SeriesID})
			prev = day
		}
	}
	return ps
}

// flagProblems marks each day where booked and planned exceed the chairs
// (or, on a rostered day, the nurses) and suggests, for each planned
// patient, the nearest day inside their window with room for them. Each
// suggestion takes its room, so two patients are not sent to the last
// free hour; the earlier day wins a tie.
func flagProblems(days []ForecastDay, st i18n.Style) {
	taken := make([]int, len(days)) // room promised to suggestions
	index := func(d Date) int {
		if len(days) == 0 {
			return -1
		}
		i := d.DaysSince(days[0].Date)
		if i < 0 || i >= len(days) {
			return -1
		}
		return i
	}
	fits := func(i, minutes int) bool {
		d := days[i]
		return d.Open && d.Room()-taken[i] >= minutes && d.nurseRoom()-taken[i] >= minutes
	}
	for i := range days {
		d := &days[i]
		over, reason := -d.Room(), "More chair time is booked and planned than the chairs have open."
		if n := -d.nurseRoom(); n > 0 && n > over {
			over, reason = n, "More infusion time is booked and planned than the nurses on shift can watch."
		}
		if over <= 0 {
			continue
		}
		p := &ProblemDay{Reason: reason, OverMinutes: over}
		for k, v := range d.Planned {
			if k >= ProblemPatientsShown {
				p.More = len(d.Planned) - k
				break
			}
			pp := ProblemPatient{PlannedVisit: v, Why: "No day in their window (" + v.Window.Text(st) + ") has room."}
			reach := max(d.Date.DaysSince(v.Window.From), v.Window.To.DaysSince(d.Date))
			for off := 1; off <= reach; off++ {
				found := false
				for _, cand := range []Date{d.Date.AddDays(-off), d.Date.AddDays(off)} {
					j := index(cand)
					if j >= 0 && v.Window.Contains(cand) && fits(j, v.Minutes) {
						taken[j] += v.Minutes
						pp.Suggest = cand
						pp.Why = fmt.Sprintf("%s has room for their %d minutes and is in their window (%s).",
							DayText(st, cand, i18n.Short), v.Minutes, v.Window.Text(st))
						found = true
						break
					}
				}
				if found {
					break
				}
			}
			p.Patients = append(p.Patients, pp)
		}
		d.Problem = p
	}
}
