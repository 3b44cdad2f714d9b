package clinic

import (
	"time"
)

// Utilisation (issue 20): how much of the clinic's open chair time its
// active visits held, over a period, by weekday and by hour of day; what
// no-shows and late cancellations lost; and how busy the rostered nurses
// were. Pure: the store loads the facts, this computes every figure.

// LateCancelHours is how close to its start a cancellation counts as late:
// a chair freed with less notice is usually lost.
const LateCancelHours = 24

// MaxReportDays bounds a report's period.
const MaxReportDays = 366

// CheckPeriod names what is wrong with a report's period.
func CheckPeriod(from, to Date) error {
	switch {
	case from.IsZero() || to.IsZero():
		return Invalid(map[string]string{"from": "Give the period as from=YYYY-MM-DD&to=YYYY-MM-DD."})
	case to.Before(from):
		return Invalid(map[string]string{"to": "The end of the period cannot be before its start."})
	case to.DaysSince(from) >= MaxReportDays:
		return Invalid(map[string]string{"to": "Report on at most a year at a time."})
	}
	return nil
}

// ChairOutage is a chair out of service on the clinic days [From, Until);
// Until is zero while it still is.
type ChairOutage struct {
	ChairID     int64
	From, Until Date
}

// covers reports whether the outage holds on d.
func (o ChairOutage) covers(d Date) bool {
	return !d.Before(o.From) && (o.Until.IsZero() || d.Before(o.Until))
}

// ReportVisit is one appointment as the reports read it.
type ReportVisit struct {
	ID        int64
	PatientID int64
	ChairID   int64
	Kind      AppointmentKind
	Status    Status
	Interval
	CancelledAt time.Time // zero unless cancelled
}

// LateCancel reports whether the visit was cancelled less than
// LateCancelHours before its start.
func (v ReportVisit) LateCancel() bool {
	return v.Status == StatusCancelled && !v.CancelledAt.IsZero() &&
		v.Start.Sub(v.CancelledAt) < LateCancelHours*time.Hour
}

// Cell is chair time open and held, in minutes.
type Cell struct {
	Open, Booked int
}

// Ratio is booked over open (0 when nothing was open).
func (c Cell) Ratio() float64 {
	if c.Open == 0 {
		return 0
	}
	return float64(c.Booked) / float64(c.Open)
}

func (c *Cell) add(o Cell) { c.Open, c.Booked = c.Open+o.Open, c.Booked+o.Booked }

// UtilisationFacts is what the utilisation report is computed from.
type UtilisationFacts struct {
	Schedule Schedule
	From, To Date    // clinic days, both included
	Chairs   []Chair // every chair, in service or not
	Outages  []ChairOutage
	Visits   []ReportVisit // every visit whose clinic day lies in the period
	Shifts   []Shift
}

// NurseUse is the rostered days' nursing: the shifts' hours times the
// patients a nurse may watch, against the patient-hours infusions held.
type NurseUse struct {
	Days             int // dates with at least one shift
	ShiftMinutes     int
	CapacityMinutes  int // ShiftMinutes × patients per nurse
	WatchedMinutes   int // occupancy of the active infusion visits on those dates
	PatientsPerNurse int
}

// Ratio is watched over capacity (0 without a roster).
func (n NurseUse) Ratio() float64 {
	if n.CapacityMinutes == 0 {
		return 0
	}
	return float64(n.WatchedMinutes) / float64(n.CapacityMinutes)
}

// Utilisation is the report.
type Utilisation struct {
	From, To          Date
	Total             Cell
	NoShowMinutes     int
	LateCancelMinutes int
	ByWeekday         [7]Cell     // index: time.Weekday (0 = Sunday)
	ByHour            [24]Cell    // local hour of day
	Heat              [7][24]Cell // weekday × hour
	OpenDays          int
	Nurses            NurseUse
}

// LostMinutes is the chair time no-shows and late cancellations freed.
func (u Utilisation) LostMinutes() int { return u.NoShowMinutes + u.LateCancelMinutes }

// InService reports whether chair id is in service on d: no outage
// covers d (taking a chair out of service opens an outage; see the
// chair_outages table).
func InService(chairID int64, d Date, outages []ChairOutage) bool {
	for _, o := range outages {
		if o.ChairID == chairID && o.covers(d) {
			return false
		}
	}
	return true
}

// ComputeUtilisation computes the report from its facts.
func ComputeUtilisation(f UtilisationFacts) Utilisation {
	u := Utilisation{From: f.From, To: f.To}
	loc := f.Schedule.Loc
	for d := f.From; !d.After(f.To); d = d.AddDays(1) {
		open := f.Schedule.OpenIntervals(d)
		if len(open) == 0 {
			continue
		}
		chairs := 0
		for _, c := range f.Chairs {
			if InService(c.ID, d, f.Outages) {
				chairs++
			}
		}
		if chairs == 0 {
			continue
		}
		u.OpenDays++
		wd := d.Weekday()
		for _, iv := range open {
			spread(iv, loc, func(hour, minutes int) {
				c := Cell{Open: minutes * chairs}
				u.Heat[wd][hour].add(c)
			})
		}
	}
	for _, v := range f.Visits {
		d := DateOf(v.Start, loc)
		if d.Before(f.From) || d.After(f.To) {
			continue
		}
		switch {
		case v.Status.Active():
			wd := d.Weekday()
			spread(v.Interval, loc, func(hour, minutes int) { u.Heat[wd][hour].Booked += minutes })
		case v.Status == StatusNoShow:
			u.NoShowMinutes += v.Minutes()
		case v.LateCancel():
			u.LateCancelMinutes += v.Minutes()
		}
	}
	for wd := range u.Heat {
		for h, c := range u.Heat[wd] {
			u.ByWeekday[wd].add(c)
			u.ByHour[h].add(c)
			u.Total.add(c)
		}
	}
	u.Nurses = nurseUse(f)
	return u
}

// nurseUse sums the roster and the infusions watched on rostered dates.
func nurseUse(f UtilisationFacts) NurseUse {
	n := NurseUse{PatientsPerNurse: f.Schedule.Settings.Nursing.perNurse()}
	rostered := map[Date]bool{}
	for _, s := range f.Shifts {
		if s.Date.Before(f.From) || s.Date.After(f.To) {
			continue
		}
		rostered[s.Date] = true
		n.ShiftMinutes += s.Interval(f.Schedule.Loc).Minutes()
	}
	n.Days = len(rostered)
	n.CapacityMinutes = n.ShiftMinutes * n.PatientsPerNurse
	for _, v := range f.Visits {
		if v.Status.Active() && v.Kind != KindConsult && rostered[DateOf(v.Start, f.Schedule.Loc)] {
			n.WatchedMinutes += v.Minutes()
		}
	}
	return n
}

// spread cuts iv at the clinic's local hour boundaries and calls add with
// each piece's local hour and minutes: an occupancy 09:30–11:00 is 30
// minutes of hour 9 and 60 of hour 10. Real elapsed time, so a range
// across a clock change counts the hours that passed.
func spread(iv Interval, loc *time.Location, add func(hour, minutes int)) {
	for t := iv.Start; t.Before(iv.End); {
		c := ClockOf(t, loc)
		next := t.Add(time.Duration(60-int(c)%60) * time.Minute).Truncate(time.Minute)
		if next.After(iv.End) {
			next = iv.End
		}
		add(int(c)/60, int(next.Sub(t)/time.Minute))
		t = next
	}
}
