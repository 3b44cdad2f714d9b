package server

import (
	"net/http"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/i18n"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

// patientRequest is a new patient; weight may be omitted.
type patientRequest struct {
	FirstName   string      `json:"first_name"`
	LastName    string      `json:"last_name"`
	DateOfBirth clinic.Date `json:"date_of_birth"`
	Email       string      `json:"email"`
	Phone       string      `json:"phone"`
	WeightKg    *float64    `json:"weight_kg"`
	Condition   string      `json:"condition"`
	DriverName  string      `json:"driver_name"`
	DriverPhone string      `json:"driver_phone"`
	Notes       string      `json:"notes"`
	// ContactBy left out takes every channel the patient has details for.
	ContactBy []clinic.Channel `json:"contact_by"`
	// Language left out is English.
	Language i18n.Lang `json:"language"`
}

func (s *Server) apiCreatePatient(w http.ResponseWriter, r *http.Request) {
	var req patientRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.db.CreatePatient(r.Context(), clinic.Patient{FirstName: req.FirstName, LastName: req.LastName,
		DateOfBirth: req.DateOfBirth, Email: req.Email, Phone: req.Phone, WeightKg: req.WeightKg,
		Condition: clinic.Condition(req.Condition), DriverName: req.DriverName, DriverPhone: req.DriverPhone, Notes: req.Notes,
		ContactBy: req.ContactBy, Language: req.Language}, s.today(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) apiPatient(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such patient."))
		return
	}
	p, err := s.db.Patient(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiSearchPatients(w http.ResponseWriter, r *http.Request) {
	ps, err := s.db.SearchPatients(r.Context(), clinic.ParsePatientQuery(r.URL.Query().Get("q")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ps == nil {
		ps = []clinic.Patient{}
	}
	writeJSON(w, http.StatusOK, ps)
}

// apiInvite creates a one-time portal invitation for a patient.
func (s *Server) apiInvite(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such patient."))
		return
	}
	link, expires, err := s.invite(r, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"url": link, "expires_at": expires.UTC().Format(time.RFC3339)})
}
