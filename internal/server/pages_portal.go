package server

import (
	"context"
	"net/http"
	"strings"
	"time"

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

// portalNotices are what the patient's pages say after a change.
var portalNotices = notices{
	"relief-ended":   "Thank you. The clinic knows your pain came back; your care team will plan your next infusion from it.",
	"relief-holding": "Thank you. The clinic knows you still feel relief.",
	"request":        "Your request was sent to the front desk. You will see their answer here.",
	"journal":        "Your journal entry is saved.",
	"calendar":       "Your calendar address is ready.",
	"calendar-off":   "Your calendar address is turned off.",
	"booked-own":     "Your next infusion is booked. A confirmation is on its way.",
	"moved-own":      "Your next infusion is moved. A confirmation is on its way.",
	"offer-claimed":  "The time is yours: you are booked. A confirmation is on its way.",
	"language":       "Your language is saved: the portal and your messages use it from now on.",
}

func portalNotice(r *http.Request) string { return portalNotices.of(r) }

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
		if err := s.read(r, func(r *http.Request) error { return s.portalView(r.Context(), *u.PatientID, &view) }); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, status, web.PortalHome(s.meta(r, "My visits", "/portal"), view))
}

// portalView reads the patient's own visits, series, requests and whether
// they can report relief.
func (s *Server) portalView(ctx context.Context, id int64, view *web.PortalView) error {
	now := s.now()
	visits, err := s.db.PatientVisits(ctx, id)
	if err != nil {
		return err
	}
	consent, err := s.db.Consent(ctx, id)
	if err != nil {
		return err
	}
	view.ConsentDue = consent.Form != nil && !consent.Signed
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
		return err
	}
	for _, sr := range series {
		view.Series = append(view.Series, web.SeriesSummary{ID: sr.ID, Protocol: sr.Protocol, Sessions: sr.Sessions, Done: sr.Done,
			Cancelled: sr.Cancelled, Visits: sr.Appointments})
	}
	if view.Requests, err = s.db.Requests(ctx, &id); err != nil {
		return err
	}
	_, _, lerr := s.db.LatestInfusion(ctx, id)
	view.CanReport = lerr == nil
	view.Booking = portalBookingLink(view)
	offers, err := s.db.PatientOffers(ctx, id, now)
	if err != nil {
		return err
	}
	for _, o := range offers {
		view.Offers = append(view.Offers, web.OfferCard{ID: o.ID, Start: o.Start, End: o.Start.Add(time.Duration(o.Minutes) * time.Minute), Expires: o.Expires})
	}
	return nil
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
		_, _, err = s.db.ReportOwnRelief(r.Context(), id, status, on, s.now())
	} else {
		err = clinic.Invalid(map[string]string{"date": "Enter the day."})
	}
	s.answerForm(w, r, err, "/portal?done=relief-"+string(status), func(p refusal) {
		s.renderPortal(w, r, p.Status, p.about("date"))
	})
}

// portalLanguage is the patient choosing the language of the portal and
// of their messages.
func (s *Server) portalLanguage(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	err := s.db.SetLanguage(r.Context(), id, r.PostFormValue("language"))
	s.answerForm(w, r, err, "/portal?done=language", func(p refusal) {
		s.renderPortal(w, r, p.Status, p.about("language"))
	})
}

func (s *Server) portalSignOutEverywhere(w http.ResponseWriter, r *http.Request) {
	if err := s.db.SignOutEverywhere(r.Context(), currentUser(r).ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
}

// portalBookingLink is the portal's link to book or move the next
// infusion: none during a loading series (the desk books those) or before
// any infusion.
func portalBookingLink(v *web.PortalView) string {
	for _, sr := range v.Series {
		if sr.UnderWay() {
			return ""
		}
	}
	if !v.CanReport {
		return ""
	}
	for _, u := range v.Upcoming {
		if u.Kind == clinic.KindMaintenance && u.AdditionalReason == "" && u.Status == clinic.StatusBooked {
			return "Move my next infusion"
		}
	}
	return "Book my next infusion"
}
