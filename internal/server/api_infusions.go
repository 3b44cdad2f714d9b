package server

import (
	"cmp"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
	"github.com/infusiondesk/infusiondesk/internal/postgres"
)

// infusionRecordJSON is the nurse's infusion record on the wire.
type infusionRecordJSON struct {
	Version         int                 `json:"version"`
	StartedAt       string              `json:"started_at"`
	Minutes         int                 `json:"minutes"`
	Route           string              `json:"route"`
	DoseRate        float64             `json:"dose_mg_per_kg_h"`
	WeightKg        *float64            `json:"weight_kg"`
	Before          clinic.Vitals       `json:"vitals_before"`
	After           clinic.Vitals       `json:"vitals_after"`
	SideEffects     []clinic.SideEffect `json:"side_effects"`
	PainBefore      *int                `json:"pain_before"`
	PainAfter       *int                `json:"pain_after"`
	DriverConfirmed bool                `json:"driver_confirmed"`
	DoseConfirmed   bool                `json:"dose_confirmed"`
	DoseReason      string              `json:"dose_reason"`
	// PEG is the patient's PEG asked before the start (optional).
	PEG *clinic.PEG `json:"peg"`
}

// apiComplete completes an appointment. An infusion visit needs the
// infusion record and answers 201 with the infusion; a consultation needs
// nothing and answers 200 with the appointment.
func (s *Server) apiComplete(w http.ResponseWriter, r *http.Request) {
	id, rec, weightGiven, version, err := completeRequestOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	done, err := s.db.CompleteVisit(r.Context(), id, version, rec, weightGiven, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	if done.Infusion == nil { // a consultation
		writeJSON(w, http.StatusOK, toAppointmentJSON(done.Appointment, loc))
		return
	}
	writeJSON(w, http.StatusCreated, toInfusionJSON(*done.Infusion, loc))
}

// completeRequestOf reads a completion: the appointment in the path and,
// for an infusion visit, the record (route iv unless given); weightGiven
// is false when the body has no weight.
func completeRequestOf(r *http.Request) (id int64, rec clinic.InfusionRecord, weightGiven bool, version int, err error) {
	if id, err = urlID(r); err != nil {
		return 0, rec, false, 0, clinic.Errorf(clinic.ENOTFOUND, "There is no such appointment.")
	}
	var body infusionRecordJSON
	if err := decodeJSON(r, &body); err != nil && !errors.Is(err, errEmptyBody) {
		return 0, rec, false, 0, err
	}
	rec = clinic.InfusionRecord{Minutes: body.Minutes, Route: cmp.Or(body.Route, "iv"), DoseRate: body.DoseRate, Before: body.Before, After: body.After,
		SideEffects: body.SideEffects, PainBefore: body.PainBefore, PainAfter: body.PainAfter, DriverConfirmed: body.DriverConfirmed,
		DoseConfirmed: body.DoseConfirmed, DoseReason: body.DoseReason, PEG: body.PEG}
	if body.StartedAt != "" {
		if rec.StartedAt, err = time.Parse(time.RFC3339, body.StartedAt); err != nil {
			return 0, rec, false, 0, clinic.Invalid(map[string]string{"started_at": "Give the start as an RFC 3339 time."})
		}
	}
	if body.WeightKg != nil {
		rec.WeightKg = *body.WeightKg
	}
	return id, rec, body.WeightKg != nil, body.Version, nil
}

// infusionJSON is an infusion with its latest relief report.
type infusionJSON struct {
	ID            int64    `json:"id"`
	PatientID     int64    `json:"patient_id"`
	CourseID      int64    `json:"course_id"`
	AppointmentID *int64   `json:"appointment_id"`
	Date          string   `json:"date"`
	StartedAt     *string  `json:"started_at"`
	Phase         string   `json:"phase"`
	Route         string   `json:"route"`
	DoseRate      float64  `json:"dose_mg_per_kg_h"`
	DoseMgPerH    *float64 `json:"dose_mg_per_h"`
	TotalMg       *float64 `json:"total_mg"`
	Minutes       *int     `json:"minutes"`
	Source        string   `json:"source"`
	Relief        *struct {
		Status string `json:"status"`
		Date   string `json:"date"`
	} `json:"relief"`
}

func toInfusionJSON(x postgres.InfusionRow, loc *time.Location) infusionJSON {
	out := infusionJSON{ID: x.ID, PatientID: x.PatientID, CourseID: x.CourseID, AppointmentID: x.AppointmentID, Date: x.GivenOn.String(),
		Phase: string(x.Phase), Route: x.Route, DoseRate: x.DoseMgPerKgH, DoseMgPerH: x.DoseMgPerH, TotalMg: x.TotalMg, Minutes: x.Minutes, Source: x.Source}
	if x.StartedAt != nil {
		s := x.StartedAt.In(loc).Format(time.RFC3339)
		out.StartedAt = &s
	}
	if x.Relief != nil {
		out.Relief = &struct {
			Status string `json:"status"`
			Date   string `json:"date"`
		}{string(x.Relief.Status), x.Relief.On.String()}
	}
	return out
}

type importRequest struct {
	Date     clinic.Date `json:"date"`
	Time     string      `json:"time"`
	Phase    string      `json:"phase"`
	DoseRate float64     `json:"dose_mg_per_kg_h"`
}

// apiImportInfusion records a past infusion from a paper chart.
func (s *Server) apiImportInfusion(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such patient."))
		return
	}
	var body importRequest
	if err := decodeJSON(r, &body, "date", "phase", "dose_mg_per_kg_h"); err != nil {
		s.fail(w, r, err)
		return
	}
	var at *clinic.Clock
	if t := strings.TrimSpace(body.Time); t != "" {
		c, err := clinic.ParseClock(t)
		if err != nil {
			s.fail(w, r, clinic.Invalid(map[string]string{"time": "Give the time as HH:MM."}))
			return
		}
		at = &c
	}
	inf, err := s.db.ImportInfusion(r.Context(), id, body.Date, at, clinic.Phase(body.Phase), body.DoseRate, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	writeJSON(w, http.StatusCreated, toInfusionJSON(inf, loc))
}

func (s *Server) apiInfusions(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such patient."))
		return
	}
	rows, err := s.db.PatientInfusions(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	out := make([]infusionJSON, len(rows))
	for i, x := range rows {
		out[i] = toInfusionJSON(x, loc)
	}
	writeJSON(w, http.StatusOK, out)
}

type reliefRequest struct {
	Status string      `json:"status"`
	Date   clinic.Date `json:"date"`
}

// reliefSource is who reports relief, by role.
func reliefSource(r clinic.Role) string {
	switch r {
	case clinic.RoleNurse:
		return "nurse"
	case clinic.RolePhysician:
		return "physician"
	case clinic.RolePatient:
		return "patient"
	}
	return "desk"
}

func (s *Server) apiRelief(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such infusion."))
		return
	}
	var body reliefRequest
	if err := decodeJSON(r, &body, "status", "date"); err != nil {
		s.fail(w, r, err)
		return
	}
	source := reliefSource(currentUser(r).Role)
	reportID, err := s.db.ReportRelief(r.Context(), id, clinic.ReliefStatus(body.Status), body.Date, source, nil, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": reportID, "infusion_id": id, "status": body.Status,
		"date": body.Date.String(), "source": source})
}
