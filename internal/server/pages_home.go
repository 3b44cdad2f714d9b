package server

import (
	"context"
	"net/http"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
	"github.com/infusiondesk/infusiondesk/web"
)

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
	ctx := r.Context()
	c, err := s.clinicDays(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	today, err := s.dayView(ctx, c, "Today", c.today)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	today.Arrivals = true
	misfits, err := s.db.Misfits(ctx, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var next *web.DayView
	if today.ActiveCount() == 0 {
		if d, ok := c.nextOpen(c.today); ok {
			v, err := s.dayView(ctx, c, "Next clinic day", d)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			next = &v
		}
	}
	counts, err := s.db.Counts(ctx, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	work := []web.WorkTab{{Key: "due", Label: "due within 14 days, not booked", Count: counts.DueSoon},
		{Key: "overdue", Label: "overdue", Count: counts.Overdue}, {Key: "report", Label: "relief reports missing", Count: counts.ReportMissing}}
	s.render(w, r, http.StatusOK, web.DeskHome(s.meta(r, "Front desk", "/desk"), today, next, len(misfits), deskNotice(r), work, counts.FailedMessages))
}

// nurseHome shows the infusion floor chair by chair: today when the clinic
// is open, else the next clinic day.
func (s *Server) nurseHome(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.clinicDays(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, heading := c.today, "Today"
	if !c.Open(d) {
		if n, ok := c.nextOpen(d); ok {
			d, heading = n, "Next clinic day"
		}
	}
	day, err := s.dayView(ctx, c, heading, d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	chairs, err := s.db.Chairs(ctx)
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

func (s *Server) physicianHome(w http.ResponseWriter, r *http.Request) {
	courses, err := s.db.OpenCourses(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	counts, err := s.db.Counts(r.Context(), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	work := []web.WorkTab{{Key: "flagged", Label: "flagged patients", Count: counts.Flagged}}
	s.render(w, r, http.StatusOK, web.PhysicianHome(s.meta(r, "Patients", "/physician"), courses, loc, work))
}
