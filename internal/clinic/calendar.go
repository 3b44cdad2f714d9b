package clinic

import (
	"sort"
	"time"
)

// Interval is a half-open span of time [Start, End): back-to-back intervals
// (10:00–11:00 and 11:00–12:00) do not overlap.
type Interval struct {
	Start, End time.Time
}

// Overlaps reports whether the two intervals share any instant.
func (i Interval) Overlaps(o Interval) bool { return i.Start.Before(o.End) && o.Start.Before(i.End) }

// Slot is a place in the calendar: a chair for an interval.
type Slot struct {
	ChairID int64
	Interval
}

// Calendar answers "where does this fit?" for one clinic: its hours,
// closures, grid and chairs, and what already holds each chair and each
// patient. It only reads the facts it is given; the database stays the
// judge of overlaps when booking.
type Calendar struct {
	Settings Settings
	Loc      *time.Location
	Closures map[Date]string
	Chairs   []Chair // active chairs, in chair order

	chairs   map[int64][]Interval // sorted by start; never overlapping
	patients map[int64][]Interval
}

// NewCalendar returns an empty calendar.
func NewCalendar(s Settings, loc *time.Location, closures map[Date]string, chairs []Chair) *Calendar {
	if closures == nil {
		closures = map[Date]string{}
	}
	return &Calendar{Settings: s, Loc: loc, Closures: closures, Chairs: chairs,
		chairs: map[int64][]Interval{}, patients: map[int64][]Interval{}}
}

// Hold records an active appointment of patientID on chairID.
func (c *Calendar) Hold(chairID, patientID int64, iv Interval) {
	c.chairs[chairID] = insertSorted(c.chairs[chairID], iv)
	c.patients[patientID] = insertSorted(c.patients[patientID], iv)
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

// Open reports whether the clinic takes appointments on d at all.
func (c *Calendar) Open(d Date) bool { return len(c.Settings.OpenOn(d, c.Closures)) > 0 }

// StartsOn lists, in order, the grid times on d at which an occupancy of
// minutes lies wholly inside one opening range.
func (c *Calendar) StartsOn(d Date, minutes int) []Clock {
	grid := Clock(c.Settings.SlotMinutes)
	if grid <= 0 {
		grid = 15
	}
	var out []Clock
	for _, r := range c.Settings.OpenOn(d, c.Closures) {
		first := (r.Opens + grid - 1) / grid * grid
		for s := first; s+Clock(minutes) <= r.Closes; s += grid {
			out = append(out, s)
		}
	}
	return out
}

// Interval is the occupancy of minutes starting at wall-clock time s on d.
func (c *Calendar) Interval(d Date, s Clock, minutes int) Interval {
	start := d.At(s, c.Loc)
	return Interval{start, start.Add(time.Duration(minutes) * time.Minute)}
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
	starts := c.StartsOn(d, minutes)
	sort.SliceStable(starts, func(i, j int) bool {
		di, dj := distance(starts[i], pref), distance(starts[j], pref)
		return di < dj || di == dj && starts[i] < starts[j]
	})
	for _, s := range starts {
		iv := c.Interval(d, s, minutes)
		if iv.Start.Before(notBefore) || !c.PatientFree(patientID, iv) {
			continue
		}
		if chair, ok := c.FirstFreeChair(iv); ok {
			return Slot{chair, iv}, true
		}
	}
	return Slot{}, false
}

func distance(a, b Clock) Clock {
	if a > b {
		return a - b
	}
	return b - a
}
