package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/i18n"
	"github.com/infusiondesk/infusiondesk/web"
)

func (s *Server) portalCalendar(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	v := web.CalendarView{Notice: portalNotice(r)}
	token, err := s.db.ExistingCalendarToken(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if token != "" {
		v.URL = s.absoluteURL(r, "/calendar/"+token+".ics")
	}
	s.render(w, r, http.StatusOK, web.PortalCalendar(s.meta(r, "My calendar", "/portal/calendar"), v))
}

func (s *Server) portalCalendarRenew(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	if _, err := s.db.RenewCalendar(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/portal/calendar?done=calendar", http.StatusSeeOther)
}

func (s *Server) portalCalendarRevoke(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	if err := s.db.RevokeCalendar(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/portal/calendar?done=calendar-off", http.StatusSeeOther)
}

// calendarEvents turns visits into calendar events.
func (s *Server) calendarEvents(r *http.Request, visits []clinic.Visit) ([]clinic.CalendarEvent, string) {
	name, loc := s.clinicInfo(r.Context())
	l := s.locale(r)
	var out []clinic.CalendarEvent
	for _, v := range visits {
		summary := kindSummary(l, v.Kind) + " — " + name
		notes := l.T("%s to %s, about %d minutes including recovery.", l.At(v.Start.In(loc), i18n.LongYear), l.Clock(v.End.In(loc)), v.Minutes())
		if v.Kind != clinic.KindConsult {
			notes += " " + l.T("Arrange a driver: you may not drive after an infusion. Please arrive 15 minutes early.")
		}
		out = append(out, clinic.CalendarEvent{UID: fmt.Sprintf("appointment-%d@%s", v.ID, r.Host), Start: v.Start, End: v.End,
			Summary: summary, Location: name, Notes: notes, Cancelled: v.Status == clinic.StatusCancelled || v.Status == clinic.StatusNoShow,
			Sequence: v.Version, Stamp: s.now()})
	}
	return out, name
}

// kindSummary is a calendar entry's title: what the visit is, in words
// that say nothing of the treatment to whoever sees the calendar.
func kindSummary(l i18n.Locale, k clinic.AppointmentKind) string {
	if k == clinic.KindConsult {
		return l.T("Consultation")
	}
	return l.T("Infusion visit")
}

func (s *Server) writeICS(w http.ResponseWriter, r *http.Request, filename string, visits []clinic.Visit) {
	events, name := s.calendarEvents(r, visits)
	_, loc := s.clinicInfo(r.Context())
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, clinic.ICS(name, loc, events))
}

// portalICS downloads one of the patient's own appointments.
func (s *Server) portalICS(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	apptID, err := strconv.ParseInt(strings.TrimSuffix(chi.URLParam(r, "file"), ".ics"), 10, 64)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment."))
		return
	}
	visits, err := s.db.PatientVisits(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, v := range visits {
		if v.ID == apptID {
			s.writeICS(w, r, fmt.Sprintf("visit-%d.ics", v.ID), []clinic.Visit{v})
			return
		}
	}
	s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment."))
}

// calendarFeed is the private subscription: the token is the only key.
func (s *Server) calendarFeed(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimSuffix(chi.URLParam(r, "file"), ".ics")
	lang, visits, err := s.db.CalendarFeed(r.Context(), token, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	speak(r, lang)
	s.writeICS(w, r, "infusions.ics", visits)
}
