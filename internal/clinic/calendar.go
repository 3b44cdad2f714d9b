package clinic

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"
)

// Interval is a half-open span of time [Start, End): back-to-back intervals
// (10:00–11:00 and 11:00–12:00) do not overlap.
type Interval struct {
	Start, End time.Time
}

// Overlaps reports whether the two intervals share any instant.
func (i Interval) Overlaps(o Interval) bool { return i.Start.Before(o.End) && o.Start.Before(i.End) }

// Minutes is the length of the interval in minutes.
func (i Interval) Minutes() int { return int(i.End.Sub(i.Start) / time.Minute) }

// Slot is a place in the calendar: a chair for an interval and, on a date
// with nurses on shift, the nurse who watches it (zero otherwise).
type Slot struct {
	ChairID int64
	Interval
	Nurse Assignment
}

// Schedule is when the clinic takes appointments: its settings (hours,
// grid), its time zone and its closure dates.
type Schedule struct {
	Settings Settings
	Loc      *time.Location
	Closures map[Date]string
}

// ClosedReason says why the clinic is closed on d, or "" when it is open.
func (s Schedule) ClosedReason(d Date) string {
	if reason, ok := s.Closures[d]; ok {
		return reason
	}
	if len(s.Settings.Hours[d.Weekday()]) == 0 {
		return "no opening hours on " + d.Weekday().String() + "s"
	}
	return ""
}

// Open reports whether the clinic takes appointments on d at all.
func (s Schedule) Open(d Date) bool { return s.ClosedReason(d) == "" }

// OpenOn returns d's opening ranges; none on a closed day.
func (s Schedule) OpenOn(d Date) []Range {
	if !s.Open(d) {
		return nil
	}
	return s.Settings.Hours[d.Weekday()]
}

func (s Schedule) grid() Clock {
	if s.Settings.SlotMinutes <= 0 {
		return 15
	}
	return Clock(s.Settings.SlotMinutes)
}

// StartsOn lists, in order, the grid times on d at which an occupancy of
// minutes lies wholly inside one opening range.
func (s Schedule) StartsOn(d Date, minutes int) []Clock {
	grid := s.grid()
	var out []Clock
	for _, r := range s.OpenOn(d) {
		first := (r.Opens + grid - 1) / grid * grid
		for t := first; t+Clock(minutes) <= r.Closes; t += grid {
			if d.Exists(t, s.Loc) { // never a time the clocks jump over
				out = append(out, t)
			}
		}
	}
	return out
}

// Interval is the occupancy of minutes starting at wall-clock time c on d.
func (s Schedule) Interval(d Date, c Clock, minutes int) Interval {
	start := d.At(c, s.Loc)
	return Interval{start, start.Add(time.Duration(minutes) * time.Minute)}
}

// OpenIntervals is d's opening ranges as instants (none on a closed day):
// a range across a clock change lasts the time that passes in it.
func (s Schedule) OpenIntervals(d Date) []Interval {
	var out []Interval
	for _, r := range s.OpenOn(d) {
		out = append(out, Interval{d.At(r.Opens, s.Loc), d.At(r.Closes, s.Loc)})
	}
	return out
}

// insideHours reports whether iv lies wholly inside one opening range of
// its local day, and that day's ranges.
func (s Schedule) insideHours(iv Interval) (bool, []Range) {
	d := DateOf(iv.Start, s.Loc)
	ranges := s.OpenOn(d)
	if DateOf(iv.End.Add(-time.Nanosecond), s.Loc) != d {
		return false, ranges // runs past midnight
	}
	startClock := ClockOf(iv.Start, s.Loc)
	// The end's clock, counted on the start's day (an end at midnight is 24:00).
	endClock := startClock + Clock(iv.Minutes())
	for _, r := range ranges {
		if startClock >= r.Opens && endClock <= r.Closes {
			return true, ranges
		}
	}
	return false, ranges
}

// Misfit says why an existing appointment no longer fits the clinic's days
// and hours (after they changed), or "" when it fits.
func (s Schedule) Misfit(iv Interval) string {
	d := DateOf(iv.Start, s.Loc)
	if reason := s.ClosedReason(d); reason != "" {
		return fmt.Sprintf("Closed on %s: %s.", s.DayText(d, i18n.ShortYear), reason)
	}
	if ok, ranges := s.insideHours(iv); !ok {
		return fmt.Sprintf("%s–%s is outside the opening hours on %ss (%s).",
			s.TimeText(iv.Start), s.TimeText(iv.End), d.Weekday(), s.rangesText(ranges))
	}
	return ""
}

// Check decides whether a new appointment may start at start for minutes:
// on an open day, inside one opening range, on the grid and not in the past.
// The refusal is an EINVALID error with a message on the "start" field.
func (s Schedule) Check(start time.Time, minutes int, now time.Time) error {
	iv := Interval{start, start.Add(time.Duration(minutes) * time.Minute)}
	if msg := s.Misfit(iv); msg != "" {
		return Invalid(map[string]string{"start": msg})
	}
	local := start.In(s.Loc)
	if int(ClockOf(start, s.Loc))%int(s.grid()) != 0 || local.Second() != 0 || local.Nanosecond() != 0 {
		return Invalid(map[string]string{"start": fmt.Sprintf(
			"Appointments start on the %d-minute grid (for example 09:00 or 09:%02d).", s.grid(), s.grid()%60)})
	}
	if start.Before(now) {
		return Invalid(map[string]string{"start": "That time has already passed."})
	}
	if now.IsZero() {
		return nil // checking what exists, not a new booking
	}
	return s.CheckHorizon("start", DateOf(start, s.Loc), now)
}

func (s Schedule) rangesText(ranges []Range) string {
	if len(ranges) == 0 {
		return "closed"
	}
	out := ""
	for i, r := range ranges {
		if i > 0 {
			out += ", "
		}
		out += s.ClockText(r.Opens) + "–" + s.ClockText(r.Closes)
	}
	return out
}

// Calendar answers "where does this fit?" for one clinic: its schedule and
// chairs, and what already holds each chair and each patient. It only reads
// the facts it is given; the database stays the judge of overlaps when
// booking.
type Calendar struct {
	Schedule
	Chairs []Chair // active chairs, in chair order

	chairs   map[int64][]Interval // sorted by start; never overlapping
	patients map[int64][]Interval
	// infusionDays are the clinic-local dates on which each patient has an
	// infusion (loading or maintenance) holding a chair.
	infusionDays map[int64]map[Date]bool
	// floors are the nursing of each date with shifts (see nursing.go): a
	// calendar given shifts places infusions only where a nurse can watch
	// them. The store gives shifts only to calendars for infusions.
	nursing Nursing
	floors  map[Date]*Floor
}

// SetNursing sets the nursing limits the calendar's shifts work under.
func (c *Calendar) SetNursing(n Nursing) {
	c.nursing = n
	for _, f := range c.floors {
		f.Nursing = n
	}
}

// AddShift puts a nurse's shift on its date.
func (c *Calendar) AddShift(s Shift) {
	f := c.floor(s.Date)
	f.Shifts = append(f.Shifts, s)
}

// HoldWatch records an infusion a nurse already watches.
func (c *Calendar) HoldWatch(w Watch) {
	f := c.floor(DateOf(w.Start, c.Loc))
	f.Watches = append(f.Watches, w)
}

func (c *Calendar) floor(d Date) *Floor {
	if c.floors == nil {
		c.floors = map[Date]*Floor{}
	}
	f := c.floors[d]
	if f == nil {
		f = &Floor{Nursing: c.nursing, Loc: c.Loc}
		c.floors[d] = f
	}
	return f
}

// Nursed finds the nurse for an infusion at iv: a zero assignment on a date
// without shifts; false, with the reason, when no nurse can watch it.
func (c *Calendar) Nursed(iv Interval, except int64) (Assignment, bool, string) {
	f := c.floors[DateOf(iv.Start, c.Loc)]
	if f == nil {
		return Assignment{}, true, ""
	}
	return f.Assign(iv, except)
}

// NewCalendar returns an empty calendar.
func NewCalendar(s Settings, loc *time.Location, closures map[Date]string, chairs []Chair) *Calendar {
	if closures == nil {
		closures = map[Date]string{}
	}
	return &Calendar{Schedule: Schedule{Settings: s, Loc: loc, Closures: closures}, Chairs: chairs,
		chairs: map[int64][]Interval{}, patients: map[int64][]Interval{}, infusionDays: map[int64]map[Date]bool{}}
}

// HoldInfusion records that patientID has an infusion on the clinic-local
// day of start (besides holding its chair: see Hold).
func (c *Calendar) HoldInfusion(patientID int64, start time.Time) {
	if c.infusionDays[patientID] == nil {
		c.infusionDays[patientID] = map[Date]bool{}
	}
	c.infusionDays[patientID][DateOf(start, c.Loc)] = true
}

// InfusionOn reports whether patientID has an infusion on d.
func (c *Calendar) InfusionOn(patientID int64, d Date) bool { return c.infusionDays[patientID][d] }

// Hold records an active appointment of patientID on chairID.
func (c *Calendar) Hold(chairID, patientID int64, iv Interval) {
	c.chairs[chairID] = insertSorted(c.chairs[chairID], iv)
	if patientID != 0 {
		c.patients[patientID] = insertSorted(c.patients[patientID], iv)
	}
}

func insertSorted(list []Interval, iv Interval) []Interval {
	i := sort.Search(len(list), func(i int) bool { return !list[i].Start.Before(iv.Start) })
	list = append(list, Interval{})
	copy(list[i+1:], list[i:])
	list[i] = iv
	return list
}

// free reports whether nothing in the sorted, non-overlapping list overlaps iv.
func free(list []Interval, iv Interval) bool {
	// The first interval ending after iv starts is the only candidate.
	i := sort.Search(len(list), func(i int) bool { return list[i].End.After(iv.Start) })
	return i == len(list) || !list[i].Start.Before(iv.End)
}

// ChairFree reports whether chairID has nothing overlapping iv.
func (c *Calendar) ChairFree(chairID int64, iv Interval) bool { return free(c.chairs[chairID], iv) }

// PatientFree reports whether patientID has nothing overlapping iv.
func (c *Calendar) PatientFree(patientID int64, iv Interval) bool {
	return free(c.patients[patientID], iv)
}

// FirstFreeChair returns the first chair, in chair order, free for iv.
func (c *Calendar) FirstFreeChair(iv Interval) (int64, bool) {
	for _, ch := range c.Chairs {
		if c.ChairFree(ch.ID, iv) {
			return ch.ID, true
		}
	}
	return 0, false
}

// Nearest finds on d the grid start nearest to pref (the earlier of two
// equally near) at which some chair is free for minutes and the patient has
// nothing overlapping; the chair is the first free one in chair order.
// notBefore excludes starts before that instant (the past).
func (c *Calendar) Nearest(d Date, pref Clock, minutes int, patientID int64, notBefore time.Time) (Slot, bool) {
	for _, s := range c.startsNearest(d, pref, minutes) {
		if slot, ok := c.placeAt(d, s, minutes, patientID, notBefore); ok {
			return slot, true
		}
	}
	return Slot{}, false
}

// startsNearest is StartsOn ordered by distance from pref, the earlier of
// two equally near first.
func (c *Calendar) startsNearest(d Date, pref Clock, minutes int) []Clock {
	starts := c.StartsOn(d, minutes)
	sort.SliceStable(starts, func(i, j int) bool {
		di, dj := distance(starts[i], pref), distance(starts[j], pref)
		return di < dj || di == dj && starts[i] < starts[j]
	})
	return starts
}

// placeAt puts an occupancy of minutes at s on d in the first free chair,
// when that is not before notBefore and the patient is free then.
func (c *Calendar) placeAt(d Date, s Clock, minutes int, patientID int64, notBefore time.Time) (Slot, bool) {
	iv := c.Interval(d, s, minutes)
	if iv.Start.Before(notBefore) || !c.PatientFree(patientID, iv) {
		return Slot{}, false
	}
	chair, ok := c.FirstFreeChair(iv)
	if !ok {
		return Slot{}, false
	}
	nurse, ok, _ := c.Nursed(iv, 0)
	return Slot{ChairID: chair, Interval: iv, Nurse: nurse}, ok
}

func distance(a, b Clock) Clock {
	if a > b {
		return a - b
	}
	return b - a
}

// ChairStarts are the free start times of one chair on one day.
type ChairStarts struct {
	ChairID int64
	Starts  []Clock
}

// DayStarts is the availability of one day.
type DayStarts struct {
	Date   Date
	Closed string // why the clinic is closed; "" when open
	Chairs []ChairStarts
}

// FreeStarts lists, for each day from..to (inclusive) and each chair in
// chair order, the grid starts at which the chair is free for minutes,
// leaving out starts before notBefore.
func (c *Calendar) FreeStarts(from, to Date, minutes int, notBefore time.Time) []DayStarts {
	var out []DayStarts
	for d := from; !d.After(to); d = d.AddDays(1) {
		day := DayStarts{Date: d, Closed: c.ClosedReason(d)}
		starts := c.StartsOn(d, minutes)
		if c.floors[d] != nil { // a start needs a nurse too
			starts = slices.DeleteFunc(starts, func(s Clock) bool {
				_, ok, _ := c.Nursed(c.Interval(d, s, minutes), 0)
				return !ok
			})
		}
		for _, ch := range c.Chairs {
			cs := ChairStarts{ChairID: ch.ID, Starts: []Clock{}}
			busy := c.chairs[ch.ID]
			for _, s := range starts {
				iv := c.Interval(d, s, minutes)
				if iv.Start.Before(notBefore) {
					continue
				}
				// Starts ascend, so busy intervals that ended are behind us.
				for len(busy) > 0 && !busy[0].End.After(iv.Start) {
					busy = busy[1:]
				}
				if len(busy) == 0 || !busy[0].Start.Before(iv.End) {
					cs.Starts = append(cs.Starts, s)
				}
			}
			day.Chairs = append(day.Chairs, cs)
		}
		out = append(out, day)
	}
	return out
}

// Alternatives offers up to n slots near start for an occupancy of minutes
// that the patient could take instead: on start's day first, nearest first
// (the same time in another chair when one is free), then on the following
// open days (up to a week).
func (c *Calendar) Alternatives(start time.Time, minutes int, patientID int64, notBefore time.Time, n int) []Slot {
	d := DateOf(start, c.Loc)
	pref := ClockOf(start, c.Loc)
	var out []Slot
	for day := 0; day < 8 && len(out) < n; day++ {
		date := d.AddDays(day)
		for _, s := range c.startsNearest(date, pref, minutes) {
			if slot, ok := c.placeAt(date, s, minutes, patientID, notBefore); ok {
				out = append(out, slot)
				if len(out) == n {
					break
				}
			}
		}
	}
	return out
}

// OpenSlots lists, day by day from..to, every grid start at which the
// patient could come for minutes: a chair and (on a rostered date) a nurse
// free, the patient free and without another infusion that day, not before
// notBefore. Each slot is on the first free chair in chair order.
func (c *Calendar) OpenSlots(from, to Date, minutes int, patientID int64, notBefore time.Time) []Slot {
	var out []Slot
	for d := from; !d.After(to); d = d.AddDays(1) {
		if c.InfusionOn(patientID, d) {
			continue
		}
		for _, s := range c.StartsOn(d, minutes) {
			if slot, ok := c.placeAt(d, s, minutes, patientID, notBefore); ok {
				out = append(out, slot)
			}
		}
	}
	return out
}
