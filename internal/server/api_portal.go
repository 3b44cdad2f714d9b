package server

import (
	"net/http"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// apiMyAppointments lists the signed-in patient's own appointments.
func (s *Server) apiMyAppointments(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	visits, err := s.db.PatientVisits(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	out := make([]appointmentJSON, len(visits))
	for i, v := range visits {
		out[i] = toAppointmentJSON(v.Appointment, loc)
	}
	writeJSON(w, http.StatusOK, out)
}

// apiMyRelief reports relief for the signed-in patient's latest infusion.
func (s *Server) apiMyRelief(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	var body reliefRequest
	if err := decodeJSON(r, &body, "status", "date"); err != nil {
		s.fail(w, r, err)
		return
	}
	reportID, infusion, err := s.db.ReportOwnRelief(r.Context(), id, clinic.ReliefStatus(body.Status), body.Date, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": reportID, "infusion_id": infusion, "status": body.Status,
		"date": body.Date.String(), "source": "patient"})
}

// apiMyJournal adds an entry to the signed-in patient's journal.
func (s *Server) apiMyJournal(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	var e clinic.JournalEntry
	if err := decodeJSON(r, &e, "date", "pain"); err != nil {
		s.fail(w, r, err)
		return
	}
	saved, err := s.db.AddJournal(r.Context(), id, e, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, saved)
}

// apiMyCalendar answers the signed-in patient's private calendar address,
// creating it on first use.
func (s *Server) apiMyCalendar(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	// Reading never creates: a feed turned off stays off.
	token, err := s.db.ExistingCalendarToken(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.calendarJSON(r, token))
}

// calendarJSON is the subscription address, or null when it is off.
func (s *Server) calendarJSON(r *http.Request, token string) map[string]any {
	if token == "" {
		return map[string]any{"enabled": false, "url": nil}
	}
	return map[string]any{"enabled": true, "url": s.absoluteURL(r, "/calendar/"+token+".ics")}
}

// apiMyCalendarCreate turns the private calendar address on, replacing any
// address the patient had (the old one stops working).
func (s *Server) apiMyCalendarCreate(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	token, err := s.db.RenewCalendar(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.calendarJSON(r, token))
}

// apiMyCalendarDelete turns the private calendar address off.
func (s *Server) apiMyCalendarDelete(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	if err := s.db.RevokeCalendar(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiMyLanguage sets the language of the patient's portal and messages:
// {"language": "en" | "es"}.
func (s *Server) apiMyLanguage(w http.ResponseWriter, r *http.Request) {
	id, ok := s.portalPatient(w, r)
	if !ok {
		return
	}
	var body struct {
		Language string `json:"language"`
	}
	if err := decodeJSON(r, &body, "language"); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.db.SetLanguage(r.Context(), id, body.Language); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"language": body.Language})
}
