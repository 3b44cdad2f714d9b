package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/infusiondesk/infusiondesk/internal/clinic"
)

type courseRequest struct {
	ProtocolID int64       `json:"protocol_id"`
	StartedOn  clinic.Date `json:"started_on"`
}

type courseJSON struct {
	ID          int64  `json:"id"`
	PatientID   int64  `json:"patient_id"`
	ProtocolID  int64  `json:"protocol_id"`
	Phase       string `json:"phase"`
	StartedOn   string `json:"started_on"`
	Sessions    int    `json:"sessions"`
	MinGapDays  int    `json:"min_gap_days"`
	MaxGapDays  int    `json:"max_gap_days"`
	MaxSpanDays int    `json:"max_span_days"`
	Infusion    int    `json:"infusion_minutes"`
	Recovery    int    `json:"recovery_minutes"`
	Version     int    `json:"version"`
}

// apiCreateCourse opens a treatment course for a patient under a protocol.
func (s *Server) apiCreateCourse(w http.ResponseWriter, r *http.Request) {
	id, err := urlID(r)
	if err != nil {
		s.fail(w, r, clinic.Errorf(clinic.ENOTFOUND, "There is no such patient."))
		return
	}
	var req courseRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.ProtocolID <= 0 {
		s.fail(w, r, clinic.Invalid(map[string]string{"protocol_id": "Give the protocol's id."}))
		return
	}
	c, err := s.db.CreateCourse(r.Context(), id, req.ProtocolID, req.StartedOn)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, courseJSON{ID: c.ID, PatientID: c.PatientID, ProtocolID: c.ProtocolID, Phase: string(c.Phase),
		StartedOn: c.StartedOn.String(), Sessions: c.Numbers.Sessions, MinGapDays: c.Numbers.MinGapDays, MaxGapDays: c.Numbers.MaxGapDays,
		MaxSpanDays: c.Numbers.MaxSpanDays, Infusion: c.Numbers.InfusionMinutes, Recovery: c.Numbers.RecoveryMinutes, Version: c.Version})
}

type seriesRequest struct {
	ProtocolID    int64       `json:"protocol_id"`
	StartDate     clinic.Date `json:"start_date"`
	PreferredTime string      `json:"preferred_time"`
	DryRun        bool        `json:"dry_run"`
}

// proposedJSON is a session of a series not booked yet.
type proposedJSON struct {
	PatientID int64  `json:"patient_id"`
	ChairID   int64  `json:"chair_id"`
	Kind      string `json:"kind"`
	SessionNo int    `json:"session_no"`
	Start     string `json:"start"`
	End       string `json:"end"`
}

func proposedList(patientID int64, slots []clinic.Slot, loc *time.Location) []proposedJSON {
	out := make([]proposedJSON, len(slots))
	for i, sl := range slots {
		out[i] = proposedJSON{PatientID: patientID, ChairID: sl.ChairID, Kind: string(clinic.KindLoading), SessionNo: i + 1,
			Start: sl.Start.In(loc).Format(time.RFC3339), End: sl.End.In(loc).Format(time.RFC3339)}
	}
	return out
}

// apiLoadingSeries proposes (dry_run) or books a patient's loading series.
func (s *Server) apiLoadingSeries(w http.ResponseWriter, r *http.Request) {
	req, dryRun, err := seriesRequestOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, loc := s.clinicInfo(r.Context())
	if dryRun {
		proposal, err := s.db.ProposeSeries(r.Context(), req, s.now())
		if err == nil && !proposal.OK {
			err = clinic.Errorf(clinic.EINVALID, "The proposal breaks a rule.")
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out := map[string]any{"appointments": proposedList(req.PatientID, proposal.Sessions(), loc)}
		if proposal.Note != "" {
			out["note"] = proposal.Note // why the first date is later than asked
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	booked, replayed, err := s.db.BookSeries(r.Context(), req, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	out := make([]appointmentJSON, len(booked.Sessions))
	for i, a := range booked.Sessions {
		out[i] = toAppointmentJSON(a, loc)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"series_id": booked.ID, "appointments": out})
}

// seriesRequestOf reads a series request for the patient in the path.
func seriesRequestOf(r *http.Request) (clinic.SeriesRequest, bool, error) {
	id, err := urlID(r)
	if err != nil {
		return clinic.SeriesRequest{}, false, clinic.Errorf(clinic.ENOTFOUND, "There is no such patient.")
	}
	var body seriesRequest
	if err := decodeJSON(r, &body); err != nil {
		return clinic.SeriesRequest{}, false, err
	}
	p := clinic.Problems{}
	if body.ProtocolID <= 0 {
		p.Add("protocol_id", "Give the protocol's id.")
	}
	if body.StartDate.IsZero() {
		p.Add("start_date", "Give the earliest first date (YYYY-MM-DD).")
	}
	pref := clinic.DefaultPreferredTime
	if t := strings.TrimSpace(body.PreferredTime); t != "" {
		if pref, err = clinic.ParseClock(t); err != nil {
			p.Add("preferred_time", "Give the preferred start as HH:MM, e.g. 09:00.")
		}
	}
	return clinic.SeriesRequest{PatientID: id, ProtocolID: body.ProtocolID, StartDate: body.StartDate, Preferred: pref,
		IdempotencyKey: r.Header.Get("Idempotency-Key")}, body.DryRun, p.Err()
}
