package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

// deskNotices are what the desk's pages say after a change.
var deskNotices = notices{
	"booked":           "The appointment is booked.",
	"checked-in":       "Checked in.",
	"cleared":          "The visit is cleared: the infusion may start.",
	"kiosk-done":       "The patient has handed the tablet back.",
	"saved":            "Saved.",
	"series":           "The loading series is booked.",
	"reflowed":         "The series is re-flowed.",
	"series-cancelled": "The rest of the series is cancelled.",
	"relief":           "The relief report is saved and the plan recomputed.",
	"waitlist":         "The patient is on the waitlist.",
	"waitlist-off":     "The patient is off the waitlist.",
	"recorded":         "The infusion is recorded and the visit completed.",
	"portal-revoked":   "Portal access is revoked: the account is disabled and signed out everywhere.",
	"imported":         "The past infusion is added and the plan recomputed.",
}

// deskNotice is the notice a redirect after a change asks the next page
// to show.
func deskNotice(r *http.Request) string { return deskNotices.of(r) }

// dayParam reads ?date=YYYY-MM-DD, today when absent or unreadable.
func dayParam(r *http.Request, today clinic.Date) clinic.Date {
	if d, err := clinic.ParseDate(r.URL.Query().Get("date")); err == nil {
		return d
	}
	return today
}

// deskDay is the day view: chairs as columns, the grid down the side.
func (s *Server) deskDay(w http.ResponseWriter, r *http.Request) {
	var g web.DayGrid
	err := s.read(r, func(r *http.Request) error {
		ctx := r.Context()
		c, err := s.clinicDays(ctx)
		if err != nil {
			return err
		}
		d := dayParam(r, c.today)
		visits, err := s.visits(ctx, c, d, 1)
		if err != nil {
			return err
		}
		chairs, err := s.db.Chairs(ctx)
		if err != nil {
			return err
		}
		g = web.NewDayGrid(c.Schedule, chairs, visits, d, s.now())
		floor, err := s.db.Floor(ctx, c.Schedule, d)
		g.Nurses, g.PerNurse = floor.NurseDays(), floor.Nursing.PatientsPerNurse
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	g.Notice = deskNotice(r)
	s.render(w, r, http.StatusOK, web.DayCalendar(s.meta(r, s.locale(r).Date(g.Date.At(12*60, time.UTC), i18n.Short), "/desk/calendar"), g))
}

func (s *Server) deskWeek(w http.ResponseWriter, r *http.Request) {
	var v web.WeekView
	err := s.read(r, func(r *http.Request) error {
		c, err := s.clinicDays(r.Context())
		if err != nil {
			return err
		}
		monday := web.MondayOf(dayParam(r, c.today))
		visits, err := s.visits(r.Context(), c, monday, 7)
		v = web.NewWeekView(c.Schedule, monday, visits, s.now())
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.WeekCalendar(s.meta(r, "Week", "/desk/calendar"), v))
}

func (s *Server) deskMisfits(w http.ResponseWriter, r *http.Request) {
	misfits, err := s.db.Misfits(r.Context(), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	s.render(w, r, http.StatusOK, web.MisfitsPage(s.meta(r, "Appointments to move", "/desk"), misfits, loc))
}

// clinicDays is what the day pages need: the schedule and today's date in
// the clinic's zone.
type clinicDays struct {
	clinic.Schedule
	today clinic.Date
}

func (s *Server) clinicDays(ctx context.Context) (clinicDays, error) {
	sched, err := s.db.Schedule(ctx)
	if err != nil {
		return clinicDays{}, err
	}
	return clinicDays{sched, clinic.DateOf(s.now(), sched.Loc)}, nil
}

// nextOpen is the first open day after d within two weeks.
func (c clinicDays) nextOpen(d clinic.Date) (clinic.Date, bool) {
	for i := 1; i <= 14; i++ {
		if n := d.AddDays(i); c.Open(n) {
			return n, true
		}
	}
	return clinic.Date{}, false
}

// visits returns the appointments of n clinic days from the local date from.
func (s *Server) visits(ctx context.Context, c clinicDays, from clinic.Date, n int) ([]clinic.Visit, error) {
	return s.db.Visits(ctx, postgres.AppointmentFilter{From: from.At(0, c.Loc), To: from.AddDays(n).At(0, c.Loc)})
}

func (s *Server) dayView(ctx context.Context, c clinicDays, heading string, d clinic.Date) (web.DayView, error) {
	visits, err := s.visits(ctx, c, d, 1)
	return web.DayView{Heading: heading, Date: d, Loc: c.Loc, Closed: c.ClosedReason(d), Visits: visits}, err
}

// deskHome shows today's arrivals and, when today has none, the next
// clinic day's.
func (s *Server) deskHome(w http.ResponseWriter, r *http.Request) {
	var today web.DayView
	var next *web.DayView
	var misfits []clinic.Misfit
	var counts postgres.WorkCounts
	var freed web.FreedView
	err := s.read(r, func(r *http.Request) error {
		ctx := r.Context()
		c, err := s.clinicDays(ctx)
		if err != nil {
			return err
		}
		if freed, err = s.freedView(r, c.today, c.Loc); err != nil {
			return err
		}
		if today, err = s.dayView(ctx, c, "Today", c.today); err != nil {
			return err
		}
		if misfits, err = s.db.Misfits(ctx, s.now()); err != nil {
			return err
		}
		if d, ok := c.nextOpen(c.today); ok && today.ActiveCount() == 0 {
			v, err := s.dayView(ctx, c, "Next clinic day", d)
			if err != nil {
				return err
			}
			next = &v
		}
		counts, err = s.db.Counts(ctx, s.now())
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	today.Arrivals = true
	work := []web.WorkTab{{Key: "due", Label: "due within 14 days, not booked", Count: counts.DueSoon},
		{Key: "overdue", Label: "overdue", Count: counts.Overdue}, {Key: "report", Label: "relief reports missing", Count: counts.ReportMissing}}
	s.render(w, r, http.StatusOK, web.DeskHome(s.meta(r, "Front desk", "/desk"), today, next, len(misfits), deskNotice(r), work, counts.FailedMessages, counts.OpenRequests, freed))
}

// nurseHome shows the infusion floor chair by chair: today when the clinic
// is open, else the next clinic day.
func (s *Server) nurseHome(w http.ResponseWriter, r *http.Request) {
	var day web.DayView
	var chairs []clinic.Chair
	err := s.read(r, func(r *http.Request) error {
		ctx := r.Context()
		c, err := s.clinicDays(ctx)
		if err != nil {
			return err
		}
		d, heading := c.today, "Today"
		if !c.Open(d) {
			if n, ok := c.nextOpen(d); ok {
				d, heading = n, "Next clinic day"
			}
		}
		if day, err = s.dayView(ctx, c, heading, d); err != nil {
			return err
		}
		chairs, err = s.db.Chairs(ctx)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	floor := make([]web.ChairDay, len(chairs))
	at := map[int64]int{}
	for i, ch := range chairs {
		floor[i].Chair = ch
		at[ch.ID] = i
	}
	for _, v := range day.Visits {
		if i, ok := at[v.ChairID]; ok {
			floor[i].Visits = append(floor[i].Visits, v)
		}
	}
	s.render(w, r, http.StatusOK, web.NurseFloor(s.meta(r, "Infusion floor", "/nurse"), day, floor, deskNotice(r)))
}

// daySheet is the printable list of the day's arrivals for the floor
// (?date=, today by default).
func (s *Server) daySheet(w http.ResponseWriter, r *http.Request) {
	var v web.DaySheetView
	err := s.read(r, func(r *http.Request) error {
		ctx := r.Context()
		c, err := s.clinicDays(ctx)
		if err != nil {
			return err
		}
		v = web.DaySheetView{Clinic: c.Settings.Name, Date: dayParam(r, c.today), Loc: c.Loc, Back: "/nurse"}
		if strings.HasPrefix(r.URL.Path, "/desk/") {
			v.Back = "/desk/calendar?date=" + v.Date.String()
		}
		rows, err := s.db.DaySheet(ctx, v.Date)
		for _, d := range rows {
			line := web.DaySheetLine{Start: d.Start, End: d.End, Kind: d.Kind, SessionNo: d.SessionNo, Status: d.Status, Patient: d.PatientName, MRN: d.MRN,
				Phone: d.Phone, Notes: d.Notes, Chair: d.Chair, Nurse: d.Nurse, Protocol: d.Protocol}
			if d.Driver.Name != "" {
				line.Driver = strings.TrimSpace(d.Driver.Name + " " + clinic.FormatPhone(d.Driver.Phone))
			}
			v.Rows = append(v.Rows, line)
		}
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	section := "/desk/calendar"
	if v.Back == "/nurse" {
		section = "/nurse"
	}
	s.render(w, r, http.StatusOK, web.DaySheetPage(s.meta(r, "Day sheet", section), v))
}
