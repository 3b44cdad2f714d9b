package web

import (
	"fmt"
	"strconv"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// DayGrid is one day of the calendar: chairs as columns, the slot grid down
// the side, each active appointment a block spanning its rows.
type DayGrid struct {
	Date     clinic.Date
	Today    clinic.Date
	Loc      *time.Location
	Closed   string // why the clinic is closed; "" when open
	Chairs   []clinic.Chair
	Rows     []GridRow
	Inactive []clinic.Visit // cancelled and no-shows, listed under the grid
	Notice   string
	// Nurses are the nurses on shift, with how many patients they watch;
	// PerNurse is the clinic's limit.
	Nurses     []clinic.NurseDay
	PerNurse   int
	MisfitSeen int // appointments from today on that no longer fit
}

// GridRow is one slot of the day.
type GridRow struct {
	Time  clinic.Clock
	Cells []GridCell
}

// GridCell is one chair at one slot: the start of an appointment (spanning
// Span rows), a row an appointment above covers (Covered), a free time that
// can be booked (Bookable) or a time the clinic is closed.
type GridCell struct {
	Visit    *clinic.Visit
	Span     int
	Covered  bool
	Bookable bool
	Open     bool
	// FreeMinutes is how long the chair stays free from this slot, within
	// the same opening range: a 90-minute visit fits where it is ≥ 90.
	FreeMinutes int
}

// NewDayGrid lays out a day. Rows run from the earliest opening to the
// latest closing of that weekday (07:00–18:00 on a closed day), one per
// grid step; a free slot is bookable when the clinic is open then and it
// is not yet past.
func NewDayGrid(sched clinic.Schedule, chairs []clinic.Chair, visits []clinic.Visit, d clinic.Date, now time.Time) DayGrid {
	g := DayGrid{Date: d, Today: clinic.DateOf(now, sched.Loc), Loc: sched.Loc, Closed: sched.ClosedReason(d)}
	step := clinic.Clock(sched.Settings.SlotMinutes)
	if step <= 0 {
		step = 15
	}
	first, last := clinic.Clock(7*60), clinic.Clock(18*60)
	if hours := sched.Settings.Hours[d.Weekday()]; len(hours) > 0 {
		first, last = hours[0].Opens/step*step, hours[len(hours)-1].Closes
	}
	// Chairs out of service still show when they hold an appointment that day.
	g.Chairs = append(g.Chairs, chairs...)
	column := map[int64]int{}
	for i, c := range chairs {
		column[c.ID] = i
	}
	var active []*clinic.Visit
	for i := range visits {
		v := &visits[i]
		if !v.Status.Active() {
			g.Inactive = append(g.Inactive, *v)
			continue
		}
		if _, ok := column[v.ChairID]; !ok {
			column[v.ChairID] = len(g.Chairs)
			g.Chairs = append(g.Chairs, clinic.Chair{ID: v.ChairID, Name: v.ChairName})
		}
		active = append(active, v)
		// Widen the day for an appointment outside today's hours.
		if s := clinic.ClockOf(v.Start, sched.Loc) / step * step; s < first {
			first = s
		}
		if e := clinic.ClockOf(v.End, sched.Loc); clinic.DateOf(v.End, sched.Loc) == d && e > last {
			last = e
		}
	}
	open := map[clinic.Clock]bool{}
	for _, r := range sched.OpenOn(d) {
		for t := r.Opens; t+step <= r.Closes; t += step {
			open[t] = d.Exists(t, sched.Loc) // not a time the clocks jump over
		}
	}
	for t := first; t < last; t += step {
		g.Rows = append(g.Rows, GridRow{Time: t, Cells: make([]GridCell, len(g.Chairs))})
	}
	for _, v := range active {
		col := column[v.ChairID]
		startRow := int((clinic.ClockOf(v.Start, sched.Loc) - first) / step)
		span := (v.Minutes() + int(step) - 1) / int(step)
		if startRow < 0 || startRow >= len(g.Rows) {
			continue
		}
		if g.Rows[startRow].Cells[col].Covered || g.Rows[startRow].Cells[col].Visit != nil {
			continue // cannot happen: the database refuses overlaps
		}
		span = min(span, len(g.Rows)-startRow)
		g.Rows[startRow].Cells[col] = GridCell{Visit: v, Span: span}
		for r := startRow + 1; r < startRow+span; r++ {
			g.Rows[r].Cells[col].Covered = true
		}
	}
	for _, row := range g.Rows {
		at := d.At(row.Time, sched.Loc)
		for c := range row.Cells {
			cell := &row.Cells[c]
			cell.Open = open[row.Time] && g.Closed == ""
			cell.Bookable = cell.Open && cell.Visit == nil && !cell.Covered && !at.Before(now) &&
				c < len(chairs) // not in a chair out of service
		}
	}
	// Free runs, counted from the bottom of each column up.
	for c := range g.Chairs {
		run := 0
		for r := len(g.Rows) - 1; r >= 0; r-- {
			cell := &g.Rows[r].Cells[c]
			if !cell.Open || cell.Visit != nil || cell.Covered {
				run = 0
				continue
			}
			run += int(step)
			cell.FreeMinutes = run
		}
	}
	return g
}

// BookURL is the link that starts a booking in a free cell.
func (g DayGrid) BookURL(chair clinic.Chair, t clinic.Clock) string {
	return fmt.Sprintf("/desk/book?chair=%d&date=%s&time=%s", chair.ID, g.Date, t)
}

// ActiveCount is how many appointments hold a chair that day.
func (g DayGrid) ActiveCount() int {
	n := 0
	for _, row := range g.Rows {
		for _, c := range row.Cells {
			if c.Visit != nil {
				n++
			}
		}
	}
	return n
}

func dayURL(d clinic.Date) string  { return "/desk/calendar?date=" + d.String() }
func weekURL(d clinic.Date) string { return "/desk/week?date=" + d.String() }

// AppointmentURL is the desk's page of an appointment.
func AppointmentURL(id int64) string { return "/desk/appointments/" + strconv.FormatInt(id, 10) }

func seriesURL(id int64) string { return "/desk/series/" + strconv.FormatInt(id, 10) }

// PatientURL is the desk's page of a patient.
func PatientURL(id int64) string { return "/desk/patients/" + strconv.FormatInt(id, 10) }

// PhysicianPatientURL is a patient's plan page for the physician.
func PhysicianPatientURL(id int64) string { return "/physician/patients/" + strconv.FormatInt(id, 10) }

// WeekView is seven days from a Monday, each with its appointments.
type WeekView struct {
	Monday clinic.Date
	Today  clinic.Date
	Loc    *time.Location
	Days   []WeekDay
}

// WeekDay is one day of a week view.
type WeekDay struct {
	Date   clinic.Date
	Closed string
	Visits []clinic.Visit
}

// MondayOf is the Monday on or before d.
func MondayOf(d clinic.Date) clinic.Date {
	back := (int(d.Weekday()) + 6) % 7
	return d.AddDays(-back)
}

// NewWeekView sorts a week's visits into its days.
func NewWeekView(sched clinic.Schedule, monday clinic.Date, visits []clinic.Visit, now time.Time) WeekView {
	w := WeekView{Monday: monday, Today: clinic.DateOf(now, sched.Loc), Loc: sched.Loc}
	for i := 0; i < 7; i++ {
		d := monday.AddDays(i)
		w.Days = append(w.Days, WeekDay{Date: d, Closed: sched.ClosedReason(d)})
	}
	for _, v := range visits {
		i := clinic.DateOf(v.Start, sched.Loc).DaysSince(monday)
		if i >= 0 && i < 7 {
			w.Days[i].Visits = append(w.Days[i].Visits, v)
		}
	}
	return w
}

func activeCount(vs []clinic.Visit) int {
	n := 0
	for _, v := range vs {
		if v.Status.Active() {
			n++
		}
	}
	return n
}

// freeTitle says how long a free slot lasts, in the desk's words.
func freeTitle(minutes int) string {
	if minutes >= 60 && minutes%60 == 0 {
		return fmt.Sprintf("free for %d h", minutes/60)
	}
	if minutes > 60 {
		return fmt.Sprintf("free for %d h %d min", minutes/60, minutes%60)
	}
	return fmt.Sprintf("free for %d min", minutes)
}

// visitText is a visit's kind, with its session: "Loading, session 3".
func visitText(k clinic.AppointmentKind, session *int) string {
	if session == nil {
		return kindLabel(k)
	}
	return kindLabel(k) + ", session " + strconv.Itoa(*session)
}
