package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/infusiondesk/infusiondesk/internal/auth"
	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/web"
)

// The patient portal. Every handler here works on the patient linked to
// the signed-in account — never on an id from the request, except an
// appointment id, which must then be the patient's own (else "not found").

// portalPatient is the signed-in patient's record id; false (with the
// answer sent) for an account not linked to a patient.
func (s *Server) portalPatient(w http.ResponseWriter, r *http.Request) (int64, bool) {
	u := currentUser(r)
	if u == nil || u.PatientID == nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "Your account is not linked to a patient record yet. Please call the front desk."))
		return 0, false
	}
	return *u.PatientID, true
}

func portalNotice(r *http.Request) string {
	switch r.URL.Query().Get("done") {
	case "relief-ended":
		return "Thank you. The clinic knows your pain came back; your care team will plan your next infusion from it."
	case "relief-holding":
		return "Thank you. The clinic knows you still feel relief."
	case "request":
		return "Your request was sent to the front desk. You will see their answer here."
	case "journal":
		return "Your journal entry is saved."
	case "calendar":
		return "Your calendar address is ready."
	case "calendar-off":
		return "Your calendar address is turned off."
	}
	return ""
}

// portalHome shows the patient's own visits, series progress, requests and
// the relief buttons.
func (s *Server) portalHome(w http.ResponseWriter, r *http.Request) {
	s.renderPortal(w, r, http.StatusOK, "")
}

func (s *Server) renderPortal(w http.ResponseWriter, r *http.Request, status int, message string) {
	u := currentUser(r)
	ctx := r.Context()
	_, loc := s.clinicInfo(ctx)
	now := s.now()
	view := web.PortalView{Linked: u.PatientID != nil, Loc: loc, Notice: portalNotice(r), Message: message, Today: clinic.DateOf(now, loc)}
	if u.PatientID != nil {
		id := *u.PatientID
		visits, err := s.db.PatientVisits(ctx, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, v := range visits {
			switch {
			case v.End.After(now) && (v.Status == clinic.StatusBooked || v.Status == clinic.StatusCheckedIn):
				view.Upcoming = append(view.Upcoming, v)
			case v.Start.Before(now):
				view.Past = append([]clinic.Visit{v}, view.Past...)
			}
		}
		if len(view.Past) > 10 {
			view.Past = view.Past[:10]
		}
		series, err := s.db.PatientSeries(ctx, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, sr := range series {
			view.Series = append(view.Series, web.SeriesSummary{ID: sr.ID, Protocol: sr.Protocol, Sessions: sr.Sessions, Done: sr.Done,
				Cancelled: sr.Cancelled, Visits: sr.Appointments})
		}
		if view.Requests, err = s.db.Requests(ctx, &id); err != nil {
			s.fail(w, r, err)
			return
		}
		_, _, lerr := s.db.LatestInfusion(ctx, id)
		view.CanReport = lerr == nil
	}
	s.render(w, r, status, web.PortalHome(s.meta(r, "My visits", "/portal"), view))
}

// portalRelief turns "my pain came back" / "I still feel relief" into a
// relief report for the patient's latest infusion.
func (s *Server) portalRelief(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	status := clinic.ReliefStatus(r.PostFormValue("status"))
	date := r.PostFormValue("date")
	if date == "" {
		date = r.PostFormValue("relief_date")
	}
	on, err := clinic.ParseDate(strings.TrimSpace(date))
	if err == nil {
		err = s.reportOwnRelief(r, id, status, on)
	} else {
		err = clinic.Invalid(map[string]string{"date": "Enter the day."})
	}
	switch clinic.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/portal?done=relief-"+string(status), http.StatusSeeOther)
	case clinic.EINVALID, clinic.ECONFLICT:
		msg := clinic.ErrorMessage(err)
		if f := clinic.ErrorFields(err); f["date"] != "" {
			msg = f["date"]
		}
		status, _ := httpStatus(clinic.ErrorCode(err))
		s.renderPortal(w, r, status, msg)
	default:
		s.fail(w, r, err)
	}
}

// reportOwnRelief reports relief for the patient's own latest infusion.
func (s *Server) reportOwnRelief(r *http.Request, patientID int64, status clinic.ReliefStatus, on clinic.Date) error {
	infusion, _, err := s.db.LatestInfusion(r.Context(), patientID)
	if err != nil {
		return err
	}
	_, err = s.db.ReportRelief(r.Context(), infusion, status, on, "patient", &patientID, s.now())
	return err
}

// portalRequest sends a request to move or cancel one of the patient's
// own appointments.
func (s *Server) portalRequest(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	appt, _ := strconv.ParseInt(r.PostFormValue("appointment_id"), 10, 64)
	_, err := s.db.CreateRequest(r.Context(), id, appt, clinic.RequestKind(r.PostFormValue("kind")), r.PostFormValue("message"), s.now())
	switch clinic.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/portal?done=request", http.StatusSeeOther)
	case clinic.EINVALID, clinic.ECONFLICT:
		msg := clinic.ErrorMessage(err)
		for _, m := range clinic.ErrorFields(err) {
			msg += " " + m
		}
		status, _ := httpStatus(clinic.ErrorCode(err))
		s.renderPortal(w, r, status, msg)
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) portalJournal(w http.ResponseWriter, r *http.Request) {
	s.renderJournal(w, r, http.StatusOK, nil, nil)
}

func (s *Server) renderJournal(w http.ResponseWriter, r *http.Request, status int, form, fields map[string]string) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	_, loc := s.clinicInfo(r.Context())
	today := clinic.DateOf(s.now(), loc)
	entries, err := s.db.Journal(r.Context(), id, today.AddDays(-89))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if form == nil {
		form = map[string]string{"date": today.String()}
	}
	if fields == nil {
		fields = map[string]string{}
	}
	v := web.JournalView{Entries: entries, Chart: web.NewJournalChart(entries, today), Form: form, Fields: fields, Today: today, Notice: portalNotice(r)}
	s.render(w, r, status, web.JournalPage(s.meta(r, "My journal", "/portal/journal"), v))
}

func (s *Server) portalAddJournal(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	form := map[string]string{}
	for _, k := range []string{"date", "pain", "sleep", "mobility", "mood", "breakthrough_medication", "note"} {
		form[k] = r.PostFormValue(k)
	}
	e, problems := journalFromForm(form)
	_, loc := s.clinicInfo(r.Context())
	err := problems.Err()
	if err == nil {
		_, err = s.db.AddJournal(r.Context(), id, e, clinic.DateOf(s.now(), loc))
	}
	switch clinic.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/portal/journal?done=journal", http.StatusSeeOther)
	case clinic.EINVALID:
		s.renderJournal(w, r, http.StatusUnprocessableEntity, form, clinic.ErrorFields(err))
	default:
		s.fail(w, r, err)
	}
}

// journalFromForm reads the journal form (scores as 0–10 choices).
func journalFromForm(form map[string]string) (clinic.JournalEntry, clinic.Problems) {
	p := clinic.Problems{}
	e := clinic.JournalEntry{Breakthrough: form["breakthrough_medication"], Note: form["note"]}
	var err error
	if e.On, err = clinic.ParseDate(strings.TrimSpace(form["date"])); err != nil {
		p.Add("date", "Enter the day.")
	}
	if e.Pain, err = strconv.Atoi(form["pain"]); err != nil {
		p.Add("pain", "Choose your pain from 0 (none) to 10 (worst).")
	}
	score := func(k string) *int {
		if form[k] == "" {
			return nil
		}
		n, err := strconv.Atoi(form[k])
		if err != nil {
			p.Add(k, "Choose from 0 to 10.")
			return nil
		}
		return &n
	}
	e.Sleep, e.Mobility, e.Mood = score("sleep"), score("mobility"), score("mood")
	return e, p
}

// absoluteURL is path on this server as the browser reached it.
func (s *Server) absoluteURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil || s.cfg.SecureCookies {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

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

func (s *Server) portalSignOutEverywhere(w http.ResponseWriter, r *http.Request) {
	if err := s.db.SignOutEverywhere(r.Context(), currentUser(r).ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
}

// calendarEvents turns visits into calendar events.
func (s *Server) calendarEvents(r *http.Request, visits []clinic.Visit) ([]clinic.CalendarEvent, string) {
	name, _ := s.clinicInfo(r.Context())
	var out []clinic.CalendarEvent
	for _, v := range visits {
		summary := kindSummary(v.Kind) + " — " + name
		notes := fmt.Sprintf("About %d minutes including recovery.", v.Minutes())
		if v.Kind != clinic.KindConsult {
			notes += " Arrange a driver: you may not drive after an infusion. Please arrive 15 minutes early."
		}
		out = append(out, clinic.CalendarEvent{UID: fmt.Sprintf("appointment-%d@%s", v.ID, r.Host), Start: v.Start, End: v.End,
			Summary: summary, Location: name, Notes: notes, Cancelled: v.Status == clinic.StatusCancelled || v.Status == clinic.StatusNoShow,
			Sequence: v.Version, Stamp: s.now()})
	}
	return out, name
}

func kindSummary(k clinic.AppointmentKind) string {
	switch k {
	case clinic.KindConsult:
		return "Consultation"
	case clinic.KindLoading:
		return "Ketamine infusion (loading)"
	}
	return "Ketamine infusion"
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
	_, visits, err := s.db.CalendarFeed(r.Context(), token, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeICS(w, r, "infusions.ics", visits)
}

// invitePage is the page behind an invitation link (public).
func (s *Server) invitePage(w http.ResponseWriter, r *http.Request) {
	inv, err := s.db.OpenInvitation(r.Context(), auth.HashToken(chi.URLParam(r, "token")), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.InvitePage(s.meta(r, "Welcome", ""), web.InviteView{FirstName: inv.FirstName, Email: inv.Email,
		NeedsEmail: inv.Email == "" && !inv.HasAccount, Fields: map[string]string{}}))
}

// acceptInvite sets the patient's password and signs them in.
func (s *Server) acceptInvite(w http.ResponseWriter, r *http.Request) {
	hash := auth.HashToken(chi.URLParam(r, "token"))
	inv, err := s.db.OpenInvitation(r.Context(), hash, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.InviteView{FirstName: inv.FirstName, Email: inv.Email, NeedsEmail: inv.Email == "" && !inv.HasAccount, Fields: map[string]string{}}
	email := inv.Email
	if v.NeedsEmail {
		email = strings.TrimSpace(r.PostFormValue("email"))
		v.Email = email
	}
	pw := r.PostFormValue("password")
	if msg := clinic.PasswordProblem(pw); msg != "" {
		v.Fields["password"] = msg
	} else if pw != r.PostFormValue("password2") {
		v.Fields["password2"] = "The two passwords are not the same."
	}
	var u *clinic.User
	if len(v.Fields) == 0 {
		var pwHash string
		if pwHash, err = auth.HashPassword(pw); err == nil {
			u, err = s.db.AcceptInvitation(r.Context(), hash, email, pwHash, s.now())
		}
		if clinic.ErrorCode(err) == clinic.EINVALID {
			for k, m := range clinic.ErrorFields(err) {
				v.Fields[k] = m
			}
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if len(v.Fields) > 0 {
		v.Message = "Please correct the highlighted fields."
		s.render(w, r, http.StatusUnprocessableEntity, web.InvitePage(s.meta(r, "Welcome", ""), v))
		return
	}
	token, _, _, err := s.signIn(r.Context(), u.Email, pw, "web")
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.setSessionCookie(w, token)
	http.Redirect(w, r, "/portal", http.StatusSeeOther)
}

// deskInvite creates an invitation and shows its link on the patient page.
func (s *Server) deskInvite(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	link, _, err := s.invite(r, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderPatientInvite(w, r, id, link)
}

// invite creates a one-time invitation link for a patient.
func (s *Server) invite(r *http.Request, patientID int64) (string, time.Time, error) {
	token, hash := auth.NewToken()
	link := s.absoluteURL(r, "/invite/"+token)
	expires, err := s.db.CreateInvitation(r.Context(), patientID, hash, link, s.now())
	return link, expires, err
}

func (s *Server) deskRevokePortal(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.db.RevokePortal(r.Context(), id, s.now()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, web.PatientURL(id)+"?done=portal-revoked", http.StatusSeeOther)
}

func (s *Server) deskRequests(w http.ResponseWriter, r *http.Request) {
	s.renderRequests(w, r, http.StatusOK, "")
}

func (s *Server) renderRequests(w http.ResponseWriter, r *http.Request, status int, message string) {
	reqs, err := s.db.Requests(r.Context(), nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	v := web.DeskRequestsView{Requests: reqs, Loc: loc, Message: message}
	if r.URL.Query().Get("done") == "answered" {
		v.Notice = "The answer was sent."
	}
	s.render(w, r, status, web.DeskRequests(s.meta(r, "Requests", "/desk/requests"), v))
}

func (s *Server) deskAnswerRequest(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.db.AnswerRequest(r.Context(), id, r.PostFormValue("answer"), s.now())
	switch clinic.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/desk/requests?done=answered", http.StatusSeeOther)
	case clinic.EINVALID, clinic.ECONFLICT:
		msg := clinic.ErrorMessage(err)
		if f := clinic.ErrorFields(err); f["answer"] != "" {
			msg = f["answer"]
		}
		status, _ := httpStatus(clinic.ErrorCode(err))
		s.renderRequests(w, r, status, msg)
	default:
		s.fail(w, r, err)
	}
}
